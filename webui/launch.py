"""deepfake-app: serve the app (`streamlit run app.py`) from wherever the package is, a checkout or a wheel.

    deepfake-app                                  # http://localhost:8501, the shipped deck for the Game
    deepfake-app --deck DIR --server.port 8080    # another deck; any other option goes to streamlit
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

from detector.bundle import bundle_dir
from detector.progname import invoked_as


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=invoked_as("webui.launch"), description=__doc__, allow_abbrev=False,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deck", help="the Game's deck: a folder with Real/ and Fake/ images (default: "
                   "$DEEPFAKE_GAME_DECK, else the shipped deck)")
    args, streamlit_options = p.parse_known_args(argv)
    app_args = ["--deck", os.path.abspath(args.deck)] if args.deck else []
    # .streamlit/config.toml beside app.py is read by Streamlit as the app's own config, whatever the cwd.
    cmd = [sys.executable, "-m", "streamlit", "run", str(bundle_dir() / "app.py"), *streamlit_options, "--", *app_args]
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
