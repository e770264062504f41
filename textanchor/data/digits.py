"""scikit-learn's 8x8 handwritten digits: a tiny image data set that needs no download.

It ships inside scikit-learn, so tests, CI and first runs have real images offline.
"""
from __future__ import annotations

import numpy as np

from .base import DIGIT_NAMES, ItemSet
from .datasets import DATASETS

SPLITS = ("train", "test", "all")


@DATASETS.register("digits")
def load_digits(split: str = "train", seed: int = 0, limit: int | None = None) -> ItemSet:
    """Load the UCI/scikit-learn 8x8 digits (1,797 images) with a seeded stratified 80/20 split.

    Args:
        split: "train" (80%), "test" (20%) or "all".
        seed: seed of the split; the same seed always gives the same partition.
        limit: keep only the first `limit` items of the split.

    Returns:
        ItemSet(modality="image"): (8, 8) uint8 items scaled from 0..16 to 0..255,
        class_names DIGIT_NAMES, sources "digits:<index in the full set>".
    """
    if split not in SPLITS:
        raise ValueError(f"unknown digits split {split!r}; use one of {SPLITS}")
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)  # (N, 8, 8)
    labels = bunch.target.astype(np.int64)
    index = np.arange(len(labels))
    if split != "all":
        train, test = train_test_split(index, test_size=0.2, stratify=labels, random_state=seed)
        index = np.sort(train if split == "train" else test)
    if limit is not None:
        index = index[:limit]
    return ItemSet(
        modality="image",
        items=[images[i] for i in index],
        labels=labels[index],
        class_names=list(DIGIT_NAMES),
        sources=[f"digits:{i}" for i in index],
    )
