"""Heavy objects, loaded once per server process and shared by every browser session."""
from __future__ import annotations

import logging
import os
import tempfile
import threading
from typing import Callable

import numpy as np
import streamlit as st
from streamlit import runtime

from detector.bundle import bundle_dir
from detector.decode import ACCEPTED_FORMATS, kind_of, load_image
from detector.errors import InputError
from detector.model import ModelCard, available_models, default_models_dir
from webui.deck import DeckError, configured_deck, deck_name, load_deck
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


def get_detector(model_name: str | None = None):
    """One warmed-up Detector per model per process, whichever page asks: None is resolved to the default model's
    name, so the Game (no choice) and the Detector page (default picked in its list) share one copy. Its MTCNN is
    lock-protected and its classifier a traced tf.function, so concurrent sessions can share it."""
    models_dir = str(default_models_dir())
    return _cached_detector(model_name or next(iter(available_models(models_dir)), None), models_dir)


@st.cache_resource(show_spinner="Loading the face detector and the model (once per server)...")
def _cached_detector(model_name: str | None, models_dir: str):
    from detector.pipeline import Detector

    detector = Detector(model=model_name, models_dir=models_dir)
    warm_up(detector)
    return detector


def warm_up(detector) -> None:
    """Run the path of a first photo once (MTCNN, classifier, heatmap), so that the first visitor's photo costs
    what later ones do: the first calls trace TensorFlow graphs (~5 s to a first verdict, ~10 s with its heatmap,
    on this 2-core machine). MTCNN retraces for the next couple of new picture sizes (+0.15 s each) and then
    settles, so three sizes."""
    from detector.explain import face_heatmap

    shipped = sorted((bundle_dir() / "data" / "game_deck" / "Real").glob("*.jpg"))[:1]
    noise = np.random.default_rng(0).integers(0, 255, (256, 256, 3), np.uint8)  # scored as a close-up
    face = load_image(str(shipped[0])) if shipped else noise
    pictures = [face]
    for h, w in ((720, 1280), (768, 1024)):
        pictures.append(np.zeros((h, w, 3), np.uint8))
        pictures[-1][100:100 + face.shape[0], 200:200 + face.shape[1]] = face[:h - 100, :w - 200]
    for image in pictures:
        result = detector.analyse_image(image, name="warm-up")
        if result.faces:
            face_heatmap(detector.classifier, result, 0)
    warm_up_video(detector, pictures[1])
    import altair  # noqa: F401  (the first clip's timeline imports it: 1.6 s here)


def warm_up_video(detector, frame: np.ndarray) -> None:
    """A clip's path once (batched detection, tracking, the classifier on a batch): without it the first clip
    after a start took 22 s and the next ones 16 s (bench/app_latency.py --video, a loaded machine)."""
    import cv2

    fd, path = tempfile.mkstemp(suffix=".mp4", prefix="warm-up-")
    os.close(fd)
    try:
        out = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 25, (frame.shape[1], frame.shape[0]))
        for i in range(40):
            out.write(cv2.cvtColor(np.roll(frame, i, axis=1), cv2.COLOR_RGB2BGR))
        out.release()
        detector.analyse_video(path, name="warm-up", keep_frames=True)
    finally:
        os.remove(path)


_warm_up_started = threading.Event()


def warm_up_in_background() -> None:
    """Once per process: load and warm the default model in a thread, started with the server by webui.launch
    (`./run.sh app`, `deepfake-app`), else by the server's first script run (this module's import under a bare
    `streamlit run`), so it is ready before the first visitor has picked a file. A page that needs it
    sooner waits for it (st.cache_resource lets one thread compute a value, the others wait)."""
    if _warm_up_started.is_set() or not available_models(default_models_dir()):
        return
    _warm_up_started.set()
    models_dir = str(default_models_dir())  # read here: the thread must not depend on later changes to os.environ

    def run() -> None:
        import sys
        import time

        t = time.perf_counter()
        try:
            _cached_detector(next(iter(available_models(models_dir))), models_dir)
            # One line in the server log: the operator (and bench/app_latency.py) see when uploads run at full speed.
            print(f"Model ready ({time.perf_counter() - t:.1f} s to load and warm up).", file=sys.stderr, flush=True)
        except Exception:  # the page that needs the model will show the problem; the server log gets the detail
            logging.getLogger(__name__).exception("warming up the model failed")

    threading.Thread(target=run, name="model-warm-up", daemon=True).start()


def game_deck() -> tuple[str, dict[str, list[str]]]:
    """(display name, deck) of the deck the server is configured with. Raises DeckError (a visitor-safe message)."""
    path = configured_deck()
    if path is None:
        raise DeckError("No deck is configured on this server.")
    return deck_name(path), _cached_deck(str(path))


@st.cache_resource(show_spinner=False, ttl=600)  # a folder changed on disk shows up within 10 minutes
def _cached_deck(path: str) -> dict[str, list[str]]:
    return load_deck(path)


def analyse_upload(detector, name: str, data: bytes, progress: Callable[[int, int], None] | None = None):
    """Analyse uploaded bytes. Images stay in memory; videos go to a private temp file (0600, our own
    fixed-extension name, never the user's) that is removed afterwards. Raises InputError."""
    kind = kind_of(name)
    if kind is None:
        ext = os.path.splitext(name)[1].lower()
        raise InputError(f"Unsupported file type ({ext or 'no extension'}): the detector reads {ACCEPTED_FORMATS}.")
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


if runtime.exists():  # imported by the server's first script run, whichever page it is
    warm_up_in_background()
