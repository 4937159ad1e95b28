"""Fit a model's "unlike anything it was trained on" statistics (detector.ood) and store them beside it.

    python -m training.ood models/effnetlite0-mix-swap.keras --data ../shared/datasets/dfdc-faces DIR...

Scores a capped, seeded sample of each source's Train faces (folders of face crops in the OpenForensics layout;
real-only folders too) through the model, fits the class means and whitened covariance of their pooled features,
and sets the flag threshold at a quantile of the distances of their Validation faces, each source weighing the
same. Writes MODEL.ood.npz, then the card's "ood" entry naming its SHA-256 (each file atomically; a crash
between the two leaves the card on the old file, which is then refused, never misread). train.py's export calls
`fit_and_write` too. Test splits are never read.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from detector.ood import OOD_LAYER, OodStats, file_sha256, fit, stats_path, weighted_quantile

# Chosen with bench/ood.py (leave one source out, Validation only; figures in the model card).
COMPONENTS = 32
QUANTILE = 0.95
NORMALISE = True
PER_CLASS = 400  # Train faces per class per source to fit on
VAL_PER_CLASS = 200  # Validation faces per class per source to set the threshold on


def sample_split(data_dirs, split: str, per_class: int, seed: int = 0) -> dict[str, tuple[list[str], np.ndarray]]:
    """source name -> (paths, labels): a seeded sample of at most per_class faces per class of each folder's split
    (real-only folders: reals). A file reached through several folders (data_prep.combine links them) counts
    once, for the given folder it physically lies in, so a combined set never smuggles a source back in."""
    from detector.datasets import DatasetError
    from detector.evaluate import find_labelled_split

    roots = [Path(d).resolve() for d in data_dirs]
    found: dict[str, dict[str, int]] = {}
    for d in data_dirs:
        try:
            s = find_labelled_split(d, split)
        except DatasetError as e:
            print(f"{Path(d).name}: no {split} faces ({e}); skipped", file=sys.stderr)
            continue
        for p, y in zip(s.paths, s.labels):
            real = Path(os.path.realpath(p))
            owner = next((r for r in roots if real.is_relative_to(r)), Path(d).resolve())
            found.setdefault(owner.name, {}).setdefault(str(real), y)
    rng = np.random.default_rng(seed)
    out = {}
    for name, items in found.items():
        paths, labels = [], []
        for y in (0, 1):
            of_class = sorted(p for p, lab in items.items() if lab == y)
            keep = sorted(rng.choice(len(of_class), min(per_class, len(of_class)), replace=False)) if of_class else []
            paths += [of_class[i] for i in keep]
            labels += [y] * len(keep)
        out[name] = (paths, np.array(labels, int))
    return out


def features_of(classifier, paths, batch: int = 64, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """(calibrated fake probabilities, pooled features) of face-crop files, scored as given (no detection)."""
    from detector.decode import load_image

    probs, feats = [], []
    for i in range(0, len(paths), batch):
        p, f = classifier.score_and_features([load_image(q) for q in paths[i : i + batch]])
        probs.append(p)
        feats.append(f)
        if progress:
            progress(min(i + batch, len(paths)), len(paths))
    if not paths:
        return np.zeros(0), np.zeros((0, classifier.feature_dim))
    return np.concatenate(probs), np.concatenate(feats)


def fit_sources(train: dict, val: dict, components: int = COMPONENTS, quantile: float = QUANTILE,
                class_conditional: bool = True, normalise: bool = NORMALISE) -> tuple[OodStats, dict]:
    """Stats fitted on `train` ({source: (features, labels)}) with the threshold at `quantile` of the distances
    of `val` ({source: features}), each source weighing the same. Returns (stats, per-source summary)."""
    x = np.concatenate([f for f, _ in train.values()])
    y = np.concatenate([lab for _, lab in train.values()]) if class_conditional else None
    stats = fit(x, y, components, normalise)
    dists = {name: stats.distance(f) for name, f in val.items() if len(f)}
    # No Validation faces at all (a folder without that split): the Train faces' own distances, as a last resort.
    threshold = weighted_quantile(list(dists.values()) or [stats.distance(x)], quantile)
    stats = OodStats(stats.means, stats.projection, threshold, stats.normalise)
    summary = {name: {"train_faces": int(len(train[name][0])) if name in train else 0,
                      "validation_faces": int(len(d)), "validation_flagged": float(np.mean(stats.flag(d)))}
               for name, d in dists.items()}
    return stats, summary


def write(model_path, stats: OodStats, entry: dict) -> dict:
    """MODEL.ood.npz, then the card's "ood" entry (with the file's SHA-256 and threshold). Returns the entry."""
    from detector.model import atomic_write

    model_path = Path(model_path)
    npz, card_path = stats_path(model_path), model_path.with_suffix(".json")

    def save(tmp):
        with open(tmp, "wb") as f:  # a file object: np.savez would append ".npz" to a temp name
            stats.save(f)

    atomic_write(npz, save)
    entry = {"threshold": stats.threshold, **entry, "stats_sha256": file_sha256(npz),
             "stats_bytes": npz.stat().st_size}
    card = json.loads(card_path.read_text())
    old = card.get("ood") or {}
    same_method = all(old.get(k) == entry.get(k) for k in ("components", "class_conditional", "normalise", "quantile"))
    if same_method and "measured" in old:  # bench/ood.py's figures still describe this method on this model
        entry["measured"] = old["measured"]
    card["ood"] = entry
    atomic_write(card_path, lambda tmp: Path(tmp).write_text(json.dumps(card, indent=2)))
    return entry


def fit_and_write(model_path, data_dirs, per_class: int = PER_CLASS, val_per_class: int = VAL_PER_CLASS,
                  components: int = COMPONENTS, quantile: float = QUANTILE, class_conditional: bool = True,
                  normalise: bool = NORMALISE, seed: int = 0, command: str | None = None, log=None) -> dict:
    """Fit the OOD stats of the model at model_path (its card must exist) on the folders' Train faces, the
    threshold on their Validation faces; write both. Returns the card's new "ood" entry."""
    from detector.model import Classifier

    log = log or (lambda msg: print(msg, file=sys.stderr))
    clf = Classifier(model_path)
    clf.ood = None  # stats being replaced are not needed (nor checked) to fit new ones
    train, val = {}, {}
    for split, per, into in (("Train", per_class, train), ("Validation", val_per_class, val)):
        for name, (paths, labels) in sample_split(data_dirs, split, per, seed).items():
            log(f"OOD fit: {name} {split}: {len(paths)} faces")
            _, feats = features_of(clf, paths)
            into[name] = (feats, labels) if split == "Train" else feats
    if not train:
        raise ValueError("no Train faces in the given folders to fit the OOD stats on")
    stats, summary = fit_sources(train, val, components, quantile, class_conditional, normalise)
    entry = write(model_path, stats, {
        "layer": OOD_LAYER, "components": stats.components, "class_conditional": class_conditional,
        "normalise": normalise, "quantile": quantile,
        "method": f"Mahalanobis distance (Lee et al. 2018) of the pooled features{' scaled to unit length' * normalise}"
                  f" to the nearest class mean ({'real, fake' if class_conditional else 'one mean'}) under the "
                  f"shared covariance, in its top {stats.components} whitened principal components (detector.ood)",
        "threshold_rule": f"the {quantile:.0%} quantile of the Validation distances of the fitted sources, each "
                          f"source weighing the same: about {1 - quantile:.0%} of faces like the training ones are "
                          "flagged",
        "sources": summary,
        "command": command or "python -m training.ood " + " ".join(map(str, [model_path, "--data", *data_dirs])),
    })
    log(f"OOD stats: {stats.components} components, threshold {stats.threshold:.3f}; wrote {stats_path(model_path)} "
        f"({entry['stats_bytes'] / 1024:.0f} KiB) and the card's \"ood\" entry")
    return entry


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.ood", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="MODEL.keras with its card MODEL.json beside it")
    p.add_argument("--data", nargs="+", required=True, help="face-crop folders (Train/Validation x Real[/Fake])")
    p.add_argument("--per-class", type=int, default=PER_CLASS,
                   help=f"Train faces per class per source (default: {PER_CLASS})")
    p.add_argument("--val-per-class", type=int, default=VAL_PER_CLASS,
                   help=f"Validation faces per class per source (default: {VAL_PER_CLASS})")
    p.add_argument("--components", type=int, default=COMPONENTS,
                   help=f"principal components kept (default: {COMPONENTS})")
    p.add_argument("--quantile", type=float, default=QUANTILE,
                   help=f"flag threshold: this quantile of in-distribution Validation distances (default: {QUANTILE})")
    p.add_argument("--one-mean", action="store_true", help="one mean for all faces instead of one per class")
    p.add_argument("--raw", action="store_true", help="features as they are, not scaled to unit length")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    command = "python -m training.ood " + " ".join(sys.argv[1:] if argv is None else argv)
    fit_and_write(a.model, a.data, a.per_class, a.val_per_class, a.components, a.quantile, not a.one_mean,
                  not a.raw, a.seed, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
