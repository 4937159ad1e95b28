"""How well does the OOD distance (detector.ood) spot faces from a source it was not fitted on, and how much more
accurate are the calls it does not flag? Leave one source out, Validation only.

    nice -n 5 python bench/ood.py ../shared/datasets/dfdc-faces ~/.cache/deepfake-detector/datasets/stylegan-crops \\
        ~/.cache/deepfake-detector/datasets/utkface-crops ~/.cache/deepfake-detector/datasets/lfw-crops \\
        [--model models/NAME.keras] [--cache artifacts/ood-features.npz] [--update-card]

Face crops are scored as given (no detection) through the model, pooled features and scores in one call, a seeded
sample of --per-class Train and --val-per-class Validation faces per class per source (training.ood's defaults).
For each source in turn the stats are fitted on the *other* sources' Train faces and the flag threshold set on
their Validation faces (training.ood.fit_sources); then, on Validation:
  AUROC       how well the distance separates the held-out source's faces from the fitted sources' (1 = always
              farther, 0.5 = no better than chance);
  accuracy    of the model's real/fake calls at the card's threshold, on all Validation faces (fitted + held-out)
              and on only the faces not flagged; and the share flagged (all, held-out, fitted).
Every method in (unit-length, raw features) x --components x (class means, one mean) x --quantiles is measured;
the card's own method is marked. Then pictures that are no face are scored against stats fitted on every source.
--update-card records the card method's figures in the card's "ood"."measured" (fit it first with
python -m training.ood). A folder whose files all lie in other given folders (data_prep.combine's links) adds
no source: each file counts for the folder it lies in. Test splits are never read.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load_features(model_path, data, per_class, val_per_class, cache):
    """{split: {source: (probs, features, labels)}}, from the cache when it was made with the same options."""
    import numpy as np

    from detector.model import Classifier
    from training.ood import features_of, sample_split

    key = json.dumps([str(Path(model_path).resolve()), sorted(str(Path(d).resolve()) for d in data), per_class,
                      val_per_class])
    if cache and Path(cache).exists():
        with np.load(cache, allow_pickle=False) as z:
            if str(z["key"]) == key:
                out: dict = {}
                for name in z.files:
                    if name != "key":
                        split, source, what = name.split("|")
                        out.setdefault(split, {}).setdefault(source, {})[what] = z[name]
                return {s: {src: (v["p"], v["f"], v["y"]) for src, v in d.items()} for s, d in out.items()}
    clf = Classifier(model_path)
    clf.ood = None
    out = {}
    for split, per in (("Train", per_class), ("Validation", val_per_class)):
        for source, (paths, labels) in sample_split(data, split, per).items():
            print(f"scoring {source} {split}: {len(paths)} faces", file=sys.stderr, flush=True)
            p, f = features_of(clf, paths)
            out.setdefault(split, {})[source] = (p, f, labels)
    if cache:
        arrays = {f"{s}|{src}|{w}": a for s, d in out.items() for src, t in d.items() for w, a in zip("pfy", t)}
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, key=np.array(key), **arrays)
    return out


def leave_one_out(feats, threshold, components, quantiles, class_conditional, normalise) -> dict:
    """{quantile: {held-out source: AUROC, accuracy on all / not flagged / flagged Validation faces, shares
    flagged}}. One fit per held-out source; each quantile only moves the flag threshold (the same rule as
    training.ood.fit_sources, which sets the first)."""
    import numpy as np

    from detector.metrics import roc_auc
    from detector.ood import OodStats, weighted_quantile
    from training.ood import fit_sources

    train, val = feats["Train"], feats["Validation"]
    names = list(val)
    p = np.concatenate([val[s][0] for s in names])
    y = np.concatenate([val[s][2] for s in names])
    right = (p >= threshold) == (y == 1)
    out = {q: {} for q in quantiles}
    for held in names:
        fitted = [s for s in train if s != held]
        stats, _ = fit_sources({s: (train[s][1], train[s][2]) for s in fitted}, {s: val[s][1] for s in fitted},
                               components, quantiles[0], class_conditional, normalise)
        d = {s: stats.distance(val[s][1]) for s in names}
        dist = np.concatenate([d[s] for s in names])
        is_held = np.concatenate([np.full(len(d[s]), s == held) for s in names])
        for q in quantiles:
            t = weighted_quantile([d[s] for s in fitted], q)
            flagged = OodStats(stats.means, stats.projection, t, normalise).flag(dist)
            kept = is_held & ~flagged
            out[q][held] = {
                "auroc": roc_auc(is_held, dist),
                "accuracy_all": float(right.mean()), "accuracy_not_flagged": float(right[~flagged].mean()),
                "accuracy_flagged": float(right[flagged].mean()) if flagged.any() else None,
                "accuracy_held_out": float(right[is_held].mean()),
                "accuracy_held_out_not_flagged": float(right[kept].mean()) if kept.any() else None,
                "flagged_all": float(flagged.mean()), "flagged_held_out": float(flagged[is_held].mean()),
                "flagged_fitted": float(flagged[~is_held].mean()), "faces": int(len(dist)),
                "held_out_faces": int(is_held.sum()), "components": stats.components,
            }
    return out


def not_faces(model_path, feats, method) -> dict:
    """distance / flag threshold of pictures that are no face (and the astronaut, a real photo from no source
    here), each scored as a crop, under stats fitted on every source: > 1 is flagged."""
    import numpy as np
    from skimage import data

    from detector.model import Classifier
    from training.ood import fit_sources

    k, cc, norm, q = method
    stats, _ = fit_sources({s: (v[1], v[2]) for s, v in feats["Train"].items()},
                           {s: v[1] for s, v in feats["Validation"].items()}, k, q, cc, norm)
    grey = lambda im: np.stack([im] * 3, -1)  # noqa: E731
    pictures = {"uniform noise": np.random.default_rng(0).integers(0, 256, (224, 224, 3), np.uint8),
                "flat grey": np.full((224, 224, 3), 128, np.uint8), "black": np.zeros((224, 224, 3), np.uint8),
                "rocket": data.rocket(), "coffee cup": data.coffee(), "cat (close-up)": data.chelsea(),
                "text": grey(data.text()), "cameraman": grey(data.camera()),
                "astronaut's face (real photo)": data.astronaut()[40:200, 140:290]}
    clf = Classifier(model_path)
    clf.ood = None
    _, f = clf.score_and_features(list(pictures.values()))
    return {name: round(float(v), 3) for name, v in zip(pictures, stats.distance(f) / stats.threshold)}


def main(argv=None) -> int:
    from training.ood import COMPONENTS, NORMALISE, PER_CLASS, QUANTILE, VAL_PER_CLASS

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="+", help="face-crop folders, one source each (Train/Validation x Real[/Fake])")
    ap.add_argument("--model", default=None, help="a .keras file (default: the bundled default model)")
    ap.add_argument("--per-class", type=int, default=PER_CLASS)
    ap.add_argument("--val-per-class", type=int, default=VAL_PER_CLASS)
    ap.add_argument("--components", type=int, nargs="+", default=[16, 32, 64, 128])
    ap.add_argument("--quantiles", type=float, nargs="+", default=[0.95, 0.99])
    ap.add_argument("--cache", default=None, help="keep the scored features here (.npz) for reruns")
    ap.add_argument("--update-card", action="store_true", help="record the card's method's figures in its card")
    a = ap.parse_args(argv)
    import numpy as np

    from detector.model import ModelCard, atomic_write, available_models

    a.model = a.model or str(next(iter(available_models(ROOT / "models").values())))

    card_path = Path(a.model).with_suffix(".json")
    card = ModelCard.load(card_path)
    own = card.info.get("ood") or {"components": COMPONENTS, "class_conditional": True, "normalise": NORMALISE,
                                   "quantile": QUANTILE}
    own = (own["components"], own["class_conditional"], own["normalise"], own["quantile"])
    feats = load_features(a.model, a.data, a.per_class, a.val_per_class, a.cache)
    sources = list(feats["Validation"])
    print(f"{card.name}: threshold {card.threshold:.4f}; Validation faces per source: "
          + ", ".join(f"{s} {len(feats['Validation'][s][0])}" for s in sources)
          + "; Train faces: " + ", ".join(f"{s} {len(feats['Train'][s][0])}" for s in feats["Train"]))
    print("\nmeans over the held-out sources; accuracy of the calls at the card's threshold on all Validation faces")
    print("| features | k | means | quantile | " + " | ".join(f"AUROC {s} held out" for s in sources)
          + " | mean AUROC | accuracy all | not flagged | flagged | share flagged: all | held out | fitted |")
    print("|---|---|---|---|" + "---|" * (len(sources) + 7))
    results = {}
    for norm in (True, False):
        for k in a.components:
            for cc in (True, False):
                for q, rows in leave_one_out(feats, card.threshold, k, a.quantiles, cc, norm).items():
                    results[(k, cc, norm, q)] = rows
                    mean = lambda key: np.mean([r[key] for r in rows.values() if r[key] is not None])  # noqa: E731
                    mark = " (the card's)" if (k, cc, norm, q) == own else ""
                    print(f"| {'unit length' if norm else 'raw'}{mark} | {k} | {'per class' if cc else 'one'} | {q} | "
                          + " | ".join(f"{rows[s]['auroc']:.3f}" for s in sources)
                          + f" | {mean('auroc'):.3f} | {mean('accuracy_all'):.3f} | {mean('accuracy_not_flagged'):.3f}"
                          f" | {mean('accuracy_flagged'):.3f} | {mean('flagged_all'):.1%} | "
                          f"{mean('flagged_held_out'):.1%} | {mean('flagged_fitted'):.1%} |", flush=True)
    chosen = results.get(own)
    f = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    if chosen:
        print(f"\nthe card's method (k={own[0]}, {'class means' if own[1] else 'one mean'}, "
              f"{'unit-length' if own[2] else 'raw'} features, quantile {own[3]}), per held-out source:")
        print("| held out | AUROC | accuracy all | not flagged | flagged | held-out faces: accuracy | not flagged | "
              "share flagged: all | held out | fitted |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for s, r in chosen.items():
            print(f"| {s} | {r['auroc']:.3f} | {r['accuracy_all']:.3f} | {r['accuracy_not_flagged']:.3f} | "
                  f"{f(r['accuracy_flagged'])} | {r['accuracy_held_out']:.3f} | "
                  f"{f(r['accuracy_held_out_not_flagged'])} | "
                  f"{r['flagged_all']:.1%} | {r['flagged_held_out']:.1%} | {r['flagged_fitted']:.1%} |")
    odd = not_faces(a.model, feats, own)
    print("\nthe card's method fitted on every source; distance / threshold (> 1: flagged) of pictures scored as "
          "crops:")
    print(" | ".join(f"{name} {v:.2f}" for name, v in odd.items()))
    if a.update_card:
        raw = json.loads(card_path.read_text())
        if not raw.get("ood") or chosen is None:
            print("error: --update-card needs the card's \"ood\" entry (python -m training.ood) and its method "
                  "among those measured", file=sys.stderr)
            return 2
        raw["ood"]["measured"] = {
            "leave_one_source_out": chosen,
            "mean_over_held_out": {key: float(np.mean([r[key] for r in chosen.values() if r[key] is not None]))
                                   for key in ("auroc", "accuracy_all", "accuracy_not_flagged", "accuracy_flagged",
                                               "flagged_all", "flagged_held_out", "flagged_fitted")},
            "validation_faces": {s: len(feats["Validation"][s][0]) for s in sources},
            "not_faces_distance_over_threshold": odd,
            "how": "each source held out of the fit in turn: stats fitted on the others' Train faces, threshold on "
                   "their Validation; AUROC of the distance, held-out Validation faces against the fitted sources'; "
                   "accuracy of the calls at the card's threshold on all Validation faces, and on those not flagged",
            "command": "python bench/ood.py " + " ".join(sys.argv[1:] if argv is None else argv),
        }
        atomic_write(card_path, lambda tmp: Path(tmp).write_text(json.dumps(raw, indent=2)))
        print(f"recorded in {card_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
