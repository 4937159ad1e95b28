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

    python bench/fuzz.py --evidence --seconds 600

fuzzes the evidence path alone (detector.evidence.read_evidence: C2PA via c2pa-python, XMP, EXIF, PNG/WebP
text chunks), much faster than the whole analysis (no model). Its seeds are pictures signed with a throwaway
certificate (bench/c2pa_sign.py), a Stable Diffusion PNG, JPEGs with XMP and EXIF, a WebP with both, and a
video; besides libFuzzer's byte mutations, a custom mutator breaks what these parsers read: JUMBF box lengths
and types, XMP cut off mid-packet, huge or many PNG text chunks (with valid CRCs), EXIF IFD offsets pointing
anywhere. Any exception out of read_evidence, or a result without findings, is a crash; the same 10 s hang and
1.5 GB memory limits apply.

    python bench/fuzz.py --replay 10 --corpus DIR

replays a kept corpus 10 times instead (no mutation) and prints the process's RSS after each pass: memory that
keeps growing over the same inputs is a leak; memory that settles is the allocator.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
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


EVIDENCE_FORMATS = [".jpg", ".png", ".webp", ".mp4"]


def make_evidence_seeds(folder: Path) -> None:
    """Seeds for --evidence (selector byte + file): signed JPEG/PNG, generator text, XMP, EXIF, a video."""
    import struct
    import zlib

    import cv2
    import numpy as np
    from PIL import Image, PngImagePlugin

    from bench.c2pa_sign import make_credentials, sign

    folder.mkdir(parents=True, exist_ok=True)
    rgb = np.random.default_rng(0).integers(0, 255, (48, 64, 3), np.uint8)
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description Iptc4xmpExt:DigitalSourceType='
           b'"http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia" xmp:CreatorTool="Gen 1">'
           b'<xmpMM:History><rdf:Seq><rdf:li stEvt:action="edited" stEvt:softwareAgent="Adobe Photoshop"/></rdf:Seq>'
           b'</xmpMM:History></rdf:Description></rdf:RDF></x:xmpmeta>')
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "Canon", "EOS R5", "GIMP 2.10"
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00a cat\nSteps: 20, Sampler: Euler"

    def save(fmt, **kw):
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, fmt, **kw)
        return buf.getvalue()

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a portrait\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1")
    info.add_text("prompt", '{"3": {"class_type": "KSampler"}}')
    info.add_itxt("XML:com.adobe.xmp", xmp.decode())
    creds = make_credentials()
    seeds = {"signed.jpg": sign(save("JPEG"), "image/jpeg", creds), "signed.png": sign(save("PNG"), "image/png", creds),
             "sd.png": save("PNG", pnginfo=info, exif=exif.tobytes()), "meta.jpg": save("JPEG", xmp=xmp, exif=exif.tobytes()),
             "meta.webp": save("WEBP", xmp=xmp, exif=exif.tobytes())}
    chunk = b"tEXt" + b"Comment\x00" + b"x" * 5000  # many text chunks, each with its CRC
    many = save("PNG")
    many = many[:33] + (struct.pack(">I", len(chunk) - 4) + chunk + struct.pack(">I", zlib.crc32(chunk))) * 50 + many[33:]
    seeds["many.png"] = many
    path = Path(tempfile.mkdtemp()) / "seed.mp4"
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for k in range(4):
        vw.write(np.roll(rgb, k, axis=1))
    vw.release()
    seeds["clip.mp4"] = path.read_bytes()
    for name, payload in seeds.items():
        ext = "." + name.rsplit(".", 1)[1]
        (folder / f"seed-{name}").write_bytes(bytes([EVIDENCE_FORMATS.index(ext)]) + payload)


def break_structure(data: bytes, rng) -> bytes:
    """One structure-aware mutation of a selector+file input: what byte flips rarely reach."""
    import struct
    import zlib

    sel, body = data[:1] or b"\x00", bytearray(data[1:])
    choice = rng.randrange(5)
    if choice == 0 and (i := body.find(b"jumb")) >= 4:  # a JUMBF box's length or type
        at = i - 4 if rng.random() < 0.7 else i
        body[at : at + 4] = struct.pack(">I", rng.choice([0, 1, 7, 8, 0xFFFFFFFF, rng.randrange(1 << 32)]))
    elif choice == 1 and (i := body.find(b"<x:xmpmeta")) >= 0:  # XMP cut off mid-packet
        j = body.find(b"</x:xmpmeta>", i)
        if j > i:
            del body[rng.randrange(i, j) : j + 12]
    elif choice == 2 and body[1:4] == b"PNG":  # a huge, or many, text chunks (valid CRCs: they are read)
        size = rng.choice([2**20 + 1, 4 * 2**20, 10_000])
        chunk = rng.choice([b"tEXt", b"zTXt", b"iTXt"]) + b"parameters\x00" + (
            zlib.compress(b"Steps: 1, Sampler: x" * (size // 20)) if rng.random() < 0.5 else b"S" * size)
        one = struct.pack(">I", len(chunk) - 4) + chunk + struct.pack(">I", zlib.crc32(chunk))
        body[33:33] = one * (1 if size > 10_000 else rng.randrange(2, 400))
    elif choice == 3 and (i := max(body.find(b"MM\x00*"), body.find(b"II*\x00"))) >= 0:  # EXIF offsets
        at = i + 4 + 4 * rng.randrange(0, 6)
        body[at : at + 4] = struct.pack(">I", rng.choice([0, 8, 0xFFFFFFF0, rng.randrange(1 << 32)]))
    elif body:
        cut = rng.randrange(len(body))
        body = body[:cut] if rng.random() < 0.5 else body[:cut] + body[cut + rng.randrange(1, 64):]
    return bytes(sel + body)


def feed_evidence(buf: bytes, work: Path, i: int) -> None:
    """The evidence path alone, from bytes (the app) or a path (the CLI): must return a full result."""
    from detector.evidence import read_evidence

    ext, payload = EVIDENCE_FORMATS[buf[0] % len(EVIDENCE_FORMATS)], buf[1:]
    kind = "video" if ext == ".mp4" else "image"
    if i % 2:
        path = work / f"input{ext}"
        path.write_bytes(payload)
        ev = read_evidence(path, kind=kind)
    else:
        ev = read_evidence(payload, f"upload{ext}", kind=kind)
    if not ev["findings"] or ev["strongest"] not in ("strong", "weak", "none") or not ev["note"]:
        raise AssertionError(f"incomplete evidence: {ev}")
    json.dumps(ev)


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
    ap.add_argument("--evidence", action="store_true", help="fuzz the evidence path alone (detector.evidence)")
    a, libfuzzer_args = ap.parse_known_args()
    if a.replay:
        from detector.pipeline import Detector

        return replay(Detector(models_dir=a.models_dir), Path(a.corpus), a.replay)
    import atheris

    with atheris.instrument_imports(include=["detector"] + (["PIL"] if a.evidence else [])):
        from detector.errors import InputError
        from detector.evidence import read_evidence  # noqa: F401  (instrumented here)
        if a.evidence:  # Pillow's parsers that read metadata load lazily: import them here to be instrumented
            from PIL import JpegImagePlugin, PngImagePlugin, TiffImagePlugin, WebPImagePlugin  # noqa: F401
        from detector.pipeline import Detector

    corpus = Path(a.corpus or tempfile.mkdtemp(prefix="fuzz-corpus-"))
    skipped = [] if a.evidence else make_seeds(corpus)
    if a.evidence:
        make_evidence_seeds(corpus)
    if skipped:
        print(f"note: OpenCV could not write seeds for {skipped}", file=sys.stderr)
    crashes_dir = Path(a.crashes)
    detector = None if a.evidence else Detector(models_dir=a.models_dir)
    import random

    rng = random.Random(0)
    work = Path(tempfile.mkdtemp(prefix="fuzz-"))
    # Warm up on the seeds, off the clock: the first analysis traces the model (17-20 s on a loaded 2-core
    # machine, once: not a hang) and the first evidence read loads the C2PA library.
    for i, seed in enumerate(sorted(f for f in corpus.iterdir() if f.name.startswith("seed"))):
        try:
            feed_evidence(seed.read_bytes(), work, i) if a.evidence else feed(detector, seed.read_bytes(), work, i)
        except Exception:
            pass
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
        ext = (EVIDENCE_FORMATS if a.evidence else FORMATS)[buf[0] % len(EVIDENCE_FORMATS if a.evidence else FORMATS)]
        stats["inputs"] += 1
        t = time.perf_counter()
        try:
            if a.evidence:
                feed_evidence(buf, work, stats["inputs"])
            else:
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

    def mutate(data: bytes, max_size: int, seed: int) -> bytes:  # --evidence: half structure-aware
        rng.seed(seed)
        out = break_structure(data, rng) if rng.random() < 0.5 else atheris.Mutate(data, max_size)
        return out[:max_size]

    max_len = 6_000_000 if a.evidence else 400_000  # --evidence: room for a 4 MB text chunk
    atheris.Setup([sys.argv[0], "-timeout=60", "-rss_limit_mb=3000", f"-max_len={max_len}",
                   f"-artifact_prefix={crashes_dir}/", str(corpus),
                   *libfuzzer_args], one_input, **({"custom_mutator": mutate} if a.evidence else {}))
    atheris.Fuzz()
    finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
