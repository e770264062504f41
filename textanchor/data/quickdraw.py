"""Quick, Draw! (Jongejan et al. 2016, Google; CC BY 4.0): doodles of 345 everyday things drawn
in 20 seconds by people all over the world, as Google's 28x28 bitmaps (ink bright on black).

The folder holds one `<class>.npy` per class, uint8 (N, 28, 28), and a `classes.csv` with the
columns file, label (Quick, Draw!'s class name, e.g. "alarm clock") and the source repository,
commit and licence. The split is fixed per class: the last `test_per_class` drawings are held
out, the first `per_class` train (drawings are stored in the order Google published them).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import DataError, ItemSet
from .datasets import DATASETS, default_root
from .tables import check_split, read_table

HOW = "get Quick, Draw! bitmaps (one <class>.npy of 28x28 drawings per class) and a classes.csv (see docs/things.md)"


@DATASETS.register("quickdraw", modality="sketch")
def load_quickdraw(root=None, split: str = "train", classes=None, per_class: int | None = 1000,
                   test_per_class: int = 100) -> ItemSet:
    """Load Quick, Draw! bitmaps of one split.

    Args:
        root: the folder with classes.csv and the .npy files; default $TEXTANCHOR_DATA/quickdraw.
        split: "train", "test" or "all".
        classes: keep these class names only (None: every class in classes.csv).
        per_class: at most this many training drawings per class (the first ones); None: all
            but the held-out ones.
        test_per_class: the last this many drawings of each class are held out.
    Returns: ItemSet(modality="sketch") of (28, 28) uint8 arrays; sources "quickdraw:<class>:<i>".
    Raises: DataError: no classes.csv, a missing or malformed .npy file.
    """
    check_split(split)
    root = Path(root) if root is not None else default_root("quickdraw")
    rows = read_table(root, "classes.csv", ("file", "label"), HOW)
    if classes is not None:
        wanted = set(classes)
        rows = [r for r in rows if r["label"] in wanted]
    rows.sort(key=lambda r: r["label"])
    items, labels, sources = [], [], []
    for c, r in enumerate(rows):
        path = root / r["file"]
        try:
            a = np.load(path, mmap_mode="r")
        except (OSError, ValueError) as e:
            raise DataError(f"cannot read {path}: {e}") from None
        if a.ndim == 2 and a.shape[1] == 784:
            a = a.reshape(-1, 28, 28)
        if a.ndim != 3 or a.dtype != np.uint8:
            raise DataError(f"{path} holds {a.dtype} {a.shape}, not uint8 (N, 28, 28) bitmaps")
        n_test = min(test_per_class, len(a) // 2)
        idx = {"test": np.arange(len(a) - n_test, len(a)), "all": np.arange(len(a)),
               "train": np.arange(len(a) - n_test)[:per_class]}[split]
        items += [np.array(a[i]) for i in idx]
        labels += [c] * len(idx)
        sources += [f"quickdraw:{r['label']}:{i}" for i in idx]
    return ItemSet("sketch", items, np.array(labels, np.int64), [r["label"] for r in rows], sources)
