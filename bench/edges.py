"""The documented limits at their edges: time and peak memory of each, every case in a fresh process.

    python bench/edges.py [--models-dir DIR]

Cases: a 50-megapixel photo (exactly the limit) and one pixel over it (14041x3561); a 3-hour video of tiny
frames (exactly the limit) and one second over; 4K and 8K clips (decoded frames are 25 and 100 MB each); a
200 MB upload (a face clip padded to 200 MB, the app's maximum) through the app's upload path, bytes in memory
as Streamlit hands them over. Prints a Markdown table: outcome, message, seconds, peak RSS of the process
(VmHWM, model and TensorFlow included).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from procmem import status_mb  # noqa: E402
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def run_case(path: str, via_upload: bool, models_dir: str | None) -> dict:
    from detector.pipeline import Detector
    from detector.errors import InputError

    det = Detector(models_dir=models_dir)
    base = status_mb("VmHWM")
    t = time.perf_counter()
    try:
        if via_upload:
            from webui.resources import analyse_upload

            data = Path(path).read_bytes()
            r = analyse_upload(det, Path(path).name, data)
        else:
            r = det.analyse_path(path)
        outcome, message = r.verdict, r.message or ""
    except InputError as e:
        outcome, message = "refused", str(e)
    return {"outcome": outcome, "message": message, "seconds": round(time.perf_counter() - t, 2),
            "peak_rss_mb": round(status_mb("VmHWM")), "rss_after_load_mb": round(base)}


def make_cases(folder: Path) -> list[tuple[str, str, bool]]:
    import cv2
    import numpy as np
    from PIL import Image
    from skimage import data

    face = data.astronaut()
    cases = []
    for name, (w, h) in (("photo 10000x5000 (50 MP, the limit)", (10000, 5000)),
                         ("photo 14041x3561 (one pixel over)", (14041, 3561))):
        img = np.full((h, w, 3), 120, np.uint8)
        img[:2500, :2500] = cv2.resize(face, (2500, 2500))  # a face large enough to survive the 640 px detection copy
        p = folder / f"{w}x{h}.png"
        Image.fromarray(img).save(p, compress_level=1)
        cases.append((name, str(p), False))
    for name, seconds in (("video 3 h of 64x64 frames at 1 fps (the limit)", 3 * 3600),
                          ("video 3 h + 1 s", 3 * 3600 + 1)):
        p = folder / f"long_{seconds}.avi"
        vw = cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*"MJPG"), 1, (64, 64))
        small = cv2.resize(cv2.cvtColor(face, cv2.COLOR_RGB2BGR), (64, 64))
        for _ in range(seconds):
            vw.write(small)
        vw.release()
        cases.append((name, str(p), False))
    for name, (w, h) in (("video 4K (3840x2160), 40 frames", (3840, 2160)),
                         ("video 8K (7680x4320), 40 frames", (7680, 4320))):
        p = folder / f"clip_{w}x{h}.mp4"  # a large face moving across: every sampled frame has a ~h/2 px face
        vw = cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*"mp4v"), 10, (w, h))
        base = np.full((h, w, 3), 100, np.uint8)
        base[h // 4: h // 4 + h // 2, w // 3: w // 3 + h // 2] = cv2.resize(cv2.cvtColor(face, cv2.COLOR_RGB2BGR), (h // 2, h // 2))
        for i in range(40):
            vw.write(np.roll(base, i * w // 400, axis=1))
        vw.release()
        cases.append((name, str(p), False))
    clip = folder / "clip.mp4"
    vw = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 25, (640, 360))
    frame = np.full((360, 640, 3), 40, np.uint8)
    frame[:, 140:500] = cv2.resize(cv2.cvtColor(face, cv2.COLOR_RGB2BGR), (360, 360))
    for _ in range(100):
        vw.write(frame)
    vw.release()
    big = folder / "upload_200mb.mp4"
    with open(big, "wb") as f:  # a playable clip followed by padding: what a 200 MB upload costs to take in
        f.write(clip.read_bytes())
        f.write(b"\0" * (200 * 1024 * 1024 - clip.stat().st_size))
    cases.append(("upload of 200 MB (video, the app's maximum)", str(big), True))
    return cases


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models-dir", default=None)
    ap.add_argument("--case", nargs=2, metavar=("PATH", "UPLOAD"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.case:
        print(json.dumps(run_case(a.case[0], a.case[1] == "1", a.models_dir)))
        return 0
    folder = Path(tempfile.mkdtemp(prefix="edges-"))
    print("| case | outcome | message | seconds | peak RSS (MB) |\n|---|---|---|---|---|")
    for name, path, upload in make_cases(folder):
        cmd = [sys.executable, __file__, "--case", path, "1" if upload else "0"]
        if a.models_dir:
            cmd += ["--models-dir", a.models_dir]
        p = subprocess.run(cmd, capture_output=True, text=True)
        try:
            r = json.loads(p.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            print(f"| {name} | process failed (exit {p.returncode}) | {p.stderr.strip()[-200:]} | | |")
            continue
        print(f"| {name} | {r['outcome']} | {r['message'][:90]} | {r['seconds']} | {r['peak_rss_mb']} |", flush=True)
        Path(path).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
