"""Real browser smoke test: Debian's Chromium driven by Playwright against a real `streamlit run` server."""
import os
import shutil
import time

import pytest
from PIL import Image

from conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed (./run.sh test installs it)"),
]
SHOTS = ROOT / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def server(tiny_models_dir, tmp_path_factory):
    """No DEEPFAKE_GAME_DECK: the Game must play with the deck the repository ships (data/game_deck), as on a
    fresh clone with no ../shared beside it. Served as `./run.sh app` serves (webui.launch); `.log`: its output."""
    from bench.server import streamlit_server

    assert "DEEPFAKE_GAME_DECK" not in os.environ
    log = tmp_path_factory.mktemp("server") / "server.log"
    with streamlit_server({"DEEPFAKE_MODELS_DIR": str(tiny_models_dir)}, log=log) as url:
        url.log = log
        yield url


def test_model_warms_up_with_the_server_before_any_visit(server):
    """Issue 38: the first upload must not wait for the model. No page has been opened yet, and the model is loaded
    and warmed up all the same (its log line), so the first visitor's photo costs what later ones do."""
    deadline = time.time() + 180
    while "Model ready" not in server.log.read_text(errors="replace"):
        assert time.time() < deadline, server.log.read_text()
        time.sleep(0.5)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        pg = browser.new_page(viewport={"width": 1280, "height": 2000})
        yield pg
        browser.close()


def test_detector_upload_to_verdict(server, page, astronaut, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    img = tmp_path / "astronaut.jpg"
    Image.fromarray(astronaut).resize((1280, 1280)).crop((0, 0, 1280, 720)).save(img)  # a 1280x720 photo
    page.goto(f"{server}/Detector")
    page.locator("input[type=file]").set_input_files(str(img))
    t0 = time.time()
    page.get_by_text("fake probability", exact=False).first.wait_for(timeout=120_000)
    page.get_by_text("Face #1").first.wait_for(timeout=60_000)
    print(f"upload to verdict: {time.time() - t0:.1f} s (tiny model)")
    page.screenshot(path=str(SHOTS / "detector.png"), full_page=True)
    assert page.get_by_text("Likely", exact=False).count() >= 1


def test_tight_face_crop_gets_a_verdict(server, page, astronaut, tmp_path):
    """A close-up where MTCNN finds no face, even with context, is scored whole and the page says so."""
    import cv2

    crop = tmp_path / "closeup.png"
    face = astronaut[int(64 + 0.2 * 107):int(171 - 0.2 * 107), int(182 + 0.2 * 83):int(265 - 0.2 * 83)]
    Image.fromarray(cv2.resize(face, None, fx=3, fy=3)).save(crop)
    page.goto(f"{server}/Detector")
    page.locator("input[type=file]").set_input_files(str(crop))
    page.get_by_text("fake probability", exact=False).first.wait_for(timeout=120_000)
    page.screenshot(path=str(SHOTS / "closeup.png"), full_page=True)
    assert page.get_by_text("Likely", exact=False).count() >= 1
    assert page.get_by_text("looks like a face close-up", exact=False).count() >= 1
    assert page.get_by_text("No face found").count() == 0


def test_refused_file_type_is_said_in_words(server, page, tmp_path):
    """Issue 38: a .txt got only a red chip in the uploader (its reason on hover); now the page says why, in words."""
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    page.goto(f"{server}/Detector")
    page.locator("input[type=file]").set_input_files(str(notes))
    message = page.get_by_text("Unsupported file type (.txt)", exact=False)
    message.first.wait_for(timeout=60_000)
    assert "jpg" in message.first.inner_text() and "mp4" in message.first.inner_text()


def test_game_plays_one_round(server, page):
    page.goto(f"{server}/Game")
    page.get_by_role("button", name="Real", exact=True).wait_for(timeout=120_000)
    assert page.get_by_text("Deck: game deck (40 real and 40 fake faces)").count() == 1  # the shipped deck, by name
    assert page.locator("input[type=text]").count() == 0 and str(ROOT) not in page.content()  # no server path
    page.get_by_role("button", name="Real", exact=True).click()
    try:
        page.get_by_text("The model said").wait_for(timeout=120_000)
        page.get_by_role("button", name="Next round").wait_for(timeout=60_000)  # heatmap drawn above it
    finally:
        page.screenshot(path=str(SHOTS / "game.png"), full_page=True)
    page.screenshot(path=str(SHOTS / "game.png"), full_page=True)
    assert page.get_by_text("It was").count() >= 1


@pytest.fixture(scope="module")
def unsure_server(unsure_models_dir):
    """A second server, on the tiny model with a card whose inconclusive band is [0, 1]."""
    from bench.server import streamlit_server

    with streamlit_server({"DEEPFAKE_MODELS_DIR": str(unsure_models_dir)}) as url:
        yield url


def test_score_in_the_band_shows_the_inconclusive_banner(unsure_server, page, astronaut, tmp_path):
    """Whatever this photo scores, it is inside the band: the page says Inconclusive in an orange banner with what
    to do next, and no green or red one."""
    img = tmp_path / "astronaut.jpg"
    Image.fromarray(astronaut).save(img)
    page.goto(f"{unsure_server}/Detector")
    page.locator("input[type=file]").set_input_files(str(img))
    banner = page.locator("[data-testid=stAlertContentWarning]", has_text="Inconclusive")
    try:
        banner.first.wait_for(timeout=120_000)
        page.get_by_text("Face #1").first.wait_for(timeout=60_000)
    finally:
        page.screenshot(path=str(SHOTS / "inconclusive.png"), full_page=True)
    assert "original source" in banner.first.inner_text()
    assert page.locator("[data-testid=stAlertContentSuccess], [data-testid=stAlertContentError]").count() == 0
