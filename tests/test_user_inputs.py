"""What the app does with each shape of user input (textanchor/demo/inputs.py), to the exact
answer: which layer or file is read, how layers combine, where "blank" ends, and the very
message a visitor sees for each refusal. Complements test_demo_inputs.py; written from the
survivors of a mutmut run (scripts/mutation_check.py mutmut inputs)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from textanchor.demo.inputs import InputError, _is_blank, clean_text, load_recording, sketch_to_image, video_path

S = 200  # canvas side


def layer(rows=slice(0, 0), cols=slice(0, 0), alpha=255, size=S) -> np.ndarray:
    """A transparent RGBA drawing layer with one rectangle of ink."""
    a = np.zeros((size, size, 4), np.uint8)
    a[rows, cols] = (20, 20, 20, alpha)
    return a


def picture(rows, cols, size=S) -> np.ndarray:
    """An opaque dark-on-white RGB picture with one rectangle of ink."""
    p = np.full((size, size, 3), 250, np.uint8)
    p[rows, cols] = 0
    return p


BAR_V = (slice(40, 160), slice(95, 105))  # a vertical bar
BAR_H = (slice(95, 105), slice(40, 160))  # a horizontal bar


def ink_at(img, r, c) -> bool:
    return img[r, c] > 127


# ------------------------------------------------------------------------------ which layer is read
def test_two_stroke_layers_are_combined():
    img = sketch_to_image({"background": None, "composite": None, "layers": [layer(*BAR_V), layer(*BAR_H)]})
    assert ink_at(img, 60, 100) and ink_at(img, 100, 60)  # a "+": both layers' strokes


def test_stroke_layers_of_different_sizes_read_the_first():
    img = sketch_to_image({"background": None, "composite": None,
                           "layers": [layer(*BAR_V), layer(*BAR_H, size=S + 10)]})
    assert img.shape == (S, S) and ink_at(img, 60, 100) and not ink_at(img, 100, 60)


def test_opaque_layers_are_read_by_their_colours_first_one_wins():
    first = np.dstack([picture(*BAR_V), np.full((S, S), 255, np.uint8)])  # alpha 255 everywhere
    second = np.dstack([picture(*BAR_H), np.full((S, S), 255, np.uint8)])
    img = sketch_to_image({"background": None, "composite": None, "layers": [first, second]})
    assert ink_at(img, 60, 100) and not ink_at(img, 100, 60)


def test_a_fully_transparent_layer_leaves_the_uploaded_background():
    v = {"background": picture(*BAR_H), "composite": None, "layers": [np.zeros((S, S, 4), np.uint8)]}
    img = sketch_to_image(v)
    assert ink_at(img, 100, 60) and not ink_at(img, 60, 100)


@pytest.mark.parametrize("key", ["layers", "background", "composite"])
def test_a_dict_with_any_one_sketchpad_key_is_a_sketchpad_value(key):
    value = {key: [layer(*BAR_V)] if key == "layers" else picture(*BAR_V)}
    assert ink_at(sketch_to_image(value), 60, 100)


@pytest.mark.parametrize("key", ["path", "image"])
def test_an_uploaded_file_as_file_data(tmp_path, key):
    Image.fromarray(picture(*BAR_V)).save(tmp_path / "digit.png")
    img = sketch_to_image({key: str(tmp_path / "digit.png"), "url": "http://x/digit.png"})
    assert img.shape == (S, S) and ink_at(img, 60, 100)
    assert ink_at(sketch_to_image(tmp_path / "digit.png"), 60, 100)  # a pathlib.Path as well


def test_sketchpad_parts_given_as_files(tmp_path):
    """A caller of DemoService.search may send the Sketchpad's parts as files (paths,
    {"path": ...} as gradio_client sends them, or PIL images) instead of arrays."""
    Image.fromarray(picture(*BAR_V)).save(tmp_path / "bg.png")
    Image.fromarray(layer(*BAR_H)).save(tmp_path / "strokes.png")
    for bg in (str(tmp_path / "bg.png"), tmp_path / "bg.png", {"path": str(tmp_path / "bg.png")},
               Image.open(tmp_path / "bg.png")):
        img = sketch_to_image({"background": bg, "layers": [], "composite": bg})
        assert ink_at(img, 60, 100) and not ink_at(img, 100, 60)
    Image.fromarray(picture(*BAR_V)[..., 0]).save(tmp_path / "grey.png")  # a greyscale file: (H, W)
    assert ink_at(sketch_to_image({"background": str(tmp_path / "grey.png"), "layers": [], "composite": None}), 60, 100)
    img = sketch_to_image({"background": None, "composite": None, "layers": [str(tmp_path / "strokes.png")]})
    assert ink_at(img, 100, 60) and not ink_at(img, 60, 100)  # the layer's strokes, by their alpha
    (tmp_path / "notes.txt").write_text("not a picture")
    with pytest.raises(InputError, match="Could not read notes.txt as a picture"):
        sketch_to_image({"background": str(tmp_path / "notes.txt"), "layers": [], "composite": None})


# ------------------------------------------------------------------------------ where blank ends
def test_blank_boundaries():
    flat = np.full((4, 4, 3), 100, np.uint8)
    assert _is_blank(np.zeros((0, 0, 3), np.uint8)) and _is_blank(flat)
    grey = np.full((40, 40), 250, np.uint8)
    grey[10:30, 20] = 0  # ink away from the first columns of a 2-D picture
    assert _is_blank(grey[:, :10]) and not _is_blank(grey)
    seven = flat.copy()
    seven[0, 0] = 107  # a range of 7 grey levels: still one flat colour
    eight = flat.copy()
    eight[0, 0] = 108  # 8: something is there
    assert _is_blank(seven) and not _is_blank(eight)
    rgba = np.dstack([flat, np.full((4, 4), 255, np.uint8)])
    assert _is_blank(rgba)
    clear = rgba.copy()
    clear[..., 3] = 0
    assert _is_blank(clear)  # fully transparent, whatever its colour
    clear[0, 0] = (0, 0, 0, 0)
    clear[1, 1] = (255, 255, 255, 0)
    assert _is_blank(clear)
    nearly = rgba.copy()
    nearly[0, 0, 3] = 250  # alpha down to 250: an opaque layer, judged by its colours
    assert _is_blank(nearly)
    nearly[0, 0, 3] = 249  # below 250: strokes on a transparent layer
    assert not _is_blank(nearly)


# ------------------------------------------------------------------------------ the exact messages
def test_picture_messages():
    with pytest.raises(InputError) as e:
        sketch_to_image(None)
    assert str(e.value) == "Draw a digit on the sketchpad first, or upload a photo of one."
    with pytest.raises(InputError) as e:
        sketch_to_image({"background": None, "layers": [], "composite": None})
    assert str(e.value) == "The sketchpad is empty: draw a digit with the mouse (or finger), or upload a photo."


def test_recording_messages():
    with pytest.raises(InputError) as e:
        load_recording(None)
    assert str(e.value) == "Record a spoken digit with the microphone, or upload an audio file."
    for bad in ((16000,), 42, (16000, np.zeros((2, 2, 2)))):
        with pytest.raises(InputError) as e:
            load_recording(bad)
        assert str(e.value) == "The recording could not be read; please record again."
    with pytest.raises(InputError) as e:
        load_recording((0, np.zeros(100, np.float32)))
    assert str(e.value) == "The recording has an invalid sample rate (0 Hz)."


def test_file_recording_messages(tmp_path):
    """A path that is not a file, and a WAV that holds no samples: the exact message each."""
    import soundfile as sf

    missing = tmp_path / "nowhere" / "seven.wav"
    with pytest.raises(InputError) as e:
        load_recording(str(missing))
    assert str(e.value) == "seven.wav does not exist (or is not a file)."  # the server's folders stay unnamed
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), 16000, subtype="PCM_16")
    with pytest.raises(InputError) as e:
        load_recording(empty)
    assert str(e.value) == "The recording empty.wav is empty (it holds no sound); record or upload a spoken digit."


def test_no_speech_message_is_the_detectors():
    from textanchor.vad import NO_SPEECH

    t = np.arange(16000) / 16000
    with pytest.raises(InputError) as e:
        load_recording((16000, (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)))  # a tone, not a word
    assert str(e.value) == NO_SPEECH


def test_nan_samples_are_silence_not_a_crash():
    from conftest import spoken_word

    w = spoken_word("seven", 16000)
    w[:100] = np.nan
    w[100:110] = np.inf
    wave, sr = load_recording((16000, w))
    assert sr == 16000 and np.isfinite(wave).all() and len(wave) > 1600


def test_video_and_text_messages(tmp_path):
    with pytest.raises(InputError) as e:
        video_path(None)
    assert str(e.value) == "Upload a video file first."
    with pytest.raises(InputError) as e:
        video_path({"video": {"path": str(tmp_path / "gone.mp4")}})
    assert str(e.value) == "The uploaded video gone.mp4 is not on the server (upload it again)."
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(InputError) as e:
        video_path(str(tmp_path / "a.txt"))
    assert str(e.value).startswith("a.txt is not a video file; use one of .") and ", ." in str(e.value)
    (tmp_path / "clip.MP4").write_bytes(b"x")
    assert video_path({"path": str(tmp_path / "clip.MP4")}) == str(tmp_path / "clip.MP4")
    with pytest.raises(InputError) as e:
        clean_text("  \n ")
    assert str(e.value) == "Type a word or a sentence to search with, e.g. 'seven'."
    assert clean_text("  seven \n eight ") == "seven eight"
