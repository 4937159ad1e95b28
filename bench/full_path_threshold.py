"""Models compared at equal real-photo false alarms, on the full path a user gets (not on training crops).

    python bench/full_path_threshold.py --model effnetlite0-mix-swap --model lo-lfw-2st-swap \\
        --models-dir models ~/.cache/deepfake-detector/out \\
        --real ../shared/datasets/lfw-real ../shared/datasets/utkface-real \\
        --fake ../shared/datasets/dfdc-faces ../shared/datasets/stylegan-faces --max-real-fp 0.05 0.07 0.10

train.py fits a threshold's floor on the real-photo crops of data_prep.extract; the full path frames and picks
faces a little differently (and a picture is as fake as its most fake counted face), and calls more real photos
fake than the crops did. Here every picture goes through Detector.analyse_images, and for each --max-real-fp the
lowest threshold that calls at most that share of EACH --real set's photos fake is found; at it, each --fake set's
fakes caught and reals called fake are printed, beside the same at the model's own card threshold. Two models at
the same ceiling are compared at equal false alarms: the one that catches more fakes there is better. Validation
only (a threshold chosen here is a choice). With --bootstrap N and two or more models, the same photos are
resampled N times (each set with replacement, the same draw for every model), each model's threshold refitted on
each draw, and the 95 % interval of each model's difference from the first in fakes caught is printed: a gap whose
interval holds 0 is not shown by these photos. --held-out real sets are scored but left out of every fit, and lead the
table: their share called fake at each threshold is what a real source neither the model nor its threshold saw
would get (portraits-unseen, never trained on; LFW for a model trained without it, docs/training.md). --flip adds each model again
as "NAME +flip", with test-time flip averaging (a face scored as the mean logit of its crop and its mirror image).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training.full_path_floor import floor_for, picture_scores  # noqa: E402  (the card's refit uses the same)


def average_with_mirror(classifier) -> None:
    """Make `classifier` score each face as the mean logit of its crop and the crop's mirror image (test-time flip
    averaging: two passes per face). A bench-only change, to measure what that would buy before building it."""
    from detector.calibration import logit

    plain = classifier.assess

    def assess(crops):
        p, distances = plain(crops)
        mirrored, _ = plain([np.ascontiguousarray(c[:, ::-1]) for c in crops])
        mean = (logit(p) + logit(mirrored)) / 2  # of calibrated logits (raw / T): the card's temperature still holds
        return (1 / (1 + np.exp(-mean))).astype(np.float32), distances

    classifier.assess = assess


def caught_at_floor(real_scores: list[np.ndarray], fake_scores: np.ndarray, max_fp: float) -> float:
    """Share of fakes caught at the floor fitted on the real sets."""
    return float(np.mean(fake_scores >= floor_for(real_scores, max_fp)))


def paired_bootstrap(scores: dict, reals: list[str], fakes: dict, max_fp: float, n: int, seed: int = 0) -> dict:
    """95 % interval of (model - first model) in fakes caught at equal false alarms, per fake set, resampling
    every set's photos with one draw shared by the models. scores: model -> set name -> picture scores;
    fakes: set name -> labels."""
    rng = np.random.default_rng(seed)
    names = list(scores)
    sizes = {k: len(v) for k, v in scores[names[0]].items()}
    diffs = {(m, f): [] for m in names[1:] for f in fakes}
    for _ in range(n):
        draw = {k: rng.integers(0, size, size) for k, size in sizes.items()}
        for f, y in fakes.items():
            fake_idx = draw[f][y[draw[f]] == 1]
            base = None
            for m in names:
                got = caught_at_floor([scores[m][r][draw[r]] for r in reals], scores[m][f][fake_idx], max_fp)
                if base is None:
                    base = got
                else:
                    diffs[(m, f)].append(got - base)
    return {k: tuple(np.percentile(v, [2.5, 97.5])) for k, v in diffs.items()}


def main(argv=None) -> int:
    from detector.datasets import find_split
    from detector.metrics import roc_auc
    from detector.model import available_models
    from detector.pipeline import Detector

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", required=True, help="a model name (repeat to compare)")
    ap.add_argument("--models-dir", nargs="+", default=[str(ROOT / "models")], help="where to look for them")
    ap.add_argument("--real", nargs="+", type=Path, required=True, help="real-only datasets (<split>/Real)")
    ap.add_argument("--fake", nargs="*", default=[], type=Path, help="datasets with Real and Fake")
    ap.add_argument("--held-out", nargs="*", default=[], type=Path,
                    help="real-only datasets left out of the threshold's fit: their share called fake at each "
                         "threshold is what a real source the threshold never saw gets")
    ap.add_argument("--split", default="Validation")
    ap.add_argument("--max-real-fp", type=float, nargs="+", default=[0.05, 0.07, 0.10])
    ap.add_argument("--bootstrap", type=int, default=0, help="resamples for the paired intervals (0: none)")
    ap.add_argument("--flip", action="store_true",
                    help="also score each model with test-time flip averaging (each face and its mirror image), "
                         "as one more model named 'NAME +flip'")
    a = ap.parse_args(argv)
    a.model = [m + suffix for m in a.model for suffix in (("", " +flip") if a.flip else ("",))]
    reals = {d.name: find_split(d, a.split, ("real",)) for d in a.real}
    fakes = {d.name: find_split(d, a.split) for d in a.fake}
    held = {d.name: find_split(d, a.split, ("real",)) for d in a.held_out}
    # Held-out real sources lead: a real source neither the model nor its threshold saw is what a user's photo is.
    header = ("| model | threshold | " + "".join(f"**{n} (held out): called fake** | " for n in held)
              + " | ".join(f"{n}: called fake" for n in reals) + " | "
              + " | ".join(f"{n}: fakes caught | {n}: reals called fake | {n}: AUC" for n in fakes) + " |")
    rows, scores = [], {}
    for name in a.model:
        model = name.removesuffix(" +flip")
        where = next((d for d in a.models_dir if model in available_models(d)), None)
        if where is None:
            print(f"error: no model {model} in {a.models_dir}", file=sys.stderr)
            return 2
        det = Detector(model=model, models_dir=where)
        if name.endswith(" +flip"):
            average_with_mirror(det.classifier)
        r = {n: picture_scores(det, sp.paths) for n, sp in reals.items()}
        h = {n: picture_scores(det, sp.paths) for n, sp in held.items()}
        f = {n: (np.array(sp.labels), picture_scores(det, sp.paths)) for n, sp in fakes.items()}
        scores[name] = {**r, **{n: s for n, (_, s) in f.items()}}
        levels = [("card", det.card.threshold)] + [(f"<= {q:.0%} of each real set", floor_for(list(r.values()), q))
                                                    for q in a.max_real_fp]
        for label, t in levels:
            cells = [f"{np.mean(s >= t):.1%} ({int((s >= t).sum())})" for s in [*h.values(), *r.values()]]
            for y, s in f.values():
                cells += [f"{np.mean(s[y == 1] >= t):.1%}", f"{np.mean(s[y == 0] >= t):.1%}", f"{roc_auc(y, s):.3f}"]
            rows.append(f"| {name} ({label}) | {t:.4f} | " + " | ".join(cells) + " |")
    print(f"\n{a.split}, full path\n" + header)
    print("|---|---|" + "---|" * (len(reals) + len(held) + 3 * len(fakes)))
    print("\n".join(rows))
    if a.bootstrap and len(scores) < 2:
        print("--bootstrap compares models with the first: give two or more --model", file=sys.stderr)
    if a.bootstrap and len(scores) > 1:
        labels = {n: np.array(sp.labels) for n, sp in fakes.items()}
        print(f"\nfakes caught, difference from {a.model[0]} at equal false alarms: 95 % interval of "
              f"{a.bootstrap} paired resamples of the photos")
        print("| model | fake set | " + " | ".join(f"<= {q:.0%} of each real set" for q in a.max_real_fp) + " |")
        print("|---|---|" + "---|" * len(a.max_real_fp))
        ci = {q: paired_bootstrap(scores, list(reals), labels, q, a.bootstrap) for q in a.max_real_fp}
        for m in a.model[1:]:
            for fs in fakes:
                print(f"| {m} | {fs} | " + " | ".join(f"{ci[q][(m, fs)][0]:+.1%} to {ci[q][(m, fs)][1]:+.1%}"
                                                      for q in a.max_real_fp) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
