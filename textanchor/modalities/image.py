"""Images: grayscale or RGB, any size, to a fixed (channels, size, size) tensor."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .base import MODALITIES, Modality


def to_gray(img: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 3) or (H, W, 4) uint8/float -> (H, W) float32 in [0, 1]."""
    a = np.asarray(img)
    scale = 255.0 if a.dtype == np.uint8 or a.max(initial=0) > 1.0 else 1.0
    a = a.astype(np.float32) / scale
    if a.ndim == 3:
        if a.shape[2] == 4:  # composite over black: transparent pixels are background
            a = a[..., :3] * a[..., 3:4]
        a = a[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if a.ndim != 2:
        raise ValueError(f"expected an image of shape (H, W) or (H, W, C), got {np.shape(img)}")
    return a


def center_like_mnist(gray: np.ndarray, size: int = 28, box: int = 20) -> np.ndarray:
    """Crop to the ink, fit it in a `box` square keeping aspect, and place its centre of mass
    at the centre of a `size` canvas: the exact normalisation MNIST itself was built with, so
    drawings, 8x8 scikit-learn digits and MNIST all look alike to the encoder.

    Args: gray: (H, W) in [0, 1], ink bright on dark. Returns: (size, size) float32.
    """
    ink = gray > 0.05 * max(float(gray.max()), 1e-6)
    if not ink.any():
        return np.zeros((size, size), np.float32)
    rows, cols = np.where(ink)
    crop = gray[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    h, w = crop.shape
    s = box / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    # PIL's resampling filters antialias when shrinking and are ~20x faster than torch for
    # one small image, which matters when 60,000 MNIST digits are prepared.
    small = np.asarray(Image.fromarray(np.ascontiguousarray(crop, np.float32), mode="F").resize((nw, nh), Image.BILINEAR))
    canvas = np.zeros((size, size), np.float32)
    total = small.sum()
    ys, xs = np.mgrid[:nh, :nw]
    cy = (ys * small).sum() / total if total > 0 else nh / 2
    cx = (xs * small).sum() / total if total > 0 else nw / 2
    top = int(round(size / 2 - cy))
    left = int(round(size / 2 - cx))
    top = min(max(top, 0), size - nh)
    left = min(max(left, 0), size - nw)
    canvas[top: top + nh, left: left + nw] = small
    return np.clip(canvas, 0.0, 1.0)


@MODALITIES.register("image")
class ImageModality(Modality):
    name = "image"
    default_encoder = "image_cnn"
    file_extensions = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")

    @dataclass
    class Config:
        size: int = 28  # side of the square the encoder sees
        channels: int = 1  # 1: grayscale (digits), 3: RGB (natural images, video frames)
        center: bool = True  # MNIST-style ink centring (digits); off for natural images
        invert_light_background: bool = True  # dark ink on white paper -> bright ink on black
        max_rotate_deg: float = 10.0  # training augmentation
        max_shift: float = 0.1  # fraction of the side
        max_scale: float = 0.1

    def input_shape(self):
        return (self.cfg.channels, self.cfg.size, self.cfg.size)

    def _one(self, img) -> np.ndarray:
        c = self.cfg
        a = np.asarray(img)
        if c.channels == 1:
            g = to_gray(a)
            # A photo of a digit on paper has a light background; MNIST has a black one.
            if c.invert_light_background and g.size and np.median(g) > 0.5:
                g = 1.0 - g
            g = center_like_mnist(g, c.size) if c.center else _resize(g[None], c.size)[0]
            return g[None]
        a = a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0)
        if a.ndim == 2:
            a = np.repeat(a[..., None], 3, axis=2)
        return _resize(np.transpose(a[..., :3], (2, 0, 1)), c.size)

    def prepare(self, items, sample_rate=None) -> torch.Tensor:
        if len(items) == 0:
            return torch.zeros((0, *self.input_shape()))
        return torch.from_numpy(np.stack([self._one(i) for i in items]).astype(np.float32))

    def augment(self, x, generator=None):
        """Random small rotation, shift and scale (one affine warp per item)."""
        c = self.cfg
        b = x.shape[0]
        r = lambda: torch.rand(b, generator=generator, device="cpu").to(x.device) * 2 - 1  # noqa: E731
        ang = r() * np.deg2rad(c.max_rotate_deg)
        sc = 1 + r() * c.max_scale
        cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
        theta = torch.stack(
            [torch.stack([cos, -sin, r() * c.max_shift * 2], 1), torch.stack([sin, cos, r() * c.max_shift * 2], 1)], 1
        )  # (B, 2, 3)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")

    def read_file(self, path):
        with Image.open(path) as im:
            return np.asarray(im.convert("L" if self.cfg.channels == 1 else "RGB"))

    # The app contract (see Modality): draw or upload a picture, see a picture.
    result_kind = "image"

    def example_items(self, n=3, seed=0):
        """Grey, RGB and RGBA uint8 images of random sizes, one of them blank."""
        rng = np.random.default_rng(seed)
        shapes = [(8, 8), (50, 40, 3), (28, 28, 4)]
        items = [(rng.random(shapes[i % 3][:2] if i % 3 == 0 else shapes[i % 3]) * 255).astype(np.uint8)
                 for i in range(n)]
        if n:
            items[0][:] = 0  # an empty canvas must not break preparation
        return items, None

    def query_component(self):
        return "sketchpad", {"label": "Draw (or upload a picture)", "type": "numpy", "image_mode": "RGBA",
                             "canvas_size": [400, 400], "layers": False}

    def query_item(self, value):
        """A Sketchpad value (or a plain picture) -> bright ink on black, via the app's checks."""
        from ..demo.inputs import sketch_to_image

        return sketch_to_image(value), None

    def render(self, item, sample_rate=None):
        """("image", (H, W) or (H, W, 3) uint8)."""
        a = np.asarray(item)
        if a.dtype != np.uint8:
            a = (np.clip(a, 0, 1) * 255).round().astype(np.uint8) if a.max(initial=0) <= 1 else a.astype(np.uint8)
        return "image", a


def _resize(chw: np.ndarray, size: int) -> np.ndarray:
    t = torch.from_numpy(np.ascontiguousarray(chw, dtype=np.float32))[None]
    return F.interpolate(t, size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0].numpy()
