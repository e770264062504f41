"""Time t-SNE and UMAP on a map-sized input: 5,000 points of dimension 384.

    python benchmarks/bench_projection.py [--n 5000] [--dim 384]

The data is clustered like real embeddings (10 classes on the unit sphere). UMAP is timed twice:
its first call in a process includes numba's JIT compilation, the second is the steady state.
"""
from __future__ import annotations

import sys
from pathlib import Path
import argparse
import os
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from the repository without the package installed

import numpy as np

from textanchor.projection import project  # noqa: E402


def clustered(n: int, dim: int, n_cls: int = 10, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((n_cls, dim))
    return (centers[rng.integers(0, n_cls, n)] + 0.7 * rng.standard_normal((n, dim))).astype(np.float32)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--dim", type=int, default=384)
    args = parser.parse_args(argv)
    x = clustered(args.n, args.dim)
    # CPU time is printed too: on a shared machine the wall time mostly measures the neighbours.
    print(f"{args.n} points x {args.dim} dims, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    runs = [("pca", 2, ""), ("tsne", 2, "openTSNE, FFT"), ("tsne", 3, "scikit-learn, Barnes-Hut"),
            ("umap", 2, "first call: includes numba JIT"), ("umap", 2, "warm"), ("umap", 3, "warm")]
    for method, dim, note in runs:
        wall, cpu = time.perf_counter(), time.process_time()
        project(x, method=method, dim=dim, seed=0)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{method:>5} {dim}-D  {wall:7.1f} s wall  {cpu:7.1f} s CPU  {note}")


if __name__ == "__main__":
    main()
