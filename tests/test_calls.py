"""The three-way call (likely real / inconclusive / likely fake): the band's fitting on synthetic scores, the card
that carries it, and every output that shows it (CLI, reports, the Detector page, the Game)."""
import io
import json

import numpy as np
import pytest
from helpers import app_page
from PIL import Image

from detector.calibration import fit_band
from detector.results import AnalysisResult, FaceResult, FrameResult, call_for


def accuracy_outside(labels, scores, band):
    y, s = np.asarray(labels, bool), np.asarray(scores)
    return (~y[s < band[0]]).mean(), y[s >= band[1]].mean()


def test_fit_band_known_answer():
    # Below the threshold 0.5: cutting at 0.5 or 0.45 keeps 2 fakes among 12 or 11 (83 %, 82 % real); at 0.4 it
    # is 9 real of 10. Above: from 0.5 or 0.55, 9 fakes of 11; from 0.6, 9 of 9.
    scores = [0.1] * 8 + [0.2, 0.3, 0.4, 0.45] + [0.55, 0.55, 0.6] + [0.7] * 8
    labels = [0] * 8 + [1, 0, 1, 0] + [0, 0, 1] + [1] * 8
    assert fit_band(labels, scores, 0.5) == (0.4, 0.6)
    assert fit_band(labels, scores, 0.5, min_accuracy=0.8) == (0.5, 0.5)  # 10 of 12, 9 of 11 suffice: no band


@pytest.mark.parametrize("seed", range(5))
def test_fit_band_is_right_90_percent_outside_on_each_side_and_narrowest(seed):
    rng = np.random.default_rng(seed)
    labels = np.r_[np.zeros(400), np.ones(300)]
    scores = np.round(np.r_[rng.beta(2, 4, 400), rng.beta(4, 2, 300)], 3)  # rounded: ties too
    threshold = 0.5
    low, high = fit_band(labels, scores, threshold)
    assert low <= threshold <= high
    real_ok, fake_ok = accuracy_outside(labels, scores, (low, high))
    assert real_ok >= 0.9 and fake_ok >= 0.9
    # Narrowest: every wider cut towards the threshold (the next scores inside the band) falls below 90 %.
    for cut in np.unique(scores[(scores > low) & (scores < threshold)]).tolist() + [threshold]:
        if cut > low:
            assert (labels[scores < cut] == 0).mean() < 0.9
    for cut in [threshold] + np.unique(scores[(scores >= threshold) & (scores < high)]).tolist():
        if cut < high:
            assert (labels[scores >= cut] == 1).mean() < 0.9


def test_fit_band_degenerate_cases():
    assert fit_band([0, 0, 0], [0.1, 0.2, 0.7], 0.5) == (0.5, 1.0)  # all real: nothing could be called likely fake
    assert fit_band([1, 1, 1], [0.2, 0.6, 0.7], 0.5) == (0.0, 0.5)  # all fake: nothing likely real
    assert fit_band([1, 1, 0], [0.6, 0.7, 0.8], 0.5) == (0.0, 1.0)  # no score below; above never 90 % fake
    assert fit_band([], [], 0.5) == (0.0, 1.0)  # no evidence at all: everything inconclusive
    assert fit_band([0, 1], [0.2, 0.8], 0.5) == (0.5, 0.5)  # perfectly separated: no inconclusive zone


def test_card_band_old_cards_unchanged_and_a_users_threshold_calls_every_score(tmp_path):
    from detector.errors import ModelError
    from detector.model import ModelCard

    def card(**kw):
        path = tmp_path / "m.json"
        path.write_text(json.dumps({"name": "m", "input_size": 64, "threshold": 0.4, **kw}))
        return ModelCard.load(path)

    old = card()
    assert old.band is None and old.band_at() == (0.4, 0.4) and old.band_at(0.7) == (0.7, 0.7)
    for p in (0.0, 0.39, 0.4, 0.9):  # no band: the call is the verdict, exactly as before
        assert old.call(p) == ("likely_fake" if p >= 0.4 else "likely_real")
    banded = card(band=[0.3, 0.6])
    assert banded.band_at() == (0.3, 0.6)
    assert [banded.call(p) for p in (0.29, 0.3, 0.59, 0.6)] == ["likely_real", "inconclusive", "inconclusive",
                                                                 "likely_fake"]
    # Issue 38: a threshold of the user's own decides every score (it was a band moved with it, and a score above
    # the user's threshold could still be "inconclusive"); the card's band stays, fixed, as where the model is unsure.
    assert banded.band_at(0.5) == (0.5, 0.5) and banded.band_at(0.05) == (0.05, 0.05)
    assert [banded.call(p, 0.35) for p in (0.34, 0.35, 0.418)] == ["likely_real", "likely_fake", "likely_fake"]
    assert banded.band_at(0.4004) == (0.3, 0.6)  # the card's own, to the slider's step: its band in force
    assert [banded.unsure(p) for p in (0.29, 0.3, 0.59, 0.6, None)] == [False, True, True, False, False]
    with pytest.raises(ModelError, match="must hold the threshold"):
        card(band=[0.5, 0.6])
    with pytest.raises(ModelError):
        card(band=[0.3])


def test_timeline_has_gaps_where_no_face_was_seen():
    from detector.report import faces_seen, person_segments, timeline_svg

    frames = [FrameResult(frame=10 * k, time_s=k * 0.5, n_faces=int(k not in (2, 3)),
                          fake_probability=None if k in (2, 3) else 0.3) for k in range(6)]
    faces = [FaceResult(box=(0, 0, 10, 10), confidence=1, landmarks={}, fake_probability=0.1 * k, verdict="real",
                        frame=10 * k, person=0) for k in range(6) if k not in (2, 3)]
    r = AnalysisResult(path="clip.mp4", verdict="real", kind="video", threshold=0.5, band=(0.4, 0.6),
                       duration_s=3.0, frames=frames, faces=faces)
    assert person_segments(r, 0) == [[(0.0, 0.0), (0.5, 0.1)], [(2.0, pytest.approx(0.4)), (2.5, 0.5)]]
    svg = timeline_svg(r)
    assert svg.count("<polyline") == 2 and 'fill="#f5a623"' in svg  # two stretches, the band shaded
    assert faces_seen(r) == "Faces seen in 4 of 6 sampled frames."


def test_call_for():
    assert [call_for(p, (0.3, 0.6)) for p in (0.1, 0.3, 0.5, 0.6, 1.0)] == [
        "likely_real", "inconclusive", "inconclusive", "likely_fake", "likely_fake"]


def test_cli_json_and_csv_carry_the_call(tmp_path, unsure_models_dir, astronaut, face_video, capsys):
    from detector.cli import _row, main  # in this process: the CLI as a subprocess is tests/test_cli.py's

    Image.fromarray(astronaut).save(tmp_path / "face.jpg")
    Image.new("RGB", (200, 200), "gray").save(tmp_path / "wall.png")
    (tmp_path / "clip.mp4").write_bytes(face_video.read_bytes())
    code = main([str(tmp_path), "--frames", "4", "--no-progress", "--models-dir", str(unsure_models_dir)])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in map(json.loads, out.splitlines())}
    face, wall, clip = rows["face.jpg"], rows["wall.png"], rows["clip.mp4"]
    assert face["verdict"] in ("real", "fake") and face["call"] == "inconclusive"  # verdict kept for scripts
    assert face["band"] == [0.0, 1.0] and face["faces"][0]["call"] == "inconclusive"
    assert wall["verdict"] == "no_face" and wall["call"] is None
    assert clip["call"] == "inconclusive" and [q["call"] for q in clip["persons"]] == ["inconclusive"]
    assert face["provenance"]["band"] == [0.0, 1.0]
    # The CSV row has the same call beside the verdict.
    result = AnalysisResult(path="x.jpg", verdict=face["verdict"], call="inconclusive", fake_probability=0.5)
    assert list(_row(result))[2:4] == ["verdict", "call"] and _row(result)["call"] == "inconclusive"


def test_reports_show_inconclusive_and_no_fake_map_on_faces_called_real(detector, unsure_models_dir, astronaut):
    from detector.model import ModelCard
    from detector.pipeline import decide
    from detector.report import report_html

    r = detector.analyse_image(astronaut, name="face.jpg")
    decide(r, 1.0, card=detector.card)  # threshold 1: every face likely real
    page = report_html(r, detector.classifier)
    assert "Likely REAL" in page and "called likely real: no heatmap" in page and "face 1 heatmap" not in page
    decide(r, 0.5, card=ModelCard.load(unsure_models_dir / "unsure.json"))
    page = report_html(r, detector.classifier)
    assert "class='verdict inconclusive'" in page and "original source" in page and "face 1 heatmap" in page
    assert "Inconclusive from 0.0% to 100.0% fake probability" in page


@pytest.fixture
def unsure_env(monkeypatch, unsure_models_dir, tiny_deck):
    monkeypatch.setenv("DEEPFAKE_MODELS_DIR", str(unsure_models_dir))
    monkeypatch.setenv("DEEPFAKE_GAME_DECK", str(tiny_deck))


def png(arr) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def test_detector_page_shows_inconclusive_plainly(unsure_env, astronaut):
    at = app_page("pages/1_Detector.py").run()
    at.file_uploader[0].set_value(("astronaut.png", png(astronaut), "image/png")).run()
    assert not at.exception, at.exception
    banner = "\n".join(w.value for w in at.warning)
    assert "Inconclusive" in banner and "original source" in banner  # orange, with what to do next
    assert not at.success and not at.error  # neither green nor red
    assert "inconclusive" in "\n".join(m.value for m in at.markdown if "Face #1" in m.value)


def test_detector_page_video_calls_each_person_and_counts_frames_with_faces(unsure_env, face_video):
    at = app_page("pages/1_Detector.py").run()
    at.file_uploader[0].set_value(("clip.mp4", face_video.read_bytes(), "video/mp4")).run()
    assert not at.exception, at.exception
    assert "Inconclusive" in "\n".join(w.value for w in at.warning)
    assert any(m.value.startswith("Faces seen in ") and m.value.endswith(" of 32 sampled frames.") for m in at.markdown)
    assert list(at.dataframe[0].value["call"]) == ["inconclusive"]


def test_game_says_the_model_was_unsure(unsure_env):
    at = app_page("pages/2_Game.py").run()
    at.button(key="fake").click().run()
    assert not at.exception, at.exception
    assert any("The model was unsure" in m.value for m in at.markdown)


def test_scan_rows_carry_the_call(tmp_path, unsure_models_dir, astronaut):
    """The Ray scan's actor without Ray (tests/test_scan.py runs the whole scan): its row has the call."""
    pa = pytest.importorskip("pyarrow")
    from detector.scan import ScoreFiles

    Image.fromarray(astronaut).save(tmp_path / "face.jpg")
    row = ScoreFiles(models_dir=unsure_models_dir)(pa.table({"path": [str(tmp_path / "face.jpg")]})).to_pylist()[0]
    assert row["verdict"] in ("real", "fake") and row["call"] == "inconclusive" and json.loads(row["band"]) == [0, 1]


def test_detector_page_threshold_of_your_own_calls_the_face(unsure_env, astronaut):
    """Issue 38: the card's band is [0, 1] (every score unsure). At the card's threshold: Inconclusive. With the
    slider moved, the user's threshold calls the face (red or green, never Inconclusive), and the page says the
    score lies in the model's unsure band; the sidebar says how the two go together."""
    at = app_page("pages/1_Detector.py").run()
    at.file_uploader[0].set_value(("astronaut.png", png(astronaut), "image/png")).run()
    assert "Inconclusive" in "\n".join(w.value for w in at.warning)
    assert any("line between fake and real" in c.value for c in at.sidebar.caption)
    for value, headline, colour in ((0.0, "Likely FAKE", "error"), (1.0, "Likely REAL", "success")):
        at.slider[0].set_value(value).run()
        assert not at.exception, at.exception
        assert "Inconclusive" not in "\n".join(w.value for w in at.warning)
        assert headline in "\n".join(b.value for b in getattr(at, colour))
        assert any("Your threshold decided this one" in i.value for i in at.info)
        assert any("in the model's unsure band" in m.value for m in at.markdown if "Face #1" in m.value)
        assert any("Your threshold, not the model's" in c.value for c in at.caption)
