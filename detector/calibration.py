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
