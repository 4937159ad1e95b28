"""deepfake-app: serve the app (`streamlit run app.py`) from wherever the package is, a checkout or a wheel.

    deepfake-app                                  # http://localhost:8501, the shipped deck for the Game
    deepfake-app --deck DIR --server.port 8080    # another deck; any other option goes to streamlit

`./run.sh app` serves through this too. Streamlit runs in this process, so the model starts loading and warming
up (webui.resources.warm_up_in_background) with the server, not at the first page visit: the first upload is then
as fast as the next (bench/app_latency.py, docs/performance.md).
"""
from __future__ import annotations

import argparse
import os
import sys

from detector.bundle import bundle_dir
from detector.progname import invoked_as


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `deepfake-app -- --deck DIR` (as `streamlit run app.py -- --deck DIR` reads) and `deepfake-app --deck DIR`
    after = argv[argv.index("--") + 1:] if "--" in argv else []
    before = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(prog=invoked_as("webui.launch"), description=__doc__, allow_abbrev=False,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deck", help="the Game's deck: a folder with Real/ and Fake/ images (default: "
                   "$DEEPFAKE_GAME_DECK, else the shipped deck)")
    args, streamlit_options = p.parse_known_args(before)
    deck = args.deck or p.parse_known_args(after)[0].deck
    app_args = ["--deck", os.path.abspath(deck)] if deck else []
    # .streamlit/config.toml beside app.py is read by Streamlit as the app's own config, whatever the cwd.
    sys.argv = ["streamlit", "run", str(bundle_dir() / "app.py"), *streamlit_options, "--", *app_args]
    from streamlit.web import cli

    from webui.resources import warm_up_in_background

    warm_up_in_background()  # a daemon thread; the page that needs the model waits on the same cached value
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
