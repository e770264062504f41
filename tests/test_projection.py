"""Projections: every registered method and dimension on small data, seeds, anchors, edge cases."""
import numpy as np
import pytest

from textanchor.projection import PROJECTIONS, project, project_with_anchors

N_CLS = 5


@pytest.fixture(scope="module")
def clusters():
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((N_CLS, 64)).astype(np.float32)
    labels = np.arange(200) % N_CLS
    emb = centers[labels] + 0.3 * rng.standard_normal((200, 64)).astype(np.float32)
    return emb, labels, centers


def _methods():  # UMAP's first call JIT-compiles for ~10-20 s; the rest take about a second
    return [pytest.param(m, marks=pytest.mark.slow) if m == "umap" else m for m in PROJECTIONS]


def test_registry_names():
    assert PROJECTIONS.names() == ["pca", "tsne", "umap"]
    with pytest.raises(KeyError, match="pca, tsne, umap"):
        project(np.ones((20, 3)), method="isomap")


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("method", _methods())
def test_shapes(clusters, method, dim):
    coords = project(clusters[0], method=method, dim=dim, seed=0)
    assert coords.shape == (200, dim) and coords.dtype == np.float32
    assert np.isfinite(coords).all() and coords.std(axis=0).min() > 0


@pytest.mark.parametrize("method", _methods())
def test_same_seed_same_map(clusters, method):
    a = project(clusters[0], method=method, seed=3)
    b = project(clusters[0], method=method, seed=3)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n", [2, 3, 9])
@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_tiny_inputs_fall_back(clusters, method, n):
    for dim in (2, 3):
        coords = project(clusters[0][:n], method=method, dim=dim)
        assert coords.shape == (n, dim) and np.isfinite(coords).all()


def test_rejects_bad_input(clusters):
    with pytest.raises(ValueError, match="at least 2"):
        project(clusters[0][:1], method="pca")
    with pytest.raises(ValueError, match="dim"):
        project(clusters[0], method="pca", dim=4)
    with pytest.raises(ValueError):
        project(clusters[0][0], method="pca")


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_anchors_land_in_their_clusters(clusters, method):
    emb, labels, centers = clusters
    items, anchors = project_with_anchors(emb, centers, method=method, seed=0)
    assert items.shape == (200, 2) and anchors.shape == (N_CLS, 2)
    for c, xy in enumerate(anchors):
        nearest = np.argsort(np.linalg.norm(items - xy, axis=1))[:10]
        assert np.mean(labels[nearest] == c) >= 0.9
    with pytest.raises(ValueError):
        project_with_anchors(emb, centers[:, :10])
