"""Train the face classifier from OpenForensics-layout folders and write model + card to models/.

    python train.py --data ../shared/datasets/dfdc-faces            # one source
    python train.py --arch efficientnet-lite0 --data DFDC --data STYLEGAN_CROPS --sbi DFDC UTK_CROPS LFW_CROPS \
        --real-photos LFW_CROPS UTK_CROPS --source-weight dfdc-faces=0.5 stylegan-crops=0.15 sbi=0.35
    python train.py --quick --data DIR --out /tmp/m                 # seconds; used by the tests

The story: parse options -> build the data (training/sources.py) -> build the network (training/backbones.py,
random or ImageNet weights, or another model's) -> fit with per-source Validation (training/callbacks.py) ->
calibrate, pick the threshold, write model, card and plot (training/export.py) -> with --floor-photos, refit the
threshold on the full path, where users meet it (training/full_path_floor.py).

Each source yields real/fake pairs (pairs.csv, or random pairing); `--sbi` folders yield (real, self-blend of it)
pairs made on the fly. Batches draw pairs from the sources by `--source-weight`. The epoch kept is the one with
the best validation score: the mean (or `--select min`) of the per-source Validation AUCs, where each
`--real-photos` set counts as one more source (its real photos against the fakes of the other sources).

Resumable: checkpoints live in --cache-dir (default ~/.cache/deepfake-detector/train/<run name>); rerun the
same command after a kill and Keras BackupAndRestore continues from the last saved state.
The model and card are written atomically at the very end; an existing model is replaced only with --overwrite.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # before `detector` turns it off for serving: training has fixed shapes

from detector.datasets import find_split
from detector.model import MODELS_DIR, atomic_write
from training.augment import LEVELS
from training.backbones import ARCHITECTURES


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Defaults are shown in each option's help.")
    d = " (default: %(default)s)"
    p.add_argument("--data", nargs="+", action="extend", required=True,
                   help="OpenForensics-layout folder(s); repeat or list several to mix sources")
    p.add_argument("--sbi", nargs="+", action="extend", default=[],
                   help="folders whose Real faces (Train; Validation for scoring) become self-blended pseudo-fakes "
                        "on the fly, as one extra source named 'sbi'; each real is also a plain Real example")
    p.add_argument("--real-photos", nargs="+", action="extend", default=[],
                   help="real-only folders (Validation/Real) checked every epoch: the share called fake, and AUC "
                        "against the other sources' fakes; the threshold keeps that share <= --max-real-fp")
    p.add_argument("--max-real-fp", type=float, default=0.10,
                   help="highest share of each --real-photos set's Validation the threshold may call fake" + d)
    p.add_argument("--floor-photos", nargs="+", action="extend", default=[],
                   help="real-photo folders of whole pictures (Validation/Real): after training, the threshold and band "
                        "are refitted on the full path (MTCNN, crop, model) so that it calls at most --max-real-fp of "
                        "each fake, balanced on the --validation folders' pictures (training.full_path_floor)")
    p.add_argument("--source-weight", nargs="+", action="extend", default=[], metavar="NAME=W",
                   help="sampling weight of a source (folder name, or 'sbi'); unnamed sources get 1")
    p.add_argument("--select", choices=["mean", "min"], default="mean",
                   help="validation score that picks the epoch: mean or minimum of the per-source AUCs" + d)
    p.add_argument("--steps-per-epoch", type=int, default=0,
                   help="batches per epoch (0: one pass over the training pairs of all --data sources)" + d)
    p.add_argument("--sbi-val", type=int, default=300, help="Validation reals per --sbi folder blended for scoring" + d)
    p.add_argument("--arch", choices=ARCHITECTURES, default="efficientnetv2b0", help="network" + d)
    p.add_argument("--init", default=None, metavar="imagenet|random|PATH",
                   help="starting weights: ImageNet (efficientnet-lite0 only: none exist here for EfficientNetV2B0), "
                        "random, or a .keras model of the same architecture (default: imagenet where it exists); "
                        "a resumed run restores its own checkpoint instead")
    p.add_argument("--init-from", dest="init", help=argparse.SUPPRESS)  # the older spelling of --init PATH
    p.add_argument("--head-warmup-steps", type=int, default=None,
                   help="train only the new head this many batches before the whole network (default: 200 from "
                        "ImageNet weights, else 0), so its random gradients do not disturb pretrained features")
    p.add_argument("--freeze-bn", action=argparse.BooleanOptionalAction, default=None,
                   help="keep batch-norm statistics and scales as initialised (default: on from ImageNet weights): "
                        "1.4x faster on CPU, and a real and its fake in one batch cannot see each other's statistics")
    p.add_argument("--validation", nargs="+", default=None,
                   help="dataset(s) whose Validation split picks the epoch and threshold (default: every --data)")
    p.add_argument("--name", default="my-model", help="model name: writes OUT/NAME.keras + NAME.json" + d)
    p.add_argument("--out", default=str(MODELS_DIR), help="folder for the model and card (default: models/)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing model of the same name")
    p.add_argument("--input-size", type=int, default=128, help="pixels per side the network sees" + d)
    p.add_argument("--epochs", type=int, default=12, help=d.strip(" ()"))
    p.add_argument("--batch-size", type=int, default=32, help=d.strip(" ()"))
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (AdamW, cosine decay)" + d)
    p.add_argument("--warmup-epochs", type=float, default=0.5, help="linear learning-rate warm-up" + d)
    p.add_argument("--no-pairs", action="store_true", help="shuffle images instead of keeping real/fake pairs in a batch")
    p.add_argument("--augment", choices=LEVELS, default="light",
                   help="degrade: DFDC-winner style (JPEG 30-100, down-scale 0.25-1, blur, noise, colour, cutout); "
                        "camera: degrade after white balance, sharpening and black and white; mono: only black and white" + d)
    p.add_argument("--augment-source", nargs="+", action="extend", default=[], metavar="NAME=LEVEL",
                   help="a source's own --augment level, for real and fake alike (e.g. dfdc-faces=light: its swap "
                        "traces are fine detail that heavy degradation erases)")
    p.add_argument("--soften-reals", type=float, default=0.0,
                   help="share of real crops (only reals) down-scaled or blurred before --augment, so overall "
                        "softness stops meaning fake (training/augment.py soften_real)" + d)
    p.add_argument("--pair-colour", type=float, default=0.0,
                   help="share of real/fake pairs given one identical colour change (black and white, saturation, "
                        "tone), so colour carries no label (training/augment.py pair_colour)" + d)
    p.add_argument("--match-colour", action="store_true",
                   help="give each fake its pair's real's colour mean and spread before augmenting (pairs sources)")
    p.add_argument("--mask-loss", type=float, default=0.0,
                   help="weight of a second task while training: mark where each fake differs from its own real "
                        "(training/masks.py); the served model is the classifier alone; 0 disables" + d)
    p.add_argument("--framing-jitter", type=float, default=0.06,
                   help="random shift (this fraction of the crop) and zoom (1 +- 1.5x it) of each training crop, "
                        "so the model tolerates MTCNN boxes that land a few pixels off; 0 disables" + d)
    p.add_argument("--max-train-pairs", type=int, default=0, help="use at most this many training pairs (0: all)")
    p.add_argument("--patience", type=int, default=3, help="early stopping on the validation score" + d)
    p.add_argument("--precision", choices=["auto", "float32", "mixed_bfloat16"], default="auto",
                   help="auto: mixed_bfloat16 for efficientnetv2b0 on CPUs with AVX512-BF16/AMX, else float32 "
                        "(bench/train_speed.py: Lite0 trains slower in bfloat16 there)" + d)
    p.add_argument("--cache-dir", default=None, help="checkpoints (default ~/.cache/deepfake-detector/train/NAME)")
    p.add_argument("--backup-every", type=int, default=100, help="save a resumable backup every N steps" + d)
    p.add_argument("--fresh", action="store_true", help="ignore checkpoints of an earlier run of this name")
    p.add_argument("--finalize", action="store_true",
                   help="train no further: write the model and card from the best epoch checkpointed so far (the "
                        "same command without it goes on training from where the run stopped)")
    p.add_argument("--default", action="store_true", help="mark the card as the default model")
    p.add_argument("--seed", type=int, default=1337, help=d.strip(" ()"))
    p.add_argument("--quick", action="store_true", help="tiny model/data for tests: 48 px, 1 epoch, few images")
    a = p.parse_args(argv)
    a.init = a.init or ("imagenet" if a.arch == "efficientnet-lite0" else "random")
    pretrained = a.init == "imagenet"
    a.head_warmup_steps = (200 if pretrained else 0) if a.head_warmup_steps is None else a.head_warmup_steps
    a.freeze_bn = pretrained if a.freeze_bn is None else a.freeze_bn
    if a.quick:
        a.input_size, a.epochs, a.batch_size, a.max_train_pairs, a.patience = 48, 1, 8, 16, 1
        a.backup_every, a.sbi_val = 2, 8
        a.steps_per_epoch = min(a.steps_per_epoch or 4, 4)
        a.head_warmup_steps = min(a.head_warmup_steps, 2)
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    out_dir = Path(args.out)
    model_path, card_path = out_dir / f"{args.name}.keras", out_dir / f"{args.name}.json"
    if model_path.exists() and not args.overwrite:
        print(f"error: {model_path} exists; pass --overwrite to replace it or --name for a new model", file=sys.stderr)
        return 2
    for folder in args.floor_photos:  # refitted after training: an hour in is too late to find a typo
        try:
            find_split(folder, "Validation", ("real",))
        except ValueError as e:
            print(f"error: --floor-photos {folder}: {e}", file=sys.stderr)
            return 2
    out_dir.mkdir(parents=True, exist_ok=True)
    cache = Path(args.cache_dir or Path.home() / ".cache" / "deepfake-detector" / "train" / args.name)

    import keras
    import tensorflow as tf

    from training import callbacks as cb
    from training.backbones import build_classifier, freeze_batch_norm, initialise
    from training.distribute import auto_precision, choose_strategy, patch_keras_for_multi_worker, worker_role
    from training.export import finalise
    from training.masks import VERDICT, cells_of, with_mask_head
    from training.sources import load_real_photos, load_sources, train_dataset

    is_chief, role = worker_role()
    if not is_chief:
        cache = cache / role
    if args.fresh and cache.exists():
        import shutil

        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)

    strategy = choose_strategy()  # first: a multi-worker strategy must exist before other TensorFlow work
    if args.mask_loss and isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        print("error: --mask-loss is not supported across workers (TF_CONFIG) yet: train on one machine", file=sys.stderr)
        return 2
    # A run's checkpoints hold the mask head or not: resuming or finalising with the other setting would silently
    # drop the head and the optimizer state (the learning-rate schedule restarting) or record a wrong card.
    masked = cache / "mask_loss.txt"
    if masked.exists() and float(masked.read_text()) != args.mask_loss:
        print(f"error: the checkpoints in {cache} were trained with --mask-loss {masked.read_text()}; pass the same "
              "(or --fresh to start over)", file=sys.stderr)
        return 2
    masked.write_text(str(args.mask_loss))
    # A resumed run must not replay the data it began with: the training data's seed moves on with the point it
    # resumes from. (With one seed, every resume replayed the first epoch's batches and augmentations: train AUC
    # jumped 0.78 -> 0.83 in such an epoch while Validation stayed flat.) Validation sets keep --seed.
    meta = cache / "backup" / "training_metadata.json"
    resumed = json.loads(meta.read_text()) if meta.exists() else {"epoch": 0, "batch": 0}
    data_seed = args.seed + 1000 * resumed["epoch"] + resumed["batch"]
    keras.utils.set_random_seed(data_seed)
    precision = auto_precision(args.arch) if args.precision == "auto" else args.precision
    keras.mixed_precision.set_global_policy(precision)

    sources, test = load_sources(args)
    real_val, real_test = load_real_photos(args.real_photos, args.quick)
    n_pairs = sum(len(src.train) for src in sources if src.kind == "pairs") or len(sources[0].train)
    steps = args.steps_per_epoch or max(1, n_pairs * 2 // args.batch_size)
    for src in sources:
        print(f"source {src.name}: {len(src.train)} training {'reals to blend' if src.kind == 'sbi' else 'pairs'}, "
              f"weight {src.weight:g}, validation {len(src.val['paths'])} images", file=sys.stderr)
    for name, paths in real_val.items():
        print(f"real photos {name}: {len(paths)} Validation images", file=sys.stderr)
    print(f"{args.arch} from {args.init} weights at {args.input_size} px; {steps} steps/epoch of {args.batch_size}, "
          f"{args.epochs} epochs, test sets: {list(test)}; precision {precision}", file=sys.stderr)

    with strategy.scope():
        model = build_classifier(args.input_size, args.arch)
        initialise(model, args.init)
        if args.freeze_bn:
            freeze_batch_norm(model)

        fit_model = with_mask_head(model) if args.mask_loss else model  # shares the classifier's layers

    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        patch_keras_for_multi_worker(fit_model, strategy, args)

    train_data = train_dataset(sources, args, data_seed, cells_of(model) if args.mask_loss else 0)
    history_csv, best_weights = cache / "history.csv", cache / "best.weights.h5"
    elapsed = cb.ElapsedTime(cache / "elapsed_s.json")  # training time survives restarts
    if args.finalize:
        if not best_weights.exists():  # e.g. a soup of models (training.soup): calibrate and export it as it is
            if not Path(args.init).is_file():
                print(f"error: --finalize needs a finished epoch in {cache} or --init PATH", file=sys.stderr)
                return 2
            print(f"no trained epoch in {cache}: finalising the --init weights ({args.init})", file=sys.stderr)
    else:
        elapsed.start()
        if args.head_warmup_steps and not meta.exists():  # only on a fresh start: a resume restores the head too
            with strategy.scope():
                verdicts = train_data.map(lambda x, y: (x, y[VERDICT])) if args.mask_loss else train_data
                cb.warm_up_head(model, verdicts, args.head_warmup_steps, args.lr)
        with strategy.scope():
            cb.compile_for_training(fit_model, args, steps)
        fit_model.fit(
            train_data,
            steps_per_epoch=steps,
            epochs=args.epochs,
            callbacks=cb.training_callbacks(cache, sources, real_val, args) + [elapsed],
            verbose=1 if sys.stderr.isatty() else 2,
        )
        elapsed.save()

    if not is_chief:
        print(f"{role}: training finished; the chief writes the model", file=sys.stderr)
        return 0
    if best_weights.exists():
        fit_model.load_weights(str(best_weights))
    finalise(model, sources, test, real_val, real_test, args, precision, strategy, steps, n_pairs, elapsed.total(),
             history_csv, model_path, card_path, argv)
    if args.floor_photos:  # crops and the full path disagree on which real photos read fake: fit where users meet it
        from training.full_path_floor import main as refit_threshold
        from training.sources import measured_only

        held_out = measured_only(sources)  # a kind of fake never trained on chooses no threshold either
        fakes = [d for d in (args.validation or args.data) if Path(d).name not in held_out]
        return refit_threshold(["--model", args.name, "--models-dir", str(model_path.parent), "--real",
                                *args.floor_photos, "--fake", *fakes, "--max-real-fp", str(args.max_real_fp), "--write"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
