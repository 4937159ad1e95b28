"""Per-source Validation AUC of saved models, computed exactly as train.py's epoch selection does.

    python bench/validation_scores.py models/effnetv2b0-mix.keras OTHER.keras \\
        --data ../shared/datasets/dfdc-faces --data ~/.cache/deepfake-detector/datasets/stylegan-crops \\
        --sbi ../shared/datasets/dfdc-faces ~/.cache/deepfake-detector/datasets/stylegan-crops \\
              ~/.cache/deepfake-detector/datasets/utkface-crops

Use it to decide whether a new model beats the bundled one on Validation (never on Test). Takes train.py's
source options (--data, --sbi, --sbi-val, --seed); prints one Markdown row per model.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    models = [a for a in sys.argv[1:] if a.endswith(".keras")]
    rest = [a for a in sys.argv[1:] if not a.endswith(".keras")]
    if not models:
        print(__doc__, file=sys.stderr)
        return 2
    import keras
    import numpy as np

    import train
    from training import callbacks
    from training import sources as sources_mod
    from detector.metrics import roc_auc

    args = train.parse_args(rest)
    sources, _ = sources_mod.load_sources(args)
    print("| model | " + " | ".join(f"Val AUC {s.name}" for s in sources) + " | mean | min |")
    print("|---|" + "---|" * (len(sources) + 2))
    for path in models:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
        args.input_size = model.input_shape[1]
        aucs = [roc_auc(s.val["labels"], callbacks.predict(model, s.val["paths"], s.val["labels"], args,
                                                       blend=s.kind == "sbi")) for s in sources]
        print(f"| {Path(path).stem} | " + " | ".join(f"{a:.4f}" for a in aucs) +
              f" | {np.mean(aucs):.4f} | {min(aucs):.4f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
