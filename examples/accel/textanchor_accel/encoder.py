"""A small 1-D CNN for accelerometer windows: (B, 3, n) -> (B, 2 * widths[-1])."""
from __future__ import annotations

import torch
from torch import nn

from textanchor.encoders import register_encoder


class CNN1d(nn.Module):
    """Conv1d blocks (kernel 5, BN, ReLU, max-pool by 2), then mean and max over time: the
    mean sees the rhythm, the max keeps a short spike (a landing) from being averaged away."""

    def __init__(self, in_channels: int, widths=(32, 64, 96), dropout: float = 0.1):
        super().__init__()
        layers, c = [], in_channels
        for w in widths:
            layers += [nn.Conv1d(c, w, 5, padding=2, bias=False), nn.BatchNorm1d(w), nn.ReLU(inplace=True),
                       nn.MaxPool1d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        self.norm = nn.LayerNorm(2 * c)  # unit scale for the projector, as in textanchor's CNNs
        self.drop = nn.Dropout(dropout)
        self.output_dim = 2 * c

    def forward(self, x):
        h = self.features(x)  # (B, C, n / 2 ** len(widths))
        return self.drop(self.norm(torch.cat([h.mean(2), h.amax(2)], 1)))


@register_encoder("accel_cnn1d", modalities=("accel",))
def accel_cnn1d(input_shape, widths=(32, 64, 96), dropout=0.1):
    """input_shape: (channels, samples)."""
    return CNN1d(input_shape[0], tuple(widths), dropout)
