"""Re-synthesised pseudo-fakes (AutoGAN, Zhang et al. 2019): real faces passed through a small auto-encoder
trained here on real faces, labelled fake. Generators up-sample with transposed convolutions and leave the same
kind of trace (a periodic pattern in the spectrum) whatever they draw; a detector that learns that trace from
re-syntheses of real faces may catch generated faces it never saw, without any generated face in training.

    python -m data_prep.resynth ../shared/datasets/dfdc-faces ~/.cache/deepfake-detector/datasets/utkface-crops \
        --out ~/.cache/deepfake-detector/datasets/resynth --limit 2000
    python train.py --data ... ~/.cache/deepfake-detector/datasets/resynth ...

The output folder is an OpenForensics-layout dataset: Real = links to the source reals, Fake = their
re-syntheses (same size), with a pairs.csv that keeps each next to its source in training batches. Whether it pays
is measured by training without any GAN face and scoring GAN faces (docs/training.md).

Generator twins: `--autoencoder taef2 --weights ../shared/weights/taef2/taef2.npz --size 160` re-draws each real
with TAEF2 (data_prep/taef2.py, the FLUX.2 VAE's tiny auto-encoder: nothing is trained here). With --size both twins
are written at that side with the same JPEG quality (the real is re-encoded, not linked), so the pair differs
only in the decoder's traces, not in size or compression.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from .dataset import save_jpeg, write_pairs

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def build_autoencoder(width: int = 32):
    """Fully convolutional (any input side divisible by 8): three stride-2 convolutions down, three stride-2
    transposed convolutions up, as in the CycleGAN generator AutoGAN simulates. 0-255 in, 0-255 out."""
    import keras
    from keras import layers

    inputs = keras.Input((None, None, 3))
    x = layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    for k in (1, 2, 4):
        x = layers.Conv2D(width * k, 4, strides=2, padding="same", activation="relu")(x)
    for k in (2, 1):
        x = layers.Conv2DTranspose(width * k, 4, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh")(x)
    outputs = layers.Rescaling(127.5, offset=127.5)(x)
    return keras.Model(inputs, outputs, name="resynth_autoencoder")


def _reals(data: Path, split: str, limit: int) -> list[str]:
    from detector.evaluate import find_labelled_split

    s = find_labelled_split(str(data), split)
    reals = sorted(p for p, y in zip(s.paths, s.labels) if y == 0)
    return reals[:limit] if limit else reals


def train_autoencoder(paths: list[str], epochs: int = 3, patch: int = 96, batch: int = 16, seed: int = 0):
    """L1 reconstruction on random patches of real faces (the whole face is not needed: the net is convolutional)."""
    import keras
    import tensorflow as tf

    def patch_of(path):  # face crops here are >= patch wide (data_prep.extract writes 224 px)
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        return tf.image.random_crop(tf.cast(image, tf.float32), (patch, patch, 3))

    keras.utils.set_random_seed(seed)
    ds = (tf.data.Dataset.from_tensor_slices(paths).shuffle(len(paths), seed=seed)
          .map(patch_of, num_parallel_calls=tf.data.AUTOTUNE)
          .map(lambda x: (x, x)).batch(batch, drop_remainder=True).prefetch(2))
    model = build_autoencoder()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mae")
    model.fit(ds, epochs=epochs, verbose=2)
    return model


def resynthesise(model, image: np.ndarray) -> np.ndarray:
    """An RGB uint8 face -> its re-synthesis, the same size (padded by reflection to a multiple of 8)."""
    return resynthesise_batch(model, [image])[0]


def resynthesise_batch(model, images: list[np.ndarray]) -> list[np.ndarray]:
    """Faces of one size in one call (the auto-encoders are convolutional: batching is what makes them affordable)."""
    h, w = images[0].shape[:2]
    ph, pw = -h % 8, -w % 8
    x = np.stack([np.pad(im, ((0, ph), (0, pw), (0, 0)), mode="reflect") for im in images]).astype(np.float32)
    out = np.asarray(model(x, training=False))[:, :h, :w]
    return list(np.clip(np.rint(out), 0, 255).astype(np.uint8))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def make_resynth_dataset(data: list[Path], out: Path, limit: int = 0, epochs: int = 3, seed: int = 0,
                         weights: Path | None = None, size: int = 0, batch: int = 8) -> dict:
    """Real faces of each dataset's Train and Validation splits beside their re-syntheses. weights: TAEF2's npz
    (no training); otherwise an auto-encoder is trained on the Train reals. size: write both twins at this side."""
    import cv2

    from detector.decode import load_image

    out.mkdir(parents=True, exist_ok=True)
    if weights:
        from .taef2 import build_taef2

        model = build_taef2(weights)
    else:
        model = train_autoencoder([p for d in data for p in _reals(d, "Train", limit)], epochs=epochs, seed=seed)
        model.save(out / "autoencoder.keras")

    stats, rows = {}, []
    for split in ("Train", "Validation"):
        (out / split / "Real").mkdir(parents=True, exist_ok=True)
        (out / split / "Fake").mkdir(parents=True, exist_ok=True)
        made, quality = 0, []
        for d in data:
            reals = _reals(d, split, limit)
            todo = []
            for path in reals:
                name = f"{d.name}-{Path(path).stem}"
                real, fake = out / split / "Real" / f"{name}.jpg", out / split / "Fake" / f"{name}_rs.jpg"
                rows += [(f"{split}/Real/{name}.jpg", name), (f"{split}/Fake/{name}_rs.jpg", name)]
                if not fake.exists():  # a rerun goes on where it stopped
                    todo.append((path, real, fake))
            made += len(reals) - len(todo)
            for i in range(0, len(todo), batch):
                group = todo[i : i + batch]
                images = [load_image(p) for p, _, _ in group]
                if size:
                    images = [cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA) for im in images]
                same = all(im.shape == images[0].shape for im in images)
                fakes = resynthesise_batch(model, images) if same else [resynthesise(model, im) for im in images]
                for (path, real, fake_path), image, fake in zip(group, images, fakes):
                    if size:
                        save_jpeg(real, image)  # re-encoded like its twin: the pair differs only in the decoder
                    elif not real.exists():
                        os.symlink(os.path.abspath(path), real)  # no copy of the source data
                    save_jpeg(fake_path, fake)
                    quality.append(psnr(image, fake))
                made += len(group)
                print(f"\r{split} {d.name}: {made} done", end="", file=sys.stderr)
            print(file=sys.stderr)
        stats[split] = made
        if quality:
            stats[f"{split}_psnr_db"] = round(float(np.mean(quality)), 1)
    write_pairs(out, rows)
    return stats


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", nargs="+", type=Path, help="OpenForensics-layout datasets whose Real faces are used")
    p.add_argument("--out", type=Path, required=True, help="output dataset folder (outside the repository)")
    p.add_argument("--limit", type=int, default=0, help="at most this many reals per dataset and split (0: all)")
    p.add_argument("--epochs", type=int, default=3, help="auto-encoder epochs (default %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--autoencoder", choices=("train", "taef2"), default="train",
                   help="train a small auto-encoder here, or re-draw with TAEF2 (needs --weights)")
    p.add_argument("--weights", type=Path, help="taef2.npz (../shared/weights/taef2)")
    p.add_argument("--size", type=int, default=0, help="write both twins at this side (0: the source's size, reals linked)")
    a = p.parse_args(argv)
    if a.autoencoder == "taef2" and not (a.weights and a.weights.is_file()):
        p.error("--autoencoder taef2 needs --weights PATH/taef2.npz")
    weights = a.weights if a.autoencoder == "taef2" else None
    print(make_resynth_dataset(a.data, a.out, a.limit, a.epochs, a.seed, weights=weights, size=a.size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
