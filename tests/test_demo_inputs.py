"""Validation of what visitors hand the app: every bad input gets a clear InputError."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from textanchor.demo.inputs import InputError, clean_text, load_recording, sketch_to_image


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
    # "empty" or "first", not merely "draw": the too-small message says "draw a larger digit".
    with pytest.raises(InputError, match="sketchpad (is empty|first)"):
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


# ------------------------------------------------------------ pinned by mutation testing (issue 12)
def test_stroke_opacity_is_the_ink_level():
    v = _canvas(False, strokes=False)
    v["layers"][0][40:160, 95:105] = (37, 99, 235, 128)  # a half-transparent pen
    img = sketch_to_image(v)
    assert img.max() == 128 and img[100, 100] == 128 and img[10, 10] == 0


@pytest.mark.parametrize("where", ["background", "composite"])
def test_an_uploaded_picture_is_read_from_background_or_composite(where):
    pic = np.full((64, 64, 3), 250, np.uint8)
    pic[10:54, 30:34] = 0
    blank = np.full((64, 64, 3), 250, np.uint8)
    value = {"background": blank, "layers": [np.zeros((64, 64, 4), np.uint8)], "composite": blank, where: pic}
    img = sketch_to_image(value)
    assert img[30, 31] > 200 and img[5, 5] < 10


def test_flat_canvases_with_a_little_noise_are_blank():
    rng = np.random.default_rng(0)
    for shade in (20, 240):
        bg = np.dstack([np.full((50, 50, 3), shade, np.uint8) + rng.integers(0, 7, (50, 50, 3)).astype(np.uint8),
                        np.full((50, 50), 255, np.uint8)])
        with pytest.raises(InputError, match="empty"):
            sketch_to_image({"background": bg, "layers": [], "composite": bg})


@pytest.mark.parametrize("channels_first", [False, True])
def test_eight_channels_either_way(channels_first):
    t = np.arange(8000) / 8000
    multi = np.stack([np.sin(2 * np.pi * 300 * t)] * 8, 1).astype(np.float32) * 0.5  # (T, 8)
    wave, sr = load_recording((8000, multi.T if channels_first else multi))
    assert wave.shape == (8000,)


def test_recording_limits_are_exact():
    with pytest.raises(InputError, match="invalid sample rate"):
        load_recording((0, np.ones(100, np.float32)))
    rate = 100
    tone = (0.5 * np.sin(np.arange(30 * rate))).astype(np.float32)
    assert load_recording((rate, tone))[0].shape == (3000,)  # exactly 30 s is allowed
    with pytest.raises(InputError, match=r"too long \(31 s\)"):
        load_recording((rate, np.concatenate([tone, tone[:rate]])))
    spiky = np.sin(np.arange(8000) / 5).astype(np.float32)
    spiky[[3, 7]] = [np.inf, -np.inf]
    spiky[9] = np.nan
    wave, _ = load_recording((8000, spiky))
    assert wave[3] == wave[7] == wave[9] == 0.0


def test_long_file_message_gives_its_duration(tmp_path):
    long = tmp_path / "long.wav"
    sf.write(long, np.zeros(8000 * 40, np.float32) + 0.1, 8000)
    with pytest.raises(InputError, match=r"too long \(40 s\); say one digit, under 30 s"):
        load_recording(str(long))


def test_video_path_accepts_every_upload_shape(tmp_path):
    from textanchor.demo.inputs import video_path

    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"\0")
    for value in (str(clip), {"video": str(clip)}, {"path": str(clip)}, {"video": {"path": str(clip)}},
                  {"video": None, "path": str(clip)}):
        assert video_path(value) == str(clip)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="notes.txt is not a video file"):
        video_path({"video": str(tmp_path / "notes.txt")})
    with pytest.raises(InputError, match="Upload a video file first"):
        video_path({"video": None})


def test_clean_text_limits_and_messages():
    from textanchor.demo.inputs import MAX_TEXT_CHARS

    assert clean_text("x" * MAX_TEXT_CHARS) == "x" * MAX_TEXT_CHARS
    with pytest.raises(InputError, match=f"too long \\({MAX_TEXT_CHARS + 1} characters\\)"):
        clean_text("x" * (MAX_TEXT_CHARS + 1))
    with pytest.raises(InputError, match="Type a word"):
        clean_text("  \n ")


def test_ink_and_blank_boundaries(tmp_path):
    from textanchor.demo.inputs import MIN_INK_PIXELS

    v = _canvas(False, strokes=False)
    v["layers"][0][100, 50:50 + MIN_INK_PIXELS, 3] = 255  # exactly the minimum: accepted
    assert sketch_to_image(v).max() == 255
    v["layers"][0][100, 50, 3] = 0
    with pytest.raises(InputError, match="too small"):
        sketch_to_image(v)
    with pytest.raises(InputError, match="empty"):
        sketch_to_image({"background": np.zeros((0, 0, 3), np.uint8), "layers": [], "composite": None})
    exact = tmp_path / "thirty.wav"
    sf.write(exact, 0.3 * np.sin(np.arange(8000 * 30) / 5), 8000)
    assert load_recording(str(exact))[0].shape == (8000 * 30,)  # exactly the limit is allowed
