"""The image modality's options and outputs by known answers: what each `Config` field changes in
the prepared tensor, the affine augmentation's ranges, how files are read for each channel count
and how a prepared item is rendered. Pictures are made here; randomness is seeded."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from textanchor.demo.inputs import sketch_to_image
from textanchor.modalities import create_modality
from textanchor.modalities.picture import stroke_width


def _ring(pen: int, side: int = 200) -> np.ndarray:
    img = np.zeros((side, side), np.uint8)
    cv2.ellipse(img, (side // 2, side // 2), (70, 84), 0, 0, 360, 255, pen)
    return img


def test_unknown_augment_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"^unknown image augment 'bogus'; use 'digits', 'affine' or 'none'$"):
        create_modality("image", augment="bogus")


def test_size_and_stroke_fraction_reach_the_prepared_digit():
    x = create_modality("image", size=32).prepare([_ring(4)])
    assert x.shape == (1, 1, 32, 32)
    widths = {f: stroke_width(create_modality("image", stroke_fraction=f).prepare([_ring(2)])[0, 0].numpy() > 0.5)
              for f in (0.0, 0.12, 0.25)}
    assert widths[0.0] < 3.0 < widths[0.12] < widths[0.25]  # 0: strokes as drawn (a 2 px pen: thin)


def test_without_polarity_fix_the_grey_is_read_as_it_is():
    """invert_light_background=False: the picture's grey is the ink, so a dark-on-light page
    gives a light page; the usual path turns it into bright ink on black."""
    page = 255 - _ring(12)
    raw = create_modality("image", invert_light_background=False).prepare([page])[0, 0].numpy()
    fixed = create_modality("image").prepare([page])[0, 0].numpy()
    assert raw[14, 14] > 0.9 and fixed[14, 14] < 0.1  # the paper inside the 0 is "ink" when read as is


def test_without_centring_a_transparent_layer_is_read_from_its_alpha():
    layer = np.zeros((32, 32, 4), np.uint8)  # black strokes on a transparent layer
    layer[:16, :16, 3] = 255
    x = create_modality("image", center=False, size=8).prepare([layer])[0, 0].numpy()
    assert x[:3, :3].min() > 0.9 and x[5:, 5:].max() < 0.05


def test_every_digitless_item_is_counted():
    mod = create_modality("image")
    x = mod.prepare([np.zeros((28, 28), np.uint8)] * 3)
    assert mod.skipped == 3 and not x.any()


# ------------------------------------------------------------------- augmentation
def _dots(b: int = 64) -> torch.Tensor:
    x = torch.zeros(b, 1, 28, 28)
    x[:, :, 13:15, 13:15] = 1.0  # a blob at the centre
    return x


def _com(x: torch.Tensor) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    m = x[:, 0].sum((1, 2))
    return torch.stack([(x[:, 0] * ys).sum((1, 2)) / m, (x[:, 0] * xs).sum((1, 2)) / m], 1)


def test_affine_with_zero_ranges_is_the_identity():
    mod = create_modality("image", augment="affine", max_rotate_deg=0.0, max_shift=0.0, max_scale=0.0)
    x = create_modality("image").prepare([_ring(8)])
    torch.testing.assert_close(mod.augment(x, torch.Generator().manual_seed(0)), x, atol=1e-5, rtol=0)
    digits = create_modality("image", augment="digits", max_rotate_deg=0.0, max_shift=0.0, max_scale=0.0)
    torch.manual_seed(0)
    changed = (digits.augment(x.repeat(8, 1, 1, 1), torch.Generator().manual_seed(0)) - x).abs().amax((1, 2, 3))
    assert changed.max() > 0.1  # "digits" also jitters strokes, blurs and adds noise


def test_affine_shifts_cover_plus_minus_a_tenth_of_the_side():
    mod = create_modality("image", augment="affine", max_rotate_deg=0.0, max_shift=0.1, max_scale=0.0)
    d = _com(mod.augment(_dots(), torch.Generator().manual_seed(0))) - 13.5
    assert d.abs().max() <= 2.8 + 0.05  # 0.1 of 28 px
    for axis in (0, 1):  # both directions on both axes, most of the range, in 64 draws
        assert d[:, axis].max() > 2.0 and d[:, axis].min() < -2.0


def test_affine_scale_and_rotation_stay_in_their_ranges():
    bar = torch.zeros(64, 1, 28, 28)
    bar[:, :, 13:15, 4:24] = 1.0  # a 20 px horizontal bar
    scaled = create_modality("image", augment="affine", max_rotate_deg=0.0, max_shift=0.0, max_scale=0.1)
    area = scaled.augment(bar, torch.Generator().manual_seed(0)).sum((1, 2, 3)) / 40  # zoomed by s: s ** 2
    assert 0.9 ** 2 - 0.03 <= area.min() and area.max() <= 1.1 ** 2 + 0.03
    assert area.min() < 0.9 and area.max() > 1.1
    turned = create_modality("image", augment="affine", max_rotate_deg=10.0, max_shift=0.0, max_scale=0.0)
    y = turned.augment(bar, torch.Generator().manual_seed(0))[:, 0]
    ys, xs = torch.meshgrid(torch.arange(28.0) - 13.5, torch.arange(28.0) - 13.5, indexing="ij")
    m = y.sum((1, 2))
    cxx, cyy, cxy = [(y * v).sum((1, 2)) / m for v in (xs * xs, ys * ys, xs * ys)]
    angle = torch.rad2deg(0.5 * torch.atan2(2 * cxy, cxx - cyy))
    assert angle.abs().max() <= 11 and angle.max() > 6 and angle.min() < -6


@pytest.mark.parametrize("kind", ["digits", "affine"])
def test_augmentation_follows_the_generator_handed_to_it(kind):
    mod = create_modality("image", augment=kind)
    x = create_modality("image").prepare([_ring(8)] * 8)
    torch.manual_seed(0)
    a = mod.augment(x, torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    b = mod.augment(x, torch.Generator().manual_seed(1))
    assert not torch.equal(a, b)  # a different generator, the same global seed: different draws
    if kind == "affine":  # affine draws from the generator alone
        torch.testing.assert_close(mod.augment(x, torch.Generator().manual_seed(0)), a)


# ------------------------------------------------------------------- files, app, rendering
def test_read_file_keeps_alpha_for_digits_and_gives_rgb_for_colour(tmp_path):
    path = tmp_path / "layer.png"
    Image.new("RGBA", (5, 6), (0, 0, 0, 0)).save(path)
    assert create_modality("image").read_file(path).shape == (6, 5, 4)
    for mode in ("RGBA", "L"):
        Image.new(mode, (5, 6)).save(path)
        a = create_modality("image", channels=3, center=False).read_file(path)
        assert a.shape == (6, 5, 3) and a.dtype == np.uint8


def test_the_query_is_a_numpy_rgba_sketch_read_like_the_app():
    kind, props = create_modality("image").query_component()
    assert kind == "sketchpad" and props["type"] == "numpy" and props["image_mode"] == "RGBA"
    pic = 255 - _ring(12)
    item, rate = create_modality("image").query_item(pic)
    np.testing.assert_array_equal(item, sketch_to_image(pic))
    assert rate is None


def test_render_turns_unit_floats_into_bytes():
    mod = create_modality("image")
    kind, a = mod.render(np.array([[0.0, 0.5, 1.0, -0.2]], np.float32))
    assert kind == "image" and a.dtype == np.uint8
    np.testing.assert_array_equal(a, [[0, 128, 255, 0]])
    np.testing.assert_array_equal(mod.render(np.ones((2, 2)))[1], 255)
    a = mod.render(np.array([[0.0, 200.0]]))[1]  # 0-255 floats
    assert a.dtype == np.uint8 and a.tolist() == [[0, 200]]
    u8 = np.array([[3, 250]], np.uint8)
    assert mod.render(u8)[1] is not None and np.array_equal(mod.render(u8)[1], u8)


def test_plain_resize_averages_fine_detail():
    """center=False: a shrink averages (antialiased), so 1-in-4 hatching becomes 0.25 grey."""
    img = np.zeros((32, 32), np.uint8)
    img[:, 0::4] = 255
    x = create_modality("image", center=False, size=8).prepare([img])[0, 0].numpy()
    np.testing.assert_allclose(x[2:-2, 2:-2], 0.25, atol=0.02)


def test_a_small_digit_size_prepares():
    """The digit box keeps MNIST's proportion (20 px of 28) at any size (it was 20 px always,
    so a size under 20 crashed)."""
    x = create_modality("image", size=16).prepare([_ring(4)])
    assert x.shape == (1, 1, 16, 16)
    rows, cols = np.nonzero(x[0, 0].numpy() > 0.05)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 <= round(16 * 20 / 28) + 1


@pytest.mark.parametrize("size, box", [(28, 20), (56, 40), (16, 11)])
def test_the_digit_box_is_mnists_proportion(size, box):
    """A 2:1 bar fills exactly a `box` px long side (MNIST: 20 of 28); the other side is half."""
    img = np.zeros((200, 200), np.uint8)
    img[20:180, 60:140] = 255  # 160 x 80, solid: no stroke change
    x = create_modality("image", size=size, stroke_fraction=0.0).prepare([img])[0, 0].numpy()
    rows, cols = np.nonzero(x > 0.5)
    assert rows.max() - rows.min() + 1 == box and abs((cols.max() - cols.min() + 1) - box / 2) <= 1
