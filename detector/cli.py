"""python -m detector PATH... : scan images and videos; JSON Lines (default) or CSV on stdout.

Exit status: 0 when every file was analysed (whatever the verdicts), 1 when some file failed, 2 when the
model could not be loaded."""
from __future__ import annotations

import argparse
import csv
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from .aggregate import DEFAULT_STRATEGY, STRATEGIES  # noqa: E402
from .progname import invoked_as  # noqa: E402

CSV_COLUMNS = ["path", "kind", "verdict", "call", "fake_probability", "threshold", "model", "faces", "persons",
               "frames", "message", "sha256", "unfamiliar", "unfamiliar_share", "black_and_white",
               "credentials", "evidence"]  # new ones last: scripts index them


EPILOG = """output: one JSON object per file on stdout (JSON Lines; --csv for a table), a progress bar on stderr.
Each has verdict (real/fake at the threshold, no_face or error) and call (likely_real, inconclusive or
likely_fake: inconclusive inside the model card's band at the card's threshold; with --threshold, your threshold
calls every file; null without a face), and unfamiliar (true when
at least half the faces are unlike the pictures the model was trained on: treat the score as unreliable; each face
has its own ood_distance and unfamiliar; null for a model without OOD stats), and black_and_white (true for a
picture without colour, or a video whose sampled frames all are: the bundled model misses many more such fakes),
and evidence: what the file says about itself (C2PA Content Credentials, EXIF/XMP, generator text chunks), one
finding per line with its strength (strong: signed and valid; weak: plain metadata), apart from the model's score.
exit status: 0 every file was analysed (whatever the verdicts), 1 some file failed (its line says why and the
scan goes on), 2 no model could be loaded.

example (from a checkout; installed from the wheel, the command is deepfake-detect):
  python -m detector photo.jpg clip.mp4 uploads/ > results.jsonl"""


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog=invoked_as("detector"), description="Deepfake detector: scan images and videos.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", help="image/video files or folders (searched recursively)")
    p.add_argument("--csv", action="store_true", help="write a CSV table instead of JSON Lines")
    p.add_argument("--model", default=None, help="model name in models/ (default: the card marked default)")
    p.add_argument("--models-dir", default=None,
                   help="folder of NAME.keras + NAME.json (default: $DEEPFAKE_MODELS_DIR, else the bundled models/)")
    p.add_argument("--threshold", type=float, default=None, help="fake if probability >= this (default: model card); a threshold of your own calls every file "
                   "(no inconclusive)")
    p.add_argument("--frames", type=int, default=32, help="frames sampled per video (default: 32)")
    p.add_argument("--strategy", choices=sorted(STRATEGIES), default=DEFAULT_STRATEGY,
                   help=f"how a video's faces make its score (default: {DEFAULT_STRATEGY})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--report", metavar="DIR", default=None,
                   help="also write NAME.report.json and a printable NAME.report.html for each file into DIR")
    return p.parse_args(argv)


def _row(r) -> dict:
    from .evidence import csv_fields

    d = r.to_dict()
    return {"path": d["path"], "kind": d["kind"], "verdict": d["verdict"], "call": d["call"] or "",
            "fake_probability": d["fake_probability"],
            "threshold": d["threshold"], "model": d["model"], "faces": len(d["faces"]), "persons": len(d["persons"]),
            "frames": len(d["frames"]), "message": d["message"] or "", "sha256": d["provenance"].get("file_sha256"),
            "unfamiliar": "" if d["unfamiliar"] is None else d["unfamiliar"],
            "unfamiliar_share": "" if d["unfamiliar_share"] is None else round(d["unfamiliar_share"], 4),
            "black_and_white": "" if d["black_and_white"] is None else d["black_and_white"],
            **csv_fields(d["evidence"])}


# Keras, which `import tensorflow` loads, imports pandas and matplotlib at start-up only to accept DataFrames and
# draw image galleries when they are installed (each behind `except ImportError`); the CLI uses neither. Hidden
# while TensorFlow loads, they cost nothing: ~2 s less CPU for a cold one-photo run on 2 loaded cores
# (`python bench/cli_cold.py`, docs/performance.md).
UNUSED_BY_KERAS_HERE = ("pandas", "matplotlib")


def import_tensorflow_without_extras() -> None:
    """Import TensorFlow (and so Keras) with UNUSED_BY_KERAS_HERE hidden; a no-op once TensorFlow is loaded. They
    are unhidden afterwards: code that imports them later still can, Keras just does not support them."""
    if "tensorflow" in sys.modules:
        return
    hidden = [m for m in UNUSED_BY_KERAS_HERE if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None  # `import m` raises ImportError
    try:
        import tensorflow  # noqa: F401
    finally:
        for m in hidden:
            if sys.modules.get(m, ...) is None:
                del sys.modules[m]


def run() -> None:
    """The command (`deepfake-detect`, `python -m detector`): main(), then out without the interpreter's teardown.
    Every file is closed and the output flushed by then; what is left is TensorFlow's and Keras' module teardown,
    1.0-1.4 s after the last answer on this machine (docs/performance.md, "CLI cold start")."""
    try:
        code = main()
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (`| head -1`): nothing left to say to it, and no traceback
        code = 1
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        code = 130
    os._exit(code)


def main(argv=None) -> int:
    args = parse_args(argv)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .errors import ModelError
    from .pipeline import Detector, iter_media
    from .provenance import stamp
    from .report import write_reports

    err = Console(stderr=True)
    files = list(iter_media(args.paths))
    if not files:
        err.print("No image or video files found in the given paths.")
        return 1
    if args.report:
        try:
            os.makedirs(args.report, exist_ok=True)
        except OSError as e:
            err.print(f"[red]error:[/] cannot create the report folder: {e}")
            return 1
    try:
        with err.status("Loading face detector and model..."):
            import_tensorflow_without_extras()
            detector = Detector(model=args.model, models_dir=args.models_dir)
    except ModelError as e:
        err.print(f"[red]error:[/] {e}")
        return 2
    err.print(f"model {detector.card.name} (threshold {detector.card.threshold:.4f}) on {detector.device}")
    writer = csv.DictWriter(sys.stdout, CSV_COLUMNS) if args.csv else None
    if writer:
        writer.writeheader()
    failed = 0
    reported: set[str] = set()  # two clip.mp4 from different folders must not overwrite each other's reports
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err, disable=args.no_progress, transient=False)
    with progress:
        files_task = progress.add_task("files", total=len(files))
        frames_task = progress.add_task("frames", total=None, visible=False)

        def on_frame(done, total):
            progress.update(frames_task, completed=done, total=total, visible=True)

        for path in files:
            progress.update(files_task, description=f"files ({os.path.basename(path)[:30]})")
            r = detector.analyse_path(path, n_frames=args.frames, strategy=args.strategy, threshold=args.threshold,
                                      progress=on_frame, keep_frames=bool(args.report))
            stamp(r, detector.card, path)
            if args.report:
                try:
                    write_reports(r, detector.classifier, args.report, taken=reported)
                except OSError as e:  # a full disk: this file's report is missing, say so and go on
                    failed += 1
                    progress.console.print(f"[red]{path}[/]: report not written ({e})")
            progress.update(frames_task, visible=False, completed=0)
            if r.verdict == "error":
                failed += 1
                progress.console.print(f"[red]{path}[/]: {r.message}")
            if writer:
                writer.writerow(_row(r))
            else:
                sys.stdout.write(r.to_json() + "\n")
            sys.stdout.flush()
            progress.advance(files_task)
    err.print(f"{len(files)} files, {failed} failed")
    return 1 if failed else 0
