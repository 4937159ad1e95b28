"""Provenance and reports: the hashes in every report are those of the analysed file and of the model card (checked
against hashlib), the HTML report escapes hostile file names, and the app, CLI and scan all carry them."""
import hashlib
import io
import json
import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from helpers import app_page, write_video
from PIL import Image

import detector as detector_pkg
from detector.provenance import file_digest, stamp
from detector.report import report_html, report_json, report_names, safe_name, write_reports

HOSTILE = "<script>alert(1)</script>.jpg"


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def jpeg(arr) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def check_provenance(prov, data: bytes, card_file) -> None:
    assert prov["file_sha256"] == hashlib.sha256(data).hexdigest()
    assert prov["file_size_bytes"] == len(data)
    assert prov["model"] == "tiny" and prov["model_card_sha256"] == sha256(card_file)
    assert prov["package_version"] == detector_pkg.__version__ and prov["band"] is None  # the tiny card has none
    when = datetime.fromisoformat(prov["analysed_at_utc"])
    assert when.utcoffset() == timedelta(0) and abs(datetime.now(timezone.utc) - when) < timedelta(minutes=10)


def test_file_digest_streams_in_chunks(tmp_path, monkeypatch):
    import detector.provenance as provenance

    monkeypatch.setattr(provenance, "CHUNK", 1000)  # many reads, and a last partial one
    data = np.random.default_rng(0).bytes(123_457)
    (tmp_path / "f.bin").write_bytes(data)
    expected = (hashlib.sha256(data).hexdigest(), len(data))
    assert file_digest(tmp_path / "f.bin") == file_digest(data) == file_digest(io.BytesIO(data)) == expected


def test_image_report_hash_and_card_hash_match_hashlib(tmp_path, detector, astronaut, tiny_models_dir):
    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg(astronaut))
    r = stamp(detector.analyse_path(path), detector.card, path)
    d = json.loads(report_json(r))
    check_provenance(d["provenance"], path.read_bytes(), tiny_models_dir / "tiny.json")
    assert d["provenance"]["threshold"] == d["threshold"] == 0.5
    # The app hashes the uploaded bytes, not a file: the same digest.
    assert stamp(detector.analyse_image(path.read_bytes()), detector.card, path.read_bytes()).provenance[
        "file_sha256"] == sha256(path)
    r.threshold = 0.25  # a slider move after the analysis: the report states the threshold in force
    assert json.loads(report_json(r))["provenance"]["threshold"] == 0.25


def test_video_report_hash_matches_hashlib(tmp_path, detector, astronaut, tiny_models_dir):
    clip = write_video(tmp_path / "clip.mp4", [np.roll(astronaut, 2 * i, axis=1) for i in range(12)])
    r = stamp(detector.analyse_path(clip, n_frames=4, keep_frames=True), detector.card, clip)
    check_provenance(r.to_dict()["provenance"], clip.read_bytes(), tiny_models_dir / "tiny.json")
    json_path, html_path = write_reports(r, detector.classifier, tmp_path / ".", taken=set())
    assert (json_path.name, html_path.name) == ("clip.mp4.report.json", "clip.mp4.report.html")
    assert json.loads(json_path.read_text())["provenance"]["file_sha256"] == sha256(clip)
    page = html_path.read_text()
    assert "<svg" in page and "person 1" in page  # the timeline
    assert "data:image/png;base64," in page and "data:image/jpeg;base64," in page  # heatmaps, suspicious frames
    assert sha256(clip) in page


def test_html_escapes_a_hostile_file_name(detector, astronaut):
    r = stamp(detector.analyse_image(jpeg(astronaut), name=HOSTILE), detector.card, jpeg(astronaut))
    page = report_html(r, detector.classifier, HOSTILE)
    assert "<script>" not in page and "alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.jpg" in page
    assert "Face #1" in page and page.count("data:image/png;base64,") == len(r.faces)  # a heatmap per face
    assert r.provenance["file_sha256"] in page and "Provenance" in page
    for name in report_names(HOSTILE) + report_names("../../etc/passwd\x00\x1b[2J") + report_names("a\\b\u202e.mp4"):
        assert not re.search(r"[/\\<>\x00-\x1f\u202e]", name) and not name.startswith("."), name
    assert report_names("clip.mp4") == ("clip.mp4.report.json", "clip.mp4.report.html")
    assert safe_name("..") == "upload"


def test_cli_report_dir_writes_both_reports(tmp_path, tiny_models_dir, astronaut, face_video, capsys):
    from detector.cli import main  # in this process: the CLI as a subprocess is tests/test_cli.py's

    src = tmp_path / "in"
    (src / "other").mkdir(parents=True)
    hostile = src / "<img src=x onerror=alert(1)>.jpg"  # '/' cannot be in a file name, everything else can
    hostile.write_bytes(jpeg(astronaut))
    (src / "clip.mp4").write_bytes(face_video.read_bytes())
    write_video(src / "other" / "clip.mp4", [np.roll(astronaut, 3 * i, axis=0) for i in range(10)])  # same name
    out = tmp_path / "reports"
    code = main([str(src), "--frames", "4", "--no-progress", "--report", str(out), "--models-dir", str(tiny_models_dir)])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert sorted(f.name for f in out.iterdir()) == sorted(
        ["_img src=x onerror=alert(1)_.jpg.report.json", "_img src=x onerror=alert(1)_.jpg.report.html",
         "clip.mp4.report.json", "clip.mp4.report.html", "clip-2.mp4.report.json", "clip-2.mp4.report.html"])
    lines = {json.loads(line)["path"]: json.loads(line) for line in stdout.splitlines()}
    for path, line in lines.items():  # JSON Lines on stdout carry the provenance too
        assert line["provenance"]["file_sha256"] == hashlib.sha256(open(path, "rb").read()).hexdigest()
    report = json.loads((out / "clip.mp4.report.json").read_text())
    assert report["provenance"]["file_sha256"] == sha256(src / "clip.mp4")
    page = (out / "_img src=x onerror=alert(1)_.jpg.report.html").read_text()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.jpg" in page


def test_scan_rows_carry_provenance(tmp_path, tiny_models_dir, astronaut):
    """The scan's actor without Ray (tests/test_scan.py runs the whole scan): its rows' provenance columns."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from detector.scan import ScoreFiles, read_results, schema

    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg(astronaut))
    score = ScoreFiles(models_dir=tiny_models_dir, frames=4)
    rows = score(pa.table({"path": [str(photo), str(tmp_path / "gone.jpg")]}))
    assert rows.schema == schema()
    ok, gone = rows.to_pylist()
    assert ok["sha256"] == sha256(photo) and ok["size_bytes"] == photo.stat().st_size
    assert ok["model_card_sha256"] == sha256(tiny_models_dir / "tiny.json")
    assert ok["package_version"] == detector_pkg.__version__ and ok["band"] is None and ok["analysed_at_utc"]
    assert json.loads(ok["detail"])["provenance"]["file_sha256"] == ok["sha256"]
    assert gone["verdict"] == "error" and gone["sha256"] is None  # no file, no hash, still a row
    assert ok["credentials"] == "none" and ok["evidence"].startswith("[none]") and gone["credentials"] is None
    # A scan folder begun before these columns existed still reads, with nulls there (other files, other paths:
    # read_results keeps one row per path).
    old = rows.drop_columns(["sha256", "size_bytes", "analysed_at_utc", "model_card_sha256", "package_version", "band",
                             "black_and_white"])
    old = old.set_column(0, "path", pa.array([p + ".earlier" for p in old.column("path").to_pylist()]))
    pq.write_table(old, tmp_path / "0-old.parquet")
    pq.write_table(rows, tmp_path / "1-new.parquet")
    both = read_results(tmp_path)
    assert both.column("sha256").to_pylist() == [None, None, ok["sha256"], None]
    assert both.column("black_and_white").to_pylist() == [None, None, False, None]


def test_face_label_never_covers_the_face(astronaut):
    """A face filling a 200 px picture (the close-up case): the label goes in a band above it, not on the face;
    a face with room above it keeps its label there and the picture its size."""
    from detector.explain import draw_faces
    from detector.results import FaceResult

    img = np.ascontiguousarray(astronaut[20:220, 140:340])
    whole = FaceResult(box=(0, 0, 200, 200), confidence=0, landmarks={}, fake_probability=0.7, verdict="fake")
    out = draw_faces(img, [whole], 0.5)
    band = out.shape[0] - 200
    assert band > 0 and out.shape[1] == 200
    assert np.array_equal(out[band + 3 : -3, 3:-3], img[3:-3, 3:-3])  # inside the box: the face untouched
    lower = FaceResult(box=(50, 60, 150, 190), confidence=1, landmarks={}, fake_probability=0.2, verdict="real")
    out = draw_faces(img, [lower], 0.5)
    assert out.shape == img.shape and np.array_equal(out[63:187, 53:147], img[63:187, 53:147])


@pytest.fixture
def downloads(monkeypatch):
    """What the page hands to Streamlit's download buttons: file name -> contents (deferred ones built here, as
    a click would)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    got = {}
    add, add_deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def spy_add(self, data, mimetype, coordinates, file_name=None, *a, **kw):
        if file_name:
            got[file_name] = data
        return add(self, data, mimetype, coordinates, file_name, *a, **kw)

    def spy_deferred(self, fn, mimetype, coordinates, file_name=None, **kw):
        got[file_name] = fn
        return add_deferred(self, fn, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add", spy_add)
    monkeypatch.setattr(MediaFileManager, "add_deferred", spy_deferred)
    return got


def test_detector_page_offers_both_reports_named_after_the_upload(monkeypatch, tiny_models_dir, astronaut, downloads):
    monkeypatch.setenv("DEEPFAKE_MODELS_DIR", str(tiny_models_dir))
    data = jpeg(astronaut)
    at = app_page("pages/1_Detector.py").run()
    at.file_uploader[0].set_value((HOSTILE, data, "image/jpeg")).run()
    assert not at.exception, at.exception
    assert [b.label for b in at.download_button] == ["Download the JSON report", "Download the printable report (HTML)"]
    json_name, html_name = report_names(HOSTILE)
    report = json.loads(downloads[json_name])
    assert report["provenance"]["file_sha256"] == hashlib.sha256(data).hexdigest()
    page = downloads[html_name]()
    assert "<script>" not in page and "&lt;script&gt;" in page and "data:image/png;base64," in page

    # The threshold slider starts again at the card's value for the next upload.
    at.slider[0].set_value(0.2).run()
    assert json.loads(downloads[json_name])["provenance"]["threshold"] == 0.2
    at.file_uploader[0].set_value(("next.jpg", jpeg(astronaut[:, ::-1].copy()), "image/jpeg")).run()
    assert not at.exception and at.slider[0].value == 0.5


def test_a_small_background_face_is_shown_but_not_counted(detector, astronaut):
    """The real MTCNN finds a large face and a small copy of it (under pipeline.SMALL_FACE_SIDE); both are scored
    and reported, the small one marked as not counted, and the picture's score is the large face's."""
    import cv2

    from detector.pipeline import SMALL_FACE_SIDE
    from detector.report import NOT_COUNTED_MARK

    picture = astronaut.copy()
    small = cv2.resize(astronaut[30:200, 140:290], (40, 45), interpolation=cv2.INTER_AREA)
    picture[400:445, 420:460] = small
    r = stamp(detector.analyse_image(jpeg(picture), name="two.jpg"), detector.card, jpeg(picture))
    widths = [f.box[2] - f.box[0] for f in r.faces]
    assert len(r.faces) == 2 and min(widths) < SMALL_FACE_SIDE <= max(widths), widths
    big = max(r.faces, key=lambda f: f.box[2] - f.box[0])
    assert [f.counted for f in r.faces] == [f is big for f in r.faces]
    assert r.fake_probability == pytest.approx(big.fake_probability)
    assert sorted(f["counted"] for f in json.loads(report_json(r))["faces"]) == [False, True]
    assert report_html(r, detector.classifier, "two.jpg").count(NOT_COUNTED_MARK) == 1


def test_detector_page_marks_the_small_face(monkeypatch, tiny_models_dir, astronaut):
    import cv2

    from detector.report import NOT_COUNTED_MARK

    monkeypatch.setenv("DEEPFAKE_MODELS_DIR", str(tiny_models_dir))
    picture = astronaut.copy()
    picture[400:445, 420:460] = cv2.resize(astronaut[30:200, 140:290], (40, 45), interpolation=cv2.INTER_AREA)
    at = app_page("pages/1_Detector.py").run()
    at.file_uploader[0].set_value(("two.jpg", jpeg(picture), "image/jpeg")).run()
    assert not at.exception, at.exception
    cards = [m.value for m in at.markdown if m.value.startswith("**Face #")]
    assert len(cards) == 2 and sum(NOT_COUNTED_MARK in c for c in cards) == 1, cards
    assert [m.label for m in at.metric][-1] == "Most fake face (of those counted)"
