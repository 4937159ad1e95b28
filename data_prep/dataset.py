"""Find and validate an OpenForensics-layout dataset: ROOT/{Train,Validation,Test}/{Real,Fake}/images.

Folder names match case-insensitively. Label convention used everywhere in this project: fake = 1, real = 0.
"""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

SPLITS = ("Train", "Validation", "Test")
CLASSES = {"real": 0, "fake": 1}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


class DatasetError(ValueError):
    pass


def child_dir(folder: Path, name: str) -> Path | None:
    """The subfolder of `folder` called `name`, matched case-insensitively (None if absent)."""
    for p in folder.iterdir() if folder.is_dir() else []:
        if p.is_dir() and p.name.lower() == name.lower():
            return p
    return None


@dataclass
class Split:
    paths: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)

    def count(self, label: int) -> int:
        return sum(1 for y in self.labels if y == label)


def find_split(root: str | Path, split: str) -> Split:
    """Image paths and labels of one split. Raises DatasetError naming what is missing."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    split_dir = child_dir(root, split)
    if split_dir is None:
        raise DatasetError(f"{root} has no {split}/ folder (expected {'/'.join(SPLITS)} x Real/Fake)")
    out = Split()
    for cls, label in CLASSES.items():
        d = child_dir(split_dir, cls)
        if d is None:
            raise DatasetError(f"{split_dir} has no {cls.capitalize()}/ folder")
        files = sorted(str(p) for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DatasetError(f"{d} holds no images")
        out.paths += files
        out.labels += [label] * len(files)
    return out


def find_dataset(root: str | Path, splits=SPLITS) -> dict[str, Split]:
    return {s: find_split(root, s) for s in splits}


def read_pairs(root: str | Path, split: Split) -> list[tuple[str, str]]:
    """(real, fake) pairs of one split. Uses ROOT/pairs.csv (file,original_video) when present: each fake
    is paired with the real frame of its source video. Unpaired images are paired at random (the minority
    class recycled), so every batch is class-balanced either way."""
    root = Path(root)
    reals = [p for p, y in zip(split.paths, split.labels) if y == 0]
    fakes = [p for p, y in zip(split.paths, split.labels) if y == 1]
    pairs: list[tuple[str, str]] = []
    pairs_csv = root / "pairs.csv"
    if pairs_csv.exists():
        by_video: dict[str, dict[str, list[str]]] = {}
        with open(pairs_csv, newline="") as f:
            for row in csv.DictReader(f):
                full = str(root / row["file"])
                by_video.setdefault(row["original_video"], {"real": [], "fake": []})
                by_video[row["original_video"]]["fake" if "/fake/" in row["file"].lower() else "real"].append(full)
        real_set, fake_set = set(reals), set(fakes)
        used: set[str] = set()
        for group in by_video.values():
            rs = [r for r in group["real"] if r in real_set]
            fs = [f for f in group["fake"] if f in fake_set]
            for i, fk in enumerate(fs):
                if rs:
                    pairs.append((rs[i % len(rs)], fk))
                    used.update((rs[i % len(rs)], fk))
        reals = [r for r in reals if r not in used]
        fakes = [f for f in fakes if f not in used]
    if reals and fakes:
        rng = random.Random(0)
        rng.shuffle(reals)
        rng.shuffle(fakes)
        n = max(len(reals), len(fakes))
        pairs += [(reals[i % len(reals)], fakes[i % len(fakes)]) for i in range(n)]
    return pairs
