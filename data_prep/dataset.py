"""Training-side helpers over OpenForensics-layout datasets: real/fake pairs. Finding and validating the folders
is detector.datasets (re-exported here), so the detector never depends on data_prep."""
from __future__ import annotations

import csv
import os
import random
from pathlib import Path

from detector.datasets import (  # noqa: F401  (re-exported)
    CLASSES, IMAGE_SUFFIXES, SPLITS, DatasetError, Split, child_dir, find_dataset, find_split,
)


def link_unchanged(path: str | Path, link: Path) -> None:
    """`link` -> the file at `path` (resolved), unless it exists: source data is linked, never copied."""
    if not link.exists():
        os.symlink(os.path.realpath(path), link)


def save_jpeg(path: Path, image) -> None:
    """An RGB uint8 picture made here (a blend, a swap, a re-synthesis) as a JPEG of quality 95."""
    import cv2

    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])


def write_pairs(out: Path, rows) -> None:
    """out/pairs.csv from (file relative to out, group) rows: the files of one group are twins (read_pairs)."""
    with open(Path(out) / "pairs.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "original_video"])
        w.writerows(rows)


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
