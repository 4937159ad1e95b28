"""Twins for fakes that have none: a fake and its matched real swap their inner faces.

    D=~/.cache/deepfake-detector/datasets
    python -m data_prep.swap_twins $D/stylegan-matched --out $D/stylegan-swap

Input: a dataset made by `data_prep.match_reals` (each split's matches.csv pairs a fake with the real photo most
like it). For each pair, two twins are written, each differing from its partner only inside the face:
- the real photo with the fake's inner face (eyes, nose, mouth, cheeks) aligned and blended in: Fake, beside the
  real photo as it is: Real;
- the fake photo as it is: Fake, beside the fake photo with the real's inner face blended in: Real.
The pose, framing, hair, background and kind of photo are shared by each twin pair, and so is the blending
boundary (it is on a fake in one pair and on a real in the other); the inserted face takes its host's colour
(Reinhard transfer in Lab inside the mask) and is blurred to be no sharper than its host (in 69 % of the stylegan
matches the GAN face is the sharper one). What is left to tell the classes apart is how the inner face was
drawn. A GAN source (StyleGAN2 portraits with no real twin) taught the recipe without LFW "frontal, smiling,
warm portrait = fake" (issue 36); these twins are meant to take that lesson away and leave the generator's skin,
eyes and teeth.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from detector.datasets import SPLITS

from .dataset import link_unchanged, save_jpeg, write_pairs
from .sbi import CANONICAL_LANDMARKS, face_mask

KEYS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


def colour_transfer(image: np.ndarray, host: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`image` (RGB uint8) with the mean and spread of `host`'s Lab colours where mask > 0.5, per channel."""
    import cv2

    inside = mask > 0.5
    if inside.sum() < 16:
        return image
    a = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    b = cv2.cvtColor(host, cv2.COLOR_RGB2LAB).astype(np.float32)
    am, asd = a[inside].mean(0), a[inside].std(0) + 1e-3
    bm, bsd = b[inside].mean(0), b[inside].std(0) + 1e-3
    out = (a - am) / asd * bsd + bm
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def swap_inner_face(donor: np.ndarray, donor_lm: dict, host: np.ndarray, host_lm: dict,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`host` (RGB uint8) with `donor`'s inner face: aligned on the 5 landmarks by a similarity transform,
    no sharper than the host, given the host's colours, blended inside the host's soft face mask at full
    strength. Returns (image, mask)."""
    import cv2

    from .match_sharpness import blur_to, sharpness

    src = np.array([donor_lm[k] for k in KEYS], np.float32)
    dst = np.array([host_lm[k] for k in KEYS], np.float32)
    m, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    if m is None:  # degenerate landmarks: scale the donor onto the host's frame
        m = np.array([[host.shape[1] / donor.shape[1], 0, 0], [0, host.shape[0] / donor.shape[0], 0]], np.float32)
    h, w = host.shape[:2]
    warped = cv2.warpAffine(donor, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    warped = blur_to(warped, sharpness(host))  # a sharp face in a soft photo would teach sharpness again
    mask = face_mask(host.shape, host_lm, rng, ratio=1.0)
    warped = colour_transfer(warped, host, mask)
    out = mask[..., None] * warped.astype(np.float32) + (1 - mask[..., None]) * host.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8), mask


def landmarks_of(detector, images: list[np.ndarray]) -> list[dict]:
    """MTCNN's 5 landmarks of each crop's most confident face; where it finds none, the positions where the
    detector's crop framing puts them (every crop here is framed that way)."""
    out = []
    for image, faces in zip(images, detector.detect_with_retry(images)):
        if faces:
            out.append(faces[0].landmarks)
        else:
            h, w = image.shape[:2]
            out.append({k: (x * w, y * h) for k, (x, y) in CANONICAL_LANDMARKS.items()})
    return out


def make_swap_twins(matched: Path, out: Path, seed: int = 0, detector=None) -> dict[str, int]:
    """Per split with a matches.csv: both twin pairs of every (fake, real) match, and pairs.csv keeping each
    twin beside its partner in training batches. Returns {split: matches used}."""
    from detector.decode import load_image
    from detector.faces import FaceDetector

    detector = detector or FaceDetector(min_confidence=0.8)
    rng = np.random.default_rng(seed)
    counts, rows = {}, []
    for split in SPLITS:
        table = matched / split / "matches.csv"
        if not table.exists():
            continue
        matches = list(csv.DictReader(open(table, newline="")))
        for cls in ("Real", "Fake"):
            (out / split / cls).mkdir(parents=True, exist_ok=True)
        for i in range(0, len(matches), 16):
            chunk = matches[i:i + 16]
            fakes = [load_image(r["fake"]) for r in chunk]
            reals = [load_image(r["real"]) for r in chunk]
            fake_lm, real_lm = landmarks_of(detector, fakes), landmarks_of(detector, reals)
            for r, fake, real, flm, rlm in zip(chunk, fakes, reals, fake_lm, real_lm):
                stem = Path(r["fake"]).stem
                # pair a: the real photo, and the real photo with the fake's face
                link_unchanged(r["real"], out / split / "Real" / f"{stem}_a_host.jpg")
                save_jpeg(out / split / "Fake" / f"{stem}_a_swap.jpg", swap_inner_face(fake, flm, real, rlm, rng)[0])
                # pair b: the fake photo, and the fake photo with the real's face
                link_unchanged(r["fake"], out / split / "Fake" / f"{stem}_b_host.jpg")
                save_jpeg(out / split / "Real" / f"{stem}_b_swap.jpg", swap_inner_face(real, rlm, fake, flm, rng)[0])
                rows += [(f"{split}/Real/{stem}_a_host.jpg", f"{split}_{stem}_a"),
                         (f"{split}/Fake/{stem}_a_swap.jpg", f"{split}_{stem}_a"),
                         (f"{split}/Fake/{stem}_b_host.jpg", f"{split}_{stem}_b"),
                         (f"{split}/Real/{stem}_b_swap.jpg", f"{split}_{stem}_b")]
            print(f"\r{split}: {min(i + 16, len(matches))}/{len(matches)}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        counts[split] = len(matches)
    write_pairs(out, rows)
    return counts


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("matched", type=Path, help="a dataset made by data_prep.match_reals (with matches.csv per split)")
    p.add_argument("--out", type=Path, required=True, help="the new dataset folder (outside the repository)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    counts = make_swap_twins(a.matched, a.out, a.seed)
    print(counts)
    return 0 if counts else 1


if __name__ == "__main__":
    sys.exit(main())
