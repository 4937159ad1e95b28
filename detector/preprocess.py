"""The one face framing and resize shared by training (train.py, data_prep) and serving (detector).

Framing was measured, not guessed: MTCNN run on dfdc-faces crops (224x224) finds the face box spanning
~87% of the crop's width and ~107% of its height, centred ~4.5% of the box height above the crop centre.
So a training-like crop is a square of side ~0.93 x box height (~1.15 x box width) shifted slightly down.
"""
from __future__ import annotations

import numpy as np

# Measured on dfdc-faces Validation/Real (see module docstring).
SIDE_PER_HEIGHT = 0.935
SIDE_PER_WIDTH = 1.155
CENTRE_SHIFT_PER_HEIGHT = 0.045


def crop_box(box_xyxy, image_shape) -> tuple[int, int, int, int]:
    """Square crop (x1, y1, x2, y2) framing a face box like the dfdc-faces training crops.
    May extend past the image; `crop_face` pads those parts."""
    x1, y1, x2, y2 = (float(v) for v in box_xyxy)
    w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    side = 0.5 * (SIDE_PER_HEIGHT * h + SIDE_PER_WIDTH * w)
    cx = 0.5 * (x1 + x2)
    cy = 0.5 * (y1 + y2) + CENTRE_SHIFT_PER_HEIGHT * h
    s = max(int(round(side)), 1)
    x1, y1 = int(round(cx - s / 2)), int(round(cy - s / 2))
    return (x1, y1, x1 + s, y1 + s)


def crop_face(image: np.ndarray, box_xyxy) -> np.ndarray:
    """Cut the training-style square face crop out of an RGB uint8 image (edges replicated if needed)."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = crop_box(box_xyxy, image.shape)
    if x1 >= 0 and y1 >= 0 and x2 <= w and y2 <= h:
        return np.ascontiguousarray(image[y1:y2, x1:x2])
    # Past an edge: repeat the edge pixels out to the box by clamping the indices. Only the crop is copied,
    # never the whole picture (padding all of a large picture for a face near its edge cost its size again).
    ys, xs = np.clip(np.arange(y1, y2), 0, h - 1), np.clip(np.arange(x1, x2), 0, w - 1)
    return image[np.ix_(ys, xs)]


def resize_for_model(images, size: int):
    """Face crops (N,H,W,3 or H,W,3; 0-255) -> float32 (.., size, size, 3) in 0-255.

    The single resize used by both train.py's tf.data pipeline and the detector. Pixels stay 0-255:
    Keras EfficientNetV2 normalises inside the model."""
    import tensorflow as tf

    images = tf.cast(images, tf.float32)
    return tf.image.resize(images, (size, size), method="area")
