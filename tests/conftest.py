"""Shared fixtures: a real (tiny, untrained) Keras model honouring the model-card contract, a real face
image (scikit-image's astronaut, public domain) and real videos written with OpenCV."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from helpers import write_video

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
TINY_SIZE = 64


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory) -> Path:
    """models/-style folder with an EfficientNetV2B0 at 64 px (random weights) and its card."""
    import keras

    from training.backbones import build_classifier

    d = tmp_path_factory.mktemp("models")
    keras.utils.set_random_seed(0)
    build_classifier(TINY_SIZE).save(d / "tiny.keras")
    (d / "tiny.json").write_text(json.dumps({"name": "tiny", "input_size": TINY_SIZE, "threshold": 0.5,
                                             "output": "fake_probability", "default": True}))
    return d


@pytest.fixture(scope="session")
def unsure_models_dir(tiny_models_dir, tmp_path_factory) -> Path:
    """The tiny model again, with a card whose inconclusive band is [0, 1]: every face it scores is inconclusive."""
    import shutil

    d = tmp_path_factory.mktemp("unsure-models")
    shutil.copy(tiny_models_dir / "tiny.keras", d / "unsure.keras")
    (d / "unsure.json").write_text(json.dumps({"name": "unsure", "input_size": TINY_SIZE, "threshold": 0.5,
                                               "band": [0.0, 1.0], "output": "fake_probability", "default": True}))
    return d


@pytest.fixture(scope="session")
def detector(tiny_models_dir):
    from detector.pipeline import Detector

    return Detector(models_dir=tiny_models_dir)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()  # 512x512 RGB, one face around x 170-260, y 60-170


@pytest.fixture(scope="session")
def face_video(tmp_path_factory, astronaut) -> Path:
    """2 s of the astronaut drifting right by 1 px a frame: one person in every frame."""
    frames = [np.roll(astronaut, i, axis=1) for i in range(50)]
    return write_video(tmp_path_factory.mktemp("vid") / "face.mp4", frames)


@pytest.fixture(scope="session")
def blank_video(tmp_path_factory) -> Path:
    frames = [np.full((240, 320, 3), 40 + i, np.uint8) for i in range(30)]
    return write_video(tmp_path_factory.mktemp("vid") / "blank.mp4", frames)


@pytest.fixture(scope="session")
def tiny_deck(tmp_path_factory, astronaut) -> Path:
    """A game deck: face crops of the astronaut, 3 'real' (as is) and 3 'fake' (colour-shifted)."""
    from PIL import Image

    d = tmp_path_factory.mktemp("deck")
    face = astronaut[40:200, 140:290]
    for i in range(3):
        (d / "Real").mkdir(exist_ok=True)
        (d / "Fake").mkdir(exist_ok=True)
        Image.fromarray(np.roll(face, i, axis=0)).save(d / "Real" / f"r{i}.jpg")
        Image.fromarray(np.roll(face[..., ::-1], i, axis=1)).save(d / "Fake" / f"f{i}.jpg")
    return d


@pytest.fixture(scope="session")
def c2pa_credentials():
    """A throwaway CA and signer certificate (bench.c2pa_sign): made once, trusted by no trust list."""
    from bench.c2pa_sign import make_credentials

    return make_credentials()


@pytest.fixture(scope="session")
def signed_jpeg(c2pa_credentials, astronaut) -> bytes:
    """The astronaut as a JPEG whose signed Content Credentials say "created by a generative AI model"."""
    import io

    from PIL import Image

    from bench.c2pa_sign import sign

    buf = io.BytesIO()
    Image.fromarray(astronaut).save(buf, "JPEG", quality=90)
    return sign(buf.getvalue(), "image/jpeg", c2pa_credentials)
