"""data_prep and train.py on tiny data the test makes (never ../shared): layout checks, SBI, extraction,
and a real (tiny, seconds-long) training run that writes a loadable model + card."""
import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT
from data_prep.dataset import DatasetError, find_split, read_pairs


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory, astronaut):
    """OpenForensics layout with lower-case folder names: face crops of the astronaut (real) and their
    self-blended versions (fake), 6 per class per split, with a pairs.csv."""
    from data_prep.sbi import self_blend
    from detector.faces import FaceDetector
    from detector.preprocess import crop_face

    root = tmp_path_factory.mktemp("data")
    face = FaceDetector().detect([astronaut])[0][0]
    rng = np.random.default_rng(0)
    rows = []
    for split in ("train", "validation", "test"):
        for label in ("real", "fake"):
            (root / split / label).mkdir(parents=True)
        for i in range(6):
            shifted = np.roll(astronaut, (i * 3, -i * 2), axis=(0, 1))
            box = tuple(np.array(face.box) + [-i * 2, i * 3, -i * 2, i * 3])
            crop = np.asarray(Image.fromarray(crop_face(shifted, box)).resize((224, 224)))
            lm = {k: ((x - box[0]) * 224 / (box[2] - box[0]), (y - box[1]) * 224 / (box[3] - box[1]))
                  for k, (x, y) in face.landmarks.items()}
            Image.fromarray(crop).save(root / split / "real" / f"v{i}.jpg")
            Image.fromarray(self_blend(crop, lm, rng)).save(root / split / "fake" / f"v{i}_f.jpg")
            rows += [(f"{split}/real/v{i}.jpg", f"{split}{i}.mp4"), (f"{split}/fake/v{i}_f.jpg", f"{split}{i}.mp4")]
    with open(root / "pairs.csv", "w", newline="") as f:
        csv.writer(f).writerows([("file", "original_video"), *rows])
    return root


@pytest.fixture
def train_here(capsys):
    """train.py's main in this process: (exit status, stdout + stderr). For the reruns of a run a test already made
    as a subprocess (a refusal, a --finalize): each subprocess paid 5-10 s of imports. Keras's global precision
    policy is put back after, since train.py sets it."""
    import keras

    from train import main

    policy = keras.mixed_precision.global_policy()

    def run(argv):
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out + err

    yield run
    keras.mixed_precision.set_global_policy(policy)


def test_find_split_is_case_insensitive_and_names_what_is_missing(tiny_dataset, tmp_path):
    s = find_split(tiny_dataset, "Train")
    assert s.count(0) == 6 and s.count(1) == 6
    (tmp_path / "Train" / "Real").mkdir(parents=True)
    with pytest.raises(DatasetError, match="holds no images"):
        find_split(tmp_path, "Train")
    Image.new("RGB", (8, 8)).save(tmp_path / "Train" / "Real" / "x.jpg")
    with pytest.raises(DatasetError, match="no Fake/"):
        find_split(tmp_path, "Train")
    with pytest.raises(DatasetError, match="no Validation/"):
        find_split(tmp_path, "Validation")


def test_find_split_takes_a_plain_real_and_fake_folder(tmp_path):
    for cls in ("Real", "fake"):
        (tmp_path / cls).mkdir()
        Image.new("RGB", (8, 8)).save(tmp_path / cls / "x.png")
    s = find_split(tmp_path, "Test")  # a Game deck's layout: no split folder
    assert s.labels == [0, 1]


def test_pairs_keep_source_and_fake_together(tiny_dataset):
    pairs = read_pairs(tiny_dataset, find_split(tiny_dataset, "Train"))
    assert len(pairs) == 6
    for real, fake in pairs:
        assert "/real/" in real and "/fake/" in fake
        assert fake.split("/")[-1].startswith(real.split("/")[-1][:-4])


def test_self_blend_changes_only_the_face(astronaut):
    from data_prep.sbi import self_blend
    from detector.faces import FaceDetector

    face = FaceDetector().detect([astronaut])[0][0]
    out = self_blend(astronaut, face.landmarks, np.random.default_rng(1))
    diff = np.abs(out.astype(int) - astronaut.astype(int)).sum(-1)
    x1, y1, x2, y2 = map(int, face.box)
    assert diff[y1:y2, x1:x2].mean() > 5 * max(diff[400:, :100].mean(), 0.1)  # face changed, corner not


def test_extract_writes_detector_crops(tmp_path, astronaut, face_video):
    from data_prep.extract import extract

    src = tmp_path / "src"
    src.mkdir()
    Image.fromarray(astronaut).save(src / "a.png")
    (src / "clip.mp4").write_bytes(face_video.read_bytes())
    (src / "broken.jpg").write_text("nope")
    stats = extract([src], tmp_path / "out", "Train", "real", frames=3)
    assert stats == {"files": 3, "faces": 4, "skipped": 1, "too_small": 0}
    crops = sorted((tmp_path / "out" / "Train" / "Real").glob("*.jpg"))
    assert len(crops) == 4 and Image.open(crops[0]).size == (224, 224)


@pytest.fixture(scope="module")
def quick_run(tiny_dataset, tmp_path_factory):
    """One `train.py --quick` subprocess that the next two tests share (each run is a minute on 2 idle cores): the
    pretrained path (EfficientNet-Lite0 from ImageNet weights: head warm-up, frozen batch norm), two sources with
    weights and levels, a real-photo set, and the mask task beside the verdict (`--mask-loss`). The plain (no mask
    head) fit and finalise are the multi-worker and the soup tests' runs."""
    tmp = tmp_path_factory.mktemp("quick")
    out, cache = tmp / "models", tmp / "cache"
    cmd = [sys.executable, "train.py", "--quick", "--arch", "efficientnet-lite0", "--data", str(tiny_dataset),
           "--sbi", str(tiny_dataset), "--real-photos", str(tiny_dataset), "--max-real-fp", "0.25",
           "--source-weight", f"{tiny_dataset.name}=3", "sbi=1", "--augment", "degrade",
           "--augment-source", f"{tiny_dataset.name}=light", "--out", str(out), "--cache-dir", str(cache), "--name", "quick",
           "--mask-loss", "0.5"]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    return out, cache, cmd, p.stderr


def test_train_quick_writes_a_model_the_detector_loads(quick_run, tiny_dataset, astronaut, train_here):
    """The card of the pretrained path end to end, whose threshold holds the real-photo set's share called fake to
    --max-real-fp; a second run refuses to replace the model, and --finalize writes it again without training."""
    out, cache, cmd, stderr = quick_run
    card = json.loads((out / "quick.json").read_text())
    assert card["input_size"] == 48 and card["output"] == "fake_probability" and 0 <= card["threshold"] <= 1
    assert card["training"]["epochs_run"] == 1 and card["training"]["pairs_in_batch"] is True
    # two sources, each scored on its own Validation; the probability calibrated on the pooled one
    assert {k: v["weight"] for k, v in card["training"]["sources"].items()} == {tiny_dataset.name: 3.0, "sbi": 1.0}
    assert card["training"]["augment_source"] == [f"{tiny_dataset.name}=light"]
    assert set(card["validation_per_source"]) == {tiny_dataset.name, "sbi"} and card["temperature"] > 0
    history = (cache / "history.csv").read_text()
    assert f"val_auc_{tiny_dataset.name}" in history and "val_auc_sbi" in history and "val_score" in history
    assert set(card["metrics_on_crops"]) == {"Validation", tiny_dataset.name}
    assert card["arch"] == "efficientnet-lite0" and card["training"]["weights_init"] == "imagenet"
    assert card["training"]["head_warmup_steps"] == 2 and card["training"]["batch_norm"].startswith("frozen")
    assert "head warm-up" in stderr and "Apache-2.0" in card["licence"]
    real_val = card["real_photos_on_crops"][f"{tiny_dataset.name} Validation"]
    assert real_val["n"] > 0 and real_val["share_called_fake"] <= 0.25  # the threshold's floor holds
    assert card["threshold"] >= card["real_photo_floor"]
    low, high = card["band"]
    assert 0 <= low <= card["threshold"] <= high <= 1  # the inconclusive band holds the threshold
    assert f"val_fp_{tiny_dataset.name}" in history
    assert (out / "quick.png").stat().st_size > 1000  # curves + confusion matrix
    ood = card["ood"]  # the unfamiliar-face stats, fitted on the training folders' faces (training.ood)
    assert ood["threshold"] > 0 and ood["sources"][tiny_dataset.name]["train_faces"] == 12
    assert ood["stats_sha256"] == hashlib.sha256((out / "quick.ood.npz").read_bytes()).hexdigest()
    assert not list(out.glob(".quick*"))  # no temp files left behind

    from detector.pipeline import Detector

    r = Detector(models_dir=out).analyse_image(astronaut)
    assert r.model == "quick" and r.verdict in ("real", "fake")

    code, said = train_here(cmd[2:])
    assert code == 2 and "--overwrite" in said  # never silently replaced
    code, said = train_here(cmd[2:] + ["--finalize", "--overwrite", "--floor-photos", tiny_dataset])
    assert code == 0, said[-2000:]  # the model again from the checkpoint, no more training
    again = json.loads((out / "quick.json").read_text())
    assert again["training"]["epochs_run"] == 1
    # its threshold refitted on the full path (training.full_path_floor), the crop-fitted one kept beside it
    assert again["threshold_fit"]["real_sets"] == {tiny_dataset.name: 6} and "full path" in again["threshold_rule"]
    assert again["threshold_fit"]["previous"]["threshold"] == card["threshold"]
    code, said = train_here(cmd[2:] + ["--overwrite", "--floor-photos", out / "no-such-photos"])
    assert code == 2 and "--floor-photos" in said  # refused before training, not an hour later
    assert "Epoch" not in said  # Keras's "Epoch 1/1" goes to stdout: both streams are looked at


def test_train_quick_with_the_mask_task_serves_the_classifier_alone(quick_run, astronaut, train_here):
    """`--mask-loss`: the mask head trains beside the verdict (from ImageNet weights, so through the head warm-up
    too), the exported model has no mask head, and the run's checkpoints refuse another --mask-loss."""
    import keras

    out, cache, cmd, stderr = quick_run
    assert "head warm-up" in stderr
    assert json.loads((out / "quick.json").read_text())["training"]["mask_loss"] == 0.5
    history = (cache / "history.csv").read_text()
    assert "manipulation_mask_loss" in history and "fake_probability_auc" in history
    served = keras.saving.load_model(out / "quick.keras", compile=False)
    assert "manipulation_mask" not in {layer.name for layer in served.layers} and served.output.shape[-1] == 1

    from detector.pipeline import Detector

    assert Detector(models_dir=out).analyse_image(astronaut).verdict in ("real", "fake")
    code, said = train_here([a for a in cmd[2:-2]] + ["--finalize", "--overwrite"])  # without its --mask-loss 0.5
    assert code == 2 and "--mask-loss 0.5" in said  # not silently without its head


def test_evaluate_full_path_records_metrics_in_card(tiny_dataset, tiny_models_dir, tmp_path, capsys):
    import shutil

    from detector.evaluate import main as evaluate

    models = tmp_path / "models"
    shutil.copytree(tiny_models_dir, models)
    assert evaluate([str(tiny_dataset), "--split", "Test", "--models-dir", str(models), "--update-card"]) == 0
    out = capsys.readouterr().out
    assert f"| {tiny_dataset.name} | 12 |" in out and "full_path_all_images" in out and "as_given_crops" in out
    entry = json.loads((models / "tiny.json").read_text())["metrics_full_path"][tiny_dataset.name]
    assert entry["n"] == 12 and 0 <= entry["auc"] <= 1 and sum(map(sum, entry["confusion_matrix"])) == 12
    assert len(entry["auc_95"]) == 2 and len(entry["ece_95"]) == 2
    # a Validation run does not overwrite the Test figures the card reports
    assert evaluate([str(tiny_dataset), "--split", "Validation", "--models-dir", str(models), "--update-card"]) == 0
    assert json.loads((models / "tiny.json").read_text())["metrics_full_path"][tiny_dataset.name] == entry
    assert "keeps its Test figures" in capsys.readouterr().err
    assert evaluate([str(tmp_path / "missing"), "--models-dir", str(models)]) == 2


def test_full_path_floor_fit_keeps_each_real_set_under_its_share():
    from training.full_path_floor import fit

    rng = np.random.default_rng(3)
    reals = {"utk": rng.uniform(0, 0.8, 200), "portraits": rng.uniform(0.2, 0.9, 100)}
    y = np.r_[np.zeros(100, int), np.ones(100, int)]
    fakes = {"dfdc": (y, np.r_[rng.uniform(0, 0.6, 100), rng.uniform(0.3, 1.0, 100)])}
    got = fit(reals, fakes, 0.07)
    assert all(np.mean(s >= got["floor"]) <= 0.07 for s in reals.values())
    assert np.mean(reals["portraits"] >= got["floor"] - 1e-3) > 0.07  # the lowest such floor, set by the worse set
    assert got["threshold"] >= got["floor"] and got["band"][0] <= got["threshold"] <= got["band"][1]


def test_full_path_floor_rewrites_the_card_on_the_full_path(tiny_dataset, tiny_models_dir, tmp_path, capsys):
    """python -m training.full_path_floor --write on a real (tiny) Keras model and the real MTCNN: the new threshold
    calls at most the asked share of the Validation reals fake when the detector itself scores them; the old
    threshold and the metrics measured at it are kept apart, never shown as the new one's."""
    import shutil

    from detector.datasets import find_split
    from detector.pipeline import Detector
    from training.full_path_floor import main as refit

    models = tmp_path / "models"
    shutil.copytree(tiny_models_dir, models)
    card_path = models / "tiny.json"
    card_path.write_text(json.dumps({**json.loads(card_path.read_text()), "metrics_full_path": {"x": {"n": 1}}}))
    args = ["--models-dir", str(models), "--real", str(tiny_dataset), "--fake", str(tiny_dataset), "--max-real-fp", "0.2"]
    assert refit(args) == 0 and "nothing written" in capsys.readouterr().out
    assert refit(args + ["--write"]) == 0
    card = json.loads(card_path.read_text())
    assert card["threshold_fit"]["previous"]["threshold"] == 0.5
    assert card["threshold_fit"]["previous"]["metrics_full_path"] == {"x": {"n": 1}} and "metrics_full_path" not in card
    assert card["threshold"] >= card["real_photo_floor"] and "full path" in card["threshold_rule"]
    det = Detector(models_dir=models)  # the card as the app loads it (a band outside [0, 1] or off the threshold fails)
    assert det.card.threshold == card["threshold"]
    reals = find_split(tiny_dataset, "Validation", ("real",)).paths
    called = [r.fake_probability >= det.card.threshold for r in det.analyse_images(
        [np.asarray(Image.open(p).convert("RGB")) for p in reals], reals)]
    assert sum(called) <= 0.2 * len(reals)
    assert refit(["--models-dir", str(models), "--real", str(tmp_path / "missing"), "--fake", str(tiny_dataset)]) == 2
    assert refit(["--models-dir", str(tmp_path), "--real", str(tiny_dataset), "--fake", str(tiny_dataset)]) == 2
    assert "No model" in capsys.readouterr().err  # a clear error, not a traceback


def test_a_source_at_weight_zero_is_scored_but_chooses_nothing(tiny_dataset):
    """A source kept in --data at weight 0 (a kind of fake never trained on) is logged each epoch but leaves the
    epoch's score to the others: on a real (tiny) Keras model, the same faces with their labels swapped score
    1 - AUC, and val_score stays the trained source's."""
    from types import SimpleNamespace

    import keras

    from training.backbones import build_classifier
    from training.callbacks import SourceValidation
    from training.sources import measured_only

    assert measured_only([SimpleNamespace(name="a", weight=0.5), SimpleNamespace(name="b", weight=0.0)]) == {"b"}
    keras.utils.set_random_seed(0)
    model = build_classifier(48)
    v = find_split(tiny_dataset, "Validation")
    val_sets = {"a": {"paths": v.paths, "labels": v.labels}, "b": {"paths": v.paths, "labels": [1 - y for y in v.labels]}}
    callback = SourceValidation(val_sets, SimpleNamespace(input_size=48, select="mean"), held_out={"b"})
    callback.set_model(model)
    logs = {}
    callback.on_epoch_end(0, logs)
    assert abs(logs["val_auc_a"] - 0.5) > 1e-6  # else the two means below could not differ
    assert logs["val_auc_b"] == pytest.approx(1 - logs["val_auc_a"])
    assert logs["val_score"] == pytest.approx(logs["val_auc_a"])


def test_framing_jitter_moves_the_face_by_a_few_percent_only():
    """Training crops are re-framed the way an MTCNN box a few pixels off would frame them."""
    import tensorflow as tf

    from training import augment

    img = np.zeros((224, 224, 3), np.uint8)
    img[102:122, 102:122] = 255  # a bright square at the centre
    centres = []
    for _ in range(20):
        out = augment._jitter_framing(tf.constant(img), 0.06).numpy()
        assert out.shape == (224, 224, 3) and out.dtype == np.uint8
        ys, xs = np.nonzero(out[..., 0] > 128)
        centres.append((ys.mean() - 111.5, xs.mean() - 111.5))
    offsets = np.abs(np.array(centres))
    assert offsets.max() > 2  # it does move
    assert offsets.max() < 0.06 * 224 * 1.2 + 2  # by at most the shift, a little more with the zoom
    same = augment._jitter_framing(tf.constant(img), 1e-6).numpy()
    assert np.abs(same.astype(int) - img.astype(int)).mean() < 1


def test_pair_colour_changes_a_real_and_its_fake_alike():
    """`--pair-colour`: both images of a pair get one colour change (identical images stay identical, and
    black and white comes to both or neither); `--match-colour`: the fake takes its real's colour mean and spread."""
    import tensorflow as tf

    from training import augment

    tf.random.set_seed(0)
    rng = np.random.default_rng(0)
    img = np.clip(rng.normal(120, 30, (224, 224, 3)) * [1.0, 0.8, 0.6], 0, 255).astype(np.uint8)
    twins = tf.constant(np.stack([img, img]))
    changed = grey = 0
    for _ in range(40):
        out = augment.pair_colour(twins, 1.0, match=False).numpy()
        assert out.shape == (2, 224, 224, 3) and out.dtype == np.uint8
        assert np.array_equal(out[0], out[1])
        changed += np.abs(out[0].astype(int) - img).mean() > 2
        grey += np.ptp(out[0].astype(int), axis=2).max() <= 1
    assert changed >= 30 and 2 <= grey <= 20
    vivid = np.clip(img.astype(float) * [1.3, 1.0, 0.5] + 20, 0, 255).astype(np.uint8)  # a more colourful "fake"
    out = augment.pair_colour(tf.constant(np.stack([img, vivid])), 0.0, match=True).numpy().astype(float)
    real_mean, fake_mean = img.reshape(-1, 3).mean(0), vivid.reshape(-1, 3).mean(0)
    assert np.abs(out[1].reshape(-1, 3).mean(0) - real_mean).max() < 2 < np.abs(fake_mean - real_mean).max()
    assert np.abs(out[1].reshape(-1, 3).std(0) - img.reshape(-1, 3).std(0)).max() < 3
    assert np.array_equal(out[0], img)  # the real is left as it was


def test_camera_augmentation_varies_white_balance_sharpness_and_colour():
    """`--augment camera`'s own part: some crops come out black and white, some with another white balance,
    some sharper; shapes and dtype unchanged."""
    import tensorflow as tf

    from training import augment

    tf.random.set_seed(0)
    rng = np.random.default_rng(0)
    img = tf.constant(np.clip(rng.normal(128, 40, (224, 224, 3)) * [1.0, 0.9, 0.8], 0, 255).astype(np.uint8))

    def maybe(p, fn, x):
        return tf.cond(tf.random.uniform([]) < p, lambda: fn(x), lambda: x)

    grey = recoloured = sharper = 0
    base = img.numpy().astype(float)
    for _ in range(100):
        out = augment._camera(img, maybe).numpy()
        assert out.shape == (224, 224, 3) and out.dtype == np.uint8
        o = out.astype(float)
        grey += np.ptp(o, axis=2).max() <= 1
        ratio = o.reshape(-1, 3).mean(0) / base.reshape(-1, 3).mean(0)
        recoloured += np.ptp(ratio) > 0.03
        sharper += np.abs(np.diff(o, axis=1)).mean() > 1.05 * np.abs(np.diff(base, axis=1)).mean()
    assert 1 <= grey <= 25 and 15 <= recoloured <= 70 and 8 <= sharper <= 50


def test_soften_reals_blurs_only_the_real_of_each_training_pair(tmp_path):
    """`--soften-reals`: in the real training batches, about that share of reals comes out softer than its file;
    no fake does."""
    import argparse

    import tensorflow as tf

    from training.sources import Source, train_dataset

    rng = np.random.default_rng(0)
    pairs = []
    for i in range(4):  # sharp pictures (noise in 2x2 blocks), so softening shows
        for kind in ("real", "fake"):
            img = np.kron(rng.integers(0, 256, (112, 112, 3)), np.ones((2, 2, 1))).astype(np.uint8)
            Image.fromarray(img).save(tmp_path / f"{kind}{i}.png")
        pairs.append((str(tmp_path / f"real{i}.png"), str(tmp_path / f"fake{i}.png")))

    def sharpness(img):  # mean absolute gradient: the same for a picture and its mirror image
        g = np.asarray(img, np.float64).mean(axis=2)
        return np.abs(np.diff(g, axis=0)).mean() + np.abs(np.diff(g, axis=1)).mean()

    files = [sharpness(Image.open(p)) for pair in pairs for p in pair]
    tf.random.set_seed(0)
    args = argparse.Namespace(input_size=224, augment="none", framing_jitter=0.0, soften_reals=0.5, pair_colour=0.0, match_colour=False, no_pairs=False,
                              batch_size=2)
    softened = 0
    for x, y in train_dataset([Source("tiny", "pairs", pairs)], args, seed=0).take(40):
        assert list(y.numpy()) == [0.0, 1.0]
        real, fake = (sharpness(np.round(im)) for im in x.numpy())
        assert min(abs(fake - f) for f in files) < 1e-3  # every fake exactly as its file (or mirrored)
        softened += real < 0.8 * min(files)
    assert 10 <= softened <= 30  # about half of 40


def test_augment_source_gives_one_source_its_own_level(tmp_path):
    """`--augment degrade` with source `plain` at its own level `none` (what `--augment-source plain=none` sets):
    every crop of `plain` comes out as its file (or mirrored), while the other source's crops are degraded; each
    output is traced to its file by correlation."""
    import argparse

    import tensorflow as tf

    from training.sources import Source, train_dataset

    rng = np.random.default_rng(1)
    files, sources = {}, []
    for name in ("plain", "degraded"):
        pairs = []
        for i in range(3):
            pair = []
            for kind in ("real", "fake"):  # coarse noise (8x8 blocks): still recognisable after down-scaling
                img = np.kron(rng.integers(0, 256, (28, 28, 3)), np.ones((8, 8, 1))).astype(np.uint8)
                path = tmp_path / f"{name}-{kind}{i}.png"
                Image.fromarray(img).save(path)
                files[str(path)] = (name, img.astype(np.float64))
                pair.append(str(path))
            pairs.append(tuple(pair))
        sources.append(Source(name, "pairs", pairs, augment="none" if name == "plain" else None))

    def trace(out):  # (source, exactly its file or mirror?) of the most correlated file
        best = max(((np.corrcoef(out.ravel(), v.ravel())[0, 1], name, v) for name, img in files.values()
                    for v in (img, img[:, ::-1])), key=lambda t: t[0])
        return best[1], bool(np.abs(out - best[2]).max() < 1.0)

    tf.random.set_seed(0)
    args = argparse.Namespace(input_size=224, augment="degrade", framing_jitter=0.0, soften_reals=0.0, pair_colour=0.0, match_colour=False, no_pairs=False,
                              batch_size=2)
    seen = {"plain": [], "degraded": []}
    for x, _ in train_dataset(sources, args, seed=0).take(60):
        for out in np.round(x.numpy()):
            name, exact = trace(out)
            seen[name].append(exact)
    assert len(seen["plain"]) >= 20 and len(seen["degraded"]) >= 20
    assert all(seen["plain"])  # flips only
    assert seen["degraded"].count(False) >= len(seen["degraded"]) // 2  # most degraded crops changed


def test_mask_targets_mark_where_a_fake_differs_and_move_with_its_flip(tmp_path):
    """`--mask-loss` targets (training/masks.py): a fake that differs from its real only in a patch left of centre
    (cells 1-3 of column 1 of 5) is marked there, or in column 3 when its crop came out mirrored (the mask takes the
    fake's own flip); its real is marked nowhere; an unrelated pair carries no target (weight 0); a self-blend
    always does."""
    import argparse

    import tensorflow as tf

    from training.sources import Source, train_dataset

    rng = np.random.default_rng(3)
    blocks = lambda: np.kron(rng.integers(0, 180, (28, 28, 3)), np.ones((8, 8, 1))).astype(np.uint8)  # noqa: E731
    real, other_real, other_fake, blend_real = blocks(), blocks(), blocks(), blocks()
    fake = real.copy()
    fake[45:179, 45:89] += 60  # by more than masks.FULL; the crop's outer eighth untouched, as in a face swap
    paths = {}
    for name, img in {"real": real, "fake": fake, "other_real": other_real, "other_fake": other_fake,
                      "blend_real": blend_real}.items():
        paths[name] = str(tmp_path / f"{name}.png")
        Image.fromarray(img).save(paths[name])
    sources = [Source("aligned", "pairs", [(paths["real"], paths["fake"])]),
               Source("unrelated", "pairs", [(paths["other_real"], paths["other_fake"])]),
               Source("sbi", "sbi", [paths["blend_real"]])]
    fakes = {"aligned": fake, "unrelated": other_fake, "sbi": blend_real}

    tf.random.set_seed(0)
    args = argparse.Namespace(input_size=160, augment="none", framing_jitter=0.0, soften_reals=0.0, pair_colour=0.0, match_colour=False, no_pairs=False,
                              batch_size=2)  # one pair per batch
    seen = []
    for x, y in train_dataset(sources, args, seed=0, mask_cells=5).take(40):
        target = y["manipulation_mask"].numpy()  # (2, 5, 5, [share manipulated, weight])
        assert target.shape == (2, 5, 5, 2)
        assert (target[0, ..., 0] == 0).all() and (target[0, ..., 1] == 1).all()  # the real: nowhere
        crop = tf.image.resize(x[1], (224, 224)).numpy()
        name, mirrored = max(((np.corrcoef(crop.ravel(), v.ravel())[0, 1], n, m) for n, img in fakes.items()
                              for m, v in ((False, img), (True, img[:, ::-1]))))[1:]
        where, weight = target[1, ..., 0], target[1, ..., 1]
        seen.append((name, mirrored))
        if name == "unrelated":
            assert (weight == 0).all()
            continue
        assert (weight == 1).all()
        if name == "aligned":
            marked, clean = (where[1:4, 3], where[:, :2]) if mirrored else (where[1:4, 1], where[:, 3:])
            assert marked.min() > 0.95 and clean.max() == 0 and where[0].max() == where[4].max() == 0, where.round(2)
    assert {("aligned", False), ("aligned", True), ("unrelated", False), ("sbi", False)} <= set(seen)


def test_a_fakes_mask_target_takes_its_own_framing_jitter(tmp_path):
    """With framing jitter, the cells a fake's mask target marks are where its manipulated patch lies in the crop
    the network sees (the patch is the only bright part of a grey picture), and the jitter does move them."""
    import argparse

    import tensorflow as tf

    from training.masks import mask_target
    from training.sources import Source, train_dataset

    real = np.full((224, 224, 3), 100, np.uint8)
    fake = real.copy()
    fake[60:150, 50:120] = 160  # inside the outer eighth: an aligned pair
    for name, img in (("real", real), ("fake", fake)):
        Image.fromarray(img).save(tmp_path / f"{name}.png")
    unmoved = mask_target(tf.constant((fake[..., :1] > 130).astype(np.uint8) * 255), 1.0, 5).numpy()[..., 0]
    tf.random.set_seed(0)
    args = argparse.Namespace(input_size=160, augment="none", framing_jitter=0.06, soften_reals=0.0, pair_colour=0.0, match_colour=False, no_pairs=False,
                              batch_size=2)
    moved = 0.0
    for x, y in train_dataset([Source("grey", "pairs", [(str(tmp_path / "real.png"), str(tmp_path / "fake.png"))])],
                              args, seed=0, mask_cells=5).take(12):
        where = y["manipulation_mask"].numpy()[1, ..., 0]
        patch = tf.image.resize((x[1, ..., :1] > 130.0).numpy().astype(np.float32), (5, 5), method="area").numpy()[..., 0]
        assert np.abs(where - patch).max() < 0.08, (where.round(2), patch.round(2))
        moved = max(moved, min(np.abs(where - unmoved).max(), np.abs(where - unmoved[:, ::-1]).max()))
    assert moved > 0.1  # the jitter did move the patch across cells


@pytest.mark.parametrize("spec, says", [("dfdc-faces=heavy", "LEVEL one of none, light"), ("dfdc-faces", "NAME=LEVEL"),
                                         ("elsewhere=light", "names no source")])
def test_a_wrong_augment_source_is_a_clear_error(tiny_dataset, spec, says):
    from train import parse_args
    from training.sources import load_sources

    args = parse_args(["--quick", "--data", str(tiny_dataset), "--augment-source", spec])
    with pytest.raises(SystemExit, match=says):
        load_sources(args)


def test_multi_worker_training_writes_one_model(tiny_dataset, tmp_path):
    """Two local worker processes under MultiWorkerMirroredStrategy (TF_CONFIG on 127.0.0.1): both finish, and
    only the chief writes a model."""
    import os

    from bench.server import free_port

    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    out, cache = tmp_path / "models", tmp_path / "cache"
    cmd = [sys.executable, "train.py", "--quick", "--data", str(tiny_dataset), "--out", str(out),
           "--cache-dir", str(cache), "--name", "mw"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster,
                                                                         "task": {"type": "worker", "index": i}})))
             for i in range(2)]
    try:
        logs = [p.communicate(timeout=900)[1] for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert [p.returncode for p in procs] == [0, 0], logs[0][-2000:] + logs[1][-2000:]
    assert sorted(f.name for f in out.iterdir()) == ["mw.json", "mw.keras", "mw.ood.npz", "mw.png"]
    assert "worker-1: training finished; the chief writes the model" in logs[1]
    dist = json.loads((out / "mw.json").read_text())["training"]["distribution"]  # MultiWorkerMirrored's class
    assert dist == {"strategy": "CollectiveAllReduceStrategy", "replicas": 2, "workers": 2}
    assert (cache / "worker-1").is_dir()  # the other worker's checkpoints stay apart from the chief's


def test_backup_remembers_the_epoch_when_stopped_again_right_after_a_resume(tmp_path):
    """Stop at epoch 3, resume, stop again inside the first resumed epoch: the backup must say epoch 3, not 0
    (Keras 3.15's own BackupAndRestore said 0 and the next resume started the schedule over)."""
    import keras

    from training import callbacks

    x, y = np.zeros((8, 2), np.float32), np.zeros((8, 1), np.float32)

    class Stop(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1 and self.params and self._epoch == 3:
                raise KeyboardInterrupt

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch

    for _ in range(2):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        with pytest.raises(KeyboardInterrupt):
            model.fit(x, y, batch_size=2, epochs=6, verbose=0,
                      callbacks=[callbacks.ResumableBackup(str(tmp_path / "backup"), 1), Stop()])
        assert json.loads((tmp_path / "backup" / "training_metadata.json").read_text())["epoch"] == 3


def test_a_run_stopped_between_epochs_resumes_at_the_next_epoch(tmp_path):
    """Saving every N batches, Keras's backup last named the epoch it had just finished, so a run stopped after an
    epoch's end trained that epoch again on resume (epoch 29 of the bundled model's run ran twice)."""
    import keras

    from training import callbacks

    x, y = np.zeros((8, 2), np.float32), np.zeros((8, 1), np.float32)
    started = []

    class StopAt3(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            started.append(epoch)
            if epoch == 3 and len(started) == 4:
                raise KeyboardInterrupt

    def fit():
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        model.fit(x, y, batch_size=2, epochs=5, verbose=0,
                  callbacks=[callbacks.ResumableBackup(str(tmp_path / "backup"), 3), StopAt3()])

    with pytest.raises(KeyboardInterrupt):
        fit()
    assert json.loads((tmp_path / "backup" / "training_metadata.json").read_text())["epoch"] == 3
    fit()
    assert started == [0, 1, 2, 3, 3, 4]  # the resume began with epoch 3 (index), not 2 again


def test_combine_links_reals_and_fakes_of_other_sources_split_by_split(tiny_dataset, tmp_path):
    from data_prep.combine import combine
    from data_prep.dataset import read_pairs

    reals_only = tmp_path / "portraits"
    for split in ("Train", "Validation"):  # no Test: a real-only source like utkface-real
        (reals_only / split / "Real").mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(reals_only / split / "Real" / "p.jpg")
    out = tmp_path / "combined"
    counts = combine(out, [tiny_dataset, reals_only], [tiny_dataset])
    assert counts["Train"] == {"real": 7, "fake": 6} and counts["Test"] == {"real": 6, "fake": 6}
    train = find_split(out, "Train")
    assert all(Path(p).is_symlink() for p in train.paths)  # links, never copies of the data
    assert {Path(p).resolve().parent.parent.name.lower() for p in train.paths} == {"train"}  # splits never mix
    assert len(read_pairs(out, train)) == 7  # random pairs, the fakes recycled
    combine(out, [tiny_dataset, reals_only], [tiny_dataset])  # again: idempotent
    assert len(find_split(out, "Train").paths) == 13


def test_nearest_once_gives_each_fake_its_own_real():
    from data_prep.match_reals import nearest_once

    reals = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    fakes = np.array([[1.0, 0.0], [0.99, 0.14]])  # both nearest to real 0: one of them must take real 1
    chosen = nearest_once(fakes, reals)
    assert sorted(chosen) == [0, 1]
    with pytest.raises(ValueError, match="cannot give"):
        nearest_once(np.ones((4, 2)), reals)


def test_match_reals_pairs_each_fake_with_the_real_photo_of_its_kind(tmp_path):
    """data_prep.match_reals with the real ImageNet Lite0: each fake's match is the altered copy of the same
    picture (mirrored, re-compressed, a little brighter) among unrelated pictures; links, never copies."""
    import cv2
    from skimage import data

    from data_prep.match_reals import match

    def rgb(im):
        im = np.stack([im] * 3, -1) if im.ndim == 2 else im[..., :3]
        return cv2.resize(im, (96, 96), interpolation=cv2.INTER_AREA)

    kinds = {"astronaut": data.astronaut(), "cat": data.chelsea(), "coffee": data.coffee(), "rocket": data.rocket()}
    others = {"hubble": data.hubble_deep_field(), "cells": data.immunohistochemistry(), "coins": data.coins(),
              "bricks": data.brick()}
    src, pool = tmp_path / "gan", tmp_path / "pool"
    for split in ("Train", "Validation"):
        (src / split / "Fake").mkdir(parents=True)
        (pool / split / "Real").mkdir(parents=True)
        for name, im in kinds.items():
            Image.fromarray(rgb(im)).save(src / split / "Fake" / f"{name}.png")
            twin = np.clip(rgb(im)[:, ::-1].astype(int) + 12, 0, 255).astype(np.uint8)
            Image.fromarray(twin).save(pool / split / "Real" / f"{name}_twin.jpg", quality=70)
        for name, im in others.items():
            Image.fromarray(rgb(im)).save(pool / split / "Real" / f"{name}.jpg")
    out = tmp_path / "matched"
    counts = match(src, [pool], out)
    assert counts == {"Train": {"pool": 4}, "Validation": {"pool": 4}}  # no Test split: skipped
    for split in ("Train", "Validation"):
        rows = list(csv.DictReader(open(out / split / "matches.csv")))
        assert sorted(Path(r["real"]).stem for r in rows) == sorted(f"{k}_twin" for k in kinds)
        assert all(Path(r["fake"]).stem + "_twin" == Path(r["real"]).stem for r in rows)
        linked = find_split(out, split)
        assert len(linked.paths) == 8 and all(Path(p).is_symlink() for p in linked.paths)


def test_swap_twins_put_each_face_in_the_other_photo_aligned_and_in_its_colours(tmp_path, astronaut):
    """data_prep.swap_twins with the real MTCNN: the donor is the host's face moved, enlarged and tinted, so a
    right swap gives the host back inside the face (landmarks aligned, colour transferred) and leaves every pixel
    outside it as it was; the dataset holds both twin pairs, links for the photos as they are."""
    import cv2

    from data_prep.swap_twins import landmarks_of, make_swap_twins, swap_inner_face
    from detector.faces import FaceDetector

    host = np.ascontiguousarray(astronaut[20:220, 120:310])
    moved = np.array([[1.12, 0, -14], [0, 1.12, -6]], np.float32)  # 12 % larger, shifted
    donor = cv2.warpAffine(host, moved, host.shape[1::-1], borderMode=cv2.BORDER_REFLECT)
    donor = np.clip(donor.astype(int) + (25, -10, 0), 0, 255).astype(np.uint8)
    faces = FaceDetector(min_confidence=0.8)
    host_lm, donor_lm = landmarks_of(faces, [host, donor])
    out, mask = swap_inner_face(donor, donor_lm, host, host_lm, np.random.default_rng(0))
    inside, outside = mask > 0.9, mask < 1e-3
    assert inside.sum() > 4000 and outside.sum() > 4000
    err = lambda a: float(np.abs(a.astype(int) - host.astype(int))[inside].mean())
    assert err(out) < 0.4 * err(donor)  # aligned and recoloured: near the host, unlike the donor itself
    assert np.array_equal(out[outside], host[outside])

    matched = tmp_path / "matched"
    for cls, im in (("Fake", donor), ("Real", host)):
        (matched / "Train" / cls).mkdir(parents=True)
        Image.fromarray(im).save(matched / "Train" / cls / f"{cls.lower()}.png")
    with open(matched / "Train" / "matches.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([("fake", "real", "pool", "cosine"),
                                  (matched / "Train/Fake/fake.png", matched / "Train/Real/real.png", "x", "0.9")])
    out_dir = tmp_path / "swap"
    assert make_swap_twins(matched, out_dir, detector=faces) == {"Train": 1}
    split = find_split(out_dir, "Train")
    assert [Path(p).name for p in split.paths] == ["fake_a_host.jpg", "fake_b_swap.jpg",
                                                         "fake_a_swap.jpg", "fake_b_host.jpg"]
    assert [Path(p).is_symlink() for p in split.paths] == [True, False, False, True]  # Real then Fake
    pairs = read_pairs(out_dir, split)
    assert sorted((Path(r).stem, Path(f).stem) for r, f in pairs) == [("fake_a_host", "fake_a_swap"),
                                                                      ("fake_b_swap", "fake_b_host")]


def test_resynth_dataset_pairs_each_real_with_its_resynthesis(tmp_path, tiny_dataset):
    """data_prep.resynth: a tiny auto-encoder trained on the reals, each real linked (never copied) beside its
    re-synthesis of the same size, and pairs.csv keeping them together, readable as a training source."""
    from data_prep.resynth import build_autoencoder, make_resynth_dataset, resynthesise

    odd = np.random.default_rng(0).integers(0, 255, (37, 45, 3), np.uint8)
    assert resynthesise(build_autoencoder(8), odd).shape == odd.shape  # any size, not only multiples of 8
    out = tmp_path / "resynth"
    stats = make_resynth_dataset([tiny_dataset], out, epochs=1)
    assert (stats["Train"], stats["Validation"]) == (6, 6)
    reals = sorted((out / "Train" / "Real").iterdir())
    assert len(reals) == 6 and all(p.is_symlink() for p in reals)
    fake = np.asarray(Image.open(out / "Train" / "Fake" / f"{reals[0].stem}_rs.jpg"))
    assert fake.shape == np.asarray(Image.open(reals[0])).shape
    pairs = read_pairs(out, find_split(out, "Train"))
    assert len(pairs) == 6 and all(Path(f).stem == Path(r).stem + "_rs" for r, f in pairs)


def _taef2_like_weights(path: Path) -> Path:
    """Random weights with TAEF2's names and shapes (the real ones live in ../shared, which tests may not need)."""
    from data_prep.taef2 import DECODER, ENCODER

    rng, w = np.random.default_rng(0), {}
    ends = {"encoder/0": (64, 3), "encoder/14": (32, 64), "decoder/1": (64, 32), "decoder/19": (3, 64)}
    for part, steps in (("encoder", ENCODER), ("decoder", DECODER)):
        for i, step in enumerate(steps):
            key = f"{part}/{i}"
            if step in ("conv", "down"):
                o, c = ends.get(key, (64, 64))
                w[f"{key}.weight"] = rng.normal(0, 0.05, (o, c, 3, 3))
                if step == "conv" and key not in ("decoder/7", "decoder/12", "decoder/17"):
                    w[f"{key}.bias"] = np.zeros(o)
            elif step == "block":
                for j in (0, 2, 4):
                    w[f"{key}.conv.{j}.weight"] = rng.normal(0, 0.05, (64, 64, 3, 3))
                    w[f"{key}.conv.{j}.bias"] = np.zeros(64)
                if key in {f"encoder/{k}" for k in (11, 12, 13)} | {f"decoder/{k}" for k in (3, 4, 5)}:
                    w[f"{key}.pool.0.weight"] = rng.normal(0, 0.05, (256, 64, 1, 1))
                    w[f"{key}.pool.1.weight"], w[f"{key}.pool.1.bias"] = np.ones(256), np.zeros(256)
                    w[f"{key}.pool.3.weight"] = rng.normal(0, 0.05, (64, 256, 1, 1))
    np.savez(path, **{k: v.astype(np.float16) for k, v in w.items()})
    return path


def test_taef2_twins_are_written_at_one_size_and_quality(tmp_path, tiny_dataset):
    """--autoencoder taef2 --size: nothing trained, both twins written at the asked side (the real re-encoded, not
    linked, so a pair differs only in the decoder), a picture's shape kept through the 1/8 latent."""
    from data_prep.resynth import make_resynth_dataset, resynthesise
    from data_prep.taef2 import build_taef2

    weights = _taef2_like_weights(tmp_path / "taef2.npz")
    face = np.random.default_rng(1).integers(0, 255, (48, 56, 3), np.uint8)
    out_face = resynthesise(build_taef2(weights), face)
    assert out_face.shape == face.shape and out_face.dtype == np.uint8
    out = tmp_path / "twins"
    stats = make_resynth_dataset([tiny_dataset], out, weights=weights, size=40)
    assert (stats["Train"], stats["Validation"]) == (6, 6) and not (out / "autoencoder.keras").exists()
    reals = sorted((out / "Train" / "Real").iterdir())
    assert reals and not any(p.is_symlink() for p in reals)
    for r in reals:
        assert Image.open(r).size == Image.open(out / "Train" / "Fake" / f"{r.stem}_rs.jpg").size == (40, 40)


TAEF2 = Path(__file__).resolve().parents[2] / "shared" / "weights" / "taef2" / "taef2.npz"


@pytest.mark.skipif(not TAEF2.exists(), reason="the TAEF2 weights live in ../shared/weights (not in the repo)")
def test_taef2_rebuilt_from_its_weights_reconstructs_a_face():
    """The layout check of the weights' README: a face comes back at ~37 dB; a wrong layout (padding, transposes,
    the pool branch) gives 11-18 dB. A smooth synthetic face-like picture stands in for a real photo."""
    from data_prep.resynth import psnr, resynthesise
    from data_prep.taef2 import build_taef2

    yy, xx = np.mgrid[0:96, 0:96] / 96.0
    face = np.stack([180 - 60 * yy, 140 + 40 * np.sin(6 * xx), 120 + 50 * xx * yy], -1)
    face = (face + 10 * (((xx - 0.5) ** 2 + (yy - 0.45) ** 2) < 0.05)[..., None]).clip(0, 255).astype(np.uint8)
    assert psnr(face, resynthesise(build_taef2(TAEF2), face)) > 30


def test_a_soup_averages_models_and_finalises_without_training(tiny_dataset, tmp_path, train_here):
    """training.soup writes the mean of two networks' weights; train.py --finalize --init SOUP with an empty cache
    calibrates and exports those weights as they are (no epoch trained)."""
    import keras

    from training.backbones import build_classifier
    from training.soup import main as soup

    paths = []
    for seed in (1, 2):  # two networks with different weights, of the architecture --quick builds
        keras.utils.set_random_seed(seed)
        m = build_classifier(48, "efficientnetv2b0")
        m.save(tmp_path / f"m{seed}.keras")
        paths.append(tmp_path / f"m{seed}.keras")
    a, b = (keras.saving.load_model(p, compile=False).get_weights() for p in paths)
    assert soup([str(p) for p in paths] + ["--out", str(tmp_path / "soup.weights.h5")]) == 0

    out = tmp_path / "models"
    cmd = [sys.executable, "train.py", "--quick", "--data", str(tiny_dataset), "--out", str(out), "--name", "soup",
           "--cache-dir", str(tmp_path / "empty-cache"), "--init", str(tmp_path / "soup.weights.h5"), "--finalize"]
    code, said = train_here(cmd[2:])  # in this process: the subprocess path is test_train_quick's
    assert code == 0, said[-3000:]
    assert "finalising the --init weights" in said and "Epoch" not in said
    exported = keras.saving.load_model(out / "soup.keras", compile=False).get_weights()
    i = max(range(len(a)), key=lambda k: a[k].size)  # the largest kernel: its mean, not either parent
    assert not np.allclose(a[i], b[i]) and np.allclose(exported[i], (a[i] + b[i]) / 2, atol=1e-6)
    assert json.loads((out / "soup.json").read_text())["threshold"] is not None

    build_classifier(48, "efficientnet-lite0").save(tmp_path / "other.keras")
    with pytest.raises(SystemExit, match="architecture"):
        soup([str(paths[0]), str(tmp_path / "other.keras"), "--out", str(tmp_path / "no.weights.h5")])
