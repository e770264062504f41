"""Steady background noises of the places people record in, and laying them under a recording.

Used by the noisy-voices bench (`textanchor.noisy_voices`: noise over a whole simulated recording,
before, under and after the word) and for hiss by the data-set augmentation (`augment_audio`).
Training's per-step room noise draws the same kinds in torch on the whole batch
(`textanchor.modalities.audio_augment`): a few ms a step, with babble from the batch itself
rather than a pool of clips. Kinds:

  white, pink, brown  hiss whose power falls as 1/f**0, 1/f, 1/f**2: phone and preamp hiss,
                      air conditioning and fans, traffic and wind rumble
  hum                 mains hum at 50 or 60 Hz with its harmonics (a buzzing cable or fridge)
  babble              several other talkers at once (a cafe or an open office); needs a pool of
                      speech clips, which callers take from training speakers only

Every generator returns unit-RMS noise, so a caller sets the level by the SNR alone.
"""
from __future__ import annotations

import numpy as np

KINDS = ("white", "pink", "brown", "hum", "babble")
SLOPES = {"white": 0.0, "pink": 1.0, "brown": 2.0}


def colored_noise(n: int, slope: float, rng: np.random.Generator) -> np.ndarray:
    """(n,) unit-RMS noise whose power falls as 1 / f**slope (0 white, 1 pink, 2 brown)."""
    spec = np.fft.rfft(rng.standard_normal(max(n, 2)))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spec / f ** (slope / 2), max(n, 2))[:n]
    return (x / (np.sqrt(np.mean(x ** 2)) + 1e-12)).astype(np.float32)


def hum(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) unit-RMS mains hum: 50 or 60 Hz and harmonics up to ~1 kHz, each at a random
    level (1/k falling, odd ones stronger as in a transformer's buzz) and phase, with a
    slight slow wobble in level; a little hiss under it, as no real line is pure."""
    f0 = float(rng.choice((50.0, 60.0))) * rng.uniform(0.995, 1.005)
    t = np.arange(n) / sr
    x = np.zeros(n)
    for k in range(1, int(min(1000, 0.45 * sr) // f0) + 1):
        amp = rng.uniform(0.3, 1.0) / k * (1.5 if k % 2 else 1.0)
        x += amp * np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 2 * np.pi))
    x *= 1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.2, 2.0) * t)
    x = x / (np.sqrt(np.mean(x ** 2)) + 1e-12)
    return ((x + 0.05 * colored_noise(n, 0.0, rng)) / np.sqrt(1.0025)).astype(np.float32)


def babble(n: int, pool, rng: np.random.Generator, talkers: tuple[int, int] = (4, 8)) -> np.ndarray:
    """(n,) unit-RMS babble: a random number of talkers, each a stream of random clips from
    `pool` laid end to end from a random starting point, all at one level.

    Args:
        pool: (T_i,) speech clips at the wanted rate (training speakers only: the bench must
            not hear its own held-out voices in the noise).
    Raises:
        ValueError: `pool` is empty.
    """
    if len(pool) == 0:
        raise ValueError("babble needs a pool of speech clips")
    x = np.zeros(n)
    for _ in range(int(rng.integers(talkers[0], talkers[1] + 1))):
        parts, total = [], 0
        while total < n + 1:
            c = np.asarray(pool[int(rng.integers(len(pool)))], np.float64)
            c = c / (np.sqrt(np.mean(c ** 2)) + 1e-12)
            parts.append(c)
            total += len(c)
        s = np.concatenate(parts)
        start = int(rng.integers(0, len(s) - n + 1))
        x += s[start: start + n]
    return (x / (np.sqrt(np.mean(x ** 2)) + 1e-12)).astype(np.float32)


def make_noise(kind: str, n: int, sr: int, rng: np.random.Generator, pool=None) -> np.ndarray:
    """(n,) unit-RMS noise of one of KINDS.

    Raises:
        ValueError: an unknown kind, or babble without a pool.
    """
    if kind in SLOPES:
        return colored_noise(n, SLOPES[kind], rng)
    if kind == "hum":
        return hum(n, sr, rng)
    if kind == "babble":
        return babble(n, pool if pool is not None else [], rng)
    raise ValueError(f"unknown noise kind {kind!r}; kinds: {', '.join(KINDS)}")


def active_power(wave: np.ndarray, sr: int, rel_db: float = -30.0, frame_s: float = 0.02) -> float:
    """Mean power of a recording's frames within `rel_db` of its loudest frame: the level of
    the spoken word, whatever silence surrounds it (the reference of an SNR)."""
    w = np.asarray(wave, np.float64)
    hop = max(1, int(sr * frame_s))
    n = len(w) // hop
    if n < 1:
        return float(np.mean(w ** 2)) if len(w) else 0.0
    p = (w[: n * hop].reshape(n, hop) ** 2).mean(1)
    return float(p[p >= p.max() * 10 ** (rel_db / 10)].mean())


def add_noise(wave: np.ndarray, noise: np.ndarray, snr_db: float, speech_power: float) -> np.ndarray:
    """`wave` + `noise` (unit RMS, same length) scaled to `snr_db` below `speech_power`."""
    return (np.asarray(wave, np.float32)
            + np.asarray(noise, np.float32) * np.float32(np.sqrt(speech_power / 10 ** (snr_db / 10)))).astype(np.float32)
