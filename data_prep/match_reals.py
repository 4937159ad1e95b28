"""Give a source's fakes reals of their own kind: for each fake, the most similar real photo from a pool.

    D=~/.cache/deepfake-detector/datasets; S=../shared/datasets
    python -m data_prep.match_reals $D/stylegan-crops --pool $D/stylegan-crops $D/utkface-crops \\
        $S/portraits-real $S/dfdc-faces --out $D/stylegan-matched

A source without twins teaches its kind of photo as the label. In the stylegan pairs the StyleGAN2 faces are
frontal, smiling and evenly lit, their Unsplash reals are often in profile, moody or black and white; a model
trained on them calls frontal smiling press photos fake (issue 36). Here, split by split, each fake is paired with
its nearest real in the pooled features of ImageNet EfficientNet-Lite0 (what the photo shows: pose, expression,
light, colour), each real used once, so that the kind of photo no longer tells the classes apart and what is left
to learn is how the face was made. Fakes and chosen reals are linked unchanged; `matches.csv` lists the pairs.

Measured on the recipe without LFW (docs/training.md, session 21): matched reals kept the unseen portraits from
being called fake at three times the GAN share, but left LFW's frontal press photos where they were.
"""
from __future__ import annotations

import argparse
import csv
import functools
import sys
from pathlib import Path

import numpy as np

from detector.datasets import SPLITS, DatasetError, find_split

from .dataset import link_unchanged

FEATURE_SIZE = 224  # ImageNet's input side


@functools.cache
def _feature_net():
    """ImageNet Lite0 up to its pooled features, built once per process (embed runs per split and per pool)."""
    import keras

    from training.backbones import build_lite0_imagenet, load_lite0_imagenet

    net = build_lite0_imagenet(FEATURE_SIZE)
    load_lite0_imagenet(net)
    return keras.Model(net.inputs, net.get_layer("avg_pool").output)


def embed(paths: list[str], batch: int = 64) -> np.ndarray:
    """L2-normalised ImageNet Lite0 pooled features (N, 1280) of the images at `paths`."""
    import cv2

    from detector.decode import load_image

    pooled = _feature_net()
    out = []
    for i in range(0, len(paths), batch):
        images = [cv2.resize(load_image(p), (FEATURE_SIZE, FEATURE_SIZE), interpolation=cv2.INTER_AREA)
                  for p in paths[i:i + batch]]
        out.append(np.asarray(pooled([np.stack(images).astype(np.float32)], training=False)))
    f = np.concatenate(out) if out else np.zeros((0, 1280), np.float32)
    return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)


def nearest_once(fakes: np.ndarray, reals: np.ndarray, seed: int = 0) -> np.ndarray:
    """For each fake row, the index of its most similar real row (cosine), no real chosen twice. Fakes take
    their turn in a seeded random order, so no part of the fake set has first pick."""
    if len(reals) < len(fakes):
        raise ValueError(f"{len(reals)} reals in the pool cannot give {len(fakes)} fakes one each")
    sim = fakes @ reals.T
    taken = np.zeros(len(reals), bool)
    chosen = np.empty(len(fakes), int)
    for i in np.random.default_rng(seed).permutation(len(fakes)):
        s = np.where(taken, -np.inf, sim[i])
        chosen[i] = int(s.argmax())
        taken[chosen[i]] = True
    return chosen


def _pool(pools: list[Path], split: str, limit: int, seed: int) -> tuple[list[str], list[str]]:
    """(paths, pool name of each) of the reals of every pool's split, at most `limit` from each."""
    rng = np.random.default_rng(seed)
    paths, names = [], []
    for pool in pools:
        try:
            reals = find_split(pool, split, classes=("real",)).paths
        except DatasetError:
            continue
        if len(reals) > limit:
            reals = [reals[i] for i in sorted(rng.choice(len(reals), limit, replace=False))]
        paths += reals
        names += [pool.name] * len(reals)
    return paths, names


def _link(path: str, folder: Path, prefix: str = "") -> None:
    link_unchanged(path, folder / (prefix + Path(path).name))


def match(src: Path, pools: list[Path], out: Path, limit: int = 4000, seed: int = 0) -> dict[str, dict[str, int]]:
    """Per split of `src`: its fakes linked into out/<split>/Fake, each one's matched real into out/<split>/Real
    (named after its pool, so two pools' files cannot collide). Returns {split: {pool: reals chosen}}."""
    counts = {}
    for split in SPLITS:
        try:
            fakes = find_split(src, split, classes=("fake",)).paths
        except DatasetError:
            continue
        reals, names = _pool(pools, split, limit, seed)
        if not reals:
            continue
        f_fake, f_real = embed(fakes), embed(reals)
        chosen = nearest_once(f_fake, f_real, seed)
        (out / split / "Fake").mkdir(parents=True, exist_ok=True)
        (out / split / "Real").mkdir(parents=True, exist_ok=True)
        with open(out / split / "matches.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["fake", "real", "pool", "cosine"])
            for i, j in enumerate(chosen):
                _link(fakes[i], out / split / "Fake")
                _link(reals[j], out / split / "Real", names[j] + "_")
                w.writerow([fakes[i], reals[j], names[j], f"{float(f_fake[i] @ f_real[j]):.4f}"])
        by_pool = {n: int(sum(names[j] == n for j in chosen)) for n in dict.fromkeys(names)}
        random_sim = float(np.mean(f_fake @ f_real.mean(0)))  # = the mean cosine over every (fake, real) pair
        matched_sim = float(np.mean(np.sum(f_fake * f_real[chosen], axis=1)))
        counts[split] = by_pool
        print(f"{split}: {len(fakes)} fakes, each matched to one of {len(reals)} reals ({by_pool}); mean cosine to "
              f"its match {matched_sim:.3f}, to any real of the pool {random_sim:.3f}", flush=True)
    return counts


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", type=Path, help="a dataset in the OpenForensics layout whose fakes need reals")
    p.add_argument("--pool", type=Path, nargs="+", required=True, help="datasets whose reals may be chosen")
    p.add_argument("--out", type=Path, required=True, help="the new dataset folder")
    p.add_argument("--limit", type=int, default=4000, help="reals drawn from each pool per split (default %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    return 0 if match(a.src, a.pool, a.out, a.limit, a.seed) else 1


if __name__ == "__main__":
    sys.exit(main())
