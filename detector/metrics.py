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
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def best_threshold(labels, scores) -> float:
    """Threshold maximising balanced accuracy (Youden's J), meant to be fitted on Validation."""
    y = np.asarray(labels, int)
    s = np.asarray(scores, float)
    best, best_t = -1.0, 0.5
    for t in np.unique(np.concatenate([s, [0.5]])):
        pred = s >= t
        tpr = (pred & (y == 1)).sum() / max((y == 1).sum(), 1)
        tnr = (~pred & (y == 0)).sum() / max((y == 0).sum(), 1)
        if tpr + tnr > best:
            best, best_t = tpr + tnr, float(t)
    return best_t


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
