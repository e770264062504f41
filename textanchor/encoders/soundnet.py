"""SoundNet-8's first five layers as a frozen encoder of raw waves (22.05 kHz).

SoundNet (Aytar, Vondrick, Torralba, "SoundNet: Learning Sound Representations from Unlabeled
Video", NeurIPS 2016) was trained on ~2 M Flickr videos to predict what ImageNet and Places
networks saw in their frames, so its features know natural sounds: a linear probe on conv5
scores 91.8% on ESC-10 (shared/notes/pretrained-weights-offline.md). Weights: conv1-conv5 of the
authors' `sound8` model, converted by `scripts/convert_soundnet.py` into
`weights/soundnet8_conv5.safetensors` (1 MB, MIT licence, Copyright (c) 2016 the authors).
"""
from __future__ import annotations

from pathlib import Path

import torch
import torchaudio
from safetensors.torch import load_file
from torch import nn

from .base import register_encoder
from .frozen import FrozenFeatures

WEIGHTS = Path(__file__).parent / "weights" / "soundnet8_conv5.safetensors"
SAMPLE_RATE = 22050  # the rate SoundNet was trained at
# (in, out, kernel, stride, padding, max-pool after) of conv1..conv5, as in the authors' model.
LAYERS = ((1, 16, 64, 2, 32, 8), (16, 32, 32, 2, 16, 8), (32, 64, 16, 2, 8, 1), (64, 128, 8, 2, 4, 1),
          (128, 256, 4, 2, 2, 4))


class _ConvBN(nn.Module):
    def __init__(self, cin, cout, k, stride, pad, pool):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, k, stride, pad)
        self.bn = nn.BatchNorm1d(cout, eps=1e-5)
        self.pool = nn.MaxPool1d(pool, ceil_mode=False) if pool > 1 else nn.Identity()

    def forward(self, x):
        return self.pool(torch.relu(self.bn(self.conv(x))))


class SoundNet5(nn.Module):
    """(B, T) wave in [-1, 1] at `sample_rate` -> (B, 256, T' / 4096) conv5 activations, T' the
    length at 22.05 kHz (the wave is resampled to SoundNet's rate first)."""

    def __init__(self, sample_rate: int = SAMPLE_RATE):
        super().__init__()
        self.sample_rate = int(sample_rate)
        for i, spec in enumerate(LAYERS, 1):
            self.add_module(f"conv{i}", _ConvBN(*spec))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if self.sample_rate != SAMPLE_RATE:
            wave = torchaudio.functional.resample(wave, self.sample_rate, SAMPLE_RATE)
        x = wave[:, None] * 256.0  # SoundNet's input scale
        for i in range(1, len(LAYERS) + 1):
            x = getattr(self, f"conv{i}")(x)
        return x


def _mean_max(h: torch.Tensor) -> torch.Tensor:
    """(B, C, T) -> (B, 2C): the average says what fills the clip, the maximum keeps a short
    event (a bark, a door knock) from being averaged away."""
    return torch.cat([h.mean(-1), h.amax(-1)], 1)


def soundnet5(sample_rate: int = SAMPLE_RATE) -> SoundNet5:
    """SoundNet-8 conv1-conv5 with the authors' weights, for waves at `sample_rate` Hz."""
    net = SoundNet5(sample_rate)
    net.load_state_dict(load_file(str(WEIGHTS)))
    return net.eval()


@register_encoder("soundnet", modalities=("sound",))
def soundnet(input_shape, sample_rate: int = 16000):
    """input_shape: (T,) samples at `sample_rate` Hz (the `sound` modality's rate, 16 kHz by
    default); resampled to SoundNet's 22.05 kHz inside. Output (B, 512): conv5 mean and max."""
    return FrozenFeatures(soundnet5(sample_rate), 512, _mean_max, source=f"SoundNet-8 conv5 ({WEIGHTS.name})")
