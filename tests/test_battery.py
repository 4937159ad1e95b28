"""Issue #6's bad-input battery through the detector and the CLI: a specific outcome for every case."""
import json
import subprocess
import sys

import pytest

from bench.battery import check, make_battery
from conftest import ROOT


@pytest.fixture(scope="module")
def battery(tmp_path_factory):
    folder = tmp_path_factory.mktemp("battery")
    return folder, make_battery(folder)


def test_battery_through_the_detector(detector, battery):
    folder, cases = battery
    bad = []
    for name, what, expected in cases:
        r = detector.analyse_path(folder / name, n_frames=8)
        if not check(r, expected):
            bad.append(f"{name}: expected {expected}, got {r.verdict} {len(r.faces)} faces {r.message!r}")
    assert not bad, "\n".join(bad)


def test_battery_through_the_cli(tiny_models_dir, battery):
    folder, cases = battery
    explicit = [str(folder / n) for n, _, _ in cases]  # .wav is not media by extension: pass every file by name
    p = subprocess.run([sys.executable, "-m", "detector", *explicit, "--models-dir", str(tiny_models_dir),
                        "--frames", "8", "--no-progress"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(rows) == len(cases)  # every file got its line: the scan went on after each failure
    assert p.returncode == 1 and "Traceback" not in p.stderr
    for row, (name, _, expected) in zip(rows, cases):
        assert row["path"].endswith(name)
        if expected.startswith("error:"):
            assert row["verdict"] == "error" and expected[6:] in row["message"], row
        else:
            assert row["verdict"] != "error", row
