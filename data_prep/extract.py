"""Build an OpenForensics-layout dataset from your own photos and videos, with the detector's own crop.

    python -m data_prep.extract SRC OUT --split Train --label real [--frames 8]
    python -m data_prep.extract --dataset ../shared/datasets/stylegan-faces ~/.cache/deepfake-detector/datasets/stylegan-crops

The second form re-crops a whole OpenForensics-layout dataset (every split and class it has, the largest face
of each image), so datasets framed differently from dfdc-faces (stylegan-faces, utkface-real) train on the
crop the detector makes.

Every face MTCNN finds in SRC (files or folders of images/videos) is cut with detector.preprocess.crop_face,
resized to 224x224 (the dfdc-faces storage size) and written as OUT/<split>/<Label>/<name>_<n>.jpg, so a model
trained on OUT sees exactly the crops the detector will feed it. Unreadable files are skipped and counted.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CROP_STORE_SIZE = 224


def extract(sources, out: Path, split: str, label: str, frames: int = 8, min_face: int = 40,
            largest_only: bool = False) -> dict:
    import cv2

    from detector.decode import kind_of, load_image, sample_frames
    from detector.errors import InputError
    from detector.faces import FaceDetector
    from detector.pipeline import iter_media
    from detector.preprocess import crop_face

    target = out / split / label.capitalize()
    target.mkdir(parents=True, exist_ok=True)
    faces = FaceDetector()
    stats = {"files": 0, "faces": 0, "skipped": 0, "too_small": 0}
    for path in iter_media(sources):
        stats["files"] += 1
        try:
            images = [load_image(path)] if kind_of(path) == "image" else [im for _, _, im in sample_frames(path, frames)]
        except InputError as e:
            stats["skipped"] += 1
            print(f"skip {path}: {e}", file=sys.stderr)
            continue
        n = 0
        for image, found in zip(images, faces.detect(images)):
            if largest_only:
                found = sorted(found, key=lambda f: -f.size)[:1]
            for f in found:
                if f.size < min_face:  # too few pixels to carry manipulation traces
                    stats["too_small"] += 1
                    continue
                crop = cv2.resize(crop_face(image, f.box), (CROP_STORE_SIZE, CROP_STORE_SIZE), interpolation=cv2.INTER_AREA)
                cv2.imwrite(str(target / f"{Path(path).stem}_{n}.jpg"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, 95])
                n += 1
        stats["faces"] += n
    return stats


def extract_dataset(src: Path, out: Path) -> dict:
    """Re-crop every split x class folder present in an OpenForensics-layout dataset (one face per image)."""
    from data_prep.dataset import CLASSES, SPLITS, child_dir

    total = {"files": 0, "faces": 0, "skipped": 0, "too_small": 0}
    for split in SPLITS:
        for label in CLASSES:
            folder = child_dir(child_dir(src, split) or src / split, label)
            if folder is None:
                continue
            stats = extract([folder], out, split, label, largest_only=True)
            print(f"{split}/{label}: {stats}", file=sys.stderr)
            total = {k: total[k] + stats[k] for k in total}
    return total


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sources", nargs="+")
    p.add_argument("out")
    p.add_argument("--dataset", action="store_true", help="SOURCE is an OpenForensics-layout dataset: re-crop all of it")
    p.add_argument("--split", choices=["Train", "Validation", "Test"])
    p.add_argument("--label", choices=["real", "fake"])
    p.add_argument("--frames", type=int, default=8, help="frames sampled per video")
    a = p.parse_args(argv)
    if a.dataset:
        if len(a.sources) != 1:
            p.error("--dataset takes one dataset folder")
        stats = extract_dataset(Path(a.sources[0]), Path(a.out))
    elif not (a.split and a.label):
        p.error("--split and --label are required unless --dataset is given")
    else:
        stats = extract(a.sources, Path(a.out), a.split, a.label, a.frames)
    print(f"{stats['files']} files: {stats['faces']} face crops written, {stats['skipped']} unreadable, "
          f"{stats['too_small']} faces too small")
    return 0 if stats["faces"] else 1


if __name__ == "__main__":
    sys.exit(main())
