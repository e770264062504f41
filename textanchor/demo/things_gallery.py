"""The things model's small shipped gallery (`assets/gallery/things/`): a few held-out items per
class of each things data set, so a Space with no data folder still finds drawn cats, barking
dogs and spoken words. Only items whose licence allows redistribution with attribution are
copied (CC0, CC BY, CC BY-SA); each row of `<modality>.csv` keeps its licence and source.

    python -m textanchor.demo.things_gallery DATA_DIR assets/gallery/things

DATA_DIR holds the data folders the things recipe trains on (quickdraw/, esc50/,
speech_commands/, object_photos/); any that is absent is skipped.
"""
from __future__ import annotations

import csv
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

THINGS_DIR = "things"  # under the embedded gallery's folder
TITLES = {"sketch": "Quick, Draw! doodles shipped with the app (CC BY 4.0)",
          "sound": "ESC-10 sounds shipped with the app (CC BY 3.0)",
          "speech": "Speech Commands words shipped with the app (CC BY 4.0)",
          "photo": "photos of things shipped with the app (see assets/gallery/things/README.md)"}
FREE = ("cc0", "cc by 3.0", "cc by 4.0", "cc by-sa", "public domain", "cc-by")  # licences that allow copying


@dataclass
class Part:
    """One modality's share of the gallery."""
    dataset: str
    table: str  # the data folder's table that holds each file's licence
    per_class: int
    options: dict = field(default_factory=dict)


PARTS = {"sketch": Part("quickdraw", "classes.csv", 6, {"test_per_class": 100}),
         "sound": Part("esc50", "labels.csv", 3, {"test_folds": (5,)}),
         "speech": Part("speech_commands", "labels.csv", 6),
         "photo": Part("object_photos", "labels.csv", 4)}


def allows_copying(licence: str) -> bool:
    """Whether a licence string names one that allows redistribution with attribution (and no
    non-commercial clause: a public Space is not obviously non-commercial)."""
    low = (licence or "").lower()
    if "-nc" in low or "noncommercial" in low.replace("-", "").replace(" ", ""):
        return False
    return any(f in low for f in FREE)


def _licences(root: Path, table: str) -> dict[str, str]:
    """{file as the table names it: licence} ("" when the table has no licence column)."""
    with open(root / table, newline="") as f:
        return {r.get("path") or r.get("file"): r.get("licence", "") for r in csv.DictReader(f)}


def _licence_of(source: str, root: Path, licences: dict[str, str]) -> str:
    """The licence of an item by its ItemSet source: a file path under root, or "quickdraw:<class>:<i>"."""
    if source.startswith("quickdraw:"):
        cls = source.split(":")[1]
        return next((v for k, v in licences.items() if Path(k).stem == cls.replace(" ", "_") or Path(k).stem == cls), "")
    try:
        return licences.get(str(Path(source).relative_to(root)), "")
    except ValueError:
        return ""


def _write_item(modality: str, item, out: Path, stem: str, rate: int | None) -> str:
    import soundfile as sf
    from PIL import Image

    if modality == "sketch":  # a Quick, Draw! bitmap (ink bright on black) shown as a drawing: dark ink on white
        name = f"{modality}/{stem}.png"
        Image.fromarray(255 - np.asarray(item, np.uint8)).save(out / name, optimize=True)
    elif modality == "photo":
        name = f"{modality}/{stem}.jpg"
        img = Image.fromarray(np.asarray(item, np.uint8)) if not hasattr(item, "save") else item
        img.convert("RGB").save(out / name, quality=85)
    else:  # Ogg Vorbis: a 5 s sound in ~40 KB where FLAC takes ~300 KB
        name = f"{modality}/{stem}.ogg"
        sf.write(out / name, np.asarray(item, np.float32), rate, format="OGG", subtype="VORBIS")
    return name


def make_things_gallery(data_dir, out_dir, parts: dict[str, Part] = PARTS) -> dict:
    """Write `<modality>.csv` (path,text,licence,source) and its files for each part whose data
    folder exists under data_dir; only items of a licence that allows copying (`allows_copying`).

    Returns: {modality: items written} and "bytes": the folder's size.
    Raises: DataError (from the loaders) when a present data folder is malformed."""
    from ..data import load_dataset

    data_dir, out = Path(data_dir), Path(out_dir)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    counts, credits = {}, []
    for m, part in parts.items():
        root = data_dir / part.dataset
        if not (root / part.table).is_file():
            continue
        s = load_dataset(part.dataset, root=root, split="test", **part.options)
        licences = _licences(root, part.table)
        (out / m).mkdir()
        rows, taken = [], {}
        for i, (y, src) in enumerate(zip(s.labels, s.sources)):
            lic = _licence_of(src, root, licences)
            if taken.get(y, 0) >= part.per_class or not allows_copying(lic):
                continue
            taken[y] = taken.get(y, 0) + 1
            name = _write_item(m, s.items[i], out, f"{int(y):03d}_{taken[y]}", s.sample_rate)
            rows.append((name, s.class_names[y], lic, Path(src).name if "/" in src else src))
        with open(out / f"{m}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["path", "text", "licence", "source"])
            w.writerows(rows)
        counts[m] = len(rows)
        credits.append(f"- `{m}/` ({len(rows)} items, {len(taken)} classes): held-out items of `{part.dataset}`; "
                       f"licences per file in `{m}.csv`. {TITLES.get(m, '')}")
    (out / "README.md").write_text("# The things gallery\n\nMade by `python -m textanchor.demo.things_gallery "
                                   "DATA_DIR assets/gallery/things`; see docs/things.md for the sources.\n\n"
                                   + "\n".join(credits) + "\n")
    counts["bytes"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return counts


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(make_things_gallery(sys.argv[1], sys.argv[2]))
