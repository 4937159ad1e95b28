""""Unlike anything it was trained on": an out-of-distribution (OOD) distance from the model's own features.

A face's distance is the Mahalanobis distance (Lee et al. 2018) of the network's pooled features (the `avg_pool`
layer every network training/backbones.py builds) to the training faces' features: the distance to the nearest
class mean (real, fake) under the covariance the classes share, kept to its top `k` principal components. The
components are whitened when fitted, so a distance is one matrix product and a norm. Features are scaled to unit
length first: a picture that is no face at all (noise, a flat colour) excites the network weakly, and in raw units
such a short feature vector sits near the mean (a flat grey crop was nearer than some real faces); its direction
is what differs (bench/ood.py). Far from everything the model saw, its score means little: such a face is flagged
`unfamiliar`.

Stored beside the model as NAME.ood.npz (the class means and the whitening projection, float32, < 1 MB); the
flag's threshold and the measured figures are in the card's "ood" entry, with the file's SHA-256, so stats that
belong to other weights are refused. Fitted by training/ood.py (train.py's export and `python -m training.ood`).
No "ood" entry in the card, or no file: no OOD score (older models keep working). A file that is there but
broken or not this card's: ModelError, as for a broken model.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelError

OOD_LAYER = "avg_pool"  # pooled features: what the classifier's last (dense) layer reads
FORMAT = 1


def stats_path(model_path) -> Path:
    """models/NAME.keras -> models/NAME.ood.npz"""
    return Path(model_path).with_suffix(".ood.npz")


@dataclass(frozen=True)
class OodStats:
    means: np.ndarray  # (C, D) class means of the fitted features (C = 1 when fitted without labels)
    projection: np.ndarray  # (D, k): top-k principal axes of the shared covariance, each divided by its std
    threshold: float = float("inf")  # distances above it are flagged (the card's "ood"."threshold")
    normalise: bool = True  # features scaled to unit length before anything else

    @property
    def dim(self) -> int:
        return self.projection.shape[0]

    @property
    def components(self) -> int:
        return self.projection.shape[1]

    def distance(self, features) -> np.ndarray:
        """(N, D) features -> (N,) Mahalanobis distances to the nearest class mean, in the whitened top-k space."""
        f = _prepared(features, self.normalise).reshape(-1, self.dim)
        z = f @ self.projection - (self.means.astype(np.float64) @ self.projection)[:, None, :]  # (C, N, k)
        return np.sqrt((z**2).sum(-1)).min(0)

    def flag(self, distances) -> np.ndarray:
        return np.asarray(distances) > self.threshold

    def save(self, file) -> None:
        """Write the arrays (a path or a binary file object); the threshold goes in the card."""
        np.savez(file, format=np.int64(FORMAT), means=self.means.astype(np.float32),
                 projection=self.projection.astype(np.float32), normalise=np.bool_(self.normalise))


def _prepared(features, normalise: bool) -> np.ndarray:
    f = np.asarray(features, np.float64)
    return f / np.maximum(np.linalg.norm(f, axis=-1, keepdims=True), 1e-12) if normalise else f


def fit(features, labels=None, components: int = 32, normalise: bool = True) -> OodStats:
    """Class means and the whitened top-`components` projection of the covariance shared by the classes
    (`labels`; None: one mean). `components` is capped by what the data can estimate (rows minus classes)."""
    x = _prepared(features, normalise)
    y = np.zeros(len(x), int) if labels is None else np.asarray(labels)
    classes = np.unique(y)
    means = np.stack([x[y == c].mean(0) for c in classes])
    centred = x - means[np.searchsorted(classes, y)]
    dof = len(x) - len(classes)
    if dof < 1:
        raise ValueError(f"OOD fit needs more faces than classes, got {len(x)}")
    evals, evecs = np.linalg.eigh(centred.T @ centred / dof)  # ascending
    k = int(min(components, dof, x.shape[1]))
    evals, evecs = evals[::-1][:k], evecs[:, ::-1][:, :k]
    # A direction with (almost) no spread in the training faces would make any tiny move there "infinitely" far.
    scale = np.sqrt(np.maximum(evals, 1e-6 * max(evals[0], 1e-12)))
    return OodStats(means=means.astype(np.float32), projection=(evecs / scale).astype(np.float32), normalise=normalise)


def weighted_quantile(groups, q: float) -> float:
    """The q-quantile of the values of all `groups` (arrays), each group weighing the same whatever its size:
    a flag threshold that flags about 1 - q of every fitted source, not mostly of the largest."""
    groups = [np.asarray(g, np.float64) for g in groups if len(g)]
    values = np.concatenate(groups)
    weights = np.concatenate([np.full(len(g), 1.0 / (len(g) * len(groups))) for g in groups])
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    return float(values[order][min(np.searchsorted(cum, q - 1e-12), len(values) - 1)])


def file_sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_stats(model_path, card_info: dict, dim: int | None = None) -> OodStats | None:
    """The model's OOD stats with the card's threshold, or None when its card has no "ood" entry or the file is
    missing. Raises ModelError when the file is there but unreadable, malformed or not the one the card names."""
    entry = card_info.get("ood")
    path = stats_path(model_path)
    if not entry or not path.exists():
        return None

    def refuse(why: str):
        raise ModelError(f"OOD stats {path} {why}")

    try:
        threshold, expected = float(entry["threshold"]), str(entry["stats_sha256"])
    except (KeyError, TypeError, ValueError) as e:
        refuse(f"come with an incomplete \"ood\" entry in the card ({type(e).__name__}: {e})")
    if file_sha256(path) != expected:  # checked before the file is parsed at all
        refuse("were fitted for other weights (their SHA-256 is not the card's): refit with python -m training.ood")
    try:
        with np.load(path, allow_pickle=False) as z:
            version, means, projection, normalise = int(z["format"]), z["means"], z["projection"], bool(z["normalise"])
    except Exception as e:  # np.load raises many types for a bad file (zip, pickle, key, value errors)
        refuse(f"are unreadable ({type(e).__name__}: {e})")
    if version != FORMAT:
        refuse(f"have format {version}, expected {FORMAT}")
    if not (means.ndim == projection.ndim == 2 and len(means) >= 1 and projection.shape[1] >= 1
            and means.shape[1] == projection.shape[0] and means.dtype.kind == projection.dtype.kind == "f"):
        refuse(f"are malformed: means {means.shape} and projection {projection.shape} must be (C, D) and (D, k)")
    if not (np.isfinite(means).all() and np.isfinite(projection).all()):
        refuse("hold non-finite values")
    if dim is not None and projection.shape[0] != dim:
        refuse(f"are for {projection.shape[0]} features; the model's {OOD_LAYER} has {dim}")
    if not (np.isfinite(threshold) and threshold > 0):
        refuse(f"come with a threshold of {threshold} in the card")
    return OodStats(means=means, projection=projection, threshold=threshold, normalise=normalise)
