"""Reading audio files into mono float32 waves, and the two conversions every audio path needs.

Decoding goes through soundfile (libsndfile: WAV, FLAC, OGG, and MP3 in recent builds) because
torchaudio 2.9 no longer decodes files; resampling goes through torchaudio's `Resample`.
The app's microphone input uses `to_mono` and `resample` too, so every wave reaching an encoder
went through the same conversions.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import soundfile as sf

from .base import DataError


def to_mono(wave: np.ndarray) -> np.ndarray:
    """Average the channels of a wave into one float32 channel.

    Integer input (e.g. int16 from a microphone) is scaled to [-1, 1] by its dtype's range, so
    callers never have to know which format a recorder produced.

    Args:
        wave: (T,) or channels-last (T, C) samples, float or integer.

    Returns:
        (T,) float32.
    """
    wave = np.asarray(wave)
    if np.issubdtype(wave.dtype, np.integer):
        wave = wave.astype(np.float32) / float(np.iinfo(wave.dtype).max)
    if wave.ndim == 2:
        wave = wave.mean(axis=1)  # (T, C) -> (T,)
    elif wave.ndim != 1:
        raise ValueError(f"expected a (T,) or (T, C) wave, got shape {wave.shape}")
    return np.ascontiguousarray(wave, dtype=np.float32)


def resample(wave: np.ndarray, sr: int, target: int) -> np.ndarray:
    """Resample a wave with torchaudio's windowed-sinc resampler.

    Args:
        wave: (T,) or channels-last (T, C) float samples.
        sr: the rate of `wave` in Hz.
        target: the wanted rate in Hz.

    Returns:
        float32 array of the same layout at `target` Hz (the input itself when the rates agree).
    """
    wave = np.asarray(wave, dtype=np.float32)
    if int(sr) == int(target):
        return wave
    import torch

    x = torch.from_numpy(np.ascontiguousarray(wave.T))  # resample works on the last axis: (C, T)
    with torch.no_grad():
        y = _resampler(int(sr), int(target))(x)
    return np.ascontiguousarray(y.numpy().T, dtype=np.float32)


def resample_many(waves, sr: int, target: int, batch: int = 64) -> list[np.ndarray]:
    """Resample many mono waves, a zero-padded batch per kernel call.

    Same output as calling `resample` on each wave (the kernel is local, and torchaudio pads
    with zeros too), but one convolution per `batch` clips: torch's per-call and per-thread
    overhead made one-clip-at-a-time loading ~30x slower on a busy 2-core machine.

    Args:
        waves: (T_i,) float arrays, all at rate `sr`.
        sr: their rate in Hz.
        target: the wanted rate in Hz.
        batch: clips per convolution (memory is batch x the longest clip).

    Returns:
        A list of (ceil(T_i * target / sr),) float32 arrays, in the input order.
    """
    waves = [np.asarray(w, dtype=np.float32) for w in waves]
    if int(sr) == int(target) or not waves:
        return waves
    import torch

    out: list = [None] * len(waves)
    order = np.argsort([len(w) for w in waves], kind="stable")  # similar lengths: less padding
    for start in range(0, len(order), batch):
        idx = order[start:start + batch]
        x = np.zeros((len(idx), max(len(waves[i]) for i in idx)), np.float32)  # (B, T_max)
        for row, i in enumerate(idx):
            x[row, : len(waves[i])] = waves[i]
        with torch.no_grad():
            y = _resampler(int(sr), int(target))(torch.from_numpy(x)).numpy()  # (B, T_max')
        for row, i in enumerate(idx):
            out[i] = y[row, : -(-len(waves[i]) * int(target) // int(sr))].copy()
    return out


@functools.lru_cache(maxsize=16)
def _resampler(sr: int, target: int):
    """torchaudio's Resample module for one rate pair, built once.

    Building the sinc kernel costs ~15 ms, fifty times more than applying it to a one-second
    clip, so per-call `torchaudio.functional.resample` would dominate loading short clips.
    Imported lazily so image-only users of textanchor.data do not pay torch's import time.
    """
    import torchaudio.transforms as AT

    return AT.Resample(sr, target)


def read_audio(path, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Decode one audio file into a mono float32 wave.

    Args:
        path: any file soundfile can read (WAV, FLAC, OGG, ...).
        sample_rate: resample to this rate in Hz; None keeps the file's rate.

    Returns:
        (wave, sr): wave is (T,) float32 in [-1, 1], sr its rate in Hz.

    Raises:
        DataError: the file is missing, empty, not audio, or holds no samples.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"audio file not found: {path}")
    if path.stat().st_size == 0:
        raise DataError(f"audio file is empty (0 bytes): {path}; re-download or remove it")
    try:
        wave, sr = sf.read(str(path), dtype="float32", always_2d=True)  # (T, C)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise DataError(
            f"cannot decode {path} as audio ({exc}); expected a WAV/FLAC/OGG file"
        ) from None
    if wave.shape[0] == 0:
        raise DataError(f"audio file holds no samples: {path}")
    wave = to_mono(wave)
    if sample_rate is not None and sample_rate != sr:
        wave, sr = resample(wave, sr, sample_rate), int(sample_rate)
    return wave, int(sr)
