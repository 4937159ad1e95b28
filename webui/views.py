"""Layout pieces used by more than one page. Text from users is shown with st.text/captions, never as HTML."""
from __future__ import annotations

import streamlit as st

from detector.explain import draw_faces, gradcam, overlay

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
    if result.threshold is not None and result.fake_probability is not None:
        st.caption(f"Called fake at or above {100 * result.threshold:.0f}% (sidebar threshold). "
                   f"Model: {result.model}.")


def face_gallery(detector, faces, crops, threshold: float, heatmaps: bool = True, columns: int = 4) -> None:
    """One card per face: its crop, the Grad-CAM heatmap and its score."""
    cols = st.columns(columns)
    for i, (face, crop) in enumerate(zip(faces, crops)):
        with cols[i % columns]:
            label = "fake" if face.fake_probability >= threshold else "real"
            where = f" · frame {face.frame}" if face.frame is not None else ""
            st.markdown(f"**Face #{i + 1}**: {100 * face.fake_probability:.1f}% fake ({label}){where}")
            if heatmaps and i < MAX_HEATMAPS:
                st.image(overlay(crop, gradcam(detector.classifier, crop)), width="stretch",
                         caption="Grad-CAM: red = what pushed the score towards fake")
            else:
                st.image(crop, width="stretch")


def boxed_image(image, faces, threshold: float, scale: float = 1.0, caption: str | None = None) -> None:
    st.image(draw_faces(image, faces, threshold, scale=scale), caption=caption, width="stretch")


def device_caption() -> None:
    from detector.device import tf_device

    st.caption(f"Computing on: {tf_device()[1]}")
