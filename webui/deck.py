"""The Game's deck: face images from a folder the server configures, drawn in balanced rounds.

A public server must not let visitors list, probe or read its folders, so the deck is chosen only by whoever runs
the server (`streamlit run app.py -- --deck DIR`, or $DEEPFAKE_GAME_DECK, else the shipped data/game_deck), and
loading it is bounded: images that resolve outside the deck folder (symlinks, `..`) are skipped, and only the
first MAX_PER_LABEL images of each label are read, so a folder of 100,000 files costs what 1,000 do.
DeckError messages are shown to visitors and name no server path; the path goes to the server log.
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import sys
from pathlib import Path

from detector.bundle import bundle_dir
from detector.datasets import IMAGE_SUFFIXES, child_dir

MAX_PER_LABEL = 1000  # enough for 50 rounds without repeats, many times over
MAX_SCANNED = 10 * MAX_PER_LABEL  # directory entries looked at per label, images or not
log = logging.getLogger(__name__)


class DeckError(ValueError):
    pass


def configured_deck() -> Path | None:
    """The server's deck: --deck DIR after `--` on the streamlit command line (Streamlit hands the script what
    follows it in sys.argv), else $DEEPFAKE_GAME_DECK, else the shipped deck."""
    p = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    p.add_argument("--deck")
    flag = p.parse_known_args(sys.argv[1:])[0].deck
    chosen = flag or os.environ.get("DEEPFAKE_GAME_DECK")
    if chosen:  # an explicit choice, even a wrong one, is what the page reports on
        return Path(chosen)
    shipped = bundle_dir() / "data" / "game_deck"
    return shipped if shipped.is_dir() else None


def deck_name(path: Path) -> str:
    """What visitors see of the deck: its folder's name, never its path."""
    return Path(path).resolve().name.replace("_", " ")


def _inside(path: Path | None, root: Path) -> Path | None:
    """Where `path` really is (links followed) if that lies under `root`, else None."""
    if path is None:
        return None
    real = path.resolve()
    return real if real.is_relative_to(root) else None


def _images(folder: Path, root: Path) -> list[str]:
    """Up to MAX_PER_LABEL image files of `folder` that really lie under `root` (os.scandir is lazy: a huge folder
    is read only as far as needed)."""
    found = []
    with os.scandir(folder) as entries:
        for n, e in enumerate(entries):
            if n >= MAX_SCANNED or len(found) >= MAX_PER_LABEL:
                break
            if os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES:
                real = _inside(Path(e.path), root)
                if real is not None and real.is_file():
                    found.append(str(real))
    return sorted(found)


def load_deck(path: str | os.PathLike) -> dict[str, list[str]]:
    """{'real': [...], 'fake': [...]} from FOLDER/{Real,Fake} or, for a dataset root, FOLDER/Test/{Real,Fake}."""
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        log.warning("game deck %s is not a folder", path)
        raise DeckError("The deck configured on this server is not a folder.")
    folder, test = root, _inside(child_dir(root, "test"), root)
    if child_dir(root, "real") is None and test is not None:
        folder = test
    deck = {}
    for label in ("real", "fake"):
        sub = _inside(child_dir(folder, label), root)
        deck[label] = _images(sub, root) if sub is not None and sub.is_dir() else []
        if not deck[label]:
            log.warning("game deck %s: no %s/ folder with images inside it", root, label.capitalize())
            raise DeckError(f"The deck configured on this server has no {label.capitalize()}/ folder with images.")
    return deck


def draw_rounds(deck: dict[str, list[str]], n: int, seed: int | None = None) -> list[tuple[str, str]]:
    """n (path, label) cards, half real and half fake (odd n: the extra one at random), no repeats, shuffled."""
    rng = random.Random(seed)
    n_fake = n // 2 + (rng.random() < 0.5 if n % 2 else 0)
    n_fake = min(n_fake, len(deck["fake"]))
    n_real = min(n - n_fake, len(deck["real"]))
    cards = [(p, "fake") for p in rng.sample(deck["fake"], n_fake)] + [(p, "real") for p in rng.sample(deck["real"], n_real)]
    rng.shuffle(cards)
    return cards
