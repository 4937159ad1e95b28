"""Combine the Real faces of some datasets with the Fake faces of others into one OpenForensics-layout folder of
symbolic links (no copies), e.g. GAN faces against real portraits from several cameras and sources:

    D=~/.cache/deepfake-detector/datasets
    python -m data_prep.combine $D/gan-vs-portraits --real $D/stylegan-crops $D/lfw-crops $D/utkface-crops \
        --fake $D/stylegan-crops

Why: stylegan-faces' fakes are aligned, frontal, well-lit portraits and its reals are varied Unsplash photos, so a
model can learn "a posed frontal portrait is fake" and call most real news photos (lfw-real) fake. Pairing the
same fakes with real posed portraits of other sources takes that shortcut away. Without a pairs.csv, train.py
pairs each fake with a random real (data_prep.dataset.read_pairs). Splits are combined split by split, so the
sources' own Train/Validation/Test separation holds.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from detector.datasets import SPLITS, DatasetError, find_split


def combine(out: Path, real_from: list[Path], fake_from: list[Path]) -> dict[str, dict[str, int]]:
    """Link every Real image of `real_from` and every Fake image of `fake_from` into out/<split>/<Class>/, split by
    split; file names get their source folder's name in front so two sources never collide."""
    counts: dict[str, dict[str, int]] = {}
    for split in SPLITS:
        for cls, sources in (("real", real_from), ("fake", fake_from)):
            target = out / split / cls.capitalize()
            n = 0
            for src in sources:
                try:
                    paths = find_split(src, split, classes=(cls,)).paths
                except DatasetError:
                    continue  # e.g. utkface-real has no Test split
                target.mkdir(parents=True, exist_ok=True)
                for p in paths:
                    link = target / f"{Path(src).name}_{Path(p).name}"
                    if not link.exists():
                        os.symlink(os.path.abspath(p), link)
                    n += 1
            if n:
                counts.setdefault(split, {})[cls] = n
    return counts


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path, help="new dataset folder (links only)")
    p.add_argument("--real", nargs="+", type=Path, required=True, help="datasets whose Real faces are taken")
    p.add_argument("--fake", nargs="+", type=Path, required=True, help="datasets whose Fake faces are taken")
    a = p.parse_args(argv)
    counts = combine(a.out, a.real, a.fake)
    for split, c in counts.items():
        print(f"{split}: {c.get('real', 0)} real, {c.get('fake', 0)} fake")
    return 0 if any("real" in c and "fake" in c for c in counts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
