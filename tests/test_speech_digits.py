"""speech_digits: a speaker never sits on both sides of the split, and the split is stable."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from conftest import SHARED_DATA
from textanchor.data import DataError, load_dataset


@pytest.fixture()
def folder(tmp_path):
    rows = ["file,label,speaker,source_repo,license,sample_rate,channels,duration_s"]
    rng = np.random.default_rng(0)
    for src, speakers, per in (("sc", [f"s{i:02d}" for i in range(30)], 2), ("am", ["01", "02", "03", "04"], 5),
                               ("fcr", ["me"], 40)):
        for sp in speakers:
            for n in range(per):
                digit = int(rng.integers(10))
                name = f"{digit}_{src}_{sp}_{n}.wav"
                sf.write(tmp_path / name, rng.normal(0, 0.1, 1600).astype(np.float32), 16000)
                rows.append(f"{name},{digit},{sp},x,MIT,16000,1,0.1")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_speaker_disjoint_and_fcr_always_trains(folder):
    train = load_dataset("speech_digits", root=folder, split="train", max_per_speaker=10)
    test = load_dataset("speech_digits", root=folder, split="test")
    assert set(train.groups).isdisjoint(test.groups) and len(test) > 0
    assert not any(g.startswith("fcr:") for g in test.groups)
    assert sum(g == "fcr:me" for g in train.groups) == 10  # capped
    assert len(load_dataset("speech_digits", root=folder, split="all")) == 60 + 20 + 40
    again = load_dataset("speech_digits", root=folder, split="test")
    assert again.sources == test.sources and train.sample_rate == 8000


def test_missing_folder_says_where(tmp_path):
    with pytest.raises(DataError, match="labels.csv"):
        load_dataset("speech_digits", root=tmp_path)


@pytest.mark.skipif(not (SHARED_DATA / "speech_digits").is_dir(), reason=f"no speech_digits under {SHARED_DATA}")
def test_real_split_sizes():
    test = load_dataset("speech_digits", root=SHARED_DATA / "speech_digits", split="test")
    assert len(test) == 161 and len(set(test.groups)) == 55
