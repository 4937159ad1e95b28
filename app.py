"""Placeholder home page: the Streamlit app (issue #4) is not built yet. Use the CLI: python -m detector PATH"""
import streamlit as st

st.title("Deepfake detector")
st.warning("The web app is not built yet. The command-line scanner works: `python -m detector PATH`.")
