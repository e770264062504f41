"""Any folder of files as a data set, through a CSV manifest with the header `path,text`.

This is how a user brings their own data: one row per file, the text being what the item should
land next to in the text space. Relative paths are resolved against the CSV's folder so a
manifest can travel with its files.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .audio_io import AUDIO_EXTENSIONS, read_audio
from .base import DataError, ItemSet
from .datasets import DATASETS

EXTENSIONS = {  # file suffix -> modality
    **dict.fromkeys(AUDIO_EXTENSIONS, "audio"),
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".bmp", ".gif"), "image"),
}
HEADER = ("path", "text")
SHOW_MISSING = 5  # how many missing paths an error message lists


def read_image(path) -> np.ndarray:
    """Decode an image as uint8: grayscale files as (H, W), everything else as RGB (H, W, 3)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert("L" if img.mode in ("1", "L", "LA", "I", "I;16", "F") else "RGB")
            return np.asarray(img, dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"cannot decode image {path} ({exc})") from None


def _infer_modality(paths: list[Path], csv_path: Path) -> str:
    kinds = {}
    for p in paths:
        kind = EXTENSIONS.get(p.suffix.lower())
        if kind is None:
            raise DataError(
                f"{csv_path}: cannot tell the modality of {p} from its extension; "
                f"known: {', '.join(sorted(EXTENSIONS))}"
            )
        kinds.setdefault(kind, p)
    if len(kinds) > 1:
        examples = ", ".join(f"{k} ({p.name})" for k, p in kinds.items())
        raise DataError(
            f"{csv_path} mixes modalities: {examples}. Split it into one manifest per modality."
        )
    return next(iter(kinds))


@DATASETS.register("manifest")
def load_manifest(
    csv_path,
    modality: str | None = None,
    sample_rate: int = 8000,
    skip_missing: bool = False,
) -> ItemSet:
    """Load the files listed in a `path,text` CSV.

    Args:
        csv_path: the manifest; relative paths in it are relative to its folder.
        modality: "image" or "audio"; None infers it from the file extensions.
        sample_rate: audio only: rate in Hz every wave is resampled to.
        skip_missing: drop rows whose file is missing (listed in meta["missing"]) instead of
            raising.

    Returns:
        ItemSet with class_names = the sorted unique texts.

    Raises:
        DataError: missing or empty manifest, wrong header, mixed modalities, missing files.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise DataError(f"manifest not found: {csv_path}")
    with open(csv_path, newline="", encoding="utf-8-sig") as f:  # -sig: tolerate Excel's BOM
        reader = csv.DictReader(f)
        fields = tuple(h.strip() for h in (reader.fieldnames or ()))
        if not set(HEADER) <= set(fields):
            raise DataError(
                f"{csv_path}: the first line must be the header '{','.join(HEADER)}' "
                f"(got {','.join(fields) or 'nothing'})"
            )
        rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    rows = [r for r in rows if r.get("path")]
    if not rows:
        raise DataError(f"{csv_path} lists no files")

    base = csv_path.parent
    paths = [(base / r["path"]) for r in rows]  # an absolute row path wins over `base`
    missing = [str(p) for p in paths if not p.is_file()]
    if missing and not skip_missing:
        raise DataError(
            f"{csv_path}: {len(missing)} listed file(s) missing, e.g. "
            f"{', '.join(missing[:SHOW_MISSING])}. Fix the paths or pass skip_missing=True."
        )
    keep = [i for i, p in enumerate(paths) if p.is_file()]
    if not keep:
        raise DataError(f"{csv_path}: none of the {len(paths)} listed files exists")
    paths, texts = [paths[i] for i in keep], [rows[i]["text"] for i in keep]

    modality = modality or _infer_modality(paths, csv_path)
    if modality == "audio":
        items = [read_audio(p, sample_rate)[0] for p in paths]
    elif modality == "image":
        items, sample_rate = [read_image(p) for p in paths], None
    else:
        raise ValueError(f"manifest modality must be 'image' or 'audio', got {modality!r}")

    class_names = sorted(set(texts))
    index = {t: i for i, t in enumerate(class_names)}
    return ItemSet(
        modality=modality,
        items=items,
        labels=np.array([index[t] for t in texts], dtype=np.int64),
        class_names=class_names,
        sources=[str(p) for p in paths],
        sample_rate=sample_rate,
        meta={"manifest": str(csv_path), "missing": missing},
    )
