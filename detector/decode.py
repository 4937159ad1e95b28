"""Decode stage: files -> RGB uint8 arrays. Images with Pillow, videos streamed with OpenCV.

Limits are deliberate (see README "Limits"): they keep a hostile or huge upload from exhausting memory/time.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from .errors import InputError

# The formats as users are told them (the app, the CLI's errors, README: tests/test_units.py holds README to them);
# the extensions accepted add the other spellings of the same formats.
IMAGE_FORMATS = ("jpg", "png", "webp", "bmp", "gif", "tiff")
VIDEO_FORMATS = ("mp4", "mov", "avi", "webm", "mkv", "m4v", "mpg")
_SPELLINGS = {"jpg": ("jpeg",), "tiff": ("tif",), "mpg": ("mpeg",)}
IMAGE_EXTENSIONS = {f".{e}" for f in IMAGE_FORMATS for e in (f, *_SPELLINGS.get(f, ()))}
VIDEO_EXTENSIONS = {f".{e}" for f in VIDEO_FORMATS for e in (f, *_SPELLINGS.get(f, ()))}
ACCEPTED_FORMATS = f"a photo ({', '.join(IMAGE_FORMATS)}) or a video ({', '.join(VIDEO_FORMATS)})"

MAX_IMAGE_PIXELS = 50_000_000  # 50 MP: larger is refused before decoding (decompression bombs)
MAX_VIDEO_SECONDS = 3 * 60 * 60  # 3 h; sampling keeps time bounded below that
MAX_COUNT_SCAN = 200_000  # frames we will read to count a video whose container gives no count
# Sampled frames further apart than this are reached by seeking; closer ones by decoding through.
# Sequential grab() of 32 frames from 300 costs ~0.5 s, 32 seeks ~1 s (GUIDE); a seek pays off once the gap
# skipped costs more to decode than one seek (~30 ms ~ 60 grabs at 1080p).
SEEK_MIN_GAP = 60


def kind_of(path: str) -> str | None:
    ext = os.path.splitext(path)[1].lower()
    if ext in IMAGE_EXTENSIONS:
        return "image"
    if ext in VIDEO_EXTENSIONS:
        return "video"
    return None


def load_image(source) -> np.ndarray:
    """Path, bytes or file-like -> RGB uint8 (H, W, 3), EXIF orientation applied. Raises InputError."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise InputError("The file is empty.")
        source = io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)) and os.path.getsize(source) == 0:
        raise InputError("The file is empty.")
    try:
        with Image.open(source) as im:
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                raise InputError(
                    f"The image is too large: {w}x{h} pixels (limit {MAX_IMAGE_PIXELS // 1_000_000} megapixels)."
                )
            if w < 2 or h < 2:
                raise InputError(f"The image is only {w}x{h} pixels: too small to contain a face.")
            im.seek(0)  # animated GIF/WebP: the first frame
            # In place and no conversion of what is already RGB: each copy of a 50 MP picture is 150 MB.
            ImageOps.exif_transpose(im, in_place=True)
            return _to_rgb(im)
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError("This is not an image format that can be read (or the file is not an image).") from None
    except Image.DecompressionBombError:
        raise InputError(f"The image is too large: it declares too many pixels (limit {MAX_IMAGE_PIXELS // 1_000_000} megapixels).") from None
    except (OSError, SyntaxError, ValueError):  # Pillow's own wording ("image file is truncated (9 bytes not
        # processed)") means nothing to a user and nested in ours read badly
        raise InputError("The image is truncated or corrupt: part of the file is missing or damaged.") from None


def _to_rgb(im) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(im, dtype=np.float64)
        a = (255.0 * (a - a.min()) / max(a.max() - a.min(), 1.0)).astype(np.uint8)  # 16-bit -> 8-bit
        return np.ascontiguousarray(np.stack([a] * 3, axis=-1))
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        from PIL import Image

        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, im)
    return np.ascontiguousarray(np.asarray(im if im.mode == "RGB" else im.convert("RGB"), dtype=np.uint8))


@dataclass
class VideoInfo:
    frame_count: int
    fps: float
    width: int
    height: int

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps if self.fps > 0 else 0.0


def _open(path: str):
    import cv2

    if os.path.getsize(path) == 0:
        raise InputError("The file is empty.")
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise InputError(f"The video cannot be opened: {_why_unreadable(path)}")
    return cap


def _why_unreadable(path: str) -> str:
    """A specific reason for a file OpenCV cannot open, from its first bytes (and, for MP4, its boxes)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[4:8] == b"ftyp":  # MP4 / MOV family: look for the index and a video track
            f.seek(0)
            data = f.read(256 * 1024 * 1024)
            if b"moov" not in data:
                return "the MP4 file is incomplete (truncated: its index is missing)."
            if b"vide" not in data:
                return "the MP4 file has no video frames (an empty video, or audio only)."
            return "the MP4 file holds no decodable frames (empty or corrupt)."
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "this is an audio file (WAV): there is no picture to analyse."
    if head[:3] == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2") or head[:4] == b"fLaC":
        return "this is an audio file: there is no picture to analyse."
    if head[:4] == b"\x7fELF" or head[:2] == b"MZ":
        return "this is a program, not a video."
    return "the format is unsupported or the file is corrupt."


def probe_video(path: str) -> VideoInfo:
    """Frame count, fps and size as the container reports them (the count may be wrong; see sample_frames)."""
    import cv2

    cap = _open(path)
    try:
        info = VideoInfo(
            frame_count=int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0),
            fps=float(cap.get(cv2.CAP_PROP_FPS) or 0.0),
            width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0),
            height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0),
        )
    finally:
        cap.release()
    if info.fps <= 0 or info.fps > 1000:
        info.fps = 25.0  # unknown rate: times are approximate
    return info


def _count_frames(path: str) -> int:
    cap = _open(path)
    n = 0
    try:
        while n < MAX_COUNT_SCAN and cap.grab():
            n += 1
    finally:
        cap.release()
    return n


def sample_indices(frame_count: int, n: int) -> list[int]:
    """n evenly spaced frame indices in [0, frame_count), centred in their slots, no repeats."""
    if frame_count <= 0 or n <= 0:
        return []
    n = min(n, frame_count)
    return sorted({int((i + 0.5) * frame_count / n) for i in range(n)})


def _read_at(path: str, indices: list[int]) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (index, BGR frame) for the wanted indices; stops early if the stream ends first."""
    import cv2

    cap = _open(path)
    try:
        pos = 0
        for idx in indices:
            if idx - pos >= SEEK_MIN_GAP:
                cap.set(cv2.CAP_PROP_POS_FRAMES, idx)
                pos = idx
            ok = True
            while pos < idx and ok:
                ok = cap.grab()
                pos += 1
            if not ok:
                return
            ok, frame = cap.read()
            pos += 1
            if not ok or frame is None:
                return
            yield idx, frame
    finally:
        cap.release()


def sample_frames(
    path: str, n: int = 32, progress: Callable[[int, int], None] | None = None
) -> Iterator[tuple[int, float, np.ndarray]]:
    """Stream n evenly spaced frames as (frame index, time in s, RGB uint8) without holding the video.

    Containers can lie about their frame count: when the count is missing the frames are counted first;
    when the stream ends before the reported count, sampling is redone over the frames that really exist."""
    import cv2

    info = probe_video(path)
    count = info.frame_count if info.frame_count > 0 else _count_frames(path)
    if count <= 0:
        raise InputError("The video has no frames that can be decoded.")
    if count / info.fps > MAX_VIDEO_SECONDS:
        raise InputError(f"The video is longer than the {MAX_VIDEO_SECONDS // 3600} h limit.")
    wanted = sample_indices(count, n)
    seen: set[int] = set()
    for idx, frame in _read_at(path, wanted):
        seen.add(idx)
        if progress:
            progress(len(seen), len(wanted))
        yield idx, idx / info.fps, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    if len(seen) == len(wanted):
        return
    # The container overstated its length: count the frames that really exist and fill the missing samples
    # evenly over them. Frames then arrive out of order; callers sort by index.
    real = _count_frames(path)
    if not seen and real == 0:
        raise InputError("The video has no frames that can be decoded (truncated or corrupt).")
    spare = [i for i in sample_indices(real, n) if i not in seen]
    missing = min(n - len(seen), len(spare))
    rest = sorted({spare[int(k * len(spare) / missing)] for k in range(missing)}) if missing > 0 else []
    total = len(seen) + len(rest)
    for idx, frame in _read_at(path, rest):
        seen.add(idx)
        if progress:
            progress(len(seen), total)
        yield idx, idx / info.fps, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def prefetch(iterable, depth: int = 8):
    """Run a generator in a background thread, `depth` items ahead: OpenCV decoding (which releases the GIL)
    overlaps with face detection instead of waiting for it. Exceptions are re-raised in the consumer."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def worker():
        try:
            for item in iterable:
                if stop.is_set():
                    return
                q.put(item)
            q.put(done)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            q.put(e)

    t = threading.Thread(target=worker, daemon=True, name="frame-decoder")
    t.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while t.is_alive():  # unblock a worker waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                t.join(0.05)
