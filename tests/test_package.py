"""`pip install` of the wheel gives working commands with the bundled model: build the wheel from a copy of the
tree (a build writes build/ and *.egg-info beside its sources), install it into a fresh venv and run the commands
from a folder outside the checkout."""
import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from PIL import Image

from conftest import ROOT

SKIP = shutil.ignore_patterns(".venv", ".git", "artifacts", "build", "dist", "*.egg-info", "__pycache__", "_bundle",
                              ".pytest_cache")


def default_model() -> str:
    cards = [json.loads(p.read_text()) for p in (ROOT / "models").glob("*.json")]
    return next(c["name"] for c in cards if c.get("default"))


def run(cmd, **kw):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert p.returncode == 0, (cmd, p.stdout[-2000:], p.stderr[-3000:])
    return p


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """bin/ of a fresh venv with the wheel installed. TensorFlow & co. come from this venv, not a download: the
    new venv gets a .pth naming this venv's site-packages (--system-site-packages would name the system
    Python's, since this venv's python is a link to it)."""
    tmp = tmp_path_factory.mktemp("pkg")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=lambda d, names: SKIP(d, names) | (
        {n for n in names if n != "game_deck"} if Path(d) == ROOT / "data" else set()))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", src, "-w", tmp / "dist"])
    wheel = next((tmp / "dist").glob("deepfake_detector-*.whl"))
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "host-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps", "-q", wheel])
    return venv / "bin"


def test_wheel_installs_commands_that_use_the_bundled_model(installed, tmp_path, astronaut):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": f"{installed}:/usr/bin:/bin", "HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    where = run([installed / "python", "-c", "import detector, detector.model as m; print(detector.__file__); "
                 "print(m.MODELS_DIR)"], cwd=elsewhere, env=env).stdout.split()
    assert all(str(installed.parent) in w for w in where)  # the installed copy, not the checkout

    for command in ("deepfake-detect", "deepfake-scan", "deepfake-app"):
        help_text = run([installed / command, "--help"], cwd=elsewhere, env=env).stdout
        assert help_text.startswith(f"usage: {command} ") and "default" in help_text
        assert command != "deepfake-detect" or ("exit status" in help_text and "example" in help_text)

    Image.fromarray(astronaut).save(elsewhere / "astronaut.jpg")
    p = run([installed / "deepfake-detect", "astronaut.jpg", "--no-progress"], cwd=elsewhere, env=env)
    record = json.loads(p.stdout.splitlines()[0])
    assert record["model"] == default_model() and record["verdict"] in ("real", "fake")
    assert len(record["faces"]) == 1
    assert record["faces"][0]["ood_distance"] is not None  # the model's OOD stats (models/*.ood.npz) ship too
    assert record["evidence"]["credentials"] == "none" and record["evidence"]["findings"]  # detector.evidence

    # The installed app, as `deepfake-app` serves it: its Home page, and the Game on the shipped deck and model.
    script = ("import sys; from streamlit.testing.v1 import AppTest; from detector.bundle import bundle_dir\n"
              "at = AppTest.from_file(str(bundle_dir() / 'app.py'), default_timeout=300).run()\n"
              "assert not at.exception, at.exception\n"
              "at.switch_page('pages/2_Game.py').run()\n"
              "assert not at.exception, at.exception\n"
              "print([c.value for c in at.sidebar.caption], [b.label for b in at.button])")
    page = run([installed / "python", "-c", script], cwd=elsewhere, env=env).stdout
    assert "Deck: game deck (40 real and 40 fake faces)" in page and "'Fake'" in page
