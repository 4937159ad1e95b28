"""python -m training.soup A.keras B.keras ... --out SOUP.weights.h5 : the mean of several models' weights.

A uniform "model soup" (Wortsman et al. 2022): networks fine-tuned from the same starting weights (here: stages
trained from one earlier stage) usually lie in one basin of the loss, so their averaged weights make one network
of the same size and speed that is often better than each, where an ensemble would cost one run per member.
Batch-norm statistics are averaged too. Models that did not start from the same weights average into noise, so
judge a soup like any candidate (Validation, full path; docs/training.md has the soups measured here). Finalise it with train.py's options and
`--init SOUP.weights.h5 --finalize` (a cache without a trained epoch finalises the --init weights).
"""
from __future__ import annotations

import argparse
import sys


def mean_weights(paths):
    """The element-wise mean of the models' weight arrays (same architecture, checked by shape), and the first
    model (to carry them)."""
    import keras
    import numpy as np

    models = [keras.saving.load_model(str(p), compile=False, safe_mode=True) for p in paths]
    lists = [m.get_weights() for m in models]
    shapes = [[w.shape for w in ws] for ws in lists]
    if any(s != shapes[0] for s in shapes):
        raise SystemExit("error: the models do not share one architecture; a soup needs identical networks")
    return [np.mean(np.stack(ws), axis=0).astype(ws[0].dtype) for ws in zip(*lists)], models[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", help=".keras models fine-tuned from the same starting weights")
    ap.add_argument("--out", required=True, help="where to write the soup (.weights.h5)")
    a = ap.parse_args(argv)
    if len(a.models) < 2 or not a.out.endswith(".weights.h5"):
        ap.error("give at least two models and an --out ending in .weights.h5")
    weights, model = mean_weights(a.models)
    model.set_weights(weights)
    model.save_weights(a.out)
    print(f"wrote {a.out}: the mean of {len(a.models)} models", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
