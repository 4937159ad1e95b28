"""Short training ablations at one fixed, small budget: which recipe choices pay?

    python bench/ablations.py --data ../shared/datasets/dfdc-faces [--sbi ~/.cache/deepfake-detector/datasets/sbi-dfdc]
                              [--only nosbi jitter ...] [--json artifacts/ablations.json]

Every run is `train.py` on 3,000 dfdc-faces training pairs for 2 epochs (5-7 min at 128 px on 2 cores), changing
one thing against `base` (128 px, real/fake pairs in each batch, no framing jitter, no SBI). The figure is the
dfdc-faces Validation AUC after each epoch (Test is kept for the bundled model's card). Runs whose checkpoint
folder (~/.cache/deepfake-detector/train/abl-NAME) already holds both epochs are read back, not retrained, so a
cut-off run of this script resumes where it stopped. Short runs rank recipe choices; they do not predict the
12-epoch result.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path.home() / ".cache" / "deepfake-detector" / "train"
EPOCHS, PAIRS = 2, 3000

# name -> (what changes, extra train.py arguments); "{sbi}" is replaced by the --sbi folder.
ABLATIONS = {
    "nosbi": ("base: 128 px, pairs, no jitter, no SBI", []),
    "jitter": ("+ framing jitter 0.06 (the default recipe's setting)", ["--framing-jitter", "0.06"]),
    "shuffled": ("shuffled images instead of real/fake pairs", ["--no-pairs"]),
    "160px": ("160 px input instead of 128", ["--input-size", "160"]),
    "sbi": ("training pairs drawn from dfdc + SBI blends (about half each)", ["--data", "{dfdc}", "{sbi}"]),
}


def history(cache: Path) -> list[dict]:
    f = cache / "history.csv"
    if not f.exists():
        return []
    rows = [r.split(",") for r in f.read_text().strip().splitlines()]
    return [dict(zip(rows[0], map(float, r))) for r in rows[1:]]


def run(name: str, extra: list[str], dfdc: str, sbi: str | None) -> dict:
    cache = CACHE / f"abl-{name}"
    if len(history(cache)) < EPOCHS:
        extra = [a.format(dfdc=dfdc, sbi=sbi) for a in extra]
        data = [] if "--data" in extra else ["--data", dfdc]
        cmd = [sys.executable, "train.py", *data, *extra, "--validation", dfdc, "--epochs", str(EPOCHS),
               "--max-train-pairs", str(PAIRS), "--name", f"abl-{name}", "--out", tempfile.mkdtemp(),
               "--cache-dir", str(cache), "--patience", str(EPOCHS)]
        if "--framing-jitter" not in extra:
            cmd += ["--framing-jitter", "0"]
        print("$", " ".join(cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, cwd=ROOT, check=True)
    h = history(cache)
    seconds = json.loads((cache / "elapsed_s.json").read_text())["s"]
    return {"val_auc": [round(r["val_auc"], 4) for r in h], "train_auc": [round(r["auc"], 4) for r in h],
            "minutes": round(seconds / 60, 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="dfdc-faces folder")
    p.add_argument("--sbi", help="SBI folder from `python -m data_prep.sbi` (the sbi run is skipped without it)")
    p.add_argument("--only", nargs="+", choices=list(ABLATIONS))
    p.add_argument("--json", default=str(ROOT / "artifacts" / "ablations.json"))
    a = p.parse_args(argv)
    results = {}
    for name in a.only or list(ABLATIONS):
        if name == "sbi" and not a.sbi:
            continue
        results[name] = {"change": ABLATIONS[name][0], **run(name, ABLATIONS[name][1], a.data, a.sbi)}
    print(f"\n| run | change | Val AUC after epoch 1 / {EPOCHS} | train AUC | wall |\n|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['change']} | {' / '.join(map(str, r['val_auc']))} | "
              f"{' / '.join(map(str, r['train_auc']))} | {r['minutes']} min |")
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
