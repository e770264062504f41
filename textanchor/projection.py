"""2-D / 3-D maps of the shared text-anchor space (t-SNE, UMAP, PCA).

Pure functions: (N, D) embeddings in, (N, dim) float32 coordinates out. Embeddings are
L2-normalised first and t-SNE/UMAP use the cosine metric, the geometry the space is trained in.
A new method is one function plus `@PROJECTIONS.register(name)`; it receives normalised
(N, D) float32 data, `dim` and `seed`, plus any keyword arguments given to `project`.
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from .metrics import l2_normalize
from .registry import Registry

__all__ = ["MIN_POINTS_NONLINEAR", "PROJECTIONS", "project", "project_with_anchors"]

PROJECTIONS = Registry("projection")

# Below this many points t-SNE perplexity and UMAP neighbourhoods are meaningless (and the
# libraries fail on some sizes), so `project` uses PCA instead.
MIN_POINTS_NONLINEAR = 10


def _default_threads(n_points: int) -> int:
    """All CPUs for large maps; one for small ones, where thread sync costs more than it saves
    and spin-waiting threads slow to a crawl when the CPUs are busy with other work."""
    return (os.cpu_count() or 1) if n_points >= 2000 else 1


@PROJECTIONS.register("pca")
def _pca(x: np.ndarray, dim: int, seed: int) -> np.ndarray:
    """Principal components; zero-padded when N or D is smaller than dim."""
    from sklearn.decomposition import PCA

    n_comp = min(dim, *x.shape)
    coords = PCA(n_components=n_comp, svd_solver="full", random_state=seed).fit_transform(x)
    return np.pad(coords, ((0, 0), (0, dim - n_comp)))  # (N, dim)


@PROJECTIONS.register("tsne")
def _tsne(x: np.ndarray, dim: int, seed: int, perplexity: float = 30.0, n_jobs: int | None = None,
          **kw) -> np.ndarray:
    """t-SNE: openTSNE (FFT-accelerated, fast) for 2-D; scikit-learn's Barnes-Hut for 3-D
    (openTSNE's fast gradients are 2-D only; Barnes-Hut supports at most 3 dimensions)."""
    # Both libraries need perplexity well below N (3 * perplexity neighbours per point).
    perplexity = float(min(perplexity, max(1.0, (len(x) - 1) / 3)))
    n_jobs = n_jobs or _default_threads(len(x))
    if dim == 2:
        from openTSNE import TSNE, affinity, nearest_neighbors

        # openTSNE's own choice of neighbour search (exact below 1,000 points, else Annoy), made
        # here: left to choose, it imports pynndescent (a umap-learn dependency) just to check it
        # is installed, and that import compiles numba code: ~20 s in a process with a cold numba
        # cache, which was most of an app's first start.
        knn_cls = nearest_neighbors.Sklearn if len(x) < 1000 else nearest_neighbors.Annoy
        knn = knn_cls(x, k=min(len(x) - 1, int(3 * perplexity)), metric="cosine", n_jobs=n_jobs,
                      random_state=seed)
        aff = affinity.PerplexityBasedNN(perplexity=perplexity, knn_index=knn, n_jobs=n_jobs,
                                         random_state=seed)
        tsne = TSNE(n_components=2, perplexity=perplexity, metric="cosine", random_state=seed,
                    n_jobs=n_jobs, **kw)
        return np.asarray(tsne.fit(x, affinities=aff))
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    tsne = TSNE(n_components=dim, perplexity=perplexity, metric="cosine", init="pca",
                random_state=seed, n_jobs=n_jobs, **kw)
    with threadpool_limits(limits=n_jobs, user_api="openmp"):  # its gradient ignores n_jobs
        return tsne.fit_transform(x)


@PROJECTIONS.register("umap")
def _umap(x: np.ndarray, dim: int, seed: int, n_neighbors: int = 15, min_dist: float = 0.1,
          **kw) -> np.ndarray:
    """UMAP (umap-learn). A fixed random_state makes it reproducible but single-threaded."""
    from threadpoolctl import threadpool_limits

    # numba's OpenMP layer shares libgomp with torch and leaves its own thread count (every core)
    # as the process's OpenMP setting, so torch's too: an app set to one torch thread had two
    # afterwards, and Silero's tiny per-window calls ran 20x slower (0.9 -> 19 ms per window on
    # the shared 2-core machine). Put the OpenMP settings back afterwards.
    with threadpool_limits(limits=None, user_api="openmp"):
        with warnings.catch_warnings():  # "Tensorflow not installed": irrelevant here
            warnings.simplefilter("ignore")
            import umap

        reducer = umap.UMAP(n_components=dim, n_neighbors=min(n_neighbors, len(x) - 1),
                            min_dist=min_dist, metric="cosine", random_state=seed,
                            n_jobs=1, **kw)  # n_jobs=1 explicitly: random_state forces it anyway
        return reducer.fit_transform(x)


def project(emb, method: str = "tsne", dim: int = 2, seed: int = 0, **kw) -> np.ndarray:
    """Map embeddings to 2-D or 3-D coordinates for plotting.

    Args:
        emb: (N, D) array or tensor; N >= 2.
        method: a name in PROJECTIONS ("tsne", "umap", "pca"). t-SNE and UMAP fall back to PCA
            when N < MIN_POINTS_NONLINEAR (and then ignore **kw).
        dim: 2 or 3.
        seed: random seed; the same seed and data give the same map.
        **kw: passed to the method (e.g. perplexity=50 for t-SNE, n_neighbors=30 for UMAP).
    Returns:
        (N, dim) float32 coordinates.
    """
    x = l2_normalize(emb)
    if x.ndim != 2:
        raise ValueError(f"need (N, D) embeddings; got shape {x.shape}")
    if dim not in (2, 3):
        raise ValueError(f"dim must be 2 or 3; got {dim}")
    fn = PROJECTIONS.get(method)  # unknown names fail here, listing the known ones
    if len(x) < 2:
        raise ValueError(f"need at least 2 points to project; got {len(x)}")
    if len(x) < MIN_POINTS_NONLINEAR and method != "pca":
        return _pca(x, dim, seed).astype(np.float32)
    return np.asarray(fn(x, dim=dim, seed=seed, **kw), dtype=np.float32)


def project_with_anchors(item_emb, anchor_emb, method: str = "tsne", dim: int = 2, seed: int = 0,
                         **kw) -> tuple[np.ndarray, np.ndarray]:
    """Project items and text anchors into one map, so the anchors appear as landmarks.

    Both sets are projected together (one fit), hence their coordinates are comparable: an
    anchor lands inside its class cluster when the modality is well aligned, and the distance
    between anchors and clusters shows the modality gap when it is not.

    Args:
        item_emb: (N, D) item embeddings (any mix of modalities).
        anchor_emb: (C, D) text-anchor embeddings (e.g. one per class).
        method, dim, seed, **kw: as in `project`.
    Returns:
        (items (N, dim), anchors (C, dim)) float32 coordinates.
    """
    items, anchors = l2_normalize(item_emb), l2_normalize(anchor_emb)
    if items.ndim != 2 or anchors.ndim != 2 or items.shape[1] != anchors.shape[1]:
        raise ValueError(f"need (N, D) items and (C, D) anchors; got {items.shape} and "
                         f"{anchors.shape}")
    coords = project(np.concatenate([items, anchors]), method=method, dim=dim, seed=seed, **kw)
    return coords[: len(items)], coords[len(items):]
