"""What an input size costs: training and serving speed of the classifier alone, per size and precision.

    python bench/train_speed.py [--arch efficientnet-lite0] [--sizes 160 192 224] [--precisions float32 mixed_bfloat16]
                                [--steps 12] [--batch 32]

Why: the face-swap target asks for more resolution or capacity, and whether a whole recipe at a larger size fits
the sessions and the 2.0 s clip budget is arithmetic on these two numbers. Each (size, precision) runs in a fresh
process (Keras' precision policy is global): train steps on random pixels (batch norm frozen, as in the recipe's
stages 1-2, and trained, as in 3-4), then the served path's batch of faces (`Classifier`-style `predict_on_batch`,
8 faces; the bundled model is served in float32, the bfloat16 figure is for comparison). The input pipeline
(decoding, augmentation) is not in these figures: training runs slower than this.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(arch: str, size: int, precision: str, steps: int, batch: int) -> dict:
    sys.path.insert(0, str(ROOT))
    import keras
    import numpy as np

    from training.backbones import build_classifier, freeze_batch_norm

    keras.mixed_precision.set_global_policy(precision)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (batch, size, size, 3)).astype("float32")
    y = rng.integers(0, 2, (batch, 1)).astype("float32")
    row = {"arch": arch, "size": size, "precision": precision}
    for frozen in (True, False):
        model = build_classifier(size, arch)
        freeze_batch_norm(model, frozen)
        model.compile(optimizer=keras.optimizers.AdamW(1e-4), loss="binary_crossentropy")
        for _ in range(3):  # trace and warm
            model.train_on_batch(x, y)
        t = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(x, y)
        row["train_img_s_bn_frozen" if frozen else "train_img_s_bn_trained"] = round(steps * batch / (time.perf_counter() - t), 1)
    faces = x[:8]
    for _ in range(3):
        model.predict_on_batch(faces)
    t = time.perf_counter()
    for _ in range(20):
        model.predict_on_batch(faces)
    row["serve_ms_per_8_faces"] = round((time.perf_counter() - t) / 20 * 1000, 1)
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default="efficientnet-lite0")
    p.add_argument("--sizes", type=int, nargs="+", default=[160, 192, 224])
    p.add_argument("--precisions", nargs="+", default=["float32", "mixed_bfloat16"])
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps(child(a.arch, int(a.child[0]), a.child[1], a.steps, a.batch)))
        return
    print("| arch | size | precision | train img/s, BN frozen | train img/s, BN trained | serve ms / 8 faces |")
    print("|---|---|---|---|---|---|")
    for size in a.sizes:
        for precision in a.precisions:
            out = subprocess.run([sys.executable, __file__, "--arch", a.arch, "--steps", str(a.steps), "--batch",
                                  str(a.batch), "--child", str(size), precision],
                                 capture_output=True, text=True, check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"| {r['arch']} | {size} | {precision} | {r['train_img_s_bn_frozen']} | {r['train_img_s_bn_trained']} "
                  f"| {r['serve_ms_per_8_faces']} |", flush=True)


if __name__ == "__main__":
    main()
