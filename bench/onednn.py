"""Serving with TensorFlow's oneDNN kernels on or off: speed and memory of the detector, each in a fresh process.

    python bench/onednn.py --photos ../shared/datasets/dfdc-faces/Test/Real --video CLIP.mp4 [--n 100] [--sizes 300]

Why: the long fuzz run's memory crept up with every new picture size (bench/shape_memory.py). oneDNN keeps
compiled kernels per input shape, and MTCNN's image pyramid gives every new picture size new shapes. This runs
the same work with TF_ENABLE_ONEDNN_OPTS=1 and =0: --n photos through `Detector.analyse_path` (warm, after one
untimed pass), the clip three times, then --sizes random-noise pictures of random sizes through the face detector,
and prints photos/s, seconds per clip, and RSS before and after the varied sizes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(a: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import numpy as np
    from procmem import status_mb
    from shape_memory import detect_varied_sizes
    from detector.pipeline import Detector

    photos = sorted(p for p in Path(a.photos).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:a.n]
    det = Detector()
    for p in photos[:5]:
        det.analyse_path(p)
    det.analyse_path(a.video)
    t = time.perf_counter()
    for p in photos:
        det.analyse_path(p)
    photo_s = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(3):
        det.analyse_path(a.video)
    clip_s = (time.perf_counter() - t) / 3
    before = status_mb()
    detect_varied_sizes(det.faces, a.sizes, np.random.default_rng(0))
    print(json.dumps({"photos_per_s": len(photos) / photo_s, "clip_s": clip_s,
                      "rss_before_mb": before, "rss_after_mb": status_mb()}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", required=True, help="a folder of photos")
    ap.add_argument("--video", required=True, help="one clip")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--sizes", type=int, default=300, help="random picture sizes for the memory part")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a)
        return 0
    print(f"{'oneDNN':>6} | {'photos/s':>8} | {'s/clip':>6} | {'RSS before':>10} | {'after ' + str(a.sizes) + ' sizes':>16}")
    for flag in ("1", "0"):
        env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": flag, "TF_CPP_MIN_LOG_LEVEL": "3"}
        out = subprocess.run([sys.executable, __file__, "--child", "--photos", a.photos, "--video", a.video,
                              "--n", str(a.n), "--sizes", str(a.sizes)], env=env, capture_output=True, text=True)
        if out.returncode:
            print(out.stderr[-2000:], file=sys.stderr)
            return 1
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{'on' if flag == '1' else 'off':>6} | {r['photos_per_s']:8.2f} | {r['clip_s']:6.2f} | "
              f"{r['rss_before_mb']:7.0f} MB | {r['rss_after_mb']:13.0f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
