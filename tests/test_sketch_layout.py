"""How a drawing becomes the 28 px bitmap the sketch branch reads: whatever brush a visitor drew
with, the strokes end up as wide as Quick, Draw!'s; a data set's own bitmaps are left as they are."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from textanchor.modalities.sketch import layout_sketch, centreline_width


def house(width: int, side: int = 600) -> np.ndarray:
    """A house outline, ink bright on black, drawn with a round brush `width` px wide."""
    ink = np.zeros((side, side), np.float32)
    c, s = side / 2, 0.4 * side
    for pts in ([(-0.8, 0), (-0.8, 1), (0.8, 1), (0.8, 0), (-0.8, 0)], [(-1, 0), (0, -1), (1, 0)]):
        p = np.array([[c + x * s, c + y * s] for x, y in pts], np.int32)
        cv2.polylines(ink, [p], False, 1.0, width)
    return ink


@pytest.mark.parametrize("width", [3, 9, 27])
def test_stroke_width_measures_the_brush(width):
    on = cv2.line(np.zeros((200, 200), np.uint8), (20, 100), (180, 100), 1, width) > 0
    drawn = on[:, 100].sum()  # OpenCV's line is a little wider than its `thickness`
    assert centreline_width(on) == pytest.approx(drawn, abs=1.0)
    assert centreline_width(np.zeros((5, 5), bool)) == 0.0


@pytest.mark.parametrize("width", [2, 12, 40, 70])
def test_any_brush_ends_as_wide_as_a_quickdraw_stroke(width):
    out = layout_sketch(house(width), 28, stroke_px=2.0, max_stroke_px=3.5)
    w = centreline_width(out > 0.5)
    assert 1.0 <= w <= 3.5, f"a {width} px brush became {w:.1f} px strokes at 28 px"
    # the outline keeps its hole: the middle of the house stays paper
    assert out[17:24, 8:20].mean() < 0.25


def test_a_bitmap_of_the_data_set_is_never_thinned_or_thickened():
    """Quick, Draw!'s bitmaps are already 28 px: neither rule may touch them."""
    bitmap = cv2.resize(house(60, side=280), (28, 28), interpolation=cv2.INTER_AREA)
    a = layout_sketch(bitmap, 28, stroke_px=2.0, max_stroke_px=3.5)
    b = layout_sketch(bitmap, 28)
    assert np.allclose(a, b)


@pytest.mark.parametrize("shape", ["line", "thick line", "square"])
def test_a_drawing_that_is_all_ink_after_the_crop_is_laid_out(shape):
    """A straight line cut to its own rows, or a filled square, has no paper inside its box."""
    ink = np.zeros((300, 300), np.float32)
    if shape == "square":
        ink[100:200, 100:200] = 1
    else:
        ink[150: 153 if shape == "line" else 160, 20:280] = 1
    assert 0 < centreline_width(ink > 0) < 200
    out = layout_sketch(ink, 28, stroke_px=2.0, max_stroke_px=3.5)
    assert out.shape == (28, 28) and np.isfinite(out).all() and out.max() == pytest.approx(1.0)
