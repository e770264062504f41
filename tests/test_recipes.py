"""Recipes as the trainer reads them: every preset builds a working model, data sets with
different class orders pool with the right labels, and the per-modality settings (batch size,
held-out data, eval_limit) reach the training loop."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import small_config, toy_audio, toy_images
from textanchor.config import DataSpec, ModalityRecipe, TrainConfig, list_presets, load_preset
from textanchor.data.base import ItemSet
from textanchor.data.combine import concat, relabel
from textanchor.model import AnchoredModel


# ----------------------------------------------------------------------------------- presets
def test_presets_are_listed():
    assert {"digits", "digits-offline"} <= set(list_presets())


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_loads_and_builds_a_model(name):
    cfg = load_preset(name)
    assert cfg.modalities and all(r.data for r in cfg.modalities.values())
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg  # what a checkpoint saves
    torch.manual_seed(0)
    model = AnchoredModel({m: r.branch for m, r in cfg.modalities.items()}, 384).eval()
    for m, branch in model.branches.items():
        x = torch.zeros(2, *branch.modality.input_shape())
        with torch.no_grad():
            y = branch(x)
        assert y.shape == (2, 384) and torch.isfinite(y).all(), (name, m)


def test_unknown_preset_and_option_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown preset 'nope'.*digits"):
        load_preset("nope")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"modalities": {"image": {"data": [{"name": "digits"}]}}, "epoch": 3}))
    with pytest.raises(ValueError, match=r"unknown training option\(s\) \['epoch'\]"):
        load_preset(str(bad))


# ----------------------------------------------------------------------------------- pooling
def _set(names: list[str], labels: list[int], tag: str, modality: str = "audio", sr: int | None = 8000) -> ItemSet:
    """Items whose content says their class: item == the class name, so a label can be checked."""
    return ItemSet(modality, [f"{tag}:{names[y]}" for y in labels], np.array(labels), list(names),
                   [f"{tag}:{i}" for i in range(len(labels))], sample_rate=sr)


def test_pooling_keeps_every_label_across_different_class_orders():
    a = _set(["zero", "one", "two"], [0, 1, 2, 2, 0], "fsdd")
    b = _set(["two", "nine", "zero"], [0, 1, 2, 1], "espeak")  # another order, a new class
    pooled = concat([a, b])
    assert pooled.class_names == ["zero", "one", "two", "nine"]  # the ordered union
    assert [pooled.class_names[y] for y in pooled.labels] == [x.split(":")[1] for x in pooled.items]
    assert pooled.sources == a.sources + b.sources and pooled.sample_rate == 8000
    # ... and onto the run's vocabulary, in yet another order
    vocab = ["nine", "two", "one", "zero", "five"]
    assert [vocab[y] for y in relabel(pooled, vocab)] == [x.split(":")[1] for x in pooled.items]
    with pytest.raises(ValueError, match="not among"):
        relabel(b, ["zero", "two"])


def test_pooling_refuses_mixed_modalities_and_rates():
    with pytest.raises(ValueError, match="modalities"):
        concat([_set(["a"], [0], "x"), _set(["a"], [0], "y", modality="image", sr=None)])
    with pytest.raises(ValueError, match="sample rates"):
        concat([_set(["a"], [0], "x"), _set(["a"], [0], "y", sr=16000)])
    with pytest.raises(ValueError, match="nothing"):
        concat([])


def test_training_uses_the_pooled_labels(anchor):
    """The trainer pools the eval set's classes into the run's vocabulary too: a held-out set
    whose class order differs from the training set's must still score as well as it learns."""
    from textanchor.train import train

    tr = toy_images(30, 10)
    ev = toy_images(10, 11)
    order = [2, 0, 1]  # the held-out set names its classes in another order
    ev = ItemSet("image", ev.items, np.array([order.index(y) for y in ev.labels]),
                 [ev.class_names[i] for i in order], ev.sources)
    cfg = small_config(epochs=10)
    del cfg.modalities["audio"]
    res = train(cfg, anchor=anchor, data=({"image": tr}, {"image": ev}), final_eval=False)
    assert res.class_names == ["zero", "one", "two"]
    # [2, 0, 1] moves every class: labels read in the wrong order would score near 0, not chance.
    assert res.history[-1]["image/zero_shot_acc"] >= 0.75, res.history


# ----------------------------------------------------------------------------------- recipes
def test_batch_size_per_modality_and_steps():
    from textanchor.train import batch_size, total_steps

    cfg = small_config()  # run batch 16
    cfg.modalities["audio"].batch_size = 8
    assert batch_size(cfg, "image", 1000) == 16 and batch_size(cfg, "audio", 1000) == 8
    assert batch_size(cfg, "image", 5) == 5  # never more than the data
    assert total_steps(cfg, {"image": 160, "audio": 40}) == 10 * cfg.epochs  # the most batches per epoch
    assert total_steps(cfg, {"image": 32, "audio": 120}) == 15 * cfg.epochs


def test_training_draws_each_modality_at_its_own_batch_size(anchor, toy_data, monkeypatch):
    from textanchor import train as train_mod

    seen = []
    real = train_mod.create_loss

    class Spy(torch.nn.Module):
        def __init__(self, loss):
            super().__init__()
            self.loss = loss

        def forward(self, pred, *rest):
            seen.append(len(pred))
            return self.loss(pred, *rest)

    monkeypatch.setattr(train_mod, "create_loss", lambda name, **options: Spy(real(name, **options)))
    cfg = small_config(epochs=1)  # 120 items per modality, run batch 16
    cfg.modalities["audio"].batch_size = 8
    events = []
    train_mod.train(cfg, anchor=anchor, data=toy_data, final_eval=False, progress=events.append)
    steps = 120 // 8  # audio needs the most batches per epoch
    assert events[0]["total_steps"] == steps
    assert seen == [16, 8] * steps  # image then audio, every step


@pytest.mark.parametrize("limit,expected", [(7, 7), (None, 45)])
def test_eval_limit_caps_the_held_out_items(anchor, toy_data, limit, expected):
    from textanchor.train import train

    cfg = small_config(epochs=1)
    cfg.eval_limit = limit
    events = []
    train(cfg, anchor=anchor, data=toy_data, final_eval=False, progress=events.append)
    assert events[0]["eval_sizes"] == {"image": expected, "audio": expected}


def test_eval_data_replaces_the_held_out_split(monkeypatch):
    """`eval_data` names the held-out sets; without it the training sets' test split is used."""
    from textanchor import train as train_mod

    calls = []

    def fake_load(name, options, split, data_root=None, sample_rate=None):
        calls.append((name, split, sample_rate))
        make = toy_audio if name in ("fsdd", "espeak") else toy_images
        return make(2, len(calls))

    monkeypatch.setattr(train_mod, "load_spec", fake_load)
    cfg = TrainConfig(modalities={
        "image": ModalityRecipe([DataSpec("mnist")]),
        "audio": ModalityRecipe([DataSpec("fsdd"), DataSpec("espeak")], eval_data=[DataSpec("fsdd")]),
    })
    model = AnchoredModel({m: r.branch for m, r in cfg.modalities.items()}, 384)
    tr, ev = train_mod.load_recipe_data(cfg, model)
    assert calls == [("mnist", "train", None), ("mnist", "test", None),
                     ("fsdd", "train", 8000), ("espeak", "train", 8000), ("fsdd", "test", 8000)]
    assert len(tr["audio"]) == 12 and len(ev["audio"]) == 6 and len(ev["image"]) == 6


def test_load_spec_fills_split_root_and_rate_only_where_the_loader_takes_them(monkeypatch, tmp_path):
    from textanchor.data.combine import load_spec
    from textanchor.data.datasets import DATASETS

    calls = []

    def with_all(split="train", root=None, sample_rate=16000, limit=None):
        calls.append({"split": split, "root": root, "sample_rate": sample_rate, "limit": limit})
        return toy_audio(1, 0)

    def bare(limit=None):
        calls.append({"limit": limit})
        return toy_images(1, 0)

    monkeypatch.setitem(DATASETS._entries, "test_all", with_all)
    monkeypatch.setitem(DATASETS._entries, "test_bare", bare)
    load_spec("test_all", {"limit": 3}, "test", str(tmp_path), 8000)
    load_spec("test_all", {"split": "all", "root": "/x", "sample_rate": 22050}, "test", str(tmp_path), 8000)
    load_spec("test_all", {}, "train")  # no data root, no modality rate: the loader's defaults
    load_spec("test_bare", {"limit": 2}, "test", str(tmp_path), 8000)
    assert calls == [
        {"split": "test", "root": str(tmp_path / "test_all"), "sample_rate": 8000, "limit": 3},
        {"split": "all", "root": "/x", "sample_rate": 22050, "limit": None},  # the spec wins
        {"split": "train", "root": None, "sample_rate": 16000, "limit": None},
        {"limit": 2},
    ]


def test_pooled_groups_survive_only_when_every_set_has_them():
    a, b = _set(["zero"], [0, 0], "a"), _set(["zero"], [0], "b")
    a.groups, b.groups = ["s1", "s2"], ["s3"]
    assert concat([a, b]).groups == ["s1", "s2", "s3"]
    b.groups = None
    assert concat([a, b]).groups is None


def test_pooled_sets_keep_modality_and_integer_labels_even_when_one_is_empty():
    empty = _set(["one"], [], "e")
    pooled = concat([empty, _set(["zero", "one"], [1, 0], "a")])
    assert pooled.modality == "audio" and pooled.labels.dtype == np.int64
    assert [pooled.class_names[y] for y in pooled.labels] == ["one", "zero"]
    assert concat([empty]).labels.dtype == np.int64 and relabel(empty, ["one"]).dtype == np.int64


def test_load_spec_fills_what_each_loader_takes(monkeypatch, tmp_path):
    """`root` from data_root/<name>, the split, the modality's sample rate, and `data_root` itself
    for loaders that wrap other specs; a spec's own values are kept; nothing a loader does not take."""
    from textanchor.data import combine
    from textanchor.data.datasets import DATASETS

    calls = []

    def wrapping(split, data_root=None, inner=None):
        calls.append(("wrapping", split, data_root, inner))

    def leaf(split, root=None, sample_rate=None):
        calls.append(("leaf", split, root, sample_rate))

    def bare(n=1):
        calls.append(("bare", n))

    loaders = {"wrapping": wrapping, "leaf": leaf, "bare": bare}
    monkeypatch.setattr(DATASETS, "get", lambda name: loaders[name])
    combine.load_spec("wrapping", {"inner": "leaf"}, "test", data_root=str(tmp_path), sample_rate=8000)
    combine.load_spec("wrapping", {"data_root": "/mine"}, "train", data_root=str(tmp_path))
    combine.load_spec("leaf", {}, "train", data_root=str(tmp_path), sample_rate=16000)
    combine.load_spec("leaf", {"root": "/r", "sample_rate": 22050, "split": "test"}, "train", data_root=str(tmp_path), sample_rate=8000)
    combine.load_spec("leaf", {}, "train")
    combine.load_spec("bare", {"n": 2}, "train", data_root=str(tmp_path), sample_rate=8000)
    assert calls == [("wrapping", "test", str(tmp_path), "leaf"), ("wrapping", "train", "/mine", None),
                     ("leaf", "train", str(tmp_path / "leaf"), 16000), ("leaf", "test", "/r", 22050),
                     ("leaf", "train", None, None), ("bare", 2)]


def test_pooling_nothing_is_refused():
    from textanchor.data.combine import concat

    with pytest.raises(ValueError, match="^nothing to pool$"):
        concat([])
