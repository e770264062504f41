"""The modality contract's defaults give the right answers (textanchor/modalities/base.py):
option checking, the encoder's input shape, file-type lookup, the default upload and plot views,
and defaults that match the recipe the shipped checkpoint was trained with."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from textanchor.modalities import MODALITIES, create_modality, modality_for_path
from textanchor.modalities.base import Modality, line_plot

CHECKPOINT = Path(__file__).resolve().parents[1] / "checkpoints" / "digits"


class Series(Modality):
    """A two-channel time series at 50 Hz, read from .npy files (never registered)."""

    name = "series"
    file_extensions = (".npy",)

    @dataclass
    class Config:
        sample_rate: int = 50
        length: int = 20

    def input_shape(self):
        return (2, self.cfg.length)

    def read_file(self, path):
        return np.load(path)


def test_unknown_options_are_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown series preprocessing option\(s\) \['rate', 'size'\]; "
                                         r"known: \['length', 'sample_rate'\]"):
        Series(rate=8, size=3, length=4)
    assert Series(length=7).config_dict() == {"sample_rate": 50, "length": 7}


def test_base_defaults_are_identity_and_say_what_is_missing():
    s = Series(length=12)
    x = torch.randn(3, 2, 12, generator=torch.Generator().manual_seed(0))
    assert s.augment(x) is x and torch.equal(s.frontend()(x), x)
    assert s.encoder_input_shape() == (2, 12)
    with pytest.raises(NotImplementedError, match="series"):
        s.example_items()
    with pytest.raises(NotImplementedError):
        s.prepare([])
    with pytest.raises(NotImplementedError, match="cannot read files"):
        Modality().read_file("x")


def test_default_query_reads_the_upload_at_the_modality_rate(tmp_path):
    s = Series()
    np.save(tmp_path / "a.npy", np.ones((5, 2), np.float32))
    with open(tmp_path / "a.npy", "rb") as upload:  # an object with .name, as some clients hand it
        for value in (str(tmp_path / "a.npy"), {"path": str(tmp_path / "a.npy")}, upload):
            item, rate = s.query_item(value)
            assert item.shape == (5, 2) and rate == 50
    for bad in (None, "", {"path": None}, str(tmp_path / "gone.npy"), str(tmp_path)):
        with pytest.raises(ValueError, match=r"^Upload a series file \(\.npy\) first\.$"):
            s.query_item(bad)


def test_line_plot_one_line_per_channel_in_seconds():
    fig = line_plot(np.arange(10, dtype=np.float32).reshape(5, 2), 50, ["x", "y"], title="t")
    assert [d.name for d in fig.data] == ["x", "y"]
    np.testing.assert_allclose(fig.data[0].x, np.arange(5) / 50)
    np.testing.assert_allclose(fig.data[1].y, [1, 3, 5, 7, 9])
    assert fig.layout.xaxis.title.text == "seconds" and fig.layout.title.text == "t"
    bare = line_plot(np.arange(4, dtype=np.float32))
    assert len(bare.data) == 1 and bare.data[0].name == "channel 0"
    np.testing.assert_allclose(bare.data[0].x, np.arange(4))
    assert bare.layout.xaxis.title.text == "sample"
    with pytest.raises(ValueError, match=r"cannot plot an array of shape \(2, 2, 2\)"):
        line_plot(np.zeros((2, 2, 2), np.float32))
    kind, fig = Series().render(np.zeros((6, 2)))  # default render: the config's rate
    assert kind == "plot" and fig.layout.xaxis.title.text == "seconds" and fig.data[0].x[1] == pytest.approx(0.02)


def test_modality_for_path_claims_and_messages(monkeypatch):
    assert modality_for_path("A/B.JpEg") == "image"
    assert modality_for_path(Path("x.m4a")) == "audio"
    with pytest.raises(ValueError, match=r"^a\.png: no modality \(audio\) reads \.png files; known extensions: "):
        modality_for_path("a.png", among=["audio"])
    with pytest.raises(ValueError, match="reads extensionless files"):
        modality_for_path("README")

    class Twin(Series):
        file_extensions = (".png",)

    MODALITIES.discover()
    monkeypatch.setitem(MODALITIES._entries, "series-test", Twin)  # registered for this test only
    with pytest.raises(ValueError, match=r"^x\.png: \.png files are read by several modalities \(image, series-test\)"):
        modality_for_path("x.png", among=["image", "series-test"])
    assert modality_for_path("x.png", among=["series-test"]) == "series-test"


@pytest.mark.skipif(not (CHECKPOINT / "config.json").is_file(), reason=f"no shipped checkpoint at {CHECKPOINT}")
@pytest.mark.parametrize("name", ["image", "audio"])
def test_defaults_are_the_shipped_recipe(name):
    """A new recipe that names no preprocessing prepares inputs as the shipped model was trained."""
    shipped = json.loads((CHECKPOINT / "config.json").read_text())["modalities"][name]
    modality = create_modality(name)
    modality.use_encoder(shipped["encoder"])  # as a branch does before it saves its settings
    ours = modality.config_dict()
    assert {k: ours.get(k) for k in shipped["preprocess"]} == shipped["preprocess"]
    # Settings added since it was trained settle to what it did (a log-mel CNN, augmented each step).
    assert {k: v for k, v in ours.items() if k not in shipped["preprocess"]} in (
        {}, {"frontend": "logmel", "augment": "wave"})
    assert MODALITIES.get(name).default_encoder == shipped["encoder"]


def test_a_modality_without_a_sample_rate_uploads_and_plots_in_samples(tmp_path):
    class Rateless(Series):
        @dataclass
        class Config:
            length: int = 20

    np.save(tmp_path / "a.npy", np.ones((5, 2), np.float32))
    item, rate = Rateless().query_item(str(tmp_path / "a.npy"))
    assert item.shape == (5, 2) and rate is None
    kind, fig = Rateless().render(item)
    assert kind == "plot" and fig.layout.xaxis.title.text == "sample" and list(fig.data[0].x) == [0, 1, 2, 3, 4]
