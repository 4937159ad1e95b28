"""bench/aggregation_clips.py's labelled clips: a real clip written with OpenCV, its self-blended twin and the
twin whose blend starts mid-clip are readable, full length, and blended exactly where they should be."""
from pathlib import Path

import numpy as np

from bench.aggregation_clips import make_clips


def read_all(path: Path) -> list[np.ndarray]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f.astype(np.float32))
    cap.release()
    return frames


def test_real_fake_and_partial_clips(tmp_path, astronaut, detector):
    out = {k: tmp_path / f"astronaut_{k}.mp4" for k in ("real", "fake", "partial")}
    facts = make_clips(astronaut, out, detector.faces, seed=1, n=12, fps=10, size=(480, 270))
    assert facts is not None and facts["face_found"] >= 11
    clips = {k: read_all(p) for k, p in out.items()}
    assert all(len(v) == 12 and v[0].shape == (270, 480, 3) for v in clips.values())
    diff = {k: [float(np.abs(a - b).mean()) for a, b in zip(clips["real"], clips[k])] for k in ("fake", "partial")}
    start = facts["partial_start"]
    assert 4 <= start <= 9
    assert min(diff["fake"]) > 0.05  # every frame blended (the face is a small part of the frame)
    assert max(diff["partial"][:start]) < 0.01  # before the swap: the real clip's frames
    assert min(diff["partial"][start:]) > 0.05


def test_no_clip_when_the_face_is_missed(tmp_path, astronaut):
    class NoFaces:
        def detect(self, frames):
            return [[] for _ in frames]

    out = {"real": tmp_path / "r.mp4", "fake": tmp_path / "f.mp4"}
    assert make_clips(astronaut, out, NoFaces(), seed=1, n=6, size=(320, 180)) is None
    assert not any(p.exists() for p in out.values())
