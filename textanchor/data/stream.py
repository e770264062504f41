"""Streaming data: files decoded one at a time by `torch.utils.data` workers, never all at once.

The in-memory path (`ItemSet`, `load_spec`) decodes a whole data set before the first step, which
is fastest for the small sets this project ships with. Past a few hundred thousand files that no
longer fits, so here a data set is a list of paths and labels (a few bytes per item) and
`DataLoader` workers decode, prepare and batch them while the model trains:

    ds = open_stream(recipe.data, "train", data_root, modality)   # nothing decoded yet
    for x, y in stream_batches(ds, batch=128, di=DistInfo(), seed=0, workers=2): ...

Paths live in one numpy bytes array, not a Python list of str: forked workers reading a list
touch every object's reference count and so copy the pages (PyTorch issue #13246), which makes
memory grow with the corpus and the number of workers.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from torch.utils.data import ConcatDataset, DataLoader, Dataset, DistributedSampler

from ..distributed import DistInfo
from .base import DataError, ItemSet
from .manifest import check_missing, manifest_rows, row_modality

__all__ = ["FileDataset", "ItemDataset", "scan_manifest", "scan_folder", "open_stream", "stream_batches",
           "eval_itemset", "relabel_stream"]


def scan_manifest(csv_path, skip_missing: bool = False, modalities: list[str] | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Read a `path,text[,modality]` manifest (`manifest.manifest_rows`) without decoding any file.

    Args:
        modalities: the modalities files may have (a checkpoint's); None: every registered one.
    Returns:
        (paths (N,) bytes array, labels (N,) int64, class_names sorted - the classes
        `load_manifest` gives -, modality (N,) str array: the row's `modality` cell, else the
        modality that reads the file's extension).
    Raises:
        DataError: no such manifest, wrong header, no rows, listed files missing, or a file no
            modality (of `modalities`) reads.
    """
    paths: list[bytes] = []
    texts: list[int] = []
    mods: list[str] = []
    text_ids: dict[str, int] = {}
    missing = []
    for p, text, cell in manifest_rows(csv_path):
        if not p.is_file():
            missing.append(p)
            continue
        paths.append(str(p).encode())
        texts.append(text_ids.setdefault(text, len(text_ids)))
        mods.append(row_modality(csv_path, p, cell, modalities))
    check_missing(csv_path, missing, skip_missing)
    if not paths:
        raise DataError(f"{csv_path} lists no existing files")
    names = sorted(text_ids)
    sorted_id = {t: i for i, t in enumerate(names)}
    order = np.array([sorted_id[t] for t in text_ids], np.int64)  # first-seen id -> sorted id
    return np.array(paths), order[np.asarray(texts, np.int64)], names, np.array(mods)


def scan_folder(root, extensions: tuple[str, ...]) -> np.ndarray:
    """Every file under `root` (recursively) with one of `extensions`, sorted: (N,) bytes array."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"no folder at {root}")
    exts = {e.lower() for e in extensions}
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        found += [os.path.join(dirpath, f).encode() for f in sorted(filenames)
                  if os.path.splitext(f)[1].lower() in exts]
    return np.array(found, dtype=bytes)


class FileDataset(Dataset):
    """Files with class labels, decoded and prepared one at a time.

    Args:
        paths: (N,) bytes or str paths. labels: (N,) int indices into class_names.
        modality: a `textanchor.modalities.Modality`; its `read_file` decodes, `prepare` shapes.
    Item i: (prepared tensor of shape modality.input_shape(), label int).
    """

    def __init__(self, paths, labels, class_names: list[str], modality):
        self.paths = np.asarray(paths, dtype=bytes)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.class_names = list(class_names)
        self.modality = modality

    def __len__(self) -> int:
        return len(self.paths)

    def path(self, i: int) -> str:
        return self.paths[i].decode()

    def label_names(self) -> list[str]:
        """(N,) the class name of every item."""
        return [self.class_names[y] for y in self.labels]

    def raw(self, i: int):
        """Decoded (not prepared) item i."""
        try:
            return self.modality.read_file(self.path(i))
        except DataError:
            raise
        except Exception as e:  # PIL, soundfile and PyAV raise their own types
            raise DataError(f"cannot decode {self.path(i)} ({e})") from None

    def __getitem__(self, i: int):
        # read_file's rate is what prepare assumes without one (a fused modality's `read_rate` too)
        return self.modality.prepare([self.raw(i)])[0], int(self.labels[i])

    @classmethod
    def from_manifest(cls, csv_path, modality, skip_missing: bool = False) -> "FileDataset":
        """The manifest's files, which must all be of `modality` (named by the registry)."""
        paths, labels, names, _ = scan_manifest(csv_path, skip_missing, [modality.name])
        return cls(paths, labels, names, modality)


class ItemDataset(Dataset):
    """An already decoded ItemSet served item by item (built-in sets such as MNIST under --stream:
    preparation moves to the workers, the decoded arrays stay in memory)."""

    def __init__(self, items: ItemSet, modality):
        self.items, self.modality = items, modality
        self.labels = items.labels.copy()
        self.class_names = list(items.class_names)

    def __len__(self) -> int:
        return len(self.items)

    def raw(self, i: int):
        return self.items.items[i]

    def __getitem__(self, i: int):
        return self.modality.prepare([self.items.items[i]], self.items.sample_rate)[0], int(self.labels[i])


def relabel_stream(d, names: list[str]):
    """Point a stream's labels at `names` (a superset of its class names), in place; returns it."""
    pos = {n: i for i, n in enumerate(names)}
    for part in getattr(d, "parts", [d]):
        part.labels = np.array([pos[n] for n in part.class_names], np.int64)[part.labels]
        part.class_names = list(names)
    d.class_names = list(names)
    return d


def open_stream(specs, split: str, data_root, modality) -> Dataset:
    """The data sets of one modality's recipe as one lazily decoded Dataset.

    A "manifest" spec streams its files; any other registered data set is loaded as today and
    prepared item by item. Labels are remapped onto the union of the sets' class names
    (`.class_names` of the result).
    """
    from .combine import load_spec, pooled_classes

    parts = []
    for s in specs:
        if s.name == "manifest":
            opts = s.options
            parts.append(FileDataset.from_manifest(opts["csv_path"], modality, opts.get("skip_missing", False)))
        else:
            parts.append(ItemDataset(load_spec(s.name, s.options, split, data_root,
                                               getattr(modality.cfg, "sample_rate", None)), modality))
    names = pooled_classes(parts)
    parts = [relabel_stream(p, names) for p in parts]
    if len(parts) == 1:
        return parts[0]
    pooled = ConcatDataset(parts)
    pooled.class_names = names
    pooled.parts = parts
    return pooled


def _locate(ds, i: int):
    if isinstance(ds, ConcatDataset):
        j = int(np.searchsorted(ds.cumulative_sizes, i, side="right"))
        return ds.parts[j], i - (ds.cumulative_sizes[j - 1] if j else 0)
    return ds, i


def eval_itemset(ds, limit: int | None, seed: int, modality_name: str) -> ItemSet:
    """Decode a seeded subset of at most `limit` items of a stream into an ItemSet, so held-out
    scoring works exactly as in memory without decoding the whole set."""
    n = len(ds)
    idx = np.arange(n) if limit is None or n <= limit else np.sort(np.random.default_rng(seed).permutation(n)[:limit])
    items, labels, sources = [], [], []
    for i in idx:
        part, j = _locate(ds, int(i))
        items.append(part.raw(j))
        labels.append(int(part.labels[j]))
        sources.append(part.path(j) if isinstance(part, FileDataset) else part.items.sources[j])
    mod_cfg = (ds.parts[0] if isinstance(ds, ConcatDataset) else ds).modality.cfg
    return ItemSet(modality_name, items, np.array(labels, np.int64), list(ds.class_names), sources,
                   sample_rate=getattr(mod_cfg, "sample_rate", None))


def stream_batches(ds, batch: int, di: DistInfo, seed: int, workers: int = 0, pin: bool = False):
    """Endless (x (B, *input_shape), y (B,)) batches over this rank's shard, reshuffled each pass.

    DistributedSampler deals each rank a disjoint shard (one rank: the whole set) from a permutation
    seeded by `seed` + pass number; full batches only, like the in-memory path.
    """
    sampler = DistributedSampler(ds, num_replicas=di.world, rank=di.rank, shuffle=True, seed=seed, drop_last=True)
    batch = max(1, min(batch, len(sampler)))
    loader = DataLoader(ds, batch_size=batch, sampler=sampler, num_workers=workers, drop_last=True,
                        persistent_workers=workers > 0, pin_memory=pin)
    epoch = 0
    while True:
        sampler.set_epoch(epoch)
        epoch += 1
        for x, y in loader:
            yield x, y.long()

