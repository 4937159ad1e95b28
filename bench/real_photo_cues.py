"""What about a real photo makes a model call it fake? Its faces scored as served and under controlled changes.

    python bench/real_photo_cues.py ../shared/datasets/lfw-real ../shared/datasets/utkface-real \\
        [--fake ../shared/datasets/dfdc-faces ../shared/datasets/stylegan-faces] [--model NAME --models-dir DIR]
        [--split Validation] [--limit N]

Each picture's faces are found once (the pipeline's detector, padded retry included) and the largest face's
crop is scored as served, then after one change at a time: re-compression, resolution loss, blur, sharpening,
colour and brightness, and framing (a crop moved inside the picture instead of padded at its edge). A change
that moves many real photos across the threshold names a cue the model reads as "fake"; one that moves few,
with a mirror flip as the noise floor, rules that cue out. --fake scores those sets' fakes the same way: a change
that hides fakes from the model is a way round it (and a shortcut it learned).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _jpeg(q):
    def f(c):
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(c, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])
        return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return f


def _down_up(scale):
    def f(c):
        h, w = c.shape[:2]
        small = cv2.resize(c, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return f


def _sharpen(c):
    blur = cv2.GaussianBlur(c, (0, 0), 1.5)
    return cv2.addWeighted(c, 1.6, blur, -0.6, 0)


def _grey_world(c):
    mean = c.reshape(-1, 3).mean(0)
    return np.clip(c * (mean.mean() / np.maximum(mean, 1)), 0, 255).astype(np.uint8)


def _gamma(g):
    lut = np.clip(255 * (np.arange(256) / 255) ** g, 0, 255).astype(np.uint8)
    return lambda c: lut[c]


def _saturation(factor):
    """Colourfulness scaled in HSV (x0.6 duller, x1.4 more vivid): the Lite0 mix models read colour as fakeness."""
    def f(c):
        hsv = cv2.cvtColor(c, cv2.COLOR_RGB2HSV).astype(np.float32)
        hsv[..., 1] = np.clip(hsv[..., 1] * factor, 0, 255)
        return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)
    return f


GREY = "black and white"
CHANGES = {
    "mirror flip (noise floor)": lambda c: np.ascontiguousarray(c[:, ::-1]),
    "JPEG q95 again": _jpeg(95),
    "JPEG q75 again": _jpeg(75),
    "JPEG q40 again": _jpeg(40),
    "half resolution and back": _down_up(0.5),
    "Gaussian blur s=1": lambda c: cv2.GaussianBlur(c, (0, 0), 1.0),
    "sharpened (unsharp mask)": _sharpen,
    GREY: lambda c: cv2.cvtColor(cv2.cvtColor(c, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB),
    "saturation x0.6": _saturation(0.6),
    "saturation x1.4": _saturation(1.4),
    "grey-world white balance": _grey_world,
    "brighter (gamma 0.8)": _gamma(0.8),
    "darker (gamma 1.25)": _gamma(1.25),
}


def inside_crop(image, box):
    """The served square crop moved (and if need be shrunk) to lie inside the picture: no replicated edges."""
    from detector.preprocess import crop_box

    h, w = image.shape[:2]
    x1, y1, x2, y2 = crop_box(box, image.shape)
    s = min(x2 - x1, h, w)
    x1 = int(np.clip(x1 + ((x2 - x1) - s) // 2, 0, w - s))
    y1 = int(np.clip(y1 + ((y2 - y1) - s) // 2, 0, h - s))
    return image[y1 : y1 + s, x1 : x1 + s]


def main(argv=None) -> int:
    from detector.datasets import find_split
    from detector.decode import load_image
    from detector.pipeline import Detector
    from detector.preprocess import crop_box, crop_face

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("real", nargs="+", type=Path, help="datasets whose <split>/Real photos are scored")
    ap.add_argument("--fake", nargs="*", default=[], type=Path, help="datasets whose <split>/Fake faces are scored")
    ap.add_argument("--split", default="Validation")
    ap.add_argument("--model", default=None)
    ap.add_argument("--models-dir", default=None)
    ap.add_argument("--limit", type=int, default=0, help="first N photos per set (0: all)")
    ap.add_argument("--update-card", action="store_true",
                    help="record the --fake sets' fakes caught in colour and black and white in the model's card "
                         "(its `black_and_white` entry, behind the app's warning for black-and-white pictures)")
    a = ap.parse_args(argv)
    det = Detector(model=a.model, models_dir=a.models_dir)
    t = det.card.threshold
    print(f"model {det.card.name}, threshold {t:.4f}, {a.split}, the largest face of each photo")

    rows = {}
    for d, label in [(d, "real") for d in a.real] + [(d, "fake") for d in a.fake]:
        paths = find_split(d, a.split, (label,)).paths[: a.limit or None]
        crops, inside, padded = [], [], []
        for i in range(0, len(paths), 16):
            images = [load_image(p) for p in paths[i : i + 16]]
            for im, fs in zip(images, det.faces.detect_with_retry(images)):
                if not fs:
                    continue
                box = max(fs, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1])).box
                x1, y1, x2, y2 = crop_box(box, im.shape)
                crops.append(crop_face(im, box))
                inside.append(inside_crop(im, box))
                padded.append(x1 < 0 or y1 < 0 or x2 > im.shape[1] or y2 > im.shape[0])
            print(f"\r{d.name}: {min(i + 16, len(paths))}/{len(paths)}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        padded = np.array(padded)
        served = det.classifier.score(crops)
        col = {"as served": served}
        col["crop moved inside the picture (no padded edge)"] = det.classifier.score(inside)
        for name, fn in CHANGES.items():
            col[name] = det.classifier.score([fn(c) for c in crops])
        sides = np.array([c.shape[0] for c in crops])
        rows[f"{d.name} {label}s"] = (col, padded, served, sides)
        print(f"{d.name} {label}s: {len(crops)} faces of {len(paths)} photos; crop side median {np.median(sides):.0f} px; "
              f"{padded.mean():.1%} of crops reach past the picture's edge "
              f"(called fake: {np.mean(served[padded] >= t) if padded.any() else float('nan'):.1%} of those, "
              f"{np.mean(served[~padded] >= t) if (~padded).any() else float('nan'):.1%} of the rest)")

    names = list(rows)
    print("\n| change | " + " | ".join(f"{n}: called fake | {n}: mean score" for n in names) + " |")
    print("|---|" + "---|---|" * len(names))
    for change in next(iter(rows.values()))[0]:
        cells = []
        for n in names:
            s = rows[n][0][change]
            cells += [f"{np.mean(s >= t):.1%}", f"{s.mean():.3f}"]
        print(f"| {change} | " + " | ".join(cells) + " |")
    if a.update_card and a.fake:
        from detector.model import update_card

        entry = {"split": a.split, "limit": a.limit or None,
                 "command": "python bench/real_photo_cues.py " + " ".join(sys.argv[1:]).replace(" --update-card", ""),
                 "fakes_caught": {d.name: {"colour": float(np.mean(rows[f"{d.name} fakes"][0]["as served"] >= t)),
                                           "black_and_white": float(np.mean(rows[f"{d.name} fakes"][0][GREY] >= t))}
                                  for d in a.fake}}
        update_card(det.classifier.path.with_suffix(".json"), lambda card: card.__setitem__("black_and_white", entry))
    print("\ncalled fake by crop side (px, before the resize to the model's input)")
    for n in names:
        _, _, s, sides = rows[n]
        edges = [0, 64, 96, 128, 192, 100_000]
        parts = [f"{lo}-{hi if hi < 100_000 else ''}: {np.mean(s[(sides >= lo) & (sides < hi)] >= t):.1%} "
                 f"(n={((sides >= lo) & (sides < hi)).sum()})" for lo, hi in zip(edges, edges[1:])
                 if ((sides >= lo) & (sides < hi)).any()]
        print(f"{n}: " + "; ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
