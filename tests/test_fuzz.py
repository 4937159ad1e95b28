"""A short coverage-guided fuzz run (bench/fuzz.py, atheris) over every input path: no crash, no hang, bounded
memory. The long run's figures are in README. The budgets here are a smoke test (under heavy load on 2 cores,
20 s of the full path still ran 382 inputs and 5 s of --evidence 323): the long fuzzing is bench/fuzz.py's."""
import re
import subprocess
import sys

import pytest

from conftest import ROOT

pytest.importorskip("atheris")


def test_fuzz_short_run_finds_no_crash(tiny_models_dir, tmp_path):
    p = subprocess.run([sys.executable, "bench/fuzz.py", "--seconds", "20", "--models-dir", str(tiny_models_dir),
                        "--crashes", str(tmp_path / "crashes")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    last = (p.stdout.strip().splitlines() or [""])[-1]  # nothing at all: libFuzzer stopped the run (stderr says why)
    m = re.fullmatch(r"inputs=(\d+) crashes=(\d+) hangs=(\d+) max_rss_mb=(\d+)", last)
    assert m, p.stdout[-2000:] + p.stderr[-2000:]
    inputs, crashes, hangs, rss = map(int, m.groups())
    assert p.returncode == 0 and crashes == 0 and hangs == 0, p.stderr[-3000:]
    assert inputs > 100 and rss < 1500


def test_fuzz_evidence_short_run_finds_no_crash(tmp_path):
    """--evidence: the credentials and metadata readers alone, seeded with signed pictures (no model)."""
    p = subprocess.run([sys.executable, "bench/fuzz.py", "--evidence", "--seconds", "5", "--crashes",
                        str(tmp_path / "crashes")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    last = (p.stdout.strip().splitlines() or [""])[-1]
    m = re.fullmatch(r"inputs=(\d+) crashes=(\d+) hangs=(\d+) max_rss_mb=(\d+)", last)
    assert m, p.stdout[-2000:] + p.stderr[-2000:]
    inputs, crashes, hangs, rss = map(int, m.groups())
    assert p.returncode == 0 and crashes == 0 and hangs == 0, p.stderr[-3000:]
    assert inputs > 50 and rss < 1500
