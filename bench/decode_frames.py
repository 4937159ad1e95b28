"""What decoding a clip costs, and what decoding fewer frames would save.

    python bench/decode_frames.py ../shared/datasets/videos/Fake/abofeumbvv.mp4 [more clips] [--repeats 3]

For each clip (median of --repeats, warm file cache): `detector.decode.sample_frames` (the 32 samples the detector
analyses, as it gets them), OpenCV `grab()` through every frame (what reaching those samples costs: H.264 decodes
every frame), and, when PyAV is installed (`pip install av`; not a dependency of this project), PyAV through every
frame and through the reference frames only (`skip_frame = "NONREF"`, which OpenCV does not offer): the saving a
decoder that skips the frames no other frame needs would bring.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _timed(fn, repeats: int) -> tuple[float, int]:
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        n = fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clips", nargs="+")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    import cv2

    from detector.decode import sample_frames

    def opencv_all(path):
        cap, n = cv2.VideoCapture(path), 0
        while cap.grab():
            n += 1
        cap.release()
        return n

    def pyav(path, skip):
        with av.open(path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            stream.codec_context.skip_frame = skip
            return sum(1 for _ in container.decode(stream))

    try:
        import av
    except ImportError:
        av = None
        print("PyAV not installed: its rows are skipped (pip install av)", file=sys.stderr)
    print("| clip | way | frames decoded | seconds (median) |\n|---|---|---|---|")
    for path in a.clips:
        ways = {"sample_frames (32 samples, as the detector)": lambda: sum(1 for _ in sample_frames(path, 32)),
                "OpenCV grab() through every frame": lambda: opencv_all(path)}
        if av is not None:
            ways["PyAV, every frame"] = lambda: pyav(path, "DEFAULT")
            ways["PyAV, reference frames only (NONREF)"] = lambda: pyav(path, "NONREF")
        for way, fn in ways.items():
            fn()  # warm: file cache, codec set-up
            seconds, n = _timed(fn, a.repeats)
            print(f"| {Path(path).name} | {way} | {n} | {seconds:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
