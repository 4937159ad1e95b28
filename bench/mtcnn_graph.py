"""MTCNN's networks called eagerly (as the mtcnn package does) against one traced graph each (as FaceDetector does).

    python bench/mtcnn_graph.py --video CLIP.mp4 [--repeats 10]

Times `FaceDetector.detect` warm on a 128 px face, the 512 px astronaut picture and a batch of 8 frames of the clip,
first with the networks eager, then traced, and checks that both find the same boxes.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", required=True)
    ap.add_argument("--repeats", type=int, default=10)
    a = ap.parse_args()
    import cv2
    from skimage import data

    from detector.decode import sample_frames
    from detector.faces import FaceDetector

    face = data.astronaut()
    cases = {"128 px face": [cv2.resize(face, (128, 128), interpolation=cv2.INTER_AREA)], "512 px picture": [face],
             "8 video frames": [f for _, _, f in sample_frames(a.video, 8)]}
    fd = FaceDetector()
    traced = [st._model for st in fd._mtcnn.stages]
    eager = [m.python_function for m in traced]

    def run(models) -> dict:
        for st, m in zip(fd._mtcnn.stages, models):
            st._model = m
        out = {}
        for name, images in cases.items():
            fd.detect(images), fd.detect(images)  # warm: first calls trace
            t = time.perf_counter()
            for _ in range(a.repeats):
                found = fd.detect(images)
            out[name] = ((time.perf_counter() - t) / a.repeats, [[f.box for f in fs] for fs in found])
        return out

    e, t = run(eager), run(traced)
    print(f"{'input':>15} | {'eager ms':>8} | {'traced ms':>9} | speed-up | same boxes")
    for name in cases:
        same = all(len(x) == len(y) and all(abs(p - q) < 1.0 for bx, by in zip(x, y) for p, q in zip(bx, by))
                   for x, y in zip(e[name][1], t[name][1]))
        print(f"{name:>15} | {e[name][0] * 1e3:8.1f} | {t[name][0] * 1e3:9.1f} | {e[name][0] / t[name][0]:7.1f}x | {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
