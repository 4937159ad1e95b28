"""Streamlit glue shared by app.py and pages/: cached resources, the game's deck, reusable layout pieces.
All analysis goes through the `detector` package."""
