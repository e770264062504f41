"""Loading the data sets a recipe names and pooling them per modality."""
from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

from .base import ItemSet


def load_spec(name: str, options: dict, split: str, data_root: str | None = None,
              sample_rate: int | None = None) -> ItemSet:
    """Call a registered loader with `split`, filling `root` from `data_root/<name>` and
    `sample_rate` from the modality when the loader takes them and the spec does not say."""
    from .datasets import DATASETS

    fn = DATASETS.get(name)
    params = inspect.signature(fn).parameters
    opts = dict(options)
    if "split" in params:
        opts.setdefault("split", split)
    if "root" in params and "root" not in opts:
        opts["root"] = None if data_root is None else str(Path(data_root) / name)
    if "sample_rate" in params and sample_rate is not None:
        opts.setdefault("sample_rate", sample_rate)
    if "data_root" in params:  # loaders that wrap other specs (e.g. "augmented") resolve them here
        opts.setdefault("data_root", data_root)
    return fn(**opts)


def pooled_classes(sets) -> list[str]:
    """The ordered union of the class names of `sets` (anything with `.class_names`)."""
    return list(dict.fromkeys(n for s in sets for n in s.class_names))


def concat(sets: list[ItemSet]) -> ItemSet:
    """Pool ItemSets of one modality; class names become their ordered union and labels are
    remapped onto it. Audio must share one sample rate (loaders resample on request)."""
    if not sets:
        raise ValueError("nothing to pool")
    if len({s.modality for s in sets}) != 1:
        raise ValueError(f"cannot pool modalities {[s.modality for s in sets]}")
    rates = {s.sample_rate for s in sets}
    if len(rates) != 1:
        raise ValueError(f"cannot pool audio at different sample rates {sorted(map(str, rates))}")
    names = pooled_classes(sets)
    pos = {n: i for i, n in enumerate(names)}
    labels = np.concatenate([np.array([pos[s.class_names[y]] for y in s.labels], np.int64) for s in sets])
    has_groups = all(s.groups is not None for s in sets)
    return ItemSet(
        modality=sets[0].modality,
        items=[x for s in sets for x in s.items],
        labels=labels,
        class_names=names,
        sources=[x for s in sets for x in s.sources],
        sample_rate=sets[0].sample_rate,
        groups=[g for s in sets for g in s.groups] if has_groups else None,
    )


def relabel(s: ItemSet, class_names: list[str]) -> np.ndarray:
    """`s`'s labels as indices into `class_names` (which must contain all of s's names)."""
    pos = {n: i for i, n in enumerate(class_names)}
    missing = [n for n in s.class_names if n not in pos]
    if missing:
        raise ValueError(f"classes {missing[:5]} are not among {class_names[:10]}...")
    return np.array([pos[s.class_names[y]] for y in s.labels], np.int64)
