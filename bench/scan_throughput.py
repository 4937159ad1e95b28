"""Throughput of the plain CLI against the Ray Data scan on this machine, same files, same model.

    python bench/scan_throughput.py --videos ../shared/datasets/videos/Fake [--photos 200] [--clip-copies 10]

Writes --photos 1280x720 one-face photos (scikit-image's astronaut, shifted) and --clip-copies copies of each
video given, then times, from a fresh process each: `python -m detector DIR --no-progress` (one process) and
`python -m detector.scan DIR --out ... --actors 2` (a local Ray, 2 actors), photos and clips separately. Wall
times include start-up (imports, model load: the cost of a batch job); the steady-state rate is also given from
the per-file `seconds` each scan row records. Peak RSS per scoring actor is read from /proc (VmHWM).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from procmem import status_mb  # noqa: E402


def peak_actor_rss(stop: threading.Event, out: dict) -> None:
    """Peak RSS (the kernel's VmHWM) of every Ray scoring actor process seen while the scan runs."""
    while not stop.is_set():
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if b"ScoreFiles" in (proc / "cmdline").read_bytes():
                    out[proc.name] = max(out.get(proc.name, 0), status_mb("VmHWM", proc.name))
            except OSError:
                pass
        stop.wait(0.5)


def run(cmd, env=None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, **(env or {})), check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", required=True, help="folder of ~10 s videos (e.g. the DFDC clips)")
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--clip-copies", type=int, default=10)
    a = ap.parse_args()
    import numpy as np
    from PIL import Image
    from skimage import data

    work = Path(tempfile.mkdtemp(prefix="scanbench-"))
    photos, clips = work / "photos", work / "clips"
    photos.mkdir()
    clips.mkdir()
    face = np.asarray(Image.fromarray(data.astronaut()).resize((1280, 1280)).crop((0, 0, 1280, 720)))
    for i in range(a.photos):
        Image.fromarray(np.roll(face, 7 * i, axis=1)).save(photos / f"p{i:03d}.jpg", quality=90)
    for v in sorted(Path(a.videos).glob("*.mp4")):
        for k in range(a.clip_copies):
            shutil.copy(v, clips / f"{v.stem}_{k}.mp4")
    n_clips = len(list(clips.iterdir()))
    py = sys.executable
    print(f"| input | plain CLI (1 process) | Ray scan, 2 actors | Ray steady state (per-file seconds) |")
    print("|---|---|---|---|")
    peaks: dict = {}
    for name, folder, n in (("photos", photos, a.photos), ("clips", clips, n_clips)):
        cli = run([py, "-m", "detector", str(folder), "--no-progress"])
        out = work / f"scan-{name}"
        stop = threading.Event()
        sampler = threading.Thread(target=peak_actor_rss, args=(stop, peaks), daemon=True)
        sampler.start()
        ray_s = run([py, "-m", "detector.scan", str(folder), "--out", str(out), "--actors", "2"],
                    env={"PYTHONPATH": str(ROOT)})
        stop.set()
        sampler.join()
        sys.path.insert(0, str(ROOT))
        from detector.scan import read_results

        rows = read_results(out).to_pylist()
        busy = sum(r["seconds"] for r in rows)
        steady = 2 * len(rows) / busy if busy else float("nan")  # two actors working side by side
        unit, scale = ("images/s", 1.0) if name == "photos" else ("clips/min", 60.0)
        print(f"| {n} {name} | {scale * n / cli:.2f} {unit} ({cli:.1f} s) | {scale * n / ray_s:.2f} {unit} "
              f"({ray_s:.1f} s) | {scale * steady:.2f} {unit} (mean {busy / max(len(rows), 1):.2f} s per file per actor) |")
    if peaks:
        print(f"peak RSS per scoring actor: {', '.join(f'{v:.0f} MB' for v in sorted(peaks.values()))}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
