"""TAEF2, a tiny auto-encoder of the FLUX.2 image VAE (madebyollin/taesd, MIT), rebuilt in Keras from its NumPy
weights (../shared/weights/taef2/taef2.npz; no PyTorch). A real face passed through it comes back as the same face
re-drawn by a latent-diffusion-style decoder: a "generator twin" that differs from its real only in the decoder's
traces, for data_prep.resynth --autoencoder taef2.

Layout of the weights (their README): PyTorch names and layouts, conv weights (out, in, kh, kw). Every 3x3 conv has
padding 1; a stride-2 conv pads 1 on every side (PyTorch), which is not Keras "same" (that pads 0 before, 1 after
on an even side), so strided convs get explicit padding here. A Block is x -> relu(conv3(relu(conv2(relu(conv1(x')))))
+ x') with x' = x + pool(x) in the blocks that have `pool.*` weights (1x1 conv 64->256, GroupNorm(4), ReLU, 1x1 conv
256->64). Checked by reconstruction quality (tests/test_taef2.py: a wrong layout gives 11-18 dB, the right one ~37).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

ENCODER = ["conv", "block", "down", "block", "block", "block", "down", "block", "block", "block",
           "down", "block", "block", "block", "conv"]                       # encoder/0 .. encoder/14
DECODER = ["clamp", "conv", "relu", "block", "block", "block", "up", "conv", "block", "block", "block",
           "up", "conv", "block", "block", "block", "up", "conv", "block", "conv"]  # decoder/0 .. decoder/19


def _conv_layer(w: dict, key: str, stride: int = 1):
    from keras import layers

    weight = w[f"{key}.weight"].astype(np.float32).transpose(2, 3, 1, 0)     # OIHW -> HWIO
    bias = w.get(f"{key}.bias")
    conv = layers.Conv2D(weight.shape[-1], weight.shape[0], strides=stride,
                         padding="same" if stride == 1 else "valid", use_bias=bias is not None)
    conv.build((None, None, None, weight.shape[2]))
    conv.set_weights([weight] + ([bias.astype(np.float32)] if bias is not None else []))
    return conv


def _apply_conv(w: dict, key: str, x, stride: int = 1):
    from keras import layers

    if stride == 2:
        x = layers.ZeroPadding2D(1)(x)
    return _conv_layer(w, key, stride)(x)


def _block(w: dict, key: str, x):
    from keras import layers

    if f"{key}.pool.0.weight" in w:
        p = _apply_conv(w, f"{key}.pool.0", x)
        norm = layers.GroupNormalization(groups=4, epsilon=1e-5)
        norm.build((None, None, None, p.shape[-1]))
        norm.set_weights([w[f"{key}.pool.1.weight"].astype(np.float32), w[f"{key}.pool.1.bias"].astype(np.float32)])
        p = _apply_conv(w, f"{key}.pool.3", layers.ReLU()(norm(p)))
        x = layers.Add()([x, p])
    y = layers.ReLU()(_apply_conv(w, f"{key}.conv.0", x))
    y = layers.ReLU()(_apply_conv(w, f"{key}.conv.2", y))
    y = _apply_conv(w, f"{key}.conv.4", y)
    return layers.ReLU()(layers.Add()([y, x]))


def build_taef2(weights: str | Path):
    """The encoder and decoder as one Keras model: RGB uint8-range float (0-255) in, the re-drawn picture out
    (0-255). Height and width must be multiples of 8."""
    import keras
    from keras import layers, ops

    npz = np.load(weights)
    w = {k: npz[k] for k in npz.files}
    inputs = keras.Input((None, None, 3))
    x = layers.Rescaling(1 / 255)(inputs)
    for part, steps in (("encoder", ENCODER), ("decoder", DECODER)):
        for i, step in enumerate(steps):
            key = f"{part}/{i}"
            if step == "conv":
                x = _apply_conv(w, key, x)
            elif step == "down":
                x = _apply_conv(w, key, x, stride=2)
            elif step == "block":
                x = _block(w, key, x)
            elif step == "relu":
                x = layers.ReLU()(x)
            elif step == "up":
                x = layers.UpSampling2D(2, interpolation="nearest")(x)
            elif step == "clamp":
                x = layers.Lambda(lambda t: 3 * ops.tanh(t / 3))(x)
    outputs = layers.Rescaling(255)(ops.clip(x, 0, 1))
    return keras.Model(inputs, outputs, name="taef2")
