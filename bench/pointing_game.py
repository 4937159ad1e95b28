"""Do the heatmaps point at the manipulation? The pointing game on self-blended Validation faces.

    python bench/pointing_game.py ../shared/datasets/dfdc-faces ~/.cache/deepfake-detector/datasets/lfw-crops \
        ~/.cache/deepfake-detector/datasets/utkface-crops ~/.cache/deepfake-detector/datasets/stylegan-crops

Each Validation real face is self-blended (data_prep.sbi.blend_crop, as in training's SBI source), so where the
manipulation is is known: the blend mask. A map "hits" when its peak lies in the blended region (blend weight at
least half its maximum; Zhang et al. 2016's pointing game). Chance is the region's share of the crop, printed
beside each hit rate: a map that points at random scores that. Also printed: the share of each map's mass inside
the region, the hit rate on the faces the app shows a map for (called fake or inconclusive), ms per map, and a
control: how often the map of the same face *before* blending peaks in that region (a map that always lights up
the eyes wins on eye blends without pointing at anything; the gap between the two is what the map adds).
Validation only: Test is never used to choose.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def blended_faces(data: Path, n: int, part: str = "face", side: int = 224):
    """(name, real crop, fake crop, region) for the first n Validation reals of one dataset, blended deterministically
    (the whole face as in training, or one part of it alone)."""
    import cv2

    from data_prep.sbi import blend_crop
    from detector.decode import load_image
    from detector.evaluate import find_labelled_split

    split = find_labelled_split(data, "Validation")  # real-only sets too
    reals = sorted(p for p, y in zip(split.paths, split.labels) if y == 0)[:n]
    for i, path in enumerate(reals):
        image = cv2.resize(load_image(path), (side, side), interpolation=cv2.INTER_AREA)
        fake, mask = blend_crop(image, seed=10_000 + i, return_mask=True, part=part)
        yield Path(path).name, image, fake, mask >= 0.5 * mask.max()


def main(argv=None) -> int:
    from detector.explain import DEFAULT_METHOD, METHODS, heatmap
    from detector.model import load_classifier

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", nargs="+", type=Path, help="OpenForensics-layout datasets whose Validation reals are blended")
    p.add_argument("--per-source", type=int, default=100, help="faces per dataset (default %(default)s)")
    p.add_argument("--model", default=None, help="model name in models/ (default: the bundled default)")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--part", default="face", choices=("face", "eyes", "mouth", "nose"),
                   help="blend the whole face (training's blends; default) or one part alone (a small region)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--update-card", action="store_true",
                   help="record the figures in the model card (pointing_game.<part>), with this command")
    a = p.parse_args(argv)

    clf = load_classifier(a.model)
    low = clf.card.band_at()[0]
    rows = []  # one per face: source, score, chance, and per method hit / mass share
    for data in a.data:
        faces = list(blended_faces(data, a.per_source, a.part))
        scores = clf.score([f for _, _, f, _ in faces])
        for k, ((name, real, fake, region), score) in enumerate(zip(faces, scores)):
            row = {"source": data.name, "name": name, "score": float(score), "chance": float(region.mean())}
            for m in a.methods:
                t = time.perf_counter()
                cam = heatmap(clf, fake, m)
                row[f"{m}_ms"] = 1000 * (time.perf_counter() - t)
                peak = np.unravel_index(int(np.argmax(cam)), cam.shape)
                row[f"{m}_hit"] = bool(cam.max() > 0 and region[peak])
                row[f"{m}_mass"] = float((cam * region).sum() / cam.sum()) if cam.sum() > 0 else 0.0
                # the control: the map of the face before blending, scored against the same region. A map that
                # always peaks on, say, the eyes wins the game on eye blends without pointing at anything.
                prior = heatmap(clf, real, m)
                row[f"{m}_prior"] = bool(prior.max() > 0 and region[np.unravel_index(int(np.argmax(prior)), prior.shape)])
            rows.append(row)
            print(f"\r{data.name}: {k + 1}/{len(faces)}", end="", file=sys.stderr)
        print(file=sys.stderr)

    def summary(subset):
        s = {"faces": len(subset), "chance": float(np.mean([r["chance"] for r in subset]))}
        for m in a.methods:
            s[m] = {"pointing_game": float(np.mean([r[f"{m}_hit"] for r in subset])),
                    "mass_in_region": float(np.mean([r[f"{m}_mass"] for r in subset])),
                    "unblended_face_hit": float(np.mean([r[f"{m}_prior"] for r in subset])),
                    # the first maps trace the graph: the median is the warm cost
                    "ms_per_map": float(np.median([r[f"{m}_ms"] for r in subset]))}
        return s

    shown = [r for r in rows if r["score"] >= low]
    report = {"model": clf.card.name, "part": a.part, "default_method": DEFAULT_METHOD, "band_low": low,
              "all": summary(rows), "shown_a_map": summary(shown) if shown else None,
              "per_source": {src: summary([r for r in rows if r["source"] == src]) for src in dict.fromkeys(r["source"] for r in rows)}}
    print(f"model {clf.card.name}; {len(rows)} Validation faces, {a.part} self-blended; hit = map's peak inside the blend")
    print(f"{'method':<14}{'subset':<22}{'faces':>6}{'pointing':>10}{'chance':>8}{'mass in':>9}{'unblended':>10}{'ms/map':>8}")
    for label, s in [("all", report["all"]), (f"shown a map (>= {low:.3f})", report["shown_a_map"])] + \
            [(src, s) for src, s in report["per_source"].items()]:
        if not s:
            continue
        for m in a.methods:
            print(f"{m:<14}{label:<22}{s['faces']:>6}{100 * s[m]['pointing_game']:>9.1f}%{100 * s['chance']:>7.1f}%"
                  f"{100 * s[m]['mass_in_region']:>8.1f}%{100 * s[m]['unblended_face_hit']:>9.1f}%{s[m]['ms_per_map']:>8.0f}")
    if a.json:
        a.json.write_text(json.dumps(report, indent=2))
    if a.update_card:
        from detector.model import update_card

        update_card(clf.path.with_suffix(".json"), lambda card: card.setdefault("pointing_game", {}).__setitem__(
            a.part, dict({k: report[k] for k in ("default_method", "all", "shown_a_map")},
                         command="python bench/pointing_game.py " + " ".join(sys.argv[1:]).replace(" --update-card", ""))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
