"""Sketches of things (Quick, Draw! doodles, drawings made in the app, pen drawings on paper):
one grey (1, 28, 28) ink image each, laid out the way Quick, Draw!'s own bitmaps are.

The ink is found as for digits (`picture.extract_ink`), but with `picture.SKETCH`'s rules: a
drawing of a cat has many parts (eyes, whiskers) and holes, and none of them is noise. Layout:
crop to the ink, scale the longer side to fill the frame (Quick, Draw! scales every drawing to
its 256 px box before rendering the 28 px bitmaps) and centre the box, not the centre of mass.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .base import MODALITIES
from .image import ImageModality
from .picture import SKETCH, NoDigitError, extract_ink


def centreline_width(on: np.ndarray) -> float:
    """Typical stroke width in px of a boolean ink mask (H, W), from the median distance d to the
    paper along the strokes' centre lines (the ridge of OpenCV's exact distance transform): 2d - 1,
    so a line n px wide gives n. 0 for no ink. (`picture.stroke_width`, the digits' mean-based
    measure, reads a 5 px line as 6.9 px: fine for MNIST's strokes at 80 px, too coarse for the
    1-3 px strokes of 28 px sketches.)"""
    if not on.any():
        return 0.0
    # A 1 px border of paper: a crop that is all ink (a straight line cut to its own rows, a filled
    # square) has no paper to measure the distance to.
    on = np.pad(on, 1)
    dt = cv2.distanceTransform(on.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ridge = on & (dt >= cv2.dilate(dt, np.ones((3, 3), np.uint8)))
    return 2.0 * float(np.median(dt[ridge])) - 1.0


def layout_sketch(ink: np.ndarray, size: int = 28, fill: float = 1.0, stroke_px: float = 0.0,
                  max_stroke_px: float = 0.0) -> np.ndarray:
    """Ink bright on black (any size) -> (size, size) float32: the ink's box scaled to `fill` of
    the side, aspect kept, centred. When the drawing is shrunk, strokes thinner than `stroke_px`
    at `size` are thickened to it and strokes wider than `max_stroke_px` thinned to 1.5x it (0:
    as drawn); a drawing no larger than `size` (a data set's bitmap) is never touched. All zeros
    when there is no ink."""
    ink = np.asarray(ink, np.float32)
    on = ink > 0.05 * max(float(ink.max()), 1e-6)
    if not on.any():
        return np.zeros((size, size), np.float32)
    rows, cols = np.nonzero(on)
    crop = ink[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    h, w = crop.shape
    box = max(1, round(size * fill))
    s = box / max(h, w)
    if stroke_px > 0 and s < 1:
        # A thin line shrunk k times fades to 1/k of its peak: thicken it to the width it should
        # have after the shrink first, as Quick, Draw!'s renderer drew every stroke ~ 3 px wide at 28 px.
        # Only by what it lacks: a broad brush thickened as much as a pen turns a house into a blob
        # (a 60 px brush on a 480 px drawing read as "rainbow").
        # A brush broader than Quick, Draw!'s widest strokes (`max_stroke_px` at `size`) is eroded
        # to the pen width: its strokes would otherwise fill a small drawing's holes.
        width = centreline_width(on[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1])
        k = int(round(stroke_px / s - width))
        if k > 1:
            crop = cv2.dilate(crop, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        elif max_stroke_px > 0 and width * s > max_stroke_px:
            k = int(round(width - 1.5 * stroke_px / s))
            crop = cv2.erode(crop, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    small = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    peak = float(small.max())
    if peak > 0:
        small = small / peak  # a faint pen and a bold one end at the same level
    canvas = np.zeros((size, size), np.float32)
    top, left = (size - nh) // 2, (size - nw) // 2
    canvas[top: top + nh, left: left + nw] = small
    return np.clip(canvas, 0.0, 1.0)


@MODALITIES.register("sketch")
class SketchModality(ImageModality):
    name = "sketch"
    default_encoder = "image_cnn"
    generic_files = False  # .png files are read by `image` unless a checkpoint has only sketches

    @dataclass
    class Config(ImageModality.Config):
        fill: float = 1.0  # the drawing's box spans this fraction of the side
        stroke_px: float = 2.0  # minimum stroke width at `size` px (Quick, Draw!'s bitmaps: ~2-3)
        max_stroke_px: float = 3.5  # a wider brush is thinned (95 % of Quick, Draw!'s bitmaps: <= 3.2)
        max_rotate_deg: float = 8.0
        max_shift: float = 0.05
        max_scale: float = 0.1

    def _one(self, img) -> np.ndarray:
        c = self.cfg
        a = np.asarray(img)
        try:  # one path for data set bitmaps and visitors' drawings alike
            ink = extract_ink(a, rules=SKETCH)
        except NoDigitError:
            self.skipped += 1
            return np.zeros((1, c.size, c.size), np.float32)
        return layout_sketch(ink, c.size, c.fill, c.stroke_px, c.max_stroke_px)[None]

    def example_items(self, n=3, seed=0):
        """Random strokes on white, a drawing layer (RGBA) and a Quick, Draw!-style bitmap."""
        rng = np.random.default_rng(seed)
        out = []
        for i in range(n):
            kind = i % 3
            canvas = np.zeros((200, 240), np.uint8)
            for _ in range(3):
                p = rng.integers(20, 180, size=(2, 2))
                cv2.line(canvas, tuple(map(int, p[0])), tuple(map(int, p[1])), 255, 6)
            if kind == 0:
                out.append(255 - canvas)  # black pen on white paper
            elif kind == 1:
                rgba = np.zeros((200, 240, 4), np.uint8)
                rgba[..., 2] = 200
                rgba[..., 3] = canvas
                out.append(rgba)
            else:
                out.append(cv2.resize(canvas, (28, 28), interpolation=cv2.INTER_AREA))
        return out, None

    def render(self, item, sample_rate=None):
        """("image", (28, 28) uint8): the drawing as the model sees it, dark ink on white."""
        return "image", ((1.0 - self._one(item)[0]) * 255).round().astype(np.uint8)

    def query_item(self, value):
        """A Sketchpad value (or a picture) -> the drawing's ink, via the app's checks."""
        from ..demo.inputs import sketch_to_image

        return sketch_to_image(value, rules=SKETCH), None
