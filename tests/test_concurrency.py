"""One shared Detector, 8 threads, different files: the same numbers as analysing them one by one."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image


def test_threads_match_serial(detector, astronaut, face_video, tmp_path):
    paths = []
    for i in range(7):
        img = np.roll(astronaut, 15 * i, axis=1)
        img = np.asarray(Image.fromarray(img).resize((512 + 64 * i, 512 + 64 * i)))
        p = tmp_path / f"img{i}.png"
        Image.fromarray(img).save(p)
        paths.append(p)
    paths.append(face_video)

    def run(p):
        r = detector.analyse_path(p, n_frames=6)
        return r.verdict, r.fake_probability, [f.box for f in r.faces]

    serial = [run(p) for p in paths]
    with ThreadPoolExecutor(8) as pool:
        parallel = list(pool.map(run, paths))
    for (v1, p1, b1), (v2, p2, b2) in zip(serial, parallel):
        assert v1 == v2 and v1 in ("real", "fake")
        assert p1 == pytest.approx(p2, abs=1e-5)
        assert np.allclose(b1, b2)
