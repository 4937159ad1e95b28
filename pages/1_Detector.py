"""Detector: upload an image or a video, get a verdict, the faces, heatmaps and (videos) a timeline."""
import pandas as pd
import streamlit as st

from detector.aggregate import DEFAULT_STRATEGY, STRATEGIES
from detector.decode import ACCEPTED_FORMATS
from detector.errors import InputError
from detector.explain import visible
from detector.pipeline import FACE_SIZE_NOTE, decide
from detector.provenance import stamp
from detector.report import report_html, report_json, report_names
from webui.evidence import credentials_banner, evidence_section
from webui.resources import analyse_upload, get_detector, model_cards
from detector.model import THRESHOLD_STEP
from detector.report import CALL_WORDS, THRESHOLD_AND_BAND, band_text, faces_seen
from webui.views import (boxed_image, device_caption, face_gallery, sidebar_nav, timeline_chart, top_frames,
                         verdict_banner)

st.set_page_config(page_title="Detector", page_icon="🔎", layout="wide")
sidebar_nav()
st.title("Detector")

cards = model_cards()
if not cards:
    st.error("No model found in models/. Train one with `python train.py --data DIR` (see README).")
    st.stop()
with st.sidebar:
    model_name = st.selectbox("Model", list(cards), help="The first is the default, the best measured one.")
# No `type=`: Streamlit would refuse another file in the browser with only a red chip (its reason on hover); taken
# in, it gets the page's plain message (analyse_upload), and the label says what is read.
upload = st.file_uploader(f"Upload {ACCEPTED_FORMATS}, up to 200 MB")
with st.sidebar:
    # The key names the upload: a new file starts again at the card's threshold, not at the last file's.
    # The band stays the card's; away from the card's threshold, the user's threshold calls every face
    # (ModelCard.band_at).
    card = cards[model_name]
    threshold = st.slider("Fake threshold", 0.0, 1.0, float(card.threshold), THRESHOLD_STEP, format="%.3f",
                          key=f"threshold-{model_name}-{upload.file_id if upload else ''}",
                          help="A face is called fake when its probability is at least this. "
                          "Starts at the model card's threshold (chosen on validation data), unrounded, so the "
                          "page, its report and the command line agree.")
    st.caption(THRESHOLD_AND_BAND + (f" This model's threshold: {card.threshold:.3f}; its unsure band: "
                                     f"{band_text(card.band)}." if card.band and card.band[0] < card.band[1] else ""))
    with st.expander("Advanced"):
        strategy = st.selectbox("Video aggregation", list(STRATEGIES), index=list(STRATEGIES).index(DEFAULT_STRATEGY),
                                help="confident_mean: average the confident frames (DFDC winner); "
                                "max_face_mean: most fake face per frame, then mean (SBI); mean: plain mean.")
    device_caption()

if upload is None:
    st.info(f"Drop {ACCEPTED_FORMATS} above. {FACE_SIZE_NOTE}")
    st.stop()
# Only now: the uploader is usable while the model loads (or is warmed up) on a cold server.
detector = get_detector(model_name)

# Each upload has its own id (the same file uploaded again too): no need to hash 200 MB on every slider move.
key = (model_name, upload.file_id)
if st.session_state.get("analysis", (None,))[0] != key:  # reruns (slider moves) reuse the last analysis only
    bar = st.progress(0.0, text="Analysing...")
    try:
        data = upload.getvalue()
        result = analyse_upload(detector, upload.name, data,
                                progress=lambda d, t: bar.progress(min(d / max(t, 1), 1.0), text=f"Frame {d} of {t}"))
        stamp(result, detector.card, data)
    except InputError as e:
        result = str(e)
    except Exception as e:  # never a traceback in the page; the next upload still works
        result = f"Something went wrong while analysing this file ({type(e).__name__})."
    st.session_state["analysis"] = (key, result)
    bar.empty()
result = st.session_state["analysis"][1]
if isinstance(result, str):
    st.error(f"**Cannot analyse this file.** {result}")
    st.stop()

decide(result, threshold, strategy, card=detector.card)
st.text(f"File: {upload.name}")
verdict_banner(result, detector.card)
credentials_banner(result)
json_name, html_name = report_names(upload.name)
json_col, html_col = st.columns(2)
json_col.download_button("Download the JSON report", report_json(result), file_name=json_name,
                         mime="application/json", on_click="ignore")
# The HTML (heatmaps as PNGs) is built only when clicked, never on a slider move.
html_col.download_button("Download the printable report (HTML)",
                         lambda: report_html(result, detector.classifier, upload.name), file_name=html_name,
                         mime="text/html", on_click="ignore")

if result.kind == "image":
    if result.faces:
        left, right = st.columns([3, 2])
        with left:
            boxed_image(result.artifacts["image"], result.faces, threshold,
                        caption=f"{len(result.faces)} face(s) found; red = likely fake, orange = inconclusive, "
                        "green = likely real")
        with right:
            st.metric("Faces found", len(result.faces))
            counted = "" if all(f.counted for f in result.faces) else " (of those counted)"
            st.metric(f"Most fake face{counted}", f"{100 * result.fake_probability:.1f}%")
        st.subheader("Each face, and why")
        face_gallery(detector, result, range(len(result.faces)))
    else:
        st.image(result.artifacts["image"], output_format="JPEG")  # natural size: a small picture is not blown up
else:
    c1, c2, c3 = st.columns(3)
    c1.metric("Duration", f"{result.duration_s:.1f} s")
    c2.metric("Frames analysed", len(result.frames))
    c3.metric("People", sum(p.counted for p in result.persons))
    st.markdown(faces_seen(result))
    st.caption(f"Per-person aggregation: {result.strategy} (change it under Advanced in the sidebar). "
               f"Analysed in {sum(result.timings.values()):.1f} s.")
    if result.faces:
        st.subheader("Fake probability over time")
        st.altair_chart(timeline_chart(result, band=detector.card.band), width="stretch")
        st.caption("Dashed red line: the threshold; orange band: the model's unsure band (inconclusive at its own "
                   "threshold). Each line is one person followed through the sampled frames; a gap is where that "
                   "person was not seen.")
        st.dataframe(pd.DataFrame([{"person": p.person + 1, "fake probability": round(p.fake_probability, 3),
                                    "call": CALL_WORDS[p.call], "counted": p.counted,
                                    "seen in": f"{p.n_faces} of {len(result.frames)} frames"}
                                   for p in result.persons]), hide_index=True)
        st.subheader("Most suspicious frames")
        for fr in top_frames(result):
            idx = [i for i, f in enumerate(result.faces) if f.frame == fr.frame]
            faces = [result.faces[i] for i in idx]
            thumb = result.artifacts["frames"][fr.frame]
            left, right = st.columns([3, 2])
            with left:
                shown = visible(thumb)  # a dim room's frame, brightened so the face can be seen (display only)
                boxed_image(shown, faces, threshold, scale=thumb.shape[1] / result.width,
                            caption=f"t = {fr.time_s:.1f} s (frame {fr.frame})"
                            + (", brightened for display" if shown is not thumb else ""))
            with right:
                face_gallery(detector, result, idx, columns=2)

evidence_section(result)
