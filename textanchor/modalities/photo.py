"""Photos of things: RGB pictures of any size -> (3, size, size) in [0, 1], the shorter side
resized to `size` and the centre cropped (the usual evaluation crop of ImageNet networks, which
the default encoder, a frozen EfficientNet-Lite0, was trained with)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .base import MODALITIES
from .image import ImageModality


def center_crop(rgb: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) uint8 or float in [0, 1] -> (3, size, size) float32: shorter side to `size`
    (antialiased), then the central square."""
    a = np.asarray(rgb)
    a = a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    t = torch.from_numpy(np.ascontiguousarray(a[..., :3].transpose(2, 0, 1)))[None]  # (1, 3, H, W)
    h, w = t.shape[-2:]
    s = size / min(h, w)
    nh, nw = max(size, round(h * s)), max(size, round(w * s))
    t = F.interpolate(t, size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)
    top, left = (nh - size) // 2, (nw - size) // 2
    return t[0, :, top: top + size, left: left + size].clamp(0, 1).numpy()


@MODALITIES.register("photo")
class PhotoModality(ImageModality):
    name = "photo"
    default_encoder = "efficientnet_lite0"
    generic_files = False  # .jpg files are read by `image` unless a checkpoint has photos only

    @dataclass
    class Config(ImageModality.Config):
        size: int = 160  # EfficientNet-Lite0 at 160 px: 10 ms a photo on a CPU core, 224 px: 30 ms
        channels: int = 3
        center: bool = False
        invert_light_background: bool = False
        augment: str = "none"  # frozen features are computed once per item (Branch.cacheable)

    def _one(self, img) -> np.ndarray:
        return center_crop(img, self.cfg.size)

    def example_items(self, n=3, seed=0):
        """RGB, grey and RGBA uint8 photos of random sizes."""
        rng = np.random.default_rng(seed)
        shapes = [(120, 90, 3), (64, 200), (50, 50, 4)]
        return [(rng.random(shapes[i % 3]) * 255).astype(np.uint8) for i in range(n)], None

    def query_component(self):
        return "image", {"label": "A photo", "type": "numpy", "sources": ["upload", "webcam", "clipboard"]}

    def query_item(self, value):
        """An uploaded photo (array, PIL image or path) -> RGB uint8, via the app's checks."""
        from ..demo.inputs import photo_to_rgb

        return photo_to_rgb(value), None
