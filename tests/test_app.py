"""The Streamlit pages through AppTest (no browser): real uploads, real detector (tiny model), real game."""
import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from helpers import app_page


def png(arr) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def app_env(monkeypatch, tiny_models_dir, tiny_deck):
    monkeypatch.setenv("DEEPFAKE_MODELS_DIR", str(tiny_models_dir))
    monkeypatch.setenv("DEEPFAKE_GAME_DECK", str(tiny_deck))


def texts(at) -> str:
    parts = [e.value for kind in ("markdown", "success", "error", "warning", "info", "caption", "text")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def detector_page():
    return app_page("pages/1_Detector.py")


def test_home_page_shows_model_card(app_env):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    page = texts(at)
    assert "tiny" in "\n".join(e.label for e in at.expander) and "Computing on" in page
    assert [b.label.split(":")[0] for b in at.button] == ["**Detector**", "**Game**"]  # links that look clickable


def test_detector_image_gives_verdict_and_face_score(app_env, astronaut):
    at = detector_page().run()
    assert not at.exception
    at.file_uploader[0].set_value(("astronaut.png", png(astronaut), "image/png")).run()
    assert not at.exception, at.exception
    page = texts(at)
    assert "Likely REAL" in page or "Likely FAKE" in page
    assert "Face #1" in page and "% fake" in page
    assert at.metric[0].value == "1"  # faces found
    # Moving the threshold re-decides without re-analysing.
    at.slider[0].set_value(0.0).run()
    assert "Likely FAKE" in texts(at)
    at.slider[0].set_value(1.0).run()
    assert "Likely REAL" in texts(at)


@pytest.mark.parametrize("name, payload, message", [
    ("garbage.jpg", b"\x00\x01garbage" * 50, "not an image"),
    ("empty.png", b"", "empty"),
    ("clip.mp4", b"definitely not a video" * 20, "cannot be opened"),
    ("program.jpg", b"\x7fELF\x02\x01\x01" + b"\x00" * 300, "not an image"),
])
def test_detector_bad_upload_shows_message_and_stays_usable(app_env, astronaut, name, payload, message):
    at = detector_page().run()
    at.file_uploader[0].set_value((name, payload, "application/octet-stream")).run()
    assert not at.exception
    assert message in texts(at)
    at.file_uploader[0].set_value(("ok.png", png(astronaut), "image/png")).run()  # next upload works
    assert not at.exception and ("Likely REAL" in texts(at) or "Likely FAKE" in texts(at))


def test_detector_no_face(app_env):
    at = detector_page().run()
    at.file_uploader[0].set_value(("wall.png", png(np.full((200, 300, 3), 90, np.uint8)), "image/png")).run()
    assert not at.exception and "No face found" in texts(at) and "closer crop" in texts(at)


def test_detector_video_timeline(app_env, face_video):
    at = detector_page().run()
    at.file_uploader[0].set_value(("clip.mp4", face_video.read_bytes(), "video/mp4")).run()
    assert not at.exception, at.exception
    page = texts(at)
    assert "Likely" in page and "Most suspicious" in "\n".join(h.value for h in at.subheader)
    assert [m.label for m in at.metric][:3] == ["Duration", "Frames analysed", "People"]
    assert at.metric[2].value == "1"


def test_game_plays_a_full_game(app_env):
    at = app_page("pages/2_Game.py").run()
    assert not at.exception
    at.sidebar.number_input[0].set_value(2).run()
    at.session_state["game"] = None  # the new round count applies to a new game
    del at.session_state["game"]
    at.run()
    for _ in range(2):
        at.button(key="fake").click().run()
        assert not at.exception, at.exception
        page = texts(at)
        assert "It was" in page and "The model said" in page
        at.button(key="next").click().run()
    page = texts(at)
    assert "Game over" in "\n".join(h.value for h in at.subheader)
    assert "You got **1 of 2** right" in page  # one real and one fake card, we always said fake
    assert len(at.get("image")) == 2 and "you ✓" in page and "you ✗" in page  # a thumbnail per round
    at.button(key="again").click().run()
    assert not at.exception and at.metric[2].value == "1 of 2"


def test_game_without_deck_explains(monkeypatch, tiny_models_dir, tmp_path):
    monkeypatch.setenv("DEEPFAKE_MODELS_DIR", str(tiny_models_dir))
    monkeypatch.setenv("DEEPFAKE_GAME_DECK", str(tmp_path / "nothing-here"))
    at = app_page("pages/2_Game.py", 60)
    at.run()
    assert not at.exception
    assert "No deck to play with yet" in texts(at) and "is not a folder" in texts(at)


def test_unsupported_type_is_refused_before_analysis():
    from detector.errors import InputError
    from webui.resources import analyse_upload

    with pytest.raises(InputError, match=r"Unsupported file type \(\.exe\)"):
        analyse_upload(None, "notes.exe", b"MZ")


def test_page_and_readme_promise_the_same_formats_and_smallest_face(app_env):
    """Issue 38: the empty page's hint, the uploader and README said different things; all read detector's constants."""
    from detector.decode import ACCEPTED_FORMATS
    from detector.faces import SMALLEST_FACE

    at = detector_page().run()
    assert not at.exception
    hint = at.info[0].value
    assert ACCEPTED_FORMATS in hint and f"about {SMALLEST_FACE} pixels" in hint
    assert ACCEPTED_FORMATS in at.file_uploader[0].label
    readme = (ROOT / "README.md").read_text()
    assert ACCEPTED_FORMATS in readme and f"Faces under ~{SMALLEST_FACE} px in a 640 px picture" in readme


def test_detector_says_in_words_why_a_file_type_is_refused(app_env):
    """Issue 38: any file is taken in (the uploader's own refusal was a red chip with its reason on hover) and the
    page says in words what it reads."""
    from detector.decode import ACCEPTED_FORMATS

    at = detector_page().run()
    at.file_uploader[0].set_value(("notes.txt", b"hello", "text/plain")).run()
    assert not at.exception
    message = "\n".join(e.value for e in at.error)
    assert "Unsupported file type (.txt)" in message and ACCEPTED_FORMATS in message
