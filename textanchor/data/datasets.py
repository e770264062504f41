"""The data set registry: every loader registers itself here by name.

`load_dataset("fsdd", root=..., split="test")` is the only way the CLI, presets and app open
data, so adding a data set is one new file with `@DATASETS.register("name")` in this folder (or
a `textanchor.datasets` entry point in another package); see `textanchor.registry`.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..registry import Registry
from .base import ItemSet

DATASETS: Registry = Registry("data set", package="textanchor.data", entry_points="textanchor.datasets",
                              decorator="@DATASETS.register(name)")


def default_root(name: str) -> Path:
    """Where a loader looks when no root is given: $TEXTANCHOR_DATA/<name>, else ./data/<name>.

    Args:
        name: the data set's folder name, e.g. "mnist".

    Returns:
        The folder (it may not exist yet).
    """
    return Path(os.environ.get("TEXTANCHOR_DATA", "data")) / name


def load_dataset(name: str, **options) -> ItemSet:
    """Load a registered data set.

    Args:
        name: a registered name ("mnist", "digits", "fsdd", "audiomnist", "espeak", "manifest").
        **options: passed to that loader (root, split, limit, download, ...).

    Returns:
        The decoded items as an ItemSet.

    Raises:
        KeyError: unknown name (the message lists the known ones).
        DataError: the data is missing or unreadable (the message says how to get it).
    """
    return DATASETS.get(name)(**options)
