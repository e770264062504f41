"""Data sets, by registry: `load_dataset(name, **options) -> ItemSet`.

Every module of this folder that registers a loader with `@DATASETS.register(name)` is found on
the first lookup (no import to add here); other installed packages add loaders through the
`textanchor.datasets` entry point group. See `textanchor.registry`.
"""
from .base import DIGIT_NAMES, DataError, ItemSet
from .datasets import DATASETS, load_dataset

__all__ = ["DATASETS", "DIGIT_NAMES", "DataError", "ItemSet", "load_dataset"]
