"""Photos of everyday things (CIFAR-10, Caltech-101 and similar sets as their public mirrors
hold them): one RGB picture per file.

The folder holds the images and a `labels.csv` with the columns path, label (plain text: "car",
not "automobile"), set (the source data set), official_split ("train"/"test" where the source
has one) and the source repository, commit and licence. The published split is kept where there
is one; other files are split by a stable hash of their path (`tables.in_test_share`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .base import DataError, ItemSet
from .datasets import DATASETS, default_root
from .tables import check_files, check_split, first_per_class, in_test_share, read_table

HOW = "get photos of things (images/<class>/...) and a labels.csv (see docs/things.md)"


def _in_test(row: dict, test_share: float) -> bool:
    official = (row.get("official_split") or "").strip().lower()
    return official == "test" if official in ("train", "test") else in_test_share(row["path"], test_share)


@DATASETS.register("object_photos", modality="photo")
def load_object_photos(root=None, split: str = "train", classes=None, per_class: int | None = None,
                       test_share: float = 0.2, sets=None) -> ItemSet:
    """Load the photos of one split.

    Args:
        root: the folder with labels.csv; default $TEXTANCHOR_DATA/object_photos.
        split: "train", "test" or "all".
        classes: keep only these labels (None: all).
        per_class: at most this many photos per class (the first by path).
        test_share: held-out share of the files of sources without a published split.
        sets: keep only these source sets (the `set` column; None: all).
    Returns: ItemSet(modality="photo") of uint8 (H, W, 3) arrays; sources are file paths.
    Raises: DataError: no labels.csv, a missing or unreadable file.
    """
    check_split(split)
    root = Path(root) if root is not None else default_root("object_photos")
    rows = read_table(root, "labels.csv", ("path", "label"), HOW)
    keep = [r for r in rows if (classes is None or r["label"] in set(classes))
            and (sets is None or r.get("set") in set(sets))
            and (split == "all" or _in_test(r, test_share) == (split == "test"))]
    keep.sort(key=lambda r: r["path"])
    if per_class is not None:
        keep = first_per_class(keep, per_class)
    check_files(root, keep)
    items = []
    for r in keep:
        try:
            with Image.open(root / r["path"]) as im:
                items.append(np.asarray(im.convert("RGB")))
        except OSError as e:
            raise DataError(f"cannot read {root / r['path']}: {e}") from None
    names = sorted({r["label"] for r in keep})
    pos = {n: i for i, n in enumerate(names)}
    return ItemSet("photo", items, np.array([pos[r["label"]] for r in keep], np.int64), names,
                   [str(root / r["path"]) for r in keep])
