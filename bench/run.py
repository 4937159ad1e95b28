"""Benchmarks: our pipeline against a naive baseline measured in the same run, on the same inputs.

    python bench/run.py --videos ../shared/datasets/videos/Fake [--data ../shared/datasets/dfdc-faces] \
                        [--out artifacts/bench.json] [--repeats 5]

Naive baseline (the seed project's way): every sampled frame through MTCNN at full resolution, one frame at a
time, and `model.predict` once per face. Ours: detection on frames shrunk to 640 px, batched MTCNN, decoding in a
background thread, the classifier batched through one traced graph. Same sampled frames, same model.
Prints a table and writes JSON. Timings are warm (after one untimed run) unless labelled cold.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402


# ------------------------------------------------------------------ inputs the script writes
def face_image() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def canvas(w: int, h: int, n_faces: int, shift: int = 0) -> np.ndarray:
    """A w x h picture with n_faces copies of a real face (astronaut head), at most one per slot."""
    import cv2

    img = np.full((h, w, 3), 110, np.uint8)
    head = face_image()[20:230, 120:310]
    side = int(min(h * 0.45, w / max(n_faces, 1) * 0.8))
    head = cv2.resize(head, (int(side * 190 / 210), side))
    for i in range(n_faces):
        x = int((i + 0.5) * w / n_faces - head.shape[1] / 2) + shift
        y = int(h * 0.3)
        x = max(0, min(w - head.shape[1], x))
        img[y : y + head.shape[0], x : x + head.shape[1]] = head
    return img


def write_clip(path: Path, w: int, h: int, seconds: float, fps: int = 30, n_faces: int = 1) -> Path:
    import cv2

    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    base = [canvas(w, h, n_faces, shift=s) for s in range(0, 40, 4)]  # a face drifting a little
    for i in range(int(seconds * fps)):
        vw.write(cv2.cvtColor(base[(i // 6) % len(base)], cv2.COLOR_RGB2BGR))
    vw.release()
    return path


# ------------------------------------------------------------------ the naive baseline
class Naive:
    def __init__(self, detector):
        from mtcnn import MTCNN

        self.mtcnn = MTCNN()
        self.model = detector.classifier.model
        self.size = detector.classifier.input_size

    def score_image(self, image) -> float | None:
        import cv2

        from detector.preprocess import crop_face, resize_for_model

        scores = []
        for d in self.mtcnn.detect_faces(image, box_format="xyxy"):
            if d["confidence"] < 0.8:
                continue
            crop = cv2.resize(crop_face(image, d["box"]), (224, 224), interpolation=cv2.INTER_AREA)
            x = resize_for_model(crop[None], self.size).numpy()
            scores.append(float(self.model.predict(x, verbose=0)[0, 0]))
        return max(scores) if scores else None

    def score_video(self, path: str, n: int = 32) -> float | None:
        from detector.aggregate import aggregate
        from detector.decode import sample_frames

        frames = []
        for _, _, frame in sample_frames(path, n):
            s = self.score_image(frame)
            frames.append([s] if s is not None else [])
        return aggregate(frames)


def timed(fn, repeats: int):
    fn()  # warm-up
    out, times = None, []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, times


def pct(times, q):
    return float(np.percentile(times, q))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--videos", default=None, help="folder of test videos (e.g. ../shared/datasets/videos/Fake)")
    p.add_argument("--data", default=None, help="OpenForensics dataset for the AUC guard (Test split)")
    p.add_argument("--auc-limit", type=int, default=200, help="images per class for the AUC guard")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--long-minutes", type=float, default=10.0)
    p.add_argument("--model", default=None)
    p.add_argument("--out", default=str(ROOT / "artifacts" / "bench.json"))
    a = p.parse_args(argv)

    from detector.metrics import roc_auc
    from detector.pipeline import Detector

    det = Detector(model=a.model)
    naive = Naive(det)
    rows, report = [], {"model": det.card.name, "device": det.device, "cpu_count": os.cpu_count()}
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))

    # ---------------- videos
    videos = sorted(Path(a.videos).glob("*.mp4")) if a.videos else []
    synthetic = write_clip(tmp / "synthetic_720p_10s.mp4", 1280, 720, 10)
    long_clip = write_clip(tmp / f"synthetic_360p_{a.long_minutes:g}min.mp4", 640, 360, a.long_minutes * 60)
    short_360 = write_clip(tmp / "synthetic_360p_10s.mp4", 640, 360, 10)
    report["videos"] = {}
    max_diff, same_verdicts = 0.0, True
    for v in [*videos, synthetic, short_360, long_clip]:
        res, times = timed(lambda: det.analyse_video(str(v)), a.repeats if v != long_clip else max(2, a.repeats // 2))
        base, btimes = timed(lambda: naive.score_video(str(v)), 1) if v != long_clip else (None, [float("nan")])
        t = statistics.median(times)
        entry = {"seconds_p50": t, "seconds_all": times, "frames": len(res.frames), "faces": len(res.faces),
                 "stages": res.timings, "fake_probability": res.fake_probability, "verdict": res.verdict,
                 "naive_seconds": btimes[0], "naive_fake_probability": base,
                 "speedup": btimes[0] / t if v != long_clip else None}
        if base is not None and res.fake_probability is not None:
            # same sampled frames and aggregation as the naive path, except the per-person split
            max_diff = max(max_diff, abs(res.strategy_scores["confident_mean"] - base))
            same_verdicts &= (res.strategy_scores["confident_mean"] >= det.card.threshold) == (base >= det.card.threshold)
        report["videos"][v.name] = entry
        st = res.timings
        rows.append((f"video {v.name}", f"{t:.2f} s", f"{btimes[0]:.2f} s" if v != long_clip else "-",
                     f"{entry['speedup']:.1f}x" if entry["speedup"] else "-",
                     f"decode-wait {st['decode']:.2f} / detect {st['detect']:.2f} / classify {st['classify']:.2f} / "
                     f"aggregate {st['aggregate']:.3f}"))
    if long_clip and short_360:
        ratio = report["videos"][long_clip.name]["seconds_p50"] / report["videos"][short_360.name]["seconds_p50"]
        report["long_over_short"] = ratio
        rows.append((f"{a.long_minutes:g}-min / 10-s clip (360p)", f"{ratio:.2f}x", "", "", "target <= 2x"))

    # ---------------- images
    report["images"] = {}
    for (w, h, n) in [(1280, 720, 1), (1280, 720, 5), (640, 480, 1), (640, 480, 5)]:
        img = canvas(w, h, n)
        res, times = timed(lambda: det.analyse_image(img), a.repeats * 2)
        base, btimes = timed(lambda: naive.score_image(img), max(2, a.repeats // 2))
        entry = {"p50_s": pct(times, 50), "p95_s": pct(times, 95), "faces": len(res.faces),
                 "naive_p50_s": pct(btimes, 50), "speedup": pct(btimes, 50) / pct(times, 50),
                 "fake_probability": res.fake_probability, "naive_fake_probability": base}
        if base is not None and res.fake_probability is not None:
            max_diff = max(max_diff, abs(res.fake_probability - base))
            same_verdicts &= (res.fake_probability >= det.card.threshold) == (base >= det.card.threshold)
        report["images"][f"{w}x{h} {n} face(s)"] = entry
        rows.append((f"image {w}x{h}, {n} face(s) [{len(res.faces)} found]",
                     f"p50 {1000 * entry['p50_s']:.0f} ms / p95 {1000 * entry['p95_s']:.0f} ms",
                     f"{1000 * entry['naive_p50_s']:.0f} ms", f"{entry['speedup']:.1f}x", ""))

    # ---------------- accuracy guard
    report["accuracy_guard"] = {"max_score_difference": max_diff, "same_verdicts": bool(same_verdicts)}
    if a.data:
        from data_prep.dataset import find_split
        from detector.decode import load_image

        s = find_split(a.data, "Test")
        items = [x for y in (0, 1) for x in [it for it in zip(s.paths, s.labels) if it[1] == y][: a.auc_limit]]
        ys = [y for _, y in items]
        imgs = [load_image(pth) for pth, _ in items]
        fast = [r.fake_probability for i in range(0, len(imgs), 16)
                for r in det.analyse_images(imgs[i : i + 16], ["x"] * len(imgs[i : i + 16]))]
        slow = [naive.score_image(im) for im in imgs]
        auc_fast = roc_auc(ys, [0.5 if v is None else v for v in fast])
        auc_slow = roc_auc(ys, [0.5 if v is None else v for v in slow])
        report["accuracy_guard"].update({"auc_fast": auc_fast, "auc_naive": auc_slow, "auc_images": len(items)})
        rows.append((f"AUC guard ({len(items)} Test images)", f"fast {auc_fast:.4f}", f"naive {auc_slow:.4f}",
                     f"diff {auc_fast - auc_slow:+.4f}", "target: drop <= 0.01"))
    rows.append(("accuracy guard", f"same verdicts: {same_verdicts}", f"max |score diff| {max_diff:.4f}", "", ""))

    # ---------------- cold start and memory
    img_path = tmp / "cold.jpg"
    import cv2

    cv2.imwrite(str(img_path), cv2.cvtColor(canvas(1280, 720, 1), cv2.COLOR_RGB2BGR))
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "detector", str(img_path), "--no-progress"], cwd=ROOT, capture_output=True,
                   check=True)
    report["cold_start_s"] = time.perf_counter() - t
    report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(("cold start: fresh process to first verdict", f"{report['cold_start_s']:.1f} s", "", "", "target <= 15 s"))
    rows.append(("peak RSS of this benchmark process", f"{report['peak_rss_mb']:.0f} MB", "", "", ""))

    head = ("case", "ours", "naive", "speed-up", "notes")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(5)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(report, indent=2, default=float))
    print(f"\nwrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
