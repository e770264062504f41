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
from typing import Iterator

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


def row_modality(csv_path, path: Path, cell: str, among: list[str] | None = None) -> str:
    """A manifest row's modality: its `modality` cell, else the one registered modality (of
    `among`, e.g. a checkpoint's) whose `file_extensions` claim the file.

    Raises:
        DataError: unknown modality, or no (or more than one) modality claims the extension.
    """
    names = MODALITIES.names() if among is None else list(among)
    if cell and cell not in names:
        what = "modality" if cell in MODALITIES else "unknown modality"
        raise DataError(f"{csv_path}: {what} {cell!r} for {path.name}; known: {', '.join(names)}")
    try:
        return cell or modality_for_path(path, among)
    except ValueError as exc:
        raise DataError(f"{csv_path}: {exc}. A `modality` column names it explicitly.") from None


def _row_modalities(rows: list[tuple[Path, str, str]], csv_path: Path) -> str:
    """The one modality of the manifest: from the `modality` column, else the extensions."""
    kinds: dict[str, Path] = {}
    for p, _, cell in rows:
        kinds.setdefault(row_modality(csv_path, p, cell), p)
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


def listed_paths(csv_path) -> list[Path]:
    """The files a manifest names, resolved against its folder (an absolute row path wins),
    without decoding any: the app vets them against its path policy before reading.

    Raises: DataError: no manifest, or a wrong header. OSError, csv.Error: the CSV cannot be read.
    """
    return [p for p, _, _ in manifest_rows(csv_path)]


def manifest_rows(csv_path) -> Iterator[tuple[Path, str, str]]:
    """The rows of a `path,text[,modality]` manifest, one at a time, no file opened but the CSV.

    Yields:
        (path resolved against the CSV's folder (an absolute row path wins), text, modality cell
        or ""), cells stripped; rows without a path are skipped.
    Raises:
        DataError: no such manifest, or its first line is not a header with `path` and `text`.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise DataError(f"manifest not found: {csv_path}")
    with open(csv_path, newline="", encoding="utf-8-sig") as f:  # -sig: tolerate Excel's BOM
        reader = csv.reader(f)
        fields = [h.strip() for h in next(reader, [])]
        if not set(HEADER) <= set(fields):
            raise DataError(f"{csv_path}: the first line must be the header '{','.join(HEADER)}' "
                            f"(got {','.join(fields) or 'nothing'})")
        ip, it = fields.index("path"), fields.index("text")
        im = fields.index("modality") if "modality" in fields else None

        def cell(row: list[str], j: int | None) -> str:  # short rows read as empty cells
            return row[j].strip() if j is not None and j < len(row) else ""

        for row in reader:
            if cell(row, ip):
                yield csv_path.parent / cell(row, ip), cell(row, it), cell(row, im)


def check_missing(csv_path, missing: list, skip_missing: bool) -> None:
    """Raise DataError naming the listed files that do not exist, unless `skip_missing`."""
    if missing and not skip_missing:
        raise DataError(f"{csv_path}: {len(missing)} listed file(s) missing, e.g. "
                        f"{', '.join(map(str, missing[:SHOW_MISSING]))}. Fix the paths, or leave them out (the CLI's --skip-missing; skip_missing=True in Python).")


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
    rows = list(manifest_rows(csv_path))
    if not rows:
        raise DataError(f"{csv_path} lists no files")
    missing = [str(p) for p, _, _ in rows if not p.is_file()]
    check_missing(csv_path, missing, skip_missing)
    rows = [r for r in rows if r[0].is_file()]
    if not rows:
        raise DataError(f"{csv_path}: none of the {len(missing)} listed files exists")
    paths, texts = [p for p, _, _ in rows], [t for _, t, _ in rows]

    if modality is not None and modality not in MODALITIES:
        raise DataError(f"unknown manifest modality {modality!r}; known: {', '.join(MODALITIES.names())}")
    modality = modality or _row_modalities(rows, csv_path)
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
