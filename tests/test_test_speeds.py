"""Test-time speeds: where a recipe sets `test_speeds`, `Embedder.embed` answers audio with the
normalised mean of the unit vectors of the wave played at each speed; without it, as before."""
import copy

import numpy as np
import pytest
import torch

from conftest import small_config, toy_audio
from textanchor.data.audio_io import resample


def _with_speeds(embedder, speeds):
    from textanchor.pipeline import Embedder

    config = copy.deepcopy(embedder.config)
    config["recipe"]["modalities"]["audio"]["test_speeds"] = speeds
    return Embedder(embedder.model, config)


def test_embed_averages_the_speeds_the_recipe_names(trained):
    from textanchor.pipeline import Embedder

    plain = Embedder.from_checkpoint(trained.checkpoint)
    assert plain.test_speeds("audio") == (1.0,) and plain.test_speeds("image") == (1.0,)
    tta = _with_speeds(plain, [0.9, 1.0, 1.1])
    assert tta.test_speeds("audio") == (0.9, 1.0, 1.1)
    waves = toy_audio(2, 7, 16000).items[:5]
    got = tta.embed("audio", waves, 16000)
    # by hand: each wave at the branch's 8 kHz, then read as if recorded at 7.2, 8 and 8.8 kHz
    at8k = [resample(w, 16000, 8000) for w in waves]
    parts = [torch.nn.functional.normalize(torch.from_numpy(plain.embed("audio", at8k, r)), dim=-1)
             for r in (7200, 8000, 8800)]
    want = torch.nn.functional.normalize(sum(parts), dim=-1).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert not np.allclose(got, plain.embed("audio", waves, 16000), atol=1e-3)  # the speeds moved it
    np.testing.assert_array_equal(tta.embed("audio", waves, 16000, speeds=(1.0,)), plain.embed("audio", waves, 16000))
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)
    # int16 stereo reads as its float mono, at any given rate; no items give no vectors
    stereo = np.stack([waves[0], waves[0]], 1)
    np.testing.assert_allclose(tta.embed("audio", [(stereo * 32767).astype(np.int16)], 16000), got[:1], atol=2e-3)
    assert tta.embed("audio", [], 16000).shape == (0, tta.dim)
    # pictures are untouched
    np.testing.assert_array_equal(tta.embed("image", [np.zeros((28, 28), np.float32)]),
                                  plain.embed("image", [np.zeros((28, 28), np.float32)]))


def test_test_speeds_are_checked_in_the_recipe():
    from textanchor.config import TrainConfig

    d = small_config().to_dict()
    d["modalities"]["audio"]["test_speeds"] = [0.9, 1.0, 1.1]
    assert TrainConfig.from_dict(d).modalities["audio"].test_speeds == [0.9, 1.0, 1.1]
    for bad in ([], [0], [1.1, "fast"], 1.1, [True]):
        d["modalities"]["audio"]["test_speeds"] = bad
        with pytest.raises(ValueError, match="audio: test_speeds must be a list of speed factors"):
            TrainConfig.from_dict(d)
