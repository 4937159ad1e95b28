"""A `streamlit run app.py` server on a free loopback port, for the browser tests and scripts."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# As run.sh serves the app: glibc malloc with few arenas (Streamlit runs every session's script in its own thread;
# the default of 8 arenas per core holds freed memory per thread and RSS creeps up).
SERVER_ENV = {"MALLOC_ARENA_MAX": "2"}


class ServerURL(str):
    """The server's base URL; `.pid` is the server process (for memory sampling)."""
    pid: int


@contextlib.contextmanager
def streamlit_server(env: dict | None = None, ready_timeout: float = 60.0, log: Path | None = None):
    """Yields the server's URL (a ServerURL) once /_stcore/health answers ok; stops the server afterwards.
    Served as `./run.sh app` serves it (webui.launch: the model warms up from the server's start). env: added to
    this process's environment (a value None removes the variable); log: a file that gets the server's stdout and
    stderr (default: discarded)."""
    port = free_port()
    server_env = {k: v for k, v in dict(os.environ, **SERVER_ENV, **(env or {})).items() if v is not None}
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "webui.launch", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=server_env, stdout=out, stderr=subprocess.STDOUT)
    url = ServerURL(f"http://127.0.0.1:{port}")
    url.pid = proc.pid
    try:
        deadline = time.time() + ready_timeout
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(f"streamlit server did not become healthy in {ready_timeout:.0f} s") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # busy in a TensorFlow call (the model's warm-up thread): SIGTERM waits
            proc.kill()
            proc.wait(timeout=20)
        if log:
            out.close()
