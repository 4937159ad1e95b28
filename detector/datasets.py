"""Find and validate a labelled face dataset: ROOT/{Train,Validation,Test}/{Real,Fake}/images (OpenForensics layout).

Used by evaluation, the Game's deck and (through data_prep) training. Folder names match case-insensitively.
Label convention used everywhere in this project: fake = 1, real = 0.
"""
from __future__ import annotations

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


def find_split(root: str | Path, split: str, classes=tuple(CLASSES)) -> Split:
    """Image paths and labels of one split (of the given classes). Raises DatasetError naming what is missing."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    split_dir = child_dir(root, split)
    if split_dir is None and all(child_dir(root, c) for c in classes):
        split_dir = root  # a plain Real/ + Fake/ folder: a Game deck, a test set of one's own
    if split_dir is None:
        raise DatasetError(f"{root} has no {split}/ folder (expected {'/'.join(SPLITS)} x Real/Fake)")
    out = Split()
    for cls in classes:
        label = CLASSES[cls]
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
