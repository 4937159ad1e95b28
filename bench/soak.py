"""Soak: real Chromium sessions upload images and videos in a loop to one `streamlit run` server for a while;
the server's memory is sampled every 10 s.

    python bench/soak.py --sessions 8 --minutes 10 [--models-dir DIR]

Each session opens the Detector page, uploads a 1280x720 one-face photo, waits for the verdict, reopens the
page, uploads a 4-second 640x360 one-face clip, waits for its verdict, and so on until time is up. Prints uploads
done, failures, and the server's RSS at start (server ready, nothing loaded), after warm-up (--warmup seconds,
default 180: Streamlit keeps a closed session's state for 120 s, so the number of sessions held only settles
after that) and at the end; goal: every upload gets a verdict and RSS stays flat after warm-up (growth < 10 %).
Exit status 1 otherwise.
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
from procmem import status_mb  # noqa: E402
from server import ROOT, streamlit_server  # noqa: E402


def make_inputs(folder: str) -> tuple[str, str]:
    import cv2
    import numpy as np
    from PIL import Image
    from skimage import data

    photo = os.path.join(folder, "photo.jpg")
    Image.fromarray(data.astronaut()).resize((1280, 1280)).crop((0, 0, 1280, 720)).save(photo)
    face = cv2.cvtColor(np.asarray(Image.fromarray(data.astronaut()).resize((360, 360))), cv2.COLOR_RGB2BGR)
    frame = np.zeros((360, 640, 3), np.uint8)
    clip = os.path.join(folder, "clip.mp4")
    vw = cv2.VideoWriter(clip, cv2.VideoWriter_fourcc(*"mp4v"), 25, (640, 360))
    for k in range(100):
        frame[:] = 30
        frame[:, 100 + k:460 + k] = face
        vw.write(frame)
    vw.release()
    return photo, clip


async def session(browser, url, files, deadline, stats, i, timeout_s):
    page = await browser.new_page()
    k = 0
    while time.time() < deadline:
        path = files[k % 2]
        try:
            await page.goto(f"{url}/Detector")
            await page.locator("input[type=file]").wait_for(state="attached", timeout=timeout_s * 1000)
            await page.locator("input[type=file]").set_input_files(path)
            await page.get_by_text("fake probability").first.wait_for(timeout=timeout_s * 1000)
            stats["done"] += 1
            stats["kinds"].setdefault(i, set()).add(k % 2)
        except Exception as e:  # a failed upload is counted and the loop goes on
            stats["failed"] += 1
            stats["errors"].append(f"session {i}: {type(e).__name__}: {str(e)[:120]}")
        k += 1
    await page.close()


async def run(url, files, n, minutes, timeout_s, samples):
    from playwright.async_api import async_playwright

    deadline = time.time() + 60 * minutes
    stats = {"done": 0, "failed": 0, "errors": [], "kinds": {}}

    async def sampler():
        t0 = time.time()
        while time.time() < deadline + 5:
            samples.append((time.time() - t0, status_mb(pid=url.pid), stats["done"],
                            sum(len(v) == 2 for v in stats["kinds"].values()) == n))
            await asyncio.sleep(10)

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        task = asyncio.create_task(sampler())
        await asyncio.gather(*(session(browser, url, files, deadline, stats, i, timeout_s) for i in range(n)))
        task.cancel()
        await browser.close()
    return stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--models-dir", default=None)
    ap.add_argument("--warmup", type=float, default=180, help="seconds before the warm RSS is taken")
    ap.add_argument("--timeout", type=float, default=300, help="seconds one upload may take before it counts as failed")
    a = ap.parse_args()
    files = make_inputs(tempfile.mkdtemp())
    env = {"DEEPFAKE_MODELS_DIR": a.models_dir} if a.models_dir else {}
    samples: list = []
    with streamlit_server(env) as url:
        start = status_mb(pid=url.pid)
        stats = asyncio.run(run(url, files, a.sessions, a.minutes, a.timeout, samples))
        end = status_mb(pid=url.pid)
    warm = next((s for s in samples if s[0] >= a.warmup and s[3]), samples[-1] if samples else (0, end, 0, True))
    growth = (end - warm[1]) / warm[1] if warm[1] else float("nan")
    for t, rss, done, _ in samples:
        print(f"  t={t:5.0f} s  RSS {rss:7.0f} MB  uploads done {done}")
    for e in stats["errors"][:10]:
        print(f"  {e}")
    print(f"sessions={a.sessions} minutes={a.minutes:g} uploads={stats['done']} failed={stats['failed']} "
          f"rss_start_mb={start:.0f} rss_warm_mb={warm[1]:.0f} (t={warm[0]:.0f} s) rss_end_mb={end:.0f} "
          f"growth_after_warmup={100 * growth:.1f}%")
    return 0 if stats["failed"] == 0 and stats["done"] and growth < 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
