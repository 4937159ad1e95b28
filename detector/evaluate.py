"""Score an OpenForensics-layout folder through the full detector path (image -> MTCNN -> crop -> model).

    python -m detector.evaluate ../shared/datasets/dfdc-faces --split Test [--model NAME] [--json out.json]

Dataset images are decoded, faces are found by MTCNN on the whole image and cropped exactly as for an upload,
so the figures are what a user gets, not what the training loop saw. Images where no face is found are counted
and scored 0.5 (undecided) in the "all images" metrics; "faces found" metrics leave them out. For comparison
the same images are also scored as given (the crop the dataset provides, no detection).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", help="dataset root (with Train/Validation/Test) or a folder with Real/ and Fake/")
    p.add_argument("--split", default="Test")
    p.add_argument("--model", default=None)
    p.add_argument("--models-dir", default=None)
    p.add_argument("--limit", type=int, default=0, help="at most this many images per class (0: all)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--json", default=None, help="also write the metrics here")
    p.add_argument("--update-card", action="store_true",
                   help="record the full-path metrics in the model card (metrics_full_path.<dataset name>)")
    args = p.parse_args(argv)

    import numpy as np
    from rich.progress import Progress

    from .datasets import DatasetError, find_split
    from .decode import load_image
    from .errors import InputError, ModelError
    from .metrics import binary_report
    from .pipeline import Detector

    try:
        split = find_split(args.data, args.split)
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    items = list(zip(split.paths, split.labels))
    if args.limit:
        items = [x for y in (0, 1) for x in [it for it in items if it[1] == y][: args.limit]]
    try:
        det = Detector(model=args.model, models_dir=args.models_dir)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    labels, full, crop_scores, no_face, unreadable = [], [], [], 0, 0
    t0 = time.time()
    with Progress(console=None, transient=False) as prog:
        task = prog.add_task(f"{args.split}: full detector path", total=len(items))
        for i in range(0, len(items), args.batch):
            batch = []
            for path, y in items[i : i + args.batch]:
                try:
                    batch.append((load_image(path), y, path))
                except InputError:
                    unreadable += 1
            results = det.analyse_images([b[0] for b in batch], [b[2] for b in batch])
            as_given = det.classifier.score([b[0] for b in batch])
            for (_, y, _), r, c in zip(batch, results, as_given):
                labels.append(y)
                crop_scores.append(float(c))
                if r.fake_probability is None:
                    no_face += 1
                full.append(r.fake_probability)
            prog.advance(task, len(items[i : i + args.batch]))
    seconds = time.time() - t0
    y = np.array(labels)
    found = np.array([s is not None for s in full])
    full_all = np.array([0.5 if s is None else s for s in full])
    t = det.card.threshold
    report = {
        "data": os.path.abspath(args.data), "split": args.split, "model": det.card.name, "threshold": t,
        "images": len(items), "unreadable": unreadable, "no_face": no_face, "seconds": round(seconds, 1),
        "full_path_all_images": binary_report(y, full_all, t),
        "full_path_faces_found": binary_report(y[found], full_all[found], t),
        "as_given_crops": binary_report(y, np.array(crop_scores), t),
    }
    print(f"{det.card.name} on {args.data} [{args.split}]: {len(items)} images, {no_face} without a detected face, "
          f"{unreadable} unreadable, {seconds:.0f} s")
    for k in ("full_path_all_images", "full_path_faces_found", "as_given_crops"):
        m = report[k]
        print(f"  {k:>22}: n={m['n']:5d}  AUC {m['auc']:.4f}  acc {m['accuracy']:.4f}  precision {m['precision']:.3f}  "
              f"recall {m['recall']:.3f}  ECE {m['ece']:.3f}  CM [[TN,FP],[FN,TP]] {m['confusion_matrix']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    if args.update_card:
        from pathlib import Path

        from .model import atomic_write

        card_path = det.classifier.path.with_suffix(".json")
        card = json.loads(card_path.read_text())
        name = Path(os.path.abspath(args.data)).name
        entry = dict(report["full_path_all_images"], no_face=no_face, images=len(items), split=args.split,
                     faces_found_auc=report["full_path_faces_found"]["auc"],
                     command=f"python -m detector.evaluate {args.data} --split {args.split}")
        card.setdefault("metrics_full_path", {})[name] = entry
        atomic_write(card_path, lambda tmp: Path(tmp).write_text(json.dumps(card, indent=2)))
        print(f"recorded in {card_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
