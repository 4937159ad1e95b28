"""Helpers shared by tests."""
from pathlib import Path


def write_video(path: Path, frames, fps: float = 25.0, fourcc: str = "mp4v") -> Path:
    import cv2

    h, w = frames[0].shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    assert vw.isOpened()
    for f in frames:
        vw.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    vw.release()
    return path


def app_page(page: str, timeout: float = 120):
    """AppTest of one page as the server runs it: app.py is the main script, `page` (e.g. "pages/1_Detector.py")
    the page shown. Call .run() on it."""
    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parent.parent
    at = AppTest.from_file(str(root / "app.py"), default_timeout=timeout)
    at.switch_page(page)
    return at
