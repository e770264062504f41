"""Data sets, by registry: `load_dataset(name, **options) -> ItemSet`."""
from .base import DIGIT_NAMES, DataError, ItemSet
from .datasets import DATASETS, load_dataset

# Imported for their side effect: each module registers its loader in DATASETS.
from . import audiomnist, digits, espeak, fsdd, manifest, mnist, speech_digits  # noqa: E402,F401
from . import augment_audio, video  # noqa: E402,F401

__all__ = ["DATASETS", "DIGIT_NAMES", "DataError", "ItemSet", "load_dataset"]
