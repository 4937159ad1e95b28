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


def test_detection_finds_what_mtcnn_as_shipped_finds(detector, astronaut):
    """FaceDetector hands mtcnn's stages the image batch as one tensor (detector.faces._OneTensor); the boxes must be
    those of mtcnn untouched, also on a batch of two sizes (padded) and on a new picture after it (no stale tensor)."""
    from mtcnn import MTCNN

    flipped = np.ascontiguousarray(astronaut[::2, ::-1])  # another size, the face elsewhere
    shipped = MTCNN()
    for batch in ([astronaut], [astronaut, flipped], [flipped]):
        ours = detector.faces.detect(batch)
        theirs = shipped.detect_faces(batch, box_format="xyxy")
        for faces, dets in zip(ours, theirs):
            want = sorted((d for d in dets if d["confidence"] >= detector.faces.min_confidence), key=lambda d: -d["confidence"])
            assert len(faces) == len(want) >= 1
            for f, d in zip(faces, want):
                assert np.allclose(f.box, d["box"], atol=1.0)


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
    assert r.strategy_scores[r.strategy] == r.fake_probability  # the same rule as the reported score
    assert set(r.timings) == {"decode", "detect", "classify", "aggregate", "evidence"}
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


def _tight_crop(astronaut, shrink: float, scale: int = 1):
    """The astronaut's face box (182,64)-(265,171) shrunk by `shrink` of its size on every side."""
    import cv2

    x1, y1, x2, y2 = 182, 64, 265, 171
    w, h = x2 - x1, y2 - y1
    crop = np.ascontiguousarray(astronaut[int(y1 + shrink * h):int(y2 - shrink * h), int(x1 + shrink * w):int(x2 - shrink * w)])
    return cv2.resize(crop, None, fx=scale, fy=scale) if scale > 1 else crop


def test_close_up_is_found_with_context(detector, astronaut):
    """MTCNN misses a face that fills the picture; a padded copy gives it context, boxes come back mapped."""
    crop = _tight_crop(astronaut, 0.1)
    assert detector.faces.detect([crop]) == [[]]
    [found] = detector.faces.detect_padded([crop])
    assert len(found) == 1
    x1, y1, x2, y2 = found[0].box
    h, w = crop.shape[:2]  # the face is centred in the crop and a little larger than it
    assert abs((x1 + x2) / 2 - w / 2) < 0.2 * w and abs((y1 + y2) / 2 - h / 2) < 0.2 * h and x2 - x1 > w
    r = detector.analyse_image(crop)
    assert r.verdict in ("real", "fake") and r.faces[0].confidence > 0.8 and not r.message


def test_tight_crop_is_scored_whole_and_says_so(detector, astronaut):
    from detector.pipeline import WHOLE_IMAGE_MESSAGE

    crop = _tight_crop(astronaut, 0.2, scale=3)  # 192x150: no face even padded, but a face close-up
    assert detector.faces.detect_padded([crop]) == [[]]
    r = detector.analyse_image(crop)
    assert r.verdict in ("real", "fake") and r.message == WHOLE_IMAGE_MESSAGE
    assert len(r.faces) == 1 and r.faces[0].confidence == 0.0 and r.faces[0].box == (0.0, 0.0, 150.0, 192.0)


@pytest.mark.parametrize("shape", [(360, 640), (480, 480), (40, 40)])
def test_no_face_is_never_invented(detector, shape):
    """A wide picture, a flat square one and a tiny one without faces stay "no face", with advice."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (*shape, 3), dtype=np.uint8) if shape[1] > shape[0] or shape[0] < 64 \
        else np.full((*shape, 3), 120, np.uint8)
    r = detector.analyse_image(image)
    assert r.verdict == "no_face" and r.fake_probability is None and "closer crop" in r.message


@pytest.mark.parametrize("kind", ["image", "video"])
def test_a_picture_too_thin_to_shrink_is_no_face_not_a_crash(detector, tmp_path, kind):
    """Regression, found by bench/fuzz.py (990 mutated videos): frames 3570 px wide and 2 px high shrunk to
    640 px wide for MTCNN had zero height and OpenCV raised. The minimal input: such a picture or clip."""
    from helpers import write_video
    from webui.resources import analyse_upload

    thin = np.random.default_rng(0).integers(0, 255, (2, 3570, 3), dtype=np.uint8)
    if kind == "image":
        path = tmp_path / "thin.png"
        Image.fromarray(thin).save(path)
    else:
        path = write_video(tmp_path / "thin.mp4", [thin] * 10)
        import cv2

        ok, frame = cv2.VideoCapture(str(path)).read()
        assert ok and frame.shape[:2] == (2, 3570)  # the clip really has such frames
    for r in (detector.analyse_path(path), analyse_upload(detector, path.name, path.read_bytes())):
        assert r.verdict == "no_face" and "No face" in r.message


def test_a_long_picture_is_shrunk_before_it_is_framed(detector, tmp_path, monkeypatch):
    """Regression, found by bench/fuzz.py (libFuzzer's 3 GB memory limit): a faceless GIF declaring 65408x383 px
    was framed for MTCNN's second look (detect_padded) at full size, a 98112x33087 copy: 9.7 GB and 27 s. No
    copy given to face detection may be larger than the picture itself. The minimal input: a long, faceless
    picture (a smaller one here, whose framed copy would still be 3.3 times its size)."""
    from webui.resources import analyse_upload

    sizes = []
    detect = detector.faces.detect

    def spy(images):
        sizes.extend(im.shape[0] * im.shape[1] for im in images)
        return detect(images)

    monkeypatch.setattr(detector.faces, "detect", spy)
    long = np.tile(np.linspace(0, 255, 20000, dtype=np.uint8)[None, :, None], (300, 1, 3))
    path = tmp_path / "long.gif"
    Image.fromarray(long).save(path)
    for r in (detector.analyse_path(path), analyse_upload(detector, path.name, path.read_bytes())):
        assert r.verdict == "no_face"
    assert len(sizes) >= 4 and max(sizes) <= 300 * 20000  # the plain look and the framed look, both paths


def test_mtcnn_networks_trace_once_and_find_what_shape_by_shape_tracing_found(detector, astronaut, monkeypatch):
    """Each MTCNN network is traced once, whatever the batch and picture sizes (faces.OPEN_SHAPES), and finds
    exactly the boxes, confidences and landmarks of graphs traced shape by shape (reduce_retracing alone)."""
    import cv2

    from detector import faces

    pictures = [astronaut, cv2.resize(astronaut, (700, 400)), np.ascontiguousarray(astronaut[:300, 100:])]
    found = [detector.faces.detect([p]) for p in pictures] + [detector.faces.detect(pictures[:1] * 3)]
    assert [s.stage._model.experimental_get_tracing_count() for s in detector.faces._mtcnn._stages] == [1, 1, 1]
    monkeypatch.setattr(faces, "OPEN_SHAPES", {})
    shape_by_shape = faces.FaceDetector()
    assert found == [shape_by_shape.detect([p]) for p in pictures] + [shape_by_shape.detect(pictures[:1] * 3)]
    assert all(fs[0] for fs in found)  # a face in each, so boxes were compared


def test_model_loads_its_saved_weights_as_a_plain_keras_load_does(tiny_models_dir, astronaut):
    """weights.load_keras_model creates each variable from the file's value (no initialiser, then assign): every
    weight equal to keras.saving.load_model's, bit for bit, and so the scores."""
    import keras

    from detector.weights import load_keras_model

    path = tiny_models_dir / "tiny.keras"
    fast, plain = load_keras_model(path), keras.saving.load_model(path, compile=False, safe_mode=True)
    saved = [(v.path, v.numpy()) for v in plain.variables if "seed_generator" not in v.path]  # random at each load
    ours = [(v.path, v.numpy()) for v in fast.variables if "seed_generator" not in v.path]
    assert len(ours) == len(saved) > 100
    assert all(a == b and x.dtype == y.dtype and np.array_equal(x, y) for (a, x), (b, y) in zip(ours, saved))
    crop = np.asarray(astronaut[:64, 200:264], np.float32)[None]
    assert np.array_equal(fast(crop, training=False).numpy(), plain(crop, training=False).numpy())
    assert not keras.src.backend.common.global_state.get_global_attribute("uninitialized_variables")


def test_mtcnn_networks_hold_their_shipped_weights(detector):
    """FaceDetector builds MTCNN inside weights.created_from_assigned_values: the same weights as mtcnn as shipped."""
    from mtcnn import MTCNN

    shipped = [v.numpy() for s in MTCNN(device="CPU:0").stages for v in s._model.variables]
    ours = [v.numpy() for s in detector.faces._mtcnn._stages for v in s.stage._model.python_function.variables]
    assert len(ours) == len(shipped) == 50 and all(np.array_equal(a, b) for a, b in zip(ours, shipped))
