"""Black-and-white pictures (detector.colour): the test itself, the card-driven warning, and every output that
carries it (JSON, CSV, the HTML report, the Detector page), with the real MTCNN and a real Keras model."""
import csv
import io
import json
import shutil

import cv2
import numpy as np
import pytest
from helpers import app_page
from PIL import Image

from conftest import ROOT
from detector.colour import black_and_white_note, is_black_and_white
from detector.model import available_models

MEASURED = {"fakes_caught": {"dfdc-faces": {"colour": 0.729, "black_and_white": 0.37},
                             "stylegan-faces": {"colour": 0.969, "black_and_white": 0.415}}}


def grey(image):
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)


def jpeg(image, quality=75):
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def test_black_and_white_is_told_from_colour(astronaut):
    assert not is_black_and_white(astronaut)
    assert is_black_and_white(grey(astronaut))
    assert is_black_and_white(jpeg(grey(astronaut)))  # JPEG leaves a level or two between the channels
    assert is_black_and_white(astronaut[..., 0])  # one channel
    stamped = grey(astronaut).copy()
    stamped[:60, :60] = (200, 30, 30)  # a red stamp on 1.4 % of a grey picture: that is colour
    assert not is_black_and_white(stamped)
    sepia = np.clip(grey(astronaut) * [1.0, 0.85, 0.65], 0, 255).astype(np.uint8)
    assert not is_black_and_white(sepia)  # toned, not grey: the model sees its colour


def test_the_warning_comes_from_the_cards_measurement():
    assert black_and_white_note({}) is None  # nothing measured, nothing claimed
    same = {"black_and_white": {"fakes_caught": {"x": {"colour": 0.9, "black_and_white": 0.85}}}}
    assert black_and_white_note(same) is None  # within 10 points: no weakness to warn about
    note = black_and_white_note({"black_and_white": MEASURED})
    assert "37% of dfdc-faces fakes (in colour 73%)" in note and "42% of stylegan-faces" in note


def test_the_bundled_cards_measurement_is_well_formed():
    card = json.loads(next(iter(available_models(ROOT / "models").values())).with_suffix(".json").read_text())
    entry = card["black_and_white"]  # README and the card state this model's weakness: it must be measured
    assert entry["command"].startswith("python bench/real_photo_cues.py") and entry["split"] == "Validation"
    for rates in entry["fakes_caught"].values():
        assert 0 <= rates["black_and_white"] <= 1 and 0 <= rates["colour"] <= 1


@pytest.fixture(scope="module")
def grey_models_dir(tiny_models_dir, tmp_path_factory):
    """The tiny model with a card that records a black-and-white weakness."""
    d = tmp_path_factory.mktemp("bw-models")
    shutil.copy(tiny_models_dir / "tiny.keras", d / "bw.keras")
    (d / "bw.json").write_text(json.dumps({"name": "bw", "input_size": 64, "threshold": 0.5, "default": True,
                                           "black_and_white": MEASURED}))
    return d


def test_pictures_and_videos_carry_it_into_every_output(tmp_path, grey_models_dir, astronaut, capsys):
    from detector.cli import main
    from detector.pipeline import Detector
    from detector.report import black_and_white_warning, report_html

    det = Detector(models_dir=grey_models_dir)
    colour, bw = det.analyse_image(astronaut), det.analyse_image(grey(astronaut))
    assert colour.faces and bw.faces  # MTCNN finds the face either way
    assert colour.black_and_white is False and bw.black_and_white is True
    assert black_and_white_warning(colour, det.card) is None
    wall = det.analyse_image(np.full((200, 200, 3), 128, np.uint8))
    assert wall.black_and_white is True and not wall.faces and black_and_white_warning(wall, det.card) is None
    assert "misses many more fakes without colour" in report_html(bw, det.classifier)
    assert "without colour" not in report_html(colour, det.classifier)

    Image.fromarray(astronaut).save(tmp_path / "colour.jpg")
    Image.fromarray(grey(astronaut)).save(tmp_path / "grey.jpg")
    size = astronaut.shape[1::-1]
    for name, image in (("colour.mp4", astronaut), ("grey.mp4", grey(astronaut))):
        out = cv2.VideoWriter(str(tmp_path / name), cv2.VideoWriter_fourcc(*"mp4v"), 25, size)
        for i in range(25):
            out.write(cv2.cvtColor(np.roll(image, i, axis=1), cv2.COLOR_RGB2BGR))
        out.release()
    args = [str(tmp_path), "--frames", "4", "--no-progress", "--models-dir", str(grey_models_dir)]
    assert main(args) == 0
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert {n: rows[n]["black_and_white"] for n in rows} == {
        "colour.jpg": False, "grey.jpg": True, "colour.mp4": False, "grey.mp4": True}
    pictures = [str(tmp_path / "colour.jpg"), str(tmp_path / "grey.jpg")]  # the rows looked at: no videos again
    assert main(pictures + args[1:] + ["--csv"]) == 0
    table = {r["path"].rsplit("/", 1)[-1]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert table["grey.jpg"]["black_and_white"] == "True" and table["colour.jpg"]["black_and_white"] == "False"


def test_detector_page_warns_on_a_black_and_white_upload(monkeypatch, grey_models_dir, astronaut):
    monkeypatch.setenv("DEEPFAKE_MODELS_DIR", str(grey_models_dir))
    buf = io.BytesIO()
    Image.fromarray(grey(astronaut)).save(buf, "PNG")
    at = app_page("pages/1_Detector.py").run()
    at.file_uploader[0].set_value(("grey.png", buf.getvalue(), "image/png")).run()
    assert not at.exception, at.exception
    assert any("misses many more fakes without colour" in w.value for w in at.warning)


def test_home_page_states_the_weakness(monkeypatch, grey_models_dir):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DEEPFAKE_MODELS_DIR", str(grey_models_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    line = next(m.value for m in at.markdown if "Black-and-white pictures" in m.value)
    assert "37% of dfdc-faces fakes (in colour 73%)" in line


def test_game_reveal_warns_on_a_black_and_white_card(monkeypatch, grey_models_dir, astronaut, tmp_path):
    """Issue 38: the Game's reveal shows the same warning as the Detector page for the same picture."""
    for label in ("Real", "Fake"):
        (tmp_path / label).mkdir()
        Image.fromarray(grey(astronaut)).save(tmp_path / label / f"{label}.jpg")
    monkeypatch.setenv("DEEPFAKE_MODELS_DIR", str(grey_models_dir))
    monkeypatch.setenv("DEEPFAKE_GAME_DECK", str(tmp_path))
    at = app_page("pages/2_Game.py").run()
    assert not at.exception and not at.warning  # the question alone: nothing revealed yet
    at.button(key="real").click().run()
    assert not at.exception, at.exception
    assert any("misses many more fakes without colour" in w.value for w in at.warning)
