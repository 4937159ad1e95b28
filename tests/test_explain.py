"""Heatmaps: fine enough to point at a region, drawn with a legend, and pointing at a blend on the real model."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def bundled():
    from detector.model import MODELS_DIR, load_classifier

    return load_classifier(models_dir=MODELS_DIR)


@pytest.fixture(scope="module")
def face_crop(astronaut):
    from detector.faces import FaceDetector
    from detector.preprocess import crop_face

    face = FaceDetector().detect([astronaut])[0][0]
    return crop_face(astronaut, face.box)


def test_map_is_at_least_16_cells_on_every_architecture(bundled, detector):
    from detector.explain import MIN_CELLS, _cam_fn, fine_layer

    for clf in (bundled.model, detector.classifier.model):  # EfficientNet-Lite0 at 160 px, EfficientNetV2B0 at 64 px
        layer = fine_layer(clf)
        assert clf.get_layer(layer).output.shape[1] >= MIN_CELLS
    size = bundled.input_size
    cam = _cam_fn(bundled, "layercam")(np.zeros((1, size, size, 3), np.float32))
    assert cam.shape[0] >= MIN_CELLS and cam.shape[1] >= MIN_CELLS


@pytest.mark.parametrize("method", ["layercam", "gradcam-fine"])
def test_map_lands_where_the_evidence_is(method):
    """Geometry, where the truth is known by construction: a network that sees only bright pixels, shown one bright
    patch in the top-right corner, must peak there (a swapped axis or an offset in resizing lands elsewhere)."""
    from types import SimpleNamespace

    import keras

    from detector.explain import heatmap

    inputs = keras.Input((64, 64, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu", kernel_initializer="ones",
                            bias_initializer=keras.initializers.Constant(-1.0), name="feat")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", kernel_initializer=keras.initializers.Constant(0.01))(x)
    clf = SimpleNamespace(model=keras.Model(inputs, outputs), input_size=64, device="/CPU:0")
    image = np.zeros((224, 224, 3), np.uint8)
    image[20:60, 150:200] = 255  # rows 20-60 (top), columns 150-200 (right)
    cam = heatmap(clf, image, method)
    r, c = np.unravel_index(int(np.argmax(cam)), cam.shape)
    assert 20 <= r < 60 and 150 <= c < 200


def test_layercam_peaks_in_a_self_blended_face(bundled, face_crop):
    """A sanity check on the bundled model: the map's peak lies in the blended region of a self-blended face.
    How often, against chance and against the same face unblended, is measured by bench/pointing_game.py."""
    import cv2

    from data_prep.sbi import blend_crop
    from detector.explain import heatmap

    crop = cv2.resize(face_crop, (224, 224), interpolation=cv2.INTER_AREA)
    fake, mask = blend_crop(crop, seed=3, return_mask=True)
    region = mask >= 0.5 * mask.max()
    cam = heatmap(bundled, fake)
    assert cam.shape == fake.shape[:2] and 0 <= cam.min() and cam.max() == pytest.approx(1.0)
    assert region[np.unravel_index(int(np.argmax(cam)), cam.shape)]


def test_occlusion_map_follows_what_the_score_depends_on(detector, face_crop):
    from detector.explain import occlusion

    cam = occlusion(detector.classifier, face_crop, cells=4)
    assert cam.shape == face_crop.shape[:2] and 0 <= cam.min() <= cam.max() <= 1


def test_overlay_carries_its_colour_legend(face_crop):
    from detector.explain import legend_strip, overlay

    heat = np.zeros(face_crop.shape[:2], np.float32)
    out = overlay(face_crop, heat)
    strip = legend_strip(face_crop.shape[1])
    assert out.shape == (face_crop.shape[0] + strip.shape[0], face_crop.shape[1], 3)
    left, right = strip[1, 2].astype(int), strip[1, -3].astype(int)
    assert left[2] > left[0] and right[0] > right[2]  # blue (no push) on the left, red (towards fake) on the right
    assert overlay(face_crop, heat, legend=False).shape == face_crop.shape


def test_unknown_method_is_refused(detector, face_crop):
    from detector.explain import heatmap

    with pytest.raises(ValueError, match="unknown heatmap method"):
        heatmap(detector.classifier, face_crop, "saliency")


def test_face_cut_by_the_edge_is_boxed_and_labelled_inside_the_picture():
    """Issue 38: a tight crop's face box reaches outside the picture; it was drawn as one stray line, its label off
    the picture. Now all four sides are drawn on the picture's edge and the label sits in a band above it."""
    from types import SimpleNamespace

    from detector.explain import CALL_COLOURS, draw_faces

    image = np.full((224, 224, 3), 128, np.uint8)
    face = SimpleNamespace(box=(-20.0, -30.0, 250.0, 260.0), fake_probability=0.42, call="inconclusive")
    out = draw_faces(image, [face], threshold=0.5)
    band = out.shape[0] - image.shape[0]
    assert band > 0  # no room above or below the face: the label gets its own band
    orange = (out == CALL_COLOURS["inconclusive"]).all(axis=-1)
    picture = orange[band:]
    for side in (picture[:, 0], picture[:, -1], picture[0], picture[-1]):  # the four sides, on the picture
        assert side.mean() > 0.9
    assert orange[:band].any() and (out[:band] == 255).all(axis=-1).any()  # the label: an orange chip, white text


def test_dark_crop_is_brightened_under_its_heatmap(face_crop):
    """A dim frame's face stayed near-black under a blue wash: the overlay brightens it for display."""
    from detector.explain import overlay

    dark = (face_crop * 0.2).astype(np.uint8)
    heat = np.zeros(face_crop.shape[:2], np.float32)
    out = overlay(dark, heat, legend=False)
    assert out.mean() > 2 * dark.mean() and np.corrcoef(out[..., 0].ravel(), dark[..., 0].ravel())[0, 1] > 0.9
