"""Take sharpness away as a shortcut: blur a dataset's fakes so that their sharpness follows its reals'.

    D=~/.cache/deepfake-detector/datasets
    python -m data_prep.match_sharpness $D/gan-vs-portraits-nolfw $D/gan-vs-portraits-nolfw-matched

In `gan-vs-portraits` sharpness alone tells the GAN fakes from the real portraits with AUC 0.935
(bench/sharpness.py): a model may learn "sharp = fake". Here, split by split, the k-th sharpest fake is blurred
(Gaussian, the smallest sigma found by bisection) until it is no sharper than the real at the same quantile; fakes
already softer are kept as they are. Sharpness is measured as the detector sees a face: resized to the model's
input, variance of the Laplacian. Reals are linked unchanged; blurred fakes are written losslessly (PNG), so no
compression is added to one class only.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import cv2
import numpy as np

from detector.datasets import SPLITS, DatasetError, find_split

SIZE = 160  # the bundled model's input side


def sharpness(image: np.ndarray, size: int = SIZE) -> float:
    """Variance of the Laplacian of the grey face at the model's input size (area resize, as the detector does)."""
    small = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float64), cv2.CV_64F).var())


def blur_to(image: np.ndarray, target: float, size: int = SIZE, steps: int = 12) -> np.ndarray:
    """The image blurred just enough that its sharpness is at most `target` (unchanged if it already is). The
    blur is in pixels of the model's input, scaled to the image, so a large and a small face soften alike."""
    if sharpness(image, size) <= target:
        return image
    scale = max(image.shape[:2]) / size
    lo, hi = 0.0, 4.0
    blurred = cv2.GaussianBlur(image, (0, 0), hi * scale)
    for _ in range(steps):
        mid = (lo + hi) / 2
        candidate = cv2.GaussianBlur(image, (0, 0), mid * scale)
        if sharpness(candidate, size) <= target:
            hi, blurred = mid, candidate
        else:
            lo = mid
    return blurred


def match(src: Path, out: Path, size: int = SIZE) -> dict[str, tuple[int, int]]:
    """Per split: its reals linked into out/<split>/Real, its fakes blurred to the reals' quantiles into
    out/<split>/Fake."""
    from detector.decode import load_image

    counts = {}
    for split in SPLITS:
        try:
            data = find_split(src, split)
        except DatasetError:
            continue
        reals = [p for p, y in zip(data.paths, data.labels) if y == 0]
        fakes = [p for p, y in zip(data.paths, data.labels) if y == 1]
        (out / split / "Real").mkdir(parents=True, exist_ok=True)
        (out / split / "Fake").mkdir(parents=True, exist_ok=True)
        for p in reals:
            link = out / split / "Real" / Path(p).name
            if not link.exists():
                os.symlink(os.path.realpath(p), link)
        real_sharp = np.sort([sharpness(load_image(p), size) for p in reals])
        images = [load_image(p) for p in fakes]
        fake_sharp = np.array([sharpness(im, size) for im in images])
        ranks = fake_sharp.argsort().argsort() / max(len(fakes) - 1, 1)  # each fake's quantile among the fakes
        blurred, after = 0, []
        for p, im, q in zip(fakes, images, ranks):
            new = blur_to(im, float(np.quantile(real_sharp, q)), size)
            blurred += new is not im
            after.append(sharpness(new, size))
            cv2.imwrite(str(out / split / "Fake" / (Path(p).stem + ".png")), cv2.cvtColor(new, cv2.COLOR_RGB2BGR))
        counts[split] = (len(reals), len(fakes))
        print(f"{split}: {len(reals)} real linked, {len(fakes)} fake written ({blurred} blurred); median sharpness "
              f"real {np.median(real_sharp):.1f}, fake {np.median(fake_sharp):.1f} -> {np.median(after):.1f}",
              flush=True)
    return counts


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", type=Path, help="a dataset in the OpenForensics layout")
    p.add_argument("out", type=Path, help="the new dataset folder")
    p.add_argument("--size", type=int, default=SIZE, help="the model's input side (default %(default)s)")
    a = p.parse_args(argv)
    return 0 if match(a.src, a.out, a.size) else 1


if __name__ == "__main__":
    sys.exit(main())
