"""Entry point (`streamlit run app.py`): the navigation between the pages in pages/, which hold the layout."""
import streamlit as st

st.set_page_config(page_title="Deepfake detector", page_icon="🔎", layout="wide")
st.navigation([
    st.Page("pages/0_Home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/1_Detector.py", title="Detector", icon="🔎", url_path="Detector"),
    st.Page("pages/2_Game.py", title="Game", icon="🎮", url_path="Game"),
]).run()
