"""A public server: visitors cannot make the app list, probe or serve the server's folders (the Game's deck comes
from the server's configuration only, and loading it is bounded), nor steer a model name or an upload name into a
path. And every page shares one warmed-up detector per model."""
import os
import sys
import tempfile
import threading
import time

import numpy as np
import pytest
from PIL import Image

from helpers import app_page

GAME = "pages/2_Game.py"


def everything(node) -> str:
    """All an AppTest page would send to the browser (every element's protobuf, sidebar included), as text."""
    return "\n".join([str(getattr(node, "proto", "")), *(everything(c) for c in getattr(node, "children", {}).values())])


def face_jpg(path, shift=0):
    from skimage import data

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.roll(data.astronaut()[40:200, 140:290], shift, axis=1)).save(path)
    return path


@pytest.fixture
def models_env(monkeypatch, tiny_models_dir):
    monkeypatch.setenv("DEEPFAKE_MODELS_DIR", str(tiny_models_dir))
    monkeypatch.delenv("DEEPFAKE_GAME_DECK", raising=False)


def test_game_takes_no_path_from_a_visitor_and_shows_none(models_env, monkeypatch, tiny_deck):
    monkeypatch.setenv("DEEPFAKE_GAME_DECK", str(tiny_deck))
    at = app_page(GAME, 60)
    at.query_params["deck"] = "/etc"  # a crafted URL changes nothing
    at.run()
    assert not at.exception
    assert not at.text_input and not at.text_area and not at.selectbox  # nothing to type or pick a folder with
    page = everything(at._tree)
    assert str(tiny_deck) not in page and "/etc" not in page and tempfile.gettempdir() not in page
    assert f"Deck: {tiny_deck.name}" in page and "3 real and 3 fake" in page  # its name only
    assert all(p.startswith(str(tiny_deck.resolve())) for p, _ in at.session_state["game"]["cards"])


@pytest.mark.parametrize("configured", ["/etc", "/nonexistent", "..", "/root"])
def test_a_wrong_deck_setting_names_no_path(models_env, monkeypatch, configured):
    monkeypatch.setenv("DEEPFAKE_GAME_DECK", configured)
    at = app_page(GAME, 60).run()
    assert not at.exception
    page = everything(at._tree)
    assert "No deck to play with yet" in page and "configured on this server" in page
    assert os.path.abspath(configured) not in page.replace("DEEPFAKE_GAME_DECK", "")


def test_deck_from_the_command_line_flag(models_env, monkeypatch, tiny_deck):
    """`streamlit run app.py -- --deck DIR`: Streamlit hands the script sys.argv = [app.py, --deck, DIR]."""
    monkeypatch.setattr(sys, "argv", ["app.py", "--deck", str(tiny_deck)])
    at = app_page(GAME, 60).run()
    assert not at.exception and f"Deck: {tiny_deck.name}" in everything(at._tree)


def test_deck_skips_symlinks_and_folders_out_of_its_root(tmp_path):
    from webui.deck import DeckError, load_deck

    secret = face_jpg(tmp_path / "outside" / "secret.jpg")
    deck = (tmp_path / "deck").resolve()
    face_jpg(deck / "Real" / "r0.jpg")
    face_jpg(deck / "Fake" / "f0.jpg", 5)
    (deck / "Real" / "escape.jpg").symlink_to(secret)
    (deck / "Real" / "dots.jpg").symlink_to("../../outside/secret.jpg")
    (deck / "Fake" / "inside.jpg").symlink_to(deck / "Real" / "r0.jpg")  # a link within the deck is fine
    cards = load_deck(deck)
    assert cards == {"real": [str(deck / "Real" / "r0.jpg")], "fake": [str(deck / "Fake" / "f0.jpg"),
                                                                          str(deck / "Real" / "r0.jpg")]}
    for escape in (tmp_path / "outside", tmp_path):  # Fake/ itself a link to a folder outside, or to `..`
        bad = tmp_path / f"bad-{escape.name}"
        face_jpg(bad / "Real" / "r0.jpg")
        (bad / "Fake").symlink_to(escape, target_is_directory=True)
        with pytest.raises(DeckError, match="no Fake/ folder") as e:
            load_deck(bad)
        assert str(tmp_path) not in str(e.value)


def test_a_deck_of_100000_files_is_read_only_as_far_as_needed(models_env, monkeypatch, tmp_path):
    from webui import deck as deck_mod

    big = tmp_path / "big"
    (big / "Real").mkdir(parents=True)
    for i in range(100_000):
        os.close(os.open(big / "Real" / f"{i:06d}.jpg", os.O_CREAT | os.O_WRONLY, 0o644))
    for i in range(3):
        face_jpg(big / "Fake" / f"f{i}.jpg", i)
    t = time.perf_counter()
    cards = deck_mod.load_deck(big)
    assert time.perf_counter() - t < 2.0
    assert len(cards["real"]) == deck_mod.MAX_PER_LABEL and len(cards["fake"]) == 3
    monkeypatch.setenv("DEEPFAKE_GAME_DECK", str(big))
    t = time.perf_counter()
    at = app_page(GAME, 60).run()
    assert not at.exception and f"{deck_mod.MAX_PER_LABEL:,} real and 3 fake" in everything(at._tree)
    print(f"100,000-file deck: load_deck + Game page in {time.perf_counter() - t:.1f} s")


def test_a_visitor_cannot_name_a_model_path(tiny_models_dir):
    from detector.errors import ModelError
    from detector.model import load_classifier

    for name in ("../tiny", "/etc/passwd", str(tiny_models_dir / "tiny")):
        with pytest.raises(ModelError, match="No model named"):
            load_classifier(name, tiny_models_dir)


@pytest.mark.parametrize("name", ["../../evil/clip.mp4", "/etc/cron.d/clip.mp4", "clip.mp4\x00.sh"])
def test_upload_names_never_reach_a_path(name):
    """A video upload goes to a temp file named by us; the upload's name only picks an allowed extension."""
    from detector.errors import InputError
    from webui.resources import analyse_upload

    seen = []

    class Recorder:
        def analyse_video(self, path, **kw):
            seen.append(path)
            raise InputError("stop here")

    try:
        analyse_upload(Recorder(), name, b"not a video")
    except InputError:
        pass
    for path in seen:
        assert os.path.dirname(path) == tempfile.gettempdir() and os.path.basename(path).startswith("upload-")
        assert "evil" not in path and "cron" not in path and not os.path.exists(path)


def test_one_warmed_detector_per_model_for_every_page(models_env, monkeypatch):
    from webui import resources

    monkeypatch.setattr(resources, "_warm_up_started", threading.Event())  # as in a fresh server process
    resources.warm_up_in_background()
    resources.warm_up_in_background()  # a second script run starts nothing more
    warmers = [t for t in threading.enumerate() if t.name == "model-warm-up"]
    assert len(warmers) <= 1
    for t in warmers:
        t.join(timeout=300)
    det = resources.get_detector(None)  # the Game's call
    assert det is resources.get_detector("tiny")  # the Detector page's call, the default picked in its list
    assert getattr(det.classifier, "_cam_fns", None)  # the heatmap traced before the first upload
