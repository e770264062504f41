"""Sounds of things (a bark, a crow, the rain, a helicopter): mono waves at 16 kHz in a 5 s
window, fed raw to the default encoder, SoundNet's first five layers on the wave beside
EfficientNet-Lite0 on its spectrogram (both frozen, `encoders.soundnet_lite0`).

16 kHz, not SoundNet's 22.05 kHz: the one full copy of ESC-50 that could be had is at 16 kHz
(docs/things.md), so everything the model hears, data and a visitor's recording alike, is cut to
the same 8 kHz band; the encoders resample to their own rates inside.

Unlike speech, nothing is cropped to a voice: a long recording keeps its loudest `seconds`
(where the event is), and silence is trimmed only below -50 dB of the loudest frame, so the
quiet tail of a bell or the steady rain stays in."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .audio import AudioModality
from .base import MODALITIES


def loudest_window(wave: np.ndarray, sr: int, seconds: float, hop_s: float = 0.05) -> np.ndarray:
    """The `seconds` of `wave` with the most energy (the whole wave when shorter).

    Args: wave (T,) float mono; sr its rate in Hz. Returns a (min(T, seconds * sr),) slice."""
    n = int(round(seconds * sr))
    if len(wave) <= n:
        return wave
    hop = max(1, int(hop_s * sr))
    energy = np.concatenate([[0.0], np.cumsum(wave.astype(np.float64) ** 2)])
    starts = np.arange(0, len(wave) - n + 1, hop)
    best = int(starts[np.argmax(energy[starts + n] - energy[starts])])
    return wave[best: best + n]


@MODALITIES.register("sound")
class SoundModality(AudioModality):
    name = "sound"
    default_encoder = "soundnet_lite0"
    generic_files = False  # .wav files are read by `audio` unless a checkpoint has sounds only

    @dataclass
    class Config(AudioModality.Config):
        sample_rate: int = 16000  # the band every clip is cut to (see the module docstring)
        seconds: float = 5.0  # ESC-50's clip length
        trim_db: float = -50.0
        augment: str = "none"  # "none": frozen features computed once per clip; "wave": shift, gain, room noise
        frontend: str = "wave"  # SoundNet reads the wave itself
        noise_prob: float = 0.3
        max_shift_s: float = 0.5

    def __init__(self, **options):
        super().__init__(**options)
        if self.cfg.augment not in ("none", "wave"):
            raise ValueError(f"unknown sound augment {self.cfg.augment!r}; use 'none' or 'wave'")
        if self.cfg.frontend != "wave":
            raise ValueError(f"the sound modality's encoders read the wave; frontend {self.cfg.frontend!r} is not one")

    def focus(self, wave, sr):
        return loudest_window(wave, sr, self.cfg.seconds)

    def example_items(self, n=3, seed=0):
        """Mono, stereo (T, 2) and 12 s waves at 44.1 kHz (not the model's rate)."""
        rng = np.random.default_rng(seed)
        shapes = [(30000,), (50000, 2), (44100 * 12,)]
        return [(rng.standard_normal(shapes[i % 3]) * 0.1).astype(np.float32) for i in range(n)], 44100

    def query_component(self):
        return "audio", {"label": "Record or upload a sound", "sources": ["microphone", "upload"], "type": "filepath"}

    def query_item(self, value, notes: list | None = None):
        """A recording (path or (rate, samples)) -> (mono wave, rate), checked, not cropped to speech
        (a sound is used whole: nothing to note)."""
        from ..demo.inputs import read_recording

        return read_recording(value, what="sound", ask="upload a shorter sound")
