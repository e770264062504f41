"""Augmented copies: right shapes, finite, bounded, and the seed decides them."""
from __future__ import annotations

import numpy as np

from textanchor.data.augment_audio import augment_set, augment_wave, load_augmented
from textanchor.data.base import ItemSet


def _clips(n=6, sr=8000):
    rng = np.random.default_rng(0)
    return [(0.5 * np.sin(np.arange(int(sr * rng.uniform(0.3, 0.9))) * rng.uniform(0.05, 0.3))).astype(np.float32)
            for _ in range(n)]


def test_augment_wave_is_finite_bounded_and_seeded():
    for i, w in enumerate(_clips()):
        a = augment_wave(w, 8000, np.random.default_rng([0, i]))
        b = augment_wave(w, 8000, np.random.default_rng([0, i]))
        c = augment_wave(w, 8000, np.random.default_rng([1, i]))
        assert a.dtype == np.float32 and a.ndim == 1 and np.isfinite(a).all() and np.abs(a).max() <= 1.0
        assert 0.8 * len(w) < len(a) < len(w) / 0.85 + 0.25 * 8000  # speed 0.85-1.15 and a reverb tail
        np.testing.assert_array_equal(a, b)
        assert len(a) != len(c) or not np.allclose(a, c)


def test_augment_set_keeps_labels_and_groups():
    s = ItemSet("audio", _clips(4), np.array([0, 1, 2, 1]), ["a", "b", "c"], [f"x{i}" for i in range(4)],
                sample_rate=8000, groups=["p", "q", "p", "q"])
    out = augment_set(s, copies=2, seed=3)
    assert len(out) == 12 and out.labels.tolist() == [0, 1, 2, 1] * 3
    assert out.groups == s.groups * 3 and out.sources[5] == "x1#aug1"
    assert all(out.items[i] is s.items[i] for i in range(4))  # originals untouched
    again = augment_set(s, copies=2, seed=3)
    assert all(np.array_equal(x, y) for x, y in zip(out.items, again.items))


def test_augmented_data_set_caches_and_leaves_test_alone(tmp_path):
    spec = [{"name": "espeak", "options": {"voices": ["en", "en-us"], "rates": [175], "pitches": [50],
                                           "words": ["one", "two"], "split": "all"}}]
    first = load_augmented(spec, copies=1, split="train", cache_dir=tmp_path)
    assert len(first) == 8 and len(list(tmp_path.glob("augmented-*.npz"))) == 1
    second = load_augmented(spec, copies=1, split="train", cache_dir=tmp_path)
    assert len(list(tmp_path.glob("augmented-*.npz"))) == 1  # read back, not made again
    assert all(np.array_equal(x, y) for x, y in zip(first.items[4:], second.items[4:]))
    assert len(load_augmented(spec, copies=1, split="test", cache_dir=tmp_path)) == 4
