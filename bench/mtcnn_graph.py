"""MTCNN as the mtcnn package ships it against what FaceDetector does to it: its three networks as one traced graph
each, then also the image batch handed to its stages as one tensor (`detector.faces._OneTensor`).

    python bench/mtcnn_graph.py --video CLIP.mp4 [--repeats 10] [--clip-repeats 5]

Times `FaceDetector.detect` warm on a 128 px face, the 512 px astronaut picture and a batch of 8 frames of the clip
in each way, and checks that every way finds the boxes mtcnn finds as shipped. Then the whole clip through
`Detector.analyse_video` (decode, detect, classify), the ways taking turns so that a machine's drift hits each alike.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", required=True)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--clip-repeats", type=int, default=5)
    a = ap.parse_args()
    import cv2
    from skimage import data

    from detector.decode import sample_frames
    from detector.pipeline import Detector

    face = data.astronaut()
    cases = {"128 px face": [cv2.resize(face, (128, 128), interpolation=cv2.INTER_AREA)], "512 px picture": [face],
             "8 video frames": [f for _, _, f in sample_frames(a.video, 8)]}
    det = Detector()  # its FaceDetector, so the whole-clip timing below uses the same one
    fd = det.faces
    wrapped = list(fd._mtcnn.stages)
    raw = [w.stage for w in wrapped]
    traced = [st._model for st in raw]
    eager = [m.python_function for m in traced]

    def run_models(models, stages):
        for st, m in zip(raw, models):
            st._model = m
        fd._mtcnn._stages = stages

    def run(models, stages) -> dict:
        run_models(models, stages)
        out = {}
        for name, images in cases.items():
            fd.detect(images), fd.detect(images)  # warm: first calls trace
            t = time.perf_counter()
            for _ in range(a.repeats):
                found = fd.detect(images)
            out[name] = ((time.perf_counter() - t) / a.repeats, [[f.box for f in fs] for fs in found])
        return out

    configs = {"as shipped": (eager, raw), "traced": (traced, raw), "traced + one tensor": (traced, wrapped)}
    ways = {w: run(*cfg) for w, cfg in configs.items()}
    shipped = ways["as shipped"]
    print(f"{'input':>15} | " + " | ".join(f"{w + ' ms':>22}" for w in ways) + " | speed-up | same boxes")
    for name in cases:
        same = all(len(x) == len(y) and all(abs(p - q) < 1.0 for bx, by in zip(x, y) for p, q in zip(bx, by))
                   for res in ways.values() for x, y in zip(shipped[name][1], res[name][1]))
        ms = [res[name][0] * 1e3 for res in ways.values()]
        print(f"{name:>15} | " + " | ".join(f"{m:22.1f}" for m in ms) + f" | {ms[0] / ms[-1]:7.1f}x | {same}")

    clip = {w: [] for w in configs}
    for rep in range(a.clip_repeats + 1):  # the first round warms each way up, untimed
        for w, (models, stages) in configs.items():
            run_models(models, stages)
            t = time.perf_counter()
            det.analyse_video(a.video)
            if rep:
                clip[w].append(time.perf_counter() - t)
    print(f"\nwhole clip, analyse_video, median of {a.clip_repeats} taking turns: "
          + ", ".join(f"{w} {statistics.median(v):.2f} s" for w, v in clip.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
