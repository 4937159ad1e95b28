"""The app server's log: only what an operator needs. Called once when the `webui` package is first imported,
which every page does before anything imports TensorFlow (a page opened by its URL runs without app.py)."""
from __future__ import annotations

import logging
import os
import threading

# Threads the app starts itself that go through st.cache_resource (its spinner asks for a ScriptRunContext, which
# only a script run's thread has). Their work needs no page: Streamlit's "missing ScriptRunContext" warning
# about them is noise. Other threads keep the warning, where it may point at a real mistake.
BACKGROUND_THREADS = ("model-warm-up",)
_CONTEXT_LOGGER = "streamlit.runtime.scriptrunner_utils.script_run_context"


def _not_our_background_thread(record: logging.LogRecord) -> bool:
    return not (threading.current_thread().name.startswith(BACKGROUND_THREADS)
                and "missing ScriptRunContext" in record.getMessage())


def quiet_server_log() -> None:
    """TensorFlow's C++ info and warning lines (the CPU-feature notice) off, its errors kept: read once, when
    TensorFlow is first imported, so this must run before that. Idempotent."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logger = logging.getLogger(_CONTEXT_LOGGER)
    if _not_our_background_thread not in logger.filters:
        logger.addFilter(_not_our_background_thread)
