"""Where a fake differs from its own real, learnt beside the verdict (`train.py --mask-loss W`).

A fake made from a real crop (a dfdc-faces swap of the same frame, a self-blend) differs from it only where it was
manipulated, so |fake - real| marks the manipulated region for free. A 1x1 convolution on the backbone's last
feature map (5x5 cells at 160 px) learns that map during training, so the features must locate the manipulation
rather than only sum up how the photo looks; real crops are "manipulated nowhere". The head is dropped at export:
the served model is the plain classifier. Pairs that are not the same frame (random pairings of unrelated photos,
a DFDC fake cut from another moment) are recognised by their borders differing and carry no mask target."""
from __future__ import annotations

from .augment import CROP_SIZE

NOISE = 4.0  # mean |fake - real| over RGB (0-255) that is re-encoding, not manipulation (dfdc pairs' borders: median 4.2)
FULL = 16.0  # ... and the difference counted as fully manipulated
ALIGNED = 8.0  # a pair whose outer eighth differs more than this on average is not the same frame and box
HEAD = "manipulation_mask"
VERDICT = "fake_probability"  # the classifier's output, beside HEAD in the training network


def pair_mask(real, fake, same_frame: bool = False):
    """(uint8 224x224x1 map: 0 where the pair agrees within re-encoding noise, 255 where it differs by FULL or more;
    weight 1.0 when the pair is the same frame, else 0.0). same_frame: known to be (a self-blend, whose blend may
    reach the crop's edge), so the borders are not checked."""
    import tensorflow as tf

    d = tf.reduce_mean(tf.abs(tf.cast(fake, tf.float32) - tf.cast(real, tf.float32)), -1, keepdims=True)
    e = CROP_SIZE // 8
    border = tf.concat([tf.reshape(d[:e], [-1]), tf.reshape(d[-e:], [-1]),
                        tf.reshape(d[e:-e, :e], [-1]), tf.reshape(d[e:-e, -e:], [-1])], 0)
    weight = 1.0 if same_frame else tf.cast(tf.reduce_mean(border) < ALIGNED, tf.float32)
    m = tf.clip_by_value((d - NOISE) / (FULL - NOISE), 0.0, 1.0)
    return tf.cast(tf.round(m * 255.0), tf.uint8), weight


def mask_target(mask, weight, cells: int):
    """A crop's 224x224x1 uint8 mask (after the crop's own flips and framing) as the head's target: cells x cells x 2
    of (share manipulated, weight)."""
    import tensorflow as tf

    m = tf.image.resize(tf.cast(mask, tf.float32) / 255.0, (cells, cells), method="area")
    return tf.concat([m, tf.fill(tf.shape(m), weight)], -1)


def nowhere(cells: int):
    """The target of a real crop: manipulated nowhere, every cell counted."""
    import tensorflow as tf

    return tf.concat([tf.zeros([cells, cells, 1]), tf.ones([cells, cells, 1])], -1)


def with_mask_head(model):
    """The training network: the classifier's layers (shared, so the classifier trains with it) plus the mask head
    on its last feature map. Outputs {VERDICT, HEAD (logits)}."""
    import keras

    features = model.get_layer("avg_pool").input
    logits = keras.layers.Conv2D(1, 1, dtype="float32", name=HEAD)(features)
    return keras.Model(model.input, {VERDICT: model.output, HEAD: logits}, name=model.name + "_with_mask")


def cells_of(model) -> int:
    """The mask head's grid side: the classifier's last feature map (input / 32)."""
    return int(model.get_layer("avg_pool").input.shape[1])


def mask_loss(target, logits):
    """Binary cross-entropy per cell, averaged over the cells that carry a target (weight 1), per image."""
    from keras import ops

    m, w = target[..., :1], target[..., 1:]
    bce = ops.binary_crossentropy(m, ops.cast(logits, "float32"), from_logits=True)
    return ops.sum(w * bce, axis=(1, 2, 3)) / (ops.sum(w, axis=(1, 2, 3)) + 1e-6)


def main(argv=None) -> int:
    """How many of a dataset's Train pairs carry a mask target, and how much of a fake it marks."""
    import argparse

    import numpy as np

    from data_prep.dataset import find_split, read_pairs

    from .crops import read_crop

    ap = argparse.ArgumentParser(description="python -m training.masks DATA [--limit N]: " + main.__doc__)
    ap.add_argument("data")
    ap.add_argument("--limit", type=int, default=500, help="N Train pairs drawn at random (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    pairs = read_pairs(a.data, find_split(a.data, "Train"))
    pairs = [pairs[i] for i in np.random.default_rng(a.seed).permutation(len(pairs))[: a.limit]]
    weights, marked = [], []
    for real, fake in pairs:
        mask, weight = pair_mask(read_crop(real), read_crop(fake))
        weights.append(float(weight))
        if weight:
            marked.append(float(np.mean(mask.numpy() / 255.0)))
    print(f"{a.data}: {len(pairs)} Train pairs drawn at random; {np.mean(weights):.1%} carry a mask target (same "
          f"frame: borders within {ALIGNED:g} levels); of those, the mean mask value over the crop is "
          f"{np.mean(marked):.3f} (median {np.median(marked):.3f})" if marked else f"{a.data}: no pair carries a mask target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
