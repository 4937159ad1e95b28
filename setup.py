"""Packaging metadata lives in pyproject.toml; this file only ships the app and the bundled model in the wheel.

A checkout keeps app.py, pages/, models/... at its root. An installed package cannot put them beside
site-packages, so the build copies them into detector/_bundle/, where detector.bundle.bundle_dir() finds them."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLE = ["app.py", "pages/*.py", ".streamlit/config.toml", "models/*.keras", "models/*.json", "models/*.ood.npz",
          "models/*.png", "models/README.md", "data/game_deck/README.md", "data/game_deck/*/*.jpg", "data/game_deck/*/*.png"]


class BuildPyWithBundle(build_py):
    def run(self):
        super().run()
        for pattern in BUNDLE:
            for src in sorted(ROOT.glob(pattern)):
                dst = Path(self.build_lib, "detector", "_bundle", src.relative_to(ROOT))
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)


setup(cmdclass={"build_py": BuildPyWithBundle})
