"""Layout pieces used by more than one page. Text from users is shown with st.text/captions, never as HTML."""
from __future__ import annotations

import streamlit as st

from detector.explain import draw_faces, face_heatmap
from detector.report import (CALL_WORDS, HEADLINES, NOT_COUNTED_MARK, UNFAMILIAR_MARK, UNSURE_MARK,
                             black_and_white_warning, inconclusive_advice, shows_fake_map, threshold_note,
                             unfamiliar_warning, unsure_note)
from detector.report import top_frames  # noqa: F401  (the pages and webui.resources import it from here)

MAX_HEATMAPS = 8  # a map costs ~0.05-0.3 s a face on a CPU
SMALL_PICTURE = 400  # px: narrower pictures are shown at their own width, never blown up to their column's
# A face card's caption under its picture: bench/app_latency.py counts them to know every card is drawn.
HEATMAP_CAPTION = "LayerCAM: red = what pushed the score towards fake most"
NO_MAP_CAPTION = "Called likely real: no map of fake evidence"


def verdict_banner(result, card=None) -> None:
    """The call, in the colour it deserves: red likely fake, green likely real, and inconclusive in neither
    (orange, with what to do next), so an unsure score never looks like an answer."""
    if result.call in HEADLINES:
        headline = f"### {HEADLINES[result.call]} — {100 * result.fake_probability:.0f}% fake probability"
        if result.call == "likely_fake":
            st.error(headline)
        elif result.call == "likely_real":
            st.success(headline)
        else:
            st.warning(f"{headline}\n{inconclusive_advice(result)}", icon=":material/help:")
    elif result.verdict == "no_face":
        st.warning(f"### No face found\n{result.message}")
    else:
        st.error(f"### Cannot analyse this file\n{result.message}")
    if unsure_note(result, card):
        st.info(unsure_note(result, card), icon=":material/tune:")
    doubt_warnings(result, card)
    if result.verdict in ("real", "fake") and result.message:  # e.g. a close-up scored as one face
        st.info(result.message)
    if result.threshold is not None and result.fake_probability is not None:
        st.caption(f"{threshold_note(result, card)} Model: {result.model}.")


def doubt_warnings(result, card) -> None:
    """Beside a verdict, whatever its colour, wherever it is shown (Detector, the Game's reveal): the warnings
    that the score itself is in doubt (a face unlike the training pictures, a black-and-white picture)."""
    for warning in (unfamiliar_warning(result), black_and_white_warning(result, card)):
        if warning:
            st.warning(warning, icon=":material/warning:")


def heatmap(detector, result, i: int):
    """Face i's heatmap overlay, computed once per analysis (moving the threshold only redraws)."""
    return face_heatmap(detector.classifier, result, i)


def face_gallery(detector, result, indices, columns: int = 4, width: int | str = "stretch") -> None:
    """One card per face (indices into result.faces): its score and call, and its heatmap (the first
    MAX_HEATMAPS faces called fake or inconclusive) or plain crop, as decided at the result's threshold."""
    cols = st.columns(columns)
    own = detector.card.is_own_threshold(result.threshold)
    for n, i in enumerate(indices):
        face = result.faces[i]
        with cols[n % columns]:
            where = f" · frame {face.frame}" if face.frame is not None else ""
            st.markdown(f"**Face #{n + 1}**: {100 * face.fake_probability:.1f}% fake "
                        f"({CALL_WORDS.get(face.call, face.verdict)}){where}"
                        + (f" · :orange[{UNFAMILIAR_MARK}]" if face.unfamiliar else "")
                        + (f" · :orange[{UNSURE_MARK}]" if not own and detector.card.unsure(face.fake_probability)
                           else "")
                        + ("" if face.counted else f" · :grey[{NOT_COUNTED_MARK}]"))
            if n < MAX_HEATMAPS and shows_fake_map(face):
                st.image(heatmap(detector, result, i), width=width, output_format="JPEG",
                         caption=HEATMAP_CAPTION)
            else:
                st.image(result.artifacts["crops"][i], width=width, output_format="JPEG",
                         caption=None if n >= MAX_HEATMAPS else NO_MAP_CAPTION)


def timeline_chart(result, band=None):
    """Fake probability over time, one line per person, broken where the person was not seen (a gap, not a line
    across frames without the face); the threshold dashed red and the model's unsure band (`band`, default the
    one in force) shaded orange."""
    import altair as alt
    import pandas as pd

    from detector.report import person_segments

    rows = [{"time (s)": t, "fake probability": p, "person": f"person {pid + 1}", "segment": f"{pid}-{k}"}
            for pid in sorted({f.person for f in result.faces}) for k, seg in enumerate(person_segments(result, pid))
            for t, p in seg]
    # One title for the shared axis: each layer's field would otherwise join it ("low, high, fake probability").
    y = alt.Y("fake probability:Q", scale=alt.Scale(domain=[0, 1]), title="fake probability")
    chart = alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
        x="time (s):Q", y=y, color="person:N", detail="segment:N")
    chart += alt.Chart(pd.DataFrame({"fake probability": [result.threshold]})).mark_rule(
        color="red", strokeDash=[4, 4]).encode(y=alt.Y("fake probability:Q", title="fake probability"))
    low, high = band or result.band
    if low < high:
        chart = alt.Chart(pd.DataFrame({"low": [low], "high": [high]})).mark_rect(
            color="orange", opacity=0.15).encode(y=alt.Y("low:Q", scale=alt.Scale(domain=[0, 1]), title="fake probability"),
                                               y2=alt.Y2("high:Q", title=None)) + chart
    return chart


def boxed_image(image, faces, threshold: float, scale: float = 1.0, caption: str | None = None) -> None:
    # JPEG: a page rerun (every slider move) re-encodes the pictures it shows, and PNG costs ~10x more.
    # A small picture at its own width (width="content" blew a 150 px photo up to ~425 px); a larger one fills its
    # column (an int width wider than the column overflows it, over its neighbour).
    picture = draw_faces(image, faces, threshold, scale=scale)
    width = int(picture.shape[1]) if picture.shape[1] < SMALL_PICTURE else "stretch"
    st.image(picture, caption=caption, width=width, output_format="JPEG")


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
