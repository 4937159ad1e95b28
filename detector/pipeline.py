"""The whole path: decode -> faces -> crop -> classify -> aggregate. One Detector per process, thread-safe."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from .aggregate import DEFAULT_STRATEGY, STRATEGIES, aggregate
from .colour import is_black_and_white
from .decode import kind_of, load_image, prefetch, probe_video, sample_frames
from .errors import InputError
from .evidence import read_evidence
from .faces import DETECT_MAX_SIDE, SMALLEST_FACE, Face, FaceDetector, shrink
from .model import load_classifier
from .preprocess import crop_face
from .results import AnalysisResult, FaceResult, FrameResult, PersonResult, call_for, unfamiliar_summary, verdict_for
from .tracks import link_tracks

THUMB_SIDE = 640  # video frames kept for display are shrunk to this
# Memory bounds for large video frames (an 8K frame is 100 MB; 32 of them in flight needed 2.3 GB):
FRAME_BYTES_IN_FLIGHT = 128 * 2**20  # decoded frames queued ahead, and frames batched for detection, each at most ~this
CROP_KEEP_SIDE = 1024  # face crops kept until scoring are shrunk to this; scores move <= 0.003 (bench/crop_cap.py)
# A picture this small and this close to square, where no face is found even with context added, is taken to be
# a face close-up (a crop like the training data's) and scored whole. Larger or wider pictures stay "no face":
# the detector never invents a face in a landscape.
CLOSE_UP_MAX_SIDE = 640
CLOSE_UP_MIN_SIDE = 64  # fewer pixels than this carry no manipulation traces worth scoring
CLOSE_UP_ASPECT = (0.75, 1.33)
CLOSE_UP_MIN_STD = 12.0  # grey-level spread: a flat or nearly blank picture is not a face
# Faces smaller than this on either side (pixels of the picture) are judged less reliably: on real photos'
# Validation 15 of 16 were called fake, mostly blurred or cut-off background faces (bench/small_faces.py). In a
# picture with a larger face they are shown and scored but do not decide its verdict.
SMALL_FACE_SIDE = 48
WHOLE_IMAGE_MESSAGE = ("No face was detected, but the picture looks like a face close-up, so the whole picture "
                       "was scored as one face. If it is not a face, ignore this verdict.")
FACE_SIZE_NOTE = (f"Faces narrower than about {SMALLEST_FACE} pixels (in a picture {DETECT_MAX_SIDE} pixels on its long "
                  "side; in a larger one, in proportion), turned far to the side or mostly hidden are missed.")
NO_FACE_ADVICE = (f" {FACE_SIZE_NOTE} Try a picture where the face is larger and more frontal, or a closer crop "
                  "around the face.")


def looks_like_face_crop(image: np.ndarray) -> bool:
    h, w = image.shape[:2]
    if not (CLOSE_UP_MIN_SIDE <= min(h, w) and max(h, w) <= CLOSE_UP_MAX_SIDE
            and CLOSE_UP_ASPECT[0] <= w / h <= CLOSE_UP_ASPECT[1]):
        return False
    return float(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).std()) >= CLOSE_UP_MIN_STD


def counted_faces(sides, min_side: int = SMALL_FACE_SIDE) -> list[bool]:
    """Which faces of a picture decide its verdict, from each face's smaller side: those at least min_side, or
    every face when none is."""
    small = [side < min_side for side in sides]
    return [all(small) or not s for s in small]


def _kept_crop(image: np.ndarray, box) -> np.ndarray:
    crop = crop_face(image, box)
    return shrink(crop, CROP_KEEP_SIDE / max(crop.shape[:2]))


class Detector:
    def __init__(self, model: str | None = None, models_dir: str | os.PathLike | None = None,
                 detect_max_side: int = DETECT_MAX_SIDE, min_face_confidence: float = 0.8):
        self.classifier = load_classifier(model, models_dir)
        self.faces = FaceDetector(max_side=detect_max_side, min_confidence=min_face_confidence)

    @property
    def card(self):
        return self.classifier.card

    @property
    def device(self) -> str:
        return self.classifier.device_description

    def _face_results(self, faces: list[Face], scores, distances, threshold, frame=None,
                      persons=None) -> list[FaceResult]:
        return [
            FaceResult(box=f.box, confidence=f.confidence, landmarks=f.landmarks, fake_probability=float(s),
                       verdict=verdict_for(float(s), threshold), frame=frame,
                       person=None if persons is None else persons[i], **self._ood_fields(distances, i))
            for i, (f, s) in enumerate(zip(faces, scores))
        ]

    def _ood_fields(self, distances, i: int) -> dict:
        """Face i's OOD distance and flag (at the card's OOD threshold: the slider does not move it); none without
        OOD stats."""
        if distances is None:
            return {}
        d = float(distances[i])
        return {"ood_distance": d, "unfamiliar": bool(self.classifier.ood.flag(d))}

    # ------------------------------------------------------------------ images
    def analyse_image(self, source, name: str = "image", threshold: float | None = None) -> AnalysisResult:
        """source: path, bytes or an RGB uint8 array. Raises InputError for unreadable input."""
        t0 = time.perf_counter()
        image = source if isinstance(source, np.ndarray) else load_image(source)
        res = self.analyse_images([image], [name], threshold)[0]
        res.timings["decode"] = time.perf_counter() - t0 - res.timings["detect"] - res.timings["classify"]
        # A file's own words (credentials, metadata): beside the pixels' verdict, never inside it.
        if isinstance(source, (str, os.PathLike, bytes, bytearray)):
            res.evidence = read_evidence(source, name, kind="image")
            res.timings["evidence"] = res.evidence["seconds"]
        return res

    def analyse_images(self, images: list[np.ndarray], names: list[str], threshold: float | None = None) -> list[AnalysisResult]:
        """Decoded RGB images -> one result each; MTCNN and the classifier each run once for the whole batch."""
        if not images:  # e.g. an evaluation batch whose files were all unreadable
            return []
        threshold = self.card.threshold if threshold is None else threshold
        t1 = time.perf_counter()
        faces = self.faces.detect_with_retry(images)  # close-ups: MTCNN needs context around a face filling it
        whole = {i for i, fs in enumerate(faces) if not fs and looks_like_face_crop(images[i])}
        t2 = time.perf_counter()
        crops = [[im] if i in whole else [_kept_crop(im, f.box) for f in fs]
                 for i, (im, fs) in enumerate(zip(images, faces))]
        scores, distances = self.classifier.assess([c for cs in crops for c in cs])
        t3 = time.perf_counter()
        out, k = [], 0
        for i, (image, name, fs, cs) in enumerate(zip(images, names, faces, crops)):
            res = AnalysisResult(path=name, verdict="no_face", kind="image", model=self.card.name, threshold=threshold,
                                 width=image.shape[1], height=image.shape[0],
                                 timings={"decode": 0.0, "detect": (t2 - t1) / len(images),
                                          "classify": (t3 - t2) / len(images)})
            res.artifacts = {"image": image, "crops": cs}
            res.black_and_white = is_black_and_white(image)
            mine = None if distances is None else distances[k : k + len(cs)]
            if i in whole:
                h, w = image.shape[:2]  # the whole image as one face (confidence 0: no detector vouched for it)
                whole_face = Face(box=(0.0, 0.0, float(w), float(h)), confidence=0.0, landmarks={})
                res.faces = self._face_results([whole_face], scores[k : k + 1], mine, threshold)
                res.message = WHOLE_IMAGE_MESSAGE
            else:
                res.faces = self._face_results(fs, scores[k : k + len(fs)], mine, threshold)
            k += len(cs)
            out.append(decide(res, threshold, card=self.card))
        return out

    # ------------------------------------------------------------------ videos
    def analyse_video(self, path: str, name: str | None = None, n_frames: int = 32,
                      strategy: str = DEFAULT_STRATEGY, threshold: float | None = None,
                      progress: Callable[[int, int], None] | None = None, keep_frames: bool = False,
                      track_faces: bool = True) -> AnalysisResult:
        """Sample n_frames evenly, find and score faces, link them into persons. Raises InputError.
        track_faces: search whole frames only every 8th sample and around known faces in between
        (FaceDetector.detect_tracked, ~1.8x faster detection); False searches every frame whole."""
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}")
        threshold = self.card.threshold if threshold is None else threshold
        info = probe_video(path)
        timings = {"decode": 0.0, "detect": 0.0, "classify": 0.0, "aggregate": 0.0}
        sampled: list[tuple[int, float]] = []
        faces_per_frame: list[list[Face]] = []
        crops_per_frame: list[list[np.ndarray]] = []
        thumbs: dict[int, np.ndarray] = {}
        grey_frames: list[bool] = []
        batch: list[tuple[int, float, np.ndarray]] = []

        def flush():
            t = time.perf_counter()
            frames = [im for _, _, im in batch]
            found = self.faces.detect_tracked(frames) if track_faces else self.faces.detect(frames)
            timings["detect"] += time.perf_counter() - t
            for (idx, ts, im), fs in zip(batch, found):
                sampled.append((idx, ts))
                grey_frames.append(all(grey_frames) and is_black_and_white(im))  # one colour frame settles it
                faces_per_frame.append(fs)
                crops_per_frame.append([_kept_crop(im, f.box) for f in fs])
                if keep_frames:
                    thumbs[idx] = shrink(im, THUMB_SIDE / max(im.shape[:2]))
            batch.clear()
            if progress:
                progress(len(sampled), max(planned[0], len(sampled)))

        t = time.perf_counter()
        # Progress is reported from this thread (UI callbacks may not run on the decoder thread), per analysed frame.
        planned = [n_frames]
        depth = int(np.clip(FRAME_BYTES_IN_FLIGHT // max(3 * info.width * info.height, 1), 1, 8))
        frames = sample_frames(path, n_frames, progress=lambda d, total: planned.__setitem__(0, total))
        for item in prefetch(frames, depth=depth):
            timings["decode"] += time.perf_counter() - t
            batch.append(item)
            if len(batch) == self.faces.batch_size or sum(im.nbytes for *_, im in batch) >= FRAME_BYTES_IN_FLIGHT:
                flush()
            t = time.perf_counter()
        timings["decode"] += time.perf_counter() - t
        if batch:
            flush()
        if not sampled:
            raise InputError("No frame of the video could be decoded.")

        # Frames can arrive out of order (see decode.sample_frames); tracking needs time order.
        order = sorted(range(len(sampled)), key=lambda i: sampled[i][0])
        sampled = [sampled[i] for i in order]
        faces_per_frame = [faces_per_frame[i] for i in order]
        crops = [c for i in order for c in crops_per_frame[i]]
        t = time.perf_counter()
        scores, distances = self.classifier.assess(crops)
        timings["classify"] = time.perf_counter() - t

        t = time.perf_counter()
        ids = link_tracks([[f.box for f in fs] for fs in faces_per_frame])
        res = AnalysisResult(path=name or str(path), verdict="no_face", kind="video", model=self.card.name,
                             threshold=threshold, strategy=strategy, width=info.width, height=info.height,
                             duration_s=info.duration_s, black_and_white=all(grey_frames))
        k = 0
        for (idx, ts), fs, tids in zip(sampled, faces_per_frame, ids):
            s = scores[k : k + len(fs)]
            res.faces += self._face_results(fs, s, None if distances is None else distances[k : k + len(fs)],
                                            threshold, frame=idx, persons=tids)
            k += len(fs)
            res.frames.append(FrameResult(frame=idx, time_s=ts, n_faces=len(fs),
                                          fake_probability=float(np.max(s)) if len(fs) else None))
        res.artifacts = {"crops": crops, "frames": thumbs}
        decide(res, threshold, strategy, card=self.card)
        timings["aggregate"] = time.perf_counter() - t
        res.evidence = read_evidence(path, name or str(path), kind="video")
        timings["evidence"] = res.evidence["seconds"]
        res.timings = timings
        return res

    # ------------------------------------------------------------------ any file
    def analyse_path(self, path: str | os.PathLike, **video_kw) -> AnalysisResult:
        """Image or video by extension (unknown extension: try image, then video). Input problems come back
        as an 'error' result with a message, never as an exception."""
        path = str(path)
        kind = kind_of(path)
        try:
            if not os.path.isfile(path):
                raise InputError("No such file.")
            if kind == "video":
                return self.analyse_video(path, **video_kw)
            if kind == "image":
                return self.analyse_image(path, name=path, threshold=video_kw.get("threshold"))
            try:
                return self.analyse_image(path, name=path, threshold=video_kw.get("threshold"))
            except InputError:
                return self.analyse_video(path, **video_kw)
        except InputError as e:
            res = self.error_result(path, str(e), kind=kind, threshold=video_kw.get("threshold"))
            if os.path.isfile(path):  # the pixels could not be read; the file's credentials may still be
                res.evidence = read_evidence(path, kind=kind)
            return res

    def error_result(self, path: str, message: str, kind: str | None = None,
                     threshold: float | None = None) -> AnalysisResult:
        """A failed file's result, still naming the model and threshold in force (the CLI's and scan's rows)."""
        res = AnalysisResult.error(path, message, kind=kind)
        res.model, res.threshold = self.card.name, self.card.threshold if threshold is None else threshold
        res.band = self.card.band_at(res.threshold)
        return res


def iter_media(paths, recursive: bool = True):
    """Expand files and folders into media files (folders: images and videos by extension, sorted)."""
    for p in paths:
        p = Path(p)
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            yield from (str(f) for f in sorted(p.glob(pattern)) if f.is_file() and kind_of(str(f)))
        else:
            yield str(p)


def decide(res: AnalysisResult, threshold: float, strategy: str | None = None, *, card) -> AnalysisResult:
    """(Re)compute verdicts and calls from the face scores already in `res`: cheap, so a threshold or strategy
    change in the app needs no new analysis. Images: as fake as the most fake face, small faces counting only
    where no larger face is (SMALL_FACE_SIDE). Videos: faces grouped by person, each person scored with
    `strategy`, the video as fake as its most fake person. `card` (the model's
    ModelCard) gives the inconclusive band at this threshold, for faces, persons and the whole file alike."""
    res.threshold, res.band = threshold, card.band_at(threshold)
    res.unfamiliar, res.unfamiliar_share = unfamiliar_summary(res.faces)  # the OOD flag does not move with the slider
    for f in res.faces:
        f.verdict, f.call = verdict_for(f.fake_probability, threshold), call_for(f.fake_probability, res.band)
    if res.verdict == "error":
        return res
    if not res.faces:
        res.verdict, res.call, res.fake_probability = "no_face", None, None
        res.message = res.message or ((
            "No face found in the image." if res.kind == "image" else
            f"No face found in the {len(res.frames)} sampled frames.") + NO_FACE_ADVICE)
        return res
    if res.kind == "image":
        for f, counted in zip(res.faces, counted_faces([min(f.box[2] - f.box[0], f.box[3] - f.box[1])
                                                        for f in res.faces])):
            f.counted = counted
        res.fake_probability = max(f.fake_probability for f in res.faces if f.counted)
    else:
        res.strategy = strategy = strategy or res.strategy or DEFAULT_STRATEGY
        per_person: dict[int, list[FaceResult]] = {}
        for f in res.faces:
            per_person.setdefault(f.person, []).append(f)
        # A track seen in very few frames is most likely a false detection: shown, but not deciding.
        min_len = min(3, max(len(v) for v in per_person.values()))
        res.persons = []
        for pid, faces in sorted(per_person.items()):
            p = aggregate([[f.fake_probability] for f in faces], strategy)
            res.persons.append(PersonResult(person=pid, fake_probability=p, verdict=verdict_for(p, threshold),
                                            call=call_for(p, res.band), n_faces=len(faces),
                                            frames=[f.frame for f in faces], counted=len(faces) >= min_len))
        counted = [faces for faces in per_person.values() if len(faces) >= min_len]
        # What the video would score under each strategy, computed exactly as the reported score is (the most
        # fake counted person), so the JSON never shows a strategy's score that a brief false track decided.
        res.strategy_scores = {name: max(aggregate([[f.fake_probability] for f in faces], name) for faces in counted)
                               for name in STRATEGIES}
        res.fake_probability = res.strategy_scores[strategy]
    res.verdict, res.call = verdict_for(res.fake_probability, threshold), call_for(res.fake_probability, res.band)
    return res
