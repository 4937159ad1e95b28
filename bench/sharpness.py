"""Can sharpness (or the lack of colour) alone tell a source's real faces from its fakes? If it can, a detector trained on that source
may learn "blurry = fake" (or "sharp = fake") instead of the manipulation: a shortcut (issue 23, item 3).

    python bench/sharpness.py ../shared/datasets/dfdc-faces ~/.cache/deepfake-detector/datasets/resynth \\
        ~/.cache/deepfake-detector/datasets/stylegan-crops --split Validation --per-class 300

Each face is resized to the model's input (160 px, area) and its sharpness measured as the variance of the
Laplacian of its grey image (data_prep.match_sharpness.sharpness, which can blur a source's fakes to match). Per source: the median sharpness of each class and the AUC of
sharpness as a fake score (0.5: sharpness says nothing; near 0 or 1: a shortcut is there to learn). A seeded
sample of --per-class faces per class. Also each class's share of black-and-white faces (the app's test,
detector.colour.is_black_and_white): if only the reals are ever black and white, "no colour = real" is learnable
too.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    from data_prep.match_sharpness import sharpness
    from detector.colour import is_black_and_white
    from detector.datasets import find_split
    from detector.decode import load_image
    from detector.metrics import roc_auc

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="+", type=Path, help="datasets in the OpenForensics layout")
    ap.add_argument("--split", default="Validation")
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--size", type=int, default=160, help="the model's input side")
    a = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    print("| source | real faces | fakes | median sharpness: real | fake | AUC of sharpness as a fake score "
          "| black and white: real | fake |")
    print("|---|---|---|---|---|---|---|---|")
    for d in a.data:
        split, by_class, grey = find_split(d, a.split), {}, {}
        for label, y in (("Real", 0), ("Fake", 1)):
            files = [p for p, lab in zip(split.paths, split.labels) if lab == y]
            files = [files[i] for i in sorted(rng.permutation(len(files))[: a.per_class])]
            images = [load_image(p) for p in files]
            by_class[label] = np.array([sharpness(im, a.size) for im in images])
            grey[label] = f"{np.mean([is_black_and_white(im) for im in images]):.1%}" if images else "-"
        r, f = by_class["Real"], by_class["Fake"]
        auc = roc_auc(np.r_[np.zeros(len(r)), np.ones(len(f))], np.r_[r, f]) if len(r) and len(f) else float("nan")
        med = lambda x: f"{np.median(x):.1f}" if len(x) else "-"  # noqa: E731
        print(f"| {d.name} | {len(r)} | {len(f)} | {med(r)} | {med(f)} | {auc:.3f} | {grey['Real']} | {grey['Fake']} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
