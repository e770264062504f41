"""EmbeddingIndex: search against brute force, filters, and the on-disk format."""
import json

import numpy as np
import pytest

from textanchor.index import EmbeddingIndex, Hit, IndexFormatError


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((120, 24)).astype(np.float32)
    mods = ["image"] * 70 + ["audio"] * 50
    meta = [{"modality": m, "label": int(i % 10), "source": f"{m}/{i}.x"} for i, m in enumerate(mods)]
    index = EmbeddingIndex()
    index.add(vecs[:70], meta[:70])
    index.add(vecs[70:], meta[70:])  # two adds: consolidation must keep the order
    return index, vecs, np.array(mods), rng


def _brute(vecs, mods, query, k, allowed):
    scores = _unit(vecs) @ _unit(query)
    rows = [i for i in np.argsort(-scores) if mods[i] in allowed]
    return rows[:k], scores


@pytest.mark.parametrize("modality", [None, "audio", ["image", "audio"]])
def test_search_matches_brute_force(data, modality):
    index, vecs, mods, rng = data
    queries = rng.standard_normal((5, 24)).astype(np.float32)
    allowed = {"image", "audio"} if modality is None else {modality} if isinstance(modality, str) \
        else set(modality)
    results = index.search(queries, k=7, modality=modality)
    assert len(results) == 5
    for query, hits in zip(queries, results):
        rows, scores = _brute(vecs, mods, query, 7, allowed)
        assert [h.id for h in hits] == [f"{mods[r]}:{r}" for r in rows]
        assert [h.score for h in hits] == pytest.approx([scores[r] for r in rows], abs=1e-5)
        assert all(isinstance(h, Hit) and h.modality in allowed for h in hits)
    single = index.search(queries[0], k=3, modality=modality)
    assert [h.id for h in single] == [h.id for h in results[0][:3]]


def test_search_edges(data):
    index, vecs, mods, _ = data
    hits = index.search(vecs[3] * 10, k=1000, modality="audio")  # k beyond the candidates
    assert len(hits) == 50
    top = index.search(vecs[3], k=1)[0]
    assert top.id == "image:3" and top.score == pytest.approx(1.0)
    assert top.label == 3 and top.source == "image/3.x" and top.meta["label"] == 3
    with pytest.raises(ValueError, match="text"):
        index.search(vecs[0], modality="text")  # a typo is an error, not "no hits"
    with pytest.raises(ValueError):
        index.search(np.ones(5))
    assert EmbeddingIndex(dim=24).search(np.ones(24)) == []


def test_add_validates_and_normalises(data):
    index, vecs, _, _ = data
    assert len(index) == 120 and index.modalities() == ["image", "audio"]
    assert index.vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-6)
    vec, meta = index.get("audio:75")
    assert np.allclose(vec, _unit(vecs[75]), atol=1e-6) and meta["source"] == "audio/75.x"
    with pytest.raises(KeyError):
        index.get("nope")
    with pytest.raises(ValueError, match="duplicate"):
        index.add(vecs[:1], [{"modality": "image", "label": 0, "source": "s", "id": "image:0"}])
    with pytest.raises(ValueError, match="lacks"):
        index.add(vecs[:1], [{"modality": "image"}])
    with pytest.raises(ValueError, match="dimension"):
        index.add(np.ones((1, 3)), [{"modality": "image", "label": 0, "source": "s"}])
    assert len(index) == 120  # failed adds change nothing
    ids = index.add(vecs[:2], [{"modality": "text", "label": np.int64(4), "source": "t"}] * 2)
    assert len(set(ids)) == 2 and index.get(ids[0])[1]["label"] == 4


def test_save_load_round_trip(data, tmp_path):
    index, vecs, _, rng = data
    index.save(tmp_path / "idx")
    assert sorted(p.name for p in (tmp_path / "idx").iterdir()) == ["meta.json", "vectors.safetensors"]
    loaded = EmbeddingIndex.load(tmp_path / "idx")
    assert len(loaded) == 120 and loaded.dim == 24 and loaded.modalities() == index.modalities()
    np.testing.assert_array_equal(loaded.vectors, index.vectors)
    q = rng.standard_normal((3, 24))
    assert loaded.search(q, k=5, modality="image") == index.search(q, k=5, modality="image")
    # Saving again replaces the folder and leaves no temporary folders behind.
    loaded.add(vecs[:1], [{"modality": "image", "label": 1, "source": "new"}])
    loaded.save(tmp_path / "idx")
    assert len(EmbeddingIndex.load(tmp_path / "idx")) == 121
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]


def test_save_refuses_foreign_folder(data, tmp_path):
    index = data[0]
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        index.save(tmp_path)
    assert (tmp_path / "notes.txt").exists()


def test_load_refuses_missing_or_corrupted(data, tmp_path):
    index = data[0]
    with pytest.raises(FileNotFoundError, match="not a folder"):
        EmbeddingIndex.load(tmp_path / "absent")
    folder = index.save(tmp_path / "idx")
    meta_text = (folder / "meta.json").read_text()
    vec_bytes = (folder / "vectors.safetensors").read_bytes()

    (folder / "vectors.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="vectors.safetensors"):
        EmbeddingIndex.load(folder)

    (folder / "vectors.safetensors").write_bytes(vec_bytes[: len(vec_bytes) // 2])
    with pytest.raises(IndexFormatError, match="corrupted"):
        EmbeddingIndex.load(folder)

    (folder / "vectors.safetensors").write_bytes(vec_bytes)
    (folder / "meta.json").write_text(meta_text[:-20])
    with pytest.raises(IndexFormatError, match="corrupted"):
        EmbeddingIndex.load(folder)

    info = json.loads(meta_text)
    for key, value, message in [("dim", 7, "dimension"), ("count", 3, "metadata entries")]:
        (folder / "meta.json").write_text(json.dumps({**info, key: value}))
        with pytest.raises(IndexFormatError, match=message):
            EmbeddingIndex.load(folder)
    (folder / "meta.json").write_text(json.dumps({**info, "items": info["items"][:-1]}))
    with pytest.raises(IndexFormatError, match="metadata entries"):
        EmbeddingIndex.load(folder)


def test_empty_index_round_trip(tmp_path):
    EmbeddingIndex().save(tmp_path / "empty")
    assert len(EmbeddingIndex.load(tmp_path / "empty")) == 0
