"""The one picture path (`textanchor.modalities.picture`): each hard case of issue 9 with a
small picture built here, then the image modality, the sketch input and the data sets."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from textanchor.demo.inputs import InputError, sketch_to_image
from textanchor.modalities import create_modality
from textanchor.modalities.picture import NoDigitError, center_digit, extract_ink, load_picture, prepare_digit, stroke_width


def _seven(side: int = 200, width: int = 12) -> np.ndarray:
    """A 7 as ink (bright on black, uint8)."""
    ink = np.zeros((side, side), np.uint8)
    s = side / 200
    cv2.polylines(ink, [(np.array([[50, 40], [150, 40], [90, 165]]) * s).astype(np.int32)], False, 255, width)
    return ink


def _reference() -> np.ndarray:
    """The clean 7, prepared: what every variant below should come close to."""
    return prepare_digit(_seven())


def _close_to_reference(x: np.ndarray) -> float:
    """Cosine similarity to the clean reference (1 = identical)."""
    r = _reference().ravel()
    return float(x.ravel() @ r / (np.linalg.norm(x) * np.linalg.norm(r) + 1e-9))


def _photo(ink: np.ndarray, paper=0.72, shadow=0.45, pen=0.25, seed=0) -> np.ndarray:
    """Dark pen on grey paper under a lighting gradient and a strong soft shadow, JPEG'd."""
    rng = np.random.default_rng(seed)
    h, w = ink.shape
    yy, xx = np.mgrid[:h, :w] / h
    light = (1.1 - 0.3 * xx) * (1 - shadow * np.exp(-((yy - 1.0) ** 2 + (xx - 0.2) ** 2) / 0.08))
    a = ink.astype(np.float32) / 255
    img = (paper * (1 - a) + pen * a) * light + rng.normal(0, 0.01, (h, w))
    u8 = (np.clip(img, 0, 1) * 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, 60])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


def test_shadowed_photo_reads_the_digit_not_the_shadow():
    photo = _photo(_seven())
    assert photo[195, 40] < photo[5, 40] - 40  # the shadow really is darker than the paper
    ink = extract_ink(photo)
    assert ink[190:, :60].max() < 0.2  # the shadowed corner is no ink
    assert _close_to_reference(center_digit(ink)) > 0.85


def test_thin_pen_on_a_large_photo_is_thickened_like_mnist():
    thin = _seven(side=800, width=3)  # 3 px pen in an 800 px photo: 0.1 px at MNIST's size
    x = prepare_digit(_photo(thin))
    assert 1.5 < stroke_width(x > 0.4) < 4.0  # MNIST-like strokes, not a vanished line
    assert _close_to_reference(x) > 0.8


def test_polarity_comes_from_the_border():
    dark_on_light = 255 - _seven()
    light_on_dark = _seven()
    a, b = prepare_digit(dark_on_light), prepare_digit(light_on_dark)
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert a[0, 0] == 0 and a.max() > 0.9


def test_fat_white_on_black_digit_is_not_inverted_or_hollowed():
    fat = np.zeros((200, 200), np.uint8)
    cv2.ellipse(fat, (100, 100), (75, 92), 0, 0, 360, 255, 62)  # a 0 that is mostly ink
    assert (fat > 0).mean() > 0.5
    ink = extract_ink(fat)
    assert ink[100, 100] < 0.1 and ink[100, 40] > 0.9  # the hole stays a hole, the ring stays ink
    x = prepare_digit(fat)
    assert x[14, 14] < 0.2 and x[14, 6:10].max() > 0.8  # a ring at 28 px, strokes thinned


def test_opaque_layer_is_read_as_a_picture():
    grey = 255 - _seven()
    layer = np.dstack([grey, grey, grey, np.full_like(grey, 255)])  # alpha 255 everywhere
    img = sketch_to_image({"background": None, "layers": [layer], "composite": layer})
    assert _close_to_reference(prepare_digit(img)) > 0.95


def test_transparent_layer_strokes_come_from_alpha():
    layer = np.zeros((200, 200, 4), np.uint8)
    layer[..., 3] = _seven()  # black strokes (RGB 0) on a transparent layer
    assert _close_to_reference(prepare_digit(layer)) > 0.95


@pytest.mark.parametrize("name,picture,match", [
    ("dot", np.pad(np.full((5, 5), 255, np.uint8), 200), "too small"),
    ("blank page", np.full((300, 300), 240, np.uint8), "blank"),
    ("grey paper with grain", (np.random.default_rng(0).normal(180, 3, (300, 300))).clip(0, 255).astype(np.uint8), "blank"),
    ("texture", (np.random.default_rng(1).random((40, 40)) > 0.5).repeat(8, 0).repeat(8, 1).astype(np.uint8) * 255,
     "texture|separate marks"),
])
def test_no_digit_gets_a_clear_message(name, picture, match):
    with pytest.raises(NoDigitError, match=match):
        extract_ink(picture)
    with pytest.raises(InputError, match=match):
        sketch_to_image(picture)


def test_small_noise_and_border_blobs_are_dropped():
    img = np.full((200, 200), 230, np.uint8)
    img[60:160] = np.where(_seven()[60:160] > 0, 30, 230)  # part of a 7
    img[:, :8] = 20  # the dark table at the photo's edge
    img[20, 180] = 0  # a speck
    ink = extract_ink(img)
    assert ink[:, :8].max() == 0 and ink[20, 180] == 0 and ink.max() == 1


def test_ruled_paper_lines_are_not_ink():
    img = np.full((240, 240), 235, np.uint8)
    for y in range(20, 240, 30):  # blue-grey ruled lines, slightly slanted, across the page
        cv2.line(img, (0, y), (239, y + 4), 150, 2)
    img[_seven(240, 10) > 0] = 30
    ink = extract_ink(img)
    assert ink[5:15].max() == 0 and ink[225:].max() == 0  # lines away from the digit: gone
    assert _close_to_reference(center_digit(ink)) > 0.9  # lines crossing it: gone too


def test_exif_orientation_is_applied(tmp_path):
    im = Image.fromarray(255 - _seven())
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": how phones store portrait shots
    path = tmp_path / "phone.jpg"
    im.rotate(90, expand=True).save(path, exif=exif.tobytes())
    up = load_picture(str(path))
    assert _close_to_reference(prepare_digit(up)) > 0.9
    assert _close_to_reference(prepare_digit(np.asarray(Image.open(path)))) < 0.8  # raw pixels are sideways


def test_unreadable_file_gets_a_message(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    with pytest.raises(NoDigitError, match="notes.png"):
        load_picture(str(bad))
    with pytest.raises(InputError, match="notes.png"):
        sketch_to_image(str(bad))
    buf = io.BytesIO()
    Image.fromarray(255 - _seven()).save(buf, format="PNG")
    assert load_picture(io.BytesIO(buf.getvalue())).shape == (200, 200)


def test_modality_prepares_any_picture_and_blanks_a_digitless_item():
    mod = create_modality("image")
    x = mod.prepare([_seven(28, 2), _photo(_seven()), np.zeros((28, 28), np.uint8)])
    assert x.shape == (3, 1, 28, 28) and x.dtype == torch.float32
    assert x[2].abs().max() == 0 and mod.skipped == 1


@pytest.mark.parametrize("kind", ["digits", "affine", "none"])
def test_augmentation_keeps_shape_range_and_is_seeded(kind):
    mod = create_modality("image", augment=kind)
    x = mod.prepare([_seven(28, 2)] * 8)
    torch.manual_seed(0)
    a = mod.augment(x, torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    b = mod.augment(x, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and float(a.min()) >= 0 and float(a.max()) <= 1
    torch.testing.assert_close(a, b)
    assert (kind == "none") == bool(torch.equal(a, x))


def test_simulated_photos_are_read_back():
    from textanchor.data import load_dataset

    s = load_dataset("synthetic_photos", n_per_digit=2)
    assert len(s) == 20 and s.items[0].shape == (128, 128, 3) and set(s.groups) == {"font", "strokes"}
    mod = create_modality("image")
    mod.prepare(s.items)
    assert mod.skipped <= 2  # almost every photographed digit is found
