"""Heavy objects, loaded once per server process and shared by every browser session."""
from __future__ import annotations

import os
import tempfile
from typing import Callable

import streamlit as st

from detector.decode import kind_of
from detector.errors import InputError
from detector.model import ModelCard, available_models, default_models_dir
from webui.views import top_frames


def _keep_keras_session() -> None:
    """Streamlit calls keras.backend.clear_session() after every script run (script_runner._clean_problem_modules).
    Our models are loaded once per process and shared, so clearing helps nothing, and it cost ~0.4 s per rerun
    plus ~0.5 s on the next classifier and Grad-CAM call (measured with py-spy on the Game's reveal: 1.8 s, of
    which 0.1 s was the analysis itself). Keep its other cleaning (matplotlib figures); private API, so guarded."""
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:
        return
    if getattr(script_runner, "_clean_problem_modules", None) is None or getattr(script_runner, "_keras_kept", False):
        return

    def clean_without_keras() -> None:
        import sys

        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")

    script_runner._clean_problem_modules = clean_without_keras
    script_runner._keras_kept = True


_keep_keras_session()


def model_cards() -> dict[str, ModelCard]:
    return {name: ModelCard.load(p.with_suffix(".json")) for name, p in available_models(default_models_dir()).items()}


@st.cache_resource(show_spinner="Loading the face detector and the model (once per server)...")
def get_detector(model_name: str | None = None):
    """One Detector per model per process. Its MTCNN is lock-protected and its classifier is a traced
    tf.function, so concurrent sessions can share it."""
    from detector.pipeline import Detector

    return Detector(model=model_name, models_dir=default_models_dir())


def analyse_upload(detector, name: str, data: bytes, progress: Callable[[int, int], None] | None = None):
    """Analyse uploaded bytes. Images stay in memory; videos go to a private temp file (0600, our own
    fixed-extension name, never the user's) that is removed afterwards. Raises InputError."""
    kind = kind_of(name)
    if kind is None:
        raise InputError("Unsupported file type. Upload an image (jpg, png, webp, bmp) or a video (mp4, mov, avi, webm, mkv).")
    if kind == "image":
        return detector.analyse_image(data, name=name)
    suffix = os.path.splitext(name)[1].lower()  # from the allow-list above
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="upload-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        result = detector.analyse_video(path, name=name, progress=progress, keep_frames=True)
    finally:
        os.remove(path)
    # A session keeps its last analysis (and Streamlit keeps a closed session for 2 minutes): hold on to the
    # pictures of the frames the page shows, not all 32 (~20 MB for a 1080p clip).
    keep = {fr.frame for fr in top_frames(result)}
    result.artifacts["frames"] = {k: v for k, v in result.artifacts["frames"].items() if k in keep}
    return result
