"""ESC-50 (Piczak 2015, "ESC: Dataset for Environmental Sound Classification"): 2,000 five-second
clips of 50 everyday sounds (dog, rooster, rain, crying baby, helicopter, ...), 40 per class, in
the five folds its author published; ESC-10 is its 10-class subset.

The folder holds the clips and a `labels.csv` with the columns path, label (ESC's category,
e.g. `sea_waves`), fold, esc10 and licence. ESC-50 as a whole is CC BY-NC 3.0 (its clips come
from Freesound); the ESC-10 subset is CC BY 3.0. Folds keep clips cut from one source recording
together, so the published split is the only honest one: `test_folds` are held out.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .audio_io import read_many
from .base import ItemSet
from .datasets import DATASETS, default_root
from .tables import check_files, check_split, read_table

HOW = ("get ESC-50 (github.com/karolpiczak/ESC-50) and write labels.csv with columns path,label,fold,esc10 "
       "(see docs/things.md)")


def esc_text(category: str) -> str:
    """ESC's category name as the text it is anchored on: `sea_waves` -> "sea waves"."""
    return category.replace("_", " ")


@DATASETS.register("esc50", modality="sound")
def load_esc50(root=None, split: str = "train", test_folds=(5,), esc10_only: bool = False, classes=None,
               sample_rate: int = 22050, limit: int | None = None) -> ItemSet:
    """Load ESC-50 (or ESC-10) clips of one split.

    Args:
        root: the folder with labels.csv; default $TEXTANCHOR_DATA/esc50.
        split: "train" (the folds not in test_folds), "test" (test_folds) or "all".
        test_folds: the published folds (1-5) held out.
        esc10_only: keep the ESC-10 subset (CC BY 3.0) only.
        classes: keep only these class texts (e.g. ["dog", "rooster"]); None: all.
        sample_rate: output rate in Hz (the clips are 44.1 kHz).
        limit: at most this many clips (the first by path), for quick runs.
    Returns: ItemSet(modality="sound"), groups = the clip's fold.
    Raises: DataError: no labels.csv or missing files.
    """
    check_split(split)
    root = Path(root) if root is not None else default_root("esc50")
    rows = read_table(root, "labels.csv", ("path", "label", "fold"), HOW)
    tests = {int(f) for f in test_folds}
    keep = [r for r in rows
            if (split == "all" or (int(r["fold"]) in tests) == (split == "test"))
            and (not esc10_only or str(r.get("esc10", "")).lower() == "true")
            and (classes is None or esc_text(r["label"]) in classes)]
    keep.sort(key=lambda r: r["path"])
    keep = keep[:limit] if limit is not None else keep
    check_files(root, keep)
    names = sorted({esc_text(r["label"]) for r in keep})
    pos = {n: i for i, n in enumerate(names)}
    return ItemSet("sound", read_many([root / r["path"] for r in keep], sample_rate),
                   np.array([pos[esc_text(r["label"])] for r in keep], np.int64), names,
                   [str(root / r["path"]) for r in keep], sample_rate, groups=[f"fold{r['fold']}" for r in keep])
