"""Open vocabulary by recipe: a seeded share of the classes only one modality has is held out of
that modality's training, recorded in the checkpoint, and never reaches its loss."""
import json

import numpy as np

from conftest import small_config, toy_audio, toy_images
from textanchor.data.base import ItemSet
from textanchor.train import hold_out, resolve_unseen, train


def _with_extra_class(s: ItemSet, name: str, n: int) -> ItemSet:
    """s plus n copies of its first items under a new class only this set has."""
    extra = s.subset(np.arange(n))
    return ItemSet(s.modality, s.items + extra.items, np.concatenate([s.labels, np.full(n, len(s.class_names))]),
                   s.class_names + [name], s.sources + [f"extra:{i}" for i in range(n)], s.sample_rate)


def test_only_classes_of_one_modality_are_drawn_and_the_draw_is_seeded():
    cfg = small_config()
    cfg.modalities["image"].unseen_share = 1.0
    sets = {"image": _with_extra_class(toy_images(5, 0), "three", 4), "audio": toy_audio(5, 1)}
    assert resolve_unseen(cfg, sets) == {"image": ["three"], "audio": []}  # shared classes stay trained
    cfg.modalities["image"].unseen_share = 0.5
    sets["image"] = _with_extra_class(sets["image"], "four", 4)
    picks = {tuple(resolve_unseen(cfg, sets)["image"]) for _ in range(3)}
    assert len(picks) == 1 and len(next(iter(picks))) == 1
    cfg.seed = 1
    other = [tuple(resolve_unseen(small_config(), sets)["image"])]
    assert other == [()]  # no share asked: nothing held out
    kept = hold_out(sets, {"image": ["three"]})["image"]
    assert "three" not in kept.texts and len(kept) == len(sets["image"]) - 4


def test_an_unseen_class_is_held_out_recorded_and_scored(anchor, tmp_path):
    cfg = small_config(epochs=6)
    cfg.modalities["image"].unseen_share = 1.0
    train_sets = {"image": _with_extra_class(toy_images(30, 0), "three", 20), "audio": toy_audio(30, 1)}
    eval_sets = {"image": _with_extra_class(toy_images(10, 2), "three", 8), "audio": toy_audio(10, 3)}
    started = []
    res = train(cfg, out_dir=tmp_path / "c", anchor=anchor, data=(train_sets, eval_sets),
                progress=lambda e: e["event"] == "start" and started.append(e))
    assert started[0]["train_sizes"]["image"] == 90  # the 20 "three" items were not trained on
    saved = json.loads((tmp_path / "c" / "config.json").read_text())
    assert saved["recipe"]["modalities"]["image"]["unseen"] == ["three"]
    assert "three" in saved["class_names"]  # still a class: it is scored through its text
    m = res.metrics
    # Seen and unseen items are reported apart, each ranked among all classes and among its own.
    assert m["image/open/n_unseen_words"] == 1 and m["image/open/unseen/n"] == 8
    assert m["image/open/seen/n"] == 30 and m["image/open/seen/acc_seen"] >= 0.9, m
    assert m["image/open/unseen/acc_unseen"] == 1.0  # the only unseen class: trivially right
    assert "audio/open/seen/n" not in m  # nothing held out of audio
    assert m["audio/zero_shot_acc"] >= 0.9
