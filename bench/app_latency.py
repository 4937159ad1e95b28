"""What a user waits for in a real browser (Debian Chromium + Playwright) against `streamlit run`, bundled model.

    python bench/app_latency.py [--video ../shared/datasets/videos/Fake/abofeumbvv.mp4] [--repeats 5]

First, from a cold server (started by the script as `./run.sh app` serves, webui.launch, nothing opened yet):
server start -> the model ready (its "Model ready" log line: it loads and warms up from the server's start), then,
one try each, the Detector page opened -> its uploader ready, and the first photo: upload -> verdict and -> every
heatmap (with --home-first S: the Home page is opened first and read for S seconds, as a first visitor would;
with --no-wait: the page is opened as soon as the server answers, without waiting for the model). Then each
figure is measured warm, as the median of --repeats tries:
- a 1280x720 photo with one face (written by the script): upload -> verdict, and -> every face's heatmap;
- the threshold slider moved (keyboard End / Home) -> the banner re-decided, on the photo's page and, with
  --video, on the video's page;
- with --video: upload -> the full result page (timeline, the three most suspicious frames with heatmaps);
- the Game (shipped deck): answer clicked -> truth, model's answer and heatmap shown.
Screenshots go to artifacts/app-*.png. Run it on a quiet machine: nothing else should compete for the CPU.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import ROOT, streamlit_server  # noqa: E402
sys.path.insert(0, str(ROOT))  # webui, for the captions it waits on


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", default=None)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--home-first", type=float, default=0, metavar="S")
    ap.add_argument("--no-wait", action="store_true", help="open the page at once, not after the model is ready")
    a = ap.parse_args()
    from webui.views import HEATMAP_CAPTION, NO_MAP_CAPTION  # what each face card says under its picture
    from PIL import Image
    from playwright.sync_api import sync_playwright
    from skimage import data

    photo = os.path.join(tempfile.mkdtemp(), "photo_1280x720.jpg")
    Image.fromarray(data.astronaut()).resize((1280, 1280)).crop((0, 0, 1280, 720)).save(photo)
    shots = ROOT / "artifacts"
    shots.mkdir(exist_ok=True)
    results: dict[str, list[float]] = {}

    def record(name: str, seconds: float) -> None:
        results.setdefault(name, []).append(seconds)

    log = Path(tempfile.mkdtemp()) / "server.log"
    start = time.perf_counter()
    with streamlit_server(log=log, ready_timeout=180) as url:
        record("cold server: start -> answering", time.perf_counter() - start)
        while not a.no_wait and "Model ready" not in log.read_text(errors="replace"):
            if time.perf_counter() - start > 600:
                raise SystemExit(f"no 'Model ready' line in the server log after 600 s:\n{log.read_text()}")
            time.sleep(0.2)
        if not a.no_wait:
            record("cold server: start -> model ready", time.perf_counter() - start)
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                  args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = b.new_page(viewport={"width": 1280, "height": 2600})

            def timed(action, until) -> float:
                t = time.perf_counter()
                action()
                until()
                return time.perf_counter() - t

            def upload(path, until) -> float:
                page.goto(f"{url}/Detector")
                page.locator("input[type=file]").wait_for(state="attached", timeout=180_000)
                return timed(lambda: page.locator("input[type=file]").set_input_files(path), until)

            def text(s, n=1, timeout=300_000):
                return lambda: page.wait_for_function(
                    "([s, n]) => document.body.innerText.split(s).length - 1 >= n", arg=[s, n], timeout=timeout)

            def faces_shown(n=1, timeout=300_000):
                """n face cards drawn: a heatmap, or for a face called likely real its plain crop (no map)."""
                return lambda: page.wait_for_function(
                    "([n, caps]) => caps.map(s => document.body.innerText.split(s).length - 1)"
                    ".reduce((a, b) => a + b) >= n", arg=[n, [HEATMAP_CAPTION, NO_MAP_CAPTION]], timeout=timeout)

            def slider_moves(name):
                slider = page.get_by_role("slider")
                for _ in range(a.repeats):
                    record(f"{name}: slider -> banner", timed(lambda: slider.press("End"), text("threshold 1.0000")))
                    record(f"{name}: slider -> banner", timed(lambda: slider.press("Home"), text("threshold 0.0000")))

            if a.home_first:
                page.goto(url)
                page.get_by_text("The model", exact=True).wait_for(timeout=120_000)
                time.sleep(a.home_first)
            t = time.perf_counter()  # cold: what the first visitor after a start waits for
            page.goto(f"{url}/Detector")
            page.locator("input[type=file]").wait_for(state="attached", timeout=180_000)
            record("cold server: Detector page opened -> uploader ready", time.perf_counter() - t)
            cold = timed(lambda: page.locator("input[type=file]").set_input_files(photo), text("fake probability"))
            record("cold server: first photo upload -> verdict", cold)
            record("cold server: first photo upload -> every heatmap", cold + timed(lambda: None, faces_shown()))
            for _ in range(a.repeats):
                record("photo 1280x720: upload -> verdict", upload(photo, text("fake probability")))
                faces_shown()()
                record("photo 1280x720: upload -> every heatmap", upload(photo, faces_shown()))
            page.screenshot(path=str(shots / "app-photo.png"))
            slider_moves("photo page")
            if a.video:
                record(f"{Path(a.video).name}: first upload -> full page", upload(a.video, faces_shown(3)))
                for _ in range(a.repeats):
                    record(f"{Path(a.video).name}: upload -> full page", upload(a.video, faces_shown(3)))
                page.screenshot(path=str(shots / "app-video.png"))
                slider_moves("video page")

            page.goto(f"{url}/Game")
            for i in range(a.repeats + 1):
                page.get_by_role("button", name="Real", exact=True).wait_for(timeout=120_000)
                dt = timed(lambda: page.get_by_role("button", name="Real", exact=True).click(),
                           faces_shown(timeout=120_000))
                record("Game: answer -> reveal with heatmap" if i else "Game: first answer -> reveal", dt)
                page.get_by_role("button", name="Next round").click()
            page.screenshot(path=str(shots / "app-game.png"))
            b.close()
    print(f"| what (median of {a.repeats}; min-max) | seconds |\n|---|---|")
    for name, xs in results.items():
        print(f"| {name} | **{statistics.median(xs):.2f}** ({min(xs):.2f}-{max(xs):.2f}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
