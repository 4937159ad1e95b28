"""How much does shrinking a large face crop before scoring move its score? (Why `CROP_KEEP_SIDE` is 1024.)

    python bench/crop_cap.py [--folder data/game_deck] [--side 2300] [--models-dir DIR]

The detector keeps every face crop of a clip until it scores them all at once; a face filling an 8K frame is a
~2300 px crop (16 MB), 32 of them half a GB. Each picture of --folder (Real/ and Fake/ faces) is enlarged to
--side px, as such a crop would be, then scored whole and after shrinking it to each cap with the same area
filter; prints the largest and the mean absolute change of the fake probability per cap.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folder", default=str(ROOT / "data" / "game_deck"))
    ap.add_argument("--side", type=int, default=2300)
    ap.add_argument("--models-dir", default=None)
    a = ap.parse_args()
    import cv2
    import numpy as np

    from detector.decode import IMAGE_EXTENSIONS, load_image
    from detector.faces import shrink
    from detector.model import load_classifier

    clf = load_classifier(None, a.models_dir)
    files = sorted(p for p in Path(a.folder).rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    big = [cv2.resize(load_image(p), (a.side, a.side), interpolation=cv2.INTER_CUBIC) for p in files]
    whole = clf.score(big)
    print(f"{len(big)} faces from {a.folder} at {a.side} px, model {clf.card.name}")
    for cap in (256, 512, 1024):
        d = np.abs(whole - clf.score([shrink(c, cap / a.side) for c in big]))
        print(f"cap {cap:5d} px: max |change| {d.max():.5f}, mean {d.mean():.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
