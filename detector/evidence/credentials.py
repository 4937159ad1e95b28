"""C2PA Content Credentials, read with the official c2pa-python bindings: whether the signed manifest validates,
who signed it, and what its actions say about how the picture was made. No network (no remote manifests, no
OCSP); the trust list is $DEEPFAKE_C2PA_TRUST_ANCHORS, else none."""
from __future__ import annotations

import io
import itertools
import json
import os

from .findings import MAX_ITEMS, STRONG, WEAK, Findings, short, source_words

MAX_C2PA_FILE_BYTES = 2 * 2**30  # the reader hashes the whole asset to check it: a larger file is not checked
MAX_MANIFEST_JSON = 8 * 2**20  # the reader's JSON of a manifest store; a larger one is refused
EDIT_ACTIONS = {"c2pa.edited", "c2pa.color_adjustments", "c2pa.cropped", "c2pa.drawing", "c2pa.filtered",
                "c2pa.orientation", "c2pa.placed", "c2pa.removed", "c2pa.resized", "c2pa.edited.metadata"}
TRUST_ANCHORS_ENV = "DEEPFAKE_C2PA_TRUST_ANCHORS"  # a PEM file of CA certificates whose signers count as trusted


_context = None  # the process's reader context, made on first use


def _c2pa_context():
    """One reader context for the process: no network (no remote manifests, no OCSP); the trust list is the
    PEM file named by $DEEPFAKE_C2PA_TRUST_ANCHORS, else none (every signer then reads "not on a trust list")."""
    global _context
    if _context is None:
        import c2pa

        config = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
        anchors = os.environ.get(TRUST_ANCHORS_ENV)
        if anchors:
            with open(anchors, encoding="utf-8") as f:
                config["trust"] = {"trust_anchors": f.read(MAX_MANIFEST_JSON)}
        _context = c2pa.Context(c2pa.Settings.from_dict(config))
    return _context


def has_jumbf(buf) -> bool:
    """C2PA manifests live in JUMBF boxes (type 'jumb') in every format: no such bytes, no manifest to read."""
    return buf.find(b"jumb") >= 0


def read_c2pa(source, mime: str | None) -> dict | None:
    """The manifest store as the reader's JSON dict, None without one. Raises on unreadable credentials."""
    import c2pa

    ctx = _c2pa_context()
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            reader = c2pa.Reader(mime or None, io.BytesIO(source), context=ctx)
        else:
            with open(source, "rb") as f:
                reader = c2pa.Reader(mime or None, f, context=ctx)
                return _reader_json(reader)
    except c2pa.C2paError.ManifestNotFound:
        return None
    return _reader_json(reader)


def _reader_json(reader) -> dict:
    with reader:
        text = reader.json()
    if len(text) > MAX_MANIFEST_JSON:
        raise ValueError(f"manifest store too large ({len(text) // 2**20} MB)")
    return json.loads(text)


def _status_codes(store: dict) -> tuple[set[str], set[str]]:
    """(failure codes, all codes) of the active manifest's validation."""
    failures, codes = set(), set()
    results = store.get("validation_results") or {}
    active = results.get("activeManifest") or {}
    for kind in ("success", "informational", "failure"):
        for s in itertools.islice(active.get(kind) or [], 500):
            code = str(s.get("code", "")) if isinstance(s, dict) else ""
            codes.add(code)
            if kind == "failure":
                failures.add(code)
    for s in itertools.islice(store.get("validation_status") or [], 500):  # older reports: failures only
        if isinstance(s, dict) and s.get("code"):
            failures.add(str(s["code"]))
            codes.add(str(s["code"]))
    return failures, codes


def describe_credentials(store: dict, out: dict, findings: Findings) -> None:
    """Fill `out`'s credential fields from the reader's manifest store and add what they say as findings."""
    manifests = store.get("manifests") or {}
    active = manifests.get(store.get("active_manifest")) if isinstance(manifests, dict) else None
    if not isinstance(active, dict):
        out["credentials"] = "invalid"
        findings.add("Content Credentials are present but have no readable active manifest: what they claim "
                     "cannot be checked.", WEAK, "c2pa")
        return
    failures, _ = _status_codes(store)
    state = str(store.get("validation_state") or "").lower()
    untrusted = "signingCredential.untrusted" in failures
    broken = sorted(c for c in failures if c != "signingCredential.untrusted")
    if state == "invalid" or (broken and state != "trusted"):
        out["credentials"] = "invalid"
    elif state == "trusted":
        out["credentials"] = "trusted"
    else:
        out["credentials"] = "valid_untrusted" if untrusted or state == "valid" else "invalid"
    out["validation_failures"] = [short(c, 80) for c in sorted(failures)][:MAX_ITEMS]

    gen = active.get("claim_generator")
    infos = active.get("claim_generator_info") or []
    if not gen and infos and isinstance(infos[0], dict):
        gen = " ".join(str(infos[0].get(k, "")) for k in ("name", "version")).strip()
    sig = active.get("signature_info") or {}
    signer = ", ".join(short(sig[k], 80) for k in ("common_name", "issuer") if sig.get(k)) or None
    out.update(claim_generator=short(gen) if gen else None, signer=signer,
               signed_at=short(sig["time"], 40) if sig.get("time") else None)

    actions = []
    for a in itertools.islice(active.get("assertions") or [], 200):
        if not isinstance(a, dict) or not str(a.get("label", "")).startswith("c2pa.actions"):
            continue
        for act in itertools.islice((a.get("data") or {}).get("actions") or [], MAX_ITEMS):
            if isinstance(act, dict):
                agent = act.get("softwareAgent")
                agent = agent.get("name") if isinstance(agent, dict) else agent
                actions.append({"action": short(act.get("action", ""), 60),
                                "digital_source_type": short(act["digitalSourceType"], 120)
                                if act.get("digitalSourceType") else None,
                                "software_agent": short(agent, 80) if agent else None})
    out["actions"] = actions[:MAX_ITEMS]
    out["ingredients"] = [{"title": short(i.get("title", ""), 80),
                           "relationship": short(i.get("relationship", ""), 30)}
                          for i in itertools.islice(active.get("ingredients") or [], MAX_ITEMS) if isinstance(i, dict)]

    says, words = None, []
    for act in actions:
        w, s = source_words(act["digital_source_type"])
        if w and w not in words:
            words.append(w)
        if s == "generated" or (s == "edited" and says != "generated") or (s == "captured" and says is None):
            says = s
    if says != "generated" and any(a["action"] in EDIT_ACTIONS for a in actions):
        says = "edited"
        words.append("edited (" + ", ".join(sorted({a["action"].removeprefix("c2pa.") for a in actions
                                                     if a["action"] in EDIT_ACTIONS})) + ")")
    out["credentials_say"] = says
    what = "; ".join(words) if words else "nothing about how the picture was made"
    out["credentials_claim"] = what
    who = f" Signed by {signer}" if signer else " Signer not named"
    who += f" at {out['signed_at']}." if out["signed_at"] else " (no trusted time stamp)."
    tool = f" Made with: {out['claim_generator']}." if out["claim_generator"] else ""
    if out["credentials"] == "invalid":
        findings.add(f"Content Credentials are present but do NOT validate ({', '.join(broken[:3]) or state}): the "
                     f"file was changed after signing, or the credentials are forged. They claim: {what}, but that "
                     f"cannot be trusted.{who}", WEAK, "c2pa")
    else:
        trust = "signer on a trust list" if out["credentials"] == "trusted" else "signer not on a trust list"
        findings.add(f"Signed Content Credentials (signature valid, {trust}) say: {what}.{who}{tool}", STRONG, "c2pa")
    if out["ingredients"]:
        findings.add(f"The credentials name {len(out['ingredients'])} ingredient(s) it was made from: "
                     + "; ".join(i["title"] or "untitled" for i in out["ingredients"][:5]) + ".",
                     STRONG if out["credentials"] != "invalid" else WEAK, "c2pa")
