"""Training data: sources of real/fake pairs (datasets with pairs.csv or random pairing, and self-blends made
on the fly), mixed by weight into batches where each real face sits beside its fake; Validation and Test sets."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from data_prep.dataset import find_split, read_pairs
from detector.preprocess import resize_for_model

from .augment import LEVELS, _appearance, _augment, _geometry, pair_colour, soften_real
from .crops import read_crop


def _sbi_pair(real, seed):
    """(real, its self-blend): the blend made by data_prep.sbi.blend_crop, deterministic for a given seed."""
    import tensorflow as tf

    from data_prep.sbi import blend_crop

    fake = tf.numpy_function(blend_crop, [real, seed], tf.uint8, stateful=False)
    fake.set_shape(real.shape)
    return tf.stack([real, fake])


@dataclass
class Source:
    """One kind of training data: real/fake path pairs, or (kind == "sbi") real paths blended on the fly."""
    name: str
    kind: str  # "pairs" | "sbi"
    train: list
    weight: float = 1.0
    val: dict = field(default_factory=lambda: {"paths": [], "labels": []})  # "sbi": paths of reals to blend
    augment: str | None = None  # its own --augment level (--augment-source); None: --augment


def _pair_stream(src: Source, seed: int):
    import tensorflow as tf

    items = np.array(src.train, dtype=object).astype(str)
    ds = tf.data.Dataset.from_tensor_slices(items).shuffle(len(items), seed=seed).repeat()
    if src.kind == "sbi":
        return ds.map(lambda p: _sbi_pair(read_crop(p), tf.random.uniform([], 0, 2**31 - 1, tf.int64)),
                      num_parallel_calls=tf.data.AUTOTUNE)
    return ds.map(lambda pp: tf.stack([read_crop(pp[0]), read_crop(pp[1])]), num_parallel_calls=tf.data.AUTOTUNE)


def train_dataset(sources: list[Source], args, seed: int, mask_cells: int = 0):
    """Batches in which each real face sits next to its fake (or, with --no-pairs, shuffled images); pairs
    drawn from the sources in proportion to their weights. With mask_cells (--mask-loss), the targets are
    {masks.VERDICT, masks.HEAD: where each crop differs from its pair's real (training/masks.py)}."""
    import tensorflow as tf

    from . import masks

    size, jitter, soften = args.input_size, args.framing_jitter, args.soften_reals
    colour_p, match = args.pair_colour, args.match_colour

    def pairs_of(src, i):  # a self-blend has its real's colours already
        stream = _pair_stream(src, seed + i)
        if colour_p > 0 or (match and src.kind == "pairs"):
            stream = stream.map(lambda pair: pair_colour(pair, colour_p, match and src.kind == "pairs"),
                                num_parallel_calls=tf.data.AUTOTUNE)
        return stream

    def augmented(src, i):  # each source at its own augmentation level, the same for real and fake
        level = src.augment or args.augment
        real_crop = lambda real: _augment(soften_real(real, soften), level, jitter)  # noqa: E731

        def pair_with_mask(pair):  # the mask of the raw pair, moved by the fake's own flip and framing
            mask, weight = masks.pair_mask(pair[0], pair[1], same_frame=src.kind == "sbi")
            fake_and_mask = _geometry(tf.concat([pair[1], mask], -1), jitter)
            crops = tf.stack([real_crop(pair[0]), _appearance(fake_and_mask[..., :3], level)])
            return crops, tf.stack([masks.nowhere(mask_cells), masks.mask_target(fake_and_mask[..., 3:], weight, mask_cells)])

        if mask_cells:
            return pairs_of(src, i).map(pair_with_mask, num_parallel_calls=tf.data.AUTOTUNE)
        return pairs_of(src, i).map(
            lambda pair: tf.stack([real_crop(pair[0]), _augment(pair[1], level, jitter)]),
            num_parallel_calls=tf.data.AUTOTUNE)

    streams = [augmented(src, i) for i, src in enumerate(sources)]
    weights = np.array([src.weight for src in sources], np.float64)
    ds = streams[0] if len(streams) == 1 else tf.data.Dataset.sample_from_datasets(
        streams, weights=list(weights / weights.sum()), seed=seed)
    verdicts = tf.constant([0.0, 1.0])
    if mask_cells:
        ds = ds.map(lambda pair, where: (pair, {masks.VERDICT: verdicts, masks.HEAD: where})).unbatch()
    else:
        ds = ds.map(lambda pair: (pair, verdicts)).unbatch()
    if args.no_pairs:
        ds = ds.shuffle(2048, seed=seed)
    ds = ds.batch(args.batch_size, drop_remainder=True)
    ds = ds.map(lambda x, y: (resize_for_model(x, size), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(2)


def eval_dataset(paths, labels, args, blend: bool = False):
    """Images as given; with blend=True, `paths` are reals and every odd label is the seeded blend of a real
    (labels must then be [0, 1, 0, 1, ...] with each path listed twice)."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((list(paths), np.asarray(labels, np.float32), np.arange(len(paths))))
    if blend:
        def load(p, y, i):
            img = read_crop(p)
            fake = _sbi_pair(img, tf.cast(i, tf.int64))[1]
            return tf.where(y > 0.5, fake, img), y
    else:
        def load(p, y, i):
            return read_crop(p), y
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(64)
    return ds.map(lambda x, y: (resize_for_model(x, args.input_size), y)).prefetch(2)


AUGMENT_FORM = f"NAME=LEVEL, LEVEL one of {', '.join(LEVELS)}"


def _level(name: str) -> str:
    if name not in LEVELS:
        raise ValueError(name)
    return name


def _parse_specs(specs, flag: str, convert=float, form: str = "NAME=WEIGHT") -> dict:
    """NAME=VALUE options (--source-weight, --augment-source) as {name: convert(value)}."""
    out = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name] = convert(value)
        except ValueError:
            raise SystemExit(f"error: {flag} wants {form}, got {spec!r}") from None
    return out


def load_sources(args):
    """The training sources, their validation sets, and the Test sets of the --data folders."""
    weights = _parse_specs(args.source_weight, "--source-weight")
    levels = _parse_specs(args.augment_source, "--augment-source", _level, AUGMENT_FORM)
    rng = np.random.default_rng(args.seed)
    sources, test = [], {}
    for root in args.data:
        name = Path(root).name
        src = Source(name, "pairs", read_pairs(root, find_split(root, "Train")), weights.get(name, 1.0))
        if args.max_train_pairs and len(src.train) > args.max_train_pairs:
            idx = rng.choice(len(src.train), args.max_train_pairs, replace=False)
            src.train = [src.train[i] for i in sorted(idx)]
        if args.validation is None or root in args.validation:
            v = find_split(root, "Validation")
            src.val = {"paths": v.paths, "labels": v.labels}
        sources.append(src)
        try:
            t = find_split(root, "Test")
            test[name] = {"paths": t.paths, "labels": t.labels}
        except ValueError as e:
            print(f"note: no Test split in {root} ({e})", file=sys.stderr)
    if args.sbi:
        reals, val_reals = [], []
        for root in args.sbi:
            tr = find_split(root, "Train", classes=("real",))
            reals += tr.paths
            try:
                v = find_split(root, "Validation", classes=("real",)).paths
            except ValueError:
                v = []
            if v:  # a fixed, seeded subset: the same blends every epoch
                val_reals += [v[i] for i in sorted(rng.choice(len(v), min(args.sbi_val, len(v)), replace=False))]
        if args.max_train_pairs:
            reals = [reals[i] for i in sorted(rng.choice(len(reals), min(args.max_train_pairs, len(reals)), replace=False))]
        sources.append(Source("sbi", "sbi", reals, weights.get("sbi", 1.0),
                              {"paths": [p for p in val_reals for _ in (0, 1)], "labels": [0, 1] * len(val_reals)}))
    for flag, named in (("--source-weight", weights), ("--augment-source", levels)):
        unknown = set(named) - {s.name for s in sources}
        if unknown:
            raise SystemExit(f"error: {flag} names no source: {sorted(unknown)}; sources: {[s.name for s in sources]}")
    for src in sources:
        src.augment = levels.get(src.name)
    if args.quick:  # tiny validation/test too
        keep = lambda d: {k: list(v[:8]) + list(v[-8:]) for k, v in d.items()}  # noqa: E731
        for src in sources:
            src.val = keep(src.val)
        test = {k: keep(v) for k, v in test.items()}
    return sources, test



def load_real_photos(folders, quick: bool = False) -> tuple[dict, dict]:
    """Real-only photo sets ({name: paths}) for Validation and Test: what selection and the threshold check the
    share of real photos called fake on. A folder without a Test split contributes to Validation only."""
    val, test = {}, {}
    for root in folders:
        name = Path(root).name
        for split, out in (("Validation", val), ("Test", test)):
            try:
                paths = find_split(root, split, classes=("real",)).paths
            except ValueError:
                continue
            out[name] = paths[:16] if quick else paths
    return val, test


def measured_only(sources) -> set:
    """Sources at --source-weight 0: never drawn for training, kept in --data only so that their Validation is scored
    (a kind of fake the model never saw). They are reported, but choose nothing: not the epoch, not the temperature,
    not the threshold (a GAN source nobody trained on once set a temperature of 4.7)."""
    return {src.name for src in sources if src.weight == 0}


def sources_of_real_fakes(names) -> list:
    """The sources whose fakes users meet: all but the SBI blends (which no user uploads and which are
    over-confident); every source when that leaves none. Calibration, the band and the real-photo AUCs use these."""
    return [n for n in names if n != "sbi"] or list(names)
