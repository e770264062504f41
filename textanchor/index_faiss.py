"""Approximate nearest-neighbour search for large galleries: FAISS behind the EmbeddingIndex interface.

Exact search reads every vector for every query: about 1.5 GB per query at 1M x 384, far from
interactive. `FaissIndex` is an `EmbeddingIndex` (same add / search / get / save / load, same
files) whose searches go through a FAISS structure built on first use:

- "hnsw": a navigable small-world graph (Malkov & Yashunin 2018, `IndexHNSWFlat`): no training,
  incremental adds, the best latency/recall trade-off; its build is the slow part.
- "ivf": an inverted file over k-means cells (Jegou et al. 2011, `IndexIVFFlat`): builds much
  faster (k-means on a sample), queries scan `nprobe` cells.

`create_index(backend="auto", size=n)` picks exact search below AUTO_FAISS_FROM items, where it is
fast and perfect. On disk the FAISS structure is one more file, `faiss.index`, in FAISS's own binary
format (read with faiss.read_index, never unpickled); `load_index` reopens either kind.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .index import EmbeddingIndex, IndexFormatError, saved_settings
from .metrics import l2_normalize

__all__ = ["FaissIndex", "create_index", "load_index", "BACKENDS", "AUTO_FAISS_FROM"]

BACKENDS = ("auto", "exact", "hnsw", "ivf")
AUTO_FAISS_FROM = 100_000  # "auto" switches from exact to HNSW at this many items
FAISS_FILE = "faiss.index"


def _faiss():
    try:
        import faiss
    except ImportError:
        raise ValueError("the FAISS backend needs faiss-cpu: pip install faiss-cpu") from None
    return faiss


@contextmanager
def _threads_at_most(n: int):
    """FAISS's OpenMP threads for this call capped at n (restored after).

    FAISS parallelises a search over its queries, so a batch of fewer queries than threads leaves
    threads with nothing to do but wait at its barrier; on a many-core machine shared with other
    work, that wait is the slowdown FAISS users report (faiss issues #422, #2953; OpenSearch k-NN
    runs each query on one thread). One query already runs on one thread in FAISS 1.15: on this
    project's 2 cores, single queries with and without the cap measured the same. The OpenMP
    thread count is a per-thread setting, so concurrent searches in other threads are unaffected.
    """
    faiss = _faiss()
    before = faiss.omp_get_max_threads()
    if n >= before:
        yield
        return
    faiss.omp_set_num_threads(max(1, n))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


class FaissIndex(EmbeddingIndex):
    """Cosine search through FAISS (inner product on the stored unit vectors).

    Args:
        dim: vector dimension (fixed by the first add when None).
        kind: "hnsw" or "ivf".
        hnsw_m: graph degree. ef_construction / ef_search: HNSW candidate-list sizes (build / query).
        nlist: IVF cells (None: 4 * sqrt(N), at most N / 39). nprobe: IVF cells scanned per query.
        exact_below: searches over fewer candidates than this (small galleries, or a modality
            filter that keeps few items) scan exactly: as fast, and never miss.
    Scores in the hits are the exact cosines of the items found; only which items are found is
    approximate.
    """

    def __init__(self, dim: int | None = None, kind: str = "hnsw", hnsw_m: int = 32, ef_construction: int = 40,
                 ef_search: int = 128, nlist: int | None = None, nprobe: int = 32, exact_below: int = 10_000):
        if kind not in ("hnsw", "ivf"):
            raise ValueError(f"FAISS index kind must be 'hnsw' or 'ivf', got {kind!r}")
        super().__init__(dim)
        self.kind, self.hnsw_m, self.ef_construction = kind, hnsw_m, ef_construction
        self.ef_search, self.nlist, self.nprobe, self.exact_below = ef_search, nlist, nprobe, exact_below
        self._ann = None  # the FAISS index; holds the first _ann.ntotal rows
        self._trained_on = 0  # IVF: rows its k-means saw
        self._selectors: dict = {}  # modality filter -> faiss.IDSelectorBatch

    def __repr__(self) -> str:
        return f"FaissIndex(kind={self.kind}, n={len(self)}, dim={self.dim})"

    def build(self) -> None:
        """Bring the FAISS structure up to date with every added vector (search does this lazily).
        An IVF index is retrained when the gallery has grown 8x since its k-means ran."""
        faiss = _faiss()
        v = self.vectors  # (N, D) float32, unit rows
        if self.kind == "ivf" and self._ann is not None and len(v) > 8 * self._trained_on:
            self._ann = None
        if self._ann is None:
            if self.kind == "hnsw":
                self._ann = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
                self._ann.hnsw.efConstruction = self.ef_construction
            else:
                nlist = self.nlist or max(1, min(int(4 * math.sqrt(len(v))), len(v) // 39))
                self._ann = faiss.index_factory(self.dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
                # k-means needs ~40-256 points per cell; a seeded sample keeps training cheap.
                rng = np.random.default_rng(0)
                sample = v if len(v) <= 64 * nlist else v[np.sort(rng.choice(len(v), 64 * nlist, replace=False))]
                self._ann.train(sample)
                self._trained_on = len(v)
        if self._ann.ntotal < len(v):
            self._ann.add(v[self._ann.ntotal:])
        self._selectors = {}

    def _params(self, rows, modality):
        faiss = _faiss()
        sel = None
        if rows is not None:
            key = modality if isinstance(modality, str) else tuple(sorted(modality))
            sel = self._selectors.get(key)
            if sel is None:
                sel = self._selectors[key] = faiss.IDSelectorBatch(rows.astype(np.int64))
        if self.kind == "hnsw":
            return faiss.SearchParametersHNSW(efSearch=max(self.ef_search, 1), sel=sel)
        return faiss.SearchParametersIVF(nprobe=self.nprobe, sel=sel)

    def search(self, query, k: int = 10, modality: str | list[str] | None = None, exact: bool = False):
        """As `EmbeddingIndex.search`, through FAISS; `exact=True` scans every candidate instead."""
        rows = self._rows_for(modality)  # validates the filter first, as the exact path does
        n_cand = len(self) if rows is None else len(rows)
        if exact or n_cand < self.exact_below:
            return super().search(query, k, modality)
        q = l2_normalize(query)
        single = q.ndim == 1
        q = np.ascontiguousarray(q[None] if single else q, dtype=np.float32)  # (Q, D)
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise ValueError(f"query has shape {tuple(q.shape)}; the index has dimension {self.dim}")
        if self._ann is None or self._ann.ntotal < len(self):
            self.build()
        k = min(int(k), n_cand)
        with _threads_at_most(len(q)):
            _, found = self._ann.search(q, k, params=self._params(rows, modality))  # (Q, k), -1 = nothing found
        vecs = self.vectors
        hits = []
        for qi, ids in zip(q, found):
            ids = ids[ids >= 0]
            scores = vecs[ids] @ qi  # exact cosines of the k found
            order = np.lexsort((ids, -scores))  # score desc, then insertion order
            hits.append([self._hit(int(ids[j]), scores[j]) for j in order])
        return hits[0] if single else hits

    # ------------------------------------------------------------------ disk (hooks of EmbeddingIndex)
    def _saved_settings(self) -> dict:
        return {"backend": {"kind": self.kind, "hnsw_m": self.hnsw_m, "ef_construction": self.ef_construction,
                            "ef_search": self.ef_search, "nlist": self.nlist, "nprobe": self.nprobe,
                            "exact_below": self.exact_below}}

    def _save_extra(self, tmp: Path) -> None:
        if len(self):
            if self._ann is None or self._ann.ntotal < len(self):
                self.build()
            _faiss().write_index(self._ann, str(tmp / FAISS_FILE))

    @classmethod
    def _from_settings(cls, dim, settings: dict) -> "FaissIndex":
        return cls(dim, **(settings.get("backend") or {}))

    def _load_extra(self, folder: Path) -> None:
        path = Path(folder) / FAISS_FILE
        if not path.is_file():
            return  # rebuilt on the first search
        try:
            ann = _faiss().read_index(str(path))
        except RuntimeError as e:
            raise IndexFormatError(f"{path} is corrupted: {e}") from None
        if ann.d != self.dim or ann.ntotal != len(self):
            raise IndexFormatError(f"{path} holds {ann.ntotal} vectors of dimension {ann.d}; "
                                   f"the index has {len(self)} of dimension {self.dim}")
        self._ann, self._trained_on = ann, len(self)


def create_index(backend: str = "auto", size: int = 0, dim: int | None = None, **options) -> EmbeddingIndex:
    """An empty index for a gallery of about `size` items.

    Args:
        backend: "exact", "hnsw", "ivf", or "auto" (HNSW from AUTO_FAISS_FROM items when faiss is
            installed, else exact). options: FaissIndex settings (ef_search, nprobe, ...).
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown index backend {backend!r}; known: {', '.join(BACKENDS)}")
    if backend == "auto":
        try:
            _faiss()
            backend = "hnsw" if size >= AUTO_FAISS_FROM else "exact"
        except ValueError:
            backend = "exact"
    return EmbeddingIndex(dim) if backend == "exact" else FaissIndex(dim, kind=backend, **options)


def load_index(folder) -> EmbeddingIndex:
    """Reopen a saved index of either kind (the kind is read from the safetensors header)."""
    try:
        faiss_saved = "backend" in saved_settings(folder)
    except Exception:  # missing or corrupted: let EmbeddingIndex.load give its precise error
        faiss_saved = False
    return (FaissIndex if faiss_saved else EmbeddingIndex).load(folder)
