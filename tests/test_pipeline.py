"""Integration: real MTCNN, real crop, real Keras EfficientNetV2B0 (tiny, untrained) on real pixels."""
import io
import json

import numpy as np
import pytest
from PIL import Image

from detector.errors import ModelError
from detector.model import Classifier, load_classifier


def test_image_full_path(detector, astronaut):
    r = detector.analyse_image(astronaut, name="astronaut")
    assert r.verdict in ("real", "fake") and r.kind == "image"
    assert len(r.faces) == 1
    face = r.faces[0]
    x1, y1, x2, y2 = face.box
    assert 150 < (x1 + x2) / 2 < 260 and 60 < (y1 + y2) / 2 < 170  # Eileen Collins' face
    assert set(face.landmarks) == {"left_eye", "right_eye", "nose", "mouth_left", "mouth_right"}
    assert 0.0 <= face.fake_probability <= 1.0
    assert r.fake_probability == pytest.approx(face.fake_probability)
    assert r.verdict == ("fake" if r.fake_probability >= r.threshold else "real")
    json.loads(r.to_json())  # serialisable, pixels excluded
    assert "artifacts" not in r.to_dict()


def test_downscaled_detection_maps_boxes_back(detector, astronaut):
    big = np.asarray(Image.fromarray(astronaut).resize((2048, 2048)))  # detected at 640, boxes scaled x4
    small_box = detector.analyse_image(astronaut).faces[0].box
    big_box = detector.analyse_image(big).faces[0].box
    assert np.allclose(np.array(big_box) / 4, small_box, atol=12)


def test_same_crop_same_score(detector, astronaut):
    a = detector.analyse_image(astronaut).fake_probability
    buf = io.BytesIO()
    Image.fromarray(astronaut).save(buf, "PNG")
    assert detector.analyse_image(buf.getvalue()).fake_probability == pytest.approx(a, abs=1e-5)


def test_empty_batch(detector):
    assert detector.analyse_images([], []) == []


def test_no_face_is_explicit(detector):
    r = detector.analyse_image(np.full((300, 400, 3), 128, np.uint8))
    assert r.verdict == "no_face" and r.fake_probability is None and "No face" in r.message


def test_video_full_path(detector, face_video):
    seen = []
    r = detector.analyse_video(str(face_video), n_frames=8, progress=lambda d, t: seen.append((d, t)), keep_frames=True)
    assert r.kind == "video" and r.verdict in ("real", "fake")
    assert len(r.frames) == 8 and seen[-1] == (8, 8)
    assert len(r.persons) == 1 and r.persons[0].n_faces == 8  # one person tracked through every frame
    assert r.fake_probability == pytest.approx(r.persons[0].fake_probability)
    assert set(r.strategy_scores) == {"mean", "max_face_mean", "confident_mean"}
    assert set(r.timings) == {"decode", "detect", "classify", "aggregate"}
    assert len(r.artifacts["frames"]) == 8
    json.loads(r.to_json())


def test_video_without_faces(detector, blank_video):
    r = detector.analyse_video(str(blank_video), n_frames=6)
    assert r.verdict == "no_face" and r.fake_probability is None and len(r.frames) == 6


def test_analyse_path_never_raises_for_bad_files(detector, tmp_path):
    bad = tmp_path / "photo.jpg"
    bad.write_text("this is text")
    r = detector.analyse_path(bad)
    assert r.verdict == "error" and "not an image" in r.message and r.fake_probability is None
    missing = detector.analyse_path(tmp_path / "nope.png")
    assert missing.verdict == "error" and "No such file" in missing.message
    vid = tmp_path / "clip.mp4"
    vid.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 50)
    assert detector.analyse_path(vid).verdict == "error"


def test_model_card_contract(tiny_models_dir, tmp_path):
    clf = load_classifier(models_dir=tiny_models_dir)
    assert clf.input_size == 64 and "CPU" in clf.device_description or "GPU" in clf.device_description
    crops = [np.zeros((50, 40, 3), np.uint8), np.full((300, 300, 3), 200, np.uint8)]
    p = clf.score(crops)
    assert p.shape == (2,) and ((0 <= p) & (p <= 1)).all()
    (tmp_path / "m.keras").write_bytes((tiny_models_dir / "tiny.keras").read_bytes())
    (tmp_path / "m.json").write_text(json.dumps({"name": "m", "input_size": 96}))
    with pytest.raises(ModelError, match="input_size"):
        Classifier(tmp_path / "m.keras")
    with pytest.raises(ModelError, match="No model"):
        load_classifier(models_dir=tmp_path / "empty")


def test_tracked_detection_matches_full_detection(detector, astronaut):
    """Window search between keyframes finds the same face, in the same place, as whole-frame search."""
    frames = [np.roll(astronaut, (2 * i, 3 * i), axis=(0, 1)) for i in range(10)]
    full = detector.faces.detect(frames)
    tracked = detector.faces.detect_tracked(frames, key_every=4)
    assert [len(f) for f in tracked] == [1] * 10
    for a, b in zip(full, tracked):
        assert np.abs(np.array(a[0].box) - np.array(b[0].box)).max() < 12
    # a face that appears after a face-less keyframe is still found (that frame is searched whole)
    blank = np.full_like(astronaut, 100)
    found = detector.faces.detect_tracked([blank, astronaut, astronaut], key_every=4)
    assert [len(f) for f in found] == [0, 1, 1]
