"""Where training runs: one process (CPU, or every local GPU mirrored) or several workers under TF_CONFIG, on
TensorFlow's own tf.distribute strategies."""
from __future__ import annotations

import json
import os
from pathlib import Path


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def auto_precision(arch: str) -> str:
    """train.py --precision auto. Measured with bench/train_speed.py on a 2-core AMD EPYC with AVX512-BF16:
    bfloat16 speeds up EfficientNetV2B0 (1.2x) but slows Lite0's depthwise blocks (0.5-0.7x)."""
    import tensorflow as tf

    bf16_pays = arch == "efficientnetv2b0" and cpu_has_bf16()
    return "mixed_bfloat16" if bf16_pays and not tf.config.list_physical_devices("GPU") else "float32"


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

