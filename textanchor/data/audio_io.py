"""Reading audio files into mono float32 waves, and the two conversions every audio path needs.

Decoding tries soundfile first (libsndfile: every WAV flavour, FLAC, OGG Vorbis/Opus, MP3; fast
and exact), then PyAV (FFmpeg) for what phones and browsers record in other containers: M4A/AAC
voice memos, WebM/Opus from MediaRecorder, MP4/MOV/3GP sound tracks. torchaudio 2.9 no longer
decodes files; resampling goes through its `Resample`. The app's microphone input uses `to_mono`
and `resample` too, so every wave reaching an encoder went through the same conversions.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import soundfile as sf

from .base import DataError

# What a user may hand us, for error messages and for telling audio files by name.
ACCEPTED_FORMATS = ("WAV (8-bit unsigned, 16/24/32-bit, float, A-law, mu-law), FLAC, MP3, OGG Vorbis, "
                    "OGG/WebM Opus, M4A/AAC, MP4/MOV/3GP sound, AIFF, AMR")
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".webm", ".weba", ".m4a",
                    ".aac", ".mp4", ".mov", ".3gp", ".aiff", ".aif", ".amr")


class AudioTooLong(DataError):
    """A file longer than the caller allows, found from its header (or while decoding)."""


class EmptyAudio(DataError):
    """A readable audio file that holds no samples (a recording stopped at once)."""


def to_mono(wave: np.ndarray) -> np.ndarray:
    """Average the channels of a wave into one float32 channel (the loudest channel alone when
    the channels cancel in the average: opposite polarity).

    Integer input (e.g. int16 from a microphone) is scaled to [-1, 1) by its dtype's range, so
    callers never have to know which format a recorder produced; unsigned integers (8-bit WAV's
    uint8) lose their mid-scale offset first, or a silent 8-bit recording would read as +1 DC.

    Args:
        wave: (T,), (T, C) or (C, T) samples, float or integer; the shorter axis of a 2-D array
            is taken as the channels.

    Returns:
        (T,) float32.
    """
    wave = np.asarray(wave)
    if np.issubdtype(wave.dtype, np.unsignedinteger):
        half = float(np.iinfo(wave.dtype).max // 2 + 1)  # 128 for uint8
        wave = (wave.astype(np.float64) - half) / half
    elif np.issubdtype(wave.dtype, np.integer):
        wave = wave.astype(np.float64) / -float(np.iinfo(wave.dtype).min)  # int16: / 32768
    elif wave.dtype == np.bool_:
        raise ValueError("expected audio samples, got a boolean array")
    if wave.ndim == 2:
        if 0 in wave.shape:  # no samples (or no channels): nothing to mix
            return np.zeros(0, np.float32)
        if wave.shape[0] < wave.shape[1]:
            # Channels first ((C, T): torchaudio's and librosa's layout): a recording has more
            # samples than channels, so the shorter axis is the channels. Averaging the long axis
            # gave a few samples and a confident wrong answer.
            wave = wave.T
        mix = wave.mean(axis=1)  # (T, C) -> (T,)
        power = (wave.astype(np.float64) ** 2).mean(0)  # (C,)
        # Channels in opposite polarity (one microphone wired inverted, a "wide" effect) cancel in
        # the mix: a word heard on both reads as silence. Correlated channels mix at their own
        # power and unrelated ones at half of it, so a mix 10 dB under them can only be that:
        # the loudest channel alone is then the recording.
        if wave.shape[1] > 1 and np.mean(mix.astype(np.float64) ** 2) < 0.1 * power.mean():
            mix = wave[:, int(power.argmax())]
        wave = mix
    elif wave.ndim != 1:
        raise ValueError(f"expected a (T,) or (T, C) wave, got shape {wave.shape}")
    return np.ascontiguousarray(wave, dtype=np.float32)


ACTIVE_LEVEL = 0.1  # RMS of the loudest frames after `normalize_level`


def normalize_level(wave: np.ndarray, frame: int = 256, active: float = ACTIVE_LEVEL) -> np.ndarray:
    """Remove the DC offset and scale so the loudest tenth of the frames has RMS `active`.

    Used before every feature and before voice detection, at training and at inference alike,
    so a whisper, a shout, an 8-bit recording's offset or a DC-coupled microphone all look the
    same. The loudest frames set the level (not the peak, which a click would set, nor the mean
    RMS, which leading silence would lower).

    Args:
        wave: (T,) float samples. frame: samples per RMS frame. active: target RMS.

    Returns:
        (T,) float32; all zeros stays all zeros.
    """
    w = np.asarray(wave, dtype=np.float32)
    if len(w) == 0:
        return w.copy()
    w = w - np.float32(w.mean())
    n = max(1, len(w) // frame)
    rms = np.sqrt((w[: n * frame].reshape(n, -1) ** 2).mean(1)) if len(w) >= frame else np.sqrt([np.mean(w ** 2)])
    loud = float(np.quantile(rms, 0.9))
    return (w * np.float32(active / loud)).astype(np.float32) if loud > 1e-9 else np.zeros_like(w)


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
    if len(wave) == 0:  # torchaudio cannot reshape zero samples; nothing is nothing at any rate
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


def read_many(paths, sample_rate: int) -> list[np.ndarray]:
    """Decode files and bring them to one rate, one batched resampling per source rate.

    Args:
        paths: audio files (any format `read_audio` takes), possibly at different rates.
        sample_rate: the wanted rate in Hz.

    Returns:
        (T_i,) float32 mono waves at `sample_rate`, in the order of `paths`.

    Raises:
        DataError: a file is missing or not audio (see `read_audio`).
    """
    decoded = [read_audio(p) for p in paths]  # at each file's own rate
    out: list = [None] * len(decoded)
    for sr in {sr for _, sr in decoded}:
        idx = [i for i, (_, s) in enumerate(decoded) if s == sr]
        for i, w in zip(idx, resample_many([decoded[i][0] for i in idx], sr, sample_rate)):
            out[i] = w
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


def audio_duration(path) -> float | None:
    """Seconds of audio a file claims in its header, without decoding it.

    Returns:
        The duration, or None when neither soundfile nor the container says (a browser's
        WebM from MediaRecorder often carries none; `read_audio` then counts while decoding).
    """
    try:
        info = sf.info(str(path))
        if info.samplerate > 0 and info.frames > 0:
            return info.frames / info.samplerate
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass
    try:
        import av

        with av.open(str(path)) as box:
            stream = next((s for s in box.streams if s.type == "audio"), None)
            if stream is not None and stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
            if box.duration:
                return box.duration / 1_000_000  # av.time_base: microseconds
    except Exception:  # noqa: BLE001 - undecodable: read_audio raises the clear error
        return None
    return None


def _decode_av(path: Path, max_seconds: float | None) -> tuple[np.ndarray, int]:
    """Decode the first audio stream of any FFmpeg container as (T, C) float32 and its rate."""
    import av

    try:
        box = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise _not_audio(path, exc) from None
    with box:
        stream = next((s for s in box.streams if s.type == "audio"), None)
        if stream is None:
            raise DataError(f"{path.name} holds no audio stream; accepted: {ACCEPTED_FORMATS}")
        # Planar float keeps each channel apart whatever the codec's own sample format.
        planes, sr, n = [], int(stream.rate or 0), 0
        resampler = av.AudioResampler(format="fltp")
        try:
            for frame in box.decode(stream):
                for out in resampler.resample(frame):
                    a = out.to_ndarray()  # (C, n)
                    planes.append(a)
                    n += a.shape[1]
                    sr = out.sample_rate
                if max_seconds is not None and sr and n > max_seconds * sr:
                    raise AudioTooLong(f"{path.name} is longer than {max_seconds:g} s")
        except av.FFmpegError as exc:
            if not planes:
                raise _not_audio(path, exc) from None
            # A truncated upload: keep what decoded, as players do.
    if not planes or sr <= 0:
        raise EmptyAudio(f"audio file holds no samples: {path}")
    return np.concatenate(planes, axis=1).T.astype(np.float32), sr  # (T, C)


def _not_audio(path: Path, exc: Exception) -> DataError:
    # PyAV's errors read "[Errno 1094995529] Invalid data found ...: '<path>'": keep the words.
    why = getattr(exc, "strerror", None) or str(exc)
    return DataError(f"cannot decode {path} as audio ({str(why)[:120]}); accepted: {ACCEPTED_FORMATS}")


def read_audio(path, sample_rate: int | None = None, max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """Decode one audio file into a mono float32 wave.

    Args:
        path: any file in ACCEPTED_FORMATS (soundfile first, then PyAV/FFmpeg).
        sample_rate: resample to this rate in Hz; None keeps the file's rate.
        max_seconds: refuse longer files, from the header before decoding when it says.

    Returns:
        (wave, sr): wave is (T,) float32 in [-1, 1], sr its rate in Hz.

    Raises:
        AudioTooLong: longer than max_seconds.
        DataError: the file is missing, empty, not audio (the message lists what is accepted),
            or holds no samples.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"audio file not found: {path}")
    if path.stat().st_size == 0:
        raise DataError(f"audio file is empty (0 bytes): {path}; re-download or remove it")
    if max_seconds is not None:
        seconds = audio_duration(path)
        if seconds is not None and seconds > max_seconds:
            raise AudioTooLong(f"{path.name} lasts {seconds:.0f} s, longer than {max_seconds:g} s")
    try:
        wave, sr = sf.read(str(path), dtype="float32", always_2d=True)  # (T, C)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        wave, sr = _decode_av(path, max_seconds)
    if wave.shape[0] == 0:
        raise EmptyAudio(f"audio file holds no samples: {path}")
    wave = to_mono(wave)
    if sample_rate is not None and sample_rate != sr:
        wave, sr = resample(wave, sr, sample_rate), int(sample_rate)
    return wave, int(sr)
