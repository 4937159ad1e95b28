"""Augmentations that matter for deepfakes: what uploads go through (re-compression, blur/resize, colour),
framing jitter, and flips. Applied to real and fake crops alike, each drawn independently from the same
distribution, so sharpness, colour, size or JPEG quality cannot tell the classes apart."""
from __future__ import annotations

LEVELS = ("none", "light", "full", "degrade", "camera", "mono")  # --augment's choices
MONO_P = 0.08  # share of crops turned black and white by --augment camera and mono
CROP_SIZE = 224  # training crops are stored at 224 (dfdc-faces); resized to --input-size by the shared resize


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
    return _appearance(_geometry(img, jitter), level)


def _geometry(img, jitter: float):
    """A flip and the framing jitter: any number of channels (a fake's manipulation mask moves with it)."""
    import tensorflow as tf

    img = tf.image.random_flip_left_right(img)
    return _jitter_framing(img, jitter) if jitter > 0 else img


def _appearance(img, level: str):
    """What an upload or a camera does to the pixels, at --augment's level. uint8 224x224x3."""
    import tensorflow as tf

    if level == "none":
        return img

    def maybe(p, fn, x):
        return tf.cond(tf.random.uniform([]) < p, lambda: fn(x), lambda: x)

    if level == "degrade":
        return _degrade(img, maybe)
    if level == "camera":
        return _degrade(_camera(img, maybe), maybe)
    if level == "mono":  # degrade, and black and white alone of the camera changes
        return _degrade(maybe(MONO_P, _grey, img), maybe)
    strength = 1.0 if level == "full" else 0.5
    img = maybe(0.3 * strength, lambda x: tf.image.random_jpeg_quality(x, 40, 95), img)
    img = maybe(0.2 * strength, lambda x: _down_up(x, 0.45, 0.9), img)  # resolution loss / blur
    img = maybe(0.4 * strength, lambda x: _colour(x, 0.1, 0.15, 0.15), img)
    return img


def soften_real(img, p: float):
    """With probability p, a real crop (never a fake) loses resolution or focus: down-scaled to 0.35-0.75 of its
    side and back, or blurred (sigma 0.6-1.4). Face swaps are softer than their originals (dfdc-faces' fakes are
    less sharp than their reals, `bench/sharpness.py`), so a model learns "soft = fake"; a real source it never
    saw that is soft (LFW's small press photos) is then called fake, and blurring it makes that worse
    (`bench/real_photo_cues.py`). Softening only reals breaks the link between a face's overall softness and its
    label, while the swap's softness *inside* a sharper face is left to learn. Applied before `_augment`."""
    import tensorflow as tf

    def soften(x):
        return tf.cond(tf.random.uniform([]) < 0.5, lambda: _down_up(x, 0.35, 0.75), lambda: _blur(x, 0.6, 1.4))

    if p <= 0:
        return img
    return tf.cond(tf.random.uniform([]) < p, lambda: soften(img), lambda: img)


def pair_colour(pair, p: float, match: bool):
    """A real and its fake (a [2, H, W, 3] uint8 pair) given one colour change together, so colour carries no
    label: with `match`, the fake first takes its real's per-channel mean and spread (a GAN face drawn in
    FFHQ's colours beside a duller real photo loses that difference; a twin's changes little); then, with
    probability p, both get the *same* change: black and white (a fifth of them), or one saturation (x0.4-1.6),
    brightness, contrast and white balance. Colourfulness read as fakeness is what called sharp real portraits
    fake (`bench/real_photo_cues.py`); per-image colour jitter keeps the classes' colour gap, this closes it."""
    import tensorflow as tf

    x = tf.cast(pair, tf.float32)
    if match:
        mean, var = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        std = tf.sqrt(var) + 1.0
        x = tf.stack([x[0], (x[1] - mean[1]) / std[1] * std[0] + mean[0]])
    x = tf.clip_by_value(x, 0, 255) / 255.0

    def shared(x):
        def grey(x):
            return tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(x))

        def tone(x):
            x = tf.image.adjust_saturation(x, tf.random.uniform([], 0.4, 1.6))
            x = tf.image.adjust_brightness(x, tf.random.uniform([], -0.12, 0.12))
            x = tf.image.adjust_contrast(x, tf.random.uniform([], 0.75, 1.25))
            gains = tf.random.uniform([3], 0.88, 1.12)
            return x * (gains / tf.reduce_mean(gains))

        return tf.cond(tf.random.uniform([]) < 0.2, lambda: grey(x), lambda: tone(x))

    if p > 0:
        x = tf.cond(tf.random.uniform([]) < p, lambda: shared(x), lambda: x)
    return tf.cast(tf.round(tf.clip_by_value(x, 0, 1) * 255.0), tf.uint8)


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


def _gaussian_blur(x, sigma):
    """A 7x7 Gaussian blur of an HxWx3 image (uint8 or float), returned as float32."""
    import tensorflow as tf

    k = tf.range(-3, 4, dtype=tf.float32)
    g = tf.exp(-(k ** 2) / (2 * sigma ** 2))
    g /= tf.reduce_sum(g)
    kernel = tf.tile((g[:, None] * g[None, :])[:, :, None, None], [1, 1, 3, 1])
    return tf.nn.depthwise_conv2d(tf.cast(x, tf.float32)[None], kernel, [1, 1, 1, 1], "SAME")[0]


def _blur(x, low: float, high: float):
    """A Gaussian blur of random sigma low..high, uint8 out."""
    import tensorflow as tf

    return tf.cast(tf.clip_by_value(_gaussian_blur(x, tf.random.uniform([], low, high)), 0, 255), tf.uint8)


def _camera(img, maybe):
    """What differs between cameras and photo editors, before any upload: white balance (a gain per channel),
    in-camera sharpening, and black and white. A model trained without them read a colour cast, softness and
    colour itself as "fake" or "real" on a real source it never saw (`python bench/real_photo_cues.py`)."""
    import tensorflow as tf

    def white_balance(x):
        gains = tf.random.uniform([3], 0.85, 1.15)
        x = tf.cast(x, tf.float32) * (gains / tf.reduce_mean(gains))
        return tf.cast(tf.clip_by_value(x, 0, 255), tf.uint8)

    def sharpen(x):
        amount = tf.random.uniform([], 0.3, 1.0)
        x = tf.cast(x, tf.float32)
        x = x + amount * (x - _gaussian_blur(x, tf.random.uniform([], 0.8, 1.6)))
        return tf.cast(tf.clip_by_value(x, 0, 255), tf.uint8)

    img = maybe(0.4, white_balance, img)
    img = maybe(0.25, sharpen, img)
    img = maybe(MONO_P, _grey, img)
    return img


def _grey(x):
    import tensorflow as tf

    return tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(x))


def _degrade(img, maybe):
    """What an upload goes through, at the strengths DFDC's winners trained with: JPEG quality 30-100,
    down-scaling to 0.25-1 of the side and back, Gaussian blur, sensor noise, colour, and cutout (so no single
    region, e.g. the mouth, carries the decision)."""
    import tensorflow as tf

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
    img = maybe(0.15, lambda x: _blur(x, 0.3, 1.8), img)
    img = maybe(0.15, noise, img)
    img = maybe(0.4, lambda x: _colour(x, 0.15, 0.25, 0.3, hue=0.03), img)
    img = maybe(0.5, lambda x: tf.image.random_jpeg_quality(x, 30, 100), img)  # last, as for a shared file
    img = maybe(0.2, cutout, img)
    return img

