"""Upload-to-verdict time in a real browser (Debian Chromium + Playwright) against `streamlit run`, bundled model.

    python bench/app_latency.py [--video ../shared/datasets/videos/Fake/abofeumbvv.mp4]

Measures a 1280x720 photo with one face (written by the script) and, if given, a video; each after the model is
loaded (a first warm-up upload is not timed). Screenshots go to artifacts/app-*.png.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import ROOT, streamlit_server  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--video", default=None)
    a = ap.parse_args()
    from PIL import Image
    from playwright.sync_api import sync_playwright
    from skimage import data

    photo = os.path.join(tempfile.mkdtemp(), "photo_1280x720.jpg")
    Image.fromarray(data.astronaut()).resize((1280, 1280)).crop((0, 0, 1280, 720)).save(photo)
    shots = ROOT / "artifacts"
    shots.mkdir(exist_ok=True)
    with streamlit_server() as url:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                  args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = b.new_page(viewport={"width": 1280, "height": 2600})

            def upload(path, done_text, name):
                page.goto(f"{url}/Detector")
                page.locator("input[type=file]").wait_for(state="attached", timeout=180_000)
                t = time.perf_counter()
                page.locator("input[type=file]").set_input_files(path)
                page.get_by_text(done_text).first.wait_for(timeout=300_000)
                dt = time.perf_counter() - t
                page.wait_for_timeout(1500)
                page.screenshot(path=str(shots / f"app-{name}.png"))
                return dt

            upload(photo, "Face #1", "warmup")
            print(f"1280x720 photo, upload to verdict: {upload(photo, 'fake probability', 'photo'):.2f} s "
                  f"(to every face's heatmap: {upload(photo, 'Face #1', 'photo-heatmap'):.2f} s)")
            if a.video:
                print(f"{Path(a.video).name}, upload to verdict: "
                      f"{upload(a.video, 'fake probability', 'video'):.2f} s "
                      f"(to the full page with suspicious frames: {upload(a.video, 'Grad-CAM', 'video-full'):.2f} s)")
            page.goto(f"{url}/")
            page.get_by_text("The model").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(shots / "app-home.png"))
            b.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
