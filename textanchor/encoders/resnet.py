"""torchvision's ResNet18, the original work's backbone, for images and spectrograms.

ImageNet weights are used when they are already in the local torch cache (nothing is ever
downloaded here). Without them the user is told, and the network trains from scratch;
`freeze=True` on random weights is refused unless `allow_random_frozen=True` says it is meant.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn
from .base import register_encoder


def cached_imagenet_weights() -> Path | None:
    """Path of torchvision's ResNet18 ImageNet file in the torch hub cache, if present."""
    from torchvision.models import ResNet18_Weights  # here, not at the top: see ResNet18Encoder

    fname = Path(ResNet18_Weights.IMAGENET1K_V1.url).name
    path = Path(torch.hub.get_dir()) / "checkpoints" / fname
    return path if path.is_file() else None


class ResNet18Encoder(nn.Module):
    def __init__(self, in_channels: int, pretrained: bool, freeze: bool, allow_random_frozen: bool):
        # torchvision is imported only when a ResNet is built: the registry imports this module
        # whenever any encoder is looked up, and torchvision costs the app's start 1.5-3 s.
        from torchvision.models import resnet18

        super().__init__()
        net = resnet18(weights=None)
        self.pretrained = False
        if pretrained:
            path = cached_imagenet_weights()
            if path is None:
                warnings.warn(
                    "ResNet18 ImageNet weights are not in the local torch cache "
                    f"({torch.hub.get_dir()}/checkpoints); training ResNet18 from scratch instead.",
                    stacklevel=3,
                )
            else:
                net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
                self.pretrained = True
        if freeze and not self.pretrained and not allow_random_frozen:
            raise ValueError(
                "freeze=True without ImageNet weights would keep a random ResNet18; "
                "pass allow_random_frozen=True if that is really what you want"
            )
        net.fc = nn.Identity()
        self.net = net
        self.in_channels = in_channels
        self.output_dim = 512
        self.frozen = freeze
        if freeze:
            for p in self.net.parameters():
                p.requires_grad_(False)
        # ImageNet statistics, applied only when the weights came from ImageNet.
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, x):  # (B, C, H, W) -> (B, 512)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if self.pretrained:
            x = (x - self.mean) / self.std
        if self.frozen:
            self.net.eval()  # frozen BN statistics too
            with torch.no_grad():
                return self.net(x)
        return self.net(x)


@register_encoder("resnet18", modalities=("image", "sketch", "photo", "audio", "speech"))
def resnet18_encoder(input_shape, pretrained=True, freeze=False, allow_random_frozen=False):
    """input_shape: (C, H, W), an image or a (1, mels, frames) spectrogram."""
    return ResNet18Encoder(input_shape[0], pretrained, freeze, allow_random_frozen)
