"""Which device TensorFlow computes on: the first GPU it sees, else the CPU."""
from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def tf_device() -> tuple[str, str]:
    """('/GPU:0' | '/CPU:0', human description)."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0]) or {}
        return "/GPU:0", f"GPU ({details.get('device_name', gpus[0].name)})"
    return "/CPU:0", "CPU (no GPU visible to TensorFlow)"
