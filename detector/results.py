"""Results as small dataclasses that serialise to JSON (the CLI's output contract)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

VERDICTS = ("real", "fake", "no_face", "error")  # at the threshold: kept as is for scripts that read it
CALLS = ("likely_real", "inconclusive", "likely_fake")  # with the model card's band (None without a face)


@dataclass
class FaceResult:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels of the image / video frame
    confidence: float  # MTCNN's
    landmarks: dict[str, tuple[float, float]]
    fake_probability: float
    verdict: str
    call: str | None = None
    frame: int | None = None  # video frame index
    person: int | None = None  # video track id
    ood_distance: float | None = None  # from the training faces' features (detector.ood); None: no OOD stats
    unfamiliar: bool | None = None  # ood_distance above the card's OOD threshold: treat the score as unreliable
    counted: bool = True  # False: a small face beside a larger one in a picture: shown, not deciding the verdict


@dataclass
class FrameResult:
    frame: int
    time_s: float
    n_faces: int
    fake_probability: float | None  # most fake face in the frame; None when no face


@dataclass
class PersonResult:
    person: int
    fake_probability: float
    verdict: str
    call: str
    n_faces: int
    frames: list[int]
    counted: bool  # False: seen too briefly to decide the video's verdict (likely a false detection)


@dataclass
class AnalysisResult:
    path: str
    verdict: str
    call: str | None = None
    fake_probability: float | None = None
    message: str | None = None
    kind: str | None = None  # "image" | "video"
    model: str | None = None
    threshold: float | None = None
    band: tuple[float, float] | None = None  # the inconclusive band in force (ModelCard.band_at: the card's band at
    # the card's threshold; at a user's own threshold low = high = it, every score called by it)
    unfamiliar: bool | None = None  # at least half the faces are unlike the training faces (None: no OOD stats)
    unfamiliar_share: float | None = None  # share of the faces flagged unfamiliar
    black_and_white: bool | None = None  # no colour (detector.colour); a video: every sampled frame
    strategy: str | None = None
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    faces: list[FaceResult] = field(default_factory=list)
    persons: list[PersonResult] = field(default_factory=list)
    frames: list[FrameResult] = field(default_factory=list)
    strategy_scores: dict[str, float] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)  # detector.provenance.stamp: file hash, time, model...
    evidence: dict[str, Any] | None = None  # detector.evidence: what the file says about itself (C2PA, metadata)
    # Pixels for display (image, face crops, frame thumbnails): never serialised.
    artifacts: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("artifacts")
        if d["provenance"]:  # the threshold in force now: the app re-decides an analysis when its slider moves
            d["provenance"]["threshold"] = self.threshold  # its "band" stays the card's (fixed; ModelCard.band_at)
        return d

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)

    @classmethod
    def error(cls, path: str, message: str, kind: str | None = None) -> "AnalysisResult":
        return cls(path=path, verdict="error", message=message, kind=kind)


def verdict_for(p: float, threshold: float) -> str:
    return "fake" if p >= threshold else "real"


def call_for(p: float, band: tuple[float, float]) -> str:
    """The three-way call every output uses: below the band likely real, at or above its top likely fake, inside
    it inconclusive. `band` comes from ModelCard.band_at; a card without a band gives low = high = threshold,
    so the call is exactly the verdict."""
    low, high = band
    return "likely_fake" if p >= high else "likely_real" if p < low else "inconclusive"


def unfamiliar_summary(faces) -> tuple[bool | None, float | None]:
    """(flag, share of faces flagged) of an analysis. One rule for images and videos: flagged when at least half
    its faces are (a single face decides alone; a few odd frames of a clip do not). None without OOD stats."""
    flags = [f.unfamiliar for f in faces if f.unfamiliar is not None]
    if not flags:
        return None, None
    share = sum(flags) / len(flags)
    return share >= 0.5, share
