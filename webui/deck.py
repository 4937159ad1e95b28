"""The Game's deck: face images from an OpenForensics-layout folder, drawn in balanced rounds."""
from __future__ import annotations

import os
import random
from pathlib import Path

from detector.datasets import IMAGE_SUFFIXES, child_dir

ROOT = Path(__file__).resolve().parent.parent


class DeckError(ValueError):
    pass


def default_deck_path() -> str | None:
    """$DEEPFAKE_GAME_DECK, else the shipped deck data/game_deck, else ./data, else the shared dfdc-faces Test
    split beside the project."""
    if os.environ.get("DEEPFAKE_GAME_DECK"):  # an explicit choice, even a wrong one, is what the page reports on
        return os.environ["DEEPFAKE_GAME_DECK"]
    for cand in (ROOT / "data" / "game_deck", ROOT / "data", ROOT.parent / "shared/datasets/dfdc-faces/Test"):
        if Path(cand).is_dir():
            return str(cand)
    return None


def load_deck(path: str) -> dict[str, list[str]]:
    """{'real': [...], 'fake': [...]} from FOLDER/{Real,Fake} or, for a dataset root, FOLDER/Test/{Real,Fake}."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DeckError(f"{path} is not a folder.")
    if child_dir(folder, "real") is None and child_dir(folder, "test") is not None:
        folder = child_dir(folder, "test")
    deck = {}
    for label in ("real", "fake"):
        sub = child_dir(folder, label)
        files = sorted(str(p) for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if sub else []
        if not files:
            raise DeckError(f"{folder} needs a {label.capitalize()}/ folder with images.")
        deck[label] = files
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
