"""Audio: any sample rate and channel count, to a fixed-length mono wave at one rate; the
log-mel front end runs on the training device (torchaudio), so wave-level augmentation is cheap."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torchaudio
from torch import nn

from ..data.audio_io import AUDIO_EXTENSIONS
from .base import MODALITIES, Modality


def trim_silence(wave: np.ndarray, sr: int, rel_db: float = -30.0, frame_s: float = 0.02) -> np.ndarray:
    """Drop leading and trailing frames quieter than `rel_db` below the loudest frame."""
    hop = max(1, int(sr * frame_s))
    n = len(wave) // hop
    if n < 2:
        return wave
    rms = np.sqrt((wave[: n * hop].reshape(n, hop) ** 2).mean(1) + 1e-12)
    keep = np.where(rms > rms.max() * 10 ** (rel_db / 20))[0]
    if len(keep) == 0:
        return wave
    return wave[keep[0] * hop: (keep[-1] + 1) * hop]


LONG = 2.0  # recordings longer than LONG x the model's window go through the voice detector


def speech_part(wave: np.ndarray, sr: int, window_s: float) -> np.ndarray:
    """The spoken word of a long recording, with context (`textanchor.vad.speech_span`);
    shorter waves, and long ones where no speech is found, are returned whole.

    One rule for every path into the model (data set loaders, manifests, corpora, the CLI and
    the app all reach it through `AudioModality.prepare`): a recording much longer than the
    window (ten seconds of room before the word) would otherwise lose the word to the centre
    crop; a clip of one word (every training clip; the app's already cropped recording) fits
    the window, where the detector would cost ~20 ms a clip and change nothing. Refusing a
    recording without speech is the caller's choice (the app and `search --file` refuse; a
    data set keeps its file).

    Args:
        wave: (T,) float mono samples. sr: their rate in Hz. window_s: the model's window in s.
    Returns:
        (T',) a slice of `wave`.
    """
    if len(wave) <= LONG * window_s * sr:
        return wave
    from ..vad import speech_span

    span = speech_span(wave, sr)
    return wave if span is None else wave[span[0]: span[1]]


def audio_problem(wave: np.ndarray, sr: int, min_seconds: float = 0.1, speech: bool = True) -> str | None:
    """A user-facing reason why a recording cannot be searched with, or None when it can.
    speech: the recording should hold a spoken word (False: any sound)."""
    if wave is None or len(wave) == 0:
        return "The recording is empty."
    if len(wave) < min_seconds * sr:
        return (f"The recording is too short ({len(wave) / sr:.2f} s); "
                f"{'speak' if speech else 'record'} for at least {min_seconds} s.")
    if float(np.abs(wave).max()) < 1e-3:
        if speech:
            return "No speech heard: the recording is silent; check the microphone and speak a little louder."
        return "Nothing heard: the recording is silent; check the microphone, or upload a louder sound."
    return None


class LogMel(nn.Module):
    """(B, T) wave -> (B, 1, n_mels, frames) log-mel, normalised per utterance so the
    microphone's gain does not matter; SpecAugment masks while training (Park et al. 2019)."""

    def __init__(self, sample_rate, n_fft, hop, n_mels, spec_augment=True):
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, win_length=n_fft, hop_length=hop, n_mels=n_mels,
            f_min=20.0, f_max=sample_rate / 2,
        )
        self.masks = nn.Sequential(
            torchaudio.transforms.FrequencyMasking(max(1, n_mels // 8)),
            torchaudio.transforms.TimeMasking(10),
        ) if spec_augment else nn.Identity()

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        x = torch.log(self.mel(wave) + 1e-6)[:, None]  # (B, 1, M, F)
        x = (x - x.mean(dim=(2, 3), keepdim=True)) / (x.std(dim=(2, 3), keepdim=True) + 1e-5)
        return self.masks(x) if self.training else x


@MODALITIES.register("audio")
class AudioModality(Modality):
    name = "audio"
    default_encoder = "audio_cnn"
    file_extensions = AUDIO_EXTENSIONS

    @dataclass
    class Config:
        sample_rate: int = 8000  # FSDD's rate; band-limits synthetic speech to match real
        seconds: float = 1.2  # fixed window after trimming silence (longer input: centre crop)
        n_fft: int = 256  # 32 ms window at 8 kHz
        hop: int = 100  # 12.5 ms
        n_mels: int = 40
        trim_db: float = -30.0
        max_shift_s: float = 0.1  # training augmentation
        noise_prob: float = 0.5  # share of training windows that get noise
        # "room": hiss/hum/babble over the whole window at noise_snr_db (see audio_augment);
        # "white": the first recipe's white noise at 10-40 dB against the window's mean power.
        noise: str = "room"
        noise_snr_db: tuple = (0.0, 30.0)
        spec_augment: bool = True
        # "wave": the encoder reads the wave (a frozen speech encoder); "logmel": log-mel (a CNN
        # trained here); "auto": the encoder's choice, settled by `use_encoder`.
        frontend: str = "auto"
        # "none": frozen features computed once per clip; "wave": shift, gain, room noise each
        # step; "auto": none on the wave, wave augmentation with log-mel.
        augment: str = "auto"

    WAVE_ENCODERS = {"speech_embedding": 16000}  # encoders that read the wave, and the rate they take

    def __init__(self, **options):
        super().__init__(**options)
        if self.cfg.frontend not in ("auto", "wave", "logmel"):
            raise ValueError(f"unknown {self.name} frontend {self.cfg.frontend!r}; use 'auto', 'wave' or 'logmel'")
        if self.cfg.augment not in ("auto", "none", "wave"):
            raise ValueError(f"unknown {self.name} augment {self.cfg.augment!r}; use 'auto', 'none' or 'wave'")

    def use_encoder(self, name: str) -> None:
        rate = self.WAVE_ENCODERS.get(name)
        if self.cfg.frontend == "auto":
            self.cfg.frontend = "wave" if rate else "logmel"
        if self.cfg.augment == "auto":
            self.cfg.augment = "none" if self.cfg.frontend == "wave" else "wave"
        if rate and self.cfg.frontend == "wave" and self.cfg.sample_rate != rate:
            raise ValueError(f"the {name} encoder reads {rate} Hz waves; give the {self.name} branch "
                             f'"preprocess": {{"sample_rate": {rate}}} (it has {self.cfg.sample_rate})')

    def augments(self) -> bool:
        return self.cfg.augment != "none"

    def input_shape(self):
        return (int(round(self.cfg.seconds * self.cfg.sample_rate)),)

    def _one(self, wave: np.ndarray, sr: int) -> np.ndarray:
        from ..data.audio_io import normalize_level, resample, to_mono

        c = self.cfg
        w = to_mono(wave)  # before any float cast: an 8-bit array loses its 128 offset here
        w = self.focus(w, sr)
        if sr != c.sample_rate:
            w = resample(w, sr, c.sample_rate)
        w = trim_silence(w - w.mean() if len(w) else w, c.sample_rate, c.trim_db)  # DC off, then trim
        # One level for every clip, then no sample beyond full scale (a click stays a click).
        w = np.clip(normalize_level(w), -1.0, 1.0)
        n = self.input_shape()[0]
        out = np.zeros(n, np.float32)
        if len(w) >= n:  # centre crop
            s = (len(w) - n) // 2
            out[:] = w[s: s + n]
        else:  # centre pad
            s = (n - len(w)) // 2
            out[s: s + len(w)] = w
        return out

    def focus(self, wave: np.ndarray, sr: int) -> np.ndarray:
        """The part of a long recording the model should hear: the spoken word (`speech_part`)."""
        return speech_part(wave, sr, self.cfg.seconds)

    def prepare(self, items, sample_rate=None) -> torch.Tensor:
        sr = sample_rate or self.cfg.sample_rate
        if len(items) == 0:
            return torch.zeros((0, *self.input_shape()))
        return torch.from_numpy(np.stack([self._one(w, sr) for w in items]))

    def augment(self, x, generator=None):
        """Random shift, gain and, on `noise_prob` of the windows, noise over the whole window
        (`noise`: "room" or "white", see Config); nothing with `augment` "none"."""
        if self.cfg.augment == "none":
            return x
        b, n = x.shape
        dev = x.device
        rnd = lambda *s: torch.rand(*s, generator=generator).to(dev)  # noqa: E731
        max_shift = int(self.cfg.max_shift_s * self.cfg.sample_rate)
        if max_shift > 0:
            shifts = ((rnd(b) * 2 - 1) * max_shift).long()
            idx = (torch.arange(n, device=dev)[None] - shifts[:, None]) % n
            x = torch.gather(x, 1, idx)
        x = x * (0.5 + 0.5 * rnd(b, 1))
        use = (rnd(b, 1) < self.cfg.noise_prob).float()
        if self.cfg.noise == "room":
            from .audio_augment import room_noise

            rows = torch.nonzero(use[:, 0].cpu()).flatten()
            return x + room_noise(x, self.cfg.sample_rate, tuple(self.cfg.noise_snr_db), rows, generator)
        if self.cfg.noise == "white":
            snr_db = 10 + 30 * rnd(b, 1)
            power = x.pow(2).mean(1, keepdim=True).clamp_min(1e-8)
            noise = torch.randn(x.shape, generator=generator).to(dev) * torch.sqrt(power / 10 ** (snr_db / 10))
        else:
            raise ValueError(f"unknown audio noise {self.cfg.noise!r}; use 'room' or 'white'")
        return x + use * noise

    def frontend(self):
        c = self.cfg
        if c.frontend == "wave":
            return nn.Identity()
        return LogMel(c.sample_rate, c.n_fft, c.hop, c.n_mels, c.spec_augment)

    def read_file(self, path):
        """Decode a file at the modality's rate; `prepare` finds the word (see `speech_part`)."""
        from ..data.audio_io import read_audio

        return read_audio(path, sample_rate=self.cfg.sample_rate)[0]

    # The app contract (see Modality): record or upload, listen to the result.
    result_kind = "audio"

    def example_items(self, n=3, seed=0):
        """Mono, stereo (T, 2) and almost empty waves at 16 kHz (not the model's rate)."""
        rng = np.random.default_rng(seed)
        shapes = [(4000,), (20000, 2), (10,)]
        return [(rng.standard_normal(shapes[i % 3]) * 0.1).astype(np.float32) for i in range(n)], 16000

    def query_component(self):
        return "audio", {"label": "Record (or upload a file)", "sources": ["microphone", "upload"], "type": "filepath"}

    def query_item(self, value, notes: list | None = None):
        """A recording (path or (rate, samples)) -> (mono wave, rate), via the app's checks.
        notes: a list that gets a note for the answer (several words heard), as `load_recording`."""
        from ..demo.inputs import load_recording

        return load_recording(value, notes=notes)

    def render(self, item, sample_rate=None):
        """("audio", (rate, float32 wave)) as an audio player takes it."""
        return "audio", (int(sample_rate or self.cfg.sample_rate), np.asarray(item, np.float32))
