"""Temperature scaling (Guo et al. 2017): one number fitted on Validation so that "70 % fake" means about that.

The model's probability p is turned back into its logit, divided by the temperature T, and squashed again.
T > 1 softens over-confident scores, T < 1 sharpens timid ones; the ranking (AUC) never changes.
"""
from __future__ import annotations

import numpy as np

_EPS = 1e-7


def logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


def apply_temperature(p, temperature: float) -> np.ndarray:
    """Calibrated probabilities (float32, same shape as p)."""
    if temperature == 1.0:
        return np.asarray(p, np.float32)
    return (1.0 / (1.0 + np.exp(-logit(p) / temperature))).astype(np.float32)


def fit_temperature(labels, p, weights=None) -> float:
    """The T in [0.05, 20] minimising the (weighted) negative log-likelihood of `labels` (1 = fake) under p's
    logits. The NLL is convex in 1/T, so a fine log-spaced grid then a local refinement finds the optimum."""
    y = np.asarray(labels, np.float64)
    z = logit(p)
    w = np.ones_like(y) if weights is None else np.asarray(weights, np.float64)

    def nll(t):
        q = np.clip(1.0 / (1.0 + np.exp(-z / t)), _EPS, 1 - _EPS)
        return -np.average(y * np.log(q) + (1 - y) * np.log(1 - q), weights=w)

    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 241))
    best = grid[int(np.argmin([nll(t) for t in grid]))]
    fine = best * np.exp(np.linspace(-0.03, 0.03, 61))
    return float(fine[int(np.argmin([nll(t) for t in fine]))])


def source_weights(sizes) -> np.ndarray:
    """Per-example weights under which every source (of the given sizes, in order) weighs the same."""
    return np.concatenate([np.full(n, 1.0 / n) for n in sizes])


def fit_band(labels, scores, threshold: float, min_accuracy: float = 0.9) -> tuple[float, float]:
    """The inconclusive band [low, high] around `threshold`, fitted on Validation `scores` (`labels`: 1 = fake).

    The rule: the narrowest band containing the threshold such that, on these scores, the faces scored below `low`
    are real at least `min_accuracy` of the time and those at or above `high` are fake at least `min_accuracy` of
    the time. So a call outside the band ("likely real", "likely fake") was right >= 90 % of the time on
    Validation on each side, and only the scores where the model was too often wrong are called inconclusive.
    The two sides are independent: `low` is the largest cut that keeps the real side accurate enough, `high` the
    smallest that keeps the fake side so. A side that never reaches it (no such cut, or no scores there) gets
    its outermost bound: low = 0 (nothing is called likely real) or high = 1.
    """
    y = np.asarray(labels, bool)
    s = np.asarray(scores, np.float64)
    order = np.argsort(s, kind="stable")
    s, y = s[order], y[order]
    fakes_before = np.concatenate([[0], np.cumsum(y)])  # fakes_before[k]: fakes among the k lowest scores
    tol = 1e-9  # 9 of 10 right is 90 %, whatever 0.9 * 10 rounds to

    # Real side: faces with score < low. Only the distinct scores below the threshold (and the threshold itself)
    # change which faces these are.
    cuts = np.append(np.unique(s[s < threshold]), threshold)
    n = np.searchsorted(s, cuts, side="left")
    real = n - fakes_before[n]
    ok = (n > 0) & (real >= min_accuracy * n - tol)
    low = float(cuts[ok].max()) if ok.any() else 0.0

    # Fake side: faces with score >= high.
    cuts = np.append(threshold, np.unique(s[s >= threshold]))
    k = np.searchsorted(s, cuts, side="left")
    n = len(s) - k
    fake = fakes_before[-1] - fakes_before[k]
    ok = (n > 0) & (fake >= min_accuracy * n - tol)
    high = float(cuts[ok].min()) if ok.any() else 1.0
    return low, high
