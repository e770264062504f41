"""Shared fixtures: the text model loads once per session; tiny synthetic data sets that a
model must be able to learn in seconds."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach for the network
# One numba cache for the whole session and the app.py processes it starts (each app would
# otherwise compile UMAP into its own fresh cache folder, 30-60 s of CPU in a background process
# per launch, beside the test that launched it). Outside the repository, kept between runs.
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / "textanchor-tests-numba"))

import torch  # noqa: E402

# The tests run tiny models, whose ops are too small to share: on two cores that also serve an
# app, Chromium and other jobs, a second OpenMP thread mostly spins waiting for the first
# (test_train + test_recipes: 85.5 s on torch's default two threads, 13.6 s on one, measured
# back to back on the shared 2-core machine). Subprocesses (app.py, torchrun) keep their own.
torch.set_num_threads(1)

from textanchor.data.base import ItemSet  # noqa: E402

SHARED_DATA = Path(os.environ.get("TEXTANCHOR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
needs_real_data = pytest.mark.skipif(
    not (SHARED_DATA / "mnist").is_dir() or not (SHARED_DATA / "fsdd").is_dir(),
    reason=f"real data not found at {SHARED_DATA} (set TEXTANCHOR_DATA to the folder with mnist/ and fsdd/)",
)

TOY_CLASSES = ["zero", "one", "two"]


@pytest.fixture(scope="session")
def anchor():
    from textanchor.anchor import TextAnchor

    return TextAnchor()


def toy_images(n_per_class: int, seed: int) -> ItemSet:
    """Three drawable classes: a horizontal bar, a vertical bar, a diagonal; jittered."""
    rng = np.random.default_rng(seed)
    items, labels = [], []
    for c in range(3):
        for _ in range(n_per_class):
            img = np.zeros((28, 28), np.float32)
            o = rng.integers(-3, 4)
            w = rng.integers(8, 12)
            if c == 0:
                img[13 + o: 16 + o, 14 - w: 14 + w] = 1
            elif c == 1:
                img[14 - w: 14 + w, 13 + o: 16 + o] = 1
            else:
                for i in range(-w, w):
                    img[14 + i, 14 + i + o if 0 <= 14 + i + o < 28 else 14] = 1
            img += rng.normal(0, 0.05, img.shape)
            items.append((np.clip(img, 0, 1) * 255).astype(np.uint8))
            labels.append(c)
    return ItemSet("image", items, np.array(labels), TOY_CLASSES, [f"toy:{i}" for i in range(len(items))])


def toy_audio(n_per_class: int, seed: int, sr: int = 8000) -> ItemSet:
    """Three tone classes (300, 800, 2000 Hz) of random length, phase and loudness."""
    rng = np.random.default_rng(seed)
    items, labels = [], []
    for c, f in enumerate([300.0, 800.0, 2000.0]):
        for _ in range(n_per_class):
            t = np.arange(int(sr * rng.uniform(0.3, 0.8))) / sr
            w = rng.uniform(0.2, 0.9) * np.sin(2 * np.pi * f * rng.uniform(0.95, 1.05) * t + rng.uniform(0, 6))
            items.append((w + rng.normal(0, 0.01, len(w))).astype(np.float32))
            labels.append(c)
    return ItemSet("audio", items, np.array(labels), TOY_CLASSES, [f"tone:{i}" for i in range(len(items))], sample_rate=sr)


@pytest.fixture(scope="session")
def toy_data():
    """(train_sets, eval_sets) for the image and audio modalities."""
    return ({"image": toy_images(40, 0), "audio": toy_audio(40, 1)},
            {"image": toy_images(15, 2), "audio": toy_audio(15, 3)})


def small_config(epochs: int = 4, loss: str = "mse_infonce"):
    """A TrainConfig with small encoders for the toy data."""
    from textanchor.config import DataSpec, ModalityRecipe, TrainConfig
    from textanchor.model import BranchConfig

    small = {"widths": [8, 16, 32]}
    return TrainConfig(
        modalities={
            "image": ModalityRecipe([DataSpec("toy")], branch=BranchConfig(encoder_options=small)),
            "audio": ModalityRecipe([DataSpec("toy")], branch=BranchConfig(encoder_options=small)),
        },
        loss=loss, epochs=epochs, batch_size=16, lr=5e-3, device="cpu",
    )


@pytest.fixture(scope="session")
def trained(anchor, toy_data, tmp_path_factory):
    """A checkpoint trained on the toy data (shared by checkpoint, pipeline and CLI tests)."""
    from textanchor.train import train

    out = tmp_path_factory.mktemp("ckpt") / "toy"
    res = train(small_config(epochs=15), out_dir=out, anchor=anchor, data=toy_data)
    return res


def spoken_word(word: str = "seven", sr: int = 16000, voice: str = "en-us") -> np.ndarray:
    """(T,) float32: eSpeak NG saying `word` at `sr`, peak 0.5, with 0.1 s of silence around it.
    Audio queries must be speech: the voice detector refuses tones and noise."""
    from textanchor.data.audio_io import resample
    from textanchor.data.espeak import synthesize

    wave, rate = synthesize(word, voice)
    wave = resample(wave, rate, sr)
    pad = np.zeros(sr // 10, np.float32)
    return np.concatenate([pad, 0.5 * wave / np.abs(wave).max(), pad]).astype(np.float32)


# ------------------------------------------------------------------ the accel example plugin
@pytest.fixture(scope="session")
def plugin_env(tmp_path_factory):
    """Environment in which examples/accel's `textanchor_accel` is importable and its entry
    points installed: the dist-info record `pip install` would leave, so no network is needed.
    Only subprocesses get it, so the plugin never leaks into this process's registries."""
    import tomllib

    example = Path(__file__).resolve().parents[1] / "examples" / "accel"
    site = tmp_path_factory.mktemp("site")
    project = tomllib.loads((example / "pyproject.toml").read_text())["project"]
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) + "\n"
        for group, eps in project["entry-points"].items()))
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(example.parents[1]), str(example), str(site)]),
                OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")


@pytest.fixture(scope="session")
def accel_walkthrough(plugin_env, tmp_path_factory):
    """(stdout, folder): test_example_accel.WALKTHROUGH run once in a fresh interpreter; the
    folder holds its checkpoint (ckpt/), index, reports and recordings (rec*.csv, mine.csv).
    The walkthrough test checks its results; the app test serves its checkpoint, so the plugin
    model trains once per session."""
    from test_example_accel import WALKTHROUGH, _run

    folder = tmp_path_factory.mktemp("accel-walkthrough")
    return _run(["-c", WALKTHROUGH, str(folder)], plugin_env, folder), folder
