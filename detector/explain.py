"""Explain stage: Grad-CAM heatmaps (which pixels pushed the score towards "fake") and drawings for display."""
from __future__ import annotations

import threading

import numpy as np

from .model import GRADCAM_LAYER, Classifier

_lock = threading.Lock()
CALL_COLOURS = {"likely_fake": (220, 40, 40), "inconclusive": (235, 140, 0), "likely_real": (40, 180, 70)}


def _gradcam_fn(classifier: Classifier):
    """One traced tf.function per classifier returning the Grad-CAM map at the feature-map resolution. Traced,
    a heatmap costs one graph call instead of Python running every layer eagerly (`bench/app_latency.py` times the
    heatmaps in the app)."""
    with _lock:
        fn = getattr(classifier, "_gradcam_fn", None)
        if fn is None:
            import keras
            import tensorflow as tf

            m = classifier.model
            gm = keras.Model(m.inputs, [m.get_layer(GRADCAM_LAYER).output, m.output])
            size = classifier.input_size

            @tf.function(input_signature=[tf.TensorSpec([1, size, size, 3], tf.float32)])
            def fn(x):
                with tf.GradientTape() as tape:
                    fmap, prob = gm(x, training=False)
                    target = prob[:, 0]
                grads = tape.gradient(target, fmap)
                weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
                return tf.nn.relu(tf.reduce_sum(weights * fmap, axis=-1))[0]

            classifier._gradcam_fn = fn
    return fn


def gradcam(classifier: Classifier, crop: np.ndarray) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017) of the fake probability for one RGB face crop.
    Returns a float32 map in [0, 1] at the crop's resolution."""
    import cv2
    import tensorflow as tf

    from .preprocess import resize_for_model

    x = resize_for_model(cv2.resize(crop, (224, 224), interpolation=cv2.INTER_AREA)[None], classifier.input_size)
    with tf.device(classifier.device):
        cam = _gradcam_fn(classifier)(x).numpy().astype(np.float32)
    if cam.max() > 0:
        cam /= cam.max()
    return cv2.resize(cam, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def face_heatmap(classifier: Classifier, result, i: int) -> np.ndarray:
    """Grad-CAM overlay of face i of an analysis, computed once and kept with the analysis: the app's reruns
    (threshold, aggregation) and its HTML report reuse it, never recompute it."""
    cache = result.artifacts.setdefault("heatmaps", {})
    if i not in cache:
        crop = result.artifacts["crops"][i]
        cache[i] = overlay(crop, gradcam(classifier, crop))
    return cache[i]


def overlay(crop: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """Blend a [0,1] heatmap (JET colours: red = strongest evidence for "fake") onto an RGB crop."""
    import cv2

    colours = cv2.cvtColor(cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    return (crop * (1 - alpha) + colours * alpha).astype(np.uint8)


def draw_faces(image: np.ndarray, faces, threshold: float, scale: float = 1.0) -> np.ndarray:
    """Boxes and scores on a copy of the image: red for faces called fake, orange inconclusive, green real. A
    label goes above its box, else below it; where neither fits (a face filling the picture) a band is added above
    the picture for it, so no label covers the face."""
    import cv2

    out = image.copy()
    thick = max(2, int(round(max(out.shape[:2]) / 400)))
    fs = max(0.5, thick / 3)
    boxes = [tuple(int(round(v * scale)) for v in f.box) for f in faces]
    labels = [f"#{i + 1} {100 * f.fake_probability:.0f}% fake" for i, f in enumerate(faces)]
    sizes = [cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, fs, thick // 2 + 1)[0] for t in labels]
    h = out.shape[0]
    band = max([th + 8 for (x1, y1, x2, y2), (_, th) in zip(boxes, sizes) if y1 < th + 6 and y2 + th + 6 > h],
               default=0)
    if band:
        out = cv2.copyMakeBorder(out, band, 0, 0, 0, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    for f, (x1, y1, x2, y2), label, (tw, th) in zip(faces, boxes, labels, sizes):
        y1, y2 = y1 + band, y2 + band
        colour = CALL_COLOURS.get(getattr(f, "call", None)) or CALL_COLOURS[
            "likely_fake" if f.fake_probability >= threshold else "likely_real"]
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick)
        y = y1 - 4 if y1 >= th + 6 else y2 + th + 4  # the label's bottom: above the box, else below it
        x = max(0, min(x1, out.shape[1] - tw - 4))  # and inside the picture
        cv2.rectangle(out, (x, y - th - 4), (x + tw + 4, y + 2), colour, -1)
        cv2.putText(out, label, (x + 2, y - 2), cv2.FONT_HERSHEY_SIMPLEX, fs, (255, 255, 255), thick // 2 + 1)
    return out
