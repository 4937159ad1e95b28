"""Does memory grow with the number of distinct picture sizes MTCNN sees? (An open lead from the long fuzz run.)

    python bench/shape_memory.py [--n 300]

Runs the face detector on --n random-noise pictures of random sizes (20-400 px a side), then on --n of one fixed
size, printing the process RSS every 50 / 100 calls. Measured 2026-11-25: 778 MB at start, 889 MB after 50
varied sizes, then about +0.1 MB per further new size (920 MB after 300), flat over 300 same-size calls. Padding
inputs to 32-px buckets before MTCNN did not change the growth, so it is not (only) per-shape tracing.
Explained later the same day: TensorFlow's oneDNN kernels are compiled and kept per input shape. With
TF_ENABLE_ONEDNN_OPTS=0, which `detector` now sets for serving, the same run holds at 688 MB from the 150th
call on, also for the 300 same-size calls (`bench/onednn.py` compares speed and memory both ways).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from procmem import status_mb  # noqa: E402


def detect_varied_sizes(fd, n: int, rng: np.random.Generator, every: int = 0) -> None:
    """`fd.detect` on n random-noise pictures of random sizes (20-400 px a side); RSS printed every `every` calls."""
    for i in range(n):
        h, w = int(rng.integers(20, 400)), int(rng.integers(20, 400))
        fd.detect([rng.integers(0, 255, (h, w, 3), dtype=np.uint8)])
        if every and i % every == every - 1:
            print(f"varied sizes, {i + 1} calls: {status_mb():.0f} MB", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    a = ap.parse_args()
    from detector.faces import FaceDetector

    fd = FaceDetector()
    rng = np.random.default_rng(0)
    print(f"start: {status_mb():.0f} MB")
    detect_varied_sizes(fd, a.n, rng, every=50)
    for i in range(a.n):
        fd.detect([rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)])
        if i % 100 == 99:
            print(f"one size, {i + 1} calls: {status_mb():.0f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
