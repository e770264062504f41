"""Digits "photographed" in simulation: ink composited onto paper, then lit, warped, blurred
and JPEG-compressed the way a phone camera does it.

`simulate_photo` turns any ink image into such a photo. Two data sets use it:
  mnist_photos      MNIST training digits as thin or thick pen on paper: training data that
                    makes the image branch see what `picture.prepare_digit` leaves of a photo.
  synthetic_photos  digits from fonts and from drawn strokes (`data.rendered`), never MNIST:
                    the photo-like test set of `textanchor bench`.
"""
from __future__ import annotations

import cv2
import numpy as np

from .base import DIGIT_NAMES, ItemSet
from .datasets import DATASETS

PENS = np.array([[0.10, 0.15, 0.55], [0.08, 0.08, 0.10], [0.15, 0.20, 0.30], [0.55, 0.10, 0.10]])  # RGB: blue, black, grey, red


def _smooth_noise(rng: np.random.Generator, side: int, scale: float) -> np.ndarray:
    """(side, side) noise with structures about `scale` px across, unit standard deviation."""
    n = cv2.GaussianBlur(rng.standard_normal((side, side), np.float32), (0, 0), scale)
    return n / max(float(n.std()), 1e-6)


def simulate_photo(ink: np.ndarray, rng: np.random.Generator, side: int = 128) -> np.ndarray:
    """One digit photographed on paper.

    Args:
        ink: (h, w) float in [0, 1], the digit bright on black (any size; it is rescaled).
        rng: the randomness (paper, pen, light, pose, blur, JPEG quality).
        side: the photo's side in px.
    Returns:
        (side, side, 3) uint8 RGB photo: dark pen on light paper (light chalk on a dark board
        in one photo out of ten).
    """
    ink = np.asarray(ink, np.float32)
    # The digit takes 35-75% of the photo's height, anywhere that keeps it inside the frame.
    h, w = ink.shape
    s = side * rng.uniform(0.35, 0.75) / max(h, w)
    digit = cv2.resize(ink, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_LINEAR)
    dh, dw = digit.shape
    canvas = np.zeros((side, side), np.float32)
    y, x = rng.integers(0, side - dh + 1), rng.integers(0, side - dw + 1)
    canvas[y: y + dh, x: x + dw] = digit
    # Pen: thinner or bolder than the source, at less than full opacity.
    if rng.random() < 0.5:
        k = int(rng.integers(1, 4))
        canvas = cv2.erode(canvas, np.ones((k, k), np.uint8)) if rng.random() < 0.6 else cv2.dilate(canvas, np.ones((k, k), np.uint8))
    alpha = np.clip(canvas * rng.uniform(0.7, 1.0), 0, 1)[..., None]
    # Paper: a light tint, slow blotches and fine grain.
    tone = rng.uniform(0.62, 0.95)
    paper = np.clip(tone + rng.normal(0, 0.02, 3), 0, 1).astype(np.float32)
    tex = 0.03 * _smooth_noise(rng, side, side / 8) + 0.015 * rng.standard_normal((side, side), np.float32)
    pen = PENS[rng.integers(len(PENS))].astype(np.float32)
    img = (paper[None, None, :] + tex[..., None]) * (1 - alpha) + pen[None, None, :] * alpha
    if rng.random() < 0.1:  # chalk on a blackboard
        img = 1.0 - img
    # Light: a gradient across the page and, often, the soft shadow of the phone or a hand.
    yy, xx = np.mgrid[:side, :side].astype(np.float32) / side
    ang = rng.uniform(0, 2 * np.pi)
    light = np.float32(1.0) + np.float32(rng.uniform(0.1, 0.45)) * (np.float32(np.cos(ang)) * (xx - 0.5) + np.float32(np.sin(ang)) * (yy - 0.5))
    if rng.random() < 0.6:
        cy, cx, r = rng.uniform(-0.2, 1.2), rng.uniform(-0.2, 1.2), rng.uniform(0.2, 0.6)
        light = light * (1 - np.float32(rng.uniform(0.2, 0.5)) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / np.float32(2 * r * r)))
    img = np.clip(img * light[..., None], 0, 1).astype(np.float32)
    # Pose: the camera is never quite square to the page.
    d = 0.08 * side
    src = np.float32([[0, 0], [side, 0], [side, side], [0, side]])
    dst = src + rng.uniform(-d, d, size=(4, 2)).astype(np.float32)
    img = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (side, side), borderMode=cv2.BORDER_REFLECT)
    # Optics and sensor: defocus, noise, then the JPEG the phone saves.
    sigma = rng.uniform(0.0, 1.2)
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    img = np.clip(img + rng.uniform(0.0, 0.03) * rng.standard_normal(img.shape, np.float32), 0, 1)
    u8 = (img * 255).round().astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", u8[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 95))])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy() if ok else u8


def photos_of(items: list, rng: np.random.Generator, side: int = 128) -> list[np.ndarray]:
    """`simulate_photo` of the digit in each picture (any polarity: its ink is read first by
    `picture.extract_ink`, so MNIST stored black-on-white works too). A picture without a
    readable digit is photographed blank rather than dropped, so labels stay aligned."""
    from ..modalities.picture import NoDigitError, extract_ink

    out = []
    for item in items:
        try:
            ink = extract_ink(item)
        except NoDigitError:
            ink = np.zeros((28, 28), np.float32)
        out.append(simulate_photo(ink, rng, side))
    return out


@DATASETS.register("mnist_photos")
def load_mnist_photos(root=None, split: str = "train", limit: int | None = 10000, offset: int = 0,
                      side: int = 96, seed: int = 0, download: bool = False) -> ItemSet:
    """MNIST digits `offset` to `offset + limit` of `split`, photographed by `simulate_photo`.

    Args: root, download: MNIST's folder, as for "mnist" (data_root/mnist_photos means data_root/mnist). side: photo side in px (96 keeps preparing 10,000 of
        them under a minute). seed: the photos' randomness (the test split adds 1).
    Returns: ItemSet(modality="image") of (side, side, 3) uint8 photos, sources
        "mnist_photos:<split>:<mnist index>".
    """
    from pathlib import Path

    from .mnist import load_mnist

    if root is not None and Path(root).name == "mnist_photos":  # the recipe's data_root/<name>: MNIST's folder
        root = Path(root).parent / "mnist"
    m = load_mnist(root, split, limit=None if limit is None else offset + limit, download=download)
    idx = np.arange(offset, len(m))
    rng = np.random.default_rng(seed + (split == "test"))
    return ItemSet(modality="image", items=photos_of([m.items[i] for i in idx], rng, side), labels=m.labels[idx],
                   class_names=list(DIGIT_NAMES), sources=[f"mnist_photos:{split}:{i}" for i in idx],
                   meta={"seed": seed, "side": side})
