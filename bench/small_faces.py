"""How reliably are small faces judged, and what does letting them decide a picture cost in false alarms?

    python bench/small_faces.py --real ../shared/datasets/lfw-real ../shared/datasets/utkface-real \\
        --fake ../shared/datasets/dfdc-faces ../shared/datasets/stylegan-faces --shrink ../shared/datasets/dfdc-faces

Validation only (the rule in detector.pipeline.SMALL_FACE_SIDE was chosen with it). Three measurements, the
bundled model (or --model) through the full path:
1. Real photos (--real): each face's share called fake by its width in the picture.
2. Every picture of --real and --fake: real photos called fake, and AUC, when a picture is as fake as its most
   fake face of any size, against faces narrower than --sides counting only where no larger face is.
3. --shrink: a seeded sample of its Validation faces shrunk so the face is W px wide, on a grey canvas: does
   the model still tell real from fake at that size? (AUC, reals called fake, fakes caught.)
4. --smallest: the same faces shrunk to each of --widths on a 640x480 grey canvas (a picture the detector does
   not shrink), face detection alone: the share found by width, and the width of the box found. W is the crop's
   width times 0.6; the box found tells the face's width as the app draws it. detector.faces.SMALLEST_FACE, which
   the app and README quote, is the box width found at the narrowest W where at least 90 % were found:

    python bench/small_faces.py --smallest --shrink ../shared/datasets/dfdc-faces --shrink-n 100 \
        --widths 6 8 10 12 16 20 24
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WIDTH_BUCKETS = ((0, 32), (32, 48), (48, 64), (64, 96), (96, 100_000))
FACE_SHARE_OF_CROP = 0.6  # dfdc-faces crops: the face is about this share of the crop's width


def faces_of(detector, paths):
    """Per picture: (its whole-picture score when no face was found, [(face width, face height, score)])."""
    from detector.decode import load_image

    out = []
    for i, p in enumerate(paths):
        r = detector.analyse_image(load_image(p), name=p)
        out.append((r.fake_probability, [(f.box[2] - f.box[0], f.box[3] - f.box[1], f.fake_probability)
                                         for f in r.faces]))
        print(f"\r{Path(p).parent.parent.parent.name}: {i + 1}/{len(paths)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return out


def picture_score(whole, faces, min_side: int):
    """The picture's score when faces smaller than min_side count only where no larger face is (the pipeline's
    rule, detector.pipeline.counted_faces, at another size)."""
    from detector.pipeline import counted_faces

    if not faces:
        return 0.5 if whole is None else whole
    return max(s for (_, _, s), counted in zip(faces, counted_faces([min(w, h) for w, h, _ in faces], min_side))
               if counted)


def main(argv=None) -> int:
    from detector.datasets import find_split
    from detector.metrics import roc_auc
    from detector.pipeline import SMALL_FACE_SIDE, Detector

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", nargs="*", default=[], type=Path, help="real-only datasets (Validation/Real)")
    ap.add_argument("--fake", nargs="*", default=[], type=Path, help="datasets with Real and Fake")
    ap.add_argument("--shrink", type=Path, default=None, help="a face-crop dataset to shrink (part 3)")
    ap.add_argument("--shrink-n", type=int, default=300)
    ap.add_argument("--widths", type=int, nargs="+", default=[24, 32, 48, 64, 96])
    ap.add_argument("--sides", type=int, nargs="+", default=[0, 32, SMALL_FACE_SIDE, 64])
    ap.add_argument("--model", default=None)
    ap.add_argument("--smallest", action="store_true", help="part 4 only: the share of --shrink faces found by width")
    a = ap.parse_args(argv)
    det = Detector(model=a.model)
    if a.smallest:
        return smallest(det, a)
    t = det.card.threshold
    print(f"model {det.card.name}, threshold {t:.4f}, Validation, full path")

    sets = {d.name: find_split(d, "Validation", ("real",)) for d in a.real}
    sets.update({d.name: find_split(d, "Validation") for d in a.fake})
    scored = {name: (np.array(sp.labels), faces_of(det, sp.paths)) for name, sp in sets.items()}

    if a.real:
        print("\n1. real photos: faces called fake by their width in the picture")
        print("| face width (px) | faces | called fake |\n|---|---|---|")
        faces = [f for d in a.real for _, fs in scored[d.name][1] for f in fs]
        for lo, hi in WIDTH_BUCKETS:
            got = [s for w, h, s in faces if lo <= min(w, h) < hi]
            share = f"{np.mean(np.array(got) >= t):.1%}" if got else "-"
            print(f"| {lo}-{hi if hi < 100_000 else ''} | {len(got)} | {share} |")

    print("\n2. pictures: real photos called fake and AUC, small faces counting only where no larger face is")
    print("| smaller faces count only alone below (px) | " + " | ".join(scored) + " |")
    print("|---|" + "---|" * len(scored))
    for side in a.sides:
        cells = []
        for y, recs in scored.values():
            s = np.array([picture_score(whole, fs, side) for whole, fs in recs])
            cell = f"{np.mean(s[y == 0] >= t):.1%} FP"
            cells.append(cell + (f", AUC {roc_auc(y, s):.3f}" if (y == 1).any() and (y == 0).any() else ""))
        print(f"| {side or 'none (every face counts)'}{' (the pipeline)' if side == SMALL_FACE_SIDE else ''} | "
              + " | ".join(cells) + " |")

    if a.shrink:
        from detector.decode import load_image

        sp = find_split(a.shrink, "Validation")
        pick = np.random.default_rng(0).permutation(len(sp.paths))[: a.shrink_n]
        print(f"\n3. {a.shrink.name} Validation faces shrunk to W px wide on a grey canvas ({len(pick)} pictures)")
        print("| face width W | found | AUC | reals called fake | fakes caught |\n|---|---|---|---|---|")
        for width in a.widths:
            y, s = [], []
            for i in pick:
                im = load_image(sp.paths[i])
                scale = width / (FACE_SHARE_OF_CROP * im.shape[1])
                small = cv2.resize(im, (max(1, round(im.shape[1] * scale)), max(1, round(im.shape[0] * scale))),
                                   interpolation=cv2.INTER_AREA)
                canvas = np.full((max(250, small.shape[0] + 40), max(250, small.shape[1] + 40), 3), 128, np.uint8)
                canvas[20 : 20 + small.shape[0], 20 : 20 + small.shape[1]] = small
                r = det.analyse_image(canvas, name="shrunk")
                if r.faces:
                    y.append(sp.labels[i])
                    s.append(max(f.fake_probability for f in r.faces))
            y, s = np.array(y), np.array(s)
            print(f"| {width} | {len(y)} | {roc_auc(y, s):.3f} | {np.mean(s[y == 0] >= t):.1%} | "
                  f"{np.mean(s[y == 1] >= t):.1%} |", flush=True)
    return 0


def smallest(det, a) -> int:
    from detector.datasets import find_split
    from detector.decode import load_image
    from detector.faces import SMALLEST_FACE

    sp = find_split(a.shrink, "Validation")
    pick = np.random.default_rng(0).permutation(len(sp.paths))[: a.shrink_n]
    faces = [load_image(sp.paths[i]) for i in pick]
    print(f"4. {a.shrink.name} Validation faces shrunk to W px wide on a 640x480 grey canvas ({len(pick)} pictures), "
          f"face detection only (detector.faces.SMALLEST_FACE = {SMALLEST_FACE})")
    print("| face width W (px) | found | found box width, median (px) |\n|---|---|---|")
    for width in a.widths:
        canvases = []
        for im in faces:
            scale = width / (FACE_SHARE_OF_CROP * im.shape[1])
            small = cv2.resize(im, (max(1, round(im.shape[1] * scale)), max(1, round(im.shape[0] * scale))),
                               interpolation=cv2.INTER_AREA)
            canvas = np.full((480, 640, 3), 128, np.uint8)
            canvas[200 : 200 + small.shape[0], 300 : 300 + small.shape[1]] = small
            canvases.append(canvas)
        found = det.faces.detect(canvases)
        widths = [fs[0].box[2] - fs[0].box[0] for fs in found if fs]
        print(f"| {width} | {np.mean([bool(fs) for fs in found]):.0%} | "
              f"{np.median(widths) if widths else float('nan'):.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
