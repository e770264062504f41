"""The picture path's thresholds at their boundaries (`textanchor.modalities.picture`): pictures
built exactly on a limit and one step either side of it, with the answer worked out by hand.
Written for the mutation triage of issue 12: each test pins a radius, a kernel, a ratio or a
comparison that a surviving mutant changed (see docs/testing.md, "Mutation testing"). Ruled
lines and the paper level are in test_picture_lines.py."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from textanchor.modalities.picture import NoDigitError, _digit_components, _holes, _normalise_strokes, stroke_width

DOT_WIDTH = 3.819999933242798  # one ink pixel: 4 x OpenCV's 3x3 L2 distance step (0.955)


def _dot(side: int = 41, value: float = 1.0) -> np.ndarray:
    crop = np.zeros((side, side), np.float32)
    crop[side // 2, side // 2] = value
    return crop


def _ellipse(r: int, side: int = 41) -> np.ndarray:
    """OpenCV's (2r+1)-square elliptic structuring element, centred on a side x side canvas."""
    out = np.zeros((side, side), np.float32)
    c = side // 2
    out[c - r: c + r + 1, c - r: c + r + 1] = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return out


# ------------------------------------------------------------------- stroke normalisation
def test_a_single_pixel_measures_the_distance_step():
    assert stroke_width(_dot() > 0.5) == pytest.approx(DOT_WIDTH, abs=1e-9)


@pytest.mark.parametrize("target,r", [(20.0, 8), (10.0, 3), (6.0, 1)])
def test_a_dot_is_dilated_by_half_the_missing_width(target, r):
    """A 3.82 px "stroke" (one pixel) under a `target` px one: dilated by an elliptic kernel of
    radius round((target - 3.82) / 2), so the dot comes out as that kernel: r = 8, 3, 1 (the
    3x3 cross)."""
    np.testing.assert_array_equal(_normalise_strokes(_dot(), target), _ellipse(r))


@pytest.mark.parametrize("target", [5.0, 4.5])
def test_strokes_over_three_quarters_of_the_target_are_left_alone(target):
    """5 px: 3.82 >= 3.75, left alone, though (5 - 3.82) / 2 would round to a radius of 1."""
    np.testing.assert_array_equal(_normalise_strokes(_dot(), target), _dot())


def test_exactly_three_quarters_of_the_target_is_left_alone():
    target = DOT_WIDTH / 0.75  # 5.09: 0.75 * target == the dot's width, to the last bit
    assert 0.75 * target == stroke_width(_dot() > 0.5)
    np.testing.assert_array_equal(_normalise_strokes(_dot(), target), _dot())
    # just over it the dot is dilated by round(1.3 / 2) = 1: the cross
    np.testing.assert_array_equal(_normalise_strokes(_dot(), target * 1.001), _ellipse(1))


def test_a_crop_with_no_stroke_over_half_is_returned_as_is():
    faint = _dot(value=0.4)  # no pixel > 0.5: width 0, nothing to normalise
    np.testing.assert_array_equal(_normalise_strokes(faint, 20.0), faint)


def test_pixels_at_exactly_half_are_not_stroke():
    """A 1.0 dot in a 5x5 halo at 0.5: only the dot is measured (3.82 px -> r = 8); the halo
    dilates with it."""
    crop = np.zeros((41, 41), np.float32)
    crop[18:23, 18:23] = 0.5
    crop[20, 20] = 1.0
    expected = cv2.dilate(crop, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (17, 17)))
    np.testing.assert_array_equal(_normalise_strokes(crop, 20.0), expected)


def _square(h: int = 40, w: int = 40, pad: int = 20) -> np.ndarray:
    crop = np.zeros((h + 2 * pad, w + 2 * pad), np.float32)
    crop[pad: pad + h, pad: pad + w] = 1.0
    return crop


def test_exactly_twice_the_target_is_left_alone():
    crop = _square()
    width = stroke_width(crop > 0.5)  # 27.4 px
    assert width == pytest.approx(27.4085, abs=1e-3)
    np.testing.assert_array_equal(_normalise_strokes(crop, width / 2), crop)  # width == 2 * target
    # just under it: eroded by round((27.4 - 1.4 * 13.7) / 2) = 4: a 32 px square
    np.testing.assert_array_equal(_normalise_strokes(crop, width / 2 * 0.999), _square(32, 32, 24))


def test_a_fat_disc_is_eroded_by_an_elliptic_kernel_of_the_worked_radius():
    """A disc of radius 40 measures 53.3 px; at target 20 it is eroded by round((53.3 - 28) / 2)
    = 13: a 27 x 27 ellipse (a square kernel would cut the disc's diagonals further)."""
    disc = np.zeros((120, 120), np.float32)
    cv2.circle(disc, (60, 60), 40, 1.0, -1)
    assert stroke_width(disc > 0.5) == pytest.approx(53.32, abs=0.01)
    expected = cv2.erode(disc, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (27, 27)))
    np.testing.assert_array_equal(_normalise_strokes(disc, 20.0), expected)
    # and the same for a square: 40 px at target 5 loses round((27.4 - 7) / 2) = 10 px a side
    sq = _square(40, 41)
    np.testing.assert_array_equal(_normalise_strokes(sq, 5.0), _square(20, 21, 30))


def test_erosion_stops_short_of_a_quarter_of_the_ink():
    """The guard keeps the crop unless the eroded strokes keep over 25% of its ink pixels."""
    disc = np.zeros((120, 120), np.float32)
    cv2.circle(disc, (60, 60), 40, 1.0, -1)
    # target 5: radius round((53.3 - 7) / 2) = 23 would leave a disc of radius 17 (18% of it)
    np.testing.assert_array_equal(_normalise_strokes(disc, 5.0), disc)
    # a 40 px square at target 5 erodes by 10 px a side: 20 x 20 = 400 = exactly 25% of 1600: kept
    sq = _square()
    np.testing.assert_array_equal(_normalise_strokes(sq, 5.0), sq)
    # 40 x 41: 20 x 21 = 420 > 410: eroded ...
    sq = _square(40, 41)
    np.testing.assert_array_equal(_normalise_strokes(sq, 5.0), _square(20, 21, 30))


def test_the_guard_counts_pixels_over_half_only():
    """40 x 41 at target 5: the eroded 20 x 21 core (420) against 25% of the ink; 0.5 pixels are
    not ink on either side, so a 0.5 line beside the square changes nothing, and a 0.5 block
    whose erosion leaves 0.5 pixels does not tip the exact 25% of a 40 x 40 square."""
    sq = _square(40, 41)
    sq[5, :] = 0.5  # 81 pixels at 0.5: 0.25 * (1640 + 81) = 430 > 420 if they counted
    out = _normalise_strokes(sq, 5.0)
    assert out[5].max() == 0 and (out > 0.5).sum() == 420
    sq = np.zeros((80, 140), np.float32)
    sq[20:60, 20:60] = 1.0
    sq[20:60, 80:120] = 0.5  # eroded by the same 10 px: a 20 x 20 core at exactly 0.5
    assert stroke_width(sq > 0.5) == stroke_width(_square() > 0.5)
    np.testing.assert_array_equal(_normalise_strokes(sq, 5.0), sq)  # 400 > 400 is false: kept


# ------------------------------------------------------------------- the hole count
def _blot(h: int, w: int, hole: tuple[int, int], pad: int = 10) -> np.ndarray:
    """An h x w ink rectangle with one 1-row hole of `hole` = (length, 1) or a (rows, cols) one."""
    sel = np.zeros((h + 2 * pad, w + 2 * pad), bool)
    sel[pad: pad + h, pad: pad + w] = True
    rows, cols = hole
    y, x = pad + h // 2, pad + w // 2 - cols // 2
    sel[y: y + rows, x: x + cols] = False
    return sel


@pytest.mark.parametrize("h,w,hole,count", [
    (20, 20, (2, 2), 1),  # box 400: the 4 px floor; 2 x 2 = 4 is a hole
    (20, 20, (1, 3), 0),  # 3 px is a pinhole
    (96, 100, (1, 19), 0),  # box 9600: 0.002 x 9600 = 19.2 > 19
    (96, 100, (1, 20), 1),
    (99, 101, (1, 20), 1),  # box 9999: 19.998 <= 20; a box one row or column larger: 20.2 > 20
    (99, 101, (1, 19), 0),
])
def test_pinholes_are_under_a_fifth_of_a_percent_of_the_inks_box(h, w, hole, count):
    assert _holes(_blot(h, w, hole)) == count


def _cup(open_side: str, n: int = 30) -> np.ndarray:
    """A 3 px thick square outline with an 18 x 18 inside, moved against one edge of the frame and
    open there: its inside is paper reaching that edge, not a hole."""
    sel = np.zeros((n, n), bool)
    sel[3:27, 3:27] = True
    sel[6:24, 6:24] = False
    if open_side == "right":
        sel = np.roll(sel, 3, axis=1)
        sel[6:24, 24:] = False
    elif open_side == "bottom":
        sel = np.roll(sel, 3, axis=0)
        sel[24:, 6:24] = False
    elif open_side == "left":
        sel = np.roll(sel, -3, axis=1)
        sel[6:24, :6] = False
    elif open_side == "top":
        sel = np.roll(sel, -3, axis=0)
        sel[:6, 6:24] = False
    return sel


@pytest.mark.parametrize("side", ["right", "bottom", "left", "top"])
def test_paper_reaching_one_edge_is_not_a_hole(side):
    assert _holes(_cup("closed")) == 1
    assert _holes(_cup(side)) == 0


@pytest.mark.parametrize("turn", [0, 1, 2, 3])
def test_a_hole_one_pixel_from_the_edge_is_a_hole(turn):
    """A 1 px outline in a corner of the frame: its walls are the frame's first row and column,
    so the hole starts one pixel in, and counts."""
    sel = np.zeros((30, 30), bool)
    sel[:20, :20] = True
    sel[1:19, 1:19] = False
    assert _holes(np.rot90(sel, turn).copy()) == 1


# ------------------------------------------------------------------- which components are the digit
BLANK = r"^No digit found: the picture is blank or too faint\. Write the digit darker or larger\.$"


def test_no_ink_at_all_is_blank():
    with pytest.raises(NoDigitError, match=BLANK):
        _digit_components(np.zeros((40, 40), np.float32))


def test_sizes_in_the_message_are_working_pixels_by_default():
    ink = np.zeros((100, 100), np.float32)
    ink[40:45, 40:45] = 1.0  # 5 px of 100: under 8%
    with pytest.raises(NoDigitError, match=r"\(5 px in a 100 px picture\)"):
        _digit_components(ink)
    with pytest.raises(NoDigitError, match=r"\(20 px in a 400 px picture\)"):
        _digit_components(ink, scale=4.0)


def test_ink_is_normalised_by_its_ninetieth_percentile():
    """200 strokes pixels from 0.5 to 1.0 evenly: the 90th percentile is 0.5 + 0.5 * 179.1 / 199
    = 0.95 (the 91st would be 0.955, the maximum 1.0); the ink comes out divided by it, clipped
    at 1, with its one-pixel rim of paper."""
    ink = np.zeros((60, 60), np.float32)
    ink[20:30, 20:40] = np.linspace(0.5, 1.0, 200, dtype=np.float32).reshape(10, 20)
    out = _digit_components(ink)
    np.testing.assert_allclose(out, np.clip(ink / 0.95, 0.0, 1.0), rtol=0, atol=2e-6)


def test_the_threshold_never_drops_under_half_the_contrast_limit():
    """A faint digit (0.12) beside a fainter patch (0.045): 35% of the digit's level is 0.042 and
    Otsu's threshold is lower still, so the floor of 0.05 decides: the patch is not ink."""
    ink = np.zeros((60, 60), np.float32)
    ink[10:30, 10:30] = 0.12
    ink[40:50, 40:50] = 0.045
    u8 = (ink * 255).astype(np.uint8)
    assert cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0] < 0.045 * 255
    out = _digit_components(ink)
    expected = np.zeros_like(ink)
    expected[10:30, 10:30] = 1.0
    np.testing.assert_allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize("rows,cols,inner_wins", [(4, 10, True), (3, 13, False)])
def test_marks_inside_the_frame_win_if_a_tenth_of_the_largest(rows, cols, inner_wins):
    """A 400 px blob on the frame's corner and a 40 px mark inside: exactly a tenth, the mark is
    the digit and the blob goes; a 39 px mark loses, and both are kept (39 >= 5% of 400)."""
    ink = np.zeros((100, 100), np.float32)
    ink[0:20, 0:20] = 1.0
    ink[50: 50 + rows, 50: 50 + cols] = 1.0
    out = _digit_components(ink)
    assert out[50: 50 + rows, 50: 50 + cols].min() == 1.0
    assert out[0:20, 0:20].max() == (0.0 if inner_wins else 1.0)


@pytest.mark.parametrize("rows,cols,kept", [(4, 5, True), (1, 19, False)])
def test_marks_of_five_percent_of_the_digit_are_kept(rows, cols, kept):
    ink = np.zeros((100, 100), np.float32)
    ink[20:40, 20:40] = 1.0  # the digit: 400 px
    ink[60: 60 + rows, 60: 60 + cols] = 1.0  # 20 px (exactly 5%) or 19 px
    out = _digit_components(ink)
    assert out[60: 60 + rows, 60: 60 + cols].min() == (1.0 if kept else 0.0)
    assert out[60: 60 + rows, 60: 60 + cols].max() == (1.0 if kept else 0.0)


def test_the_kept_ink_has_a_one_pixel_rim():
    """A 1.0 core in a 0.2 halo 4 px wide: the halo is under the threshold (35% of the core) and
    only its ring one pixel round the core is kept, the antialiased edge of the stroke."""
    ink = np.zeros((90, 90), np.float32)
    ink[36:54, 36:54] = 0.2
    ink[40:50, 40:50] = 1.0
    expected = np.zeros_like(ink)
    expected[39:51, 39:51] = 0.2
    expected[40:50, 40:50] = 1.0
    np.testing.assert_allclose(_digit_components(ink), expected, atol=1e-6)


def test_pixels_at_otsus_threshold_are_paper_for_the_inks_level():
    """A 0.6-1.0 ramp of 400 stroke pixels and a 100 px patch at 0.2 (51/255): Otsu's threshold
    falls on the patch's level, and OpenCV counts pixels at the threshold as background. So the
    ink's level is the ramp's own 90th percentile, 0.6 + 0.4 * 359.1 / 399 = 0.96, not 0.95 (the
    ramp and the patch together); the patch is under 35% of it and goes."""
    ink = np.zeros((60, 60), np.float32)
    ink[10:30, 10:30] = np.linspace(0.6, 1.0, 400, dtype=np.float32).reshape(20, 20)
    ink[40:50, 40:50] = np.float32(51 / 255)
    u8 = (ink * 255).astype(np.uint8)
    assert cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0] == 51
    expected = np.zeros_like(ink)
    expected[10:30, 10:30] = np.clip(ink[10:30, 10:30] / 0.96, 0.0, 1.0)
    np.testing.assert_allclose(_digit_components(ink), expected, rtol=0, atol=2e-6)
