"""Faces stage: MTCNN detection on a downscaled copy of each image, boxes mapped back to full resolution."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from .device import tf_device
from .tracks import iou
from .weights import created_from_assigned_values

LANDMARKS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
# The input each of mtcnn 1.0.0's networks takes: any batch; PNet, fully convolutional, any picture size.
OPEN_SHAPES = {"StagePNet": [None, None, None, 3], "StageRNet": [None, 24, 24, 3], "StageONet": [None, 48, 48, 3]}
DETECT_MAX_SIDE = 640  # pictures are shrunk to this many pixels on their long side for detection
# The narrowest face found at least 90 % of the time, in pixels of a picture of at most DETECT_MAX_SIDE (larger
# pictures: in proportion): `python bench/small_faces.py --smallest ...` (its part 4) on 100 dfdc-faces Validation
# faces found 95 % with a 15 px box, 88 % at 12 px, 12 % at 9 px. The app and README quote it (tests/test_app.py).
SMALLEST_FACE = 15


def shrink(image: np.ndarray, scale: float) -> np.ndarray:
    """`image` scaled by `scale` (< 1 shrinks, area-averaged), at least 1 px a side: OpenCV raises on a size of
    zero, which a 3569x2 video frame shrunk to 640 px wide would be (found by fuzzing)."""
    import cv2

    if scale >= 1.0:
        return image
    h, w = image.shape[:2]
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


@dataclass
class Face:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in the original image's pixels
    confidence: float
    landmarks: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def size(self) -> float:
        return min(self.box[2] - self.box[0], self.box[3] - self.box[1])


class _OneTensor:
    """An mtcnn stage that receives the normalised image batch as one TF tensor. mtcnn 1.0.0 keeps the batch as a
    NumPy array and TF copies it afresh for every pyramid level and every stage: ~11 copies of a 22 MB batch of 8
    640 px frames per call, half of detection's time on such a batch (`python bench/mtcnn_graph.py`). The stages
    only hand it to TF ops, so a tensor is what they would have made; the three stages share the batch's tensor."""

    def __init__(self, stage, last: list):
        self.stage, self._last = stage, last

    def __call__(self, images_normalized, **kwargs):
        import tensorflow as tf

        if not self._last or self._last[0] is not images_normalized:
            self._last[:] = [images_normalized, tf.convert_to_tensor(images_normalized)]
        return self.stage(images_normalized=self._last[1], **kwargs)


class FaceDetector:
    """MTCNN from the `mtcnn` package, on the same device as the classifier.

    mtcnn 1.0.0 silently finds nothing with min_face_size > 20 (GUIDE), so speed comes from shrinking the
    image to `max_side` instead; faces smaller than ~20 px after shrinking are not found."""

    def __init__(self, max_side: int = DETECT_MAX_SIDE, min_confidence: float = 0.8, batch_size: int = 8):
        import tensorflow as tf
        from mtcnn import MTCNN

        self.max_side = max_side
        self.min_confidence = min_confidence
        self.batch_size = batch_size
        device = tf_device()[0].lstrip("/")
        with created_from_assigned_values():  # each network's variables made with its weights (detector.weights)
            self._mtcnn = MTCNN(device=device)
        # mtcnn calls its three Keras networks eagerly, layer by layer. One traced graph per network finds the
        # same boxes 1.5-4x faster (`python bench/mtcnn_graph.py`). The stages keep the network in `_model`; they
        # have no setter. Each is traced once, for every batch size and (PNet) every pyramid level's size: left to
        # reduce_retracing, each first traced for one exact shape and again relaxed, two of the five traces a
        # cold CLI's first photo paid for (`python bench/cli_cold.py`).
        for stage in self._mtcnn.stages:
            shape = OPEN_SHAPES.get(type(stage).__name__)
            signature = None if shape is None else [tf.TensorSpec(shape, tf.float32)]
            stage._model = tf.function(stage._model, input_signature=signature, reduce_retracing=True)
        self._last: list = []
        self._mtcnn._stages = [_OneTensor(stage, self._last) for stage in self._mtcnn.stages]
        self._lock = threading.Lock()  # MTCNN keeps per-call state in its stages: one call at a time

    def _mtcnn_boxes(self, images: list[np.ndarray]) -> list[list[dict]]:
        """mtcnn's detect_faces on a batch, one call at a time; the batch's tensor is let go afterwards."""
        with self._lock:
            try:
                return self._mtcnn.detect_faces(images, box_format="xyxy")
            finally:
                self._last.clear()

    def _scale(self, image: np.ndarray) -> float:
        return min(1.0, self.max_side / max(image.shape[:2]))

    def detect(self, images: list[np.ndarray]) -> list[list[Face]]:
        """RGB uint8 images -> faces per image, most confident first. Same-size images are batched."""
        out: list[list[Face]] = []
        for start in range(0, len(images), self.batch_size):
            chunk = images[start : start + self.batch_size]
            scales = [self._scale(im) for im in chunk]
            small = [shrink(im, s) for im, s in zip(chunk, scales)]
            found = self._mtcnn_boxes(small)
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

    def detect_with_retry(self, images: list[np.ndarray]) -> list[list[Face]]:
        """`detect`, then `detect_padded` for the images where it found no face (close-ups)."""
        found = self.detect(images)
        missing = [i for i, fs in enumerate(found) if not fs]
        if missing:
            for i, fs in zip(missing, self.detect_padded([images[i] for i in missing])):
                found[i] = fs
        return found

    def detect_padded(self, images: list[np.ndarray], pad: float = 0.25) -> list[list[Face]]:
        """`detect` on copies framed with `pad` x the longer side of replicated border on every side, boxes
        mapped back. MTCNN misses many faces that fill the whole picture (tight crops, close-ups); with some
        context around them it finds over half of those (32 of the 58 dfdc-faces + stylegan-faces Test images
        where `detect` found none; 0.25 beat 0.15 and 0.35, and replicated beat constant or reflected borders:
        `python bench/padding_sweep.py`).

        Each image is shrunk before it is framed, so the framed copy is never larger than `detect` would look
        at: framing a 65408x383 picture at full size asked for 9.7 GB (found by fuzzing)."""
        import cv2

        padded, owners = [], []
        for im in images:
            s = min(1.0, self.max_side / ((1 + 2 * pad) * max(im.shape[:2])))
            small = shrink(im, s)
            k = int(pad * max(small.shape[:2]))
            padded.append(cv2.copyMakeBorder(small, k, k, k, k, cv2.BORDER_REPLICATE))
            owners.append((k, s))
        out = []
        for faces, (k, s) in zip(self.detect(padded), owners):
            out.append([Face(box=tuple((v - k) / s for v in f.box), confidence=f.confidence,
                             landmarks={n: ((x - k) / s, (y - k) / s) for n, (x, y) in f.landmarks.items()})
                        for f in faces])
        return out

    def _in_windows(self, frames: list[np.ndarray], requests: list[tuple[int, Face]], margin: float,
                    face_px: int) -> list[Face | None]:
        """For each (frame index, face) request, the most confident face MTCNN finds in a window around that
        face's box (grown by `margin` on every side), the window shrunk so the face is at most `face_px` px.
        One batched MTCNN call for all windows."""
        rois, owners = [], []
        for i, f in requests:
            h, w = frames[i].shape[:2]
            x1, y1, x2, y2 = f.box
            bw, bh = x2 - x1, y2 - y1
            X1, Y1 = max(0, int(x1 - margin * bw)), max(0, int(y1 - margin * bh))
            X2, Y2 = min(w, int(x2 + margin * bw)), min(h, int(y2 + margin * bh))
            s = min(1.0, face_px / max(bw, bh, 1.0))
            roi = frames[i][Y1:Y2, X1:X2]
            rois.append(shrink(roi, s))
            owners.append((X1, Y1, s))
        if not rois:
            return []
        found = self._mtcnn_boxes(rois)
        out: list[Face | None] = []
        for (ox, oy, s), dets in zip(owners, found):
            best = max((d for d in (dets or []) if d["confidence"] >= self.min_confidence),
                       key=lambda d: d["confidence"], default=None)
            out.append(None if best is None else Face(
                box=tuple(float(v) / s + o for v, o in zip(best["box"], (ox, oy, ox, oy))),
                confidence=float(best["confidence"]),
                landmarks={k: (float(best["keypoints"][k][0]) / s + ox, float(best["keypoints"][k][1]) / s + oy)
                           for k in LANDMARKS}))
        return out

    def detect_tracked(self, frames: list[np.ndarray], key_every: int = 8, margin: float = 0.6,
                       roi_face_px: int = 80) -> list[list[Face]]:
        """Faces in consecutive sampled video frames, cheaper than `detect` on each.

        Every `key_every`-th frame is searched whole (as `detect`). The frames after it are searched only in a
        window around each face of that keyframe (the box grown by `margin` on every side), shrunk so the face is
        ~`roi_face_px` px: a few small windows cost far less than a 640 px frame, and faces move little between
        samples (~0.3 s apart). A face entering the picture is picked up at the next keyframe; frames after a
        keyframe with no face are searched whole. All windows go through MTCNN in one batched call."""
        out: list[list[Face] | None] = [None] * len(frames)
        keys = [i for i in range(len(frames)) if i % key_every == 0]
        for i, faces in zip(keys, self.detect([frames[i] for i in keys])):
            out[i] = faces
        todo = [i for i in range(len(frames)) if out[i] is None]
        whole = [i for i in todo if not out[i - i % key_every]]
        for i, faces in zip(whole, self.detect([frames[i] for i in whole])):
            out[i] = faces
        requests = [(i, f) for i in todo if i not in whole for f in out[i - i % key_every]]
        for i in todo:
            out[i] = out[i] or []
        for (i, _), face in zip(requests, self._in_windows(frames, requests, margin, roi_face_px)):
            if face is not None and all(iou(face.box, g.box) < 0.5 for g in out[i]):  # overlapping windows: one
                out[i].append(face)
        return [sorted(f, key=lambda x: -x.confidence) for f in out]
