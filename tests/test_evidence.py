"""What a file says about itself (detector.evidence) on real files made here: pictures signed with c2pa-python
and a throwaway certificate, generator text chunks, XMP and EXIF written with Pillow, a video from OpenCV."""
import dataclasses
import io
import json

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from detector.evidence import read_evidence, signed_claim

GENERATED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _picture(fmt: str, **save) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 96, 3), np.uint8)).save(buf, fmt, **save)
    return buf.getvalue()


def _strong(ev):
    return [f["text"] for f in ev["findings"] if f["strength"] == "strong"]


def test_signed_jpeg_is_valid_but_untrusted_and_says_generated(signed_jpeg, tmp_path):
    path = tmp_path / "signed.jpg"
    path.write_bytes(signed_jpeg)
    for ev in (read_evidence(path, kind="image"), read_evidence(signed_jpeg, "upload.jpg", kind="image")):
        assert ev["credentials"] == "valid_untrusted" and ev["credentials_say"] == "generated"
        assert ev["validation_failures"] == ["signingCredential.untrusted"]
        assert ev["actions"][0] == {"action": "c2pa.created", "digital_source_type": GENERATED, "software_agent": None}
        assert ev["signer"] == "Throwaway Signer, Throwaway Test Org" and ev["claim_generator"] == "ThrowawayGen 1.0"
        assert _strong(ev)[0].startswith("Signed Content Credentials (signature valid, signer not on a trust list) "
                                         "say: created by a generative AI model.")
        assert ev["strongest"] == "strong" and "Absence proves nothing" in ev["note"]
        assert "not from the model" in signed_claim(ev)


def test_a_trust_list_makes_the_signer_trusted(signed_jpeg, c2pa_credentials, tmp_path, monkeypatch):
    from detector.evidence import credentials

    (tmp_path / "anchors.pem").write_bytes(c2pa_credentials[0].split(b"-----END CERTIFICATE-----\n", 1)[1])  # the CA
    monkeypatch.setenv(credentials.TRUST_ANCHORS_ENV, str(tmp_path / "anchors.pem"))
    monkeypatch.setattr(credentials, "_context", None)
    ev = read_evidence(signed_jpeg, "x.jpg", kind="image")
    monkeypatch.setattr(credentials, "_context", None)  # the next reads: no trust list again
    assert ev["credentials"] == "trusted" and ev["validation_failures"] == []
    assert _strong(ev)[0].startswith("Signed Content Credentials (signature valid, signer on a trust list) say:")


def test_signed_png_with_edits_and_an_ingredient(c2pa_credentials):
    import c2pa

    from bench.c2pa_sign import manifest

    m = manifest(actions=[{"action": "c2pa.created", "digitalSourceType": GENERATED.replace("trainedAlgorithmicMedia",
                                                                                     "digitalCapture")},
                          {"action": "c2pa.cropped"}])
    m["ingredients"] = [{"title": "original.jpg", "format": "image/jpeg", "relationship": "componentOf"}]
    chain, key = c2pa_credentials
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, key, None))
    out = io.BytesIO()
    with c2pa.Builder(m) as builder:
        builder.sign(signer, "image/png", io.BytesIO(_picture("PNG")), out)
    ev = read_evidence(out.getvalue(), "x.png", kind="image")
    assert ev["credentials"] == "valid_untrusted" and ev["credentials_say"] == "edited"
    assert "say: captured by a camera; edited (cropped)." in _strong(ev)[0]
    assert ev["ingredients"] == [{"title": "original.jpg", "relationship": "componentOf"}]
    assert "original.jpg" in _strong(ev)[1]


def test_a_flipped_byte_makes_the_credentials_invalid(signed_jpeg):
    bad = bytearray(signed_jpeg)
    bad[-100] ^= 0xFF  # in the picture's data, after the manifest: the signed hash no longer matches
    ev = read_evidence(bytes(bad), "x.jpg", kind="image")
    assert ev["credentials"] == "invalid" and "assertion.dataHash.mismatch" in ev["validation_failures"]
    assert not _strong(ev) and "do NOT validate" in ev["findings"][0]["text"]
    assert signed_claim(ev) is None  # broken credentials are never shown as the file's word


def test_broken_jumbf_is_one_line_not_an_exception(signed_jpeg):
    start = signed_jpeg.find(b"jumb")
    for cut in (start + 40, start + 400, len(signed_jpeg) // 2):  # the manifest cut off at several points
        ev = read_evidence(signed_jpeg[:cut], "x.jpg", kind="image")
        assert ev["credentials"] in ("unreadable", "invalid", "none")
        assert ev["findings"] and ev["note"]
    junk = _picture("JPEG")
    junk = junk[:2] + b"\xff\xeb\x00\x20" + b"JP\x00\x01jumb" + bytes(20) + junk[2:]  # an APP11 box of garbage
    ev = read_evidence(junk, "x.jpg", kind="image")
    assert ev["credentials"] in ("unreadable", "none") and ev["findings"]


def test_stable_diffusion_parameters_chunk_in_a_png():
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a portrait of a man, photo\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1")
    ev = read_evidence(_picture("PNG", pnginfo=info), "sd.png", kind="image")
    assert ev["credentials"] == "none" and ev["strongest"] == "weak"
    text = ev["findings"][0]["text"]
    assert "Stable Diffusion web UI" in text and "made by an AI image generator" in text and "a portrait" in text
    assert "parameters" in ev["metadata"]["generator_text"]


def test_comfyui_prompt_chunk_in_a_png():
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps({"3": {"class_type": "KSampler", "inputs": {"seed": 1}}}))
    ev = read_evidence(_picture("PNG", pnginfo=info), "c.png", kind="image")
    assert any("ComfyUI" in f["text"] and f["strength"] == "weak" for f in ev["findings"])


def test_xmp_digital_source_type_in_a_jpeg():
    xmp = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           f'<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
           f'xmlns:xmp="http://ns.adobe.com/xap/1.0/" Iptc4xmpExt:DigitalSourceType="{GENERATED}" '
           f'xmp:CreatorTool="Adobe Photoshop 26.0"/></rdf:RDF></x:xmpmeta>').encode()
    ev = read_evidence(_picture("JPEG", xmp=xmp), "x.jpg", kind="image")
    texts = [f["text"] for f in ev["findings"] if f["strength"] == "weak"]
    assert "The metadata (IPTC/XMP DigitalSourceType, unsigned) says: created by a generative AI model." in texts
    assert "The metadata says it was made or last saved with Adobe Photoshop 26.0." in texts
    assert not _strong(ev) and ev["credentials"] == "none"


def test_exif_make_and_model_in_a_jpeg():
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "Canon", "EOS R5", "Adobe Lightroom 7.0"
    exif.get_ifd(0x8769)[0x9003] = "2026:11:30 10:15:00"
    ev = read_evidence(_picture("JPEG", exif=exif.tobytes()), "x.jpg", kind="image")
    texts = [f["text"] for f in ev["findings"]]
    assert "The metadata (EXIF, unsigned) says it was taken with a Canon EOS R5." in texts
    assert "The metadata (EXIF) says it was processed with Adobe Lightroom 7.0." in texts
    assert "The metadata (EXIF) dates it 2026:11:30 10:15:00." in texts
    assert ev["metadata"]["exif"]["model"] == "EOS R5" and ev["strongest"] == "weak"


def test_bad_exif_offsets_keep_the_rest():
    exif = bytearray(Image.Exif().tobytes())
    exif = b"Exif\x00\x00MM\x00\x2a\x7f\xff\xff\xf0" + bytes(16)  # the first IFD points far past the end
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "x\nSteps: 4, Sampler: Euler")
    data = _picture("PNG", pnginfo=info, exif=exif)
    ev = read_evidence(data, "x.png", kind="image")
    assert any("Stable Diffusion" in f["text"] for f in ev["findings"])


def test_video_without_credentials(blank_video):
    ev = read_evidence(blank_video, kind="video")
    assert ev["credentials"] == "none" and ev["strongest"] == "none" and ev["metadata"] == {}
    assert ev["findings"] == [{"text": "No Content Credentials and no provenance metadata were found in the file.",
                               "strength": "none", "source": "file"}]
    assert "Absence proves nothing" in ev["note"]


def test_analysis_carries_evidence_and_keeps_the_models_score(detector, signed_jpeg, tmp_path, astronaut):
    from detector.decode import load_image
    from detector.report import report_html

    path = tmp_path / "signed.jpg"
    path.write_bytes(signed_jpeg)
    r = detector.analyse_path(path)
    plain = detector.analyse_image(load_image(signed_jpeg))  # the same pixels, no file around them
    assert r.fake_probability == pytest.approx(plain.fake_probability, abs=1e-6) and plain.evidence is None
    assert r.evidence["credentials"] == "valid_untrusted" and "evidence" in r.timings
    assert json.loads(r.to_json())["evidence"]["credentials_say"] == "generated"
    page = report_html(dataclasses.replace(r, faces=[], artifacts={}), detector.classifier)  # no heatmaps: faster
    assert "What the file says about itself" in page
    assert "signed Content Credentials say: created by a generative AI model (signature valid" in page
    assert page.index("signed Content Credentials say") < page.index("What the file says about itself")


def test_unreadable_picture_still_reports_its_evidence(detector, tmp_path):
    path = tmp_path / "text.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "x\nSteps: 4, Sampler: Euler")
    path.write_bytes(_picture("PNG", pnginfo=info)[:120])  # the header and text chunk, the pixels cut off
    r = detector.analyse_path(path)
    assert r.verdict == "error" and any("Stable Diffusion" in f["text"] for f in r.evidence["findings"])


def test_csv_and_scan_columns_carry_evidence(signed_jpeg):
    """The CLI's JSON line is to_json (tests/test_cli.py checks its evidence); its CSV row and the scan's
    Parquet columns come from csv_fields."""
    from detector.cli import _row
    from detector.results import AnalysisResult
    from detector.scan import schema

    r = AnalysisResult(path="x", verdict="no_face", evidence=read_evidence(signed_jpeg, "x.jpg", kind="image"))
    row = _row(r)
    assert row["credentials"] == "valid_untrusted: generated" and row["evidence"].startswith("[strong] Signed Content")
    assert {"credentials", "evidence"} <= set(schema().names)


def test_generator_settings_in_a_webp_exif_user_comment():
    """Stable Diffusion web UIs write their settings into EXIF UserComment in JPEG and WebP (UTF-16, 'UNICODE')."""
    exif = Image.Exif()
    comment = "a castle\nSteps: 30, Sampler: DPM++ 2M, Seed: 7"
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + comment.encode("utf-16-be")
    ev = read_evidence(_picture("WEBP", exif=exif.tobytes()), "x.webp", kind="image")
    text = next(f["text"] for f in ev["findings"] if f["source"] == "exif")
    assert "Stable Diffusion generation settings" in text and "a castle" in text and ev["strongest"] == "weak"
