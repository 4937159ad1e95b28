"""How far does the kind of photo alone tell a source's fakes from its reals?

    D=~/.cache/deepfake-detector/datasets; S=../shared/datasets
    python bench/kind_probe.py $S/dfdc-faces $D/stylegan-crops $D/stylegan-matched --limit 600

A linear probe (ridge regression, 5-fold cross-validated) on ImageNet EfficientNet-Lite0's pooled features, never
trained on any fake: what it separates is what an ImageNet network sees (pose, expression, light, colour, framing),
the cues a detector can learn instead of the manipulation. Twins (a fake beside its own real) should sit near AUC
0.5; a source whose fakes and reals are two kinds of photo sits near 1. Prints one Markdown row per dataset.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def probe_auc(features: np.ndarray, labels: np.ndarray, folds: int = 5, ridge: float = 10.0, seed: int = 0) -> float:
    """Cross-validated AUC of a ridge-regression probe: each image scored by a probe that never saw it."""
    from detector.metrics import roc_auc

    order = np.random.default_rng(seed).permutation(len(labels))
    scores = np.empty(len(labels))
    x = np.c_[features, np.ones(len(features))]
    for k in range(folds):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        a = x[train]
        w = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ (2.0 * labels[train] - 1))
        scores[test] = x[test] @ w
    return float(roc_auc(labels, scores))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("datasets", type=Path, nargs="+", help="datasets in the OpenForensics layout")
    p.add_argument("--split", default="Train")
    p.add_argument("--limit", type=int, default=600, help="images of each class per dataset (default %(default)s)")
    a = p.parse_args(argv)
    from data_prep.match_reals import embed
    from detector.datasets import find_split

    print(f"| dataset ({a.split}) | reals | fakes | kind-of-photo probe AUC |\n|---|---|---|---|")
    for root in a.datasets:
        data = find_split(root, a.split)
        paths, labels = np.array(data.paths), np.array(data.labels)
        keep = np.concatenate([np.flatnonzero(labels == c)[:: max(1, int(np.sum(labels == c)) // a.limit)][: a.limit]
                               for c in (0, 1)])
        auc = probe_auc(embed(list(paths[keep])), labels[keep].astype(float))
        print(f"| {root.name} | {int(np.sum(labels[keep] == 0))} | {int(np.sum(labels[keep] == 1))} | {auc:.3f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
