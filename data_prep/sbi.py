"""Self-blended images (SBI, Shiohara & Yamasaki, CVPR 2022): pseudo-fakes made from real faces only.

    python -m data_prep.sbi ../shared/datasets/dfdc-faces ~/.cache/deepfake-detector/sbi-dfdc
    python train.py --data ../shared/datasets/dfdc-faces ~/.cache/deepfake-detector/sbi-dfdc --name ...

A real face is blended with a slightly altered, slightly misaligned copy of itself inside a soft face mask:
the result carries the blending boundary and colour mismatch that face swaps leave, with no identity change.
SBI uses 68/81 landmarks for its mask; MTCNN gives 5, so the mask here is an ellipse fitted to the eyes, nose
and mouth and scaled out to cover brows and jaw (no published result uses 5 points: measure before relying on it).
The output folder is an OpenForensics-layout dataset: Real = links to the source reals, Fake = their blends,
with a pairs.csv that keeps each blend next to its source in training batches.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def face_mask(shape, landmarks: dict, rng: np.random.Generator, ratio: float | None = None) -> np.ndarray:
    """Soft [0,1] mask: an ellipse over the 5 landmarks, randomly scaled, blurred twice, times a blend ratio
    (random unless given)."""
    import cv2

    h, w = shape[:2]
    pts = np.array([landmarks[k] for k in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")], np.float32)
    le, re = pts[0], pts[1]
    eye_dist = max(float(np.linalg.norm(re - le)), 4.0)
    centre = pts.mean(axis=0) + np.array([0, -0.15 * eye_dist])  # up a little: include the brows
    angle = float(np.degrees(np.arctan2(re[1] - le[1], re[0] - le[0])))
    axes = (eye_dist * 1.15 * rng.uniform(0.85, 1.15), eye_dist * 1.55 * rng.uniform(0.85, 1.15))
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (int(centre[0]), int(centre[1])), (int(axes[0]), int(axes[1])), angle, 0, 360, 1.0, -1)
    for _ in range(2):
        k = int(rng.integers(3, 12)) * 2 + 1
        mask = cv2.GaussianBlur(mask, (k, k), 0)
    mask /= max(mask.max(), 1e-6)
    return mask * (float(rng.choice([0.25, 0.5, 0.75, 1.0, 1.0, 1.0])) if ratio is None else ratio)


PARTS = {"eyes": ("left_eye", "right_eye"), "mouth": ("mouth_left", "mouth_right"), "nose": ("nose",)}


def part_mask(shape, landmarks: dict, part: str, rng: np.random.Generator) -> np.ndarray:
    """Soft [0,1] mask over one part of the face (PARTS): a local edit, like a re-enacted mouth, whose small
    region makes `bench/pointing_game.py`'s test hard to pass by chance (the whole-face mask covers ~80 % of a
    crop)."""
    import cv2

    pts = np.array([landmarks[k] for k in PARTS[part]], np.float32)
    eye_dist = max(float(np.linalg.norm(np.subtract(landmarks["right_eye"], landmarks["left_eye"]))), 4.0)
    half_w = {"eyes": 0.85, "mouth": 0.55, "nose": 0.3}[part] * eye_dist * rng.uniform(0.9, 1.1)
    half_h = {"eyes": 0.3, "mouth": 0.3, "nose": 0.35}[part] * eye_dist * rng.uniform(0.9, 1.1)
    c = pts.mean(axis=0)
    mask = np.zeros(shape[:2], np.float32)
    cv2.ellipse(mask, (int(c[0]), int(c[1])), (int(half_w), int(half_h)), 0, 0, 360, 1.0, -1)
    k = int(max(3, eye_dist * 0.15)) | 1
    return cv2.GaussianBlur(mask, (k, k), 0)


def self_blend(image: np.ndarray, landmarks: dict, rng: np.random.Generator, return_mask: bool = False,
               part: str = "face"):
    """RGB uint8 face crop + its 5 landmarks -> a self-blended pseudo-fake of the same size; with
    return_mask, also the float32 [0, 1] blend weights (where the blend is: `bench/pointing_game.py`'s truth).
    part: "face" (training's blends) or one of PARTS, blended alone."""
    import cv2

    h, w = image.shape[:2]
    src = image.astype(np.float32)
    # 1. alter the source: colour shift, brightness/contrast, blur or sharpen
    src = src * rng.uniform(0.9, 1.1) + rng.uniform(-12, 12, size=3) + rng.uniform(-10, 10)
    if rng.random() < 0.5:
        src = cv2.GaussianBlur(src, (3, 3), 0)
    else:
        src = cv2.addWeighted(src, 1.5, cv2.GaussianBlur(src, (0, 0), 1.0), -0.5, 0)
    # 2. misalign it slightly: a few % of scale and translation
    s = rng.uniform(0.95, 1.05)
    tx, ty = rng.uniform(-0.03, 0.03, size=2) * (w, h)
    m = np.array([[s, 0, (1 - s) * w / 2 + tx], [0, s, (1 - s) * h / 2 + ty]], np.float32)
    src = cv2.warpAffine(src, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    # 3. blend inside the soft mask
    mask = (face_mask(image.shape, landmarks, rng) if part == "face" else part_mask(image.shape, landmarks, part, rng))[..., None]
    out = np.clip(mask * src + (1 - mask) * image.astype(np.float32), 0, 255).astype(np.uint8)
    return (out, mask[..., 0]) if return_mask else out


# Mean MTCNN landmarks in dfdc-faces crops as fractions of the crop side (x, y), measured on 159 Validation/Real
# crops (spread ~0.05; `python bench/landmark_positions.py ../shared/datasets/dfdc-faces`). Every training crop is framed this way (dfdc-faces, or detector crops via
# data_prep.extract), so a blend can be made on the fly without running MTCNN on each training image.
CANONICAL_LANDMARKS = {"left_eye": (0.305, 0.295), "right_eye": (0.706, 0.289), "nose": (0.509, 0.489),
                       "mouth_left": (0.341, 0.731), "mouth_right": (0.678, 0.729)}


def blend_crop(image: np.ndarray, seed: int, return_mask: bool = False, part: str = "face"):
    """A self-blended pseudo-fake of a training-framed face crop, with landmarks guessed from the framing:
    the canonical positions moved as a whole (pose, framing) and each a little. Deterministic per seed."""
    rng = np.random.default_rng(int(seed))
    h, w = image.shape[:2]
    dx, dy = rng.normal(0, 0.035, 2)
    lm = {k: ((x + dx + rng.normal(0, 0.012)) * w, (y + dy + rng.normal(0, 0.012)) * h)
          for k, (x, y) in CANONICAL_LANDMARKS.items()}
    return self_blend(np.asarray(image), lm, rng, return_mask, part)


def make_sbi_dataset(data: Path, out: Path, splits=("Train", "Validation"), seed: int = 0, limit: int = 0) -> dict:
    from data_prep.dataset import find_split, save_jpeg
    from detector.decode import load_image
    from detector.faces import FaceDetector

    rng = np.random.default_rng(seed)
    faces = FaceDetector(min_confidence=0.8)
    stats = {}
    for split in splits:
        reals = [p for p, y in zip(*(lambda s: (s.paths, s.labels))(find_split(data, split))) if y == 0]
        if limit:
            reals = reals[:limit]
        (out / split / "Real").mkdir(parents=True, exist_ok=True)
        (out / split / "Fake").mkdir(parents=True, exist_ok=True)
        made = skipped = 0
        rows = []
        for i in range(0, len(reals), 16):
            chunk = reals[i : i + 16]
            images = [load_image(p) for p in chunk]
            for path, image, found in zip(chunk, images, faces.detect(images)):
                if not found:
                    skipped += 1
                    continue
                name = Path(path).stem
                link = out / split / "Real" / f"{name}.jpg"
                if not link.exists():
                    os.symlink(os.path.abspath(path), link)  # no copy of the source data
                fake = self_blend(image, found[0].landmarks, rng)
                save_jpeg(out / split / "Fake" / f"{name}_sbi.jpg", fake)
                rows += [(f"{split}/Real/{name}.jpg", name), (f"{split}/Fake/{name}_sbi.jpg", name)]
                made += 1
            print(f"\r{split}: {min(i + 16, len(reals))}/{len(reals)}", end="", file=sys.stderr)
        print(file=sys.stderr)
        stats[split] = {"blends": made, "no_face": skipped}
        mode = "a" if (out / "pairs.csv").exists() and split != splits[0] else "w"
        with open(out / "pairs.csv", mode, newline="") as f:
            w = csv.writer(f)
            if mode == "w":
                w.writerow(["file", "original_video"])
            w.writerows(rows)
    return stats


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", help="OpenForensics-layout dataset whose Real faces are blended")
    p.add_argument("out", help="output dataset folder (outside the repository)")
    p.add_argument("--limit", type=int, default=0, help="at most this many reals per split")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    print(make_sbi_dataset(Path(a.data), Path(a.out), seed=a.seed, limit=a.limit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
