"""Digits nobody wrote in MNIST: rendered from the fonts on the machine and drawn as pen
strokes along hand-made paths, then photographed by `photos.simulate_photo`.

The `synthetic_photos` data set is the photo-like test set of `textanchor bench`: it shares no
digit shapes with the training data (MNIST), so it measures the whole path from a camera
picture to a label on shapes and pens the model has not seen.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .base import DIGIT_NAMES, ItemSet
from .datasets import DATASETS
from .photos import simulate_photo

FONT_DIRS = ("/usr/share/fonts/truetype", "/usr/share/fonts/TTF", "/Library/Fonts", "C:/Windows/Fonts")


def find_fonts(limit: int = 12) -> list[str]:
    """TrueType fonts on this machine (sorted, at most `limit`), plus Pillow's built-in one."""
    found = sorted({str(p) for d in FONT_DIRS if Path(d).is_dir() for p in Path(d).rglob("*.ttf")})
    step = max(1, len(found) // limit)
    return found[::step][:limit] + ["<pillow default>"]


def render_font_digit(digit: int, font: str, side: int = 96) -> np.ndarray:
    """(side, side) float32 ink of one digit in one font, bright on black."""
    f = ImageFont.load_default(size=side * 3 // 4) if font == "<pillow default>" else ImageFont.truetype(font, side * 3 // 4)
    im = Image.new("L", (side, side), 0)
    ImageDraw.Draw(im).text((side / 2, side / 2), str(digit), fill=255, font=f, anchor="mm")
    return np.asarray(im, np.float32) / 255.0


def _arc(cx, cy, rx, ry, a0, a1, n=24):
    t = np.deg2rad(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(t), cy - ry * np.sin(t)], 1)


# Pen paths of each digit in a unit box (x right, y down), one list of polylines per style.
STROKES = {
    0: [[_arc(0.5, 0.5, 0.3, 0.45, 90, 450)], [_arc(0.5, 0.5, 0.35, 0.42, 80, 445)]],
    1: [[np.array([[0.5, 0.05], [0.5, 0.95]])], [np.array([[0.3, 0.25], [0.55, 0.05], [0.55, 0.95]])]],
    2: [[np.concatenate([_arc(0.5, 0.3, 0.28, 0.25, 160, -30), np.array([[0.2, 0.95], [0.85, 0.95]])])]],
    3: [[np.concatenate([_arc(0.5, 0.28, 0.28, 0.23, 150, -90), _arc(0.5, 0.72, 0.3, 0.23, 90, -150)])]],
    4: [[np.array([[0.6, 0.05], [0.15, 0.65], [0.85, 0.65]]), np.array([[0.65, 0.3], [0.65, 0.95]])],
        [np.array([[0.25, 0.05], [0.2, 0.55], [0.8, 0.55]]), np.array([[0.7, 0.1], [0.7, 0.95]])]],
    5: [[np.array([[0.8, 0.05], [0.3, 0.05], [0.25, 0.45]]), _arc(0.5, 0.68, 0.3, 0.27, 140, -150)]],
    6: [[np.concatenate([_arc(0.65, 0.5, 0.4, 0.45, 70, 180), _arc(0.5, 0.7, 0.27, 0.25, 180, 540)])]],
    7: [[np.array([[0.15, 0.05], [0.85, 0.05], [0.4, 0.95]])],
        [np.array([[0.15, 0.05], [0.85, 0.05], [0.4, 0.95]]), np.array([[0.35, 0.5], [0.75, 0.5]])]],
    8: [[_arc(0.5, 0.27, 0.22, 0.22, -90, 270), _arc(0.5, 0.72, 0.28, 0.23, 90, 450)]],
    9: [[_arc(0.5, 0.3, 0.27, 0.25, 0, 360), np.array([[0.77, 0.3], [0.72, 0.95]])],
        [_arc(0.5, 0.3, 0.27, 0.25, 0, 360), np.concatenate([np.array([[0.77, 0.3]]), _arc(0.45, 0.65, 0.32, 0.33, 0, -100)])]],
}


def draw_stroke_digit(digit: int, rng: np.random.Generator, side: int = 96) -> np.ndarray:
    """(side, side) float32 ink of one digit drawn along its pen path with a random style,
    slant, aspect, wobble and pen width: a stand-in for a hand nobody collected."""
    paths = STROKES[digit][rng.integers(len(STROKES[digit]))]
    slant, aspect = rng.uniform(-0.25, 0.25), rng.uniform(0.7, 1.1)
    width = max(1, int(round(side * rng.uniform(0.03, 0.12))))
    im = np.zeros((side, side), np.uint8)
    for p in paths:
        p = p + rng.normal(0, 0.015, p.shape)  # a hand's wobble
        x = 0.5 + (p[:, 0] - 0.5) * aspect + slant * (0.5 - p[:, 1])
        pts = np.stack([x, p[:, 1]], 1) * side * 0.8 + side * 0.1
        cv2.polylines(im, [np.round(pts).astype(np.int32)], False, 255, width, lineType=cv2.LINE_AA)
    return im.astype(np.float32) / 255.0


@DATASETS.register("synthetic_photos")
def load_synthetic_photos(split: str = "test", n_per_digit: int = 100, side: int = 128, seed: int = 0) -> ItemSet:
    """Photographed font and stroke digits: half from fonts (cycling through `find_fonts`),
    half from `draw_stroke_digit`. Only a test split exists (it is not training data).

    Returns: ItemSet(modality="image") of (side, side, 3) uint8, sources
        "synthetic_photos:<font file stem|strokes>:<i>", groups "font" / "strokes".
    """
    if split != "test":
        raise ValueError("synthetic_photos is a test set only; use split='test'")
    rng = np.random.default_rng(seed)
    fonts = find_fonts()
    items, labels, sources, groups = [], [], [], []
    for i in range(n_per_digit):
        for d in range(10):
            if i % 2 == 0:
                font = fonts[(i // 2) % len(fonts)]
                ink, src, grp = render_font_digit(d, font), Path(font).stem.strip("<>"), "font"
            else:
                ink, src, grp = draw_stroke_digit(d, rng), "strokes", "strokes"
            items.append(simulate_photo(ink, rng, side))
            labels.append(d)
            sources.append(f"synthetic_photos:{src}:{len(sources)}")
            groups.append(grp)
    return ItemSet(modality="image", items=items, labels=np.array(labels), class_names=list(DIGIT_NAMES),
                   sources=sources, groups=groups, meta={"fonts": fonts, "seed": seed})
