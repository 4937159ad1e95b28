"""Which border makes MTCNN find faces that fill the picture? (How `FaceDetector.detect_padded` was tuned.)

    python bench/padding_sweep.py ../shared/datasets/dfdc-faces ../shared/datasets/stylegan-faces [--split Test]

Finds the images of the given splits where `detect` finds no face, then counts how many of those a retry finds
with a border of each kind (replicated, constant mean colour, reflected) and width (a fraction of the longer side).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="+")
    ap.add_argument("--split", default="Test")
    a = ap.parse_args()
    import cv2

    from detector.datasets import find_split
    from detector.decode import load_image
    from detector.faces import FaceDetector

    fd = FaceDetector()
    paths = [p for d in a.data for p in find_split(d, a.split).paths]
    missed = []
    for i in range(0, len(paths), 16):
        images = [load_image(p) for p in paths[i : i + 16]]
        missed += [im for im, found in zip(images, fd.detect(images)) if not found]
    print(f"{len(paths)} images, no face found in {len(missed)}")
    print("| border | 0.15 | 0.25 | 0.35 |\n|---|---|---|---|")
    for name, mode in (("replicated", cv2.BORDER_REPLICATE), ("constant (mean colour)", cv2.BORDER_CONSTANT),
                       ("reflected", cv2.BORDER_REFLECT)):
        counts = []
        for pad in (0.15, 0.25, 0.35):
            found = 0
            for im in missed:
                k = int(pad * max(im.shape[:2]))
                value = [int(v) for v in im.reshape(-1, 3).mean(0)]
                found += bool(fd.detect([cv2.copyMakeBorder(im, k, k, k, k, mode, value=value)])[0])
            counts.append(found)
        print(f"| {name} | " + " | ".join(f"{c} / {len(missed)}" for c in counts) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
