"""Frozen pretrained encoders: their features are computed once per item in training, their
weights stay out of checkpoints, and a trained projector on them really learns."""
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from textanchor.config import DataSpec, ModalityRecipe, TrainConfig
from textanchor.data.base import ItemSet
from textanchor.model import BranchConfig

CLASSES = ["dog", "rain", "bell"]


def toy_sounds(n_per_class: int, seed: int, sr: int = 22050) -> ItemSet:
    """Three sound classes a frozen SoundNet tells apart: low bursts, hiss, a high tone."""
    rng = np.random.default_rng(seed)
    items, labels = [], []
    for c in range(3):
        for _ in range(n_per_class):
            t = np.arange(int(sr * rng.uniform(0.8, 1.5))) / sr
            if c == 0:
                w = np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 3 * t) > 0.3)
            elif c == 1:
                w = rng.normal(0, 0.3, len(t))
            else:
                w = np.sin(2 * np.pi * 2500 * rng.uniform(0.97, 1.03) * t) * np.exp(-3 * t)
            items.append((rng.uniform(0.3, 0.9) * w).astype(np.float32))
            labels.append(c)
    return ItemSet("sound", items, np.array(labels), CLASSES, [f"s:{i}" for i in range(len(items))], sample_rate=sr)


def sound_config(epochs=6):
    return TrainConfig(modalities={"sound": ModalityRecipe([DataSpec("toy")], branch=BranchConfig(
        encoder="soundnet", preprocess={"seconds": 1.5}))}, epochs=epochs, batch_size=16, lr=5e-3, device="cpu")


@pytest.fixture(scope="module")
def sound_run(anchor, tmp_path_factory, monkeypatch_module):
    from textanchor.encoders import soundnet
    from textanchor.train import train

    calls = []
    real = soundnet.SoundNet5.forward
    monkeypatch_module.setattr(soundnet.SoundNet5, "forward", lambda self, w: calls.append(len(w)) or real(self, w))
    data = ({"sound": toy_sounds(12, 0)}, {"sound": toy_sounds(6, 1)})
    out = tmp_path_factory.mktemp("sound") / "ckpt"
    res = train(sound_config(), out_dir=out, anchor=anchor, data=data)
    return res, sum(calls), data


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_frozen_features_are_computed_once_and_the_projector_learns(sound_run):
    res, encoded, (tr, ev) = sound_run
    # 36 training + 18 held-out clips through SoundNet once, for the feature cache, which the
    # final evaluation reuses: never once per step (6 epochs x 2 steps x 16 clips would be 192
    # more), nor again at the end.
    assert encoded == len(tr["sound"]) + len(ev["sound"])
    assert res.metrics["sound/zero_shot_acc"] >= 0.9, res.metrics


def test_frozen_weights_stay_out_of_the_checkpoint_and_it_loads_back(sound_run):
    from textanchor.pipeline import Embedder

    res, _, (_, ev) = sound_run
    keys = load_file(str(res.checkpoint / "model.safetensors")).keys()
    assert keys and all(k.startswith("branches.sound.projector.") for k in keys), sorted(keys)
    assert (res.checkpoint / "model.safetensors").stat().st_size < 2_000_000
    emb = Embedder.from_checkpoint(res.checkpoint)
    v = emb.embed("sound", ev["sound"].items, ev["sound"].sample_rate)
    labels, _ = emb.classify(v)
    assert np.mean(labels == ev["sound"].labels) >= 0.9


def test_a_frozen_encoder_keeps_its_batchnorm_statistics_in_training_mode():
    from textanchor.encoders import create_encoder

    enc = create_encoder("soundnet", (22050,), "sound")
    before = {k: v.clone() for k, v in enc.backbone.state_dict().items()}
    enc.train()
    enc(torch.randn(4, 22050) * 0.1)
    assert not enc.backbone.training
    assert all(torch.equal(before[k], v) for k, v in enc.backbone.state_dict().items())


def test_an_augmenting_or_unfrozen_branch_is_not_cached():
    from textanchor.model import Branch

    assert Branch("sound", BranchConfig(encoder="soundnet"), 384).cacheable
    assert not Branch("sound", BranchConfig(encoder="soundnet", preprocess={"augment": "wave"}), 384).cacheable
    with pytest.raises(ValueError, match="encoders read the wave"):  # SoundNet takes no log-mel
        Branch("sound", BranchConfig(encoder="soundnet", preprocess={"frontend": "logmel"}), 384)
    assert not Branch("image", BranchConfig(), 384).cacheable


def test_speech_embedding_answers_each_clip_alone_whatever_the_batch():
    """Google's speech embedding through TFLite: (B, T) at 16 kHz -> (B, 192); a clip's features do
    not depend on the clips beside it (training caches them in batches, the app embeds one)."""
    pytest.importorskip("pyopen_wakeword", reason="pyopen-wakeword ships wheels for Linux x86_64 only")
    from textanchor.data.espeak import synthesize
    from textanchor.encoders import create_encoder

    enc = create_encoder("speech_embedding", (24000,), "speech")
    words = []
    for w in ("dog", "house"):
        wave, sr = synthesize(w)
        wave = np.interp(np.arange(0, len(wave), sr / 16000), np.arange(len(wave)), wave)[:24000]
        words.append(np.pad(wave, (0, 24000 - len(wave))).astype(np.float32))
    x = torch.from_numpy(np.stack(words))
    both = enc(x)
    assert both.shape == (2, 192) and torch.isfinite(both).all()
    assert torch.allclose(enc(x[:1]), both[:1], atol=1e-4) and torch.allclose(enc(x[1:]), both[1:], atol=1e-4)
    assert not torch.allclose(both[0], both[1], atol=0.1)  # two words, two answers
    with pytest.raises(ValueError, match="at least 0.775 s"):
        create_encoder("speech_embedding", (8000,), "speech")


def test_the_audio_modality_takes_the_speech_embedding_at_16_khz():
    """A digits recipe can swap its audio CNN for the frozen keyword-spotting encoder: the wave goes
    to it as it is, its features are cached, and an 8 kHz branch is refused with the fix named."""
    pytest.importorskip("pyopen_wakeword", reason="pyopen-wakeword ships wheels for Linux x86_64 only")
    from textanchor.model import Branch

    kws = Branch("audio", BranchConfig(encoder="speech_embedding", preprocess={"sample_rate": 16000, "seconds": 1.5}), 384)
    assert kws.cacheable and isinstance(kws.frontend, torch.nn.Identity)
    assert kws.cfg.preprocess["frontend"] == "wave" and kws.cfg.preprocess["augment"] == "none"
    waves = [np.random.default_rng(0).standard_normal(12000).astype(np.float32) * 0.1]
    x = kws.modality.prepare(waves, 8000)  # resampled to 16 kHz, one 1.5 s window
    assert x.shape == (1, 24000) and kws(x).shape == (1, 384)
    cnn = Branch("audio", BranchConfig(), 384)  # the default is unchanged: log-mel, augmented each step
    assert not cnn.cacheable and cnn.cfg.preprocess["frontend"] == "logmel" and cnn.cfg.preprocess["augment"] == "wave"
    with pytest.raises(ValueError, match='"sample_rate": 16000'):
        Branch("audio", BranchConfig(encoder="speech_embedding"), 384)


def test_soundnet_lite0_gives_both_views_the_same_weight():
    """SoundNet's 512 numbers and Lite0's 1,280 are each standardised per clip, the second scaled
    by sqrt(512 / 1280), so neither view drowns the other in the projector."""
    from textanchor.encoders.soundnet_lite0 import SoundViews

    views = SoundViews(16000).eval()
    with torch.no_grad():
        h = views(torch.from_numpy(np.stack(toy_sounds(1, 0, sr=16000).items[:1] * 2)[:, :16000]).float())
    a, b = h[:, :512], h[:, 512:]
    assert h.shape == (2, 1792)
    assert a.pow(2).sum(1).allclose(b.pow(2).sum(1), rtol=1e-3)
    assert a.std(1, unbiased=False).allclose(torch.ones(2), atol=1e-3)


def test_overlapping_sets_share_their_items_features(monkeypatch):
    """ESC-50's folds, each held out in turn, overlap: an item is encoded once per cache."""
    from textanchor.encoders import soundnet
    from textanchor.model import Branch
    from textanchor.train import cached_features

    calls = []
    real = soundnet.SoundNet5.forward
    monkeypatch.setattr(soundnet.SoundNet5, "forward", lambda self, w: calls.append(len(w)) or real(self, w))
    branch = Branch("sound", BranchConfig(encoder="soundnet", preprocess={"seconds": 1.5}), 384)
    every = toy_sounds(4, 0)  # 12 items
    first, second = every.subset(np.arange(12) < 8), every.subset(np.arange(12) >= 4)
    cache: dict = {}
    a = cached_features(branch, first, "cpu", cache)
    b = cached_features(branch, second, "cpu", cache)
    assert sum(calls) == 12 and a.shape == (8, 512) and b.shape == (8, 512)
    assert torch.equal(a[4:], b[:4])  # the 4 shared items, the same features
    assert torch.allclose(cached_features(branch, every, "cpu", None), torch.cat([a, b[4:]]), atol=1e-5)
