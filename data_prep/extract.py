"""Build an OpenForensics-layout dataset from your own photos and videos, with the detector's own crop.

    python -m data_prep.extract SRC OUT --split Train --label real [--frames 8]

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


def extract(sources, out: Path, split: str, label: str, frames: int = 8, min_face: int = 40) -> dict:
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sources", nargs="+")
    p.add_argument("out")
    p.add_argument("--split", choices=["Train", "Validation", "Test"], required=True)
    p.add_argument("--label", choices=["real", "fake"], required=True)
    p.add_argument("--frames", type=int, default=8, help="frames sampled per video")
    a = p.parse_args(argv)
    stats = extract(a.sources, Path(a.out), a.split, a.label, a.frames)
    print(f"{stats['files']} files: {stats['faces']} face crops written, {stats['skipped']} unreadable, "
          f"{stats['too_small']} faces too small")
    return 0 if stats["faces"] else 1


if __name__ == "__main__":
    sys.exit(main())
