"""Explain stage: heatmaps (LayerCAM on a 20x20 feature map by default: which pixels pushed the score towards "fake") and drawings for display."""
from __future__ import annotations

import threading

import numpy as np

from .model import GRADCAM_LAYER, Classifier

_lock = threading.Lock()
METHODS = ("layercam", "gradcam-fine", "gradcam", "occlusion")
DEFAULT_METHOD = "layercam"
MIN_CELLS = 16  # issue 24: a map fine enough to point at a region
CALL_COLOURS = {"likely_fake": (220, 40, 40), "inconclusive": (235, 140, 0), "likely_real": (40, 180, 70)}


def fine_layer(model, min_cells: int = MIN_CELLS) -> str:
    """The deepest feature map at least `min_cells` wide: Grad-CAM on the last one (5x5 at 160 px) is one blob
    over the face, so the map is read where the network still sees regions (20x20 at 160 px: stride 8).
    Found by shape, not name, so it holds for every architecture training/backbones.py builds."""
    names = [l.name for l in model.layers if len(l.output.shape) == 4 and (l.output.shape[1] or 0) >= min_cells]
    if not names:
        raise ValueError(f"no feature map of at least {min_cells}x{min_cells} cells in {model.name}")
    return names[-1]


def _cam_fn(classifier: Classifier, method: str):
    """One traced tf.function per (classifier, method) returning the map at its layer's resolution; the layer is
    found once, here. Traced, a heatmap costs one graph call instead of Python running every layer eagerly
    (`bench/app_latency.py` times the heatmaps in the app)."""
    with _lock:
        cache = classifier.__dict__.setdefault("_cam_fns", {})
        if method not in cache:
            import keras
            import tensorflow as tf

            m = classifier.model
            layer = GRADCAM_LAYER if method == "gradcam" else fine_layer(m)
            gm = keras.Model(m.inputs, [m.get_layer(layer).output, m.output])
            size = classifier.input_size

            @tf.function(input_signature=[tf.TensorSpec([1, size, size, 3], tf.float32)])
            def fn(x):
                with tf.GradientTape() as tape:
                    fmap, prob = gm(x, training=False)
                    p = tf.clip_by_value(tf.cast(prob[:, 0], tf.float32), 1e-7, 1 - 1e-7)
                    target = tf.math.log(p) - tf.math.log1p(-p)  # the logit: its gradient does not vanish at p ~ 0 or 1
                fmap = tf.cast(fmap, tf.float32)
                grads = tf.cast(tape.gradient(target, fmap), tf.float32)
                if method == "layercam":  # Jiang et al. 2021: positive gradients weight each cell, sharp on early layers
                    cam = tf.reduce_sum(tf.nn.relu(grads) * fmap, axis=-1)
                else:  # Grad-CAM (Selvaraju et al. 2017): one weight per channel
                    cam = tf.reduce_sum(tf.reduce_mean(grads, axis=(1, 2), keepdims=True) * fmap, axis=-1)
                return tf.nn.relu(cam)[0]

            cache[method] = fn
    return cache[method]


def heatmap(classifier: Classifier, crop: np.ndarray, method: str = DEFAULT_METHOD) -> np.ndarray:
    """Map of what pushed the fake probability up for one RGB face crop, as a float32 [0, 1] map at the crop's
    resolution. Methods (compared on self-blends by `bench/pointing_game.py`): "layercam" on the fine layer
    (the default), "gradcam-fine" (Grad-CAM on that layer), "gradcam" (Grad-CAM on the last feature map)."""
    import cv2
    import tensorflow as tf

    from .preprocess import resize_for_model

    if method not in METHODS:
        raise ValueError(f"unknown heatmap method {method!r}; choose from {', '.join(METHODS)}")
    if method == "occlusion":
        return occlusion(classifier, crop)
    x = resize_for_model(cv2.resize(crop, (224, 224), interpolation=cv2.INTER_AREA)[None], classifier.input_size)
    with tf.device(classifier.device):
        cam = _cam_fn(classifier, method)(x).numpy()
    cam = cam.astype(np.float32)
    if cam.max() > 0:
        cam /= cam.max()
    return cv2.resize(cam, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def occlusion(classifier: Classifier, crop: np.ndarray, cells: int = MIN_CELLS) -> np.ndarray:
    """Occlusion sensitivity (Zeiler & Fergus 2014): blur one patch at a time (cells x cells positions, patches
    twice a cell wide) and map how much the fake probability drops. Blur, not grey: it removes the fine traces a
    blend leaves without painting a new edge. Model-agnostic but cells**2 forward passes."""
    import cv2

    side = 224
    x = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(x, (0, 0), 4)
    step, half = side / cells, side / cells
    batch = []
    for r in range(cells):
        for c in range(cells):
            cy, cx = (r + 0.5) * step, (c + 0.5) * step
            y1, y2, x1, x2 = (int(max(0, v)) for v in (cy - half, cy + half, cx - half, cx + half))
            img = x.copy()
            img[y1:y2, x1:x2] = blurred[y1:y2, x1:x2]
            batch.append(img)
    base = classifier.score([x])[0]
    drop = np.clip(base - classifier.score(batch), 0, None).reshape(cells, cells).astype(np.float32)
    if drop.max() > 0:
        drop /= drop.max()
    return cv2.resize(drop, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def face_heatmap(classifier: Classifier, result, i: int, method: str = DEFAULT_METHOD) -> np.ndarray:
    """Heatmap overlay (with its legend) of face i of an analysis, computed once per method and kept with the
    analysis: the app's reruns (threshold, aggregation) and its HTML report reuse it, never recompute it."""
    cache = result.artifacts.setdefault("heatmaps", {})
    if (i, method) not in cache:
        crop = result.artifacts["crops"][i]
        cache[i, method] = overlay(crop, heatmap(classifier, crop, method))
    return cache[i, method]


def visible(crop: np.ndarray, target: float = 200.0, max_gain: float = 4.0) -> np.ndarray:
    """The crop brightened for display when it is dark (a dim room's video frame): its 98th-percentile brightness
    raised to `target`, by at most `max_gain`. Display only: the model scored the crop as it was."""
    bright = float(np.percentile(crop.max(axis=-1), 98)) if crop.size else 255.0
    gain = min(max_gain, target / max(bright, 1.0))
    return crop if gain <= 1.0 else np.clip(crop.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def overlay(crop: np.ndarray, heat: np.ndarray, alpha: float = 0.6, legend: bool = True) -> np.ndarray:
    """Blend a [0,1] heatmap (JET colours: red = strongest evidence for "fake") onto an RGB crop, with a colour
    legend strip under it so the picture explains itself wherever it goes (app, report, Game). The colour's weight
    grows with the heat (up to `alpha`), so the face stays readable where nothing pushed towards fake, and a dark
    crop is brightened first (visible): a flat blue wash over a dark face showed neither the face nor the map."""
    import cv2

    colours = cv2.cvtColor(cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    weight = (0.2 + (alpha - 0.2) * heat)[..., None]  # a faint blue tint over cold regions: the map's extent shows
    out = (visible(crop) * (1 - weight) + colours * weight).astype(np.uint8)
    return np.vstack([out, legend_strip(out.shape[1])]) if legend else out


def legend_strip(width: int) -> np.ndarray:
    """The colour scale (blue: no push towards fake, red: the strongest) with its two ends named, `width` wide."""
    import cv2

    h = max(18, width // 9)
    bar_h = max(4, h // 4)
    strip = np.full((h, width, 3), 255, np.uint8)
    ramp = cv2.applyColorMap(np.linspace(0, 255, width).astype(np.uint8)[None].repeat(bar_h, 0), cv2.COLORMAP_JET)
    strip[:bar_h] = cv2.cvtColor(ramp, cv2.COLOR_BGR2RGB)
    fs = max(0.3, (h - bar_h) / 30)
    # the two names side by side with a gap, whatever the width (on a narrow crop they overlapped)
    both = sum(cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, 1.0, 1)[0][0] for t in ("none", "towards fake"))
    fs = min(fs, (width - 12) / both)
    for text, right in (("none", False), ("towards fake", True)):
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, fs, 1)
        x = width - tw - 2 if right else 2
        cv2.putText(strip, text, (x, min(h - 3, bar_h + th + 3)), cv2.FONT_HERSHEY_SIMPLEX, fs, (60, 60, 60), 1,
                    cv2.LINE_AA)
    return strip


def draw_faces(image: np.ndarray, faces, threshold: float, scale: float = 1.0) -> np.ndarray:
    """Boxes and scores on a copy of the image: red for faces called fake, orange inconclusive, green real. A
    label goes above its box, else below it; where neither fits (a face filling the picture) a band is added above
    the picture for it, so no label covers the face."""
    import cv2

    out = image.copy()
    thick = max(2, int(round(max(out.shape[:2]) / 400)))
    fs = max(0.5, thick / 3)
    h, w = out.shape[:2]
    # Clipped to the picture: a face cut by its edge (every tight crop) has a box reaching outside it, which was
    # drawn as one stray line, its label off the picture.
    boxes = [(min(max(x1, 0), w - 1), min(max(y1, 0), h - 1), min(max(x2, 0), w - 1), min(max(y2, 0), h - 1))
             for x1, y1, x2, y2 in (tuple(int(round(v * scale)) for v in f.box) for f in faces)]
    labels = [f"#{i + 1} {100 * f.fake_probability:.0f}% fake" for i, f in enumerate(faces)]
    sizes = [cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, fs, thick // 2 + 1)[0] for t in labels]
    band = max([th + 8 for (x1, y1, x2, y2), (_, th) in zip(boxes, sizes) if y1 < th + 6 and y2 + th + 6 > h],
               default=0)
    if band:
        out = cv2.copyMakeBorder(out, band, 0, 0, 0, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    for f, (x1, y1, x2, y2), label, (tw, th) in zip(faces, boxes, labels, sizes):
        y1, y2 = y1 + band, y2 + band
        colour = CALL_COLOURS.get(getattr(f, "call", None)) or CALL_COLOURS[
            "likely_fake" if f.fake_probability >= threshold else "likely_real"]
        # inside the picture: a line of width `thick` centred on its edge would be half cut off
        inset, bottom = thick // 2, out.shape[0] - 1
        cv2.rectangle(out, (max(x1, inset), max(y1, band + inset)), (min(x2, w - 1 - inset), min(y2, bottom - inset)),
                      colour, thick)
        y = y1 - 4 if y1 >= th + 6 else y2 + th + 4  # the label's bottom: above the box, else below it
        x = max(0, min(x1, out.shape[1] - tw - 4))  # and inside the picture
        cv2.rectangle(out, (x, y - th - 4), (x + tw + 4, y + 2), colour, -1)
        cv2.putText(out, label, (x + 2, y - 2), cv2.FONT_HERSHEY_SIMPLEX, fs, (255, 255, 255), thick // 2 + 1)
    return out
