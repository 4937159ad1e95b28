"""Time added per file by reading what it says about itself (detector.evidence.read_evidence): C2PA, XMP,
EXIF, generator text chunks. The analysis calls it once per file, after the pixels, so its time is the
time added.

    python bench/evidence.py [--photos ../shared/datasets/portraits-unseen/Test/Real] [--limit 200] [--repeats 5]

Files made here: a 12 MP camera-like JPEG with EXIF and XMP, signed JPEG (1920x1080) and PNG (1024x1024) with
throwaway credentials (bench/c2pa_sign.py), a Stable Diffusion PNG, a 10 s 720p MP4; plus --photos, real photos
as found (web downloads: most have their metadata stripped). Prints p50/p95 ms per group, warm (the first call
in a process also loads the C2PA library: printed apart as "cold").
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def made_files(folder: Path) -> dict[str, tuple[list[Path], str]]:
    import numpy as np
    from PIL import Image, PngImagePlugin

    from bench.c2pa_sign import make_credentials, sign
    from bench.run import write_clip

    rng = np.random.default_rng(0)

    def picture(w, h):  # smooth content compresses like a photo; noise would not
        small = rng.integers(0, 255, (h // 32, w // 32, 3), np.uint8)
        return Image.fromarray(small).resize((w, h), Image.BILINEAR)

    def save(im, fmt, **kw):
        buf = io.BytesIO()
        im.save(buf, fmt, **kw)
        return buf.getvalue()

    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "Canon", "EOS R5", "Adobe Lightroom 7.0"
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description xmp:CreatorTool="Lightroom"/></rdf:RDF></x:xmpmeta>'
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a portrait\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1")
    creds = make_credentials()
    blobs = {"camera 12MP.jpg": save(picture(4000, 3000), "JPEG", quality=90, exif=exif.tobytes(), xmp=xmp),
             "signed 1920x1080.jpg": sign(save(picture(1920, 1080), "JPEG", quality=90), "image/jpeg", creds),
             "signed 1024.png": sign(save(picture(1024, 1024), "PNG"), "image/png", creds),
             "sd 1024.png": save(picture(1024, 1024), "PNG", pnginfo=info)}
    out = {}
    for name, data in blobs.items():
        (folder / name).write_bytes(data)
        out[name] = ([folder / name], "image")
    out["clip 720p 10s.mp4"] = ([write_clip(folder / "clip.mp4", 1280, 720, 10)], "video")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--photos", default=None, help="a folder of real photos (jpg/png/webp)")
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args(argv)
    from detector.evidence import read_evidence

    groups = made_files(Path(tempfile.mkdtemp(prefix="bench-evidence-")))
    if a.photos:
        photos = sorted(f for f in Path(a.photos).rglob("*") if f.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
        groups[f"photos from {a.photos}"] = (photos[: a.limit], "image")
    t = time.perf_counter()
    read_evidence(groups["signed 1920x1080.jpg"][0][0], kind="image")
    print(f"cold (first call: loads the C2PA library): {1000 * (time.perf_counter() - t):.0f} ms")
    print(f"{'files':45s} {'n':>4s} {'p50 ms':>8s} {'p95 ms':>8s}  strongest finding (first file)")
    for name, (files, kind) in groups.items():
        times = []
        for _ in range(a.repeats):
            for f in files:
                t = time.perf_counter()
                ev = read_evidence(f, kind=kind)
                times.append(1000 * (time.perf_counter() - t))
        times.sort()
        first = read_evidence(files[0], kind=kind)["findings"][0]
        print(f"{name[:45]:45s} {len(files):4d} {statistics.median(times):8.2f} {times[int(0.95 * (len(times) - 1))]:8.2f}"
              f"  [{first['strength']}] {first['text'][:60]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
