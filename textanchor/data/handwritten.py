"""Real pictures of digits in a folder with a `labels.csv` (columns `file`, `label`): the
layout of the shared `handwritten/` set (phone photos, canvas drawings, scans)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .base import DIGIT_NAMES, DataError, ItemSet
from .datasets import DATASETS, default_root


@DATASETS.register("handwritten")
def load_handwritten(root=None, split: str = "test", folder: str | None = None) -> ItemSet:
    """Every picture listed in root/labels.csv, decoded upright (EXIF) as uint8 arrays.

    Args:
        root: the folder; default $TEXTANCHOR_DATA/handwritten.
        split: only "test": these few pictures are for measuring, never for training.
        folder: keep only files under this subfolder (e.g. "abhighule24_phone_photos").
    Returns:
        ItemSet(modality="image"), sources = file paths, groups = each file's subfolder.
    Raises:
        DataError: no labels.csv, or a listed file is missing or not a picture.
    """
    from ..modalities.picture import NoDigitError, load_picture

    if split != "test":
        raise ValueError("the handwritten pictures are a test set only; use split='test'")
    root = Path(root) if root is not None else default_root("handwritten")
    table = root / "labels.csv"
    if not table.is_file():
        raise DataError(f"{table} not found: the folder needs a labels.csv with columns file,label")
    with table.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if folder is None or r["file"].split("/")[0] == folder]
    items = []
    for r in rows:
        try:
            items.append(load_picture(str(root / r["file"])))
        except NoDigitError as e:
            raise DataError(f"{root / r['file']}: {e}") from None
    return ItemSet(modality="image", items=items, labels=np.array([int(r["label"]) for r in rows], np.int64),
                   class_names=list(DIGIT_NAMES), sources=[str(root / r["file"]) for r in rows],
                   groups=[r["file"].split("/")[0] for r in rows])
