"""Visitors' photos and sounds as the things branches receive them: a photo's transparency is
white paper, whatever way the picture arrives (`inputs.photo_to_rgb`); pictures and recordings
that cannot be used get a plain message about what was sent, a sound or a photo."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from textanchor.demo.inputs import InputError, photo_to_rgb


def circle_on_transparent(mode: str = "RGBA") -> Image.Image:
    im = Image.new("RGBA", (120, 100), (0, 0, 0, 0))  # transparent black, as drawing apps save it
    ImageDraw.Draw(im).ellipse((20, 15, 100, 85), outline=(0, 0, 0, 255), width=6)
    return im if mode == "RGBA" else im.convert("P")


@pytest.mark.parametrize("how", ["file", "pil", "palette file"])
def test_transparent_parts_become_white_paper(tmp_path, how):
    im = circle_on_transparent("P" if how == "palette file" else "RGBA")
    value = im
    if how != "pil":
        value = tmp_path / "circle.png"
        im.save(value, transparency=0) if how == "palette file" else im.save(value)
    rgb = photo_to_rgb(str(value) if how != "pil" else value)
    assert rgb.shape == (100, 120, 3) and rgb.dtype == np.uint8
    assert rgb[2, 2].tolist() == [255, 255, 255]  # the corner: transparent, so paper
    assert rgb[50, 20:27].min() < 60  # the ring: ink


def test_a_tiny_or_odd_picture_gets_a_plain_message():
    with pytest.raises(InputError, match=r"5x5 pixels: upload one at least 8 pixels on each side"):
        photo_to_rgb(np.zeros((5, 5, 3), np.uint8))
    with pytest.raises(InputError, match="upload a colour or grey picture") as e:
        photo_to_rgb(np.zeros((20, 20, 2), np.uint8))
    assert "shape" not in str(e.value)


def test_a_silent_or_long_sound_gets_a_message_about_sounds(tmp_path):
    from textanchor.modalities import create_modality

    sound = create_modality("sound")
    with pytest.raises(InputError, match="^Nothing heard: the recording is silent"):
        sound.query_item((16000, np.zeros(16000, np.float32)))
    with pytest.raises(InputError) as e:
        sound.query_item((16000, np.full(16000 * 40, 0.1, np.float32)))
    assert "upload a shorter sound, under 30 s" in str(e.value) and "speak" not in str(e.value)


@pytest.mark.parametrize("colour", [(128, 128, 128), (20, 60, 230), (255, 0, 0)])
def test_a_picture_of_one_colour_is_blank_whatever_the_colour(colour):
    with pytest.raises(InputError, match="blank"):
        photo_to_rgb(np.full((100, 100, 3), colour, np.uint8))
    two = np.full((100, 100, 3), colour, np.uint8)
    two[40:60, 40:60] = 0 if sum(colour) > 300 else 255  # one mark of another colour
    assert photo_to_rgb(two).shape == (100, 100, 3)
