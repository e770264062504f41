"""The gallery's map coordinates on disk: one `map-<method>-<dim>d.npz` per map, computed once.

The default map (t-SNE 2-D) is made with the gallery. The others (UMAP 2-D, the 3-D map) are
made right after start-up by a separate low-priority process, so that numba's minute-long first
compilation of UMAP neither blocks this server's GIL nor takes CPU from visitors, and a restart
reads them from disk:

    python -m textanchor.demo.maps GALLERY_FOLDER umap:2 umap:3
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_MAP = ("tsne", 2)  # computed with the gallery, so the first look at Explore does not wait
BACKGROUND_MAPS = (("umap", 2), ("umap", 3))
ANCHORS_FILE = "anchors.npy"  # (C, D) class text embeddings, saved with the gallery for the maps
# UMAP's default for small sets is 500 epochs; 200 (its default above 10,000 points) draws the
# same clusters in 2-3 s for 5,000 points once compiled.
OPTIONS = {"umap": {"n_epochs": 200}}


def three_d_method(method: str) -> str:
    """3-D maps are UMAP: scikit-learn's 3-D t-SNE (openTSNE's fast one is 2-D only) takes
    about 45 s for 5,000 points on two cores, UMAP 3 s."""
    return "umap" if method == "tsne" else method


def map_path(folder, method: str, dim: int) -> Path:
    return Path(folder) / f"map-{method}-{int(dim)}d.npz"


def save_map(path: Path, vectors: np.ndarray, anchor_vectors: np.ndarray, method: str, dim: int) -> None:
    """Project gallery vectors (N, D) with the class anchors (C, D) and write them atomically."""
    from ..projection import project_with_anchors

    t0 = time.time()
    items, anchors = project_with_anchors(vectors, anchor_vectors, method, int(dim), seed=0, **OPTIONS.get(method, {}))
    tmp = path.with_name(f"{path.stem}.tmp-{os.getpid()}.npz")
    np.savez(tmp, items=items, anchors=anchors)
    os.replace(tmp, path)
    log.info("maps: %s %dd map of %d items in %.1f s", method, dim, len(vectors), time.time() - t0)


def precompute(folder, maps=BACKGROUND_MAPS) -> subprocess.Popen | None:
    """Start a niced process that writes the gallery's missing maps; None when none is missing."""
    folder = Path(folder)
    todo = [f"{m}:{d}" for m, d in maps if not map_path(folder, m, d).is_file()]
    if not todo or not (folder / ANCHORS_FILE).is_file():
        return None
    root = str(Path(__file__).resolve().parents[2])  # the repository: the package may not be installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    return subprocess.Popen([sys.executable, "-m", "textanchor.demo.maps", str(folder), *todo], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=_low_priority_child)


def _low_priority_child() -> None:
    """In the child before exec: lowest CPU priority, and (Linux) end when the server ends."""
    os.nice(19)
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _main(argv: list[str]) -> None:
    from ..index import EmbeddingIndex

    folder = Path(argv[0])
    vectors = EmbeddingIndex.load(folder / "index").vectors
    anchors = np.load(folder / ANCHORS_FILE)
    for spec in argv[1:]:
        method, dim = spec.split(":")
        if not map_path(folder, method, int(dim)).is_file():
            save_map(map_path(folder, method, int(dim)), vectors, anchors, method, int(dim))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    _main(sys.argv[1:])
