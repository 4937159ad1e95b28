"""Binary metrics in plain NumPy (fake = positive class), shared by train.py and the evaluation command."""
from __future__ import annotations

import numpy as np


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve via the rank statistic (ties get average ranks)."""
    y = np.asarray(labels, int)
    s = np.asarray(scores, float)
    pos, neg = (y == 1).sum(), (y == 0).sum()
    if pos == 0 or neg == 0:
        return float("nan")
    ordered = np.sort(s)
    # a value's average 1-based rank over its ties: between its first and last position in sorted order
    ranks = (np.searchsorted(ordered, s, "left") + np.searchsorted(ordered, s, "right") + 1) / 2
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def bootstrap_interval(labels, scores, metric, rounds: int = 1000, level: float = 0.95, seed: int = 0):
    """Percentile bootstrap interval of metric(labels, scores), resampling each class on its own so every
    round keeps the class counts (a Test set of 50 per class gives wide intervals; this says how wide)."""
    y = np.asarray(labels, int)
    s = np.asarray(scores, float)
    groups = [np.flatnonzero(y == c) for c in (0, 1)]
    if any(len(g) == 0 for g in groups):
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        idx = np.concatenate([rng.choice(g, len(g)) for g in groups])
        values.append(metric(y[idx], s[idx]))
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return (float(lo), float(hi))


def intervals(labels, scores) -> dict:
    """95 % bootstrap intervals of AUC and ECE, for the reports people read (evaluation), not for every report."""
    return {"auc_95": bootstrap_interval(labels, scores, roc_auc),
            "ece_95": bootstrap_interval(labels, scores, expected_calibration_error)}


def best_threshold(labels, scores, at_least: float = 0.0) -> float:
    """Threshold maximising balanced accuracy (Youden's J) among thresholds >= at_least, meant to be fitted on
    Validation."""
    y = np.asarray(labels, int)
    s = np.asarray(scores, float)
    best, best_t = -1.0, max(0.5, at_least)
    candidates = np.unique(np.concatenate([s, [0.5, at_least]]))
    for t in candidates[candidates >= at_least]:
        pred = s >= t
        tpr = (pred & (y == 1)).sum() / max((y == 1).sum(), 1)
        tnr = (~pred & (y == 0)).sum() / max((y == 0).sum(), 1)
        if tpr + tnr > best:
            best, best_t = tpr + tnr, float(t)
    return best_t


def lowest_threshold_for_false_positives(real_scores, max_share: float) -> float:
    """The lowest threshold at which at most `max_share` of these real faces' scores are called fake (>= it)."""
    s = np.asarray(real_scores)
    s = np.sort(s if np.issubdtype(s.dtype, np.floating) else s.astype(float))[::-1]
    allowed = int(np.floor(max_share * len(s) + 1e-9))
    # The next value up in the scores' own precision: a float64 step above a float32 score rounds back onto it
    # when float32 scores are compared with it, and then every tied score was called fake (it happened).
    return 0.0 if allowed >= len(s) else float(np.nextafter(s[allowed], s.dtype.type(np.inf)))


def expected_calibration_error(labels, scores, bins: int = 10) -> float:
    y = np.asarray(labels, float)
    s = np.asarray(scores, float)
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (s >= lo) & ((s < hi) if hi < 1 else (s <= hi))
        if m.any():
            ece += m.mean() * abs(s[m].mean() - y[m].mean())
    return float(ece)


def binary_report(labels, scores, threshold: float) -> dict:
    """accuracy, precision, recall, AUC, ECE and the confusion matrix [[TN, FP], [FN, TP]]."""
    y = np.asarray(labels, int)
    pred = np.asarray(scores, float) >= threshold
    tp = int((pred & (y == 1)).sum())
    tn = int((~pred & (y == 0)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    return {
        "n": int(len(y)),
        "threshold": float(threshold),
        "accuracy": (tp + tn) / max(len(y), 1),
        "precision": tp / max(tp + fp, 1),
        "recall": tp / max(tp + fn, 1),
        "auc": roc_auc(y, scores),
        "ece": expected_calibration_error(y, scores),
        "confusion_matrix": [[tn, fp], [fn, tp]],
    }
