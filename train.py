"""Train the face classifier from OpenForensics-layout folders and write model + card to models/.

    python train.py --data ../shared/datasets/dfdc-faces            # one source
    python train.py --data DFDC --data STYLEGAN_CROPS --sbi DFDC UTK_CROPS \
        --source-weight dfdc-faces=0.6 stylegan-crops=0.15 sbi=0.25  # several sources mixed (README: the default recipe)
    python train.py --quick --data DIR --out /tmp/m                 # seconds; used by the tests

Each source yields real/fake pairs (pairs.csv, or random pairing); `--sbi` folders yield (real, self-blend of it)
pairs made on the fly. Batches draw pairs from the sources by `--source-weight`. The epoch kept is the one with
the best validation score: the mean (or `--select min`) of the per-source Validation AUCs.

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
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # before `detector` turns it off for serving: training has fixed shapes

import numpy as np

from data_prep.dataset import find_split, read_pairs
from detector.calibration import apply_temperature, fit_temperature, source_weights
from detector.metrics import best_threshold, binary_report, roc_auc
from detector.model import MODELS_DIR, atomic_write, build_classifier
from detector.preprocess import resize_for_model

CROP_SIZE = 224  # training crops are stored at 224 (dfdc-faces); resized to --input-size by the shared resize


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", action="extend", required=True,
                   help="OpenForensics-layout folder(s); repeat or list several to mix sources")
    p.add_argument("--sbi", nargs="+", action="extend", default=[],
                   help="folders whose Real faces (Train; Validation for scoring) become self-blended pseudo-fakes "
                        "on the fly, as one extra source named 'sbi'")
    p.add_argument("--source-weight", nargs="+", action="extend", default=[], metavar="NAME=W",
                   help="sampling weight of a source (folder name, or 'sbi'); unnamed sources get 1")
    p.add_argument("--select", choices=["mean", "min"], default="mean",
                   help="validation score that picks the epoch: mean or minimum of the per-source AUCs")
    p.add_argument("--steps-per-epoch", type=int, default=0,
                   help="batches per epoch (0: one pass over the training pairs of all --data sources)")
    p.add_argument("--sbi-val", type=int, default=300, help="Validation reals per --sbi folder blended for scoring")
    p.add_argument("--init-from", default=None,
                   help="start from this .keras model's weights (same input size) instead of random; "
                        "a resumed run restores its own checkpoint instead")
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
    p.add_argument("--augment", choices=["none", "light", "full", "degrade"], default="light",
                   help="degrade: DFDC-winner style (JPEG 30-100, down-scale 0.25-1, blur, noise, colour, cutout)")
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
    p.add_argument("--finalize", action="store_true",
                   help="train no further: write the model and card from the best epoch checkpointed so far (the "
                        "same command without it goes on training from where the run stopped)")
    p.add_argument("--default", action="store_true", help="mark the card as the default model")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--quick", action="store_true", help="tiny model/data for tests: 48 px, 1 epoch, few images")
    a = p.parse_args(argv)
    if a.quick:
        a.input_size, a.epochs, a.batch_size, a.max_train_pairs, a.patience = 48, 1, 8, 16, 1
        a.backup_every, a.sbi_val = 2, 8
        a.steps_per_epoch = min(a.steps_per_epoch or 4, 4)
    return a


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def worker_role() -> tuple[bool, str]:
    """(is this process the chief?, its name) under TF_CONFIG; a single process is its own chief. Only the chief
    writes the model, card and plots; every other worker keeps its checkpoints in its own cache subfolder."""
    cfg = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = cfg.get("task", {})
    kind, index = task.get("type", "worker"), int(task.get("index", 0))
    chief = kind == "chief" or ("chief" not in cfg.get("cluster", {}) and kind == "worker" and index == 0)
    return chief, f"{kind}-{index}"


def patch_keras_for_multi_worker(model, strategy, args) -> None:
    """Keras 3 `fit` does not run under MultiWorkerMirroredStrategy (keras-team/keras#20585, open): (1) before
    training it averages a distributed input batch across workers only to learn its shapes, and that reduce
    fails; (2) it averages each scalar log (loss, metrics) across workers with `axis=0`, which a scalar has not.
    Both are bookkeeping around the training step; the gradient all-reduce itself is TensorFlow's. So: build
    from a local batch of the right shape, and reduce scalars without an axis."""
    import tensorflow as tf
    from keras.src.backend.tensorflow import trainer as tf_trainer

    local = (tf.zeros([args.batch_size, args.input_size, args.input_size, 3]), tf.zeros([args.batch_size]))

    def build_locally(iterator=None, data_batch=None):
        with strategy.scope():
            model._symbolic_build(data_batch=local)

    model._maybe_symbolic_build = build_locally
    original = tf_trainer.reduce_per_replica
    if getattr(original, "_scalar_safe", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        def one(v):
            local_value = strategy.experimental_local_results(v)[0] if isinstance(
                v, tf.distribute.DistributedValues) else v
            if reduction in ("auto", "mean") and getattr(local_value, "shape", None) is not None and \
                    local_value.shape.rank == 0:
                return strategy.reduce("MEAN", v, axis=None)
            return original(v, strategy, reduction)

        return tf.nest.map_structure(one, values)

    reduce_per_replica._scalar_safe = True
    tf_trainer.reduce_per_replica = reduce_per_replica


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

    if level == "degrade":
        return _degrade(img, maybe)
    strength = 1.0 if level == "full" else 0.5
    img = maybe(0.3 * strength, lambda x: tf.image.random_jpeg_quality(x, 40, 95), img)
    img = maybe(0.2 * strength, lambda x: _down_up(x, 0.45, 0.9), img)  # resolution loss / blur
    img = maybe(0.4 * strength, lambda x: _colour(x, 0.1, 0.15, 0.15), img)
    return img


def _down_up(x, low: float, high: float):
    """Shrink a crop to a random low..high of its side (area) and back: the resolution an upload lost."""
    import tensorflow as tf

    s = tf.cast(tf.random.uniform([], low, high) * CROP_SIZE, tf.int32)
    x = tf.image.resize(tf.image.resize(tf.cast(x, tf.float32), (s, s), method="area"), (CROP_SIZE, CROP_SIZE))
    return tf.cast(tf.clip_by_value(x, 0, 255), tf.uint8)


def _colour(x, brightness: float, contrast: float, saturation: float, hue: float = 0.0):
    import tensorflow as tf

    x = tf.cast(x, tf.float32) / 255.0
    x = tf.image.random_brightness(x, brightness)
    x = tf.image.random_contrast(x, 1 - contrast, 1 + contrast)
    x = tf.image.random_saturation(x, 1 - saturation, 1 + saturation)
    if hue:
        x = tf.image.random_hue(x, hue)
    return tf.cast(tf.clip_by_value(x * 255.0, 0, 255), tf.uint8)


def _degrade(img, maybe):
    """What an upload goes through, at the strengths DFDC's winners trained with: JPEG quality 30-100,
    down-scaling to 0.25-1 of the side and back, Gaussian blur, sensor noise, colour, and cutout (so no single
    region, e.g. the mouth, carries the decision)."""
    import tensorflow as tf

    def blur(x):
        sigma = tf.random.uniform([], 0.3, 1.8)
        k = tf.range(-3, 4, dtype=tf.float32)
        g = tf.exp(-(k ** 2) / (2 * sigma ** 2))
        g /= tf.reduce_sum(g)
        kernel = tf.tile((g[:, None] * g[None, :])[:, :, None, None], [1, 1, 3, 1])
        x = tf.nn.depthwise_conv2d(tf.cast(x, tf.float32)[None], kernel, [1, 1, 1, 1], "SAME")[0]
        return tf.cast(tf.clip_by_value(x, 0, 255), tf.uint8)

    def noise(x):
        x = tf.cast(x, tf.float32) + tf.random.normal(tf.shape(x), stddev=tf.random.uniform([], 1.0, 8.0))
        return tf.cast(tf.clip_by_value(x, 0, 255), tf.uint8)

    def cutout(x):
        side = tf.cast(tf.random.uniform([], 0.15, 0.4) * CROP_SIZE, tf.int32)
        y0 = tf.random.uniform([], 0, CROP_SIZE - side, tf.int32)
        x0 = tf.random.uniform([], 0, CROP_SIZE - side, tf.int32)
        rows = tf.logical_and(tf.range(CROP_SIZE) >= y0, tf.range(CROP_SIZE) < y0 + side)
        cols = tf.logical_and(tf.range(CROP_SIZE) >= x0, tf.range(CROP_SIZE) < x0 + side)
        hole = tf.logical_and(rows[:, None], cols[None, :])[..., None]
        return tf.where(hole, tf.zeros_like(x), x)

    img = maybe(0.3, lambda x: _down_up(x, 0.25, 1.0), img)
    img = maybe(0.15, blur, img)
    img = maybe(0.15, noise, img)
    img = maybe(0.4, lambda x: _colour(x, 0.15, 0.25, 0.3, hue=0.03), img)
    img = maybe(0.5, lambda x: tf.image.random_jpeg_quality(x, 30, 100), img)  # last, as for a shared file
    img = maybe(0.2, cutout, img)
    return img


def _sbi_pair(real, seed):
    """(real, its self-blend): the blend made by data_prep.sbi.blend_crop, deterministic for a given seed."""
    import tensorflow as tf

    from data_prep.sbi import blend_crop

    fake = tf.numpy_function(blend_crop, [real, seed], tf.uint8, stateful=False)
    fake.set_shape(real.shape)
    return tf.stack([real, fake])


@dataclass
class Source:
    """One kind of training data: real/fake path pairs, or (kind == "sbi") real paths blended on the fly."""
    name: str
    kind: str  # "pairs" | "sbi"
    train: list
    weight: float = 1.0
    val: dict = field(default_factory=lambda: {"paths": [], "labels": []})  # "sbi": paths of reals to blend


def _pair_stream(src: Source, seed: int):
    import tensorflow as tf

    items = np.array(src.train, dtype=object).astype(str)
    ds = tf.data.Dataset.from_tensor_slices(items).shuffle(len(items), seed=seed).repeat()
    if src.kind == "sbi":
        return ds.map(lambda p: _sbi_pair(_decode(p), tf.random.uniform([], 0, 2**31 - 1, tf.int64)),
                      num_parallel_calls=tf.data.AUTOTUNE)
    return ds.map(lambda pp: tf.stack([_decode(pp[0]), _decode(pp[1])]), num_parallel_calls=tf.data.AUTOTUNE)


def train_dataset(sources: list[Source], args, seed: int):
    """Batches in which each real face sits next to its fake (or, with --no-pairs, shuffled images); pairs
    drawn from the sources in proportion to their weights."""
    import tensorflow as tf

    size, level, jitter = args.input_size, args.augment, args.framing_jitter
    streams = [_pair_stream(src, seed + i) for i, src in enumerate(sources)]
    weights = np.array([src.weight for src in sources], np.float64)
    ds = streams[0] if len(streams) == 1 else tf.data.Dataset.sample_from_datasets(
        streams, weights=list(weights / weights.sum()), seed=seed)
    ds = ds.map(
        lambda pair: (tf.stack([_augment(pair[0], level, jitter), _augment(pair[1], level, jitter)]),
                      tf.constant([0.0, 1.0])),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).unbatch()
    if args.no_pairs:
        ds = ds.shuffle(2048, seed=seed)
    ds = ds.batch(args.batch_size, drop_remainder=True)
    ds = ds.map(lambda x, y: (resize_for_model(x, size), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(2)


def eval_dataset(paths, labels, args, blend: bool = False):
    """Images as given; with blend=True, `paths` are reals and every odd label is the seeded blend of a real
    (labels must then be [0, 1, 0, 1, ...] with each path listed twice)."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((list(paths), np.asarray(labels, np.float32), np.arange(len(paths))))
    if blend:
        def load(p, y, i):
            img = _decode(p)
            fake = _sbi_pair(img, tf.cast(i, tf.int64))[1]
            return tf.where(y > 0.5, fake, img), y
    else:
        def load(p, y, i):
            return _decode(p), y
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(64)
    return ds.map(lambda x, y: (resize_for_model(x, args.input_size), y)).prefetch(2)


def _parse_weights(specs) -> dict[str, float]:
    out = {}
    for spec in specs:
        name, _, w = spec.partition("=")
        try:
            out[name] = float(w)
        except ValueError:
            raise SystemExit(f"error: --source-weight wants NAME=WEIGHT, got {spec!r}") from None
    return out


def load_sources(args):
    """The training sources, their validation sets, and the Test sets of the --data folders."""
    weights = _parse_weights(args.source_weight)
    rng = np.random.default_rng(args.seed)
    sources, test = [], {}
    for root in args.data:
        name = Path(root).name
        src = Source(name, "pairs", read_pairs(root, find_split(root, "Train")), weights.get(name, 1.0))
        if args.max_train_pairs and len(src.train) > args.max_train_pairs:
            idx = rng.choice(len(src.train), args.max_train_pairs, replace=False)
            src.train = [src.train[i] for i in sorted(idx)]
        if args.validation is None or root in args.validation:
            v = find_split(root, "Validation")
            src.val = {"paths": v.paths, "labels": v.labels}
        sources.append(src)
        try:
            t = find_split(root, "Test")
            test[name] = {"paths": t.paths, "labels": t.labels}
        except ValueError as e:
            print(f"note: no Test split in {root} ({e})", file=sys.stderr)
    if args.sbi:
        reals, val_reals = [], []
        for root in args.sbi:
            tr = find_split(root, "Train", classes=("real",))
            reals += tr.paths
            try:
                v = find_split(root, "Validation", classes=("real",)).paths
            except ValueError:
                v = []
            if v:  # a fixed, seeded subset: the same blends every epoch
                val_reals += [v[i] for i in sorted(rng.choice(len(v), min(args.sbi_val, len(v)), replace=False))]
        if args.max_train_pairs:
            reals = [reals[i] for i in sorted(rng.choice(len(reals), min(args.max_train_pairs, len(reals)), replace=False))]
        sources.append(Source("sbi", "sbi", reals, weights.get("sbi", 1.0),
                              {"paths": [p for p in val_reals for _ in (0, 1)], "labels": [0, 1] * len(val_reals)}))
    unknown = set(weights) - {s.name for s in sources}
    if unknown:
        raise SystemExit(f"error: --source-weight names no source: {sorted(unknown)}; sources: {[s.name for s in sources]}")
    if args.quick:  # tiny validation/test too
        keep = lambda d: {k: list(v[:8]) + list(v[-8:]) for k, v in d.items()}  # noqa: E731
        for src in sources:
            src.val = keep(src.val)
        test = {k: keep(v) for k, v in test.items()}
    return sources, test


# ---------------------------------------------------------------- outputs
_PREDICT_FNS: dict = {}  # one traced function per model, reused every epoch


def predict(model, paths, labels, args, blend: bool = False, dataset=None) -> np.ndarray:
    """Scores of `paths`, through `dataset` when given (an `eval_dataset` of them built earlier)."""
    import tensorflow as tf

    fn = _PREDICT_FNS.get(id(model))
    if fn is None:
        fn = _PREDICT_FNS[id(model)] = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    dataset = dataset if dataset is not None else eval_dataset(paths, labels, args, blend)
    return np.concatenate([fn(x).numpy().reshape(-1) for x, _ in dataset])


def SourceValidation(val_sets: dict, args):
    """A Keras callback that scores each source's Validation set after every epoch and logs val_auc_<source>
    and val_score (their mean or minimum), which checkpointing and early stopping then follow."""
    import keras

    # Built once: tf.data converts the map functions with AutoGraph, which reads their source from disk, so a
    # dataset built every epoch breaks a long run as soon as train.py is edited beside it (it did once).
    datasets = {name: eval_dataset(v["paths"], v["labels"], args, blend=name == "sbi") for name, v in val_sets.items()}

    class _SourceValidation(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = logs if logs is not None else {}
            aucs = {name: roc_auc(v["labels"], predict(self.model, v["paths"], v["labels"], args, dataset=datasets[name]))
                    for name, v in val_sets.items()}
            for name, auc in aucs.items():
                logs[f"val_auc_{name}"] = auc
            logs["val_score"] = float((min if args.select == "min" else np.mean)(list(aucs.values())))
            print(" ".join(f"val_auc_{k} {v:.4f}" for k, v in aucs.items()) + f" -> val_score {logs['val_score']:.4f}",
                  file=sys.stderr)

    return _SourceValidation()


def ResumableBackup(backup_dir: str, save_freq):
    """keras.callbacks.BackupAndRestore that knows the epoch it resumed in. In Keras 3.15 the callback counts
    epochs from 0 in every process until its first epoch ends, so a run stopped during the first epoch after a
    resume saved "epoch 0" and the next resume started over, learning-rate schedule included (it happened). And
    saving every N batches, it last named the epoch it had just finished, so a run stopped between epochs trained
    that epoch again on resume (it happened too): it also saves at every epoch end."""
    import keras

    class _ResumableBackup(keras.callbacks.BackupAndRestore):
        def on_epoch_begin(self, epoch, logs=None):
            self._current_epoch = epoch

        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)  # the next epoch becomes the resume point
            if self.save_freq != "epoch":
                self._save_model()

    return _ResumableBackup(backup_dir, save_freq=save_freq)


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
        curves = [key, "val_" + key] + ([c for c in col if c.startswith("val_auc_") or c == "val_score"] if key == "auc" else [])
        for name in curves:
            if name in col and len(data):
                ax.plot(ep, data[:, col[name]], marker="o", label=name)
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
    is_chief, role = worker_role()
    if not is_chief:
        cache = cache / role
    if args.fresh and cache.exists():
        import shutil

        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)

    import keras
    import tensorflow as tf

    strategy = choose_strategy()  # first: a multi-worker strategy must exist before other TensorFlow work
    # A resumed run must not replay the data it began with: the training data's seed moves on with the point it
    # resumes from. (With one seed, every resume replayed the first epoch's batches and augmentations: train AUC
    # jumped 0.78 -> 0.83 in such an epoch while Validation stayed flat.) Validation sets keep --seed.
    meta = cache / "backup" / "training_metadata.json"
    resumed = json.loads(meta.read_text()) if meta.exists() else {"epoch": 0, "batch": 0}
    data_seed = args.seed + 1000 * resumed["epoch"] + resumed["batch"]
    keras.utils.set_random_seed(data_seed)
    precision = args.precision
    if precision == "auto":
        precision = "mixed_bfloat16" if cpu_has_bf16() and not tf.config.list_physical_devices("GPU") else "float32"
    keras.mixed_precision.set_global_policy(precision)

    sources, test = load_sources(args)
    n_pairs = sum(len(src.train) for src in sources if src.kind == "pairs") or len(sources[0].train)
    steps = args.steps_per_epoch or max(1, n_pairs * 2 // args.batch_size)
    for src in sources:
        print(f"source {src.name}: {len(src.train)} training {'reals to blend' if src.kind == 'sbi' else 'pairs'}, "
              f"weight {src.weight:g}, validation {len(src.val['paths'])} images", file=sys.stderr)
    print(f"{steps} steps/epoch of {args.batch_size}, {args.epochs} epochs, test sets: {list(test)}; "
          f"precision {precision}", file=sys.stderr)

    with strategy.scope():
        model = build_classifier(args.input_size, weights=None if args.weights == "none" else args.weights)
        if args.init_from:  # BackupAndRestore, if it finds a backup, overrides these weights: a resume wins
            model.set_weights(keras.saving.load_model(args.init_from, compile=False, safe_mode=True).get_weights())
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

    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        patch_keras_for_multi_worker(model, strategy, args)

    best_weights = cache / "best.weights.h5"
    history_csv = cache / "history.csv"
    best_ckpt = keras.callbacks.ModelCheckpoint(str(best_weights), monitor="val_score", mode="max",
                                                save_best_only=True, save_weights_only=True)
    if history_csv.exists() and best_weights.exists():  # resumed: the best so far is in the log, not in memory
        rows = history_csv.read_text().strip().splitlines()
        col = rows[0].split(",").index("val_score") if rows and "val_score" in rows[0] else None
        if col is not None and len(rows) > 1:
            best_ckpt.best = max(float(r.split(",")[col]) for r in rows[1:])
    val_sets = {src.name: src.val for src in sources if src.val["paths"]}
    callbacks = [
        ResumableBackup(str(cache / "backup"), args.backup_every),
        SourceValidation(val_sets, args),  # before the callbacks that read its val_score
        best_ckpt,
        keras.callbacks.EarlyStopping(monitor="val_score", mode="max", patience=args.patience),
        keras.callbacks.CSVLogger(str(history_csv), append=True),
    ]
    # Training time survives restarts: earlier runs' seconds are kept in the cache, updated every epoch.
    elapsed_file = cache / "elapsed_s.json"
    prior = json.loads(elapsed_file.read_text())["s"] if elapsed_file.exists() else 0.0
    t0 = time.time()

    def record_time(*_):
        elapsed_file.write_text(json.dumps({"s": prior + time.time() - t0}))

    callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=record_time))
    if args.finalize:
        if not best_weights.exists():
            print(f"error: --finalize needs a finished epoch in {cache}", file=sys.stderr)
            return 2
    else:
        model.fit(
            train_dataset(sources, args, data_seed),
            steps_per_epoch=steps,
            epochs=args.epochs,
            callbacks=callbacks,
            verbose=1 if sys.stderr.isatty() else 2,
        )
        record_time()
    total_seconds = json.loads(elapsed_file.read_text())["s"] if elapsed_file.exists() else 0.0

    if not is_chief:
        print(f"{role}: training finished; the chief writes the model", file=sys.stderr)
        return 0

    # Serve in float32: portable to CPUs without bf16, and the weights are identical.
    keras.mixed_precision.set_global_policy("float32")
    final = build_classifier(args.input_size)
    if best_weights.exists():
        model.load_weights(str(best_weights))
    final.set_weights(model.get_weights())

    # Threshold on the pooled Validation of every source; Test only reports. The temperature is fitted on the
    # real fakes' sources only, each weighing the same: SBI's over-confident blends pulled it to 1.49 and doubled
    # dfdc-faces' calibration error; without them, and balanced, every real source's ECE fell (bench/calibration_study.py).
    raw_val = {name: predict(final, v["paths"], v["labels"], args, blend=name == "sbi") for name, v in val_sets.items()}
    val_labels = np.concatenate([val_sets[n]["labels"] for n in raw_val])
    pooled = np.concatenate(list(raw_val.values()))
    real = [n for n in raw_val if n != "sbi"] or list(raw_val)
    temperature = fit_temperature(np.concatenate([val_sets[n]["labels"] for n in real]),
                                  np.concatenate([raw_val[n] for n in real]),
                                  source_weights([len(raw_val[n]) for n in real]))
    threshold = best_threshold(val_labels, apply_temperature(pooled, temperature))
    reports = {"Validation": binary_report(val_labels, apply_temperature(pooled, temperature), threshold)}
    reports["Validation"]["ece_before_calibration"] = binary_report(val_labels, pooled, 0.5)["ece"]
    per_source_val = {n: binary_report(val_sets[n]["labels"], apply_temperature(s, temperature), threshold)
                      for n, s in raw_val.items()}
    for name, t in test.items():
        scores = apply_temperature(predict(final, t["paths"], t["labels"], args), temperature)
        reports[name] = binary_report(t["labels"], scores, threshold)
    for name, r in {**{f"val {k}": v for k, v in per_source_val.items()}, **reports}.items():
        print(f"{name:>20}: AUC {r['auc']:.4f}  acc {r['accuracy']:.4f}  P {r['precision']:.3f}  R {r['recall']:.3f}  "
              f"ECE {r['ece']:.3f}  CM {r['confusion_matrix']}", file=sys.stderr)
    print(f"temperature {temperature:.3f}, threshold {threshold:.4f}", file=sys.stderr)

    epochs_run = len(history_csv.read_text().strip().splitlines()) - 1 if history_csv.exists() else 0
    best_epoch = None
    if epochs_run:
        rows = [r.split(",") for r in history_csv.read_text().strip().splitlines()]
        if "val_score" in rows[0]:
            col = rows[0].index("val_score")
            best_epoch = 1 + max(range(len(rows) - 1), key=lambda i: float(rows[i + 1][col]))
    names = [Path(d).name for d in args.data] + [f"SBI from {', '.join(Path(d).name for d in args.sbi)}"] * bool(args.sbi)
    card = {
        "name": args.name,
        "default": bool(args.default),
        "input_size": args.input_size,
        "output": "fake_probability",
        "labels": {"0": "real", "1": "fake"},
        "threshold": threshold,
        "threshold_rule": "maximises balanced accuracy on the pooled Validation of every source (calibrated scores)",
        "temperature": temperature,
        "calibration": "temperature scaling: fake_probability = sigmoid(logit(model output) / temperature), "
        "temperature fitted by log-likelihood on the Validation of the sources of real fakes (not SBI), each source "
        "weighing the same; applied by detector.model.Classifier",
        "architecture": "EfficientNetV2B0 (Keras), global average pooling, dropout, 1 sigmoid unit",
        "preprocessing": "detector.preprocess.crop_face (dfdc-faces framing) -> resize_for_model (area) to "
        f"{args.input_size}px, RGB 0-255",
        "training": {
            "data": [str(Path(d).name) for d in args.data],
            "sources": {src.name: {"kind": src.kind, "train_items": len(src.train), "weight": src.weight,
                                   "validation_images": len(src.val["paths"])} for src in sources},
            "sbi_from": [str(Path(d).name) for d in args.sbi],
            "epoch_selection": f"{args.select} of per-source Validation AUC",
            "steps_per_epoch": steps,
            "batch_size": args.batch_size,
            "train_pairs": n_pairs,
            "pairs_in_batch": not args.no_pairs,
            "augment": args.augment,
            "framing_jitter": args.framing_jitter,
            "weights_init": args.init_from and f"weights of {Path(args.init_from).name}" or args.weights,
            "epochs_run": epochs_run,
            "best_epoch": best_epoch,
            "precision": precision,
            "distribution": {"strategy": type(strategy).__name__, "replicas": strategy.num_replicas_in_sync,
                             "workers": len(json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
                                            .get("worker", [])) or 1},
            "seconds": round(total_seconds),
            "hardware": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"{'GPU' if tf.config.list_physical_devices('GPU') else 'no GPU'}",
            "command": "python train.py " + " ".join(sys.argv[1:] if argv is None else argv),
        },
        "validation_per_source": per_source_val,
        "metrics_on_crops": {k: v for k, v in reports.items()},
        "licence": f"Trained on {', '.join(names)}: research / non-commercial data; the model inherits those terms.",
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
