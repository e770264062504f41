"""Finding the spoken word in a recording, and refusing recordings that hold none.

The detector is Silero VAD (PyPI `silero-vad`, MIT), whose wheel carries its model; we run the
TorchScript file (`load_silero_vad(onnx=False)`) so it needs nothing beyond torch, which we have
anyway, rather than onnxruntime. It scores 32 ms windows at 16 kHz with a recurrent network
trained on speech against noise, music and silence (Silero Team, 2024, github.com/snakers4/silero-vad).

Before scoring, the wave loses its DC offset and is brought to one active level: Silero missed
72 of 1,613 real digit clips (quiet AudioMNIST and FSDD takes) at their recorded level and 4
after levelling, while hiss, clicks, tones and music stayed below 0.3 (measured on
../shared/data/speech_digits and every fifth FSDD clip).
"""
from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import numpy as np

VAD_RATE = 16000  # Silero's native rate; at 8 kHz it was less sure of short words
WINDOW = 512  # samples per score at VAD_RATE (32 ms), fixed by the model
# Speech when a window scores above this. Silero's default is 0.5, but short 8 kHz words score
# lower: at 0.5 it refused 5 of FSDD's 250 test clips (lowest peaks 0.33, 0.35, 0.38); at 0.3
# none, while the 56 generated no-speech inputs peak at 0.22 (brown hiss, clicks, music).
THRESHOLD = 0.3
HANGOVER = 0.15  # a word continues while its windows stay above THRESHOLD - HANGOVER (Silero's neg_threshold)
MAX_GAP_S = 0.16  # pauses inside one word ("six": the closure before /k/) up to this long
MIN_WORD_S = 0.1  # a shorter run of speech-like windows (a click, a lip smack) is no word of its own
# Context kept on each side of the detected word. Wide enough that the model's window (1.2 s)
# is filled with the recording itself: in a noisy room a tight crop became a box of noise in
# zero padding, which no training clip looked like (held-out speakers, white noise at 10 dB SNR,
# shipped checkpoint: 78% at 0.1 s, 86% at 0.3 s, 91% with the window all context). In a quiet
# room the model's relative trim (`trim_silence`) removes the extra context again.
PAD_S = 0.5
NO_SPEECH = ("No speech heard: the recording holds silence, noise or music but no spoken word. "
             "Say one digit clearly, close to the microphone.")

_lock = threading.Lock()  # the model keeps a recurrent state: one caller at a time


class NoSpeech(ValueError):
    """The recording holds no speech; the message (NO_SPEECH) can be shown to a user."""


@functools.lru_cache(maxsize=1)
def _model():
    import torch

    threads = torch.get_num_threads()
    from silero_vad import load_silero_vad  # its import sets torch to one thread: undo that

    torch.set_num_threads(threads)
    return load_silero_vad(onnx=False)


def speech_probabilities(wave: np.ndarray, sr: int) -> np.ndarray:
    """Silero's speech probability per 32 ms window.

    Args:
        wave: (T,) float mono samples. sr: their rate in Hz (resampled to VAD_RATE).

    Returns:
        (ceil(T' / WINDOW),) float probabilities, T' the length at VAD_RATE.
    """
    import torch

    from .data.audio_io import normalize_level, resample

    w = normalize_level(resample(np.asarray(wave, np.float32), sr, VAD_RATE))
    w = np.pad(w, (0, (-len(w)) % WINDOW))
    x = torch.from_numpy(w)
    model = _model()
    threads = torch.get_num_threads()
    with _lock, torch.no_grad():
        # One thread for these calls (what Silero's own import sets): each scores 512 samples, too
        # little to share, and a second OpenMP thread only adds hand-offs: 0.5-0.9 ms per window
        # on one thread, 8-12 ms on two, on the shared 2-core machine (a 2.5 s clip: 78 windows).
        # torch's setting is per process: other torch work briefly gets one thread too.
        torch.set_num_threads(1)
        try:
            model.reset_states()
            return np.array([float(model(x[i: i + WINDOW], VAD_RATE)) for i in range(0, len(w), WINDOW)])
        finally:
            torch.set_num_threads(threads)


def _runs(probs: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) window of each run of windows above THRESHOLD - HANGOVER, runs joined across
    pauses up to MAX_GAP_S ("six": the closure before /k/), in order."""
    idx = np.flatnonzero(np.asarray(probs) > THRESHOLD - HANGOVER)
    if len(idx) == 0:
        return []
    gap = int(MAX_GAP_S * VAD_RATE / WINDOW)
    cuts = np.flatnonzero(np.diff(idx) > gap + 1)
    return [(int(idx[a]), int(idx[b])) for a, b in zip(np.r_[0, cuts + 1], np.r_[cuts, len(idx) - 1])]


def word_spans(probs: np.ndarray, sr: int) -> list[tuple[int, int]]:
    """Every separate spoken word in Silero's scores, in order: the runs of `_runs` that hold a
    window above THRESHOLD and last MIN_WORD_S or more. Two words said without a longer pause
    between them are one span; a cough may count as a word.

    Args:
        probs: `speech_probabilities` of a wave. sr: the wave's rate in Hz.

    Returns:
        [(start, end)] unpadded sample indices of that wave.
    """
    scale = sr / VAD_RATE
    return [(int(lo * WINDOW * scale), int((hi + 1) * WINDOW * scale)) for lo, hi in _runs(probs)
            if np.max(probs[lo: hi + 1]) > THRESHOLD and (hi + 1 - lo) * WINDOW >= MIN_WORD_S * VAD_RATE]


@dataclass(frozen=True)
class Heard:
    """What the detector heard in a recording, in samples of it."""

    span: tuple[int, int]  # the crop: the clearest word with PAD_S of context, stopping at its neighbours
    word: tuple[int, int]  # that word, unpadded
    words: list  # every separate word (`word_spans`, the clearest among them), in order


def hear(wave: np.ndarray, sr: int) -> Heard | None:
    """The clearest spoken word of a recording and the words around it.

    The word is the run of speech-like windows (`_runs`) holding the most speech-like window.
    Its crop gets PAD_S of context on each side, but stops where a neighbouring word begins or
    ends, so the model hears only the word a caller names.

    Args:
        wave: (T,) float mono samples. sr: their rate in Hz.

    Returns:
        Heard, or None when no window scores above THRESHOLD (silence, hiss at any level, clicks,
        tones, music).
    """
    if len(wave) == 0 or not np.any(np.asarray(wave) != 0):
        return None
    p = speech_probabilities(wave, sr)
    peak = int(np.argmax(p))
    if p[peak] <= THRESHOLD:
        return None
    scale = sr / VAD_RATE  # windows -> input samples
    lo, hi = next(r for r in _runs(p) if r[0] <= peak <= r[1])
    word = (int(lo * WINDOW * scale), int((hi + 1) * WINDOW * scale))
    others = [w for w in word_spans(p, sr) if w[1] <= word[0] or w[0] >= word[1]]
    start = max([int(max(0, word[0] - PAD_S * sr))] + [b for a, b in others if b <= word[0]])
    end = min([int(min(len(wave), word[1] + PAD_S * sr))] + [a for a, b in others if a >= word[1]])
    return Heard((start, end), word, sorted(others + [word]))


def speech_span(wave: np.ndarray, sr: int) -> tuple[int, int] | None:
    """Where the clearest spoken word is, with its context (`hear`), in samples of `wave`:
    (start, end) with 0 <= start < end <= T, or None when no speech is heard."""
    heard = hear(wave, sr)
    return None if heard is None else heard.span


def crop_to_speech(wave: np.ndarray, sr: int) -> np.ndarray:
    """The spoken word of a recording (see `hear`).

    Raises:
        NoSpeech: nothing in the recording sounds like speech.
    """
    span = speech_span(wave, sr)
    if span is None:
        raise NoSpeech(NO_SPEECH)
    return np.asarray(wave)[span[0]: span[1]]


def no_speech_examples(sr: int = 16000, seed: int = 0, seconds: float = 1.5) -> dict[str, np.ndarray]:
    """A generated set of 56 recordings that hold no speech, for tests and the bench.

    Digital silence; white, pink and brown hiss from -90 to -6 dBFS; single clicks and click
    trains; pure tones from 100 Hz to 3 kHz at three levels; and synthetic music (note runs with
    harmonics and decay, chords). Returns {name: (T,) float32 wave at `sr`}.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    out: dict[str, np.ndarray] = {"silence": np.zeros(n), "silence-dc": np.full(n, 0.2)}
    for slope, colour in ((0, "white"), (1, "pink"), (2, "brown")):
        for db in (-90, -70, -50, -40, -30, -20, -10, -6):
            spec = np.fft.rfft(rng.standard_normal(n)) / np.maximum(np.arange(n // 2 + 1), 1) ** (slope / 2)
            x = np.fft.irfft(spec, n)
            out[f"hiss-{colour}{db}dB"] = x / np.abs(x).max() * 10 ** (db / 20)
    for k, at in enumerate((0.1, 0.5, 0.9)):
        click = np.zeros(n)
        i = int(at * n)
        click[i: i + int(0.002 * sr)] = 0.9 * (-1) ** k
        out[f"click-{at}"] = click
    for rate in (2, 5, 10):
        train = np.zeros(n)
        train[(np.arange(0, seconds, 1 / rate) * sr).astype(int)] = 0.8
        out[f"clicks-{rate}Hz"] = train
    for f in (100, 250, 440, 1000, 2000, 3000):
        for db in (-40, -20, -3):
            out[f"tone-{f}Hz{db}dB"] = np.sin(2 * np.pi * f * t) * 10 ** (db / 20)
    for k, notes in enumerate(((261, 293, 329, 349, 392, 440), (440, 392, 349, 329), (196, 247, 294, 392, 494, 587))):
        x = np.zeros(n)
        step = n // len(notes)
        tt = np.arange(step) / sr
        for j, f in enumerate(notes):
            x[j * step:(j + 1) * step] = sum(0.3 / h * np.sin(2 * np.pi * f * h * tt) for h in range(1, 7)) * np.exp(-3 * tt)
        out[f"music-run{k}"] = x
    for k, chord in enumerate(((261, 329, 392), (220, 277, 330, 440), (147, 220, 294))):
        out[f"music-chord{k}"] = sum(0.2 * np.sin(2 * np.pi * f * t) for f in chord) * np.exp(-1.5 * t)
    return {k: v.astype(np.float32) for k, v in out.items()}
