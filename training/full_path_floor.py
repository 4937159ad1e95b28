"""Refit a model's threshold where users meet it: on the full path (picture -> MTCNN -> crop -> model).

    python -m training.full_path_floor --model NAME [--models-dir DIR] \\
        --real ../shared/datasets/utkface-real ../shared/datasets/lfw-real ../shared/datasets/portraits-real \\
        --fake ../shared/datasets/dfdc-faces ../shared/datasets/stylegan-faces --max-real-fp 0.07 [--write]

train.py fits the threshold's floor on real-photo crops (data_prep.extract). The full path frames and picks faces a
little differently, and a picture is as fake as its most fake counted face, so the two disagree: sharp portraits
read 16.5 % fake on crops where the full path called 4-6 % fake (docs/training.md, session 17), and utkface-real
read 8.9 % fake on the full path at a floor fitted to 7 % of its crops. Here every Validation picture goes
through Detector.analyse_images, and:
- the floor is the lowest threshold calling at most --max-real-fp of EACH --real set's pictures fake;
- the threshold is the one with the best balanced accuracy on the --fake sets' pooled Validation, never below it;
- the inconclusive band is refitted around it on the same pictures (detector.calibration.fit_band).
The temperature is left as it is (it is the model's calibration, not a decision). Without --write it prints what
it would change; with it, the card's threshold, floor, band and their rules are rewritten (the old ones kept under
"threshold_fit"."previous", with the full-path metrics measured at the old threshold, which must be rerun:
python -m detector.evaluate ... --update-card). Validation only: a threshold is a choice.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from detector.calibration import fit_band
from detector.metrics import best_threshold, lowest_threshold_for_false_positives


def picture_scores(det, paths, batch: int = 16) -> np.ndarray:
    """Each picture's fake probability through the full path (0.5 where no face is found, as evaluate counts)."""
    from detector.decode import load_image

    out = []
    for i in range(0, len(paths), batch):
        results = det.analyse_images([load_image(p) for p in paths[i : i + batch]], paths[i : i + batch])
        out += [r.fake_probability if r.faces else 0.5 for r in results]
        print(f"\r{Path(paths[0]).parent.parent.parent.name}: {min(i + batch, len(paths))}/{len(paths)}", end="",
              file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return np.array(out, np.float64)


def floor_for(real_scores: list[np.ndarray], max_fp: float) -> float:
    """The lowest threshold at which each set's share of scores >= threshold is at most max_fp."""
    return max(lowest_threshold_for_false_positives(s, max_fp) for s in real_scores)


def fit(real_scores: dict, fake_sets: dict, max_real_fp: float) -> dict:
    """real_scores: name -> picture scores of real photos; fake_sets: name -> (labels, picture scores).
    The floor, the threshold and the band, fitted as the module's docstring says."""
    floor = floor_for(list(real_scores.values()), max_real_fp)
    labels = np.concatenate([np.asarray(y) for y, _ in fake_sets.values()])
    scores = np.concatenate([s for _, s in fake_sets.values()])
    threshold = best_threshold(labels, scores, at_least=floor)
    return {"floor": floor, "threshold": threshold, "band": fit_band(labels, scores, threshold)}


def describe(real_scores: dict, fake_sets: dict, threshold: float) -> dict:
    """What a threshold does on these pictures: each real set's share called fake, each fake set's fakes caught."""
    out = {n: {"called_fake": float(np.mean(s >= threshold)), "n": int(len(s))} for n, s in real_scores.items()}
    for n, (y, s) in fake_sets.items():
        y = np.asarray(y)
        out[n] = {"fakes_caught": float(np.mean(s[y == 1] >= threshold)),
                  "reals_called_fake": float(np.mean(s[y == 0] >= threshold)), "n": int(len(s))}
    return out


def main(argv=None) -> int:
    from detector.datasets import find_split
    from detector.errors import ModelError
    from detector.model import update_card
    from detector.pipeline import Detector

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="model name (default: the default model)")
    ap.add_argument("--models-dir", default=None, help="folder of NAME.keras + NAME.json (default: models/)")
    ap.add_argument("--real", nargs="+", type=Path, required=True, help="real-photo datasets (Validation/Real)")
    ap.add_argument("--fake", nargs="+", type=Path, required=True, help="datasets with Validation/Real and Fake")
    ap.add_argument("--max-real-fp", type=float, default=0.07,
                    help="highest share of each --real set the threshold may call fake (default: 0.07)")
    ap.add_argument("--write", action="store_true", help="rewrite the card's threshold, floor and band")
    a = ap.parse_args(argv)
    if not 0 <= a.max_real_fp < 1:
        ap.error("--max-real-fp must lie in [0, 1)")
    try:
        reals = {d.name: find_split(d, "Validation", ("real",)).paths for d in a.real}
        fakes = {d.name: find_split(d, "Validation") for d in a.fake}
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        det = Detector(model=a.model, models_dir=a.models_dir)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    card = det.card
    real_scores = {n: picture_scores(det, p) for n, p in reals.items()}
    fake_sets = {n: (np.array(sp.labels), picture_scores(det, sp.paths)) for n, sp in fakes.items()}
    new = fit(real_scores, fake_sets, a.max_real_fp)
    print(f"{card.name}, Validation, full path")
    for label, t in (("card's threshold", card.threshold), ("refitted threshold", new["threshold"])):
        print(f"  {label} {t:.4f}:")
        for n, d in describe(real_scores, fake_sets, t).items():
            print(f"    {n}: " + (f"{d['called_fake']:.1%} of {d['n']} real photos called fake" if "called_fake" in d
                                  else f"{d['fakes_caught']:.1%} of fakes caught, {d['reals_called_fake']:.1%} of "
                                       f"reals called fake ({d['n']} pictures)"))
    print(f"  floor {new['floor']:.4f} (<= {a.max_real_fp:.0%} of each real set), band "
          f"{new['band'][0]:.4f}-{new['band'][1]:.4f} (was {card.band})")
    if not a.write:
        print("(nothing written: --write records it in the card)")
        return 0
    command = "python -m training.full_path_floor " + " ".join(sys.argv[1:] if argv is None else argv)

    def change(c: dict) -> None:
        c["threshold_fit"] = {
            "path": "full (picture -> MTCNN -> crop -> model), Validation",
            "real_sets": {n: len(s) for n, s in real_scores.items()},
            "fake_sets": {n: len(s) for n, (_, s) in fake_sets.items()},
            "max_real_fp": a.max_real_fp,
            "at_threshold": describe(real_scores, fake_sets, new["threshold"]),
            "command": command,
            "previous": {k: c.get(k) for k in ("threshold", "real_photo_floor", "band", "threshold_rule", "band_rule")},
        }
        if "metrics_full_path" in c:  # measured at the old threshold: kept beside it, never shown as the new one's
            c["threshold_fit"]["previous"]["metrics_full_path"] = c.pop("metrics_full_path")
        c["threshold"], c["real_photo_floor"], c["band"] = new["threshold"], new["floor"], list(new["band"])
        c["threshold_rule"] = ("maximises balanced accuracy on the full-path Validation of "
                               f"{', '.join(fake_sets)} (calibrated scores), never below the lowest threshold calling at "
                               f"most {a.max_real_fp:.0%} of each of {', '.join(real_scores)} Validation fake on the "
                               "full path (training.full_path_floor)")
        c["band_rule"] = ("the narrowest band around the threshold outside which calls were right >= 90 % of the time "
                          f"on each side, on the full-path Validation of {', '.join(fake_sets)} "
                          "(detector.calibration.fit_band)")

    update_card(Path(det.classifier.path).with_suffix(".json"), change)
    print("the card's full-path metrics were measured at the old threshold: rerun python -m detector.evaluate "
          "... --update-card", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
