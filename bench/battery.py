"""The bad-input battery: makes each awkward input, runs it through the detector, prints input -> outcome.

    python bench/battery.py            # a Markdown table; tests/test_battery.py asserts the same cases

Every case must end in a specific message or a correct analysis, never an exception.
"""
from __future__ import annotations

import io
import os
import struct
import sys
import wave
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _save(im, fmt, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _bomb_png(w=30000, h=30000) -> bytes:
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))


def _grid(face: np.ndarray, rows: int, cols: int, cell: int) -> np.ndarray:
    import cv2

    head = cv2.resize(face[20:230, 120:310], (int(cell * 0.8), cell))
    img = np.full((rows * int(cell * 1.3), cols * cell, 3), 120, np.uint8)
    for r in range(rows):
        for c in range(cols):
            y, x = r * int(cell * 1.3) + cell // 8, c * cell + cell // 10
            img[y : y + head.shape[0], x : x + head.shape[1]] = head
    return img


def make_battery(folder: Path) -> list[tuple[str, str, str]]:
    """Writes the inputs into folder. Returns (file name, what it is, expected outcome) where the outcome is
    'error:<words in the message>', 'no_face' or 'faces>=N'."""
    import cv2
    from PIL import Image
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    face = data.astronaut()
    pil = Image.fromarray(face)
    jpg, png = _save(pil, "JPEG"), _save(pil, "PNG")
    elf = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display": pixels stored sideways
    sideways = Image.fromarray(np.rot90(face, 1).copy())
    gif = io.BytesIO()
    pil.save(gif, format="GIF", save_all=True, append_images=[Image.fromarray(255 - face)])
    cases = {
        "empty.jpg": (b"", "an empty file", "error:empty"),
        "truncated.jpg": (jpg[: len(jpg) // 2], "a JPEG cut in half", "error:truncated or corrupt"),
        "truncated.png": (png[: len(png) // 2], "a PNG cut in half", "error:truncated or corrupt"),
        "text.jpg": (b"just some text\n" * 40, "a text file named .jpg", "error:not an image"),
        "program.jpg": (elf, "an executable named .jpg", "error:not an image"),
        "program.mp4": (elf, "an executable named .mp4", "error:a program, not a video"),
        "bomb.png": (_bomb_png(), "a PNG declaring 30000x30000 pixels", "error:too large"),
        "cmyk.jpg": (_save(pil.convert("CMYK"), "JPEG"), "a CMYK JPEG", "faces>=1"),
        "gray16.png": (_save(Image.fromarray(np.asarray(pil.convert("L")).astype(np.uint16) * 257), "PNG"),
                       "a 16-bit grayscale PNG", "faces>=1"),
        "gray.png": (_save(pil.convert("L"), "PNG"), "an 8-bit grayscale PNG", "faces>=1"),
        "palette.png": (_save(pil.convert("P"), "PNG"), "a palette PNG", "faces>=1"),
        "alpha.png": (_save(pil.convert("RGBA"), "PNG"), "an RGBA PNG", "faces>=1"),
        "exif_rotated.jpg": (_save(sideways, "JPEG", exif=exif), "a photo stored sideways + EXIF orientation 6",
                             "faces>=1"),
        "animated.gif": (gif.getvalue(), "an animated GIF (2 frames)", "faces>=1"),
        "one_pixel.png": (_save(Image.new("RGB", (1, 1)), "PNG"), "a 1x1 image", "error:too small"),
        "twenty_faces.jpg": (_save(Image.fromarray(_grid(face, 4, 5, 200)), "JPEG"), "20 faces in one photo",
                             "faces>=18"),
        "tiny_faces.jpg": (_save(Image.fromarray(_grid(face, 4, 5, 200)).resize((150, 78)), "JPEG"),
                           "20 faces of ~6 px (below MTCNN's 20 px minimum)", "no_face"),
        "no_face.png": (_save(Image.new("RGB", (640, 480), (90, 120, 150)), "PNG"), "a picture with no face",
                        "no_face"),
    }
    for name, (payload, _, _) in cases.items():
        (folder / name).write_bytes(payload)
    out = [(n, d, e) for n, (_, d, e) in cases.items()]

    vw = cv2.VideoWriter(str(folder / "zero_frames.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 25, (320, 240))
    vw.release()
    out.append(("zero_frames.mp4", "a video with zero frames", "error:no video frames"))
    vw = cv2.VideoWriter(str(folder / "ok.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 25, (512, 512))
    for i in range(40):
        vw.write(cv2.cvtColor(np.roll(face, i, axis=1), cv2.COLOR_RGB2BGR))
    vw.release()
    good = (folder / "ok.mp4").read_bytes()
    (folder / "truncated.mp4").write_bytes(good[: len(good) // 3])
    out.append(("truncated.mp4", "an mp4 cut to a third", "error:truncated"))
    with wave.open(str(folder / "audio_only.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.sin(np.arange(32000) / 10) * 8000).astype(np.int16).tobytes())
    out.append(("audio_only.wav", "an audio-only file (WAV)", "error:audio file"))
    (folder / "audio_only.mp4").write_bytes((folder / "audio_only.wav").read_bytes())
    out.append(("audio_only.mp4", "audio-only data named .mp4", "error:audio file"))
    out.append(("ok.mp4", "a normal video (control)", "faces>=1"))
    return out


def check(result, expected: str) -> bool:
    if expected.startswith("error:"):
        return result.verdict == "error" and expected[6:] in (result.message or "")
    if expected == "no_face":
        return result.verdict == "no_face" and result.fake_probability is None
    return result.verdict in ("real", "fake") and len(result.faces) >= int(expected.split(">=")[1])


def main() -> int:
    import tempfile

    from detector.pipeline import Detector

    det = Detector()
    folder = Path(tempfile.mkdtemp(prefix="battery-"))
    print("| input | outcome | message |\n|---|---|---|")
    ok = True
    for name, what, expected in make_battery(folder):
        r = det.analyse_path(folder / name, n_frames=8)
        good = check(r, expected)
        ok &= good
        outcome = r.verdict if r.verdict in ("error", "no_face") else f"{r.verdict}, {len(r.faces)} face(s)"
        print(f"| {what} (`{name}`) | {outcome}{'' if good else ' **UNEXPECTED**'} | {r.message or ''} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
