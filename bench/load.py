"""Load check: several real browser sessions upload at once to one `streamlit run` server; all must get verdicts.

    python bench/load.py --sessions 6 [--image photo.jpg] [--models-dir DIR]

Starts the server itself on a free loopback port (bounded: each session waits at most --timeout seconds),
drives Debian's Chromium with Playwright's async API, prints per-session upload-to-verdict times.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import streamlit_server  # noqa: E402


async def one_session(browser, url: str, image: str, i: int, timeout_s: float):
    page = await browser.new_page()
    await page.goto(f"{url}/Detector")
    await page.locator("input[type=file]").wait_for(state="attached", timeout=timeout_s * 1000)
    t0 = time.perf_counter()
    await page.locator("input[type=file]").set_input_files(image)
    await page.get_by_text("fake probability").first.wait_for(timeout=timeout_s * 1000)
    dt = time.perf_counter() - t0
    text = await page.get_by_text("Likely").first.inner_text()
    await page.close()
    return i, dt, text.strip().splitlines()[0]


async def run(url: str, image: str, n: int, timeout_s: float):
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        results = await asyncio.gather(*(one_session(browser, url, image, i, timeout_s) for i in range(n)),
                                       return_exceptions=True)
        await browser.close()
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sessions", type=int, default=6)
    ap.add_argument("--image", default=None, help="default: a 1280x720 photo with one face (scikit-image)")
    ap.add_argument("--models-dir", default=None)
    ap.add_argument("--timeout", type=float, default=180)
    a = ap.parse_args()
    image = a.image
    if image is None:
        from PIL import Image
        from skimage import data

        image = os.path.join(tempfile.mkdtemp(), "photo.jpg")
        Image.fromarray(data.astronaut()).resize((1280, 1280)).crop((0, 0, 1280, 720)).save(image)
    env = {"DEEPFAKE_MODELS_DIR": a.models_dir} if a.models_dir else {}
    with streamlit_server(env) as url:
        t0 = time.perf_counter()
        results = asyncio.run(run(url, image, a.sessions, a.timeout))
        wall = time.perf_counter() - t0
    ok = [r for r in results if not isinstance(r, BaseException)]
    for r in results:
        print(f"  session {r[0]}: {r[1]:.1f} s -> {r[2]}" if not isinstance(r, BaseException) else f"  FAILED: {r!r}")
    print(f"{len(ok)}/{a.sessions} sessions got a verdict; {wall:.1f} s wall for all (includes the first model load)")
    return 0 if len(ok) == a.sessions else 1


if __name__ == "__main__":
    sys.exit(main())
