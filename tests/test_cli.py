"""The CLI as users and other tools run it: a real subprocess over a folder of good and bad files."""
import csv
import io
import json
import subprocess
import sys

from PIL import Image

from conftest import ROOT


def run_cli(*args, models_dir):
    return subprocess.run([sys.executable, "-m", "detector", *map(str, args), "--models-dir", str(models_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_cli_scans_folder_reports_errors_and_continues(tmp_path, tiny_models_dir, astronaut, face_video):
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    Image.fromarray(astronaut).save(d / "a_face.jpg")
    Image.new("RGB", (200, 200), "gray").save(d / "b_blank.png")
    (d / "c_text.jpg").write_text("not an image")
    (d / "sub" / "d_clip.mp4").write_bytes(face_video.read_bytes())
    (d / "notes.txt").write_text("ignored: not media")

    p = run_cli(d, "--frames", "4", models_dir=tiny_models_dir)
    assert p.returncode == 1, p.stderr  # one file failed
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    by_name = {r["path"].split("/")[-1]: r for r in rows}
    assert list(by_name) == ["a_face.jpg", "b_blank.png", "c_text.jpg", "d_clip.mp4"]
    assert by_name["a_face.jpg"]["verdict"] in ("real", "fake") and len(by_name["a_face.jpg"]["faces"]) == 1
    assert by_name["b_blank.png"]["verdict"] == "no_face" and by_name["b_blank.png"]["fake_probability"] is None
    assert by_name["c_text.jpg"]["verdict"] == "error" and by_name["c_text.jpg"]["message"]
    assert by_name["a_face.jpg"]["evidence"]["credentials"] == "none"  # what the file says about itself: nothing
    assert by_name["a_face.jpg"]["evidence"]["findings"][0]["strength"] == "none"
    clip = by_name["d_clip.mp4"]
    assert clip["verdict"] in ("real", "fake") and len(clip["frames"]) == 4 and len(clip["persons"]) == 1
    assert "Traceback" not in p.stderr and "4 files, 1 failed" in p.stderr


def test_cli_csv_and_exit_zero(tmp_path, tiny_models_dir, astronaut):
    Image.fromarray(astronaut).save(tmp_path / "face.png")
    p = run_cli(tmp_path / "face.png", "--csv", "--no-progress", models_dir=tiny_models_dir)
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert len(rows) == 1 and rows[0]["verdict"] in ("real", "fake") and rows[0]["faces"] == "1"
    assert 0 <= float(rows[0]["fake_probability"]) <= 1
    assert rows[0]["credentials"] == "none" and rows[0]["evidence"].startswith("[none] No Content Credentials")


def test_cli_piped_into_a_reader_that_stops_early_ends_without_a_traceback(tmp_path, tiny_models_dir, astronaut):
    """`deepfake-detect *.jpg --csv | head -1`: the reader goes away after the header; the command ends quietly."""
    for i in range(3):
        Image.fromarray(astronaut).save(tmp_path / f"face{i}.png")
    p = subprocess.Popen([sys.executable, "-m", "detector", *(str(tmp_path / f"face{i}.png") for i in range(3)),
                          "--csv", "--no-progress", "--models-dir", str(tiny_models_dir)],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().startswith("path,kind,verdict")
    p.stdout.close()
    err = p.stderr.read()
    assert p.wait(timeout=300) == 1 and "Traceback" not in err and "BrokenPipe" not in err, err


def test_cli_without_model_says_so(tmp_path, astronaut):
    Image.fromarray(astronaut).save(tmp_path / "face.png")
    p = run_cli(tmp_path / "face.png", models_dir=tmp_path / "no-models")
    assert p.returncode == 2 and "No model" in p.stderr and "Traceback" not in p.stderr


def test_usage_names_the_command_it_was_run_by(monkeypatch, capsys):
    """--help's usage line reads as typed: the wheel's entry points by their names, `python -m` as a module
    (tests/test_package.py runs the installed commands themselves)."""
    import pytest

    from detector.cli import parse_args
    from detector.scan import main as scan_main

    for argv0, detect, scan in [("/venv/bin/deepfake-detect", "deepfake-detect", None),
                                ("/venv/bin/deepfake-scan", None, "deepfake-scan"),
                                (str(ROOT / "detector" / "__main__.py"), "python -m detector", None),
                                (str(ROOT / "detector" / "scan.py"), None, "python -m detector.scan")]:
        monkeypatch.setattr(sys, "argv", [argv0, "--help"])
        with pytest.raises(SystemExit):
            parse_args(["--help"]) if detect else scan_main(["--help"])
        assert capsys.readouterr().out.startswith(f"usage: {detect or scan} ")


def test_cli_skips_keras_extras_and_scores_as_the_library_does(tmp_path, tiny_models_dir, detector, astronaut):
    """The CLI hides pandas and matplotlib while TensorFlow loads (a faster cold start, bench/cli_cold.py): the
    score it prints is the library's, to the last bit, and neither library is loaded by its end."""
    Image.fromarray(astronaut).save(tmp_path / "face.png")
    script = ("import json, sys\nfrom detector.cli import main\n"
              f"rc = main([{str(tmp_path / 'face.png')!r}, '--no-progress',\n"
              f"           '--models-dir', {str(tiny_models_dir)!r}])\n"
              "print(json.dumps([rc, sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules)]))")
    p = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    record, last = p.stdout.splitlines()[0], p.stdout.splitlines()[-1]
    assert json.loads(last) == [0, []], p.stderr[-2000:]
    expected = detector.analyse_image(str(tmp_path / "face.png")).fake_probability
    assert json.loads(record)["fake_probability"] == expected
