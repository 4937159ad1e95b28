"""Faces stage: MTCNN detection on a downscaled copy of each image, boxes mapped back to full resolution."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from .device import tf_device

LANDMARKS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclass
class Face:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in the original image's pixels
    confidence: float
    landmarks: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def size(self) -> float:
        return min(self.box[2] - self.box[0], self.box[3] - self.box[1])


class FaceDetector:
    """MTCNN from the `mtcnn` package, on the same device as the classifier.

    mtcnn 1.0.0 silently finds nothing with min_face_size > 20 (GUIDE), so speed comes from shrinking the
    image to `max_side` instead; faces smaller than ~20 px after shrinking are not found."""

    def __init__(self, max_side: int = 640, min_confidence: float = 0.8, batch_size: int = 8):
        from mtcnn import MTCNN

        self.max_side = max_side
        self.min_confidence = min_confidence
        self.batch_size = batch_size
        device = tf_device()[0].lstrip("/")
        self._mtcnn = MTCNN(device=device)
        self._lock = threading.Lock()  # MTCNN keeps per-call state in its stages: one call at a time

    def _scale(self, image: np.ndarray) -> float:
        return min(1.0, self.max_side / max(image.shape[:2]))

    def detect(self, images: list[np.ndarray]) -> list[list[Face]]:
        """RGB uint8 images -> faces per image, most confident first. Same-size images are batched."""
        import cv2

        out: list[list[Face]] = []
        for start in range(0, len(images), self.batch_size):
            chunk = images[start : start + self.batch_size]
            scales = [self._scale(im) for im in chunk]
            small = [
                im if s == 1.0 else cv2.resize(im, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
                for im, s in zip(chunk, scales)
            ]
            with self._lock:
                found = self._mtcnn.detect_faces(small, box_format="xyxy")
            for dets, s in zip(found, scales):
                faces = [
                    Face(
                        box=tuple(float(v) / s for v in d["box"]),
                        confidence=float(d["confidence"]),
                        landmarks={k: (float(d["keypoints"][k][0]) / s, float(d["keypoints"][k][1]) / s) for k in LANDMARKS},
                    )
                    for d in (dets or [])
                    if d["confidence"] >= self.min_confidence
                ]
                out.append(sorted(faces, key=lambda f: -f.confidence))
        return out
