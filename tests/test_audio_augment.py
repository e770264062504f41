"""Augmented copies: right shapes, finite, bounded, and the seed decides them."""
from __future__ import annotations

import numpy as np

from textanchor.data.augment_audio import _cache_key, augment_set, augment_wave, babble_copy, devoiced_onset, load_augmented
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


def _word(sr=8000, lead_s=0.1):
    """Silence, then a 0.4 s voiced 'word' (a 150 Hz buzz of harmonics: all below 1.5 kHz)."""
    t = np.arange(int(0.4 * sr)) / sr
    buzz = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6)) * np.hanning(len(t)) ** 0.2
    return np.concatenate([np.zeros(int(lead_s * sr)), 0.3 * buzz]).astype(np.float32)


def _low_share(x, sr, hz=800):
    """Share of x's power below `hz`."""
    p = np.abs(np.fft.rfft(x)) ** 2
    return p[np.fft.rfftfreq(len(x), 1 / sr) < hz].sum() / p.sum()


def test_devoiced_onset_puts_voiceless_hiss_before_the_word_and_keeps_the_rest():
    sr, lead = 8000, 800
    w = _word(sr)
    for seed in range(5):
        out = devoiced_onset(w, sr, np.random.default_rng(seed))
        added = len(out) - len(w)
        assert 0.05 * sr - 80 <= added <= 0.2 * sr  # 50-200 ms inserted (10 ms overlap the word)
        np.testing.assert_array_equal(out[:lead], w[:lead])  # the silence before is untouched
        hiss = out[lead: lead + added - 80]
        assert np.sqrt(np.mean(hiss ** 2)) > 1e-3 and _low_share(hiss, sr) < 0.05  # audible and voiceless
        # the word after its first 70 ms (devoiced part and fade) is the original, moved later
        k = lead + int(0.07 * sr)
        np.testing.assert_allclose(out[k + added:], w[k:], atol=1e-6)
        assert _low_share(w[lead:], sr) > 0.5  # (the word itself is voiced)
    again = devoiced_onset(w, sr, np.random.default_rng(0))
    np.testing.assert_array_equal(again, devoiced_onset(w, sr, np.random.default_rng(0)))
    assert len(devoiced_onset(np.zeros(5, np.float32), sr, np.random.default_rng(0))) == 5


def test_devoiced_onset_is_off_unless_asked_and_changes_the_cache_only_when_on():
    w = _word()
    np.testing.assert_array_equal(augment_wave(w, 8000, np.random.default_rng(1)),
                                  augment_wave(w, 8000, np.random.default_rng(1), 0.0))
    longer = [len(augment_wave(w, 8000, np.random.default_rng(i), 1.0)) - len(augment_wave(w, 8000, np.random.default_rng(i)))
              for i in range(4)]
    assert any(d != 0 for d in longer)
    s = ItemSet("audio", [w], np.array([0]), ["a"], ["x0"], sample_rate=8000)
    assert _cache_key(s, 1, 0) == _cache_key(s, 1, 0, 0.0) != _cache_key(s, 1, 0, 0.3)


def test_babble_copy_puts_other_talkers_around_and_over_the_word():
    from textanchor.data.noise import active_power

    sr, w = 8000, _word(lead_s=0.0)
    talkers = [0.2 * np.sin(np.arange(4000) * f).astype(np.float32) for f in (0.21, 0.33, 0.47, 0.6, 0.75)]
    for seed in range(4):
        out = babble_copy(w, sr, np.random.default_rng(seed), talkers)
        extra = len(out) - len(w)
        assert 0.4 * sr <= extra <= 1.2 * sr and np.isfinite(out).all() and np.abs(out).max() <= 1
        assert np.mean(out[: int(0.2 * sr)] ** 2) > 0  # room before the word holds the talkers
        noise = np.concatenate([out[: int(0.2 * sr)], out[-int(0.2 * sr):]])
        snr = 10 * np.log10(active_power(w, sr) / np.mean(noise ** 2))
        assert -1 <= snr <= 21, snr  # 0-20 dB below the word
    np.testing.assert_array_equal(babble_copy(w, sr, np.random.default_rng(0), talkers),
                                  babble_copy(w, sr, np.random.default_rng(0), talkers))


def test_babble_is_off_unless_asked_and_changes_the_cache_only_when_on(tmp_path):
    w = _word()
    np.testing.assert_array_equal(augment_wave(w, 8000, np.random.default_rng(1)),
                                  augment_wave(w, 8000, np.random.default_rng(1), 0.0, 0.0, None))
    s = ItemSet("audio", [w], np.array([0]), ["a"], ["x0"], sample_rate=8000)
    assert _cache_key(s, 1, 0) == _cache_key(s, 1, 0, 0.0, 0.0) != _cache_key(s, 1, 0, 0.0, 0.5, ["t"])
    assert _cache_key(s, 1, 0, 0.0, 0.5, ["t"]) != _cache_key(s, 1, 0, 0.0, 0.5, ["u"])  # other talkers
    spec = [{"name": "espeak", "options": {"voices": ["en"], "rates": [175], "pitches": [50],
                                           "words": ["one", "two"], "split": "all"}}]
    talkers = [{"name": "espeak", "options": {"voices": ["en-us"], "rates": [175], "pitches": [50],
                                              "words": ["three", "four", "five"], "split": "all"}}]
    plain = load_augmented(spec, copies=2, cache_dir=tmp_path)
    noisy = load_augmented(spec, copies=2, cache_dir=tmp_path, babble=1.0, babble_data=talkers)
    assert len(noisy) == len(plain) == 6 and len(list(tmp_path.glob("augmented-*.npz"))) == 2
    assert all(len(b) > len(a) for a, b in zip(plain.items[2:], noisy.items[2:]))  # room around each word
