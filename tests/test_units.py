"""Unit tests of the pure parts: framing, aggregation, tracking, metrics, frame sampling."""
import numpy as np
import pytest

from detector import aggregate as agg
from detector.decode import sample_indices
from detector.metrics import (
    best_threshold, binary_report, bootstrap_interval, lowest_threshold_for_false_positives, roc_auc,
)
from detector.preprocess import crop_box, crop_face
from detector.tracks import link_tracks


def test_crop_box_frames_like_dfdc_faces():
    # A 100x125 MTCNN box: the crop is a square ~1.15 box widths wide, shifted slightly down.
    x1, y1, x2, y2 = crop_box((100, 100, 200, 225), (1000, 1000, 3))
    assert x2 - x1 == y2 - y1
    assert 110 <= x2 - x1 <= 122
    assert (y1 + y2) / 2 > 162.5  # centre below the box centre


def test_crop_face_pads_at_the_border():
    img = np.full((100, 100, 3), 7, np.uint8)
    crop = crop_face(img, (-20, -20, 40, 50))
    assert crop.shape[0] == crop.shape[1] > 0
    assert (crop == 7).all()  # edge-replicated, no black frame


@pytest.mark.parametrize("box", [(-20, -20, 40, 50), (30, 10, 70, 60), (90, 80, 130, 140),
                                 (150, 20, 190, 60), (-90, -70, -50, -20), (10, 120, 40, 160)])
def test_crop_face_equals_cropping_the_edge_padded_picture(box):
    """crop_face pads only the part of the box inside the picture, never the whole picture; the pixels must be
    those of cropping the picture padded with its edges (boxes partly and wholly outside included)."""
    img = np.random.default_rng(0).integers(0, 255, (100, 120, 3), dtype=np.uint8)
    x1, y1, x2, y2 = crop_box(box, img.shape)
    k = 200
    expected = np.pad(img, ((k, k), (k, k), (0, 0)), mode="edge")[y1 + k:y2 + k, x1 + k:x2 + k]
    assert np.array_equal(crop_face(img, box), expected)


def test_resize_for_model_keeps_0_255_range():
    from detector.preprocess import resize_for_model

    out = resize_for_model(np.full((2, 224, 224, 3), 255, np.uint8), 128).numpy()
    assert out.shape == (2, 128, 128, 3) and out.dtype == np.float32
    assert np.allclose(out, 255.0)  # Keras EfficientNetV2 expects 0-255, not 0-1


def test_strategies():
    frames = [[0.9, 0.1], [0.95, 0.2], [0.85]]
    assert agg.mean(frames) == pytest.approx(np.mean([0.9, 0.1, 0.95, 0.2, 0.85]))
    assert agg.max_face_mean(frames) == pytest.approx(np.mean([0.9, 0.95, 0.85]))
    assert agg.confident_mean(frames) == pytest.approx(np.mean([0.9, 0.95, 0.85]))  # 3/5 confidently fake
    assert agg.confident_mean([[0.05], [0.1], [0.15]]) == pytest.approx(0.1)
    assert agg.confident_mean([[0.3], [0.9], [0.1], [0.5], [0.5]]) == pytest.approx(0.46)
    assert agg.aggregate([[], []]) is None  # no face: no made-up score
    with pytest.raises(ValueError):
        agg.aggregate([[0.5]], "nope")


def test_tracks_follow_two_people():
    a = lambda x: (x, 100, x + 80, 200)  # noqa: E731
    b = lambda x: (x + 400, 100, x + 480, 200)  # noqa: E731
    frames = [[a(0), b(0)], [b(5), a(5)], [a(10)], [], [b(15), a(15)]]
    ids = link_tracks(frames)
    assert ids[0] == [0, 1] and ids[1] == [1, 0] and ids[2] == [0] and ids[4] == [1, 0]


def test_sample_indices_even_and_bounded():
    idx = sample_indices(300, 32)
    assert len(idx) == 32 and idx[0] >= 0 and idx[-1] < 300
    assert max(np.diff(idx)) - min(np.diff(idx)) <= 1
    assert sample_indices(5, 32) == [0, 1, 2, 3, 4]
    assert sample_indices(0, 32) == []


def test_metrics():
    y = [0, 0, 1, 1]
    assert roc_auc(y, [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert roc_auc(y, [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.5)
    t = best_threshold(y, [0.1, 0.2, 0.7, 0.8])
    rep = binary_report(y, [0.1, 0.2, 0.7, 0.8], t)
    assert rep["accuracy"] == 1.0 and rep["confusion_matrix"] == [[2, 0], [0, 2]]


def test_threshold_for_real_photos_holds_the_false_positive_share():
    rng = np.random.default_rng(3)
    reals = rng.uniform(0, 1, 1000)
    for share in (0.0, 0.05, 0.1, 0.5):
        t = lowest_threshold_for_false_positives(reals, share)
        assert np.mean(reals >= t) <= share  # at most that share called fake...
        assert np.mean(reals >= np.nextafter(t, -np.inf) - 1e-9) > share or t == 0.0  # ...and it is the lowest
    assert lowest_threshold_for_false_positives(reals, 1.0) == 0.0
    tied = np.full(6, 0.5224, np.float32)  # float32 model scores, all equal: none may be called fake at 25 %
    assert np.mean(tied >= lowest_threshold_for_false_positives(tied, 0.25)) == 0.0
    # the balanced-accuracy threshold never goes below the floor, even when a lower one separates better
    y, s = [0, 0, 1, 1], [0.1, 0.2, 0.3, 0.9]
    assert best_threshold(y, s) == pytest.approx(0.3)
    assert best_threshold(y, s, at_least=0.5) >= 0.5


def test_auc_matches_the_pairwise_definition_with_ties():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = rng.integers(0, 20, 300) / 20 + 0.1 * y  # many ties, some signal
    pos, neg = s[y == 1], s[y == 0]
    pairwise = ((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean()
    assert roc_auc(y, s) == pytest.approx(pairwise)


def test_bootstrap_interval_holds_the_estimate_and_narrows_with_more_data():
    rng = np.random.default_rng(2)
    widths = []
    for n in (50, 800):
        y = np.repeat([0, 1], n)
        s = rng.normal(y, 1.0)
        lo, hi = bootstrap_interval(y, s, roc_auc, rounds=300)
        assert lo < roc_auc(y, s) < hi
        widths.append(hi - lo)
    assert widths[1] < widths[0] / 2
    assert all(np.isnan(bootstrap_interval([1, 1], [0.2, 0.3], roc_auc)))


def test_prefetch_keeps_order_and_reraises():
    from detector.decode import prefetch
    from detector.errors import InputError

    assert list(prefetch(iter(range(50)), depth=3)) == list(range(50))

    def broken():
        yield 1
        raise InputError("corrupt at frame 2")

    it = prefetch(broken())
    assert next(it) == 1
    with pytest.raises(InputError, match="frame 2"):
        next(it)


def test_temperature_scaling_recovers_a_known_temperature():
    from detector.calibration import apply_temperature, fit_temperature, logit

    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 20000)  # true logits
    y = (rng.random(20000) < 1 / (1 + np.exp(-z))).astype(int)
    overconfident = 1 / (1 + np.exp(-3 * z))  # a model 3x too sure of itself
    t = fit_temperature(y, overconfident)
    assert 2.7 < t < 3.3
    ok = np.abs(3 * z) < 12  # probabilities this close to 0 or 1 are clipped before taking the logit
    np.testing.assert_allclose(logit(apply_temperature(overconfident, t))[ok], (3 * z / t)[ok], atol=1e-3)
    assert (apply_temperature(overconfident, 1.0) == overconfident.astype(np.float32)).all()


def test_balanced_temperature_lets_a_small_source_weigh_as_much_as_a_large_one():
    """9,000 examples 3x over-confident and 1,000 well calibrated: pooled, the large source sets T near 3;
    with every source weighing the same, T lands between the two sources' own temperatures."""
    from detector.calibration import fit_temperature, source_weights

    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, 10000)
    y = (rng.random(10000) < 1 / (1 + np.exp(-z))).astype(int)
    p = 1 / (1 + np.exp(-np.where(np.arange(10000) < 9000, 3 * z, z)))
    w = source_weights([9000, 1000])
    assert np.isclose(w[:9000].sum(), 1) and np.isclose(w[9000:].sum(), 1)
    pooled, balanced = fit_temperature(y, p), fit_temperature(y, p, w)
    assert pooled > 2.7 and 1.3 < balanced < 2.5


def test_sbi_blend_is_deterministic_and_changes_the_face_not_the_corners(astronaut):
    import cv2

    from data_prep.sbi import blend_crop

    crop = cv2.resize(astronaut[40:200, 140:300], (224, 224))
    a, b = blend_crop(crop, 5), blend_crop(crop, 5)
    assert (a == b).all() and not (blend_crop(crop, 6) == a).all()
    diff = np.abs(a.astype(int) - crop.astype(int)).sum(-1)
    assert diff[70:160, 70:160].mean() > 3 * max(diff[:20, :20].mean(), 0.5)


def test_a_brief_false_track_decides_no_strategy_score():
    """Per strategy, the video's score is its most fake *counted* person, as the reported score is: a face seen in
    one frame (likely a false detection) changes neither (it once swayed strategy_scores, pooled over all faces)."""
    from detector.model import ModelCard
    from detector.pipeline import decide
    from detector.results import AnalysisResult, FaceResult, FrameResult

    faces = [FaceResult((0, 0, 9, 9), 0.99, {}, 0.2, "real", frame=i, person=0) for i in range(8)]
    faces.append(FaceResult((50, 50, 59, 59), 0.9, {}, 0.95, "fake", frame=3, person=1))
    frames = [FrameResult(i, i / 10, 2 if i == 3 else 1, None) for i in range(8)]
    res = decide(AnalysisResult(path="v.mp4", verdict="real", kind="video", faces=faces, frames=frames), 0.5,
                 card=ModelCard(name="t", input_size=64, threshold=0.5))
    assert res.fake_probability == pytest.approx(0.2) and res.verdict == "real"
    assert res.strategy_scores == pytest.approx({"mean": 0.2, "max_face_mean": 0.2, "confident_mean": 0.2})
    assert [p.counted for p in res.persons] == [True, False]



def test_a_small_face_beside_a_larger_one_does_not_decide_a_picture():
    """A small (blurred, background) face scoring fake does not make a picture with a larger real-looking face
    fake; it is shown, marked not counted. Alone, it decides, at any threshold."""
    from detector.model import ModelCard
    from detector.pipeline import SMALL_FACE_SIDE, decide
    from detector.results import AnalysisResult, FaceResult

    card = ModelCard(name="t", input_size=64, threshold=0.5)
    side = SMALL_FACE_SIDE
    big = FaceResult((100, 100, 100 + 2 * side, 100 + 2 * side), 0.99, {}, 0.2, "real")
    small = FaceResult((10, 10, 10 + side - 1, 10 + 2 * side), 0.9, {}, 0.9, "fake")  # narrower than the limit
    both = decide(AnalysisResult(path="p.jpg", verdict="real", kind="image", faces=[big, small]), 0.5, card=card)
    assert both.fake_probability == pytest.approx(0.2) and both.verdict == "real"
    assert [f.counted for f in both.faces] == [True, False] and both.faces[1].verdict == "fake"
    assert decide(both, 0.1, card=card).fake_probability == pytest.approx(0.2)  # the slider does not bring it back
    alone = FaceResult((10, 10, 10 + side - 1, 10 + side - 1), 0.9, {}, 0.9, "fake")
    res = decide(AnalysisResult(path="q.jpg", verdict="real", kind="image", faces=[alone]), 0.5, card=card)
    assert res.fake_probability == pytest.approx(0.9) and res.verdict == "fake" and res.faces[0].counted
    edge = FaceResult((10, 10, 10 + side, 10 + side), 0.9, {}, 0.9, "fake")  # exactly the limit: counted
    res = decide(AnalysisResult(path="r.jpg", verdict="real", kind="image", faces=[big, edge]), 0.5, card=card)
    assert res.verdict == "fake" and all(f.counted for f in res.faces)


def test_sharpness_bench_finds_a_blur_shortcut(tmp_path, capsys):
    """bench/sharpness.py: fakes that are blurred copies of the reals are told apart by sharpness alone."""
    import cv2

    from bench.sharpness import main

    rng = np.random.default_rng(0)
    for label in ("Real", "Fake"):
        (tmp_path / "Validation" / label).mkdir(parents=True)
    for i in range(8):
        face = rng.integers(0, 256, (96, 96, 3), np.uint8)
        cv2.imwrite(str(tmp_path / "Validation" / "Real" / f"{i}.png"), face)
        cv2.imwrite(str(tmp_path / "Validation" / "Fake" / f"{i}.png"), cv2.GaussianBlur(face, (7, 7), 2))
    assert main([str(tmp_path), "--per-class", "8", "--size", "64"]) == 0
    row = capsys.readouterr().out.strip().splitlines()[-1].split("|")
    assert row[2].strip() == row[3].strip() == "8"
    assert float(row[4]) > float(row[5]) and float(row[6]) == 0.0  # every fake blurrier than every real


def test_match_sharpness_blurs_fakes_to_the_reals_sharpness(tmp_path):
    """data_prep.match_sharpness: fakes sharper than every real come out with the reals' median sharpness (so
    sharpness no longer tells the classes apart), and reals are links to the originals."""
    import cv2

    from data_prep.match_sharpness import match, sharpness
    from detector.metrics import roc_auc

    rng = np.random.default_rng(0)
    src = tmp_path / "src"
    for label in ("Real", "Fake"):
        (src / "Train" / label).mkdir(parents=True)
    for i in range(12):
        noise = rng.integers(0, 256, (120, 120, 3), np.uint8)
        cv2.imwrite(str(src / "Train" / "Real" / f"r{i}.png"), cv2.GaussianBlur(noise, (0, 0), 1.0 + 0.2 * i))
        cv2.imwrite(str(src / "Train" / "Fake" / f"f{i}.png"), noise)  # every fake sharper than every real
    assert set(match(src, tmp_path / "out", size=64)) == {"Train"}
    load = lambda p: cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)  # noqa: E731
    reals = sorted((tmp_path / "out" / "Train" / "Real").iterdir())
    fakes = sorted((tmp_path / "out" / "Train" / "Fake").iterdir())
    assert len(reals) == len(fakes) == 12 and all(p.is_symlink() for p in reals)
    before = [sharpness(load(p), 64) for p in sorted((src / "Train" / "Fake").iterdir())]
    r, f = [sharpness(load(p), 64) for p in reals], [sharpness(load(p), 64) for p in fakes]
    assert roc_auc(np.r_[np.zeros(12), np.ones(12)], np.r_[r, before]) == 1.0
    assert 0.3 <= roc_auc(np.r_[np.zeros(12), np.ones(12)], np.r_[r, f]) <= 0.7
    assert abs(np.median(f) - np.median(r)) < 0.25 * np.median(r)


def test_full_path_bench_paired_bootstrap_sees_a_real_gap_and_no_gap():
    """bench/full_path_threshold.py --bootstrap: the same scores give a zero difference; a model whose fakes all
    score higher (its real photos unchanged) catches more at every resample."""
    from bench.full_path_threshold import caught_at_floor, floor_for, paired_bootstrap

    rng = np.random.default_rng(1)
    real = {"lfw": rng.uniform(0, 0.6, 300), "utk": rng.uniform(0, 0.7, 200)}
    y = np.r_[np.zeros(100, int), np.ones(100, int)]
    fakes = rng.uniform(0.3, 1.0, 200)
    a = {**real, "dfdc": fakes}
    better = {**real, "dfdc": np.where(y == 1, np.minimum(fakes + 0.15, 1.0), fakes)}
    t = floor_for(list(real.values()), 0.05)
    assert np.mean(real["utk"] >= t) <= 0.05 and np.mean(real["lfw"] >= t) <= 0.05
    assert caught_at_floor(list(real.values()), better["dfdc"][y == 1], 0.05) > caught_at_floor(
        list(real.values()), fakes[y == 1], 0.05)
    ci = paired_bootstrap({"a": a, "same": dict(a), "better": better}, ["lfw", "utk"], {"dfdc": y}, 0.05, 200)
    assert ci[("same", "dfdc")] == (0.0, 0.0)
    assert ci[("better", "dfdc")][0] > 0


def test_full_path_bench_flip_scores_a_face_as_the_mean_logit_of_it_and_its_mirror(tiny_models_dir, astronaut):
    """bench/full_path_threshold.py --flip, on a real (tiny) Keras classifier: a face scores the mean logit of its
    crop and its mirror image; a mirror-symmetric crop scores what it did."""
    from bench.full_path_threshold import average_with_mirror
    from detector.calibration import logit
    from detector.model import load_classifier

    clf = load_classifier(models_dir=tiny_models_dir)  # one model load: its plain scores first, then flipped
    crop = np.ascontiguousarray(astronaut[40:200, 140:300])
    symmetric = np.concatenate([crop[:, :80], crop[:, :80][:, ::-1]], 1)
    own, mirror = clf.score([crop])[0], clf.score([np.ascontiguousarray(crop[:, ::-1])])[0]
    plain_symmetric = clf.score([symmetric])[0]
    assert abs(logit(own) - logit(mirror)) > 1e-4  # the mirror image scores differently (untrained: near 0.5)
    average_with_mirror(clf)
    got = clf.score([crop, symmetric])
    assert logit(got[0]) == pytest.approx((logit(own) + logit(mirror)) / 2, abs=1e-5)
    assert logit(got[1]) == pytest.approx(logit(plain_symmetric), abs=1e-5)


def test_evaluate_tells_sources_trained_on_from_sources_never_seen():
    from detector.evaluate import source_family, trained_on

    assert source_family("lfw-real") == source_family("lfw-crops") == "lfw"
    assert source_family("portraits-unseen") != source_family("portraits-real")
    card = {"training": {"command": "python train.py --data ../shared/datasets/dfdc-faces /c/lfw-crops "
                                    "--sbi /c/utkface-crops ../shared/datasets/portraits-real --name x"}}
    assert trained_on(card, "lfw-real") and trained_on(card, "utkface-real") and trained_on(card, "portraits-real")
    assert trained_on(card, "portraits-unseen") is False and trained_on(card, "stylegan-faces") is False
    assert trained_on({}, "lfw-real") is None
