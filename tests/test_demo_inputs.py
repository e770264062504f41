"""Validation of what visitors hand the app: every bad input gets a clear InputError."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from textanchor.demo.inputs import InputError, clean_text, load_recording, sketch_to_image, thicken


def _canvas(dark: bool, strokes: bool = True, size: int = 200) -> dict:
    """A Sketchpad value: the background is opaque (white or dark), strokes live in the layer."""
    bg = np.full((size, size, 4), 30 if dark else 255, np.uint8)
    bg[..., 3] = 255
    layer = np.zeros((size, size, 4), np.uint8)
    if strokes:
        layer[40:160, 95:105] = (37, 99, 235, 255)  # a vertical bar: a "one"
    composite = bg.copy()
    composite[layer[..., 3] > 0] = layer[layer[..., 3] > 0]
    return {"background": bg, "layers": [layer], "composite": composite}


@pytest.mark.parametrize("dark", [False, True])
def test_sketch_reads_strokes_from_alpha_in_light_and_dark_mode(dark):
    img = sketch_to_image(_canvas(dark))
    assert img.dtype == np.uint8 and img.shape == (200, 200)
    assert img[100, 100] == 255 and img[10, 10] == 0  # bright ink on black, whatever the theme


@pytest.mark.parametrize("value", [None, _canvas(False, strokes=False), _canvas(True, strokes=False),
                                   {"background": None, "layers": [], "composite": None}])
def test_empty_sketch_is_refused(value):
    with pytest.raises(InputError, match="[Dd]raw"):
        sketch_to_image(value)


def test_a_dot_is_too_small():
    v = _canvas(False, strokes=False)
    v["layers"][0][100:103, 100:103, 3] = 255
    with pytest.raises(InputError, match="too small"):
        sketch_to_image(v)


def test_uploaded_picture_dark_ink_on_white_is_inverted():
    pic = np.full((64, 64, 3), 250, np.uint8)
    pic[10:54, 30:34] = 0
    for value in (pic, {"background": pic, "layers": [], "composite": pic}):
        img = sketch_to_image(value)
        assert img[30, 31] > 200 and img[5, 5] < 10


def test_thicken_widens_thin_strokes_only():
    thin = np.zeros((400, 400), np.float32)
    thin[50:350, 198:202] = 1.0  # 4 px wide, 300 px tall: far thinner than MNIST's proportions
    assert (thicken(thin) > 0.5).sum() > 4 * (thin > 0.5).sum()
    thick = np.zeros((28, 28), np.float32)
    thick[4:24, 12:16] = 1.0
    np.testing.assert_array_equal(thicken(thick), thick)


def test_recording_any_rate_stereo_int16():
    from conftest import spoken_word

    word = spoken_word("four", 44100)
    stereo = (np.stack([word] * 2, 1) * 60000).astype(np.int16)  # (T, 2), peak 30000
    wave, sr = load_recording((44100, stereo))
    assert sr == 44100 and wave.ndim == 1 and 0.5 * len(word) < len(wave) <= len(word)  # cropped to the word
    assert wave.dtype == np.float32 and 0.5 < np.abs(wave).max() <= 1.0
    wave2, _ = load_recording((44100, stereo.T))  # channels-first is accepted too
    np.testing.assert_allclose(wave, wave2)


@pytest.mark.parametrize("samples,sr,match", [
    (np.zeros(8000, np.float32), 8000, "silent"),
    (np.ones(100, np.float32) * 0.5, 8000, "too short"),
    (np.zeros(0, np.float32), 8000, "empty"),
    (np.random.default_rng(0).normal(0, 0.1, 8000 * 31).astype(np.float32), 8000, "too long"),
])
def test_bad_recordings(samples, sr, match):
    with pytest.raises(InputError, match=match):
        load_recording((sr, samples))


def test_recording_8bit_unsigned_loses_its_offset():
    from conftest import spoken_word

    u8 = np.round(128 + 100 * spoken_word("two", 8000)).astype(np.uint8)
    wave, _ = load_recording((8000, u8))
    assert abs(float(np.median(wave))) < 0.02


def test_recording_nan_is_cleaned():
    from conftest import spoken_word

    w = spoken_word("six", 8000)
    w[10] = np.nan
    wave, _ = load_recording((8000, w))
    assert np.isfinite(wave).all()


def test_recording_from_files(tmp_path):
    from conftest import spoken_word

    good = tmp_path / "x.wav"
    sf.write(good, spoken_word("nine", 22050)[:, None].repeat(2, 1), 22050)  # stereo 22 kHz
    wave, sr = load_recording(str(good))
    assert sr == 22050 and wave.ndim == 1
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio")
    with pytest.raises(InputError, match="notes.wav") as err:
        load_recording(str(text))
    assert "M4A/AAC" in str(err.value)  # says what is accepted
    long = tmp_path / "long.wav"
    sf.write(long, np.zeros(8000 * 40, np.float32) + 0.1, 8000)
    with pytest.raises(InputError, match="too long"):
        load_recording(str(long))
    with pytest.raises(InputError, match="Record"):
        load_recording(None)


def test_clean_text():
    assert clean_text("  the   number three ") == "the number three"
    for bad in ("", "   ", None, "x" * 600):
        with pytest.raises(InputError):
            clean_text(bad)
