"""Security: models load in Keras safe mode, uploads leave no files behind, names never become paths."""
import json
import os
import tempfile

import pytest

from detector.errors import ModelError


def test_model_with_python_code_is_refused(tmp_path):
    """A .keras file with a Lambda layer (arbitrary Python) must not load."""
    import keras

    inp = keras.Input((8, 8, 3))
    out = keras.layers.Lambda(lambda x: x[:, :1, :1, :1] * 0 + 1)(inp)
    keras.Model(inp, keras.layers.Flatten()(out)).save(tmp_path / "evil.keras")
    (tmp_path / "evil.json").write_text(json.dumps({"name": "evil", "input_size": 8}))
    from detector.model import Classifier

    with pytest.raises(ModelError, match="cannot be loaded safely"):
        Classifier(tmp_path / "evil.keras")


def test_video_upload_temp_file_is_removed_and_named_by_us(detector, face_video, monkeypatch):
    from webui.resources import analyse_upload

    seen = []
    real_mkstemp = tempfile.mkstemp

    def spy(*a, **kw):
        fd, path = real_mkstemp(*a, **kw)
        seen.append(path)
        return fd, path

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    r = analyse_upload(detector, "../../etc/evil name.mp4", face_video.read_bytes())
    assert r.verdict in ("real", "fake")
    assert len(seen) == 1
    assert os.path.dirname(seen[0]) == tempfile.gettempdir()  # the user's name did not become a path
    assert "evil" not in seen[0] and seen[0].endswith(".mp4")
    assert not os.path.exists(seen[0])  # removed after the analysis


def test_failed_video_upload_also_removes_its_temp_file(detector, monkeypatch):
    from detector.errors import InputError
    from webui.resources import analyse_upload

    seen = []
    real_mkstemp = tempfile.mkstemp
    monkeypatch.setattr(tempfile, "mkstemp", lambda *a, **kw: seen.append(real_mkstemp(*a, **kw)) or seen[-1])
    with pytest.raises(InputError):
        analyse_upload(detector, "clip.mp4", b"not a video" * 10)
    assert seen and not os.path.exists(seen[0][1])
