"""Home page: what the tool does, the bundled model's card in plain words, the device, links to the modes."""
import streamlit as st

from detector.colour import caught_without_colour
from webui.resources import model_cards
from webui.views import device_caption, sidebar_nav

st.set_page_config(page_title="Deepfake detector", page_icon="🔎", layout="wide")
sidebar_nav()
st.title("Deepfake detector")
st.markdown(
    """
Upload a **photo or a video** and this tool finds every face, scores each one with a neural network trained to
tell real faces from face-swap deepfakes, GAN-generated faces and blended faces, and shows **why** with a heatmap.
For videos it samples 32 frames, follows each person through them and plots the fake probability over time.

**What it does not do:** it gives a probability, not proof. It has only seen the kinds of fakes it was trained
on (see below); a new manipulation method, heavy compression, tiny or side-on faces can fool it either way.
Treat a verdict as one clue among others. Nothing you upload is stored: files are analysed in memory or in a
temporary file that is deleted right after.
"""
)
c1, c2 = st.columns(2)
# Buttons, not st.page_link: a page link is drawn as plain text and nobody saw it could be clicked.
if c1.button("**Detector**: check your own image or video", icon=":material/search:", type="primary", width="stretch"):
    st.switch_page("pages/1_Detector.py")
if c2.button("**Game**: can you spot the fakes better than the model?", icon=":material/sports_esports:",
             type="primary", width="stretch"):
    st.switch_page("pages/2_Game.py")

st.subheader("The model")
cards = model_cards()
if not cards:
    st.error("No model found in models/. Train one with `python train.py --data DIR` (see README).")
for name, card in cards.items():
    info = card.info
    tr = info.get("training", {})
    with st.expander(f"{name}{' (default)' if card.default else ''}", expanded=card.default):
        sources = tr.get("sources") or {}
        data = ", ".join(f"{n} ({s['train_items']:,} {'real faces self-blended' if s['kind'] == 'sbi' else 'real/fake pairs'})"
                         for n, s in sources.items()) or (
            f"{', '.join(tr.get('data', [])) or 'unknown'} ({tr.get('train_pairs', '?')} real/fake pairs)")
        init = tr.get("weights_init", "none")
        start = {"none": "random weights", "random": "random weights", "imagenet": "ImageNet weights"}.get(init, init)
        st.markdown(
            f"- **Trained on:** {data}; {tr.get('epochs_run', '?')} epochs from {start} "
            f"in {tr.get('seconds', 0) / 60:.0f} min on {tr.get('hardware', '?')}.\n"
            f"- **Network:** {info.get('architecture', 'unknown').split(' (')[0]}; it looks at face crops resized to "
            f"{card.input_size}×{card.input_size} pixels.\n"
            f"- **Calls a face fake** when its fake probability is at least **{100 * card.threshold:.0f}%** "
            "(you can move this threshold in the Detector's sidebar)."
        )
        if card.band and card.band[0] < card.band[1]:
            st.markdown(f"- **Says inconclusive** from {100 * card.band[0]:.0f}% to {100 * card.band[1]:.0f}%: "
                        "the scores where, on validation data, its calls were wrong too often to be trusted. "
                        "Move the threshold and yours calls every face; one in that band is marked unsure.")
        for test_name, m in (info.get("metrics_full_path") or info.get("metrics_on_crops") or {}).items():
            if test_name == "Validation":
                continue
            if m.get("auc") is None or m["auc"] != m["auc"]:  # real photos only: the error that matters is a false alarm
                st.markdown(f"- **On {test_name}, real photos only:** calls "
                            f"{100 * m.get('share_of_reals_called_fake', 1 - m['accuracy']):.0f}% of them fake.")
                continue
            st.markdown(
                f"- **On {test_name} test images it has never seen:** right {100 * m['accuracy']:.0f}% of the time; "
                f"catches {100 * m['recall']:.0f}% of fakes; when it says fake it is right {100 * m['precision']:.0f}% "
                f"of the time; ranking quality (AUC) {m['auc']:.2f} (0.5 = coin flip, 1 = perfect)."
            )
        if caught_without_colour(info):
            st.markdown(f"- **Black-and-white pictures:** turned black and white, it caught {caught_without_colour(info)}"
                        ". Such pictures get a warning.")
        st.caption(info.get("licence", ""))
device_caption()
