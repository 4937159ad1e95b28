"""Which video aggregation wins on labelled clips: real clips written with OpenCV from real face photos, the same
clips self-blended in every frame (a whole-clip "swap") or from part-way through (a swap that starts mid-clip),
and the real DFDC fakes.

    python bench/aggregation_clips.py ../shared/datasets/lfw-real ../shared/datasets/utkface-real \\
        --videos ../shared/datasets/videos/Fake --clips 40

Each source is an OpenForensics-layout dataset (or a plain folder of photos); only its Validation/Real photos
are used (Test never chooses anything). A real clip is the photo on a larger canvas (a smoothly shaded plain backdrop
behind it) filmed by a slowly panning and zooming, slightly shaky camera with sensor noise, written by
`cv2.VideoWriter` (mp4v: blocky, JPEG-like compression). Its fake twin is the same frames with
`data_prep.sbi.self_blend` applied to the face in every frame: landmarks from MTCNN (`detector.faces`) on each
frame, and the rng reseeded with the clip's seed for every frame, so the blend's colour shift, misalignment
and mask stay the same through the clip, as a real swap's would. The partial twin is blended only from a
random point 40-70 % of the way in. Photos where MTCNN misses the face in more than 10 % of frames are skipped.

Every clip goes once through the real pipeline (`Detector.analyse_video`, the bundled model, 32 sampled frames);
each strategy in `detector.aggregate.STRATEGIES` is then applied with `pipeline.decide` (per person, the video
as fake as its most fake person: exactly what the app and CLI report with that strategy). Per strategy: AUC
over clips, accuracy at the card's threshold, real clips called fake, fake clips missed and the share called
inconclusive by the card's band. Clips, per-clip face scores (`scores.jsonl`, reused on a rerun) and
`results.json` go to --out (default ~/.cache/deepfake-detector/agg-clips), never into the repository.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

DEFAULT_OUT = Path.home() / ".cache" / "deepfake-detector" / "agg-clips"
KINDS = ("real", "fake", "partial")  # partial: blended from part-way through


# ------------------------------------------------------------------ clips
def camera_path(n: int, size: tuple[int, int], rng: np.random.Generator) -> list[np.ndarray]:
    """n 2x3 affine matrices: a slow zoom (in or out, up to 12 %), a slow pan (up to 5 % of the width), a
    slight roll and a hand-held wobble of a pixel or two."""
    import cv2

    w, h = size
    z0, z1 = 1.0, 1.0 + rng.uniform(0.03, 0.12)
    if rng.random() < 0.5:
        z0, z1 = z1, z0
    pan = rng.uniform(-0.05, 0.05, 2) * (w, h * 0.5)
    roll = rng.uniform(-1.5, 1.5)
    freq, phase = rng.uniform(0.5, 2.0, 2), rng.uniform(0, 2 * np.pi, 2)
    out = []
    for i in range(n):
        t = i / max(n - 1, 1)
        z = z0 + (z1 - z0) * t
        shake = 1.5 * np.sin(2 * np.pi * freq * t * 3 + phase)
        cx, cy = w / 2 + pan[0] * (t - 0.5) + shake[0], h / 2 + pan[1] * (t - 0.5) + shake[1]
        m = cv2.getRotationMatrix2D((w / 2, h / 2), roll * t, z)
        m[:, 2] += (w / 2 - cx, h / 2 - cy)
        out.append(m)
    return out


def scene(photo: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The photo scaled to ~60 % of the canvas height, soft-edged, on a smoothly shaded plain backdrop."""
    import cv2

    w, h = size
    ph, pw = photo.shape[:2]
    s = h * rng.uniform(0.55, 0.65) / ph
    fg = cv2.resize(photo, (round(pw * s), round(ph * s)), interpolation=cv2.INTER_CUBIC)
    # a plain room-like backdrop: the photo's border colour, a smooth random shading (no second face in it)
    border = np.concatenate([photo[:4].reshape(-1, 3), photo[-4:].reshape(-1, 3),
                             photo[:, :4].reshape(-1, 3), photo[:, -4:].reshape(-1, 3)]).astype(np.float32)
    low = rng.normal(0, 20, (4, 6, 1)) + rng.normal(0, 4, (4, 6, 3))  # mostly light and shade, a little tint
    shade = cv2.resize(low.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    bg = np.clip(border.mean(axis=0) * 0.8 + shade, 0, 255).astype(np.float32)
    fh, fw = fg.shape[:2]
    x = int((w - fw) / 2 + rng.uniform(-0.15, 0.15) * w)
    y = int((h - fh) / 2 + rng.uniform(-0.05, 0.05) * h)
    alpha = np.zeros((fh, fw), np.float32)
    e = max(fh // 12, 2)
    alpha[e:-e, e:-e] = 1.0
    alpha = cv2.GaussianBlur(alpha, (0, 0), e / 2)[..., None]
    out = bg.copy()
    out[y : y + fh, x : x + fw] = alpha * fg + (1 - alpha) * bg[y : y + fh, x : x + fw]
    return out


def render(photo: np.ndarray, n: int, size: tuple[int, int], rng: np.random.Generator) -> list[np.ndarray]:
    """The real clip's frames (RGB uint8) before the codec: camera motion, a slow exposure drift, sensor noise."""
    import cv2

    base = scene(photo, size, rng)
    gain = 1 + rng.uniform(-0.04, 0.04) * np.linspace(0, 1, n)
    sigma = rng.uniform(1.5, 3.5)
    frames = []
    for m, g in zip(camera_path(n, size, rng), gain):
        f = cv2.warpAffine(base, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        f = f * g + rng.normal(0, sigma, f.shape).astype(np.float32)
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
    return frames


def blend_face(frame: np.ndarray, face, seed: int, grow: float = 1.75) -> np.ndarray:
    """`frame` with the face self-blended (data_prep.sbi.self_blend, its rng seeded with `seed`) inside a square
    `grow` times the training crop (so its misalignment is on the scale training saw), faded out over the
    square's outer 12 % so that no seam is left where a large mask meets the square's edge."""
    import cv2

    from data_prep.sbi import self_blend
    from detector.preprocess import crop_box

    h, w = frame.shape[:2]
    x1, y1, x2, y2 = crop_box(face.box, frame.shape)
    cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, grow * (x2 - x1) / 2
    X1, Y1 = max(int(cx - half), 0), max(int(cy - half), 0)
    X2, Y2 = min(int(cx + half), w), min(int(cy + half), h)
    region = frame[Y1:Y2, X1:X2]
    lm = {k: (x - X1, y - Y1) for k, (x, y) in face.landmarks.items()}
    blended = self_blend(region, lm, np.random.default_rng(seed)).astype(np.float32)
    rh, rw = region.shape[:2]
    e = max(int(0.12 * min(rh, rw)), 1)
    window = np.zeros((rh, rw), np.float32)
    window[e:-e, e:-e] = 1.0
    window = cv2.GaussianBlur(window, (0, 0), e / 2)[..., None]
    out = frame.copy()
    out[Y1:Y2, X1:X2] = np.clip(region + window * (blended - region), 0, 255).astype(np.uint8)
    return out


def write_video(path: Path, frames: list[np.ndarray], fps: float) -> None:
    import cv2

    h, w = frames[0].shape[:2]
    tmp = path.with_name(path.stem + ".part" + path.suffix)
    vw = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not vw.isOpened():
        raise RuntimeError(f"OpenCV cannot write {tmp}")
    for f in frames:
        vw.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    vw.release()
    os.replace(tmp, path)  # an interrupted run never leaves a short clip behind under the final name


def make_clips(photo: np.ndarray, out: dict[str, Path], faces, seed: int, n: int = 60, fps: float = 20.0,
               size: tuple[int, int] = (640, 360), min_found: float = 0.9) -> dict | None:
    """Write the real, fake and partial clips of one photo (`out` maps each of KINDS to a path; any subset).
    `faces` is a detector.faces.FaceDetector (or anything with its `detect`). Returns the clip's facts, or
    None (nothing written) when MTCNN finds the face in fewer than `min_found` of the frames."""
    rng = np.random.default_rng(seed)
    frames = render(photo, n, size, rng)
    found = faces.detect(frames)
    if sum(bool(f) for f in found) < min_found * n:
        return None
    blend_seed = int(rng.integers(2**31))
    start = int(n * rng.uniform(0.4, 0.7))
    fakes = [blend_face(fr, fs[0], blend_seed) if fs else fr for fr, fs in zip(frames, found)]
    clips = {"real": frames, "fake": fakes, "partial": frames[:start] + fakes[start:]}
    for kind, path in out.items():
        write_video(path, clips[kind], fps)
    return {"frames": n, "fps": fps, "size": list(size), "seed": seed, "blend_seed": blend_seed,
            "partial_start": start, "face_found": sum(bool(f) for f in found)}


def photos_of(source: Path) -> list[str]:
    """Validation/Real photos of an OpenForensics-layout source, else every image in the folder."""
    from detector.datasets import IMAGE_SUFFIXES, DatasetError, find_split

    try:
        split = find_split(source, "Validation", classes=("real",))
        return split.paths
    except DatasetError:
        return sorted(str(p) for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


# ------------------------------------------------------------------ metrics
def summarise(labels, scores, calls, threshold: float) -> dict:
    from detector.metrics import bootstrap_interval, roc_auc

    y, s, c = np.asarray(labels, int), np.asarray(scores, float), np.asarray(calls)
    fake = s >= threshold
    return {"n_real": int((y == 0).sum()), "n_fake": int((y == 1).sum()), "auc": roc_auc(y, s),
            "auc_95": bootstrap_interval(y, s, roc_auc),
            "accuracy": float((fake == (y == 1)).mean()),
            "real_called_fake": float(fake[y == 0].mean()) if (y == 0).any() else float("nan"),
            "fake_missed": float((~fake[y == 1]).mean()) if (y == 1).any() else float("nan"),
            "inconclusive": float((c == "inconclusive").mean()),
            "inconclusive_real": float((c[y == 0] == "inconclusive").mean()) if (y == 0).any() else float("nan"),
            "inconclusive_fake": float((c[y == 1] == "inconclusive").mean()) if (y == 1).any() else float("nan"),
            "real_called_likely_fake": float((c[y == 0] == "likely_fake").mean()) if (y == 0).any() else float("nan"),
            "fake_called_likely_real": float((c[y == 1] == "likely_real").mean()) if (y == 1).any() else float("nan")}


def analyse(detector, path: Path, n_frames: int) -> dict:
    """One pipeline run; the faces' scores and, per strategy, the score and call the pipeline gives with it."""
    from detector.aggregate import STRATEGIES
    from detector.pipeline import decide

    res = detector.analyse_video(str(path), n_frames=n_frames)
    row = {"faces": [{"frame": f.frame, "person": f.person, "p": f.fake_probability, "confidence": f.confidence}
                     for f in res.faces], "sampled": len(res.frames), "model": res.model,
           "threshold": res.threshold, "band": list(res.band) if res.band else None,
           "by_strategy": {}}
    for name in STRATEGIES:
        decide(res, res.threshold, name, card=detector.card)
        row["by_strategy"][name] = {"p": res.fake_probability, "call": res.call,
                                    "persons": [(p.person, p.n_faces, p.counted, p.fake_probability, p.call)
                                                for p in res.persons]}
    return row


def progress_line(i: int, n: int, t0: float, what: str) -> None:
    rate = (time.time() - t0) / max(i, 1)
    print(f"\r[{i}/{n}] {what[:48]:<48} {rate:5.1f} s each, ~{rate * (n - i) / 60:4.1f} min left", end="",
          file=sys.stderr, flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sources", nargs="+", type=Path, help="real-photo datasets (their Validation/Real is used)")
    p.add_argument("--videos", type=Path, nargs="*", default=[ROOT.parent / "shared/datasets/videos/Fake"],
                   help="folders of real fake videos (label fake) to include")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--clips", type=int, default=40, help="real clips in all (spread over the sources)")
    p.add_argument("--no-partial", action="store_true", help="no swap-starts-mid-clip fakes")
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--fps", type=float, default=20.0)
    p.add_argument("--size", default="640x360")
    p.add_argument("--n-frames", type=int, default=32, help="frames the pipeline samples per clip")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    size = tuple(int(v) for v in a.size.lower().split("x"))
    kinds = ("real", "fake") if a.no_partial else KINDS

    from detector.decode import load_image
    from detector.faces import FaceDetector

    a.out.mkdir(parents=True, exist_ok=True)
    manifest_path = a.out / "clips.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    faces = None
    # 1. clips, spread evenly over the sources, photos in a seeded random order (skipping faces MTCNN misses)
    per_source = [a.clips // len(a.sources) + (i < a.clips % len(a.sources)) for i in range(len(a.sources))]
    t0, done = time.time(), 0
    clips: list[tuple[str, Path, int, str]] = []  # name, path, label, group
    for src, want in zip(a.sources, per_source):
        paths = photos_of(src)
        order = np.random.default_rng([a.seed, len(paths)]).permutation(len(paths))
        got = 0
        for j in order:
            if got == want:
                break
            stem = f"{src.name}_{Path(paths[j]).stem}"
            out = {k: a.out / f"{stem}_{k}.mp4" for k in kinds}
            if stem not in manifest or not all(pth.exists() for pth in out.values()):
                if stem in manifest and manifest[stem] is None:
                    continue  # tried before: face not found often enough
                faces = faces or FaceDetector(min_confidence=0.8)
                facts = make_clips(load_image(paths[j]), out, faces, seed=int(a.seed * 100003 + j),
                                   n=int(round(a.seconds * a.fps)), fps=a.fps, size=size)
                manifest[stem] = None if facts is None else {**facts, "photo": paths[j]}
                manifest_path.write_text(json.dumps(manifest, indent=1))
            if manifest[stem] is None:
                continue
            got += 1
            done += 1
            clips += [(f"{stem}_{k}", out[k], int(k != "real"), k) for k in kinds]
            progress_line(done, a.clips, t0, f"clips: {stem}")
        if got < want:
            print(f"\n{src}: only {got} of {want} photos had a face MTCNN found in >= 90 % of frames", file=sys.stderr)
    print(file=sys.stderr)
    for folder in a.videos:
        clips += [(f"dfdc_{v.stem}", v, 1, "dfdc") for v in sorted(folder.glob("*.mp4"))]

    # 2. one pipeline run per clip (reused from scores.jsonl when the same model scored the same clip before)
    from detector.aggregate import DEFAULT_STRATEGY, STRATEGIES
    from detector.pipeline import Detector

    detector = Detector()
    card = detector.card
    scores_path = a.out / "scores.jsonl"
    cached = {}
    if scores_path.exists():
        for line in scores_path.read_text().splitlines():
            r = json.loads(line)
            cached[(r["name"], r["model"], r["n_frames"])] = r
    rows, t0 = [], time.time()
    todo = [c for c in clips if (c[0], card.name, a.n_frames) not in cached]
    k = 0
    for name, path, label, group in clips:
        r = cached.get((name, card.name, a.n_frames))
        if r is None:
            k += 1
            r = {"name": name, "label": label, "group": group, "n_frames": a.n_frames, "path": str(path),
                 **analyse(detector, path, a.n_frames)}
            with open(scores_path, "a") as f:
                f.write(json.dumps(r) + "\n")
            progress_line(k, len(todo), t0, f"pipeline: {name}")
        rows.append(r)
    print(file=sys.stderr)

    # 3. metrics per strategy: clips where no face was found get no score (counted, left out)
    threshold, band = card.threshold, card.band_at()
    no_face = [r["name"] for r in rows if r["by_strategy"][DEFAULT_STRATEGY]["p"] is None]
    scored = [r for r in rows if r["name"] not in no_face]
    sets = {"whole-clip fakes": ("real", "fake"), "partial fakes": ("real", "partial"),
            "all": ("real", "fake", "partial")}
    if a.no_partial:
        sets = {"whole-clip fakes": ("real", "fake")}
    results = {"model": card.name, "threshold": threshold, "band": list(band), "default": DEFAULT_STRATEGY,
               "clips": {g: sum(r["group"] == g for r in rows) for g in (*kinds, "dfdc")}, "no_face": no_face,
               "command": "python bench/aggregation_clips.py " + " ".join(sys.argv[1:] if argv is None else argv),
               "strategies": {}, "dfdc": {}}
    print(f"\nmodel {card.name}, threshold {threshold:.3f}, band {band[0]:.2f}-{band[1]:.2f}; clips: "
          + ", ".join(f"{v} {g}" for g, v in results["clips"].items()) + (f"; no face: {no_face}" if no_face else ""))
    print("\n| strategy | clips | AUC (95 % bootstrap) | accuracy @ threshold | real called fake | fakes missed "
          "| inconclusive |")
    print("|---|---|---|---|---|---|---|")
    for name in STRATEGIES:
        results["strategies"][name] = {}
        for set_name, groups in sets.items():
            sel = [r for r in scored if r["group"] in groups]
            m = summarise([r["label"] for r in sel], [r["by_strategy"][name]["p"] for r in sel],
                          [r["by_strategy"][name]["call"] for r in sel], threshold)
            results["strategies"][name][set_name] = m
            print(f"| {name}{' (default)' if name == DEFAULT_STRATEGY else ''} | real + {set_name} "
                  f"({m['n_real']}+{m['n_fake']}) | {m['auc']:.3f} ({m['auc_95'][0]:.2f}-{m['auc_95'][1]:.2f}) "
                  f"| {m['accuracy']:.1%} | {m['real_called_fake']:.1%} | {m['fake_missed']:.1%} "
                  f"| {m['inconclusive']:.1%} |")
    dfdc = [r for r in scored if r["group"] == "dfdc"]
    if dfdc:
        print("\nDFDC fakes: " + "; ".join(
            r["name"] + " " + ", ".join(f"{n} {r['by_strategy'][n]['p']:.3f} ({r['by_strategy'][n]['call']})"
                                        for n in STRATEGIES) for r in dfdc))
        results["dfdc"] = {r["name"]: r["by_strategy"] for r in dfdc}
    (a.out / "results.json").write_text(json.dumps(results, indent=1))
    print(f"\nwritten: {a.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
