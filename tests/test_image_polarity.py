"""Image preparation by behaviour, whatever rule implements it: a digit reaches the encoder as
bright ink on black (MNIST's convention), the same tensor whether it was written dark on light or
light on dark, and centred wherever it sat on the page. The same holds for the app's sketch and
picture input."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from textanchor.demo.inputs import sketch_to_image
from textanchor.modalities import create_modality

GOLDEN = Path(__file__).resolve().parent / "golden"
ASSETS = Path(__file__).resolve().parents[1] / "assets"


def _mnist_seven() -> np.ndarray:
    """A real MNIST seven (28x28) from the golden sample, as bright ink on black. The data
    folder's copy of MNIST (and so the golden sample) stores the digits dark on white."""
    path = sorted((GOLDEN / "mnist").glob("seven_*.png"))[0]
    stored = np.asarray(Image.open(path).convert("L"))
    assert stored[0, 0] == 255, "the golden MNIST sample is expected dark on white"
    return 255 - stored


def _page(digit: np.ndarray, size: int = 120, at: tuple[int, int] = (46, 46), scale: int = 1) -> np.ndarray:
    """`digit` (bright on black) pasted on a larger black page at `at`, optionally upscaled."""
    d = np.kron(digit, np.ones((scale, scale), np.uint8)) if scale > 1 else digit
    page = np.zeros((size, size), np.uint8)
    page[at[0]: at[0] + d.shape[0], at[1]: at[1] + d.shape[1]] = d
    return page


def _looks_like_mnist(x: np.ndarray, peak: float = 0.8) -> None:
    """Bright ink on black: dark corners, a few bright pixels, a mostly dark canvas."""
    assert x.shape == (28, 28)
    assert x[:3, :3].max() < 0.05 and x[-3:, -3:].max() < 0.05, "the background is not black"
    assert x.max() > peak, "no bright ink"
    assert (x > 0.5).mean() < 0.3, "most of the canvas is bright: the polarity is inverted"


def _centre_of_mass(x: np.ndarray) -> tuple[float, float]:
    ys, xs = np.mgrid[: x.shape[0], : x.shape[1]]
    return float((ys * x).sum() / x.sum()), float((xs * x).sum() / x.sum())


@pytest.fixture(scope="module")
def image():
    return create_modality("image")


def _prep(mod, img) -> np.ndarray:
    return mod.prepare([img])[0, 0].numpy()


def _ink_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of the ink masks (over half the peak) of two bright-on-black pictures."""
    ma, mb = a > 0.5 * max(float(a.max()), 1e-6), b > 0.5 * max(float(b.max()), 1e-6)
    union = (ma | mb).sum()
    return float((ma & mb).sum() / union) if union else 1.0


def _alike(a: np.ndarray, b: np.ndarray) -> bool:
    """The same digit up to a few rim pixels: the two polarities take float paths that differ
    by an ulp, which can move a threshold by one grey level (a handful of pixels of 784), while
    a polarity bug swaps ink and paper (or loses the digit) and breaks both bounds."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    scale = 255.0 if max(a.max(), b.max()) > 1.0 else 1.0
    return a.shape == b.shape and _ink_iou(a, b) >= 0.95 and float(np.abs(a - b).mean()) / scale < 0.01


def _flip_polarity_rule(monkeypatch) -> None:
    """Turn the polarity rule around: the frame is read as the opposite of what it is."""
    from textanchor.modalities import picture

    true_paper = picture.paper_level
    monkeypatch.setattr(picture, "paper_level", lambda g: 1.0 - true_paper(g))


def _twins(scale: int) -> tuple[np.ndarray, np.ndarray]:
    light_on_dark = _page(_mnist_seven(), scale=scale, size=40 * scale, at=(5 * scale, 7 * scale))
    return light_on_dark, 255 - light_on_dark


@pytest.mark.parametrize("scale", [1, 3])
def test_dark_on_light_and_light_on_dark_twins_prepare_alike(image, scale):
    light_on_dark, dark_on_light = _twins(scale)
    a, b = _prep(image, light_on_dark), _prep(image, dark_on_light)
    _looks_like_mnist(a)
    _looks_like_mnist(b)
    assert _alike(a, b), (_ink_iou(a, b), float(np.abs(a - b).max()))
    assert (np.abs(a - b) > 1e-5).sum() <= 10  # only a few rim pixels may differ


@pytest.mark.parametrize("scale", [1, 3])
def test_a_flipped_polarity_rule_is_caught(image, scale, monkeypatch):
    """The tolerance above is tight enough that a polarity bug does not slip through it."""
    twins = _twins(scale)
    good = [_prep(image, t) for t in twins]
    _flip_polarity_rule(monkeypatch)
    for g, t in zip(good, twins):
        assert not _alike(g, _prep(image, t)), "a flipped polarity rule went unnoticed"


def test_colour_and_grey_forms_agree(image):
    dark_on_light = 255 - _page(_mnist_seven())
    rgb = np.repeat(dark_on_light[..., None], 3, axis=2)
    rgba = np.dstack([np.repeat((255 - dark_on_light)[..., None], 3, axis=2), np.full(dark_on_light.shape, 255, np.uint8)])
    g = _prep(image, dark_on_light)
    np.testing.assert_allclose(_prep(image, rgb), g, atol=1e-5)
    np.testing.assert_allclose(_prep(image, rgba), g, atol=1e-5)  # light on dark, with an opaque alpha


@pytest.mark.parametrize("stored_dark_on_white", [False, True])
def test_mnist_itself_is_left_as_it_is(image, stored_dark_on_white):
    """A centred MNIST digit is already what the encoder expects: preparation barely moves it,
    in either of the two ways MNIST copies store it."""
    d = _mnist_seven()
    x = _prep(image, 255 - d if stored_dark_on_white else d)
    _looks_like_mnist(x)
    assert np.corrcoef(x.ravel(), d.ravel() / 255.0)[0, 1] > 0.9


@pytest.mark.parametrize("dark_ink", [False, True])
def test_a_shifted_digit_is_centred(image, dark_ink):
    d = _mnist_seven()
    middle, corner = _page(d, at=(46, 46)), _page(d, at=(3, 88))
    if dark_ink:
        middle, corner = 255 - middle, 255 - corner
    a, b = _prep(image, middle), _prep(image, corner)
    np.testing.assert_allclose(a, b, atol=1e-5)
    cy, cx = _centre_of_mass(b)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1, (cy, cx)
    _looks_like_mnist(b)


def test_a_small_digit_is_scaled_to_the_mnist_box(image):
    """A 10 px digit on a page fills MNIST's 20 px box like a large one; on a page so big that
    it is a speck (under `picture.MIN_DIGIT_SIDE` of the side) it is refused with a message
    that says so, never a bare error, and the modality prepares it as a blank input."""
    from textanchor.modalities.picture import NoDigitError, prepare_digit

    ten = np.asarray(Image.fromarray(_mnist_seven()).resize((10, 10), Image.BILINEAR))
    small = _page(ten, size=80, at=(20, 60))  # its ink spans 8 px: 10% of the page
    x = _prep(image, small)
    assert x.max() > 0, "a small but legible digit was dropped"
    rows, cols = np.where(x > 0.1)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 >= 18
    _looks_like_mnist(x, peak=0.4)  # shrunk to 10 px and back: the strokes are blurred
    assert _alike(x, _prep(image, 255 - small))  # either polarity
    speck = _page(ten, size=200, at=(20, 150))  # 8 px of ink in 200 px: 4%
    with pytest.raises(NoDigitError, match=r"too small to read \(8 px in a 200 px picture\)"):
        prepare_digit(speck)
    assert not _prep(image, speck).any()


# ----------------------------------------------------------------------------------- the app
@pytest.mark.parametrize("as_dict", [False, True])
def test_uploaded_pictures_of_both_polarities_give_the_same_sketch(as_dict):
    pic = np.repeat(_page(_mnist_seven(), scale=4, size=160)[..., None], 3, axis=2)  # light on dark
    out = []
    for p in (pic, 255 - pic):
        value = {"background": p, "layers": [], "composite": p} if as_dict else p
        out.append(sketch_to_image(value))
    assert _alike(out[0], out[1]), _ink_iou(out[0], out[1])  # a few rim pixels of 25,600 may differ
    assert (out[0] != out[1]).mean() < 0.002
    assert out[0][:5, :5].max() == 0 and out[0].max() == 255  # bright ink on black
    assert out[1][:5, :5].max() == 0 and out[1].max() == 255


def test_a_flipped_polarity_rule_is_caught_in_the_app(monkeypatch):
    from textanchor.demo.inputs import InputError

    pic = np.repeat(_page(_mnist_seven(), scale=4, size=160)[..., None], 3, axis=2)
    good = [sketch_to_image(p) for p in (pic, 255 - pic)]
    _flip_polarity_rule(monkeypatch)
    for g, p in zip(good, (pic, 255 - pic)):
        try:
            flipped = sketch_to_image(p)
        except InputError:
            continue  # refused outright: caught too
        assert not _alike(g, flipped), "a flipped polarity rule went unnoticed"


def test_example_sketch_prepares_like_mnist(image):
    """The shipped example (dark pen on white paper, 280 px) as the page and the encoder see it."""
    pic = np.asarray(Image.open(ASSETS / "sketch_seven.png").convert("RGB"))
    for img in (pic, sketch_to_image(pic)):
        x = _prep(image, img)
        _looks_like_mnist(x)
        cy, cx = _centre_of_mass(x)
        assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1


# ----------------------------------------------------------------------------------- natural images
def test_rgb_preparation_keeps_colours_in_unit_range():
    """channels=3 (video frames, photos): no inversion, no centring, RGB order and [0, 1] kept,
    uint8 and float inputs alike, a grey picture repeated on the three channels."""
    mod = create_modality("image", channels=3, center=False, size=8)
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[..., 0] = 255  # pure red, a light image: never inverted in colour mode
    rgb[8:, :, 2] = 255
    x = mod.prepare([rgb])[0].numpy()
    assert x.shape == (3, 8, 8)
    np.testing.assert_allclose(x[0], 1.0, atol=1e-5)
    np.testing.assert_allclose(x[1], 0.0, atol=1e-5)
    assert x[2, :3].max() < 0.05 and x[2, 5:].min() > 0.95
    np.testing.assert_allclose(mod.prepare([rgb.astype(np.float32) / 255])[0].numpy(), x, atol=1e-5)
    grey = np.full((16, 16), 200, np.uint8)
    np.testing.assert_allclose(mod.prepare([grey])[0].numpy(), 200 / 255, atol=1e-5)
    rgba = np.dstack([rgb, np.full((16, 16), 255, np.uint8)])
    np.testing.assert_allclose(mod.prepare([rgba])[0].numpy(), x, atol=1e-5)  # alpha dropped


def test_grey_without_centring_is_a_plain_resize():
    mod = create_modality("image", center=False, size=8)
    img = np.zeros((32, 32), np.uint8)
    img[:16, :16] = 255  # top-left quarter, dark background: stays where it is
    x = mod.prepare([img])[0, 0].numpy()
    assert x.shape == (8, 8) and x[:3, :3].min() > 0.9 and x[5:, 5:].max() < 0.05
