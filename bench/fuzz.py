"""Coverage-guided fuzzing (atheris / libFuzzer) of every input path the app and the CLI use.

    python bench/fuzz.py --seconds 60 [--inputs N] [--models-dir DIR] [--corpus DIR] [--crashes DIR]

Seeds are made here: one small face picture as JPEG, PNG, WebP, GIF, BMP and TIFF (Pillow) and a short face
clip as MP4, WebM, MKV and AVI (OpenCV). libFuzzer mutates them (coverage of the `detector` package guides it);
the first byte of each input picks the file type, the rest is the file. Each input goes through
`Detector.analyse_path` (the CLI and scan's entry point) and, every other input, through the upload path of the
app (`webui.resources.analyse_upload`). It must end in a result or a clear `InputError`: any other exception
is a crash, more than 10 s is a hang, and the process's memory must stay under 1.5 GB: max_rss_mb is the
process's peak (VmHWM), so memory used only inside one input counts too; an input that would take over 3 GB is
stopped by libFuzzer itself (its `oom-*` file lands in --crashes, and the run ends without the summary line).
Crashing inputs are saved under --crashes. It stops after --seconds or --inputs, whichever comes first. The last line is `inputs=<n> crashes=<n> hangs=<n> max_rss_mb=<n>`; the exit status is 1
when there were crashes or hangs (or memory went over the limit).

    python bench/fuzz.py --replay 10 --corpus DIR

replays a kept corpus 10 times instead (no mutation) and prints the process's RSS after each pass: memory that
keeps growing over the same inputs is a leak; memory that settles is the allocator.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from procmem import status_mb  # noqa: E402
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

FORMATS = [".jpg", ".png", ".webp", ".gif", ".bmp", ".tiff", ".mp4", ".webm", ".mkv", ".avi"]
HANG_S = 10.0
RSS_LIMIT_MB = 1500


def make_seeds(folder: Path) -> list[str]:
    """One seed file per format (selector byte + file). Returns the formats OpenCV could not write."""
    import cv2
    import numpy as np
    from PIL import Image
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    face = np.asarray(Image.fromarray(data.astronaut()).resize((128, 128)))
    skipped = []
    for i, ext in enumerate(FORMATS):
        if ext in (".mp4", ".webm", ".mkv", ".avi"):
            fourcc = {".mp4": "mp4v", ".webm": "VP80", ".mkv": "XVID", ".avi": "MJPG"}[ext]
            path = Path(tempfile.mkdtemp()) / f"seed{ext}"
            vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10, (128, 128))
            if not vw.isOpened():
                skipped.append(ext)
                continue
            for k in range(8):
                vw.write(cv2.cvtColor(np.roll(face, 2 * k, axis=1), cv2.COLOR_RGB2BGR))
            vw.release()
            payload = path.read_bytes()
        else:
            buf = io.BytesIO()
            Image.fromarray(face).save(buf, format={".jpg": "JPEG", ".tiff": "TIFF"}.get(ext, ext[1:].upper()))
            payload = buf.getvalue()
        (folder / f"seed{ext}").write_bytes(bytes([i]) + payload)
    return skipped


def feed(detector, buf: bytes, work: Path, i: int) -> None:
    """One input: the first byte picks the file type, the rest is the file; odd-numbered inputs go through
    `Detector.analyse_path`, even-numbered ones through the app's upload path. Raises what they raise."""
    from webui.resources import analyse_upload

    ext, payload = FORMATS[buf[0] % len(FORMATS)], buf[1:]
    if i % 2:
        path = work / f"input{ext}"
        path.write_bytes(payload)
        detector.analyse_path(path, n_frames=8)
    else:
        analyse_upload(detector, f"upload{ext}", payload)


def replay(detector, corpus: Path, passes: int) -> int:
    from detector.errors import InputError

    bufs = [b for b in (f.read_bytes() for f in sorted(corpus.iterdir()) if f.is_file()) if b]
    work = Path(tempfile.mkdtemp(prefix="replay-"))
    for p in range(passes):
        t = time.perf_counter()
        for i, buf in enumerate(bufs):
            try:
                feed(detector, buf, work, i)
            except InputError:
                pass
        print(f"pass {p + 1}: {len(bufs)} inputs in {time.perf_counter() - t:.1f} s, RSS {status_mb():.0f} MB "
              f"(peak {status_mb('VmHWM'):.0f} MB)", flush=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--inputs", type=int, default=0, help="stop after this many inputs (0: no limit)")
    ap.add_argument("--models-dir", default=None, help="models folder (default: the bundled models)")
    ap.add_argument("--corpus", default=None, help="corpus folder, kept between runs (default: a temp folder)")
    ap.add_argument("--crashes", default=str(ROOT / "artifacts" / "fuzz-crashes"))
    ap.add_argument("--replay", type=int, default=0, metavar="PASSES", help="replay --corpus PASSES times, no fuzzing")
    a, libfuzzer_args = ap.parse_known_args()
    if a.replay:
        from detector.pipeline import Detector

        return replay(Detector(models_dir=a.models_dir), Path(a.corpus), a.replay)
    import atheris

    with atheris.instrument_imports(include=["detector"]):
        from detector.errors import InputError
        from detector.pipeline import Detector

    corpus = Path(a.corpus or tempfile.mkdtemp(prefix="fuzz-corpus-"))
    skipped = make_seeds(corpus)
    if skipped:
        print(f"note: OpenCV could not write seeds for {skipped}", file=sys.stderr)
    crashes_dir = Path(a.crashes)
    detector = Detector(models_dir=a.models_dir)
    work = Path(tempfile.mkdtemp(prefix="fuzz-"))
    stats = {"inputs": 0, "crashes": 0, "hangs": 0, "max_rss_mb": status_mb()}
    t_end = time.time() + a.seconds

    def finish() -> None:
        line = " ".join(f"{k}={int(v)}" for k, v in stats.items())
        print(line, flush=True)
        bad = stats["crashes"] or stats["hangs"] or stats["max_rss_mb"] > RSS_LIMIT_MB
        os._exit(1 if bad else 0)  # libFuzzer never returns to Python: leave from here

    def one_input(buf: bytes) -> None:
        if time.time() > t_end or (a.inputs and stats["inputs"] >= a.inputs):
            finish()
        if not buf:
            return
        ext = FORMATS[buf[0] % len(FORMATS)]
        stats["inputs"] += 1
        t = time.perf_counter()
        try:
            feed(detector, buf, work, stats["inputs"])
        except InputError:
            pass
        except Exception as e:  # anything else is a crash: keep the input, go on fuzzing
            stats["crashes"] += 1
            crashes_dir.mkdir(parents=True, exist_ok=True)
            name = crashes_dir / f"crash-{hashlib.sha1(buf).hexdigest()[:12]}{ext}"
            name.write_bytes(buf[1:])
            print(f"CRASH {type(e).__name__}: {e} -> {name}", file=sys.stderr, flush=True)
        if time.perf_counter() - t > HANG_S:
            stats["hangs"] += 1
            print(f"HANG {time.perf_counter() - t:.1f} s on a {ext} input", file=sys.stderr, flush=True)
        stats["max_rss_mb"] = status_mb("VmHWM")  # the peak so far, inside inputs included

    # libFuzzer's own limits as a backstop: a real hang is killed after 60 s, memory over 3 GB stops the run.
    crashes_dir.mkdir(parents=True, exist_ok=True)
    atheris.Setup([sys.argv[0], "-timeout=60", "-rss_limit_mb=3000", "-max_len=400000",
                   f"-artifact_prefix={crashes_dir}/", str(corpus),
                   *libfuzzer_args], one_input)
    atheris.Fuzz()
    finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
