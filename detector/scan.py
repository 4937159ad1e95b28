"""python -m detector.scan INPUT... --out DIR : score an archive on Ray Data, resumably, into Parquet files.

    python -m detector.scan /archive/uploads --out scans/2026-11-25             # a local Ray on this machine
    python -m detector.scan paths.txt --out scans/x --address ray://head:10001  # join a running cluster
    RAY_ADDRESS=head:6379 python -m detector.scan /nfs/archive --out /nfs/scans/x

INPUT: media files, folders (searched recursively) or .txt files listing one path per line. The files are
listed, then Ray Data hands them in small blocks to a pool of actors, each of which loads one `Detector` once
and scores its files exactly as `python -m detector` does; every block is written to DIR as a Parquet file as
soon as it is scored. Rerun the same command after a crash or a kill and only the files not yet in DIR are
scored (a Parquet file cut off mid-write is removed and its files scored again). A file that fails gets an
error row; the scan goes on. The terminal shows a progress bar and a summary; Ray's own log goes to
DIR/_ray.log. Rows: path (absolute), kind, verdict, call, fake_probability, message, model, threshold,
n_faces, seconds, detail (the CLI's full JSON record), and the provenance: sha256, size_bytes, analysed_at_utc,
model_card_sha256, package_version, band; then unfamiliar and unfamiliar_share (faces unlike the training ones,
detector.ood; null without OOD stats or faces) and black_and_white (no colour, detector.colour: fakes turned grey
are caught less often where the card says so; null where nothing was decoded); credentials (C2PA state and what
it says, e.g. "valid_untrusted: generated") and evidence (the strongest finding, detector.evidence). Read them with
detector.scan.read_results(DIR), one row per path (pd.read_parquet(DIR) may repeat a path whose block a killed
run wrote late).

On a cluster every node needs this checkout and its virtual environment at the same path, and the inputs and
DIR on storage all nodes see (NFS, a mounted bucket). Ray is imported here only: the rest of the package never
loads it.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path

from .progname import invoked_as

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ["path", "kind", "verdict", "call", "fake_probability", "message", "model", "threshold", "n_faces",
           "seconds", "detail", "sha256", "size_bytes", "analysed_at_utc", "model_card_sha256", "package_version",
           "band", "unfamiliar", "unfamiliar_share", "black_and_white", "credentials", "evidence"]
# Provenance columns (detector.provenance): scan column -> key of the provenance block
PROVENANCE_COLUMNS = {"sha256": "file_sha256", "size_bytes": "file_size_bytes", "analysed_at_utc": "analysed_at_utc",
                      "model_card_sha256": "model_card_sha256", "package_version": "package_version", "band": "band"}


def schema():
    import pyarrow as pa

    return pa.schema([("path", pa.string()), ("kind", pa.string()), ("verdict", pa.string()), ("call", pa.string()),
                      ("fake_probability", pa.float64()), ("message", pa.string()), ("model", pa.string()),
                      ("threshold", pa.float64()), ("n_faces", pa.int64()), ("seconds", pa.float64()),
                      ("detail", pa.string()), ("sha256", pa.string()), ("size_bytes", pa.int64()),
                      ("analysed_at_utc", pa.string()), ("model_card_sha256", pa.string()),
                      ("package_version", pa.string()), ("band", pa.string()),  # band: JSON, its shape is the card's
                      ("unfamiliar", pa.bool_()), ("unfamiliar_share", pa.float64()),
                      ("black_and_white", pa.bool_()),
                      ("credentials", pa.string()), ("evidence", pa.string())])


def list_inputs(inputs) -> list[str]:
    """Absolute paths of the media files under the inputs, in order, each once."""
    from .pipeline import iter_media

    out: dict[str, None] = {}
    for item in inputs:
        p = Path(item)
        if p.is_file() and p.suffix.lower() == ".txt":
            listed = [line.strip() for line in p.read_text().splitlines() if line.strip() and not line.startswith("#")]
            out.update((os.path.abspath(f), None) for f in iter_media(listed))
        else:
            out.update((os.path.abspath(f), None) for f in iter_media([item]))
    return list(out)


def done_paths(out_dir: Path) -> set[str]:
    """Paths already scored in out_dir. Parquet files that cannot be read (cut off by a kill) are removed."""
    import pyarrow.parquet as pq

    done: set[str] = set()
    for f in sorted(out_dir.glob("*.parquet")):
        try:
            done.update(pq.read_table(f, columns=["path"]).column("path").to_pylist())
        except Exception as e:  # a truncated file: its rows are scored again
            print(f"removing unreadable {f.name} ({type(e).__name__}); its files will be scored again", file=sys.stderr)
            f.unlink()
    return done


def read_results(out_dir: Path):
    """All rows of a scan folder as one pyarrow Table, one row per path. A path can be on disk twice: a killed
    run's last block may still land while the rerun scores the same files (seen on a loaded machine); the first
    row found is kept."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(f) for f in sorted(Path(out_dir).glob("*.parquet"))]
    # "default" promotion: a folder begun before the provenance (or later) columns existed reads with nulls there
    table = pa.concat_tables(tables, promote_options="default") if tables else schema().empty_table()
    first = {}
    for i, path in enumerate(table.column("path").to_pylist()):
        first.setdefault(path, i)
    return table if len(first) == table.num_rows else table.take(list(first.values()))


class ScoreFiles:
    """A Ray actor: one Detector, loaded once, scoring batches of paths into rows."""

    def __init__(self, model=None, models_dir=None, frames: int = 32, strategy=None, threshold=None):
        from .aggregate import DEFAULT_STRATEGY
        from .pipeline import Detector

        self.detector = Detector(model=model, models_dir=models_dir)
        self.kw = {"n_frames": frames, "strategy": strategy or DEFAULT_STRATEGY, "threshold": threshold}

    def __call__(self, batch):
        import pyarrow as pa

        from .evidence import csv_fields
        from .provenance import stamp

        rows = []
        for path in batch["path"].to_pylist():
            t = time.perf_counter()
            try:
                r = self.detector.analyse_path(path, **self.kw)
            except Exception as e:  # anything analyse_path did not turn into a message: still one row, scan goes on
                r = self.detector.error_result(path, f"Analysis failed ({type(e).__name__}: {e})",
                                               threshold=self.kw["threshold"])
            d = stamp(r, self.detector.card, path).to_dict()  # the provenance with the threshold and band in force
            prov = {col: d["provenance"][key] for col, key in PROVENANCE_COLUMNS.items()}
            prov["band"] = None if prov["band"] is None else json.dumps(prov["band"])
            rows.append({"path": path, "kind": r.kind, "verdict": r.verdict, "call": r.call,
                         "fake_probability": r.fake_probability,
                         "message": r.message, "model": r.model, "threshold": r.threshold, "n_faces": len(r.faces),
                         "seconds": round(time.perf_counter() - t, 3), "detail": json.dumps(d), **prov,
                         "unfamiliar": r.unfamiliar, "unfamiliar_share": r.unfamiliar_share,
                         "black_and_white": r.black_and_white,
                         **{k: v or None for k, v in csv_fields(r.evidence).items()}})
        return pa.Table.from_pylist(rows, schema=schema())


RAY_LOG = "_ray.log"  # a leading "_": pyarrow and pandas skip it when reading the folder as a dataset


@contextlib.contextmanager
def output_to(log_path: Path):
    """Send everything this process and its children write to stdout/stderr to log_path while inside: Ray writes
    ~30 lines there (its C++ core included: a token WARNING, `E ... core_worker` lines) that tell a user nothing.
    Yields a stream on the real stderr for what the user should see."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    with open(log_path, "ab") as log:
        for fd in saved:
            os.dup2(log.fileno(), fd)
    terminal = os.fdopen(os.dup(saved[2]), "w", buffering=1)
    try:
        yield terminal
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        terminal.close()


@contextlib.contextmanager
def progress_bar(out: Path, todo: list[str], terminal):
    """A progress bar of the files in `todo` scored, counted from the paths in the Parquet files that appear in
    `out` (Ray writes one per block as soon as it is scored; each path counted once, whoever wrote it); drawn by
    a thread while the caller waits on Ray."""
    import pyarrow.parquet as pq
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    wanted = set(todo)
    before = {f.name for f in out.glob("*.parquet")}
    seen: set[str] = set()
    found: set[str] = set()
    stop = threading.Event()

    def scored() -> int:
        for f in out.glob("*.parquet"):
            if f.name not in before and f.name not in seen:
                try:
                    found.update(pq.read_table(f, columns=["path"]).column("path").to_pylist())
                    seen.add(f.name)
                except Exception:  # still being written: counted on a later look
                    pass
        return len(found & wanted)

    def draw() -> None:
        with Progress(TextColumn("files scored"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(file=terminal)) as bar:
            task = bar.add_task("scan", total=len(wanted))
            while not stop.wait(1.0):
                bar.update(task, completed=scored())
            bar.update(task, completed=scored())  # the last blocks, before the bar is drawn for good

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=invoked_as("detector.scan"), description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", help="files, folders, or .txt files with one path per line")
    p.add_argument("--out", required=True, help="folder for the Parquet results (created; reused to resume)")
    p.add_argument("--address", default=None, help="Ray cluster to join (default: $RAY_ADDRESS, else a local Ray)")
    p.add_argument("--actors", type=int, default=2, help="scoring actors, each with its own Detector (default: 2)")
    p.add_argument("--cpus-per-actor", type=float, default=0.5,
                   help="Ray CPUs per actor (default: 0.5; 1 each deadlocks a 2-core machine)")
    p.add_argument("--files-per-block", type=int, default=4,
                   help="files per written Parquet file, the resume granularity (default: 4)")
    p.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray (default: all)")
    p.add_argument("--model", default=None, help="model name (default: the card marked default)")
    p.add_argument("--models-dir", default=None,
                   help="folder of NAME.keras + NAME.json (default: $DEEPFAKE_MODELS_DIR, else the bundled models/)")
    p.add_argument("--frames", type=int, default=32, help="frames sampled per video (default: 32)")
    p.add_argument("--threshold", type=float, default=None, help="fake if probability >= this (default: model card)")
    a = p.parse_args(argv)

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    files = list_inputs(a.inputs)
    if not files:
        print("No image or video files found in the given inputs.", file=sys.stderr)
        return 1
    done = done_paths(out)
    todo = [f for f in files if f not in done]
    print(f"{len(files)} files: {len(files) - len(todo)} already in {out}, {len(todo)} to score", file=sys.stderr)
    if todo:
        import ray

        address = a.address or os.environ.get("RAY_ADDRESS")
        # MALLOC_ARENA_MAX=2 as for the app's server: a long-lived actor's memory then settles instead of
        # fragmenting upward (`python bench/fuzz.py --replay 10`, with and without it).
        env = {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "MALLOC_ARENA_MAX": "2"}
        t0 = time.time()
        with output_to(out / RAY_LOG) as terminal, progress_bar(out, todo, terminal):
            ray.init(address=address, num_cpus=None if address else a.num_cpus, include_dashboard=False,
                     log_to_driver=False, runtime_env={"env_vars": env})
            ray.data.DataContext.get_current().enable_progress_bars = False  # ours is on the terminal
            ds = ray.data.from_items([{"path": f} for f in todo],
                                     override_num_blocks=max(1, -(-len(todo) // a.files_per_block)))
            ds = ds.map_batches(
                ScoreFiles, fn_constructor_kwargs={"model": a.model, "models_dir": a.models_dir, "frames": a.frames,
                                                   "threshold": a.threshold},
                batch_size=a.files_per_block, batch_format="pyarrow", num_cpus=a.cpus_per_actor,
                compute=ray.data.ActorPoolStrategy(size=a.actors))
            ds.write_parquet(str(out))
            ray.shutdown()
        print(f"scored {len(todo)} files in {time.time() - t0:.1f} s (Ray's own log: {out / RAY_LOG})", file=sys.stderr)
    table = read_results(out)
    verdicts = table.column("verdict").to_pylist() if table.num_rows else []
    summary = {v: verdicts.count(v) for v in ("real", "fake", "no_face", "error")}
    unsure = table.column("call").to_pylist().count("inconclusive") if "call" in table.column_names else 0
    flags = {c: table.column(c).to_pylist().count(True) if c in table.column_names else 0
             for c in ("unfamiliar", "black_and_white")}
    print(f"{out}: {table.num_rows} rows " + " ".join(f"{k}={n}" for k, n in summary.items())
          + f" (inconclusive={unsure}, " + ", ".join(f"{k}={n}" for k, n in flags.items()) + ")", file=sys.stderr)
    return 1 if summary["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
