"""The words of the evidence: each finding one plain-language line with a strength, and the caps that keep a
hostile file's text short."""
from __future__ import annotations

MAX_TEXT_SHOWN = 160  # characters of a field quoted in a finding
MAX_ITEMS = 20  # actions, ingredients, text chunks, history entries kept

STRONG, WEAK, NONE = "strong", "weak", "none"
ABSENCE_NOTE = ("Absence proves nothing: most websites and messaging apps strip credentials and metadata, and "
                "anyone can remove or forge metadata. Only signed credentials that validate are strong evidence.")

# IPTC digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/) -> (words, what they say)
SOURCE_TYPES = {
    "trainedAlgorithmicMedia": ("created by a generative AI model", "generated"),
    "compositeWithTrainedAlgorithmicMedia": ("edited with generative AI (a composite with AI-made parts)", "edited"),
    "algorithmicMedia": ("created by an algorithm, not captured from the world", "generated"),
    "compositeSynthetic": ("a composite including synthetic elements", "edited"),
    "algorithmicallyEnhanced": ("enhanced by an algorithm", "edited"),
    "dataDrivenMedia": ("produced from data by an algorithm", "generated"),
    "digitalArt": ("digital art made by a person", "generated"),
    "virtualRecording": ("a recording of a virtual (computer-made) scene", "generated"),
    "composite": ("a composite of several elements", "edited"),
    "compositeCapture": ("a composite of several captures", "edited"),
    "humanEdits": ("edited by a person", "edited"),
    "minorHumanEdits": ("captured, with minor edits", "captured"),
    "digitalCapture": ("captured by a camera", "captured"),
    "computationalCapture": ("captured by a camera with computational processing", "captured"),
    "negativeFilm": ("scanned from a film negative", "captured"),
    "positiveFilm": ("scanned from film", "captured"),
    "print": ("scanned from a print", "captured"),
    "screenCapture": ("a screen capture", "captured"),
}
# C2PA actions that change the picture (c2pa.opened, .converted, .published... do not)


def short(value, limit: int = MAX_TEXT_SHOWN) -> str:
    """One line of at most `limit` characters, control characters dropped: safe to quote in any output."""
    text = "".join(c if c.isprintable() else " " for c in str(value)[: limit * 4])
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def source_words(uri: str | None) -> tuple[str, str | None]:
    """An IPTC digital source type URI (or bare name) -> (plain words, generated/edited/captured or None)."""
    if not uri:
        return "", None
    name = str(uri).rstrip("/").rsplit("/", 1)[-1]
    words, says = SOURCE_TYPES.get(name, (f"of source type '{short(name, 60)}'", None))
    return words, says


class Findings:
    """The findings of one file, in the order they were found."""

    def __init__(self):
        self.items: list[dict] = []

    def add(self, text: str, strength: str, source: str) -> None:
        self.items.append({"text": text, "strength": strength, "source": source})
