"""Reports a person can file: the JSON record and a one-page printable HTML (verdict, faces with their heatmaps,
the video's timeline, the provenance block), both named after the analysed file. Used by the app's downloads and
the CLI's --report DIR. Every string that came from a user (above all the file name) is escaped in the HTML."""
from __future__ import annotations

import base64
import html
import os
import unicodedata
from pathlib import Path

import numpy as np

from .colour import black_and_white_note
from .evidence import signed_claim
from .explain import draw_faces, face_heatmap

TOP_FRAMES = 3  # a video's report (and page) shows this many most suspicious frames
MAX_FACES = 8  # faces with a heatmap in the HTML report: a map costs ~0.1-0.3 s a face on a CPU
FACE_SIDE = 160  # px of a face picture in the HTML: small enough for one printed page
OVERVIEW_SIDE = 640
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"]
HEADLINES = {"likely_fake": "Likely FAKE", "likely_real": "Likely REAL", "inconclusive": "Inconclusive"}
CALL_WORDS = {"likely_fake": "likely fake", "likely_real": "likely real", "inconclusive": "inconclusive"}
INCONCLUSIVE_ADVICE = (
    "The model is unsure about this one: its score lies in the band ({band}) where, on validation data, its calls "
    "were wrong too often to be trusted. Read it as neither real nor fake. To settle it, look for the original "
    "source (a reverse image search), other copies of it, or for a video a longer or sharper clip.")


UNFAMILIAR_FACE = "This face is unlike the pictures the model was trained on: treat its score as unreliable."
UNFAMILIAR_FACES = ("{n} of the {total} faces seen are unlike the pictures the model was trained on: treat the "
                    "score as unreliable.")
UNFAMILIAR_MARK = "unlike the training pictures"  # beside each such face's score
NOT_COUNTED_MARK = "too small to judge: not counted"  # a small face beside a larger one (pipeline.SMALL_FACE_SIDE)


def unfamiliar_warning(result) -> str | None:
    """The plain warning for an analysis flagged unfamiliar (detector.ood), None when it is not (or cannot be)."""
    if not result.unfamiliar:
        return None
    n = sum(bool(f.unfamiliar) for f in result.faces)
    return UNFAMILIAR_FACE if len(result.faces) == 1 else UNFAMILIAR_FACES.format(n=n, total=len(result.faces))


def black_and_white_warning(result, card) -> str | None:
    """The card's measured warning for a black-and-white picture whose faces were scored, None otherwise."""
    return black_and_white_note(card.info) if result.black_and_white and result.faces and card is not None else None


def band_text(result_or_band) -> str:
    low, high = getattr(result_or_band, "band", result_or_band)
    return f"{100 * low:.1f}% to {100 * high:.1f}% fake probability"


def inconclusive_advice(result) -> str:
    return INCONCLUSIVE_ADVICE.format(band=band_text(result))


# How the threshold and the band go together, in one sentence (the app's sidebar, the CLI's help).
THRESHOLD_AND_BAND = ("The threshold is the line between fake and real. At the model's own threshold, scores in its "
                      "unsure band (where its calls on validation data were wrong too often) are called inconclusive; "
                      "at a threshold of your own, your line calls every face, and one in that band is marked unsure.")
UNSURE_MARK = "in the model's unsure band"  # beside a face's call that a user's threshold decided inside the band


def threshold_note(result, card=None) -> str:
    """Which probabilities get which call, in words (the page's caption and the report's note). `card`: the
    model's, to say when the threshold in force is the user's own rather than the model's."""
    note = f"Called fake at or above {100 * result.threshold:.1f}% (threshold {result.threshold:.4f})."
    if result.band and result.band[0] < result.band[1]:
        note += f" Inconclusive from {band_text(result)}."
    elif card is not None and not card.is_own_threshold(result.threshold):
        note += f" Your threshold, not the model's ({card.threshold:.4f})"
        note += (f": it calls every face; the model's unsure band is {band_text(card.band)}." if card.band else ".")
    return note


def unsure_note(result, card) -> str | None:
    """For a verdict a user's own threshold decided although its score lies in the model's unsure band."""
    if card is None or result.call not in ("likely_fake", "likely_real") or not card.unsure(result.fake_probability):
        return None
    if card.is_own_threshold(result.threshold):
        return None
    return (f"Your threshold decided this one. Its score lies in the model's unsure band ({band_text(card.band)}), "
            "where its calls on validation data were wrong too often: at the model's own threshold it would be "
            "called inconclusive.")


def shows_fake_map(face) -> bool:
    """A "towards fake" heatmap is drawn only for a face called fake or inconclusive: on a face called likely real
    it would point at "evidence" for a call the model did not make."""
    return face.call != "likely_real"


def faces_seen(result) -> str:
    """"Faces seen in 26 of 32 sampled frames": how much of a video the verdict rests on."""
    seen = sum(fr.n_faces > 0 for fr in result.frames)
    return f"Faces seen in {seen} of {len(result.frames)} sampled frames."


def person_segments(result, pid: int) -> list[list[tuple[float, float]]]:
    """(time s, fake probability) of one person, split where sampled frames without that person come between:
    a stretch where the person (or any face) was not seen is a gap in the timeline, not a line across it."""
    frames = sorted(result.frames, key=lambda fr: fr.frame)
    position = {fr.frame: k for k, fr in enumerate(frames)}
    segments, last = [], None
    for k, p in sorted((position[f.frame], f.fake_probability) for f in result.faces if f.person == pid):
        if last is None or k != last + 1:
            segments.append([])
        segments[-1].append((frames[k].time_s, p))
        last = k
    return segments


def top_frames(result, n: int = TOP_FRAMES):
    """The n sampled frames with the most fake face. Scores alone decide it (not the threshold or the
    aggregation), so an analysis needs to keep only these frames' pictures."""
    return sorted((fr for fr in result.frames if fr.n_faces), key=lambda fr: -fr.fake_probability)[:n]


def safe_name(name: str, limit: int = 120) -> str:
    """A user's file name made safe to name a download or a file in a folder: its last path component (either
    separator), no control or format characters (a right-to-left override can disguise 'gpj.exe'), none that
    Windows refuses (replaced by _), no leading dots (hidden files, '..'), at most `limit` characters."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join("_" if c in '<>:"|?*' else c for c in base if not unicodedata.category(c).startswith("C"))
    base = base.strip().lstrip(".")
    return base[:limit] or "upload"


def report_names(name: str) -> tuple[str, str]:
    """clip.mp4 -> (clip.mp4.report.json, clip.mp4.report.html)."""
    base = safe_name(name)
    return f"{base}.report.json", f"{base}.report.html"


def report_json(result) -> str:
    return result.to_json(indent=2)


def _resized(image: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image


def _data_uri(image: np.ndarray, side: int, fmt: str) -> str:
    import cv2

    image = _resized(image, side / max(image.shape[:2]))
    ok, buf = cv2.imencode(f".{fmt}", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    mime = "png" if fmt == "png" else "jpeg"
    return f"data:image/{mime};base64,{base64.b64encode(buf.tobytes()).decode()}"


def _pct(p) -> str:
    return "–" if p is None else f"{100 * p:.1f}%"


def _headline(result) -> tuple[str, str]:
    if result.call in HEADLINES:
        return result.call, f"{HEADLINES[result.call]} — {100 * result.fake_probability:.0f}% fake probability"
    return result.verdict, "No face found" if result.verdict == "no_face" else "Cannot analyse this file"


def _report_faces(result) -> list[int]:
    """Indices of the faces shown: an image's first MAX_FACES, a video's faces in its most suspicious frames."""
    if result.kind != "video":
        return list(range(min(len(result.faces), MAX_FACES)))
    frames = [fr.frame for fr in top_frames(result)]
    return sorted((i for i, f in enumerate(result.faces) if f.frame in frames),
                  key=lambda i: (frames.index(result.faces[i].frame), i))[:MAX_FACES]


def timeline_svg(result, width: int = 640, height: int = 200, band=None) -> str:
    """Fake probability over time, one line per person (broken where the person was not seen), the threshold
    dashed red, the model's unsure band (`band`, default the one in force) shaded: a small inline SVG."""
    band = band or result.band
    left, right, top, bottom = 40, 10, 10, 30
    t_max = max([result.duration_s or 0] + [fr.time_s for fr in result.frames]) or 1.0

    def xy(t, p):
        return (left + (width - left - right) * t / t_max, top + (height - top - bottom) * (1 - p))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="fake probability over time">',
             f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" '
             'fill="none" stroke="#999"/>']
    if band and band[0] < band[1]:
        (_, y_high), (_, y_low) = xy(0, band[1]), xy(0, band[0])
        parts.append(f'<rect x="{left}" y="{y_high:.1f}" width="{width - left - right}" '
                     f'height="{y_low - y_high:.1f}" fill="#f5a623" fill-opacity="0.18"/>')
    for p in (0, 0.5, 1):
        x, y = xy(0, p)
        parts.append(f'<text x="{x - 4}" y="{y + 4}" font-size="11" text-anchor="end">{100 * p:.0f}%</text>')
    for t, anchor in ((0, "start"), (t_max, "end")):
        x, y = xy(t, 0)
        parts.append(f'<text x="{x}" y="{y + 16}" font-size="11" text-anchor="{anchor}">{t:.1f} s</text>')
    (x0, yt), (x1, _) = xy(0, result.threshold or 0), xy(t_max, 0)
    parts.append(f'<line x1="{x0}" y1="{yt:.1f}" x2="{x1}" y2="{yt:.1f}" stroke="red" stroke-dasharray="4 4"/>')
    persons = sorted({f.person for f in result.faces if f.person is not None})
    for n, pid in enumerate(persons):
        colour = COLOURS[n % len(COLOURS)]
        for segment in person_segments(result, pid):
            coords = [xy(t, p) for t, p in segment]
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                         f'points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in coords)}"/>')
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>' for x, y in coords]
        parts.append(f'<text x="{width - right - 4}" y="{top + 14 * (n + 1)}" font-size="11" text-anchor="end" '
                     f'fill="{colour}">person {pid + 1}</text>')
    parts.append("</svg>")
    return "".join(parts)


CSS = """
body { font-family: system-ui, sans-serif; max-width: 190mm; margin: 8mm auto; color: #222; font-size: 13px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 14px 0 6px; }
.verdict { padding: 8px 12px; border-radius: 6px; font-size: 17px; font-weight: 600; }
.likely_fake { background: #fde2e2; color: #8a1111; } .likely_real { background: #e1f5e6; color: #135c25; }
.inconclusive { background: #ffe8c7; color: #6b3d00; }
.unfamiliar { border-left: 4px solid #b26a00; padding: 4px 8px; font-weight: 600; }
.no_face, .error { background: #fff4d6; color: #6b4e00; }
.faces { display: flex; flex-wrap: wrap; gap: 8px; } .face { width: 160px; font-size: 11px; }
.frames { display: flex; gap: 8px; } .frames figure { margin: 0; flex: 1; font-size: 11px; }
img { max-width: 100%; } table { border-collapse: collapse; } td, th { padding: 2px 8px 2px 0; text-align: left; }
.prov td:first-child { color: #555; } code { font-size: 11px; word-break: break-all; }
.note { color: #555; font-size: 11px; }
.credentials { border-left: 4px solid #8a1111; padding: 4px 8px; font-weight: 600; }
.strength { display: inline-block; min-width: 4.5em; font-size: 11px; font-weight: 600; }
.strong { color: #8a1111; } .weak { color: #6b3d00; } .none { color: #555; }
@page { size: A4; margin: 10mm; } @media print { section, .face, figure { break-inside: avoid; } }
"""


def report_html(result, classifier, name: str | None = None) -> str:
    """The one-page printable report. Heatmaps come from (and go into) the analysis's cache."""
    e = html.escape  # quote=True: also safe inside attribute values
    name = result.path if name is None else name
    css_class, headline = _headline(result)
    out = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
           f"<title>Deepfake report: {e(safe_name(name))}</title><style>{CSS}</style></head><body>",
           f"<h1>Deepfake detector report</h1><p>File: <b>{e(name)}</b> ({e(result.kind or 'unknown kind')})</p>",
           f"<div class='verdict {css_class}'>{e(headline)}</div>"]
    if result.call == "inconclusive":
        out.append(f"<p>{e(inconclusive_advice(result))}</p>")
    if unsure_note(result, classifier.card):
        out.append(f"<p>{e(unsure_note(result, classifier.card))}</p>")
    for warning in (unfamiliar_warning(result), black_and_white_warning(result, classifier.card)):
        if warning:
            out.append(f"<p class='unfamiliar'>&#9888; {e(warning)}</p>")
    claim = signed_claim(result.evidence)
    if claim:  # beside the verdict, never instead of it: each says where it comes from
        out.append(f"<p class='credentials'>&#9998; {e(claim)}</p>")
    if result.message:
        out.append(f"<p>{e(result.message)}</p>")
    if result.threshold is not None:
        out.append(f"<p class='note'>{e(threshold_note(result, classifier.card))} A probability, not proof.</p>")

    art = result.artifacts
    if result.kind == "image" and "image" in art and result.faces:
        scale = min(1.0, OVERVIEW_SIDE / max(art["image"].shape[:2]))  # shrink first: a photo can be 50 MP
        small = _resized(art["image"], scale)
        uri = _data_uri(draw_faces(small, result.faces, result.threshold, scale=scale), OVERVIEW_SIDE, "jpg")
        out.append(f"<section><img src='{uri}' alt='the picture with its faces boxed'></section>")
    if result.kind == "video" and result.frames:
        out.append(f"<section><h2>Fake probability over time</h2><p>{result.duration_s or 0:.1f} s, "
                   f"{len(result.frames)} frames analysed, strategy {e(result.strategy or '')}. "
                   f"{faces_seen(result)}</p>")
        if result.faces:
            out.append(timeline_svg(result, band=classifier.card.band))
            out.append("<table><tr><th>person</th><th>fake probability</th><th>call</th><th>seen in</th>"
                       "<th>counted</th></tr>" + "".join(
                           f"<tr><td>{p.person + 1}</td><td>{_pct(p.fake_probability)}</td>"
                           f"<td>{e(CALL_WORDS[p.call])}</td><td>{p.n_faces} of {len(result.frames)} frames</td>"
                           f"<td>{'yes' if p.counted else 'no (seen too briefly)'}</td></tr>"
                           for p in result.persons) + "</table>")
        thumbs = art.get("frames") or {}
        shown = [fr for fr in top_frames(result) if fr.frame in thumbs]
        if shown:
            out.append("<h2>Most suspicious frames</h2><div class='frames'>")
            for fr in shown:
                faces = [f for f in result.faces if f.frame == fr.frame]
                thumb = thumbs[fr.frame]
                img = draw_faces(thumb, faces, result.threshold, scale=thumb.shape[1] / result.width)
                out.append(f"<figure><img src='{_data_uri(img, 320, 'jpg')}' alt='frame {fr.frame}'>"
                           f"<figcaption>t = {fr.time_s:.1f} s (frame {fr.frame})</figcaption></figure>")
            out.append("</div>")
        out.append("</section>")

    idx = _report_faces(result)
    if idx and "crops" in art:
        times = {fr.frame: fr.time_s for fr in result.frames}
        out.append("<section><h2>Each face, and why</h2><p class='note'>LayerCAM heatmaps: red = what pushed the "
                   "score towards fake; drawn only for faces called fake or inconclusive.</p><div class='faces'>")
        for n, i in enumerate(idx):
            f = result.faces[i]
            where = f" · t = {times[f.frame]:.1f} s" if f.frame in times else ""
            shown = face_heatmap(classifier, result, i) if shows_fake_map(f) else art["crops"][i]
            what = "heatmap" if shows_fake_map(f) else "crop (called likely real: no heatmap)"
            out.append(f"<div class='face'><img src='{_data_uri(shown, FACE_SIDE, 'png')}' "
                       f"alt='face {n + 1} {what}'><br><b>Face #{n + 1}</b>: {_pct(f.fake_probability)} fake "
                       f"({e(CALL_WORDS.get(f.call, f.verdict))}){where}"
                       + (f"<br><b>&#9888; {UNFAMILIAR_MARK}</b>" if f.unfamiliar else "")
                       + ("" if f.counted else f"<br><i>{NOT_COUNTED_MARK}</i>") + "</div>")
        out.append("</div></section>")

    out.append(evidence_html(result.evidence))
    prov = result.to_dict()["provenance"]
    if prov:
        rows = "".join(f"<tr><td>{e(k)}</td><td><code>{e('–' if v is None else str(v))}</code></td></tr>"
                       for k, v in prov.items())
        out.append(f"<section><h2>Provenance</h2><table class='prov'>{rows}</table><p class='note'>Check the file: "
                   "<code>sha256sum FILE</code> must print file_sha256.</p></section>")
    out.append("</body></html>")
    return "\n".join(out)


EVIDENCE_TITLE = "What the file says about itself"
STRENGTH_WORDS = {"strong": "strong", "weak": "weak", "none": "—"}


def evidence_lines(evidence) -> list[tuple[str, str]]:
    """(strength, text) of each finding, strongest first; empty when the file was not read."""
    return [(f["strength"], f["text"]) for f in (evidence or {}).get("findings", [])]


def evidence_html(evidence) -> str:
    """The report's section on the file's own credentials and metadata (detector.evidence). All escaped."""
    if not evidence:
        return ""
    e = html.escape
    rows = "".join(f"<li><span class='strength {e(s)}'>{e(STRENGTH_WORDS.get(s, s))}</span> {e(t)}</li>"
                   for s, t in evidence_lines(evidence))
    return (f"<section><h2>{EVIDENCE_TITLE}</h2><ul>{rows}</ul><p class='note'>{e(evidence['note'])} These "
            "findings come from the file's credentials and metadata, not from the model; they do not change its "
            "score.</p></section>")


def write_reports(result, classifier, out_dir, taken: set[str] | None = None) -> tuple[Path, Path]:
    """Write NAME.report.json and NAME.report.html into out_dir, NAME the analysed file's. `taken`: names already
    written in this run (two clip.mp4 from different folders get clip.mp4's and clip-2.mp4's reports)."""
    name = safe_name(result.path)
    if taken is not None:
        stem, ext = os.path.splitext(name)
        k = 1
        while name in taken:
            k += 1
            name = f"{stem}-{k}{ext}"
        taken.add(name)
    json_name, html_name = report_names(name)
    out = Path(out_dir)
    (out / json_name).write_text(report_json(result), encoding="utf-8")
    (out / html_name).write_text(report_html(result, classifier, result.path), encoding="utf-8")
    return out / json_name, out / html_name
