"""Score labelled folders through the full detector path (image -> MTCNN -> crop -> model), one table.

    python -m detector.evaluate ../shared/datasets/dfdc-faces ../shared/datasets/stylegan-faces --split Test
           [--model NAME] [--limit N] [--json out.json] [--update-card]

Dataset images are decoded, faces are found by MTCNN on the whole image (with context added, then the
whole-picture fallback for close-ups, exactly as for an upload) and cropped as for an upload, so the figures are
what a user gets, not what the training loop saw. Images where no face is found are counted and scored 0.5
(undecided) in the "all images" metrics; "faces found" metrics leave them out. For comparison the same images
are also scored as given (the crop the dataset provides, no detection).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .progname import invoked_as

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def find_labelled_split(data: str, split: str):
    """Real and fake images of a split, or only real ones for a real-only set (then only the share called fake
    can be measured). Raises DatasetError naming what is missing."""
    from .datasets import DatasetError, find_split

    try:
        return find_split(data, split)
    except DatasetError:
        return find_split(data, split, classes=("real",))


def evaluate_folder(det, data: str, split: str, limit: int = 0, batch: int = 16, progress=None) -> dict:
    """Metrics of one labelled folder (dataset root, or a folder with Real/ and Fake/)."""
    import numpy as np

    from .decode import load_image
    from .errors import InputError
    from .metrics import binary_report, intervals
    from .pipeline import WHOLE_IMAGE_MESSAGE

    split_data = find_labelled_split(data, split)
    items = list(zip(split_data.paths, split_data.labels))
    if limit:
        items = [x for y in (0, 1) for x in [it for it in items if it[1] == y][:limit]]
    labels, full, crop_scores, no_face, whole, unreadable = [], [], [], 0, 0, 0
    t0 = time.time()
    task = progress.add_task(f"{Path(data).name} {split}", total=len(items)) if progress else None
    for i in range(0, len(items), batch):
        loaded = []
        for path, y in items[i : i + batch]:
            try:
                loaded.append((load_image(path), y, path))
            except InputError:
                unreadable += 1
        results = det.analyse_images([b[0] for b in loaded], [b[2] for b in loaded])
        as_given = det.classifier.score([b[0] for b in loaded])
        for (_, y, _), r, c in zip(loaded, results, as_given):
            labels.append(y)
            crop_scores.append(float(c))
            no_face += r.fake_probability is None
            whole += r.message == WHOLE_IMAGE_MESSAGE
            full.append(r.fake_probability)
        if progress:
            progress.advance(task, len(items[i : i + batch]))
    y = np.array(labels)
    found = np.array([s is not None for s in full])
    full_all = np.array([0.5 if s is None else s for s in full])
    t = det.card.threshold
    reals = y == 0
    return {
        "data": os.path.abspath(data), "split": split, "model": det.card.name, "threshold": t,
        "images": len(items), "unreadable": unreadable, "no_face": no_face, "whole_image": whole,
        "seconds": round(time.time() - t0, 1),
        # The error users suffer most: a real photo called fake (faceless images count as not called fake).
        "reals": int(reals.sum()), "reals_called_fake": int((full_all[reals] >= t).sum()),
        "share_of_reals_called_fake": float((full_all[reals] >= t).mean()) if reals.any() else float("nan"),
        "full_path_all_images": binary_report(y, full_all, t) | intervals(y, full_all),
        "full_path_faces_found": binary_report(y[found], full_all[found], t),
        "as_given_crops": binary_report(y, np.array(crop_scores), t),
    }


def source_family(name: str) -> str:
    """A dataset folder's source: the name without the suffix that says how it was cut (lfw-real and lfw-crops are
    both "lfw"; portraits-real and portraits-unseen are different sources)."""
    for suffix in ("-real", "-faces", "-crops"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def trained_on(card_info: dict, data_name: str) -> bool | None:
    """Whether a model card's training command names this dataset's source (as data, a self-blend source or a
    real-photo set); None where the card records no command."""
    command = card_info.get("training", {}).get("command")
    if not command:
        return None
    named = {source_family(Path(tok).name) for tok in command.split() if not tok.startswith("-")}
    return source_family(data_name) in named


def _with_interval(m: dict, key: str, digits: int) -> str:
    lo, hi = m[f"{key}_95"]
    if m[key] != m[key]:  # NaN: one class only (a real-only set has no AUC)
        return "-"
    return f"{m[key]:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"


def print_real_photo_summary(reports: dict) -> None:
    """The error users suffer most first: real photos called fake, sources the model never trained on at the top
    (a user's photo always comes from such a source), then the real sources it trained on."""
    rows = sorted((r["trained_on"] is not False, name) for name, r in reports.items() if r["reals"])
    if not rows:
        return
    print("| real photos called fake | source trained on? | share (count) |")
    print("|---|---|---|")
    for _, name in rows:
        r = reports[name]
        seen = {True: "yes", False: "**never**", None: "unknown"}[r["trained_on"]]
        print(f"| {name} {r['split']} | {seen} | {r['share_of_reals_called_fake']:.1%} "
              f"({r['reals_called_fake']} of {r['reals']}) |")
    print()


def print_table(reports: dict) -> None:
    print("| data | images | no face | scored whole | real photos called fake | AUC full path (95 % interval) | accuracy | "
          "ECE (95 % interval) | AUC as-given crops | confusion [[TN, FP], [FN, TP]] |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in reports.items():
        m = r["full_path_all_images"]
        share = f"{r['share_of_reals_called_fake']:.1%} ({r['reals_called_fake']} of {r['reals']})" if r["reals"] else "-"
        print(f"| {name} | {r['images']} | {r['no_face']} | {r['whole_image']} | {share} | {_with_interval(m, 'auc', 3)} | "
              f"{m['accuracy']:.4f} | {_with_interval(m, 'ece', 3)} | {r['as_given_crops']['auc']:.4f} | "
              f"{m['confusion_matrix']} |")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=invoked_as("detector.evaluate"), description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", nargs="+", help="dataset roots (with Train/Validation/Test) or folders with Real/ and Fake/")
    p.add_argument("--split", default="Test")
    p.add_argument("--model", default=None)
    p.add_argument("--models-dir", default=None)
    p.add_argument("--limit", type=int, default=0, help="at most this many images per class (0: all)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--json", default=None, help="also write the metrics here")
    p.add_argument("--update-card", action="store_true",
                   help="record the full-path metrics in the model card (metrics_full_path.<dataset name>)")
    args = p.parse_args(argv)

    from rich.progress import Progress

    from .datasets import DatasetError, find_split
    from .errors import ModelError
    from .pipeline import Detector

    try:
        for d in args.data:
            find_labelled_split(d, args.split)
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        det = Detector(model=args.model, models_dir=args.models_dir)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    reports = {}
    with Progress(transient=False) as prog:
        for d in args.data:
            name = Path(os.path.abspath(d)).name
            reports[name] = evaluate_folder(det, d, args.split, args.limit, args.batch, prog)
            reports[name]["trained_on"] = trained_on(det.card.info, name)
    print(f"{det.card.name} (threshold {det.card.threshold:.4f}), split {args.split}, full detector path; "
          "images without a face count as 0.5; intervals: bootstrap over images, each class resampled")
    print_real_photo_summary(reports)
    print_table(reports)
    for name, r in reports.items():
        print(f"{name}: {r['seconds']:.0f} s, {r['unreadable']} unreadable")
        for k in ("full_path_all_images", "full_path_faces_found", "as_given_crops"):
            m = r[k]
            print(f"  {k:>22}: n={m['n']:5d}  AUC {m['auc']:.4f}  acc {m['accuracy']:.4f}  precision "
                  f"{m['precision']:.3f}  recall {m['recall']:.3f}  ECE {m['ece']:.3f}  CM {m['confusion_matrix']}")
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=2))
    if args.update_card:
        from .model import update_card

        def record(card):
            for (name, r), d in zip(reports.items(), args.data):
                kept = card.get("metrics_full_path", {}).get(name, {})
                if kept.get("split") == "Test" and args.split != "Test":  # the card reports Test where there is one
                    print(f"{name}: the card keeps its Test figures; {args.split} not recorded", file=sys.stderr)
                    continue
                card.setdefault("metrics_full_path", {})[name] = dict(
                    r["full_path_all_images"], no_face=r["no_face"], whole_image=r["whole_image"],
                    images=r["images"], split=args.split, faces_found_auc=r["full_path_faces_found"]["auc"],
                    share_of_reals_called_fake=r["share_of_reals_called_fake"], reals=r["reals"],
                    command=f"python -m detector.evaluate {d} --split {args.split}")

        update_card(det.classifier.path.with_suffix(".json"), record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
