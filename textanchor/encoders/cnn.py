"""Compact CNNs, the default encoders: small enough to train end to end on a laptop CPU in
minutes, strong enough for digits and spoken words."""
from __future__ import annotations

import torch
from torch import nn

from .base import register_encoder


def _block(cin: int, cout: int, pool, convs: int, stride: int = 1) -> list[nn.Module]:
    layers = []
    for i in range(convs):
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, stride=stride if i == 0 else 1, padding=1, bias=False),
                   nn.BatchNorm2d(cout),
                   nn.ReLU(inplace=True)]
    if pool:
        layers.append(nn.MaxPool2d(pool))
    return layers


class CompactCNN(nn.Module):
    """Conv blocks (`convs` 3x3 convs each, BN, ReLU, then max-pool), then global average and
    max pooling concatenated: (B, C, H, W) -> (B, 2 * widths[-1]).

    Pooling after every early block keeps the full-resolution activations few: on a CPU
    these memory-bound layers, not the multiply-adds, set the training time."""

    def __init__(self, in_channels: int, widths=(32, 64, 128), pools=(2, 2, None), convs: int = 1,
                 dropout: float = 0.1, stem_stride: int = 1):
        super().__init__()
        layers, c = [], in_channels
        for i, (w, p) in enumerate(zip(widths, pools)):
            layers += _block(c, w, p, convs, stem_stride if i == 0 else 1)
            c = w
        self.features = nn.Sequential(*layers)
        # LayerNorm keeps the pooled features (max pooling makes them large) at unit scale, so
        # the projector starts near the anchor's scale and training does not first spend its
        # steps shrinking the output.
        self.norm = nn.LayerNorm(2 * c)
        self.drop = nn.Dropout(dropout)
        self.output_dim = 2 * c

    def forward(self, x):
        h = self.features(x)  # (B, C, h, w)
        # Mean pooling sees the whole shape; max pooling keeps a short, strong cue (a stroke
        # end, a consonant burst) from being averaged away.
        return self.drop(self.norm(torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], 1)))


@register_encoder("image_cnn", modalities=("image", "sketch"))
def image_cnn(input_shape, widths=(32, 64, 128), convs=1, dropout=0.1, stem_stride=1):
    """28x28 digits -> 14 -> 7 -> global pool. input_shape: (C, H, W)."""
    pools = (2,) * (len(widths) - 1) + (None,)
    return CompactCNN(input_shape[0], tuple(widths), pools=pools, convs=convs, dropout=dropout, stem_stride=stem_stride)


@register_encoder("audio_cnn", modalities=("audio", "speech"))
def audio_cnn(input_shape, widths=(32, 64, 128, 128), convs=1, dropout=0.1, stem_stride=2):
    """Log-mel (1, n_mels, frames): a strided stem, then pooled in both axes so it is
    shift-tolerant in time."""
    pools = (2,) * (len(widths) - 1) + (None,)
    return CompactCNN(input_shape[0], tuple(widths), pools=pools, convs=convs, dropout=dropout, stem_stride=stem_stride)
