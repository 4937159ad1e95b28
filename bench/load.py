"""Load check: several real browser sessions upload at once to one `streamlit run` server; all must get verdicts.

    python bench/load.py --sessions 6 [--image photo.jpg] [--models-dir DIR]

Starts the server itself on a free loopback port (bounded: each session waits at most --timeout seconds),
drives Debian's Chromium with Playwright's async API, prints per-session upload-to-verdict times.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    port = free_port()
    env = dict(os.environ)
    if a.models_dir:
        env["DEEPFAKE_MODELS_DIR"] = a.models_dir
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                               "--server.address", "127.0.0.1"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        t0 = time.perf_counter()
        results = asyncio.run(run(url, image, a.sessions, a.timeout))
        wall = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(timeout=20)
    ok = [r for r in results if not isinstance(r, BaseException)]
    for r in results:
        print(f"  session {r[0]}: {r[1]:.1f} s -> {r[2]}" if not isinstance(r, BaseException) else f"  FAILED: {r!r}")
    print(f"{len(ok)}/{a.sessions} sessions got a verdict; {wall:.1f} s wall for all (includes the first model load)")
    return 0 if len(ok) == a.sessions else 1


if __name__ == "__main__":
    sys.exit(main())
