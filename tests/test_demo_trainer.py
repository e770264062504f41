"""Training from the page: form -> recipe validation, a background run that streams and stops."""
from __future__ import annotations

import csv
import os
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import toy_images
from textanchor.config import DataSpec, ModalityRecipe, TrainConfig
from textanchor.demo.inputs import InputError
from textanchor.demo.trainer import DATA_CHOICES, TrainingRun, gpu, recipe_from_form
from textanchor.model import BranchConfig


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    """A `path,text` CSV of toy bar images (three classes)."""
    root = tmp_path_factory.mktemp("manifest")
    s = toy_images(8, seed=5)
    with open(root / "items.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "text"])
        for i, (img, y) in enumerate(zip(s.items, s.labels)):
            Image.fromarray(img).save(root / f"{i}.png")
            w.writerow([f"{i}.png", s.class_names[y]])
    return root / "items.csv"


def test_recipe_from_form_choices(manifest):
    offline = [k for k in DATA_CHOICES if "offline" in k]
    cfg = recipe_from_form(offline, None, "image_cnn", "audio_cnn", "linear", "infonce", 2, 32, 1e-3,
                           templates="{}\na handwritten {}\n")
    assert set(cfg.modalities) == {"image", "audio"}
    assert [s.name for s in cfg.modalities["audio"].data] == ["espeak"]
    assert cfg.modalities["image"].branch.projector == "linear" and cfg.loss == "infonce"
    assert cfg.templates == ["{}", "a handwritten {}"] and cfg.epochs == 2
    assert cfg.modalities["audio"].branch.preprocess == {}  # the audio CNN: the modality's own 8 kHz
    # The frozen speech encoder reads 16 kHz: the form, which has no rate field, asks for it.
    kws = recipe_from_form(offline, None, "image_cnn", "speech_embedding", "mlp", "infonce", 1, 32, 1e-3)
    assert kws.modalities["audio"].branch.preprocess == {"sample_rate": 16000}
    cfg = recipe_from_form([], str(manifest))
    assert list(cfg.modalities) == ["image"] and cfg.modalities["image"].data[0].name == "manifest"


@pytest.mark.parametrize("kwargs,match", [
    ({"data": []}, "at least one"),
    ({"data": ["nonsense"]}, "Unknown data"),
    ({"templates": "a digit"}, "{}"),
    ({"epochs": 0}, "Epochs"),
])
def test_recipe_from_form_refuses(kwargs, match):
    args = {"data": [next(iter(DATA_CHOICES))], **kwargs}
    with pytest.raises(InputError, match=match):
        recipe_from_form(**args)


def test_manifest_with_missing_files(manifest, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(manifest.read_text() + "gone.png,zero\n")
    (tmp_path / "0.png").write_bytes((manifest.parent / "0.png").read_bytes())
    with pytest.raises(InputError, match="missing"):
        recipe_from_form([], str(bad))


def _tiny_config(manifest, epochs: int) -> TrainConfig:
    small = BranchConfig(encoder_options={"widths": [8, 16, 32]})
    return TrainConfig(modalities={"image": ModalityRecipe([DataSpec("manifest", {"csv_path": str(manifest)})],
                                                           branch=small)},
                       epochs=epochs, batch_size=8, lr=5e-3, device="cpu")


def finish(run: TrainingRun, timeout: float) -> list:
    """Stream a run to its end; `stream` returns quietly on its time-out, so say it here."""
    snaps = list(run.stream(interval=0.1, timeout=timeout))
    assert run.snapshot.done, f"the run did not finish within {timeout} s: {run.snapshot.status}"
    return snaps


def test_training_run_streams_to_a_checkpoint(manifest, anchor, tmp_path):
    run = TrainingRun(_tiny_config(manifest, 2), tmp_path / "run", anchor=anchor).start()
    snaps = [(s.step, s.done) for s in finish(run, 120)]
    s = run.snapshot
    assert s.done and s.error is None, s.status
    assert (tmp_path / "run" / "config.json").is_file() and s.checkpoint == "run"
    assert s.step == s.total_steps > 0 and len(s.epochs) == 2 and "image/zero_shot_acc" in s.epoch_table()
    assert len(s.loss_frame()) == len(s.losses) > 0 and "100%" in s.progress_html()
    assert snaps[-1][1] and len(snaps) >= 2


def test_training_run_stops_cleanly(manifest, anchor, tmp_path):
    run = TrainingRun(_tiny_config(manifest, 50), tmp_path / "run", anchor=anchor)
    run.stop()  # before the first step: it still ends after one step, evaluates and saves
    run.start()
    finish(run, 120)
    s = run.snapshot
    assert s.done and "stopped" in s.status and len(s.epochs) == 1
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_training_errors_are_reported(anchor, tmp_path):
    cfg = _tiny_config(tmp_path / "missing.csv", 1)
    run = TrainingRun(cfg, tmp_path / "run", anchor=anchor).start()
    finish(run, 60)
    assert run.snapshot.error and "manifest not found" in run.snapshot.error
    assert "failed" in run.snapshot.progress_html()


def test_one_run_per_session_at_a_time(manifest, anchor, tmp_path, monkeypatch):
    """The "already training" guard: a session cannot start a second run while its first one
    runs; another session can, and the first session can again once its run ended."""
    from textanchor.demo import trainer
    from textanchor.demo.policy import Limits
    from textanchor.demo.service import DemoService

    monkeypatch.setattr(trainer, "TrainingRun", lambda cfg, out, anchor=None: TrainingRun(cfg, out, anchor=shared))
    shared = anchor
    service = DemoService(None, cache_dir=tmp_path, download=False)
    long = _tiny_config(manifest, Limits().max_epochs)  # the longest run the default limits allow
    first = service.start_training("alice", long)
    with pytest.raises(InputError, match="still going"):
        service.start_training("alice", long)
    other = service.start_training("bob", long)  # someone else's run does not block
    assert service.stop_training("alice").startswith("Stopping") and service.stop_training("bob").startswith("Stopping")
    finish(first, 120)
    finish(other, 120)
    first.thread.join(30)
    assert service.stop_training("alice") == "Nothing to stop."
    again = service.start_training("alice", _tiny_config(manifest, 1))
    assert again is not first
    finish(again, 120)
    assert again.snapshot.error is None, again.snapshot.error


def test_gpu_wrapper_is_identity_without_spaces():
    def f():
        return 1

    try:
        import spaces  # noqa: F401
    except ImportError:
        assert gpu(f) is f
    assert np.isclose(gpu(f)(), 1)


def test_recipe_from_a_video_folder_or_manifest(tmp_path):
    pytest.importorskip("av")
    from textanchor.data import load_dataset
    from textanchor.data.video import write_video

    root = tmp_path / "clips"
    for name, col in (("zero", 4), ("one", 20)):
        frame = np.zeros((32, 32), np.uint8)
        frame[6:26, col:col + 6] = 255
        write_video(root / name / "a.mp4", [frame] * 4, 0.2 * np.sin(np.arange(4000) / (2 + col)), 8000, fps=8)
    cfg = recipe_from_form([], videos=str(root), epochs=2)
    assert [s.name for s in cfg.modalities["image"].data] == ["video_frames"]
    assert [s.name for s in cfg.modalities["audio"].data] == ["video_audio"]
    assert cfg.modalities["image"].branch.preprocess["channels"] == 1
    frames = load_dataset("video_frames", **cfg.modalities["image"].data[0].options)
    assert sorted(frames.class_names) == ["one", "zero"] and frames.modality == "image"
    (root / "list.csv").write_text("path,text\nzero/a.mp4,zero\none/a.mp4,one\n")
    mixed = recipe_from_form(["Handwritten digits (scikit-learn 8x8, offline)"], videos=str(root / "list.csv"))
    assert [s.name for s in mixed.modalities["image"].data] == ["digits", "video_frames"]
    silent = tmp_path / "silent"
    write_video(silent / "two" / "a.mp4", [np.zeros((16, 16), np.uint8)] * 2, None, fps=8)
    assert list(recipe_from_form([], videos=str(silent)).modalities) == ["image"]
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad" / "two").mkdir(parents=True)
    (tmp_path / "bad" / "two" / "x.mp4").write_bytes(b"junk")
    for path, match in [(tmp_path / "nowhere", "not found"), (tmp_path / "empty", "no videos"),
                        (tmp_path / "bad", "could be decoded")]:
        with pytest.raises(InputError, match=match):
            recipe_from_form([], videos=str(path))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority is Linux's")
def test_a_run_yields_the_cpu_to_searches(tmp_path):
    """The run's thread gets a lower CPU priority than the server; the server's stays as it was."""
    seen = {}
    run = TrainingRun(recipe_from_form(["Handwritten digits (scikit-learn 8x8, offline)"], epochs=1), tmp_path / "run", nice=7)
    import textanchor.train as train_module

    def fake_train(*a, **k):  # no training: only the thread's priority is looked at
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, 0)  # this thread's

    before = os.getpriority(os.PRIO_PROCESS, 0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(train_module, "train", fake_train)
        run.start().thread.join(timeout=60)
    assert seen["nice"] == min(19, before + 7) and os.getpriority(os.PRIO_PROCESS, 0) == before


def test_train_data_choices_take_a_bare_string_as_one_choice():
    """An API client sending one choice as a string (not a list) meant that choice: it was read
    letter by letter ("Unknown data choice 'H'")."""
    from textanchor.demo.trainer import TrainDataChoices, data_choices

    one = next(iter(data_choices()))
    box = TrainDataChoices([one], value=[one], render=False)
    assert box.preprocess(one) == [one] and box.preprocess([one]) == [one] and box.preprocess(None) == []
