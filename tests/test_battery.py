"""Issue #6's bad-input battery through the detector and the CLI: a specific outcome for every case."""
import json

import pytest

from bench.battery import check, make_battery
from helpers import app_page


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


def test_battery_through_the_cli(tiny_models_dir, battery, capsys):
    """The CLI's main in this process (the CLI as a subprocess is tests/test_cli.py's): a cold process cost 10 s."""
    from detector.cli import main

    folder, cases = battery
    explicit = [str(folder / n) for n, _, _ in cases]  # .wav is not media by extension: pass every file by name
    code = main([*explicit, "--models-dir", str(tiny_models_dir), "--frames", "8", "--no-progress"])
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == len(cases)  # every file got its line: the scan went on after each failure
    assert code == 1 and "Traceback" not in err
    for row, (name, _, expected) in zip(rows, cases):
        assert row["path"].endswith(name)
        if expected.startswith("error:"):
            assert row["verdict"] == "error" and expected[6:] in row["message"], row
        else:
            assert row["verdict"] != "error", row


def test_battery_through_the_detector_page(monkeypatch, tiny_models_dir, battery):
    """One browser session uploads every case in turn: each gets its message, the page never breaks."""

    monkeypatch.setenv("DEEPFAKE_MODELS_DIR", str(tiny_models_dir))
    folder, cases = battery
    at = app_page("pages/1_Detector.py").run()
    for name, what, expected in cases:
        if name.endswith(".wav"):  # not a type the page reads: taken in and refused in words (issue 38)
            expected = "error:Unsupported file type (.wav)"
        at.file_uploader[0].set_value((name, (folder / name).read_bytes(), "application/octet-stream")).run()
        assert not at.exception, (name, at.exception)
        shown = "\n".join(str(e.value) for kind in ("error", "warning", "success") for e in getattr(at, kind))
        if expected.startswith("error:"):
            assert "Cannot analyse this file" in shown and expected[6:] in shown, (name, shown)
        elif expected == "no_face":
            assert "No face found" in shown, (name, shown)
        else:
            assert "Likely" in shown, (name, shown)
