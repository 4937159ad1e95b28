"""The name a command was run by, for its --help and error lines: `deepfake-detect` from the wheel's entry point,
`python -m detector` when run as a module (argparse's default would print `__main__.py` or `scan.py`)."""
from __future__ import annotations

import os
import sys


def invoked_as(module: str) -> str:
    """The basename of sys.argv[0] when it is a command (an entry point such as deepfake-detect), else
    `python -m MODULE` (run as a module or from Python, where argv[0] is a .py file, '-c' or empty)."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if not name or name.endswith(".py") or name.startswith("-"):
        return f"python -m {module}"
    return name
