"""The one in-memory shape every data set loader returns.

Loaders decode files into plain numpy arrays once; the modality (see `textanchor.modalities`)
turns them into fixed-shape tensors. Keeping decoded data separate from tensors means the same
`ItemSet` serves training, evaluation, the search gallery and the app.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Class names of the digit data sets: words, not numerals, because the text anchor embeds
# "seven" far more distinctly than "7" (and a spoken digit is a word).
DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


class DataError(Exception):
    """A data set could not be found, fetched or decoded.

    User-facing: the message names the path (or URL) that was looked at and says how to get the
    data (a `--download` flag, a mirror, or where to put the files by hand), so a CLI can print it
    as-is instead of a traceback.
    """


@dataclass
class ItemSet:
    """Decoded items of one modality with their class labels.

    modality:    "image" or "audio" (a key of the modality registry)
    items:       images: list of uint8 arrays (H, W) or (H, W, 3);
                 audio: list of float32 mono-or-multichannel arrays (T,) or (T, C) in [-1, 1]
    labels:      (N,) int64 indices into class_names
    class_names: the text of each class before templating, e.g. "seven"
    sources:     one string per item saying where it came from ("path/to/x.wav", "mnist:test:17")
    sample_rate: audio only: the rate of every item in `items`
    groups:      optional (N,) strings used for group-held-out splits (e.g. the speaker)
    """

    modality: str
    items: list
    labels: np.ndarray
    class_names: list[str]
    sources: list[str]
    sample_rate: int | None = None
    groups: list[str] | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.labels = np.asarray(self.labels, dtype=np.int64)
        n = len(self.items)
        if len(self.labels) != n or len(self.sources) != n:
            raise ValueError(
                f"ItemSet sizes disagree: {n} items, {len(self.labels)} labels, "
                f"{len(self.sources)} sources"
            )
        if self.groups is not None and len(self.groups) != n:
            raise ValueError(f"ItemSet has {n} items but {len(self.groups)} groups")

    def __len__(self) -> int:
        return len(self.items)

    def subset(self, index) -> "ItemSet":
        """A new ItemSet holding the items at `index` (indices or a boolean mask)."""
        idx = np.arange(len(self))[np.asarray(index)]
        return ItemSet(
            modality=self.modality,
            items=[self.items[i] for i in idx],
            labels=self.labels[idx],
            class_names=list(self.class_names),
            sources=[self.sources[i] for i in idx],
            sample_rate=self.sample_rate,
            groups=None if self.groups is None else [self.groups[i] for i in idx],
            meta=dict(self.meta),
        )

    @property
    def texts(self) -> list[str]:
        """The class name of each item."""
        return [self.class_names[i] for i in self.labels]
