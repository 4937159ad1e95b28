"""Where the files that ship beside the code live (models/, app.py, pages/, .streamlit/, data/game_deck/).

In a checkout they sit at the repository root, one level above this package. An installed wheel cannot put
them there (site-packages is shared), so setup.py copies them into detector/_bundle/ at build time."""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def bundle_dir() -> Path:
    installed = _PACKAGE / "_bundle"
    return installed if installed.is_dir() else _PACKAGE.parent
