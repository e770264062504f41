"""Validation of what visitors hand the app: every bad input gets a clear InputError."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from textanchor.demo.inputs import InputError, clean_text, load_recording, sketch_to_image


def _padded_word(word: str, sr: int, seconds: float) -> np.ndarray:
    """A spoken word centred in silence, exactly `seconds` long (the voice detector refuses tones)."""
    from conftest import spoken_word

    w = spoken_word(word, sr)
    out = np.zeros(int(round(seconds * sr)), np.float32)
    start = (len(out) - len(w)) // 2
    out[start: start + len(w)] = w
    return out


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
    # Ink is normalised to peak at 1 (modalities.picture), so opacity is the ink level relative
    # to the strongest stroke: a half-transparent pen next to an opaque one reads as half ink.
    v = _canvas(False, strokes=False)
    v["layers"][0][40:100, 95:105] = (37, 99, 235, 255)  # an opaque pen
    v["layers"][0][100:160, 95:105] = (37, 99, 235, 128)  # a half-transparent pen
    img = sketch_to_image(v)
    assert img.max() == 255 and img[70, 100] == 255 and img[130, 100] == 128 and img[10, 10] == 0
    v["layers"][0][40:100, 95:105] = 0  # the half-transparent pen alone is the whole digit: full ink
    img = sketch_to_image(v)
    assert img[130, 100] == 255 and img[10, 10] == 0


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
    from conftest import spoken_word

    word = spoken_word("five", 8000)
    multi = np.stack([word] * 8, 1)  # (T, 8)
    wave, sr = load_recording((8000, multi.T if channels_first else multi))
    assert sr == 8000 and wave.ndim == 1 and 0.5 * len(word) < len(wave) <= len(word)  # mono, cropped to the word
    np.testing.assert_allclose(wave, load_recording((8000, word))[0])  # the same as the mono word


def test_recording_limits_are_exact():
    with pytest.raises(InputError, match="invalid sample rate"):
        load_recording((0, np.ones(100, np.float32)))
    rate = 8000
    exact = _padded_word("three", rate, 30)
    wave, _ = load_recording((rate, exact))  # exactly 30 s is allowed (and cropped to the word)
    from textanchor.vad import PAD_S

    assert 0 < len(wave) < (1 + 2 * PAD_S) * rate  # the word and its context, not the 30 s
    with pytest.raises(InputError, match=r"too long \(31 s\)"):
        load_recording((rate, _padded_word("three", rate, 31)))
    with pytest.raises(InputError, match="too long"):
        load_recording((rate, np.concatenate([exact, [0.0]])))  # one sample more is not
    from conftest import spoken_word

    spiky = spoken_word("three", rate)
    mid = len(spiky) // 2  # inside the word, so the crop keeps these samples
    spiky[[mid - 3, mid]] = [np.inf, -np.inf]
    spiky[mid + 4] = np.nan
    wave, _ = load_recording((rate, spiky))
    assert np.isfinite(wave).all()
    cleaned = spiky.copy()
    cleaned[[mid - 3, mid, mid + 4]] = 0.0  # non-finite samples become exactly 0, nothing else changes
    starts = [o for o in range(len(cleaned) - len(wave) + 1) if np.array_equal(cleaned[o: o + len(wave)], wave)]
    assert len(starts) == 1 and starts[0] <= mid - 3 and mid + 4 < starts[0] + len(wave)


def test_long_file_message_gives_its_duration(tmp_path):
    long = tmp_path / "long.wav"
    sf.write(long, np.zeros(8000 * 40, np.float32) + 0.1, 8000)
    with pytest.raises(InputError, match=r"too long \(long\.wav lasts 40 s, longer than 30 s\); say one digit, under 30 s"):
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
    import math

    from textanchor.modalities.picture import MIN_DIGIT_PIXELS, MIN_DIGIT_SIDE

    side = math.ceil(MIN_DIGIT_SIDE * 200)  # the shortest mark a 200 px canvas accepts
    v = _canvas(False, strokes=False)
    v["layers"][0][100, 50:50 + side, 3] = 255  # exactly the minimum side: accepted
    assert sketch_to_image(v).max() == 255
    v["layers"][0][100, 50, 3] = 0  # one pixel shorter
    with pytest.raises(InputError, match="too small"):
        sketch_to_image(v)
    v = _canvas(False, strokes=False)  # long enough, with exactly the minimum number of ink pixels
    v["layers"][0][100, 50:50 + MIN_DIGIT_PIXELS - 1, 3] = 255
    v["layers"][0][100, 50 + side - 1, 3] = 255
    assert sketch_to_image(v).max() == 255
    v["layers"][0][100, 50 + MIN_DIGIT_PIXELS - 2, 3] = 0  # one ink pixel fewer
    with pytest.raises(InputError, match="too small"):
        sketch_to_image(v)
    with pytest.raises(InputError, match="empty"):
        sketch_to_image({"background": np.zeros((0, 0, 3), np.uint8), "layers": [], "composite": None})
    exact = tmp_path / "thirty.wav"
    sf.write(exact, _padded_word("eight", 8000, 30), 8000)
    wave, sr = load_recording(str(exact))  # exactly the limit is allowed (and cropped to the word)
    from textanchor.vad import PAD_S

    assert sr == 8000 and 0 < len(wave) < (1 + 2 * PAD_S) * 8000  # the word and its context
    longer = tmp_path / "longer.wav"
    sf.write(longer, np.concatenate([_padded_word("eight", 8000, 30), [0.0]]), 8000)
    with pytest.raises(InputError, match="too long"):
        load_recording(str(longer))
