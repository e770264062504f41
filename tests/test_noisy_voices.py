"""Steady room noise: the generators, the noisy recordings of the bench, the per-step training
noise over the whole window, and the one rule for long recordings. Small seeded inputs only."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import spoken_word
from textanchor.data.noise import KINDS, active_power, add_noise, make_noise
from textanchor.modalities.audio import AudioModality, speech_part
from textanchor.noisy_voices import noisy_recording

SR = 16000


def _pool():
    rng = np.random.default_rng(3)
    return [(np.sin(np.arange(4000) * rng.uniform(0.02, 0.2)) * rng.uniform(0.1, 1)).astype(np.float32)
            for _ in range(5)]


@pytest.mark.parametrize("kind", KINDS)
def test_every_noise_is_unit_rms_finite_and_seeded(kind):
    a = make_noise(kind, 12345, SR, np.random.default_rng(0), _pool())
    b = make_noise(kind, 12345, SR, np.random.default_rng(0), _pool())
    c = make_noise(kind, 12345, SR, np.random.default_rng(1), _pool())
    assert a.shape == (12345,) and a.dtype == np.float32 and np.isfinite(a).all()
    assert abs(np.sqrt(np.mean(a.astype(np.float64) ** 2)) - 1) < 1e-3
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_noise_colours_and_hum_have_their_spectra():
    def low_share(x):  # share of power under 300 Hz
        p = np.abs(np.fft.rfft(x)) ** 2
        return p[: int(300 * len(x) / SR)].sum() / p.sum()

    rng = np.random.default_rng(0)
    white, pink, brown = (make_noise(k, SR, SR, rng) for k in ("white", "pink", "brown"))
    assert low_share(white) < 0.1 < low_share(pink) < low_share(brown)
    h = make_noise("hum", 2 * SR, SR, rng)
    peak_hz = np.argmax(np.abs(np.fft.rfft(h))) / 2
    assert min(peak_hz % 50, peak_hz % 60) < 1 and peak_hz < 1000  # a multiple of the mains frequency


def test_unknown_kind_and_babble_without_pool_are_refused():
    with pytest.raises(ValueError, match="kinds: white"):
        make_noise("rain", 100, SR, np.random.default_rng(0))
    with pytest.raises(ValueError, match="pool"):
        make_noise("babble", 100, SR, np.random.default_rng(0))


@pytest.mark.parametrize("snr", [20, 5])
def test_noisy_recording_has_room_around_the_word_and_the_asked_snr(snr):
    word = spoken_word("four", SR)
    rec = noisy_recording(word, SR, "pink", snr, np.random.default_rng(0))
    extra = (len(rec) - len(word)) / SR
    assert 0.6 <= extra <= 1.8  # 0.3-1.0 s before, 0.3-0.8 s after
    head = rec[: int(0.25 * SR)]  # before the word: noise only
    measured = 10 * np.log10(active_power(word, SR) / np.mean(head.astype(np.float64) ** 2))
    assert abs(measured - snr) < 1.5
    np.testing.assert_array_equal(rec, noisy_recording(word, SR, "pink", snr, np.random.default_rng(0)))


def test_add_noise_scales_to_the_snr():
    x = np.ones(1000, np.float32)
    y = add_noise(x, np.ones(1000, np.float32), 20, 1.0)
    np.testing.assert_allclose(y - x, 0.1, rtol=1e-5)


def test_training_noise_covers_the_whole_window_and_is_seeded():
    m = AudioModality(noise_prob=1.0, max_shift_s=0.0)
    n = m.input_shape()[0]
    x = torch.zeros(16, n)
    x[:, n // 3: 2 * n // 3] = torch.sin(torch.arange(n // 3 - (n // 3) % 1) * 0.3)[: 2 * n // 3 - n // 3] * 0.1
    a = m.augment(x, torch.Generator().manual_seed(0))
    b = m.augment(x, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and torch.isfinite(a).all() and torch.equal(a, b)
    pad = a[:, : n // 4]  # the zero padding before the word
    assert (pad.pow(2).mean(1) > 0).all()  # noise there too, as a microphone records it
    snr = 10 * torch.log10((a[:, n // 3: 2 * n // 3] ** 2).mean(1) / (pad ** 2).mean(1))
    assert snr.min() > -3 and snr.max() < 40  # 0-30 dB against the word, gain applied to both
    clean = AudioModality(noise_prob=0.0, max_shift_s=0.0).augment(x, torch.Generator().manual_seed(0))
    assert (clean[:, : n // 4] == 0).all()


def test_white_noise_option_and_unknown_noise():
    x = torch.randn(4, 9600) * 0.1
    assert torch.isfinite(AudioModality(noise="white").augment(x, torch.Generator().manual_seed(0))).all()
    with pytest.raises(ValueError, match="room"):
        AudioModality(noise="rain").augment(x, torch.Generator().manual_seed(0))


def test_long_recordings_are_cut_to_the_word_and_short_ones_kept_whole():
    word = spoken_word("six", SR)
    short = np.concatenate([np.zeros(SR // 2, np.float32), word])
    assert speech_part(short, SR, 1.2) is short  # fits the window: no detector run
    rng = np.random.default_rng(0)
    long = (0.003 * rng.standard_normal(6 * SR)).astype(np.float32)
    long[4 * SR: 4 * SR + len(word)] += word
    cut = speech_part(long, SR, 1.2)
    assert len(cut) < 3 * SR
    assert np.abs(cut).max() == pytest.approx(np.abs(long[4 * SR: 4 * SR + len(word)]).max())
    hiss = (0.01 * rng.standard_normal(4 * SR)).astype(np.float32)
    assert speech_part(hiss, SR, 1.2) is hiss  # no speech: kept (refusing is the caller's choice)
    # the same rule wherever the wave comes from: prepare gives the cut and the long file alike
    m = AudioModality()
    np.testing.assert_allclose(m.prepare([long], SR).numpy(), m.prepare([cut], SR).numpy(), atol=1e-6)


@pytest.mark.parametrize("b", [1, 2, 3])
def test_training_noise_on_tiny_batches(b):
    """Batches where some noise kinds get no rows (an empty FFT once crashed a training run)."""
    m = AudioModality(noise_prob=1.0)
    for seed in range(8):
        out = m.augment(torch.randn(b, 9600) * 0.1, torch.Generator().manual_seed(seed))
        assert out.shape == (b, 9600) and torch.isfinite(out).all()
