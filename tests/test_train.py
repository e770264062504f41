"""Training must really learn, save a complete checkpoint, and stop when told."""
import json
import threading

import numpy as np
import pytest

from conftest import small_config
from textanchor.train import pick_device, train


def test_smoke_training_learns_both_modalities_and_the_emergent_link(trained):
    m = trained.metrics
    # Three classes: chance is 0.33. These are held-out items.
    assert m["image/zero_shot_acc"] >= 0.9, m
    assert m["audio/zero_shot_acc"] >= 0.9, m
    # Images and tones were never paired; they meet only through the text.
    assert m["image_to_audio/P@1"] >= 0.85, m
    assert m["audio_to_image/P@1"] >= 0.85, m
    assert trained.history[0]["loss"] > trained.history[-1]["loss"]
    assert trained.device == "cpu"


def test_checkpoint_folder_is_complete(trained):
    cfg = json.loads((trained.checkpoint / "config.json").read_text())
    assert (trained.checkpoint / "model.safetensors").is_file()
    assert cfg["anchor"] == {"name": "all-MiniLM-L6-v2", "dim": 384}
    assert cfg["class_names"] == ["zero", "one", "two"]
    assert np.array(cfg["class_embeddings"]).shape == (3, 384)
    assert set(cfg["modalities"]) == {"image", "audio"}
    assert cfg["modalities"]["audio"]["preprocess"]["sample_rate"] == 8000
    assert cfg["recipe"]["loss"] == "mse_infonce"
    assert "image/zero_shot_acc" in cfg["metrics"] and len(cfg["history"]) == 15


def test_stop_event_ends_training_cleanly(anchor, toy_data, tmp_path):
    stop = threading.Event()
    seen = []

    def progress(e):
        seen.append(e["event"])
        if e["event"] == "step" and e["step"] == 3:
            stop.set()

    res = train(small_config(epochs=50), out_dir=tmp_path / "c", progress=progress, stop=stop,
                anchor=anchor, data=toy_data, final_eval=False)
    assert res.stopped == "stop requested"
    assert seen.count("step") == 3 and seen[-1] == "done"
    assert (tmp_path / "c" / "config.json").is_file()


def test_time_budget(anchor, toy_data, tmp_path):
    cfg = small_config(epochs=100_000)
    cfg.max_minutes = 3 / 60  # the toy data is ready in milliseconds; 100,000 epochs are not
    res = train(cfg, anchor=anchor, data=toy_data, final_eval=False)
    assert res.stopped == "time budget" and 1 <= len(res.history) < 100_000
    cfg.max_minutes = 0.0  # used up before the first step: an error, and no untrained checkpoint
    with pytest.raises(ValueError, match=r"time budget \(0 min\) was used up preparing the data"):
        train(cfg, out_dir=tmp_path / "c", anchor=anchor, data=toy_data, final_eval=False)
    assert not (tmp_path / "c").exists()


def test_seeded_runs_repeat(anchor, toy_data):
    a = train(small_config(epochs=1), anchor=anchor, data=toy_data, final_eval=False)
    b = train(small_config(epochs=1), anchor=anchor, data=toy_data, final_eval=False)
    assert a.history[0]["loss"] == pytest.approx(b.history[0]["loss"], rel=1e-5)


def test_pick_device_prefers_requested():
    assert pick_device("cpu") == "cpu"
    assert pick_device("cuda:1") == "cuda:1"


@pytest.mark.parametrize("cuda,mps,expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_pick_device_auto_order(monkeypatch, cuda, mps, expected):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert pick_device("auto") == expected
