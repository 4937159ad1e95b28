""""Unlike anything it was trained on" (detector.ood): the fit and the distance on synthetic features, the stats
file's checks, the bundled model's features and scores from one call, and every output that carries the flag."""
import hashlib
import json
import shutil

import numpy as np
import pytest
from helpers import app_page
from PIL import Image

from conftest import ROOT
from detector.errors import ModelError
from detector.model import available_models
from detector.ood import OodStats, fit, load_stats, stats_path, weighted_quantile
from detector.results import FaceResult, unfamiliar_summary
from training.ood import write

BUNDLED = next(iter(available_models(ROOT / "models").values()))  # the default comes first


def blobs(seed: int, n: int = 400, d: int = 24):
    """Two classes (1 apart on the first axis) whose spread differs 60-fold from the first axis to the last."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    x = rng.normal(size=(n, d)) * np.geomspace(3, 0.05, d) + 5
    x[:, 0] += y
    return x, y


def test_distance_is_the_mahalanobis_distance_to_the_nearest_class_mean():
    x, y = blobs(0)
    stats = fit(x, y, components=24, normalise=False)
    means = np.stack([x[y == c].mean(0) for c in (0, 1)])
    inv = np.linalg.inv((x - means[y]).T @ (x - means[y]) / (len(x) - 2))  # the covariance the classes share
    q = blobs(1, n=10)[0] + np.random.default_rng(2).normal(size=(10, 24))
    exact = np.min([np.sqrt(np.einsum("ij,jk,ik->i", q - m, inv, q - m)) for m in means], axis=0)
    np.testing.assert_allclose(stats.distance(q), exact, rtol=1e-4)


def test_a_far_face_is_flagged_an_ordinary_one_is_not():
    x, y = blobs(0)
    stats = fit(x, y, components=8)
    stats = OodStats(stats.means, stats.projection, weighted_quantile([stats.distance(blobs(1)[0])], 0.95))
    ordinary = x[y == 0].mean(0)
    far = ordinary.copy()
    far[3] += 10 * np.geomspace(3, 0.05, 24)[3]  # 10 standard deviations along one axis (among the top 8 kept)
    assert stats.flag(stats.distance([ordinary, far])).tolist() == [False, True]
    assert 0.02 < stats.flag(stats.distance(blobs(2, n=2000)[0])).mean() < 0.09  # about 5 % of new ordinary ones


def test_weighted_quantile_weighs_each_source_the_same():
    big, small = np.arange(100.0), np.array([1000.0])
    assert weighted_quantile([big, small], 0.5) == 99  # the big source's 100 values weigh as much as the one
    assert weighted_quantile([big, small], 0.6) == 1000  # unweighted, the 60 % quantile would be 60
    assert weighted_quantile([big], 0.95) == 94


def test_unfamiliar_summary():
    face = lambda flag: FaceResult(box=(0, 0, 1, 1), confidence=1, landmarks={}, fake_probability=0.5,  # noqa: E731
                                   verdict="real", unfamiliar=flag)
    assert unfamiliar_summary([]) == unfamiliar_summary([face(None)]) == (None, None)
    assert unfamiliar_summary([face(True)]) == (True, 1.0)
    assert unfamiliar_summary([face(True), face(False)]) == (True, 0.5)
    assert unfamiliar_summary([face(True), face(False), face(False)]) == (False, pytest.approx(1 / 3))


@pytest.fixture
def stored(tmp_path):
    """A card and stats written as training.ood writes them (for a model file that need not exist here)."""
    x, y = blobs(0)
    stats = fit(x, y, components=8)
    model = tmp_path / "m.keras"
    (tmp_path / "m.json").write_text(json.dumps({"name": "m", "input_size": 64}))
    write(model, OodStats(stats.means, stats.projection, 3.5), {"components": 8})
    return model, stats


def card_of(model):
    return json.loads(model.with_suffix(".json").read_text())


def test_stats_file_round_trip_and_what_is_refused(stored):
    model, stats = stored
    card = card_of(model)
    assert card["ood"]["threshold"] == 3.5 and stats_path(model).name == "m.ood.npz"
    assert stats_path(model).stat().st_size < 10_000
    loaded = load_stats(model, card, dim=24)
    x = blobs(3, n=20)[0]
    np.testing.assert_allclose(loaded.distance(x), stats.distance(x), rtol=1e-6)
    assert loaded.threshold == 3.5 and loaded.normalise
    assert load_stats(model, {"name": "m"}) is None  # a card without "ood": no OOD score, no error
    with pytest.raises(ModelError, match="has 25"):
        load_stats(model, card, dim=25)  # stats for another layer width

    def rewritten(**arrays):  # a changed file whose SHA-256 the card names, so only its content is judged
        with open(stats_path(model), "wb") as f:
            np.savez(f, **{"format": 1, "means": stats.means, "projection": stats.projection, "normalise": True,
                           **arrays})
        card["ood"]["stats_sha256"] = hashlib.sha256(stats_path(model).read_bytes()).hexdigest()

    rewritten(projection=np.full((24, 8), np.nan, np.float32))
    with pytest.raises(ModelError, match="non-finite"):
        load_stats(model, card)
    rewritten(means=np.array([object()], dtype=object))  # needs pickle to load: refused, never unpickled
    with pytest.raises(ModelError, match="unreadable"):
        load_stats(model, card)
    rewritten(projection=np.zeros((23, 8), np.float32))
    with pytest.raises(ModelError, match="malformed"):
        load_stats(model, card)
    stats_path(model).write_bytes(b"not a zip file")
    with pytest.raises(ModelError, match="other weights"):  # the card names another file
        load_stats(model, card)
    card["ood"]["stats_sha256"] = hashlib.sha256(b"not a zip file").hexdigest()
    with pytest.raises(ModelError, match="unreadable"):
        load_stats(model, card)
    stats_path(model).unlink()
    assert load_stats(model, card) is None  # the file missing: no OOD score, no error


# ---------------------------------------------------------------- the bundled model
@pytest.fixture(scope="module")
def bundled():
    from detector.model import Classifier

    return Classifier(BUNDLED)


def deck_faces(n: int = 8) -> list[np.ndarray]:
    from detector.decode import load_image

    return [load_image(p) for p in sorted((ROOT / "data" / "game_deck" / "Real").glob("*.jpg"))[:n]]


def test_bundled_model_scores_and_features_come_from_one_call(bundled, monkeypatch):
    assert bundled.ood is not None and stats_path(BUNDLED).stat().st_size < 1_000_000
    faces = deck_faces(4) + [np.full((100, 100, 3), 128, np.uint8)]
    p, features = bundled.score_and_features(faces)
    ood = bundled.ood
    monkeypatch.setattr(bundled, "ood", None)  # the plain scoring path, as for a model without stats
    np.testing.assert_allclose(p, bundled.score(faces), atol=1e-6)
    monkeypatch.setattr(bundled, "ood", ood)

    def no_second_pass(_):
        raise AssertionError("a second forward pass")

    monkeypatch.setattr(bundled, "_score", no_second_pass)
    p2, d = bundled.assess(faces)
    np.testing.assert_allclose(p2, p, atol=1e-6)
    np.testing.assert_allclose(d, ood.distance(features), rtol=1e-5)


def test_bundled_model_flags_pictures_that_are_no_face(bundled, astronaut):
    faces = deck_faces(8) + [astronaut[40:200, 140:290]]  # real faces from Test splits, and a real photo
    odd = [np.random.default_rng(0).integers(0, 256, (224, 224, 3), np.uint8),  # uniform noise
           np.full((224, 224, 3), 128, np.uint8)]  # a flat grey
    _, d = bundled.assess(faces + odd)
    d_faces, d_odd = d[: len(faces)], d[len(faces):]
    assert d_odd.min() > d_faces.max(), (d_faces, d_odd)
    assert bundled.ood.flag(d_odd).all() and bundled.ood.flag(d_faces).sum() <= 1


# ---------------------------------------------------------------- every output carries the flag
@pytest.fixture(scope="module")
def odd_models_dir(tiny_models_dir, tmp_path_factory):
    """The tiny model with OOD stats whose threshold flags every face."""
    d = tmp_path_factory.mktemp("odd-models")
    shutil.copy(tiny_models_dir / "tiny.keras", d / "odd.keras")
    (d / "odd.json").write_text(json.dumps({"name": "odd", "input_size": 64, "threshold": 0.5, "default": True}))
    stats = fit(np.random.default_rng(0).random((50, 1280)), components=8)
    write(d / "odd.keras", OodStats(stats.means, stats.projection, 1e-9), {"components": 8})
    return d


@pytest.fixture(scope="module")
def odd_detector(odd_models_dir):
    from detector.pipeline import Detector

    return Detector(models_dir=odd_models_dir)


def test_analysis_and_reports_carry_the_flag(odd_detector, astronaut):
    from detector.provenance import stamp
    from detector.report import UNFAMILIAR_FACE, UNFAMILIAR_MARK, report_html, report_json

    r = stamp(odd_detector.analyse_image(astronaut, name="face.jpg"), odd_detector.card, b"x")
    assert r.unfamiliar is True and r.unfamiliar_share == 1.0 and r.verdict in ("real", "fake")
    face = json.loads(report_json(r))["faces"][0]
    assert face["unfamiliar"] is True and face["ood_distance"] > 0
    assert r.provenance["ood_threshold"] == 1e-9
    page = report_html(r, odd_detector.classifier)
    assert UNFAMILIAR_FACE in page and UNFAMILIAR_MARK in page


def test_cli_json_and_csv_carry_the_flag(tmp_path, odd_models_dir, astronaut, face_video, capsys):
    import csv
    import io

    from detector.cli import main

    Image.fromarray(astronaut).save(tmp_path / "face.jpg")
    Image.new("RGB", (200, 200), "gray").save(tmp_path / "wall.png")
    (tmp_path / "clip.mp4").write_bytes(face_video.read_bytes())
    args = [str(tmp_path), "--frames", "4", "--no-progress", "--models-dir", str(odd_models_dir)]
    assert main(args) == 0
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["face.jpg"]["unfamiliar"] is True and rows["face.jpg"]["faces"][0]["unfamiliar"] is True
    assert rows["clip.mp4"]["unfamiliar"] is True and rows["clip.mp4"]["unfamiliar_share"] == 1.0
    assert rows["wall.png"]["unfamiliar"] is None  # no face, nothing to judge
    assert main(args + ["--csv"]) == 0
    table = {r["path"].rsplit("/", 1)[-1]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert table["face.jpg"]["unfamiliar"] == "True" and table["wall.png"]["unfamiliar"] == ""


def test_scan_rows_carry_the_flag(tmp_path, odd_models_dir, astronaut):
    pa = pytest.importorskip("pyarrow")
    from detector.scan import ScoreFiles

    Image.fromarray(astronaut).save(tmp_path / "face.jpg")
    row = ScoreFiles(models_dir=odd_models_dir)(pa.table({"path": [str(tmp_path / "face.jpg")]})).to_pylist()[0]
    assert row["unfamiliar"] is True and row["unfamiliar_share"] == 1.0
    assert json.loads(row["detail"])["faces"][0]["unfamiliar"] is True


def test_detector_page_warns_beside_the_verdict(monkeypatch, odd_models_dir, astronaut):
    import io

    from detector.report import UNFAMILIAR_FACE

    monkeypatch.setenv("DEEPFAKE_MODELS_DIR", str(odd_models_dir))
    buf = io.BytesIO()
    Image.fromarray(astronaut).save(buf, "PNG")
    at = app_page("pages/1_Detector.py").run()
    at.file_uploader[0].set_value(("astronaut.png", buf.getvalue(), "image/png")).run()
    assert not at.exception, at.exception
    assert any(w.value == UNFAMILIAR_FACE for w in at.warning)
    assert any("unlike the training pictures" in m.value for m in at.markdown if "Face #1" in m.value)
