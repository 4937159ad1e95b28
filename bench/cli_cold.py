"""The CLI's first answer from a cold process: `python -m detector PHOTO`, timed whole and split by step.

    python bench/cli_cold.py PHOTO [--runs 5]          # the real command N times, then the split N times
    python bench/cli_cold.py PHOTO --runs 5 --no-split  # only the real command
    python bench/cli_cold.py PHOTO --root /tmp/before --root .  # an older checkout and this one, in turns
    python bench/cli_cold.py PHOTO --imports --runs 5   # only `import tensorflow`: as is, and as the CLI does it

Whole: wall time of `python -m detector PHOTO --no-progress` in a fresh process (as a user runs it), min / median
/ max over --runs. Split: a fresh process that imports the heavy libraries one after another (each line is what
that import added on top of the ones above it), then runs the CLI's own `main` with its steps wrapped in timers:
model file load, OOD statistics, MTCNN build, the first face detection and the first classification (tracing +
compute), and then runs the same photo again in the same process: the second pass is the compute, so first minus
second is what the first call spends tracing graphs. The load average is printed: on a shared machine every
figure moves with it, so compare runs taken in turns, not across hours.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(photo: str, root: str) -> None:
    """One cold run, split into steps; prints one JSON object of step -> seconds on stdout's last line."""
    t_start = time.perf_counter()
    steps: dict[str, float] = {}
    mark = [t_start]

    def lap(name: str) -> None:
        now = time.perf_counter()
        steps[name] = steps.get(name, 0.0) + now - mark[0]
        mark[0] = now

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, root)
    import detector.cli as cli  # what `python -m detector` imports first (without TensorFlow)
    lap("import detector.cli (argparse, numpy)")
    import cv2  # noqa: F401
    lap("import cv2")
    getattr(cli, "import_tensorflow_without_extras", lambda: __import__("tensorflow"))()  # as cli.main does
    lap("import tensorflow (and Keras with it)")
    import keras  # already loaded: `import tensorflow` imports Keras
    import mtcnn  # noqa: F401
    lap("import mtcnn")
    import rich.progress  # noqa: F401

    import detector.pipeline  # noqa: F401
    import detector.provenance  # noqa: F401
    lap("import detector.pipeline, rich")

    from detector import faces, model, pipeline

    enclosing = ["other (card, files, JSON, rich)"]

    def timed(owner, attr: str, name: str):
        """Time spent in owner.attr goes to `name`; outside every timed call, to the enclosing step."""
        original = getattr(owner, attr)

        def wrapper(*a, **k):
            lap(enclosing[-1])
            enclosing.append(name)
            try:
                return original(*a, **k)
            finally:
                lap(enclosing.pop())

        setattr(owner, attr, wrapper)

    if hasattr(model, "load_keras_model"):  # detector.weights' load: Keras' load_model, variables made once
        timed(model, "load_keras_model", "model: load weights (keras.saving.load_model)")
    else:
        timed(keras.saving, "load_model", "model: load weights (keras.saving.load_model)")
    timed(model, "load_stats", "model: OOD statistics (.ood.npz)")
    timed(mtcnn, "MTCNN", "MTCNN: build (its three networks)")
    timed(faces.FaceDetector, "detect_with_retry", "first photo: face detection (trace + run)")
    timed(model.Classifier, "assess", "first photo: classifier + OOD (trace + run)")
    built = []
    timed(pipeline.Detector, "__init__", "model: the rest of the load (device, tf.functions, features model)")
    original_init = pipeline.Detector.__init__
    pipeline.Detector.__init__ = lambda self, *a, **k: (built.append(self), original_init(self, *a, **k))[1]

    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()) as out:
        rc = cli.main([photo, "--no-progress"])
    lap(enclosing[-1])
    first = json.loads(out.getvalue().splitlines()[0])
    total_in_process, cpu = time.perf_counter() - t_start, time.process_time()

    # The same photo again in this process: what the first pass would cost with every graph traced.
    det = built[0]
    image = pipeline.load_image(photo)
    t = time.perf_counter()
    det.faces.detect_with_retry([image])
    warm_detect = time.perf_counter() - t
    crops = [pipeline._kept_crop(image, f.box) for f in det.faces.detect_with_retry([image])[0]] or [image]
    t = time.perf_counter()
    det.classifier.assess(crops)
    warm_classify = time.perf_counter() - t
    modules = sorted(m for m in ("pandas", "matplotlib", "ray", "pyarrow", "scipy", "sklearn", "streamlit")
                     if m in sys.modules)
    print(json.dumps({"steps": steps, "in_process": total_in_process, "cpu": cpu, "rc": rc,
                      "score": first["fake_probability"],
                      "warm_detect": warm_detect, "warm_classify": warm_classify, "modules": modules}))


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def spread(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def timed_run(cmd: list[str], cwd: str, env: dict) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall s, CPU s of the process: user + system, all its threads, r)"""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, r


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photo", help="a photo with a face (not copied anywhere)")
    p.add_argument("--runs", type=int, default=5, help="fresh processes per measure (default: 5)")
    p.add_argument("--root", action="append", default=None,
                   help="checkout whose `python -m detector` is timed (default: this one); give it twice, e.g. a "
                        "`git archive` of an older commit and this one, to compare them taking turns")
    p.add_argument("--no-split", action="store_true", help="only time the real command")
    p.add_argument("--imports", action="store_true",
                   help="only time `import tensorflow` as is against the CLI's way (Keras' extras hidden), in turns")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    roots = [str(Path(r).resolve()) for r in (a.root or [ROOT])]
    if a.child:
        child(str(Path(a.photo).resolve()), roots[0])
        return 0

    photo = str(Path(a.photo).resolve())
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    print(load())
    if a.imports:
        ways = {"import tensorflow": "import tensorflow",
                "the CLI's import_tensorflow_without_extras()": "from detector.cli import "
                "import_tensorflow_without_extras as f; f()"}
        times = {w: [] for w in ways}
        for _ in range(a.runs):
            for way, code in ways.items():
                wall, cpu, r = timed_run([sys.executable, "-c", code], roots[0], env)
                times[way].append((wall, cpu))
        for way, v in times.items():
            print(f"{way}: wall {spread([w for w, _ in v])} s, CPU {spread([c for _, c in v])} s "
                  f"(min / median / max of {a.runs}; {load()})")
        return 0
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    print(f"python startup alone: {time.perf_counter() - t:.2f} s")
    whole = {r: {"wall": [], "cpu": [], "scores": set()} for r in roots}
    for i in range(a.runs):
        for root in roots:  # in turns: the machine's load moves both alike
            wall, cpu, r = timed_run([sys.executable, "-m", "detector", photo, "--no-progress"], root, env)
            if r.returncode:
                print(r.stderr[-2000:])
                return 1
            w = whole[root]
            w["wall"].append(wall), w["cpu"].append(cpu)
            w["scores"].add(json.loads(r.stdout.splitlines()[0])["fake_probability"])
            print(f"  run {i + 1} {root}: {wall:.2f} s wall, {cpu:.2f} s CPU ({load()})", flush=True)
    for root, w in whole.items():
        print(f"{root}: python -m detector PHOTO: wall {spread(w['wall'])} s, CPU {spread(w['cpu'])} s "
              f"(min / median / max of {a.runs}); fake_probability {sorted(w['scores'])}")
    if a.no_split:
        return 0

    split = {r: [] for r in roots}
    for i in range(a.runs):
        for root in roots:
            _, _, r = timed_run([sys.executable, __file__, photo, "--child", "--root", root], root, env)
            if r.returncode:
                print(r.stderr[-2000:])
                return 1
            split[root].append(json.loads(r.stdout.splitlines()[-1]))
            print(f"  split run {i + 1} {root}: {split[root][-1]['in_process']:.2f} s in process ({load()})",
                  flush=True)
    for root, runs in split.items():
        print(f"\n{root}: split, wall seconds, min / median / max of {a.runs} fresh processes ({load()}):")
        print("| step | s |\n|---|---|")
        for step in dict.fromkeys(k for r in runs for k in r["steps"]):
            print(f"| {step} | {spread([r['steps'].get(step, 0.0) for r in runs])} |")
        print(f"| **in process, all steps** | {spread([r['in_process'] for r in runs])} |")
        print(f"| CPU time of those steps (user + system) | {spread([r['cpu'] for r in runs])} |")
        print(f"| the same photo again, warm: face detection | {spread([r['warm_detect'] for r in runs])} |")
        print(f"| the same photo again, warm: classifier + OOD | {spread([r['warm_classify'] for r in runs])} |")
        print(f"libraries loaded that the CLI does not use: {runs[0]['modules'] or 'none'}; "
              f"fake_probability {sorted({r['score'] for r in runs})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
