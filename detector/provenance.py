"""Provenance: what a report needs so that someone else can check it later. Which file exactly (SHA-256 and
size), when (UTC), by which model (name and its card's SHA-256), which version of this package, at which
threshold and band, and the OOD threshold behind the "unfamiliar" flags. The app, the CLI and the scan all
stamp their results here."""
from __future__ import annotations

import hashlib
import os
from datetime import datetime, timezone

from . import __version__

CHUNK = 1 << 20  # files are hashed in 1 MiB reads: an upload or an archive video can be gigabytes


def file_digest(source) -> tuple[str, int]:
    """(SHA-256 hex, size in bytes) of a path, bytes (already in memory) or a binary file object (from its
    start), the last two read in chunks."""
    if isinstance(source, (bytes, bytearray)):
        return hashlib.sha256(source).hexdigest(), len(source)
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            return file_digest(f)
    h, size = hashlib.sha256(), 0
    source.seek(0)
    while chunk := source.read(CHUNK):
        h.update(chunk)
        size += len(chunk)
    return h.hexdigest(), size


def stamp(result, card, source):
    """Attach the provenance block to an AnalysisResult (returned). `source` is what was analysed: a path, the
    uploaded bytes or a file object. A file that cannot be read (the "No such file" error) gets no hash."""
    try:
        sha, size = file_digest(source)
    except OSError:
        sha = size = None
    result.provenance = {
        "file_sha256": sha,
        "file_size_bytes": size,
        "analysed_at_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": card.name,
        "model_card_sha256": card.sha256,
        "package_version": __version__,
        "threshold": result.threshold,
        "band": card.info.get("band"),
        # the distance above which a face was flagged unfamiliar (detector.ood); None when no face was assessed
        "ood_threshold": (card.info.get("ood") or {}).get("threshold") if result.unfamiliar is not None else None,
    }
    return result
