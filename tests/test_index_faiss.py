"""The FAISS backend against exact search on the same seeded vectors."""
import json

import numpy as np
import pytest

faiss = pytest.importorskip("faiss")

from textanchor.index import EmbeddingIndex, IndexFormatError  # noqa: E402
from textanchor.index_faiss import FAISS_FILE, FaissIndex, create_index, load_index  # noqa: E402


def clustered(n: int, dim: int, seed: int, clusters: int = 100, spread: float = 0.75) -> np.ndarray:
    """Embedding-like vectors: unit points scattered around random class centres (cosine to the
    centre about 1 / sqrt(1 + spread^2)); the centres are the same for every seed."""
    centres = np.random.default_rng(12345).normal(size=(clusters, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    x = centres[rng.integers(0, clusters, n)] + rng.normal(scale=spread / np.sqrt(dim), size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def meta(n: int):
    return [{"modality": "image" if i % 4 else "audio", "label": i % 10, "source": f"item{i}"} for i in range(n)]


@pytest.fixture(scope="module")
def data():
    return clustered(10_000, 64, 0), clustered(200, 64, 1)


def recall_at_10(approx, exact) -> float:
    return float(np.mean([len({h.id for h in a} & {h.id for h in e}) / len(e) for a, e in zip(approx, exact)]))


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_faiss_finds_what_exact_search_finds(data, kind):
    x, q = data
    fi = FaissIndex(kind=kind, exact_below=0)
    fi.add(x, meta(len(x)))
    exact = EmbeddingIndex()
    exact.add(x, meta(len(x)))
    approx, truth = fi.search(q, k=10), exact.search(q, k=10)
    assert recall_at_10(approx, truth) >= 0.9
    assert fi.search(q, k=10, exact=True) == truth  # the exact path is the base class, unchanged
    for qi, hits in zip(q, approx):  # scores are the exact cosines, best first
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        cos = [float(x[int(h.source[4:])] @ qi) for h in hits]
        assert [h.score for h in hits] == pytest.approx(cos, abs=1e-5)


def test_modality_filter_and_small_filters_fall_back_to_exact(data):
    x, q = data
    fi = FaissIndex(kind="hnsw", exact_below=1000)
    fi.add(x, meta(len(x)))
    hits = fi.search(q[:20], k=10, modality="image")  # 7500 candidates: through FAISS with a selector
    assert all(h.modality == "image" for row in hits for h in row) and all(len(r) == 10 for r in hits)
    exact = fi.search(q[:20], k=10, modality="image", exact=True)
    assert recall_at_10(hits, exact) >= 0.9
    with pytest.raises(ValueError, match="no items of modality"):
        fi.search(q[0], modality="video")


def test_saves_and_loads_without_pickle_with_the_same_results(data, tmp_path):
    x, q = data
    fi = FaissIndex(kind="ivf", nprobe=8, exact_below=0)
    fi.add(x, meta(len(x)))
    before = fi.search(q, k=5)
    fi.save(tmp_path / "ix")
    assert (tmp_path / "ix" / FAISS_FILE).is_file()
    assert "backend" not in json.loads((tmp_path / "ix" / "meta.json").read_text())  # settings: one copy, in the header
    back = load_index(tmp_path / "ix")
    assert isinstance(back, FaissIndex) and back.kind == "ivf" and back.nprobe == 8 and len(back) == len(x)
    assert back.search(q, k=5) == before
    plain = EmbeddingIndex.load(tmp_path / "ix")  # the exact reader still opens it
    assert type(plain) is EmbeddingIndex and len(plain) == len(x)
    (tmp_path / "ix" / FAISS_FILE).write_bytes(b"not a faiss index")
    with pytest.raises(IndexFormatError, match="corrupted"):
        load_index(tmp_path / "ix")


class _ThreadSpy:
    """Stands in for the FAISS index and records FAISS's OpenMP thread count at each search."""

    def __init__(self, ann):
        self.ann, self.threads = ann, []

    def __getattr__(self, name):
        return getattr(self.ann, name)

    def search(self, *args, **kwargs):
        self.threads.append(faiss.omp_get_max_threads())
        return self.ann.search(*args, **kwargs)


def test_a_single_query_runs_on_one_thread_and_batches_on_all(data):
    x, q = data
    fi = FaissIndex(kind="ivf", exact_below=0)
    fi.add(x, meta(len(x)))
    fi.build()
    fi._ann = spy = _ThreadSpy(fi._ann)
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(4)  # as on a 4-core machine
    try:
        fi.search(q[0], k=10)
        fi.search(q[:2], k=10)
        fi.search(q, k=10)
        assert spy.threads == [1, 2, 4]  # never more threads than queries
        assert faiss.omp_get_max_threads() == 4  # the caller's setting is restored
    finally:
        faiss.omp_set_num_threads(before)


def test_create_index_picks_exact_for_small_galleries():
    assert type(create_index("auto", size=5_000)) is EmbeddingIndex
    assert isinstance(create_index("auto", size=2_000_000), FaissIndex)
    assert create_index("ivf").kind == "ivf"
    with pytest.raises(ValueError, match="unknown index backend"):
        create_index("annoy")
