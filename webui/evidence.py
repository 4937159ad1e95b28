"""The Detector page's views of what the file says about itself (detector.evidence): the signed credentials'
claim beside the model's verdict, and the section listing every finding with its strength."""
from __future__ import annotations

import re

import streamlit as st

from detector.evidence import signed_claim
from detector.report import EVIDENCE_TITLE, evidence_lines

BADGES = {"strong": ":red-badge[strong]", "weak": ":orange-badge[weak]", "none": ":grey-badge[nothing]"}


def _plain(text: str) -> str:
    """File-supplied text (a prompt, a signer's name) shown literally in Markdown: every ASCII punctuation mark
    backslash-escaped, so it can make no link, image, colour or emphasis."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def credentials_banner(result) -> None:
    """Beside the verdict: what validated signed credentials say (generated or edited), with where it came from.
    The model's score above stays as it is."""
    claim = signed_claim(result.evidence)
    if claim:
        st.error(_plain(claim), icon=":material/verified:")


def evidence_section(result) -> None:
    if not result.evidence:
        return
    st.subheader(EVIDENCE_TITLE)
    for strength, text in evidence_lines(result.evidence):
        st.markdown(f"{BADGES.get(strength, '')} {_plain(text)}")
    st.caption(_plain(result.evidence["note"]) + " These findings come from the file's credentials and metadata, "
               "not from the model, and do not change its score.")
