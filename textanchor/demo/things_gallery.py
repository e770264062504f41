"""The things model's small shipped gallery (`assets/gallery/things/`): a few held-out items per
class of each things data set, so a Space with no data folder still finds drawn cats, barking
dogs and spoken words. Only items whose licence allows redistribution with attribution are
copied (CC0, CC BY, CC BY-SA); each row of `<modality>.csv` keeps its licence and source.

    python -m textanchor.demo.things_gallery DATA_DIR assets/gallery/things [assets/things [CHECKPOINT]]

(the optional third folder gets the Search tab's example inputs, `make_things_examples`).

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
          "sound": "ESC-50 sounds shipped with the app (each clip under its Freesound licence: CC0 or CC BY)",
          "speech": "Speech Commands words shipped with the app (CC BY 4.0)",
          "photo": "photos of things shipped with the app (Caltech-101, CC BY 4.0)"}
FREE = ("cc0", "cc by 3.0", "cc by 4.0", "cc by-sa", "public domain", "cc-by")  # licences that allow copying


@dataclass
class Part:
    """One modality's share of the gallery."""
    dataset: str
    table: str  # the data folder's table that holds each file's licence
    per_class: int
    options: dict = field(default_factory=dict)


PARTS = {"sketch": Part("quickdraw", "classes.csv", 6, {"test_per_class": 100}),
         "sound": Part("esc50", "labels.csv", 2, {"test_folds": (5,), "sample_rate": 16000}),
         "speech": Part("speech_commands", "labels.csv", 4),
         "photo": Part("object_photos", "labels.csv", 3)}


def allows_copying(licence: str) -> bool:
    """Whether a licence string names one that allows redistribution with attribution (and no
    non-commercial clause: a public Space is not obviously non-commercial)."""
    low = (licence or "").lower()
    if "-nc" in low or "noncommercial" in low.replace("-", "").replace(" ", ""):
        return False
    if "research" in low or "terms of" in low:  # e.g. Oxford pets: the photos keep their web sites' terms
        return False
    return any(f in low for f in FREE)


def _licences(root: Path, table: str) -> dict[str, str]:
    """{file as the table names it: licence} ("" when the table has no licence column). A file's
    own licence (`clip_licence`: ESC-50's clips each keep their Freesound licence, while the
    collection as a whole is CC BY-NC) wins over the data set's, with its credit line."""
    with open(root / table, newline="") as f:
        return {r.get("path") or r.get("file"): (f"{r['clip_licence']} ({r.get('clip_attribution', '')})"
                                                 if r.get("clip_licence") else r.get("licence", ""))
                for r in csv.DictReader(f)}


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
    elif modality == "photo":  # at most 192 px a side: a gallery thumbnail, ~10 KB
        name = f"{modality}/{stem}.jpg"
        img = Image.fromarray(np.asarray(item, np.uint8)) if not hasattr(item, "save") else item
        img = img.convert("RGB")
        img.thumbnail((192, 192))
        img.save(out / name, quality=85)
    else:  # Ogg Vorbis: a 5 s sound at 16 kHz in ~20 KB where FLAC takes ~150 KB
        name = f"{modality}/{stem}.ogg"
        sf.write(out / name, np.asarray(item, np.float32), rate, format="OGG", subtype="VORBIS", compression_level=0.8)
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


def _write_example(modality: str, item, out: Path, stem: str, rate: int | None) -> str:
    """One example input file as a visitor would have it: a drawing 10x the bitmap's size (dark on
    white, as on the canvas), a photo at most 320 px, a sound as Ogg, a spoken word as WAV."""
    import soundfile as sf
    from PIL import Image

    if modality == "sketch":
        Image.fromarray(255 - np.asarray(item, np.uint8)).resize((280, 280), Image.BILINEAR).save(out / f"{stem}.png")
        return f"{stem}.png"
    if modality == "photo":
        img = Image.fromarray(np.asarray(item, np.uint8))
        img.thumbnail((320, 320))
        img.save(out / f"{stem}.jpg", quality=85)
        return f"{stem}.jpg"
    if modality == "sound":
        sf.write(out / f"{stem}.ogg", np.asarray(item, np.float32), rate, format="OGG", subtype="VORBIS")
        return f"{stem}.ogg"
    sf.write(out / f"{stem}.wav", np.asarray(item, np.float32), rate, subtype="PCM_16")
    return f"{stem}.wav"


EXAMPLES = {"sketch": ("cat", "house", "tree", "bicycle", "fish"), "photo": ("airplane", "dog", "guitar", "elephant"),
            "sound": ("dog", "rooster", "rain", "crying baby", "church bells"), "speech": ("dog", "cat", "house", "bird")}


def make_things_examples(data_dir, out_dir, parts: dict[str, Part] = PARTS, classes: dict = EXAMPLES,
                         checkpoint=None) -> list[str]:
    """The Search tab's example inputs for the things model (`assets/things/<modality>_<class>.*`):
    per class, a held-out item whose licence allows copying and that is not one of the gallery's
    (the first held-out ones), so a search does not find itself: the last such item, or with
    `checkpoint`, the last one that model reads as its class (an example is there to show what
    works; the model's accuracy is measured elsewhere, on every held-out item).
    Sketches are drawn 10x larger (as on the page's canvas), dark on white.

    Returns: the files written (the credits go to out_dir/README.md)."""
    from ..data import load_dataset

    data_dir, out = Path(data_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written, credits = [], []
    embedder = None
    if checkpoint is not None:
        from ..pipeline import Embedder

        embedder = Embedder.from_checkpoint(checkpoint)

    def reads_right(m: str, file: Path, name: str) -> bool:
        """Whether the model reads the written file as `name`, taking it as the page takes an upload."""
        if embedder is None:
            return True
        item, rate = embedder.branch(m).modality.query_item(str(file))
        return embedder.class_names[int(embedder.classify(embedder.embed(m, [item], rate))[0][0])] == name

    for m, wanted in classes.items():
        part, root = parts[m], data_dir / parts[m].dataset
        if not (root / part.table).is_file():
            continue
        s = load_dataset(part.dataset, root=root, split="test", **part.options)
        licences = _licences(root, part.table)
        for name in (w for w in wanted if w in s.class_names):
            stem = f"{m}_{name.replace(' ', '_')}"
            for i in np.flatnonzero(s.labels == s.class_names.index(name))[part.per_class:][::-1]:
                if not allows_copying(_licence_of(s.sources[i], root, licences)):
                    continue
                file = out / _write_example(m, s.items[i], out, stem, s.sample_rate)
                if reads_right(m, file, name):
                    written.append(file.name)
                    credits.append(f"- `{file.name}`: {name}, held-out item of `{part.dataset}` "
                                   f"({Path(s.sources[i]).name if '/' in s.sources[i] else s.sources[i]}); "
                                   f"licence: {_licence_of(s.sources[i], root, licences)}")
                    break
                file.unlink()
    how = (f"Each is the last held-out item of its class (not in the gallery, licence allowing copying) that "
           f"`{Path(checkpoint).name}` reads as its class." if checkpoint is not None else
           "Each is the last held-out item of its class that is not in the gallery and whose licence allows copying.")
    (out / "README.md").write_text("# Example inputs of the things model\n\nMade by `python -m textanchor.demo.things_gallery "
                                   "DATA_DIR assets/gallery/things assets/things [CHECKPOINT]`; see docs/things.md for the "
                                   f"sources. {how}\n\n" + "\n".join(credits) + "\n")
    return written


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4, 5):
        sys.exit(__doc__)
    print(make_things_gallery(sys.argv[1], sys.argv[2]))
    if len(sys.argv) >= 4:
        print(make_things_examples(sys.argv[1], sys.argv[3], checkpoint=sys.argv[4] if len(sys.argv) == 5 else None))
