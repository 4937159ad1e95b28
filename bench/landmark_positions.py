"""Where MTCNN's 5 landmarks sit in training-framed face crops (the source of data_prep.sbi.CANONICAL_LANDMARKS).

    python bench/landmark_positions.py ../shared/datasets/dfdc-faces [--split Validation] [--n 160]

Runs the detector on the first --n Real crops of the split and prints the mean and spread of each landmark as
fractions of the crop's width and height.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--split", default="Validation")
    ap.add_argument("--n", type=int, default=160)
    a = ap.parse_args()
    from detector.datasets import find_split
    from detector.decode import load_image
    from detector.faces import LANDMARKS, FaceDetector

    paths = find_split(a.data, a.split, classes=("real",)).paths[: a.n]
    fd = FaceDetector()
    points = []
    for i in range(0, len(paths), 16):
        images = [load_image(p) for p in paths[i : i + 16]]
        for im, found in zip(images, fd.detect(images)):
            if found:
                h, w = im.shape[:2]
                points.append([(found[0].landmarks[k][0] / w, found[0].landmarks[k][1] / h) for k in LANDMARKS])
    pts = np.array(points)
    print(f"{len(pts)} of {len(paths)} crops with a face")
    for k, mean, std in zip(LANDMARKS, pts.mean(0), pts.std(0)):
        print(f"{k:>12}: x {mean[0]:.3f} y {mean[1]:.3f}  (spread {std[0]:.3f}, {std[1]:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
