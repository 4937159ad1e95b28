"""Keras callbacks of a training run: per-source Validation after every epoch, and a resumable backup."""
from __future__ import annotations

import sys

import numpy as np

from detector.metrics import best_threshold, roc_auc

from .sources import eval_dataset, measured_only, sources_of_real_fakes


_PREDICT_FNS: dict = {}  # one traced function per model, reused every epoch


def predict(model, paths, labels, args, blend: bool = False, dataset=None) -> np.ndarray:
    """Scores of `paths`, through `dataset` when given (an `eval_dataset` of them built earlier)."""
    import tensorflow as tf

    fn = _PREDICT_FNS.get(id(model))
    if fn is None:
        from .masks import VERDICT

        def verdict(x):  # a training network with a mask head (training/masks.py) also returns the mask
            out = model(x, training=False)
            return out[VERDICT] if isinstance(out, dict) else out

        fn = _PREDICT_FNS[id(model)] = tf.function(verdict, reduce_retracing=True)
    dataset = dataset if dataset is not None else eval_dataset(paths, labels, args, blend)
    return np.concatenate([fn(x).numpy().reshape(-1) for x, _ in dataset])


def SourceValidation(val_sets: dict, args, real_photos: dict | None = None, held_out=frozenset()):
    """A Keras callback that scores each source's Validation set after every epoch and logs val_auc_<source>
    and val_score (their mean or minimum), which checkpointing and early stopping then follow. Sources in
    `held_out` (weight 0, never trained on: training.sources.measured_only) are logged but left out of val_score
    and of the threshold.

    Each real-only photo set ({name: paths}) counts as one more source: its photos (label real) against the fakes
    of the paired sources, so an epoch that ranks real news photos above face swaps scores worse. Its share
    called fake (val_fp_<name>) is logged at the epoch's balanced-accuracy threshold on the paired sources."""
    import keras

    real_photos = real_photos or {}
    # Built once: tf.data converts the map functions with AutoGraph, which reads their source from disk, so a
    # dataset built every epoch breaks a long run as soon as train.py is edited beside it (it did once).
    datasets = {name: eval_dataset(v["paths"], v["labels"], args, blend=name == "sbi") for name, v in val_sets.items()}
    real_datasets = {name: eval_dataset(paths, [0] * len(paths), args) for name, paths in real_photos.items()}

    class _SourceValidation(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = logs if logs is not None else {}
            scores = {name: predict(self.model, v["paths"], v["labels"], args, dataset=datasets[name])
                      for name, v in val_sets.items()}
            aucs = {name: roc_auc(val_sets[name]["labels"], s) for name, s in scores.items()}
            paired = [n for n in sources_of_real_fakes(scores) if n not in held_out]
            labels = np.concatenate([val_sets[n]["labels"] for n in paired])
            pooled = np.concatenate([scores[n] for n in paired])
            fakes, t = pooled[labels == 1], best_threshold(labels, pooled)
            for name, ds in real_datasets.items():
                s = predict(self.model, real_photos[name], None, args, dataset=ds)
                aucs[name] = roc_auc(np.r_[np.zeros(len(s)), np.ones(len(fakes))], np.r_[s, fakes])
                logs[f"val_fp_{name}"] = float(np.mean(s >= t))
            for name, auc in aucs.items():
                logs[f"val_auc_{name}"] = auc
            chosen = [auc for name, auc in aucs.items() if name not in held_out]
            logs["val_score"] = float((min if args.select == "min" else np.mean)(chosen))
            print(" ".join(f"val_auc_{k} {v:.4f}" for k, v in aucs.items()) + f" -> val_score {logs['val_score']:.4f}"
                  + "".join(f"; {k[7:]} called fake {logs[k]:.1%}" for k in logs if k.startswith("val_fp_")),
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



def ElapsedTime(path):
    """Wall time of training, summed over every sitting of a resumed run (kept in the cache, saved each epoch)."""
    import json
    import time

    import keras

    class _ElapsedTime(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.prior = json.loads(path.read_text())["s"] if path.exists() else 0.0
            self.t0 = None

        def start(self):
            self.t0 = time.time()

        def total(self) -> float:
            return self.prior + time.time() - self.t0 if self.t0 else self.prior

        def save(self, *_):
            path.write_text(json.dumps({"s": self.total()}))

        def on_epoch_end(self, epoch, logs=None):
            self.save()

    return _ElapsedTime()


def compile_for_training(model, args, steps: int) -> None:
    """AdamW on a cosine schedule with linear warm-up; one learning rate for every layer (AdamW's steps do not
    scale with the gradient, so a slower backbone would need a second optimizer; a pretrained backbone gets
    a lower --lr and a head warm-up instead)."""
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=args.lr / 20,
        decay_steps=max(1, steps * args.epochs - int(steps * args.warmup_epochs)),
        warmup_target=args.lr,
        warmup_steps=int(steps * args.warmup_epochs),
        alpha=0.02,
    )
    loss, weights = keras.losses.BinaryCrossentropy(), None
    metrics = [keras.metrics.AUC(name="auc"), keras.metrics.BinaryAccuracy(name="acc")]
    if isinstance(model.output, dict):  # with the mask head of --mask-loss
        from .masks import HEAD, VERDICT, mask_loss

        loss, weights = {VERDICT: loss, HEAD: mask_loss}, {VERDICT: 1.0, HEAD: args.mask_loss}
        metrics = {VERDICT: metrics}
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.05), loss=loss, loss_weights=weights,
                  metrics=metrics)


def warm_up_head(model, data, steps: int, lr: float) -> None:
    """Train only the new sigmoid head for `steps` batches, the pretrained layers frozen (batch norm in inference
    mode): a random head's first gradients would otherwise push noise into features worth keeping."""
    import keras

    trainable = {layer.name: layer.trainable for layer in model.layers}
    for layer in model.layers:
        layer.trainable = layer.name == "fake_probability"
    model.compile(optimizer=keras.optimizers.AdamW(lr * 3, weight_decay=0.0), loss=keras.losses.BinaryCrossentropy(),
                  metrics=[keras.metrics.AUC(name="auc")])
    print(f"head warm-up: {steps} batches with the backbone frozen", file=sys.stderr)
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=2)
    for layer in model.layers:
        layer.trainable = trainable[layer.name]


def training_callbacks(cache, sources, real_photos: dict, args) -> list:
    """Backup (resume), per-source Validation, best-epoch checkpoint, early stopping and the CSV history, in the
    order they must run (the checkpoint and early stopping read the Validation callback's val_score)."""
    import keras

    best_weights, history_csv = cache / "best.weights.h5", cache / "history.csv"
    best = keras.callbacks.ModelCheckpoint(str(best_weights), monitor="val_score", mode="max",
                                           save_best_only=True, save_weights_only=True)
    if history_csv.exists() and best_weights.exists():  # resumed: the best so far is in the log, not in memory
        rows = history_csv.read_text().strip().splitlines()
        col = rows[0].split(",").index("val_score") if rows and "val_score" in rows[0] else None
        if col is not None and len(rows) > 1:
            best.best = max(float(r.split(",")[col]) for r in rows[1:])
    val_sets = {src.name: src.val for src in sources if src.val["paths"]}
    return [
        ResumableBackup(str(cache / "backup"), args.backup_every),
        SourceValidation(val_sets, args, real_photos, measured_only(sources)),
        best,
        keras.callbacks.EarlyStopping(monitor="val_score", mode="max", patience=args.patience),
        keras.callbacks.CSVLogger(str(history_csv), append=True),
    ]
