"""Results as small dataclasses that serialise to JSON (the CLI's output contract)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

VERDICTS = ("real", "fake", "no_face", "error")


@dataclass
class FaceResult:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels of the image / video frame
    confidence: float  # MTCNN's
    landmarks: dict[str, tuple[float, float]]
    fake_probability: float
    verdict: str
    frame: int | None = None  # video frame index
    person: int | None = None  # video track id


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
    n_faces: int
    frames: list[int]
    counted: bool  # False: seen too briefly to decide the video's verdict (likely a false detection)


@dataclass
class AnalysisResult:
    path: str
    verdict: str
    fake_probability: float | None = None
    message: str | None = None
    kind: str | None = None  # "image" | "video"
    model: str | None = None
    threshold: float | None = None
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
    # Pixels for display (image, face crops, frame thumbnails): never serialised.
    artifacts: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("artifacts")
        if d["provenance"]:  # the threshold in force now: the app re-decides an analysis when its slider moves
            d["provenance"]["threshold"] = self.threshold
        return d

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)

    @classmethod
    def error(cls, path: str, message: str, kind: str | None = None) -> "AnalysisResult":
        return cls(path=path, verdict="error", message=message, kind=kind)


def verdict_for(p: float, threshold: float) -> str:
    return "fake" if p >= threshold else "real"
