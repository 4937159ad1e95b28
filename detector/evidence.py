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

import io
import itertools
import json
import mmap
import os
import re
import time

# ------------------------------------------------------------------ caps (hostile input)
MAX_C2PA_FILE_BYTES = 2 * 2**30  # the reader hashes the whole asset to check it: a larger file is not checked
MAX_MANIFEST_JSON = 8 * 2**20  # the reader's JSON of a manifest store; a larger one is refused
MAX_XMP_BYTES = 2**20  # XMP packet searched (the rest is ignored)
MAX_TEXT_SHOWN = 160  # characters of a field quoted in a finding
MAX_ITEMS = 20  # actions, ingredients, text chunks, history entries kept

STRONG, WEAK, NONE = "strong", "weak", "none"
ABSENCE_NOTE = ("Absence proves nothing: most websites and messaging apps strip credentials and metadata, and "
                "anyone can remove or forge metadata. Only signed credentials that validate are strong evidence.")

IPTC_SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# IPTC digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/) -> (words, what they say)
SOURCE_TYPES = {
    "trainedAlgorithmicMedia": ("created by a generative AI model", "generated"),
    "compositeWithTrainedAlgorithmicMedia": ("edited with generative AI (a composite with AI-made parts)", "edited"),
    "algorithmicMedia": ("created by an algorithm, not captured from the world", "generated"),
    "compositeSynthetic": ("a composite including synthetic elements", "edited"),
    "algorithmicallyEnhanced": ("enhanced by an algorithm", "edited"),
    "dataDrivenMedia": ("produced from data by an algorithm", "generated"),
    "digitalArt": ("digital art made by a person", "generated"),
    "virtualRecording": ("a recording of a virtual (computer-made) scene", "generated"),
    "composite": ("a composite of several elements", "edited"),
    "compositeCapture": ("a composite of several captures", "edited"),
    "humanEdits": ("edited by a person", "edited"),
    "minorHumanEdits": ("captured, with minor edits", "captured"),
    "digitalCapture": ("captured by a camera", "captured"),
    "computationalCapture": ("captured by a camera with computational processing", "captured"),
    "negativeFilm": ("scanned from a film negative", "captured"),
    "positiveFilm": ("scanned from film", "captured"),
    "print": ("scanned from a print", "captured"),
    "screenCapture": ("a screen capture", "captured"),
}
# C2PA actions that change the picture (c2pa.opened, .converted, .published... do not)
EDIT_ACTIONS = {"c2pa.edited", "c2pa.color_adjustments", "c2pa.cropped", "c2pa.drawing", "c2pa.filtered",
                "c2pa.orientation", "c2pa.placed", "c2pa.removed", "c2pa.resized", "c2pa.edited.metadata"}
# PNG/WebP text keys that image generators write -> who writes them
GENERATOR_TEXT = {"parameters": "a Stable Diffusion web UI (AUTOMATIC1111, Forge, Fooocus...)",
                  "prompt": "ComfyUI", "workflow": "ComfyUI", "invokeai_metadata": "InvokeAI",
                  "sd-metadata": "InvokeAI", "dream": "InvokeAI", "generation_data": "an AI image generator"}
SD_PARAMETERS = re.compile(r"Steps: ?\d+.{0,200}Sampler:", re.S)  # A1111's settings line (also in EXIF UserComment)
# XMP fields, namespace prefix free; each value capped. No nested quantifiers: linear time on any input.
_XMP_FIELD = (r"(?:[\w-]{1,40}:)?%s(?:\s*=\s*[\"']([^\"'<]{1,500})[\"']"  # an attribute,
              r"|\s*>\s*([^<]{1,500})<"  # an element's text,
              r"|[^>]{0,200}?rdf:resource\s*=\s*[\"']([^\"'<]{1,500})[\"'])")  # or a resource link
XMP_FIELDS = {name: re.compile(_XMP_FIELD % name) for name in
              ("DigitalSourceType", "CreatorTool", "softwareAgent", "provenance", "CreateDate")}
# EXIF tags: base IFD and the Exif sub-IFD (0x8769)
EXIF_BASE = {0x010F: "make", 0x0110: "model", 0x0131: "software", 0x0132: "datetime", 0x010E: "description"}
EXIF_SUB = {0x9003: "datetime_original", 0x9004: "datetime_digitized", 0x9286: "user_comment"}


def _short(value, limit: int = MAX_TEXT_SHOWN) -> str:
    """One line of at most `limit` characters, control characters dropped: safe to quote in any output."""
    text = "".join(c if c.isprintable() else " " for c in str(value)[: limit * 4])
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _source_words(uri: str | None) -> tuple[str, str | None]:
    """An IPTC digital source type URI (or bare name) -> (plain words, generated/edited/captured or None)."""
    if not uri:
        return "", None
    name = str(uri).rstrip("/").rsplit("/", 1)[-1]
    words, says = SOURCE_TYPES.get(name, (f"of source type '{_short(name, 60)}'", None))
    return words, says


class _Findings:
    def __init__(self):
        self.items: list[dict] = []

    def add(self, text: str, strength: str, source: str) -> None:
        self.items.append({"text": text, "strength": strength, "source": source})


# ------------------------------------------------------------------ C2PA
_context = None


TRUST_ANCHORS_ENV = "DEEPFAKE_C2PA_TRUST_ANCHORS"  # a PEM file of CA certificates whose signers count as trusted


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


def _has_jumbf(buf) -> bool:
    """C2PA manifests live in JUMBF boxes (type 'jumb') in every format: no such bytes, no manifest to read."""
    return buf.find(b"jumb") >= 0


def _read_c2pa(source, mime: str | None) -> dict | None:
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


def _credentials(store: dict, out: dict, findings: _Findings) -> None:
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
    out["validation_failures"] = [_short(c, 80) for c in sorted(failures)][:MAX_ITEMS]

    gen = active.get("claim_generator")
    infos = active.get("claim_generator_info") or []
    if not gen and infos and isinstance(infos[0], dict):
        gen = " ".join(str(infos[0].get(k, "")) for k in ("name", "version")).strip()
    sig = active.get("signature_info") or {}
    signer = ", ".join(_short(sig[k], 80) for k in ("common_name", "issuer") if sig.get(k)) or None
    out.update(claim_generator=_short(gen) if gen else None, signer=signer,
               signed_at=_short(sig["time"], 40) if sig.get("time") else None)

    actions = []
    for a in itertools.islice(active.get("assertions") or [], 200):
        if not isinstance(a, dict) or not str(a.get("label", "")).startswith("c2pa.actions"):
            continue
        for act in itertools.islice((a.get("data") or {}).get("actions") or [], MAX_ITEMS):
            if isinstance(act, dict):
                agent = act.get("softwareAgent")
                agent = agent.get("name") if isinstance(agent, dict) else agent
                actions.append({"action": _short(act.get("action", ""), 60),
                                "digital_source_type": _short(act["digitalSourceType"], 120)
                                if act.get("digitalSourceType") else None,
                                "software_agent": _short(agent, 80) if agent else None})
    out["actions"] = actions[:MAX_ITEMS]
    out["ingredients"] = [{"title": _short(i.get("title", ""), 80),
                           "relationship": _short(i.get("relationship", ""), 30)}
                          for i in itertools.islice(active.get("ingredients") or [], MAX_ITEMS) if isinstance(i, dict)]

    says, words = None, []
    for act in actions:
        w, s = _source_words(act["digital_source_type"])
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


# ------------------------------------------------------------------ metadata (Pillow, headers only)
def _xmp_fields(xmp: bytes) -> dict[str, list[str]]:
    text = bytes(xmp[:MAX_XMP_BYTES]).decode("utf-8", "replace")
    found = {}
    for name, rx in XMP_FIELDS.items():
        values = []
        for m in itertools.islice(rx.finditer(text), MAX_ITEMS):
            v = _short(next(g for g in m.groups() if g), 200)
            if v and v not in values:
                values.append(v)
        if values:
            found[name] = values
    return found


def _exif_fields(source) -> dict[str, str]:
    """source: an open TIFF image, or a metadata dict whose "exif" holds the raw EXIF block."""
    from PIL import Image

    if not isinstance(source, dict):
        exif = source.getexif()
    else:  # never im.getexif() on a PNG: without an eXIf chunk before the pixels it decodes the whole image
        exif = Image.Exif()
        raw = source.get("exif")
        if isinstance(raw, (bytes, bytearray)):
            exif.load(bytes(raw))
    fields = {name: exif.get(tag) for tag, name in EXIF_BASE.items()}
    try:
        sub = exif.get_ifd(0x8769)
    except Exception:  # a broken Exif sub-IFD offset: the base fields still count
        sub = {}
    fields.update({name: sub.get(tag) for tag, name in EXIF_SUB.items()})
    out = {}
    for k, v in fields.items():
        if isinstance(v, bytes):  # UserComment: 8-byte charset header, then the text
            v = v[8:].decode("utf-16-be" if v[:8].startswith(b"UNICODE") else "latin-1", "replace").replace("\x00", "")
        if v is not None and str(v).strip():
            out[k] = str(v)[:4000]
    return out


MAX_JPEG_SEGMENTS = 1000  # markers walked before the picture data (a real file has ~5-20)
XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"


def jpeg_metadata(buf) -> dict:
    """EXIF and XMP of a JPEG from its APP1 segments, walking marker to marker up to the picture data. Not
    Pillow's JpegImagePlugin: through junk between markers it reads one byte at a time (5 s for 1.7 MB of it,
    found by bench/fuzz.py --evidence); here anything unexpected ends the walk."""
    info: dict = {}
    i, n, end = 2, 0, len(buf)
    while i + 4 <= end and n < MAX_JPEG_SEGMENTS:
        n += 1
        if buf[i] != 0xFF:
            break
        marker = buf[i + 1]
        if marker == 0xFF:  # a fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            i += 2
            continue
        if marker in (0xDA, 0xD9):  # start of the picture data, or its end
            break
        length = int.from_bytes(buf[i + 2 : i + 4], "big")
        if length < 2:
            break
        if marker == 0xE1:
            head = bytes(buf[i + 4 : i + 4 + len(XMP_APP1)])
            if head.startswith(b"Exif\x00\x00") and "exif" not in info:
                info["exif"] = bytes(buf[i + 4 : i + 2 + length])
            elif head == XMP_APP1 and "xmp" not in info:
                info["xmp"] = bytes(buf[i + 4 + len(XMP_APP1) : i + 2 + length])
        i += 2 + length
    return info


def _read_info(source) -> dict:
    """The picture's metadata blocks: JPEG by jpeg_metadata, others by Pillow (header and metadata chunks only,
    pixels never decoded). A TIFF's EXIF fields come parsed, under "exif_fields"."""
    from PIL import Image

    if isinstance(source, (bytes, bytearray, memoryview)):
        if bytes(source[:2]) == b"\xff\xd8":
            return jpeg_metadata(source)
        stream = io.BytesIO(source)
    else:
        stream = open(source, "rb")
    with stream:
        if isinstance(source, str) and stream.read(2) == b"\xff\xd8":
            with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as m:
                return jpeg_metadata(m)
        stream.seek(0)
        with Image.open(stream) as im:
            info = dict(im.info)
            if im.format == "TIFF":
                try:
                    info["exif_fields"] = _exif_fields(im)
                except Exception as e:
                    info["exif_error"] = e
            return info


def _metadata(source, out: dict, findings: _Findings) -> None:
    info = _read_info(source)
    try:
        if "exif_error" in info:
            raise info["exif_error"]
        exif = info.pop("exif_fields", None) or _exif_fields(info)
    except Exception as e:  # bad EXIF offsets: say so, keep the rest
        exif = {}
        findings.add(f"Could not read the EXIF metadata ({_short(type(e).__name__, 40)}).", NONE, "exif")
    meta: dict = {}
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    if isinstance(xmp, (bytes, bytearray)):
        meta["xmp"] = x = _xmp_fields(xmp)
        for uri in x.get("DigitalSourceType", [])[:3]:
            words, _ = _source_words(uri)
            findings.add(f"The metadata (IPTC/XMP DigitalSourceType, unsigned) says: {words}.", WEAK, "xmp")
        if x.get("CreatorTool"):
            findings.add(f"The metadata says it was made or last saved with {x['CreatorTool'][0]}.", WEAK, "xmp")
        agents = [a for a in x.get("softwareAgent", []) if a not in x.get("CreatorTool", [])]
        if agents:
            findings.add(f"The metadata's edit history names: {', '.join(agents[:5])}.", WEAK, "xmp")
        if x.get("provenance"):
            findings.add(f"The metadata points to Content Credentials kept elsewhere ({x['provenance'][0]}); they "
                         "were not fetched.", NONE, "xmp")
    if exif:
        meta["exif"] = {k: _short(v) for k, v in exif.items() if k not in ("user_comment", "description")}
        if exif.get("make") or exif.get("model"):
            camera = " ".join(_short(exif[k], 60) for k in ("make", "model") if exif.get(k))
            findings.add(f"The metadata (EXIF, unsigned) says it was taken with a {camera}.", WEAK, "exif")
        if exif.get("software"):
            findings.add(f"The metadata (EXIF) says it was processed with {_short(exif['software'], 80)}.", WEAK,
                         "exif")
        when = exif.get("datetime_original") or exif.get("datetime")
        if when:
            findings.add(f"The metadata (EXIF) dates it {_short(when, 40)}.", WEAK, "exif")
        for k in ("user_comment", "description"):
            if exif.get(k) and SD_PARAMETERS.search(exif[k][:4000]):
                meta["generator_text"] = {f"exif_{k}": _short(exif[k], 400)}
                findings.add(f"The metadata (EXIF {k.replace('_', ' ')}) holds Stable Diffusion generation "
                             f"settings, as AI image generators write: \"{_short(exif[k], 100)}\".", WEAK, "exif")
    gen = {}
    for key in itertools.islice((k for k in info if isinstance(k, str)), 200):
        value = info[key]
        if not isinstance(value, (str, bytes)):
            continue
        low = key.lower()
        text = value if isinstance(value, str) else value[:4000].decode("utf-8", "replace")
        if low in GENERATOR_TEXT or (low in ("comment", "description") and SD_PARAMETERS.search(text[:4000])):
            gen[_short(key, 40)] = _short(text, 400)
            who = GENERATOR_TEXT.get(low, "an AI image generator")
            findings.add(f"The file carries a '{_short(key, 40)}' text chunk as written by {who} (prompt and "
                         f"generation settings): the metadata says it was made by an AI image generator. It "
                         f"begins: \"{_short(text, 100)}\".", WEAK, "png-text")
        elif low == "software":
            findings.add(f"The metadata (text chunk) says it was made with {_short(text, 80)}.", WEAK, "png-text")
        if len(gen) >= MAX_ITEMS:
            break
    if gen:
        meta.setdefault("generator_text", {}).update(gen)
    out["metadata"] = meta


# ------------------------------------------------------------------ the whole read
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
    out, findings = empty_evidence(), _Findings()
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
                    found = _has_jumbf(m)
        else:
            found = _has_jumbf(source)
        store = _read_c2pa(source, mime) if found else None
        if store is not None:
            _credentials(store, out, findings)
    except Exception as e:  # the library's errors, a panic turned error, I/O: one line, the rest goes on
        out["credentials"] = "unreadable"
        findings.add(f"Could not read the credentials ({_short(str(e) or type(e).__name__, 120)}).", NONE, "c2pa")
    # Metadata
    if kind != "video":
        try:
            _metadata(source, out, findings)
        except Exception as e:
            if kind == "image" or not isinstance(e, OSError):  # an unknown file that is no picture has none
                findings.add(f"Could not read the file's metadata ({_short(type(e).__name__, 40)}).", NONE, "metadata")
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
