"""Metadata anyone can write or strip: IPTC/XMP DigitalSourceType and related fields, EXIF make/model/software/
dates, and the text chunks image generators write into PNG/WebP files. Headers only: pixels are never decoded."""
from __future__ import annotations

import io
import itertools
import mmap
import re

from .findings import MAX_ITEMS, NONE, WEAK, Findings, short, source_words

MAX_XMP_BYTES = 2**20  # XMP packet searched (the rest is ignored)
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


def _xmp_fields(xmp: bytes) -> dict[str, list[str]]:
    text = bytes(xmp[:MAX_XMP_BYTES]).decode("utf-8", "replace")
    found = {}
    for name, rx in XMP_FIELDS.items():
        values = []
        for m in itertools.islice(rx.finditer(text), MAX_ITEMS):
            v = short(next(g for g in m.groups() if g), 200)
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


def read_metadata(source, out: dict, findings: Findings) -> None:
    """Fill `out["metadata"]` from the picture's XMP, EXIF and text chunks and add what they say as findings."""
    info = _read_info(source)
    try:
        if "exif_error" in info:
            raise info["exif_error"]
        exif = info.pop("exif_fields", None) or _exif_fields(info)
    except Exception as e:  # bad EXIF offsets: say so, keep the rest
        exif = {}
        findings.add(f"Could not read the EXIF metadata ({short(type(e).__name__, 40)}).", NONE, "exif")
    meta: dict = {}
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    if isinstance(xmp, (bytes, bytearray)):
        meta["xmp"] = x = _xmp_fields(xmp)
        for uri in x.get("DigitalSourceType", [])[:3]:
            words, _ = source_words(uri)
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
        meta["exif"] = {k: short(v) for k, v in exif.items() if k not in ("user_comment", "description")}
        if exif.get("make") or exif.get("model"):
            camera = " ".join(short(exif[k], 60) for k in ("make", "model") if exif.get(k))
            findings.add(f"The metadata (EXIF, unsigned) says it was taken with a {camera}.", WEAK, "exif")
        if exif.get("software"):
            findings.add(f"The metadata (EXIF) says it was processed with {short(exif['software'], 80)}.", WEAK,
                         "exif")
        when = exif.get("datetime_original") or exif.get("datetime")
        if when:
            findings.add(f"The metadata (EXIF) dates it {short(when, 40)}.", WEAK, "exif")
        for k in ("user_comment", "description"):
            if exif.get(k) and SD_PARAMETERS.search(exif[k][:4000]):
                meta["generator_text"] = {f"exif_{k}": short(exif[k], 400)}
                findings.add(f"The metadata (EXIF {k.replace('_', ' ')}) holds Stable Diffusion generation "
                             f"settings, as AI image generators write: \"{short(exif[k], 100)}\".", WEAK, "exif")
    gen = {}
    for key in itertools.islice((k for k in info if isinstance(k, str)), 200):
        value = info[key]
        if not isinstance(value, (str, bytes)):
            continue
        low = key.lower()
        text = value if isinstance(value, str) else value[:4000].decode("utf-8", "replace")
        if low in GENERATOR_TEXT or (low in ("comment", "description") and SD_PARAMETERS.search(text[:4000])):
            gen[short(key, 40)] = short(text, 400)
            who = GENERATOR_TEXT.get(low, "an AI image generator")
            findings.add(f"The file carries a '{short(key, 40)}' text chunk as written by {who} (prompt and "
                         f"generation settings): the metadata says it was made by an AI image generator. It "
                         f"begins: \"{short(text, 100)}\".", WEAK, "png-text")
        elif low == "software":
            findings.add(f"The metadata (text chunk) says it was made with {short(text, 80)}.", WEAK, "png-text")
        if len(gen) >= MAX_ITEMS:
            break
    if gen:
        meta.setdefault("generator_text", {}).update(gen)
    out["metadata"] = meta
