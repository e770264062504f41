"""Images: grayscale or RGB, any size, to a fixed (channels, size, size) tensor.

Digits (channels=1, center=True) go through `picture.prepare_digit`, the one path for every
picture: photos, scans, sketches, MNIST items and video frames alike."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from .base import MODALITIES, Modality
from .picture import STROKE_FRACTION, NoDigitError, alpha_ink, center_digit, extract_ink, load_picture, luma


def to_gray(img: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 3) or (H, W, 4) uint8/float -> (H, W) float32 in [0, 1]; a varying
    alpha channel (strokes on a transparent layer) is the ink, as `picture.alpha_ink` reads it."""
    ink = alpha_ink(np.asarray(img))
    return ink if ink is not None else luma(img)


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
        invert_light_background: bool = True  # dark ink on light paper -> bright ink on black (polarity from the border)
        stroke_fraction: float = STROKE_FRACTION  # stroke width normalised to this fraction of the 20 px box; 0: as drawn
        augment: str = "digits"  # "digits": strokes, affine, perspective, elastic, blur, gain, noise; "affine"; "none"
        max_rotate_deg: float = 10.0  # training augmentation
        max_shift: float = 0.1  # fraction of the side
        max_scale: float = 0.1

    def __init__(self, **options):
        super().__init__(**options)
        if self.cfg.augment not in ("digits", "affine", "none"):
            raise ValueError(f"unknown image augment {self.cfg.augment!r}; use 'digits', 'affine' or 'none'")
        self._augmenter = None
        self.skipped = 0  # data set items in which no digit was found (prepared as blank)

    def input_shape(self):
        return (self.cfg.channels, self.cfg.size, self.cfg.size)

    def _one(self, img) -> np.ndarray:
        c = self.cfg
        a = np.asarray(img)
        if c.channels == 1:
            if not c.center:
                return _resize(to_gray(a)[None], c.size)
            try:
                ink = extract_ink(a) if c.invert_light_background else to_gray(a)
            except NoDigitError:  # a data set item without a digit: a blank input, not a crash
                self.skipped += 1
                return np.zeros((1, c.size, c.size), np.float32)
            # MNIST's layout: a 20 px box in a 28 px canvas; other sizes keep that proportion.
            box = max(1, round(c.size * 20 / 28))
            return center_digit(ink, c.size, box, stroke_fraction=c.stroke_fraction or None)[None]
        a = a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0)
        if a.ndim == 2:
            a = np.repeat(a[..., None], 3, axis=2)
        return _resize(np.transpose(a[..., :3], (2, 0, 1)), c.size)

    def prepare(self, items, sample_rate=None) -> torch.Tensor:
        if len(items) == 0:
            return torch.zeros((0, *self.input_shape()))
        return torch.from_numpy(np.stack([self._one(i) for i in items]).astype(np.float32))

    def augments(self) -> bool:
        return self.cfg.augment != "none"

    def augment(self, x, generator=None):
        c = self.cfg
        if c.augment == "none":
            return x
        if c.augment == "digits" and c.channels == 1:
            if self._augmenter is None:
                from .image_augment import DigitAugment

                self._augmenter = DigitAugment(c.max_rotate_deg, c.max_shift, c.max_scale)
            return self._augmenter(x, generator)
        return self._affine(x, generator)

    def _affine(self, x, generator=None):
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
        """EXIF-upright uint8 array; RGBA kept when the file has transparency (drawn strokes)."""
        if self.cfg.channels == 1:
            return load_picture(str(path))
        with Image.open(path) as im:
            return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))

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
