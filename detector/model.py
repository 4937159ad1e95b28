"""Classify stage: a Keras face classifier plus its JSON model card.

Contract (what any model in models/ must honour):
  models/NAME.keras  - a Keras 3 model: input (N, S, S, 3) float 0-255 RGB face crops framed by
                       detector.preprocess.crop_face; output (N, 1) = probability that the face is FAKE.
  models/NAME.json   - its card: {"name", "input_size": S, "threshold", "output": "fake_probability", ...};
                       optional "band": [low, high], the inconclusive band (detector.calibration.fit_band);
                       optional "ood": the unfamiliar-face flag's threshold and figures (detector.ood)
  models/NAME.ood.npz - optional, with "ood": the training faces' feature statistics (detector.ood)
Models load with Keras safe_mode=True: a model file cannot run arbitrary Python (no Lambda layers).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .bundle import bundle_dir
from .calibration import apply_temperature
from .device import tf_device
from .errors import ModelError
from .ood import OOD_LAYER, OodStats, load_stats
from .preprocess import resize_for_model
from .results import call_for
from .weights import load_keras_model

MODELS_DIR = bundle_dir() / "models"  # the checkout's models/, or the copy inside an installed wheel
THRESHOLD_STEP = 0.001  # the app's threshold slider
GRADCAM_LAYER = "top_activation"  # the last feature map; every network training/backbones.py builds names it so


@dataclass
class ModelCard:
    name: str
    input_size: int
    threshold: float = 0.5
    output: str = "fake_probability"
    default: bool = False
    temperature: float = 1.0  # calibration (detector.calibration), fitted on Validation by train.py
    band: tuple[float, float] | None = None  # inconclusive band (calibration.fit_band); None: none, low = high
    info: dict = field(default_factory=dict)  # everything else in the card (data, metrics, licence...)
    sha256: str = ""  # of the card file's bytes as loaded, for reports' provenance (a card rewritten later differs)

    @classmethod
    def load(cls, path: Path) -> "ModelCard":
        try:
            data = Path(path).read_bytes()
            raw = json.loads(data)
            card = cls(
                name=str(raw["name"]),
                input_size=int(raw["input_size"]),
                threshold=float(raw.get("threshold", 0.5)),
                output=str(raw.get("output", "fake_probability")),
                default=bool(raw.get("default", False)),
                temperature=float(raw.get("temperature", 1.0)),
                band=None if raw.get("band") is None else (float(raw["band"][0]), float(raw["band"][1])),
                info=raw,
                sha256=hashlib.sha256(data).hexdigest(),
            )
        except (OSError, ValueError, KeyError, TypeError, IndexError) as e:
            raise ModelError(f"Model card {path} is unreadable or incomplete: {e}") from None
        if not card.temperature > 0:
            raise ModelError(f"Model card {path}: temperature must be positive, got {card.temperature}")
        if card.output != "fake_probability":
            raise ModelError(f"Model card {path}: output must be 'fake_probability', got {card.output!r}")
        if card.band and not 0 <= card.band[0] <= card.threshold <= card.band[1] <= 1:
            raise ModelError(f"Model card {path}: band {list(card.band)} must hold the threshold {card.threshold}")
        return card

    def is_own_threshold(self, threshold: float | None) -> bool:
        """`threshold` is the card's (None, or the same to the slider's step of 0.001)."""
        return threshold is None or abs(float(threshold) - self.threshold) < THRESHOLD_STEP / 2

    def band_at(self, threshold: float | None = None) -> tuple[float, float]:
        """The inconclusive band in force at `threshold` (default: the card's). The band is the card's, fixed: the
        scores where the model's calls were wrong too often on Validation (calibration.fit_band, fitted around
        the card's threshold). At the card's threshold, scores inside it are called inconclusive. A threshold of
        the user's own (the app's slider, the CLI's --threshold) is a decision the user made: every score gets a
        call by it (low = high = the threshold), never "inconclusive" for a score it decided (issue 38: moved to
        0.40, a face at 0.418 was "inconclusive" though above it). `unsure` still says when a score lies in the
        card's band."""
        if self.is_own_threshold(threshold):
            return self.band or (self.threshold, self.threshold)
        return float(threshold), float(threshold)

    def unsure(self, p: float | None) -> bool:
        """p lies inside the card's band: the model's call there was wrong too often on Validation."""
        return p is not None and bool(self.band) and self.band[0] <= p < self.band[1]

    def call(self, p: float, threshold: float | None = None) -> str:
        """likely_real / inconclusive / likely_fake for the fake probability p (results.call_for)."""
        return call_for(p, self.band_at(threshold))


def available_models(models_dir: Path | str = MODELS_DIR) -> dict[str, Path]:
    """name -> .keras path for every model in the folder that has a card beside it. Default model first."""
    models_dir = Path(models_dir)
    found = {}
    for card_path in sorted(models_dir.glob("*.json")):
        if card_path.with_suffix(".keras").exists():
            found[card_path.stem] = card_path.with_suffix(".keras")
    defaults = [n for n, p in found.items() if ModelCard.load(p.with_suffix(".json")).default]
    return {n: found[n] for n in defaults + [n for n in found if n not in defaults]}


class Classifier:
    """A loaded model + card (+ its OOD stats, if fitted). `score` runs batches through one traced tf.function
    (not model.predict, which costs ~200 ms per call), on the GPU when TensorFlow sees one. With OOD stats the
    same call also returns the pooled features, so a face's OOD distance costs no second pass (`assess`)."""

    def __init__(self, model_path: Path | str, card: ModelCard | None = None, batch_size: int = 32):
        import keras
        import tensorflow as tf

        model_path = Path(model_path)
        self.path = model_path
        if not model_path.exists():
            raise ModelError(f"No model file at {model_path}")
        self.card = card or ModelCard.load(model_path.with_suffix(".json"))
        self.device, self.device_description = tf_device()
        self.batch_size = batch_size
        try:
            with tf.device(self.device):
                self.model = load_keras_model(model_path)
        except Exception as e:  # keras raises many types for a bad file
            raise ModelError(f"Model {model_path} cannot be loaded safely: {e}") from None
        shape = tuple(self.model.input_shape[1:])
        if shape != (self.card.input_size, self.card.input_size, 3):
            raise ModelError(f"Model input {shape} does not match its card's input_size {self.card.input_size}")
        size = self.card.input_size
        spec = [tf.TensorSpec([None, None, None, 3], tf.uint8)]

        @tf.function(input_signature=spec, reduce_retracing=True)
        def _score(crops):
            return tf.reshape(tf.cast(self.model(resize_for_model(crops, size), training=False), tf.float32), [-1])

        self._score = _score
        # The contract does not require the layer: a model without it simply has no OOD distance.
        self._score_features, self.feature_dim = None, None
        if OOD_LAYER in {layer.name for layer in self.model.layers}:
            pooled = self.model.get_layer(OOD_LAYER).output
            self.feature_dim = int(pooled.shape[-1])
            both = keras.Model(self.model.inputs, [pooled, self.model.output])

            @tf.function(input_signature=spec, reduce_retracing=True)
            def _score_features(crops):
                features, p = both(resize_for_model(crops, size), training=False)
                return tf.reshape(tf.cast(p, tf.float32), [-1]), tf.cast(features, tf.float32)

            self._score_features = _score_features
        self.ood: OodStats | None = load_stats(model_path, self.card.info, self.feature_dim)
        if self.ood and not self._score_features:
            raise ModelError(f"Model {model_path} has OOD stats but no {OOD_LAYER!r} layer to compute them on")

    @property
    def input_size(self) -> int:
        return self.card.input_size

    @property
    def threshold(self) -> float:
        return self.card.threshold

    def _run(self, fn, crops: list[np.ndarray]) -> list:
        """fn's outputs (numpy) for each batch of the crops."""
        import cv2
        import tensorflow as tf

        # Crops differ in size; bring them to a common size first with the same area filter, at >= model size
        # so the shared resize_for_model makes the final step exactly as in training (224 -> S).
        side = 224
        batch = np.stack([c if c.shape[:2] == (side, side) else cv2.resize(c, (side, side), interpolation=cv2.INTER_AREA) for c in crops])
        with tf.device(self.device):
            return [tf.nest.map_structure(lambda t: t.numpy(), fn(tf.constant(batch[i : i + self.batch_size])))
                    for i in range(0, len(batch), self.batch_size)]

    def score(self, crops: list[np.ndarray]) -> np.ndarray:
        """RGB uint8 face crops (any sizes) -> calibrated fake probabilities, shape (N,)."""
        return self.assess(crops)[0]

    def score_and_features(self, crops: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(calibrated fake probabilities (N,), pooled features (N, D)), from one traced call per batch."""
        if self._score_features is None:
            raise ModelError(f"Model {self.path} has no {OOD_LAYER!r} layer")
        if not crops:
            return np.zeros((0,), np.float32), np.zeros((0, self.feature_dim), np.float32)
        out = self._run(self._score_features, crops)
        p = np.concatenate([o[0] for o in out])
        return apply_temperature(p, self.card.temperature), np.concatenate([o[1] for o in out])

    def assess(self, crops: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        """(calibrated fake probabilities (N,), OOD distances (N,) or None without OOD stats). With stats, the
        scores come from the same traced call as the features: the distance costs no second forward pass."""
        if self.ood is not None:
            p, features = self.score_and_features(crops)
            return p, self.ood.distance(features).astype(np.float32)
        if not crops:
            return np.zeros((0,), np.float32), None
        return apply_temperature(np.concatenate(self._run(self._score, crops)), self.card.temperature), None


def atomic_write(path: Path, write) -> None:
    """write(tmp_path) into a temp file beside `path`, then rename over it: a crash never leaves a half-written
    model or card (used by train.py and the evaluation command)."""
    import tempfile

    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a model is meant to be read by the app's user too
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def update_card(card_path: Path | str, change) -> None:
    """change(card_dict) on the card JSON at card_path, written back atomically (the benches' --update-card)."""
    card_path = Path(card_path)
    card = json.loads(card_path.read_text())
    change(card)
    atomic_write(card_path, lambda tmp: Path(tmp).write_text(json.dumps(card, indent=2)))
    print(f"recorded in {card_path}")


def default_models_dir() -> Path:
    """$DEEPFAKE_MODELS_DIR, else the bundled models/."""
    return Path(os.environ.get("DEEPFAKE_MODELS_DIR") or MODELS_DIR)


def load_classifier(name: str | None = None, models_dir: Path | str | None = None) -> Classifier:
    """The named model from models_dir (default: default_models_dir())."""
    models_dir = Path(models_dir or default_models_dir())
    models = available_models(models_dir)
    if not models:
        raise ModelError(f"No model (NAME.keras with NAME.json) in {models_dir}. Train one: python train.py --data DIR")
    if name is None:
        name = next(iter(models))
    if name not in models:
        raise ModelError(f"No model named {name!r} in {models_dir}; available: {', '.join(models)}")
    return Classifier(models[name])
