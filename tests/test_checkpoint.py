"""Checkpoints: round trip, refusal of a mismatched anchor, corrupt folders, interrupted saves."""
import json
import shutil

import numpy as np
import pytest
import torch

from textanchor.checkpoint import CheckpointError, load_checkpoint, read_config, save_checkpoint
from textanchor.pipeline import Embedder


def test_round_trip_gives_identical_embeddings(trained, toy_data):
    emb = Embedder.from_checkpoint(trained.checkpoint)
    items = toy_data[1]["image"].items[:5]
    a = emb.embed("image", items)
    b = Embedder.from_checkpoint(trained.checkpoint).embed("image", items)
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert a.shape == (5, 384)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    labels, probs = emb.classify(a)
    assert probs.shape == (5, 3) and np.allclose(probs.sum(1), 1)


def test_refuses_other_anchor_or_dimension(trained):
    with pytest.raises(CheckpointError, match="dimension 768"):
        load_checkpoint(trained.checkpoint, anchor_dim=768)
    with pytest.raises(CheckpointError, match="thenlper/gte-base"):
        load_checkpoint(trained.checkpoint, anchor_name="thenlper/gte-base")


def test_corrupt_folders_give_clear_errors(trained, tmp_path):
    with pytest.raises(CheckpointError, match="not a textanchor checkpoint"):
        read_config(tmp_path / "missing")
    bad = tmp_path / "bad"
    shutil.copytree(trained.checkpoint, bad)
    (bad / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt"):
        read_config(bad)
    shutil.rmtree(bad)
    shutil.copytree(trained.checkpoint, bad)
    (bad / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="could not be loaded: its model.safetensors is truncated") as e:
        load_checkpoint(bad)
    assert "SafetensorError" not in str(e.value)  # a library's class name means nothing to a visitor
    whole = (trained.checkpoint / "model.safetensors").read_bytes()
    (bad / "model.safetensors").write_bytes(whole[: len(whole) // 2])  # an interrupted copy
    with pytest.raises(CheckpointError, match="truncated or is not a safetensors file"):
        load_checkpoint(bad)
    from safetensors.torch import save_file

    save_file({"branches.image.encoder.other.weight": torch.zeros(2)}, str(bad / "model.safetensors"))  # another model's
    with pytest.raises(CheckpointError, match=r"does not match its config.json \(weights of another model\? \d+ missing, "
                                              r"1 not in the model of \d+") as e:
        load_checkpoint(bad)
    assert "RuntimeError" not in str(e.value) and "state_dict" not in str(e.value) and len(str(e.value)) < 400


def _copy_with_config(src, dst, edit) -> None:
    shutil.copytree(src, dst)
    cfg = json.loads((dst / "config.json").read_text())
    edit(cfg)
    (dst / "config.json").write_text(json.dumps(cfg))


def test_newer_format_version_is_refused(trained, tmp_path):
    from textanchor.checkpoint import FORMAT_VERSION

    _copy_with_config(trained.checkpoint, tmp_path / "new", lambda c: c.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(CheckpointError, match=f"uses format {FORMAT_VERSION + 1}; this textanchor reads up to {FORMAT_VERSION}"):
        load_checkpoint(tmp_path / "new")
    _copy_with_config(trained.checkpoint, tmp_path / "same", lambda c: c.update(format_version=FORMAT_VERSION))
    assert read_config(tmp_path / "same")["format_version"] == FORMAT_VERSION


@pytest.mark.parametrize("key", ["anchor", "class_names", "class_embeddings", "modalities", "templates"])
def test_missing_key_is_refused_by_name(trained, tmp_path, key):
    _copy_with_config(trained.checkpoint, tmp_path / "c", lambda c: c.pop(key))
    with pytest.raises(CheckpointError, match=rf"lacks \['{key}'\]"):
        load_checkpoint(tmp_path / "c")


def test_interrupted_save_keeps_previous_checkpoint(trained, tmp_path, monkeypatch):
    from textanchor import checkpoint as ck

    model, cfg = load_checkpoint(trained.checkpoint)
    target = tmp_path / "ck"
    kw = dict(anchor_name="all-MiniLM-L6-v2", templates=["{}"], class_names=cfg["class_names"],
              class_embeddings=torch.tensor(cfg["class_embeddings"]))
    save_checkpoint(target, model, **kw, metrics={"v": 1})

    def crash(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(ck, "save_file", crash)
    with pytest.raises(OSError):
        save_checkpoint(target, model, **kw, metrics={"v": 2})
    assert json.loads((target / "config.json").read_text())["metrics"] == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["ck"]  # no temp folders left behind


def test_save_recovers_after_crash_between_renames(trained, tmp_path):
    old = tmp_path / ".ck.old"
    shutil.copytree(trained.checkpoint, old)  # state after the first rename, before the second
    assert read_config(tmp_path / "ck")["class_names"] == ["zero", "one", "two"]


def test_a_half_precision_checkpoint_is_half_the_size_and_answers_the_same(trained, toy_data, tmp_path):
    """`save_half` (the shipped things model's): float16 weights on disk, float32 again when
    loaded; the embeddings move by well under what changes a nearest class."""
    model, cfg = load_checkpoint(trained.checkpoint)
    common = dict(anchor_name=cfg["anchor"]["name"], templates=cfg["templates"], class_names=cfg["class_names"],
                  class_embeddings=torch.tensor(cfg["class_embeddings"]))
    full = save_checkpoint(tmp_path / "full", model, **common)
    half = save_checkpoint(tmp_path / "half", model, **common, half=True)
    size = lambda p: (p / "model.safetensors").stat().st_size  # noqa: E731
    assert size(half) < 0.6 * size(full)
    items = toy_data[1]["image"].items[:20]
    a, b = Embedder.from_checkpoint(full).embed("image", items), Embedder.from_checkpoint(half).embed("image", items)
    assert np.abs(a - b).max() < 5e-3
    assert (Embedder.from_checkpoint(half).classify(b)[0] == Embedder.from_checkpoint(full).classify(a)[0]).all()
    assert next(Embedder.from_checkpoint(half).model.parameters()).dtype == torch.float32


def test_a_saved_checkpoint_has_the_modes_its_owner_saves_with(trained, tmp_path):
    """Saved through a temporary folder (mkdtemp: 0700), a checkpoint still ends up as readable as
    a plain mkdir and open would leave it under the process umask (a web server reading it, a
    colleague on a shared disk), and stays private under a private umask."""
    import os
    import stat

    model, cfg = load_checkpoint(trained.checkpoint)
    common = dict(anchor_name=cfg["anchor"]["name"], templates=cfg["templates"], class_names=cfg["class_names"],
                  class_embeddings=torch.tensor(cfg["class_embeddings"]))
    for mask in (0o022, 0o077):
        old = os.umask(mask)
        try:
            out = save_checkpoint(tmp_path / f"ck{mask:o}", model, **common)
        finally:
            os.umask(old)
        assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask
        for name in ("model.safetensors", "config.json"):
            assert stat.S_IMODE((out / name).stat().st_mode) == 0o666 & ~mask, name
