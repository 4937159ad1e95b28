"""Deepfake detector: decode -> faces (MTCNN) -> crop -> classify (Keras EfficientNetV2B0) -> aggregate.

    from detector import Detector
    result = Detector().analyse_path("clip.mp4")   # AnalysisResult; result.to_json()
"""
from .errors import InputError, ModelError
from .results import AnalysisResult

__all__ = ["Detector", "AnalysisResult", "InputError", "ModelError"]


def __getattr__(name):  # import TensorFlow only when the detector is actually used
    if name == "Detector":
        from .pipeline import Detector

        return Detector
    raise AttributeError(name)
