"""What a file says about itself, before any pixel is judged: C2PA Content Credentials (signed manifests, read
with the official c2pa-python bindings), IPTC/XMP DigitalSourceType and related fields, EXIF make/model/software/
dates, and the text chunks image generators write into PNG/WebP files (Stable Diffusion web UIs' `parameters`,
ComfyUI's `prompt`/`workflow`).

`read_evidence(path_or_bytes)` returns a JSON-ready dict whose `findings` are plain-language lines, each with a
strength: strong (a signed manifest whose signature checks out), weak (metadata: anyone can write or strip it) or
none (nothing found, or nothing readable). Absence proves nothing, and the dict says so. Files are attacker-made:
every read is capped (bytes, text lengths, counts) and any parser failure becomes a "could not read" finding,
never an exception. Nothing here touches the model's score.
"""
from __future__ import annotations

import mmap
import os
import time

from .credentials import MAX_C2PA_FILE_BYTES, TRUST_ANCHORS_ENV, describe_credentials, has_jumbf, read_c2pa
from .findings import ABSENCE_NOTE, NONE, STRONG, WEAK, Findings, short
from .metadata import read_metadata

__all__ = ["TRUST_ANCHORS_ENV", "csv_fields", "empty_evidence", "read_evidence", "signed_claim"]

MIMES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
         ".gif": "image/gif", ".tif": "image/tiff", ".tiff": "image/tiff", ".bmp": "image/bmp",
         ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".avi": "video/x-msvideo"}


def empty_evidence() -> dict:
    """The evidence dict's keys, as read_evidence fills them (credentials: none, valid_untrusted, trusted,
    invalid or unreadable; credentials_say: generated, edited, captured or None)."""
    return {"credentials": "none", "credentials_say": None, "credentials_claim": None, "claim_generator": None,
            "signer": None, "signed_at": None, "validation_failures": [], "actions": [], "ingredients": [],
            "metadata": {}, "findings": [], "strongest": NONE, "note": ABSENCE_NOTE, "seconds": 0.0}


def read_evidence(source, name: str | None = None, kind: str | None = None) -> dict:
    """source: a path or the file's bytes; name: for its extension (MIME hint); kind: "image", "video" or None
    (metadata is read from pictures only). Never raises."""
    t0 = time.perf_counter()
    out, findings = empty_evidence(), Findings()
    name = str(name if name is not None else source if isinstance(source, (str, os.PathLike)) else "")
    mime = MIMES.get(os.path.splitext(name)[1].lower())
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    # C2PA
    try:
        if isinstance(source, str):
            size = os.path.getsize(source)
            if size > MAX_C2PA_FILE_BYTES:
                raise ValueError(f"file too large to check ({size // 2**20} MB)")
            found = False
            if size:
                with open(source, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                    found = has_jumbf(m)
        else:
            found = has_jumbf(source)
        store = read_c2pa(source, mime) if found else None
        if store is not None:
            describe_credentials(store, out, findings)
    except Exception as e:  # the library's errors, a panic turned error, I/O: one line, the rest goes on
        out["credentials"] = "unreadable"
        findings.add(f"Could not read the credentials ({short(str(e) or type(e).__name__, 120)}).", NONE, "c2pa")
    # Metadata
    if kind != "video":
        try:
            read_metadata(source, out, findings)
        except Exception as e:
            if kind == "image" or not isinstance(e, OSError):  # an unknown file that is no picture has none
                findings.add(f"Could not read the file's metadata ({short(type(e).__name__, 40)}).", NONE, "metadata")
    if not any(f["strength"] != NONE for f in findings.items) and out["credentials"] == "none":
        findings.add("No Content Credentials and no provenance metadata were found in the file.", NONE, "file")
    order = {STRONG: 0, WEAK: 1, NONE: 2}
    out["findings"] = sorted(findings.items, key=lambda f: order[f["strength"]])  # stable: strong first
    out["strongest"] = out["findings"][0]["strength"]
    out["seconds"] = round(time.perf_counter() - t0, 4)
    return out


def signed_claim(evidence: dict | None) -> str | None:
    """The headline for a signed manifest that validates and says the picture was generated or edited, else
    None. Shown beside the model's verdict; it never changes the score."""
    if not evidence or evidence.get("credentials") not in ("valid_untrusted", "trusted"):
        return None
    says = evidence.get("credentials_say")
    if says not in ("generated", "edited"):
        return None
    trust = "on a trust list" if evidence["credentials"] == "trusted" else "not on a trust list"
    what = evidence.get("credentials_claim") or says
    return (f"The file's signed Content Credentials say: {what} (signature valid, signer "
            f"{evidence.get('signer') or 'unnamed'}, {trust}). This comes from the file's signed manifest, not "
            f"from the model; the model's score is from the pixels alone.")


def csv_fields(evidence: dict | None) -> dict:
    """The CSV's and the scan's two evidence columns: the credentials' state (with what they say) and the
    strongest finding."""
    if not evidence:
        return {"credentials": "", "evidence": ""}
    state = evidence.get("credentials") or "none"
    if evidence.get("credentials_say"):
        state += f": {evidence['credentials_say']}"
    top = evidence["findings"][0] if evidence.get("findings") else None
    return {"credentials": state, "evidence": f"[{top['strength']}] {top['text']}" if top else ""}
