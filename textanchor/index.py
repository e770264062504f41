"""An in-memory nearest-neighbour index over items of every modality in the text-anchor space.

Because images, audio and text all land in one space, one index serves every direction of search
("find audio like this image", "find images for the word seven"): a query is a vector, and the
modality filter picks what comes back. Exact search (one matrix product) is fast enough for the
tens of thousands of items this project handles; galleries of millions use the FAISS subclass in
`textanchor.index_faiss`, which keeps this interface and file format and adds its own file.

On disk: `vectors.safetensors` (the (N, D) float32 matrix) and `meta.json` (one dict per row).
Nothing is ever unpickled.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .metrics import l2_normalize

__all__ = ["EmbeddingIndex", "Hit", "IndexFormatError", "saved_settings"]

VECTORS_FILE = "vectors.safetensors"
META_FILE = "meta.json"
FORMAT = "textanchor.EmbeddingIndex"  # written into both files, checked on load
REQUIRED_KEYS = ("modality", "label", "source")


class IndexFormatError(ValueError):
    """A saved index folder is incomplete, corrupted or inconsistent."""


def saved_settings(folder) -> dict:
    """The settings a subclass saved (`_saved_settings`), read from the safetensors header alone,
    so choosing how to open an index never parses its (possibly huge) meta.json.

    Raises: OSError, safetensors.SafetensorError, ValueError: unreadable file or header.
    """
    from safetensors import safe_open

    with safe_open(str(Path(folder) / VECTORS_FILE), "np") as f:
        header = f.metadata() or {}
    return {k: json.loads(v) for k, v in header.items() if k != "format"}


@dataclass(frozen=True)
class Hit:
    """One search result."""

    id: str
    score: float  # cosine similarity to the query
    modality: str
    label: Any
    source: str
    meta: dict = field(repr=False)  # the item's full metadata (a copy)


def _plain(value):
    """numpy scalars -> Python scalars, so metadata stays JSON-serialisable."""
    return value.item() if isinstance(value, np.generic) else value


class EmbeddingIndex:
    """Exact cosine-similarity index; vectors stored L2-normalised as float32.

    Args:
        dim: vector dimension; fixed by the first `add` when None.
    """

    def __init__(self, dim: int | None = None):
        self.dim = dim
        self._blocks: list[np.ndarray] = []  # added since the last consolidation
        self._consolidating = threading.Lock()
        self._vectors = np.zeros((0, dim or 0), dtype=np.float32)  # (N, D)
        self._meta: list[dict] = []
        self._row_of: dict[str, int] = {}  # id -> row
        # (N, {modality: rows}, {modality: their vectors}), rebuilt lazily for filters; one tuple
        # assigned at once, so searches in other threads see all of it or none of it
        self._filters: tuple | None = None

    # ----------------------------------------------------------------------------- building
    def add(self, vectors, metadata: list[dict]) -> list[str]:
        """Add N items.

        Args:
            vectors: (N, D) array or tensor (normalised here).
            metadata: N dicts with at least "modality", "label" and "source"; "id" is generated
                ("{modality}:{row}") when absent and must be unique.
        Returns:
            the ids of the added items, in order.
        """
        v = l2_normalize(vectors)
        return self._append(v[None] if v.ndim == 1 else v, metadata)

    def _append(self, v: np.ndarray, metadata: list[dict]) -> list[str]:
        """`add` without normalising (`load` must keep the saved vectors bit for bit)."""
        if v.ndim != 2 or len(v) != len(metadata):
            raise ValueError(f"need (N, D) vectors and N metadata dicts; got {v.shape} and "
                             f"{len(metadata)}")
        if self.dim is None:
            self.dim = v.shape[1]
            self._vectors = np.zeros((0, self.dim), dtype=np.float32)
        if v.shape[1] != self.dim:
            raise ValueError(f"vectors have dimension {v.shape[1]}, the index has {self.dim}")
        new_meta, new_ids = [], set()
        for i, m in enumerate(metadata):
            missing = [key for key in REQUIRED_KEYS if key not in m]
            if missing:
                raise ValueError(f"metadata[{i}] lacks {missing}; required: {REQUIRED_KEYS}")
            m = {key: _plain(value) for key, value in m.items()}
            if "id" not in m:
                m["id"] = self._fresh_id(m["modality"], len(self) + i, new_ids)
            m["id"] = str(m["id"])
            if m["id"] in self._row_of or m["id"] in new_ids:
                raise ValueError(f"duplicate id {m['id']!r}")
            new_ids.add(m["id"])
            new_meta.append(m)
        for m in new_meta:  # only now, so a failed add leaves the index unchanged
            self._row_of[m["id"]] = len(self._meta)
            self._meta.append(m)
        self._blocks.append(np.ascontiguousarray(v))
        self._filters = None
        return [m["id"] for m in new_meta]

    def _fresh_id(self, modality: str, row: int, taken: set) -> str:
        while f"{modality}:{row}" in self._row_of or f"{modality}:{row}" in taken:
            row += 1
        return f"{modality}:{row}"

    @property
    def vectors(self) -> np.ndarray:
        """(N, D) float32 normalised vectors (consolidated once after adds; do not modify)."""
        if self._blocks:
            with self._consolidating:  # two searches at once must not append the blocks twice
                if self._blocks:
                    self._vectors = np.concatenate([self._vectors, *self._blocks])
                    self._blocks = []
        return self._vectors

    def __len__(self) -> int:
        return len(self._meta)

    def __repr__(self) -> str:
        return f"EmbeddingIndex(n={len(self)}, dim={self.dim}, modalities={self.modalities()})"

    def modalities(self) -> list[str]:
        """Distinct modalities, in order of first appearance."""
        return list(dict.fromkeys(m["modality"] for m in self._meta))

    def metadata(self) -> list[dict]:
        """A copy of every item's metadata, in row order (row i goes with vectors[i])."""
        return [dict(m) for m in self._meta]

    def get(self, id: str) -> tuple[np.ndarray, dict]:
        """The (D,) normalised vector and a copy of the metadata of item `id`."""
        if id not in self._row_of:
            raise KeyError(f"no item with id {id!r} in the index")
        row = self._row_of[id]
        return self.vectors[row].copy(), dict(self._meta[row])

    # ----------------------------------------------------------------------------- search
    def search(self, query, k: int = 10, modality: str | list[str] | None = None):
        """The k most cosine-similar items to each query.

        Args:
            query: (D,) or (Q, D) array or tensor (normalised here).
            k: hits per query (fewer if fewer items match the filter).
            modality: keep only items of this modality (or these modalities); None = all.
                An unknown modality raises ValueError, so a typo does not look like "no hits".
        Returns:
            list[Hit] best first for a (D,) query; list[list[Hit]] for a (Q, D) query.
            Ties at the k-th score are cut arbitrarily; within the top k, equal scores keep
            insertion order.
        """
        q = l2_normalize(query)
        single = q.ndim == 1
        q = q[None] if single else q  # (Q, D)
        if q.ndim != 2 or (self.dim is not None and q.shape[1] != self.dim):
            raise ValueError(f"query has shape {tuple(q.shape)}; the index has dimension {self.dim}")
        rows = self._rows_for(modality)  # (M,) candidate rows, None = all
        if rows is None:  # no copy when unfiltered
            vecs = self.vectors
        elif isinstance(modality, str):  # one modality: its rows, gathered once and kept
            kept = self._filter_tables()[2]
            vecs = kept.get(modality)
            if vecs is None:
                vecs = kept[modality] = self.vectors[rows]
        else:
            vecs = self.vectors[rows]
        if rows is None:
            rows = np.arange(len(vecs))
        k = min(int(k), len(rows))
        if k <= 0:
            hits: list[list[Hit]] = [[] for _ in q]
            return hits[0] if single else hits
        scores = q @ vecs.T  # (Q, M)
        # argpartition finds the top k in O(M); only those k are then sorted.
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < len(rows) else \
            np.broadcast_to(np.arange(len(rows)), (len(q), len(rows)))  # (Q, k)
        top_scores = np.take_along_axis(scores, top, axis=1)  # (Q, k)
        order = np.lexsort((top, -top_scores), axis=1)  # score desc, then insertion order
        top = np.take_along_axis(top, order, axis=1)
        top_scores = np.take_along_axis(top_scores, order, axis=1)
        hits = [[self._hit(rows[j], s) for j, s in zip(t, ts)] for t, ts in zip(top, top_scores)]
        return hits[0] if single else hits

    def _rows_for(self, modality) -> np.ndarray:
        if modality is None:
            return None
        wanted = [modality] if isinstance(modality, str) else list(modality)
        by_modality = self._filter_tables()[1]
        unknown = sorted(set(wanted) - set(by_modality))
        if unknown:
            raise ValueError(f"no items of modality {unknown}; the index holds {self.modalities()}")
        if len(wanted) == 1:
            return by_modality[wanted[0]]
        return np.sort(np.concatenate([by_modality[m] for m in dict.fromkeys(wanted)]))

    def _filter_tables(self) -> tuple:
        f = self._filters
        if f is None or f[0] != len(self._meta):
            col = np.array([m["modality"] for m in self._meta], dtype=object)
            f = (len(self._meta), {m: np.flatnonzero(col == m) for m in self.modalities()}, {})
            self._filters = f
        return f

    def _hit(self, row: int, score: float) -> Hit:
        m = self._meta[row]
        return Hit(id=m["id"], score=float(score), modality=m["modality"], label=m["label"],
                   source=m["source"], meta=dict(m))

    # ----------------------------------------------------------------------------- disk
    def save(self, folder) -> Path:
        """Write `vectors.safetensors` and `meta.json` into `folder`, replacing a saved index.

        Written into a temporary sibling folder first and moved into place with os.replace, so a
        crash mid-write never leaves a half-written index under `folder`.
        Returns:
            the folder path.
        """
        from safetensors.numpy import save_file

        folder = Path(folder)
        if folder.exists() and any(folder.iterdir()) and not (folder / META_FILE).exists():
            raise FileExistsError(f"{folder} exists and is not a saved index; refusing to replace it")
        try:
            meta_text = json.dumps({"format": FORMAT, "version": 1, "dim": self.dim,
                                    "count": len(self), "items": self._meta}, indent=1)
        except TypeError as e:
            raise ValueError(f"index metadata must be JSON-serialisable: {e}") from None
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"  # same filesystem: rename works
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        save_file({"vectors": np.ascontiguousarray(self.vectors)}, str(tmp / VECTORS_FILE),
                  metadata={"format": FORMAT, **{k: json.dumps(v) for k, v in self._saved_settings().items()}})
        (tmp / META_FILE).write_text(meta_text, encoding="utf-8")
        self._save_extra(tmp)
        if folder.exists():  # os.replace cannot overwrite a non-empty folder: move it aside first
            old = folder.parent / f".{folder.name}.old-{os.getpid()}"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old)
        else:
            os.replace(tmp, folder)
        return folder

    @classmethod
    def load(cls, folder) -> "EmbeddingIndex":
        """Read an index written by `save`.

        Raises:
            FileNotFoundError: the folder or one of its two files is missing.
            IndexFormatError: a file is corrupted, or vectors and metadata disagree.
        """
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"no saved index at {folder} (not a folder)")
        missing = [n for n in (VECTORS_FILE, META_FILE) if not (folder / n).is_file()]
        if missing:
            raise FileNotFoundError(f"{folder} is not a complete saved index: missing {missing}")
        try:
            info = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise IndexFormatError(f"{folder / META_FILE} is corrupted: {e}") from None
        if not isinstance(info, dict) or info.get("format") != FORMAT \
                or not isinstance(info.get("items"), list):
            raise IndexFormatError(f"{folder / META_FILE} is not textanchor index metadata")
        try:
            vectors = load_file(str(folder / VECTORS_FILE)).get("vectors")
            settings = saved_settings(folder)
        except (SafetensorError, OSError, ValueError) as e:
            raise IndexFormatError(f"{folder / VECTORS_FILE} is corrupted: {e}") from None
        if vectors is None or vectors.ndim != 2:
            raise IndexFormatError(f"{folder / VECTORS_FILE} holds no (N, D) 'vectors' tensor")
        items, dim = info["items"], info.get("dim")
        if len(items) != len(vectors) or info.get("count") != len(vectors):
            raise IndexFormatError(f"{folder}: {len(vectors)} vectors but {len(items)} metadata "
                                   f"entries (count={info.get('count')})")
        if dim is not None and vectors.shape[1] != dim:
            raise IndexFormatError(f"{folder}: vectors have dimension {vectors.shape[1]}, "
                                   f"meta.json says {dim}")
        index = cls._from_settings(dim, settings)
        if len(vectors):
            try:
                index._append(vectors.astype(np.float32), items)
            except ValueError as e:  # missing keys, duplicate ids
                raise IndexFormatError(f"{folder / META_FILE}: {e}") from None
        index._load_extra(folder)
        return index

    # Hooks for subclasses with a search structure of their own (textanchor.index_faiss).
    def _saved_settings(self) -> dict:
        """Extra keys for the safetensors header (JSON values), read back by `saved_settings`."""
        return {}

    def _save_extra(self, tmp: Path) -> None:
        """Write extra files into the not-yet-renamed folder, so they too appear atomically."""

    @classmethod
    def _from_settings(cls, dim, settings: dict) -> "EmbeddingIndex":
        return cls(dim)

    def _load_extra(self, folder: Path) -> None:
        """Read what `_save_extra` wrote (after the vectors are in)."""
