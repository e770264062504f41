"""The small real gallery shipped in the repository (`assets/gallery/`), so that a fresh Space
with no data folder and no network still searches real handwriting and real voices.

It holds the first IMAGES_PER_CLASS MNIST test digits of each class (PNG) and every FSDD test
recording (indices 0-4, FLAC: lossless and about half the size of WAV), each listed in a
`path,text` manifest the `manifest` data set reads. About 1.5 MB in all.

    python -m textanchor.demo.embedded /work/shared/data assets/gallery

MNIST: Yann LeCun, Corinna Cortes, Christopher J.C. Burges, CC BY-SA 3.0.
FSDD: Zohar Jakobovski et al., Free Spoken Digit Dataset, CC BY-SA 4.0.
"""
from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import numpy as np

EMBEDDED = Path(__file__).resolve().parents[2] / "assets" / "gallery"
IMAGES_PER_CLASS = 50  # 500 digits: enough for a readable map, ~150 KB of PNG
IMAGE_CSV, AUDIO_CSV = "images.csv", "clips.csv"

ATTRIBUTION = """# The embedded gallery

Made by `python -m textanchor.demo.embedded DATA_DIR assets/gallery` from the held-out (test)
parts of two public data sets. The app searches it when no data folder is given.

- `images/`: the first {per_class} test digits of each class of **MNIST** (Yann LeCun, Corinna
  Cortes, Christopher J.C. Burges; http://yann.lecun.com/exdb/mnist/), 28x28 PNG. Licence:
  Creative Commons Attribution-Share Alike 3.0 (CC BY-SA 3.0).
- `clips/`: the {n_clips} test recordings (indices 0-4) of the **Free Spoken Digit Dataset**
  (Zohar Jakobovski et al., https://github.com/Jakobovski/free-spoken-digit-dataset), 8 kHz
  mono, losslessly re-encoded as FLAC. Licence: Creative Commons Attribution-ShareAlike 4.0
  (CC BY-SA 4.0).

These files are shared under the same licences as their sources.
"""


def make_embedded_gallery(data_dir, out_dir=EMBEDDED, per_class: int = IMAGES_PER_CLASS) -> dict:
    """Write the gallery from a data folder holding mnist/ and fsdd/.

    Args:
        data_dir: the folder with mnist/ (IDX files) and fsdd/recordings/.
        out_dir: where to write (replaced as a whole).
        per_class: MNIST test digits per class.

    Returns:
        {"images": count, "clips": count, "bytes": total size}.
    """
    import soundfile as sf
    from PIL import Image

    from ..data import load_dataset

    data_dir, out = Path(data_dir), Path(out_dir)
    shutil.rmtree(out, ignore_errors=True)
    (out / "images").mkdir(parents=True)
    (out / "clips").mkdir()
    digits = load_dataset("mnist", root=data_dir / "mnist", split="test")
    keep = np.sort(np.concatenate([np.flatnonzero(digits.labels == c)[:per_class] for c in range(len(digits.class_names))]))
    rows = []
    for i in keep:
        name = f"images/{i:05d}.png"
        Image.fromarray(np.asarray(digits.items[i], np.uint8)).save(out / name, optimize=True)
        rows.append((name, digits.class_names[digits.labels[i]]))
    _write_csv(out / IMAGE_CSV, rows)
    clips = load_dataset("fsdd", root=data_dir / "fsdd", split="test", sample_rate=8000)
    rows = []
    for wave, y, src in zip(clips.items, clips.labels, clips.sources):
        name = f"clips/{Path(src).stem}.flac"
        sf.write(out / name, np.asarray(wave, np.float32), 8000, format="FLAC", subtype="PCM_16")
        rows.append((name, clips.class_names[y]))
    _write_csv(out / AUDIO_CSV, rows)
    (out / "README.md").write_text(ATTRIBUTION.format(per_class=per_class, n_clips=len(rows)))
    return {"images": len(keep), "clips": len(rows), "bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file())}


def _write_csv(path: Path, rows) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "text"])
        w.writerows(rows)


def embedded_sources(modalities, sample_rate: int = 8000, root: Path = EMBEDDED, rates: dict | None = None) -> dict:
    """{modality: SourceChoice} for the embedded gallery's parts that exist under `root`: the
    digits' images and clips, and for a things model `things/<modality>.csv` (see `things_gallery`)."""
    from .gallery import SourceChoice
    from .things_gallery import THINGS_DIR, TITLES

    out = {}
    for m in modalities:
        csv_path = root / THINGS_DIR / f"{m}.csv"
        if m not in ("image", "audio") and csv_path.is_file():
            opts = {"csv_path": str(csv_path), "modality": m}
            if (rates or {}).get(m):
                opts["sample_rate"] = rates[m]
            out[m] = SourceChoice(m, "manifest", opts, TITLES.get(m, f"{m} items shipped with the app"))
    if "image" in modalities and (root / IMAGE_CSV).is_file():
        out["image"] = SourceChoice("image", "manifest", {"csv_path": str(root / IMAGE_CSV), "modality": "image"},
                                    "MNIST test digits shipped with the app (CC BY-SA 3.0)")
    if "audio" in modalities and (root / AUDIO_CSV).is_file():
        out["audio"] = SourceChoice("audio", "manifest", {"csv_path": str(root / AUDIO_CSV), "modality": "audio",
                                                          "sample_rate": sample_rate},
                                    "FSDD test recordings shipped with the app (CC BY-SA 4.0)")
    return out


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print(make_embedded_gallery(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else EMBEDDED))
