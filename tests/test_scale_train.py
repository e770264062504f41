"""Past one machine: streamed training data and a 2-process torchrun (gloo) run."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from conftest import TOY_CLASSES, small_config, toy_audio, toy_images
from textanchor.config import DataSpec
from textanchor.data.stream import FileDataset, open_stream, scan_manifest, stream_batches
from textanchor.distributed import DistInfo
from textanchor.modalities import create_modality
from textanchor.train import train

ROOT = Path(__file__).resolve().parents[1]


def write_toy_corpus(root: Path, n_per_class: int, seed: int) -> dict[str, Path]:
    """Toy images (PNG) and tones (WAV) on disk with one `path,text` manifest per modality."""
    root.mkdir(parents=True, exist_ok=True)
    sets = {"image": toy_images(n_per_class, seed), "audio": toy_audio(n_per_class, seed + 1)}
    csvs = {}
    for m, s in sets.items():
        rows = []
        for i, (x, y) in enumerate(zip(s.items, s.labels)):
            name = f"{m}{i}.png" if m == "image" else f"{m}{i}.wav"
            Image.fromarray(x).save(root / name) if m == "image" else sf.write(root / name, x, 8000)
            rows.append(f"{name},{s.class_names[y]}")
        csvs[m] = root / f"{m}.csv"
        csvs[m].write_text("path,text\n" + "\n".join(rows) + "\n")
    return csvs


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    base = tmp_path_factory.mktemp("corpus")
    return write_toy_corpus(base / "train", 40, 0), write_toy_corpus(base / "test", 15, 2)


def test_manifest_scan_matches_the_in_memory_loader_without_decoding(corpus):
    from textanchor.data.manifest import load_manifest

    paths, labels, names, mods = scan_manifest(corpus[0]["image"])
    full = load_manifest(corpus[0]["image"])
    assert names == full.class_names == sorted(TOY_CLASSES)
    assert [p.decode() for p in paths] == full.sources and (labels == full.labels).all()
    assert paths.dtype.kind == "S"  # one bytes array, not a list of Python objects
    assert set(mods.tolist()) == {"image"}


def test_a_manifest_modality_column_is_honoured_and_foreign_rows_refused(corpus, tmp_path):
    import shutil

    from textanchor.data.base import DataError

    src = corpus[0]["image"].parent
    shutil.copy(src / "image0.png", tmp_path / "a.png")
    shutil.copy(src / "audio0.wav", tmp_path / "b.bin")  # an extension no modality claims
    csv = tmp_path / "m.csv"
    csv.write_text("path,text,modality\na.png,one,\nb.bin,two,audio\n")
    paths, labels, names, mods = scan_manifest(csv)
    assert mods.tolist() == ["image", "audio"] and names == ["one", "two"]
    with pytest.raises(DataError, match="'audio' for b.bin; known: image"):  # a stream reads one modality
        FileDataset.from_manifest(csv, create_modality("image"))
    csv.write_text("path,text\na.png,one\nb.bin,two\n")
    with pytest.raises(DataError, match="b.bin.*A `modality` column names it"):
        scan_manifest(csv)


def test_streaming_dataset_decodes_only_the_items_drawn(corpus, monkeypatch):
    mod = create_modality("image")
    calls = []
    read = mod.read_file
    monkeypatch.setattr(mod, "read_file", lambda p: calls.append(p) or read(p))
    ds = open_stream([DataSpec("manifest", {"csv_path": str(corpus[0]["image"])})], "train", None, mod)
    assert len(ds) == 120 and calls == []  # opening decodes nothing
    it = stream_batches(ds, 16, DistInfo(), seed=0, workers=0)
    x, y = next(it)
    assert x.shape == (16, 1, 28, 28) and y.dtype == torch.int64
    assert len(calls) == 16  # exactly the batch, never the corpus
    names = {Path(p).name for p in calls}
    expected = {ds.class_names[i] for i in y.tolist()}
    by_name = dict(line.split(",") for line in corpus[0]["image"].read_text().splitlines()[1:])
    assert {by_name[n] for n in names} == expected


def test_ranks_draw_disjoint_shards_that_cover_the_set(corpus):
    ds = FileDataset(*scan_manifest(corpus[0]["image"])[:3], create_modality("image"))
    from torch.utils.data import DistributedSampler

    shards = [list(DistributedSampler(ds, num_replicas=2, rank=r, seed=0, drop_last=True)) for r in (0, 1)]
    assert not set(shards[0]) & set(shards[1]) and len(set(shards[0]) | set(shards[1])) == len(ds)


def _manifest_recipe(corpus, epochs: int):
    cfg = small_config(epochs=epochs)
    for m, r in cfg.modalities.items():
        r.data = [DataSpec("manifest", {"csv_path": str(corpus[0][m])})]
        r.eval_data = [DataSpec("manifest", {"csv_path": str(corpus[1][m])})]
    return cfg


def test_streamed_training_learns_like_the_in_memory_path(anchor, corpus):
    res = train(_manifest_recipe(corpus, 12), anchor=anchor, stream=True, workers=1)
    m = res.metrics
    assert m["image/zero_shot_acc"] >= 0.9 and m["audio/zero_shot_acc"] >= 0.9, m
    assert res.history[0]["loss"] > res.history[-1]["loss"]


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                    reason="this PyTorch build has no torch.distributed with gloo")
def test_torchrun_two_processes_gloo(corpus, tmp_path):
    """The documented command: 2 ranks train in DDP, rank 0 alone evaluates, saves and prints."""
    recipe = _manifest_recipe(corpus, 3).to_dict()
    (tmp_path / "r.json").write_text(json.dumps(recipe))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "textanchor", "train", "--config", str(tmp_path / "r.json"), "--out", str(tmp_path / "ck"),
           "--json", str(tmp_path / "m.json"), "--quiet", "--stream"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.count("checkpoint:") == 1  # only rank 0 reports
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["train/processes"] == 2 and metrics["train/epochs_done"] == 3
    assert (tmp_path / "ck" / "model.safetensors").is_file()
    assert np.isfinite(metrics["image/zero_shot_acc"])
