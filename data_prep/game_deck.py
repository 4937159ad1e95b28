"""Build the Game's shipped deck, data/game_deck/{Real,Fake}, from the Test splits of the shared datasets.

    python -m data_prep.game_deck --dfdc ../shared/datasets/dfdc-faces --stylegan ../shared/datasets/stylegan-faces

A seeded random draw per source and class (so the deck is as hard as those Test sets, not hand-picked easy
cases), files copied byte for byte under new names that do not give the label away, and a README naming each
file's source and terms. This is the only place where files from ../shared enter the repository.
"""
from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import sys
from pathlib import Path

from detector.datasets import find_split

ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 3_000_000

SOURCES = {
    "dfdc-faces": ("face-swap deepfakes and their source videos: Kaggle \"deepfake-faces\" crops of the DeepFake "
                   "Detection Challenge (DFDC) training videos", "DFDC competition data: research and non-commercial use"),
    "stylegan-faces": ("fully synthetic StyleGAN2 faces (thispersondoesnotexist) and Unsplash portraits: Kaggle "
                       "\"hardfakevsrealfaces\"", "research and non-commercial use; the photos' copyright stays with their "
                       "authors"),
}


def build(sources: dict[str, Path], per_class: dict[str, int], out: Path, seed: int = 7) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    rows = []
    for label in ("Real", "Fake"):
        target = out / label
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
    for name, root in sources.items():
        split = find_split(root, "Test")
        for label, y in (("Real", 0), ("Fake", 1)):
            files = sorted(p for p, lab in zip(split.paths, split.labels) if lab == y)
            for src in rng.sample(files, per_class[name]):
                data = Path(src).read_bytes()
                dest = f"{hashlib.sha1(data).hexdigest()[:12]}{Path(src).suffix.lower()}"
                (out / label / dest).write_bytes(data)
                rows.append((f"{label}/{dest}", name, f"Test/{Path(src).parent.name}/{Path(src).name}"))
    return rows


def write_readme(out: Path, rows) -> None:
    counts = {(lab, src): sum(1 for r in rows if r[0].startswith(lab) and r[1] == src) for lab in ("Real", "Fake")
              for src in SOURCES}
    lines = [
        "# The Game's deck",
        "",
        "Face images the Game (pages/2_Game.py) plays with by default: `Real/` and `Fake/`. Made by",
        "`python -m data_prep.game_deck` (a seeded random draw from the Test splits of the datasets below, so it is",
        "as hard as those sets; no model was used to pick them). Files are copied unchanged and renamed by content",
        "hash so a name does not give the answer away.",
        "",
        "| source | what | terms | Real | Fake |",
        "|---|---|---|---|---|",
    ]
    for src, (what, terms) in SOURCES.items():
        lines.append(f"| {src} | {what} | {terms} | {counts[('Real', src)]} | {counts[('Fake', src)]} |")
    lines += ["", "**Terms:** research and non-commercial use only, as the sources'. Do not redistribute the deck",
              "outside those terms.", "", "## Every file and where it comes from", "", "| file | source | original |",
              "|---|---|---|"]
    lines += [f"| {f} | {src} | {orig} |" for f, src, orig in sorted(rows)]
    (out / "README.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dfdc", required=True, help="dfdc-faces dataset root")
    p.add_argument("--stylegan", required=True, help="stylegan-faces dataset root")
    p.add_argument("--dfdc-per-class", type=int, default=28)
    p.add_argument("--stylegan-per-class", type=int, default=12)
    p.add_argument("--out", default=str(ROOT / "data" / "game_deck"))
    a = p.parse_args(argv)
    out = Path(a.out)
    rows = build({"dfdc-faces": Path(a.dfdc), "stylegan-faces": Path(a.stylegan)},
                 {"dfdc-faces": a.dfdc_per_class, "stylegan-faces": a.stylegan_per_class}, out)
    write_readme(out, rows)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{len(rows)} images, {size / 1e6:.2f} MB in {out}")
    if size > MAX_BYTES:
        print(f"error: the deck is over {MAX_BYTES / 1e6:.0f} MB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
