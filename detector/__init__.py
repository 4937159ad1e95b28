"""Deepfake detector: decode -> faces (MTCNN) -> crop -> classify (Keras EfficientNetV2B0) -> aggregate.

    from detector import Detector
    result = Detector().analyse_path("clip.mp4")   # AnalysisResult; result.to_json()
"""
import os

# Serving sees pictures of every size; with oneDNN, TensorFlow keeps compiled kernels for each new shape of MTCNN's
# image pyramid and memory creeps up (+70 MB over 300 sizes), while without it memory stays flat and photos score
# faster (11.9 vs 9.4 photos/s, clips 1.94 vs 1.81 s: `python bench/onednn.py`). Read when TensorFlow is first
# imported; train.py turns it back on (fixed shapes, bfloat16 kernels).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from .errors import InputError, ModelError  # noqa: E402
from .results import AnalysisResult  # noqa: E402

__all__ = ["Detector", "AnalysisResult", "InputError", "ModelError"]


def __getattr__(name):  # import TensorFlow only when the detector is actually used
    if name == "Detector":
        from .pipeline import Detector

        return Detector
    raise AttributeError(name)
