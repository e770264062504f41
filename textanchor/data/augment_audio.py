"""Augmented copies of training speech: other rooms, microphones, levels and voices.

The `augmented` data set wraps other audio data sets and adds `copies` altered versions of each
training clip, made once with torchaudio's functional ops and cached on disk (the cache key is
the clips' sources, the settings and the seed; the first default run spends ~1 min making them, later runs
read them in seconds). One copy of one clip goes through, each with its own probability:

  speed perturbation  resampling by 0.85-1.15: tempo, pitch and formants move together, like a
                      shorter or longer vocal tract (Ko et al. 2015, "Audio augmentation for
                      speech recognition"; Kaldi's 3-way speed perturbation)
  reverberation       a synthetic room response, exponentially decaying noise with RT60 0.1-0.6 s
  band limit and EQ   high-pass 60-500 Hz, low-pass 1.8-3.8 kHz (telephone and laptop mics),
                      1-2 peaking filters of +-12 dB
  background noise    white to brown noise (spectral slope 0-2) at 0-30 dB SNR
  gain and clipping   any level, sometimes driven into full-scale clipping

Time shift, gain and room noise over the whole window are drawn afresh each step
(`AudioModality.augment`, `modalities/audio_augment.py`) and
SpecAugment masks the log-mel while training (`LogMel`); those cost little to redo.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .audio_io import resample
from .noise import colored_noise
from .base import ItemSet
from .combine import concat, load_spec
from .datasets import DATASETS

SPEEDS = (0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15)  # a few factors: one cached resampler each
VERSION = 1  # bump when `augment_wave` changes, so caches are rebuilt


def augment_wave(wave: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """One randomly altered copy of a clip (see the module docstring for the chain).

    Args:
        wave: (T,) float32 mono clip. sr: its rate in Hz. rng: the source of every choice.

    Returns:
        (T',) float32, finite, within [-1, 1]; T' differs from T after speed perturbation or
        reverberation.
    """
    import torch
    import torchaudio.functional as AF

    w = np.asarray(wave, np.float32)
    if rng.random() < 0.8:
        speed = float(rng.choice(SPEEDS))
        w = resample(w, int(round(sr * speed)), sr)  # played `speed` times faster
    x = torch.from_numpy(np.ascontiguousarray(w))[None]  # (1, T)
    if rng.random() < 0.5:
        rt60 = rng.uniform(0.1, 0.6)
        t = np.arange(int(rt60 * sr)) / sr
        rir = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
        rir[0] = 1.0 / rng.uniform(0.3, 1.0)  # the direct sound, stronger in a small room
        rir = torch.from_numpy((rir / np.sqrt(np.sum(rir ** 2))).astype(np.float32))[None]
        x = AF.fftconvolve(x, rir)[:, : x.shape[1] + int(0.2 * sr)]
    if rng.random() < 0.7:
        x = AF.highpass_biquad(x, sr, float(rng.uniform(60, 500)))
        x = AF.lowpass_biquad(x, sr, float(min(rng.uniform(1800, 3800), 0.45 * sr)))
        for _ in range(int(rng.integers(1, 3))):
            x = AF.equalizer_biquad(x, sr, float(rng.uniform(200, 0.4 * sr)), float(rng.uniform(-12, 12)),
                                    float(rng.uniform(0.7, 2.0)))
    w = x[0].numpy().astype(np.float32)
    if rng.random() < 0.6:
        snr_db = rng.uniform(0, 30)
        power = float(np.mean(w ** 2)) + 1e-10
        w = w + colored_noise(len(w), rng.uniform(0, 2), rng) * np.float32(np.sqrt(power / 10 ** (snr_db / 10)))
    peak = float(np.abs(w).max()) + 1e-9
    if rng.random() < 0.1:  # a microphone driven into clipping
        w = np.clip(w * np.float32(rng.uniform(1.2, 3.0) / peak), -1, 1)
    else:
        w = w * np.float32(10 ** (rng.uniform(-30, 0) / 20) / peak)
    return np.nan_to_num(w).astype(np.float32)


def augment_set(s: ItemSet, copies: int, seed: int = 0) -> ItemSet:
    """`s` followed by `copies` augmented versions of each item (same labels and groups).

    Item i's copy c is drawn from np.random.default_rng([seed, c, i]): the same data and seed
    give the same copies, in any process.
    """
    extra = [augment_wave(s.items[i], s.sample_rate, np.random.default_rng([seed, c, i]))
             for c in range(copies) for i in range(len(s))]
    return _with_copies(s, extra, copies)


def _with_copies(s: ItemSet, extra: list, copies: int) -> ItemSet:
    """`s` then `extra` (copy-major: all of copy 1, then copy 2, ...), labels repeated."""
    out = s.subset(np.tile(np.arange(len(s)), copies + 1))
    out.items = list(s.items) + list(extra)
    out.sources = [src if k < len(s) else f"{src}#aug{k // len(s)}" for k, src in enumerate(out.sources)]
    return out


def _cache_key(s: ItemSet, copies: int, seed: int) -> str:
    """Named by the clips' sources (file paths, "espeak:voice:rate:pitch:word") and settings, not
    their samples: eSpeak NG's output differs by a few samples from call to call, which would
    make every run miss the cache. Replacing a file under the same name needs the cache cleared."""
    return hashlib.sha1(json.dumps([VERSION, copies, seed, s.sample_rate, s.sources]).encode()).hexdigest()[:16]


def default_cache_dir() -> Path:
    return Path(os.environ.get("TEXTANCHOR_CACHE", Path.home() / ".cache" / "textanchor")) / "augmented-audio"


@DATASETS.register("augmented")
def load_augmented(data: list, copies: int = 2, split: str = "train", seed: int = 0,
                   sample_rate: int = 8000, data_root: str | None = None, cache_dir=None) -> ItemSet:
    """Other audio data sets, pooled, plus `copies` augmented versions of every training clip.

    Args:
        data: data set specs, [{"name": "fsdd", "options": {...}}, ...].
        copies: augmented versions per clip (0: just the pooled originals).
        split: "train" augments; any other split returns the pooled originals untouched.
        seed: seed of every augmentation choice.
        sample_rate: rate in Hz of the loaded and augmented clips.
        data_root: the folder the inner specs' data live in (as for a recipe's own specs).
        cache_dir: where augmented copies are kept; default $TEXTANCHOR_CACHE/augmented-audio
            (~/.cache/textanchor/augmented-audio). The cache is checked against the clips.

    Returns:
        ItemSet whose first len(originals) items are the originals; copies' sources end in
        "#aug<k>".
    """
    sets = [load_spec(d["name"], dict(d.get("options", {})), split, data_root, sample_rate) for d in data]
    pooled = concat(sets)
    if split != "train" or copies <= 0:
        return pooled
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / f"augmented-{_cache_key(pooled, copies, seed)}.npz"
    if path.is_file():
        with np.load(path) as z:
            extra = np.split(z["waves"], z["offsets"][1:-1])
        return _with_copies(pooled, extra, copies)
    out = augment_set(pooled, copies, seed)
    extra = out.items[len(pooled):]
    folder.mkdir(parents=True, exist_ok=True)
    # Renamed when complete (no half-written cache); per process, so two runs may race safely.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, waves=np.concatenate(extra), offsets=np.cumsum([0] + [len(x) for x in extra]))
    os.replace(tmp, path)
    return out
