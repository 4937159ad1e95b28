"""Layout pieces used by more than one page. Text from users is shown with st.text/captions, never as HTML."""
from __future__ import annotations

import streamlit as st

from detector.explain import draw_faces, face_heatmap
from detector.report import top_frames  # noqa: F401  (the pages and webui.resources import it from here)

MAX_HEATMAPS = 8  # Grad-CAM costs ~0.1-0.3 s a face on a CPU


def verdict_banner(result) -> None:
    if result.verdict == "fake":
        st.error(f"### Likely FAKE — {100 * result.fake_probability:.0f}% fake probability")
    elif result.verdict == "real":
        st.success(f"### Likely REAL — {100 * result.fake_probability:.0f}% fake probability")
    elif result.verdict == "no_face":
        st.warning(f"### No face found\n{result.message}")
    else:
        st.error(f"### Cannot analyse this file\n{result.message}")
    if result.verdict in ("real", "fake") and result.message:  # e.g. a close-up scored as one face
        st.info(result.message)
    if result.threshold is not None and result.fake_probability is not None:
        st.caption(f"Called fake at or above {100 * result.threshold:.1f}% (threshold {result.threshold:.4f}). "
                   f"Model: {result.model}.")


def heatmap(detector, result, i: int):
    """Face i's Grad-CAM overlay, computed once per analysis (moving the threshold only redraws)."""
    return face_heatmap(detector.classifier, result, i)


def face_gallery(detector, result, indices, threshold: float, columns: int = 4, width: int | str = "stretch") -> None:
    """One card per face (indices into result.faces): its score, and its Grad-CAM heatmap (the first
    MAX_HEATMAPS) or plain crop."""
    cols = st.columns(columns)
    for n, i in enumerate(indices):
        face = result.faces[i]
        with cols[n % columns]:
            label = "fake" if face.fake_probability >= threshold else "real"
            where = f" · frame {face.frame}" if face.frame is not None else ""
            st.markdown(f"**Face #{n + 1}**: {100 * face.fake_probability:.1f}% fake ({label}){where}")
            if n < MAX_HEATMAPS:
                st.image(heatmap(detector, result, i), width=width, output_format="JPEG",
                         caption="Grad-CAM: red = what pushed the score towards fake")
            else:
                st.image(result.artifacts["crops"][i], width=width, output_format="JPEG")


def boxed_image(image, faces, threshold: float, scale: float = 1.0, caption: str | None = None) -> None:
    # JPEG: a page rerun (every slider move) re-encodes the pictures it shows, and PNG costs ~10x more.
    # Natural width (at most the column's): a 200 px picture is not blown up to 900 px.
    st.image(draw_faces(image, faces, threshold, scale=scale), caption=caption, width="content", output_format="JPEG")


def sidebar_nav() -> None:
    """The navigation at the top of the sidebar (Streamlit's own would label app.py "app")."""
    with st.sidebar:
        st.page_link("app.py", label="Home", icon=":material/home:")
        st.page_link("pages/1_Detector.py", label="Detector", icon=":material/search:")
        st.page_link("pages/2_Game.py", label="Game", icon=":material/sports_esports:")
        st.divider()


def device_caption() -> None:
    from detector.device import tf_device

    st.caption(f"Computing on: {tf_device()[1]}")
