"""Train the face classifier from OpenForensics-layout folders and write model + card to models/.

    python train.py --data ../shared/datasets/dfdc-faces            # the bundled model's recipe
    python train.py --quick --data DIR --out /tmp/m                 # seconds; used by the tests

Resumable: checkpoints live in --cache-dir (default ~/.cache/deepfake-detector/train/<run name>); rerun the
same command after a kill and Keras BackupAndRestore continues from the last saved state.
The model and card are written atomically at the very end; an existing model is replaced only with --overwrite.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from data_prep.dataset import find_split, read_pairs
from detector.metrics import best_threshold, binary_report
from detector.model import MODELS_DIR, atomic_write, build_classifier
from detector.preprocess import resize_for_model

CROP_SIZE = 224  # training crops are stored at 224 (dfdc-faces); resized to --input-size by the shared resize


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", required=True, help="OpenForensics-layout folder(s)")
    p.add_argument("--validation", nargs="+", default=None,
                   help="dataset(s) whose Validation split picks the epoch and threshold (default: every --data)")
    p.add_argument("--name", default="effnetv2b0-dfdc", help="model name: writes OUT/NAME.keras + NAME.json")
    p.add_argument("--out", default=str(MODELS_DIR), help="folder for the model and card")
    p.add_argument("--overwrite", action="store_true", help="replace an existing model of the same name")
    p.add_argument("--input-size", type=int, default=128)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup-epochs", type=float, default=0.5)
    p.add_argument("--no-pairs", action="store_true", help="shuffle images instead of keeping real/fake pairs in a batch")
    p.add_argument("--augment", choices=["none", "light", "full"], default="light")
    p.add_argument("--framing-jitter", type=float, default=0.06,
                   help="random shift (this fraction of the crop) and zoom (1 +- 1.5x it) of each training crop, "
                        "so the model tolerates MTCNN boxes that land a few pixels off; 0 disables")
    p.add_argument("--weights", choices=["none", "imagenet"], default="none", help="imagenet needs internet")
    p.add_argument("--max-train-pairs", type=int, default=0, help="use at most this many training pairs (0: all)")
    p.add_argument("--patience", type=int, default=3, help="early stopping on validation AUC")
    p.add_argument("--precision", choices=["auto", "float32", "mixed_bfloat16"], default="auto")
    p.add_argument("--cache-dir", default=None, help="checkpoints (default ~/.cache/deepfake-detector/train/NAME)")
    p.add_argument("--backup-every", type=int, default=100, help="save a resumable backup every N steps")
    p.add_argument("--fresh", action="store_true", help="ignore checkpoints of an earlier run of this name")
    p.add_argument("--default", action="store_true", help="mark the card as the default model")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--quick", action="store_true", help="tiny model/data for tests: 48 px, 1 epoch, few images")
    a = p.parse_args(argv)
    if a.quick:
        a.input_size, a.epochs, a.batch_size, a.max_train_pairs, a.patience = 48, 1, 8, 16, 1
        a.augment, a.backup_every = "light", 2
    return a


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def choose_strategy():
    """Several GPUs -> MirroredStrategy; TF_CONFIG set -> multi-worker; otherwise the default strategy."""
    import tensorflow as tf

    if os.environ.get("TF_CONFIG"):
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_physical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


# ---------------------------------------------------------------- data
def _decode(path):
    import tensorflow as tf

    img = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    img = tf.image.resize(img, (CROP_SIZE, CROP_SIZE), method="area")  # no-op size for dfdc-faces
    return tf.cast(tf.clip_by_value(img, 0, 255), tf.uint8)


def _jitter_framing(img, jitter: float):
    """Re-frame a crop as a slightly different face box would: shift by up to +-jitter of the side, zoom by
    1 +- 1.5*jitter. Edges are mirrored (like the replicated padding at serving) rather than left black."""
    import tensorflow as tf

    pad = int(CROP_SIZE * 0.25)
    big = tf.pad(img, [[pad, pad], [pad, pad], [0, 0]], mode="SYMMETRIC")
    full = float(CROP_SIZE + 2 * pad)
    half = 0.5 * CROP_SIZE * tf.random.uniform([], 1 - 1.5 * jitter, 1 + 1.5 * jitter) / full
    cy, cx = tf.unstack((pad + CROP_SIZE * (0.5 + tf.random.uniform([2], -jitter, jitter))) / full)
    box = tf.stack([cy - half, cx - half, cy + half, cx + half])[None]
    out = tf.image.crop_and_resize(tf.cast(big, tf.float32)[None], box, [0], (CROP_SIZE, CROP_SIZE))[0]
    return tf.cast(tf.clip_by_value(tf.round(out), 0, 255), tf.uint8)


def _augment(img, level: str, jitter: float = 0.0):
    """Augmentations that matter for deepfakes: what uploads go through (re-compression, blur/resize,
    colour), framing jitter, and flips. uint8 224x224 in and out."""
    import tensorflow as tf

    img = tf.image.random_flip_left_right(img)
    if jitter > 0:
        img = _jitter_framing(img, jitter)
    if level == "none":
        return img

    def maybe(p, fn, x):
        return tf.cond(tf.random.uniform([]) < p, lambda: fn(x), lambda: x)

    def jpeg(x):
        return tf.image.random_jpeg_quality(x, 40, 95)

    def down_up(x):  # resolution loss / blur
        s = tf.cast(tf.random.uniform([], 0.45, 0.9) * CROP_SIZE, tf.int32)
        x = tf.image.resize(tf.image.resize(tf.cast(x, tf.float32), (s, s), method="area"), (CROP_SIZE, CROP_SIZE))
        return tf.cast(tf.clip_by_value(x, 0, 255), tf.uint8)

    def colour(x):
        x = tf.cast(x, tf.float32) / 255.0
        x = tf.image.random_brightness(x, 0.1)
        x = tf.image.random_contrast(x, 0.85, 1.15)
        x = tf.image.random_saturation(x, 0.85, 1.15)
        return tf.cast(tf.clip_by_value(x * 255.0, 0, 255), tf.uint8)

    strength = 1.0 if level == "full" else 0.5
    img = maybe(0.3 * strength, jpeg, img)
    img = maybe(0.2 * strength, down_up, img)
    img = maybe(0.4 * strength, colour, img)
    return img


def train_dataset(pairs, args, steps: int):
    """Batches in which each real face sits next to its fake (or, with --no-pairs, shuffled images)."""
    import tensorflow as tf

    size, level, jitter = args.input_size, args.augment, args.framing_jitter
    pair_paths = np.array(pairs, dtype=object).astype(str)
    ds = tf.data.Dataset.from_tensor_slices(pair_paths).shuffle(len(pair_paths), seed=args.seed).repeat()
    ds = ds.map(
        lambda pp: (tf.stack([_augment(_decode(pp[0]), level, jitter), _augment(_decode(pp[1]), level, jitter)]),
                    tf.constant([0.0, 1.0])),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).unbatch()
    if args.no_pairs:
        ds = ds.shuffle(2048, seed=args.seed)
    ds = ds.batch(args.batch_size, drop_remainder=True)
    ds = ds.map(lambda x, y: (resize_for_model(x, size), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(2)


def eval_dataset(paths, labels, args):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((list(paths), np.asarray(labels, np.float32)))
    ds = ds.map(lambda p, y: (_decode(p), y), num_parallel_calls=tf.data.AUTOTUNE).batch(64)
    return ds.map(lambda x, y: (resize_for_model(x, args.input_size), y)).prefetch(2)


def load_splits(args):
    train_pairs, val, test = [], {"paths": [], "labels": []}, {}
    for root in args.data:
        tr = find_split(root, "Train")
        train_pairs += read_pairs(root, tr)
        if args.validation is None or root in args.validation:
            v = find_split(root, "Validation")
            val["paths"] += v.paths
            val["labels"] += v.labels
        try:
            t = find_split(root, "Test")
            test[Path(root).name] = {"paths": t.paths, "labels": t.labels}
        except ValueError as e:
            print(f"note: no Test split in {root} ({e})", file=sys.stderr)
    rng = np.random.default_rng(args.seed)
    if args.max_train_pairs and len(train_pairs) > args.max_train_pairs:
        idx = rng.choice(len(train_pairs), args.max_train_pairs, replace=False)
        train_pairs = [train_pairs[i] for i in sorted(idx)]
    if args.quick:  # tiny validation/test too
        keep = lambda d: {k: list(v[:8]) + list(v[-8:]) for k, v in d.items()}  # noqa: E731
        val = keep(val)
        test = {k: keep(v) for k, v in test.items()}
    return train_pairs, val, test


# ---------------------------------------------------------------- outputs
def predict(model, paths, labels, args) -> np.ndarray:
    import tensorflow as tf

    fn = tf.function(lambda x: model(x, training=False))
    return np.concatenate([fn(x).numpy().reshape(-1) for x, _ in eval_dataset(paths, labels, args)])


def save_plots(history_csv: Path, reports: dict, out_png: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [line.split(",") for line in history_csv.read_text().strip().splitlines()]
    head, data = rows[0], np.array(rows[1:], float) if len(rows) > 1 else np.zeros((0, len(rows[0])))
    col = {h: i for i, h in enumerate(head)}
    fig, axes = plt.subplots(1, 2 + len(reports), figsize=(5 * (2 + len(reports)), 4))
    ep = data[:, col["epoch"]] + 1 if len(data) else []
    for key, ax in (("loss", axes[0]), ("auc", axes[1])):
        for prefix in ("", "val_"):
            if prefix + key in col and len(data):
                ax.plot(ep, data[:, col[prefix + key]], marker="o", label=prefix + key or key)
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.legend()
    for ax, (name, rep) in zip(axes[2:], reports.items()):
        cm = np.array(rep["confusion_matrix"])
        ax.imshow(cm, cmap="Blues")
        for (i, j), v in np.ndenumerate(cm):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=14)
        ax.set_xticks([0, 1], ["pred real", "pred fake"])
        ax.set_yticks([0, 1], ["real", "fake"])
        ax.set_title(f"{name} Test (AUC {rep['auc']:.3f})")
    fig.tight_layout()
    fig.savefig(out_png, dpi=80)
    plt.close(fig)


def main(argv=None) -> int:
    args = parse_args(argv)
    out_dir = Path(args.out)
    model_path, card_path = out_dir / f"{args.name}.keras", out_dir / f"{args.name}.json"
    if model_path.exists() and not args.overwrite:
        print(f"error: {model_path} exists; pass --overwrite to replace it or --name for a new model", file=sys.stderr)
        return 2
    out_dir.mkdir(parents=True, exist_ok=True)
    cache = Path(args.cache_dir or Path.home() / ".cache" / "deepfake-detector" / "train" / args.name)
    if args.fresh and cache.exists():
        import shutil

        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)

    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(args.seed)
    precision = args.precision
    if precision == "auto":
        precision = "mixed_bfloat16" if cpu_has_bf16() and not tf.config.list_physical_devices("GPU") else "float32"
    keras.mixed_precision.set_global_policy(precision)

    train_pairs, val, test = load_splits(args)
    steps = max(1, len(train_pairs) * 2 // args.batch_size)
    print(
        f"train: {len(train_pairs)} real/fake pairs ({steps} steps/epoch of {args.batch_size}), "
        f"validation: {len(val['paths'])} images, test sets: {list(test)}; precision {precision}",
        file=sys.stderr,
    )

    strategy = choose_strategy()
    with strategy.scope():
        model = build_classifier(args.input_size, weights=None if args.weights == "none" else args.weights)
        schedule = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=args.lr / 20,
            decay_steps=max(1, steps * args.epochs - int(steps * args.warmup_epochs)),
            warmup_target=args.lr,
            warmup_steps=int(steps * args.warmup_epochs),
            alpha=0.02,
        )
        model.compile(
            optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.05),
            loss=keras.losses.BinaryCrossentropy(),
            metrics=[keras.metrics.AUC(name="auc"), keras.metrics.BinaryAccuracy(name="acc")],
        )

    best_weights = cache / "best.weights.h5"
    history_csv = cache / "history.csv"
    best_ckpt = keras.callbacks.ModelCheckpoint(str(best_weights), monitor="val_auc", mode="max", save_best_only=True,
                                                save_weights_only=True)
    if history_csv.exists() and best_weights.exists():  # resumed: the best so far is in the log, not in memory
        rows = history_csv.read_text().strip().splitlines()
        col = rows[0].split(",").index("val_auc") if rows and "val_auc" in rows[0] else None
        if col is not None and len(rows) > 1:
            best_ckpt.best = max(float(r.split(",")[col]) for r in rows[1:])
    callbacks = [
        keras.callbacks.BackupAndRestore(str(cache / "backup"), save_freq=args.backup_every),
        best_ckpt,
        keras.callbacks.EarlyStopping(monitor="val_auc", mode="max", patience=args.patience),
        keras.callbacks.CSVLogger(str(history_csv), append=True),
    ]
    # Training time survives restarts: earlier runs' seconds are kept in the cache, updated every epoch.
    elapsed_file = cache / "elapsed_s.json"
    prior = json.loads(elapsed_file.read_text())["s"] if elapsed_file.exists() else 0.0
    t0 = time.time()

    def record_time(*_):
        elapsed_file.write_text(json.dumps({"s": prior + time.time() - t0}))

    callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=record_time))
    model.fit(
        train_dataset(train_pairs, args, steps),
        steps_per_epoch=steps,
        epochs=args.epochs,
        validation_data=eval_dataset(val["paths"], val["labels"], args),
        callbacks=callbacks,
        verbose=1 if sys.stderr.isatty() else 2,
    )
    record_time()
    total_seconds = json.loads(elapsed_file.read_text())["s"]

    # Serve in float32: portable to CPUs without bf16, and the weights are identical.
    keras.mixed_precision.set_global_policy("float32")
    final = build_classifier(args.input_size)
    if best_weights.exists():
        model.load_weights(str(best_weights))
    final.set_weights(model.get_weights())

    val_scores = predict(final, val["paths"], val["labels"], args)
    threshold = best_threshold(val["labels"], val_scores)
    reports = {"Validation": binary_report(val["labels"], val_scores, threshold)}
    for name, t in test.items():
        reports[name] = binary_report(t["labels"], predict(final, t["paths"], t["labels"], args), threshold)
    for name, r in reports.items():
        print(f"{name:>16}: AUC {r['auc']:.4f}  acc {r['accuracy']:.4f}  P {r['precision']:.3f}  R {r['recall']:.3f}  "
              f"ECE {r['ece']:.3f}  CM {r['confusion_matrix']}", file=sys.stderr)

    epochs_run = len(history_csv.read_text().strip().splitlines()) - 1 if history_csv.exists() else 0
    card = {
        "name": args.name,
        "default": bool(args.default),
        "input_size": args.input_size,
        "output": "fake_probability",
        "labels": {"0": "real", "1": "fake"},
        "threshold": threshold,
        "threshold_rule": "maximises balanced accuracy on Validation",
        "architecture": "EfficientNetV2B0 (Keras), global average pooling, dropout, 1 sigmoid unit",
        "preprocessing": "detector.preprocess.crop_face (dfdc-faces framing) -> resize_for_model (area) to "
        f"{args.input_size}px, RGB 0-255",
        "training": {
            "data": [str(Path(d).name) for d in args.data],
            "train_pairs": len(train_pairs),
            "pairs_in_batch": not args.no_pairs,
            "augment": args.augment,
            "framing_jitter": args.framing_jitter,
            "weights_init": args.weights,
            "epochs_run": epochs_run,
            "precision": precision,
            "seconds": round(total_seconds),
            "hardware": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"{'GPU' if tf.config.list_physical_devices('GPU') else 'no GPU'}",
            "command": "python train.py " + " ".join(sys.argv[1:] if argv is None else argv),
        },
        "metrics_on_crops": {k: v for k, v in reports.items()},
        "licence": f"Trained on {', '.join(Path(d).name for d in args.data)}: research / non-commercial data; "
        "the model inherits those terms.",
    }
    atomic_write(model_path, lambda tmp: final.save(tmp))
    atomic_write(card_path, lambda tmp: Path(tmp).write_text(json.dumps(card, indent=2)))
    plot_path = out_dir / f"{args.name}.png"
    try:
        save_plots(history_csv, {k: v for k, v in reports.items() if k != "Validation"}, plot_path)
    except Exception as e:  # plots are a report, never a reason to lose the model
        print(f"warning: could not draw {plot_path}: {e}", file=sys.stderr)
    print(f"wrote {model_path} and {card_path} ({total_seconds / 60:.1f} min of training)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
