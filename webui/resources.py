"""Heavy objects, loaded once per server process and shared by every browser session."""
from __future__ import annotations

import os
import tempfile
from typing import Callable

import streamlit as st

from detector.decode import kind_of
from detector.errors import InputError
from detector.model import ModelCard, available_models, default_models_dir


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
        return detector.analyse_video(path, name=name, progress=progress, keep_frames=True)
    finally:
        os.remove(path)
