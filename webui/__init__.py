"""Streamlit glue shared by app.py and pages/: cached resources, the game's deck, reusable layout pieces.
All analysis goes through the `detector` package."""

from .server_log import quiet_server_log

quiet_server_log()  # before any page imports TensorFlow
