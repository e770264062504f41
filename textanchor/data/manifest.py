"""Any folder of files as a data set, through a CSV manifest with the header `path,text`
(and optionally a `modality` column).

This is how a user brings their own data: one row per file, the text being what the item should
land next to in the text space. Relative paths are resolved against the CSV's folder so a
manifest can travel with its files. The modality of a row is its `modality` cell when there is
one, else the registered modality whose `file_extensions` claim the file's suffix; every
modality decodes its own files (`Modality.read_file`).
"""
from __future__ import annotations

import csv
import inspect
from pathlib import Path

import numpy as np

from ..modalities import MODALITIES, create_modality, modality_for_path
from .base import DataError, ItemSet
from .datasets import DATASETS

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


# A data set should keep what the file holds: ImageModality.read_file converts to the branch's
# channel count (grey by default), while a manifest also feeds RGB branches, so images keep
# their colour here (prepare converts later). Every other modality reads with read_file.
READERS = {"image": read_image}


def _row_modalities(rows: list[dict], paths: list[Path], csv_path: Path) -> str:
    """The one modality of the manifest: from the `modality` column, else the extensions."""
    kinds: dict[str, Path] = {}
    for r, p in zip(rows, paths):
        m = r.get("modality") or ""
        try:
            m = m or modality_for_path(p)
        except ValueError as exc:
            raise DataError(f"{csv_path}: {exc}. A `modality` column names it explicitly.") from None
        if m not in MODALITIES:
            raise DataError(f"{csv_path}: unknown modality {m!r} for {p.name}; known: {', '.join(MODALITIES.names())}")
        kinds.setdefault(m, p)
    if len(kinds) > 1:
        examples = ", ".join(f"{k} ({p.name})" for k, p in kinds.items())
        raise DataError(
            f"{csv_path} mixes modalities: {examples}. Split it into one manifest per modality."
        )
    return next(iter(kinds))


def _reader(modality: str, sample_rate: int | None):
    """(path -> item for `modality`, the rate of those items or None)."""
    cls = MODALITIES.get(modality)
    has_rate = "sample_rate" in inspect.signature(cls.Config).parameters
    mod = create_modality(modality, **({"sample_rate": sample_rate} if has_rate and sample_rate else {}))
    return READERS.get(modality, mod.read_file), getattr(mod.cfg, "sample_rate", None)


def listed_paths(csv_path, rows=None) -> list[Path]:
    """The files a manifest names, resolved against its folder (an absolute row path wins),
    without decoding any: the app vets them against its path policy before reading.

    Args: csv_path: the manifest. rows: its parsed rows (None: read the "path" column).
    Raises: OSError: the CSV cannot be read.
    """
    csv_path = Path(csv_path)
    if rows is None:
        with open(csv_path, newline="", encoding="utf-8-sig") as f:
            rows = [r for r in csv.DictReader(f) if (r.get("path") or "").strip()]
    return [csv_path.parent / r["path"].strip() for r in rows]


@DATASETS.register("manifest")
def load_manifest(
    csv_path,
    modality: str | None = None,
    sample_rate: int | None = None,
    skip_missing: bool = False,
) -> ItemSet:
    """Load the files listed in a `path,text[,modality]` CSV.

    Args:
        csv_path: the manifest; relative paths in it are relative to its folder.
        modality: a registered modality name; None: the `modality` column, else the one whose
            `file_extensions` claim the files.
        sample_rate: for modalities with a rate (audio): the rate in Hz every item is decoded
            at; None: the modality's default (8000 for audio).
        skip_missing: drop rows whose file is missing (listed in meta["missing"]) instead of
            raising.

    Returns:
        ItemSet with class_names = the sorted unique texts.

    Raises:
        DataError: missing or empty manifest, wrong header, mixed or unknown modalities,
            missing or undecodable files.
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
    paths, texts, rows = [paths[i] for i in keep], [rows[i]["text"] for i in keep], [rows[i] for i in keep]

    if modality is not None and modality not in MODALITIES:
        raise DataError(f"unknown manifest modality {modality!r}; known: {', '.join(MODALITIES.names())}")
    modality = modality or _row_modalities(rows, paths, csv_path)
    read, sample_rate = _reader(modality, sample_rate)
    items = []
    for p in paths:
        try:
            items.append(read(p))
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - a plugin's decoder: name the file, not a traceback
            raise DataError(f"{csv_path}: cannot decode {p} as {modality} ({type(exc).__name__}: {exc})") from None

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
