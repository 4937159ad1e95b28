"""Deepfake detector: decode -> faces (MTCNN) -> crop -> classify (Keras EfficientNetV2B0) -> aggregate.

    from detector import Detector
    result = Detector().analyse_path("clip.mp4")   # AnalysisResult; result.to_json()
"""
import os

# The one place the version is written: reports record it, and packaging reads it from here.
__version__ = "1.0.0"

# Serving sees pictures of every size; with oneDNN, TensorFlow keeps compiled kernels for each new shape of MTCNN's
# image pyramid and memory creeps up (+60 MB over 300 sizes), while without it memory stays flat. The price is
# paid on video, the gain on photos (`python bench/onednn.py`: 30.2 vs 24.1 photos/s, 1.65 vs 1.35 s a 1080p
# clip). Read when TensorFlow is first imported; train.py turns it back on (fixed shapes, bfloat16 kernels).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from .errors import InputError, ModelError  # noqa: E402
from .results import AnalysisResult  # noqa: E402

__all__ = ["Detector", "AnalysisResult", "InputError", "ModelError"]


def __getattr__(name):  # import TensorFlow only when the detector is actually used
    if name == "Detector":
        from .pipeline import Detector

        return Detector
    raise AttributeError(name)
