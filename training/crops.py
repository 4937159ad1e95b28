"""Reading a stored training crop: what every training source (training/sources.py) and the mask targets'
check (training/masks.py) decode their files with."""
from __future__ import annotations

from .augment import CROP_SIZE


def read_crop(path):
    """The image file at `path` (a string tensor inside tf.data) as a uint8 CROP_SIZE x CROP_SIZE x 3 tensor: the
    first frame of an animation, resized with area averaging (a no-op for dfdc-faces' 224 px crops)."""
    import tensorflow as tf

    img = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    img = tf.image.resize(img, (CROP_SIZE, CROP_SIZE), method="area")
    return tf.cast(tf.clip_by_value(img, 0, 255), tf.uint8)
