"""Memory figures of a process from /proc/PID/status, for the benchmark scripts."""
from __future__ import annotations

from pathlib import Path


def status_mb(field: str = "VmRSS", pid: int | str = "self") -> float:
    """`field` of /proc/PID/status in MB: VmRSS (resident now) or VmHWM (peak resident). NaN if unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")
