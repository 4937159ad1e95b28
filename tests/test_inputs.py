"""Bad and unusual input: every case gives a specific InputError message (never a traceback), and the
odd-but-valid image modes are converted correctly."""
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from detector.decode import load_image, probe_video, sample_frames
from detector.errors import InputError

from helpers import write_video


def png_bytes(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=kw.pop("format", "PNG"), **kw)
    return buf.getvalue()


def bomb_png(w=30000, h=30000) -> bytes:
    """A tiny PNG whose header declares w x h pixels."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "payload, expected",
    [
        (b"", "empty"),
        (b"hello, I am a text file\n" * 10, "not an image"),
        (b"\x7fELF\x02\x01\x01" + b"\0" * 200, "not an image"),
        (bomb_png(), "too large"),
    ],
)
def test_bad_image_bytes(payload, expected):
    with pytest.raises(InputError, match=expected):
        load_image(payload)


def test_truncated_jpeg_and_png(astronaut):
    for fmt in ("JPEG", "PNG"):
        data = png_bytes(Image.fromarray(astronaut), format=fmt)
        with pytest.raises(InputError, match="truncated or corrupt") as e:
            load_image(data[: len(data) // 2])
        assert "(" not in str(e.value)  # our words only, not Pillow's nested "(9 bytes not processed)"


def test_one_pixel_image():
    with pytest.raises(InputError, match="too small"):
        load_image(png_bytes(Image.new("RGB", (1, 1))))


@pytest.mark.parametrize("mode", ["CMYK", "L", "P", "RGBA", "I;16", "LA"])
def test_image_modes_become_rgb(astronaut, mode):
    im = Image.fromarray(astronaut)
    if mode == "I;16":
        im = Image.fromarray((np.asarray(im.convert("L")).astype(np.uint16) * 257))
        fmt = "PNG"
    else:
        im = im.convert(mode)
        fmt = "JPEG" if mode == "CMYK" else "PNG"
    out = load_image(png_bytes(im, format=fmt))
    assert out.shape == (512, 512, 3) and out.dtype == np.uint8
    assert out.std() > 10  # real content survived the conversion


def test_exif_rotation_is_applied(astronaut):
    im = Image.fromarray(astronaut[:, :400])  # 400 wide, 512 high
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    out = load_image(png_bytes(im, format="JPEG", exif=exif))
    assert out.shape[:2] == (400, 512)


def test_animated_gif_uses_first_frame(astronaut):
    frames = [Image.fromarray(astronaut), Image.fromarray(255 - astronaut)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    out = load_image(buf.getvalue())
    assert out.shape == (512, 512, 3)


def test_video_not_a_video(tmp_path):
    p = tmp_path / "notes.mp4"
    p.write_text("not a video at all\n" * 100)
    with pytest.raises(InputError, match="cannot be opened"):
        list(sample_frames(str(p)))
    e = tmp_path / "empty.mp4"
    e.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        list(sample_frames(str(e)))


def test_truncated_mp4(tmp_path, face_video):
    data = face_video.read_bytes()
    p = tmp_path / "cut.mp4"
    p.write_bytes(data[: len(data) // 3])  # mp4v from OpenCV: index at the end, so this is unreadable
    with pytest.raises(InputError):
        list(sample_frames(str(p)))


def test_sampling_streams_evenly(face_video):
    got = list(sample_frames(str(face_video), 10))
    assert len(got) == 10
    idx = [i for i, _, _ in got]
    assert idx == sorted(set(idx)) and idx[-1] < 50
    assert got[1][1] == pytest.approx(idx[1] / 25.0)


def test_container_that_overstates_its_length(tmp_path, astronaut):
    """An AVI cut in half still claims all its frames; sampling must adapt to the frames that exist."""
    frames = [np.roll(astronaut, 3 * i, axis=1)[::2, ::2] for i in range(120)]
    full = write_video(tmp_path / "full.avi", frames, fourcc="MJPG")
    data = full.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    claimed = probe_video(str(cut)).frame_count
    got = [i for i, _, _ in sample_frames(str(cut), 16)]
    if claimed <= 60:
        pytest.skip(f"this OpenCV build re-counts truncated AVIs ({claimed} frames)")
    assert len(got) >= 12, got  # most of the 16 samples still come back...
    assert len(set(got)) == len(got) <= 16
    assert max(got) < 70  # ...from the half that exists, spread over all of it
    assert max(got) - min(got) > 40
