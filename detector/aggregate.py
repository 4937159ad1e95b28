"""Aggregate stage: per-face scores over sampled frames -> one score.

`frames` is a list (one entry per sampled frame that had faces) of lists of face fake-probabilities.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

Frames = list[list[float]]


def mean(frames: Frames) -> float:
    """Plain mean over every face in every frame."""
    return float(np.mean([s for f in frames for s in f]))


def max_face_mean(frames: Frames) -> float:
    """SBI-style: the most fake face of each frame, then the mean over frames."""
    return float(np.mean([max(f) for f in frames]))


def confident_mean(frames: Frames, hi: float = 0.8, lo: float = 0.2) -> float:
    """DFDC-winner-style: if many faces are confidently fake, average only those; if nearly all are
    confidently real, average those; else the plain mean. Sharpens verdicts without letting one outlier decide."""
    s = np.array([x for f in frames for x in f], float)
    n = len(s)
    fake = s[s > hi]
    if len(fake) > n / 2.5:  # the winner's rule: more than 40% confidently fake
        return float(fake.mean())
    real = s[s < lo]
    if len(real) > 0.9 * n:
        return float(real.mean())
    return float(s.mean())


STRATEGIES: dict[str, Callable[[Frames], float]] = {
    "mean": mean,
    "max_face_mean": max_face_mean,
    "confident_mean": confident_mean,
}
DEFAULT_STRATEGY = "confident_mean"


def aggregate(frames: Frames, strategy: str = DEFAULT_STRATEGY) -> float | None:
    """None when no frame has a face: the caller reports "no face found", never a made-up score."""
    frames = [f for f in frames if f]
    if not frames:
        return None
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    return STRATEGIES[strategy](frames)
