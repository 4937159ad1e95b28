"""Which calibration makes "70 % fake" mean about that on each source, including a source it was not fitted on?

    python bench/calibration_study.py MODEL.keras --data ../shared/datasets/dfdc-faces \\
        --data ~/.cache/deepfake-detector/datasets/stylegan-crops \\
        --sbi ../shared/datasets/dfdc-faces ~/.cache/deepfake-detector/datasets/stylegan-crops \\
              ~/.cache/deepfake-detector/datasets/utkface-crops

Scores every source's Validation split with the model's raw output (as train.py's finalisation does), then fits
temperature scaling and Platt scaling on the pooled Validation of all sources or of all but the SBI blends, each
with every image weighing the same ("pooled") or every source weighing the same ("balanced"), and prints the
ECE per source: fitted on all sources (in-sample), and fitted without the source it is measured on
(leave-one-source-out: the closest Validation gets to a source nobody trained on). Validation only; Test
stays for reporting.
"""
from __future__ import annotations

import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def fit_platt(y, z, w=None) -> tuple[float, float]:
    """Platt scaling: the (a, b) of sigmoid(a * z + b) with the least (weighted) log-loss, by Newton's method on
    this two-parameter logistic regression. Unlike a temperature (a = 1/T, b = 0) it can also shift scores."""
    import numpy as np

    w = np.ones_like(y, dtype=float) if w is None else np.asarray(w, float)
    w = w / w.sum()
    X = np.stack([z, np.ones_like(z)], axis=1)
    theta = np.array([1.0, 0.0])
    for _ in range(100):
        q = 1.0 / (1.0 + np.exp(-(X @ theta)))
        step = np.linalg.solve((X * (w * q * (1 - q))[:, None]).T @ X + 1e-9 * np.eye(2), X.T @ (w * (q - y)))
        theta -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(theta[0]), float(theta[1])


def main() -> int:
    models = [a for a in sys.argv[1:] if a.endswith(".keras")]
    rest = [a for a in sys.argv[1:] if not a.endswith(".keras")]
    if len(models) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    import keras
    import numpy as np

    import train
    from training import callbacks
    from training import sources as sources_mod
    from detector.calibration import apply_temperature, fit_temperature, logit, source_weights
    from detector.metrics import expected_calibration_error

    args = train.parse_args(rest)
    sources, _ = sources_mod.load_sources(args)
    model = keras.saving.load_model(models[0], compile=False, safe_mode=True)
    args.input_size = model.input_shape[1]
    raw = {s.name: (np.asarray(s.val["labels"]), callbacks.predict(model, s.val["paths"], s.val["labels"], args,
                                                               blend=s.kind == "sbi")) for s in sources}

    def fit(method, names, balanced):
        y = np.concatenate([raw[n][0] for n in names])
        p = np.concatenate([raw[n][1] for n in names])
        w = source_weights([len(raw[n][0]) for n in names]) if balanced else None
        if method == "temperature":
            t = fit_temperature(y, p, w)
            return lambda q: apply_temperature(q, t), f"T={t:.3f}"
        a, b = fit_platt(y, logit(p), w)
        return lambda q: 1.0 / (1.0 + np.exp(-(a * logit(q) + b))), f"a={a:.3f} b={b:+.3f}"

    names = list(raw)
    print(f"model {Path(models[0]).stem}; Validation sizes " + ", ".join(f"{n} {len(raw[n][0])}" for n in names))
    print("| calibration | fitted | " + " | ".join(f"ECE {n} in-sample" for n in names) + " | "
          + " | ".join(f"ECE {n} left out" for n in names) + " |")
    print("|---|---|" + "---|" * (2 * len(names)))
    print("| none | | " + " | ".join(f"{expected_calibration_error(*raw[n]):.3f}" for n in names) + " | "
          + " | ".join("" for _ in names) + " |")
    # Fitted on every source, or only on the real fakes (SBI's blends are a training aid no user uploads).
    pools = {"all": names, "no sbi": [n for n in names if n != "sbi"]}
    for (pool, fit_on), method, balanced in itertools.product(pools.items(), ("temperature", "platt"), (False, True)):
        cal, desc = fit(method, fit_on, balanced)
        inside = [expected_calibration_error(raw[n][0], cal(raw[n][1])) for n in names]
        out = []
        for n in names:
            rest_on = [m for m in fit_on if m != n]
            cal_wo = fit(method, rest_on, balanced)[0] if rest_on else None
            out.append(expected_calibration_error(raw[n][0], cal_wo(raw[n][1])) if cal_wo else float("nan"))
        print(f"| {method} ({'balanced' if balanced else 'pooled'}, {pool}) | {desc} | "
              + " | ".join(f"{e:.3f}" for e in inside) + " | " + " | ".join(f"{e:.3f}" for e in out) + " |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
