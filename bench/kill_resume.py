"""Training durability check: start train.py, kill it (SIGKILL) mid-epoch, rerun the same command, and show
that it resumes from the last backup instead of starting over, and that models/ never holds a partial file.

    python bench/kill_resume.py --data ../shared/datasets/dfdc-faces

Uses a small configuration (64 px, 160 pairs, 3 epochs, a backup every 4 steps) so it takes minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", required=True)
    a = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kill-resume-"))
    out, cache = work / "models", work / "cache"
    cmd = [sys.executable, "train.py", "--data", a.data, "--name", "durability", "--out", str(out),
           "--cache-dir", str(cache), "--input-size", "64", "--epochs", "3", "--max-train-pairs", "160",
           "--backup-every", "4", "--batch-size", "16"]
    print("$", " ".join(cmd))
    log1 = open(work / "run1.log", "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log1, stderr=subprocess.STDOUT, start_new_session=True)
    meta = cache / "backup" / "training_metadata.json"
    t0 = time.time()
    while time.time() - t0 < 900:  # wait until a mid-epoch backup of epoch 2 exists
        if meta.exists():
            try:
                m = json.loads(meta.read_text())
            except ValueError:
                m = {}
            if m.get("epoch", 0) >= 1 and m.get("batch", 0) >= 4:
                break
        if proc.poll() is not None:
            print("training ended before it could be killed; see", work / "run1.log")
            return 1
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    print(f"killed after {time.time() - t0:.0f} s; last backup: {meta.read_text()}")
    print("models/ after the kill:", sorted(x.name for x in out.iterdir()) if out.exists() else "(empty)")
    t1 = time.time()
    p2 = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in (p2.stdout + p2.stderr).splitlines() if line.startswith("Epoch ") or "wrote" in line]
    print(f"rerun exited {p2.returncode} after {time.time() - t1:.0f} s; its epochs:")
    print("\n".join("  " + line for line in lines))
    hist = (cache / "history.csv").read_text().strip().splitlines()
    print("history.csv (one row per finished epoch, across both runs):")
    print("\n".join("  " + h[:90] for h in hist))
    card = json.loads((out / "durability.json").read_text())
    print("card epochs_run:", card["training"]["epochs_run"], "| models/:", sorted(x.name for x in out.iterdir()))
    resumed = not any(line.startswith("Epoch 1/") for line in lines)
    print("RESUMED" if resumed and p2.returncode == 0 else "DID NOT RESUME")
    return 0 if resumed and p2.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
