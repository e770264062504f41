"""The things data sets' loaders, each on a tiny folder made here in its published layout."""
import csv

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from textanchor.data import DataError, load_dataset


def _table(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def test_esc50_keeps_the_published_folds_and_reads_category_text(tmp_path):
    rows = []
    for fold in (1, 2, 5):
        for cat in ("dog", "sea_waves"):
            name = f"audio/{fold}-{hash(cat) % 1000}-A-0.wav"
            (tmp_path / "audio").mkdir(exist_ok=True)
            sf.write(tmp_path / name, np.random.default_rng(fold).uniform(-.1, .1, 44100).astype(np.float32), 44100)
            rows.append((name, cat, fold, cat == "dog"))
    _table(tmp_path / "labels.csv", ("path", "label", "fold", "esc10"), rows)
    train = load_dataset("esc50", root=tmp_path, split="train", sample_rate=22050)
    test = load_dataset("esc50", root=tmp_path, split="test", sample_rate=22050)
    assert len(train) == 4 and len(test) == 2 and set(test.groups) == {"fold5"}
    assert test.class_names == ["dog", "sea waves"] and abs(len(test.items[0]) - 22050) <= 1
    assert len(load_dataset("esc50", root=tmp_path, split="all", esc10_only=True)) == 3
    (tmp_path / rows[0][0]).unlink()
    with pytest.raises(DataError, match="missing"):
        load_dataset("esc50", root=tmp_path, split="all")


def test_quickdraw_holds_out_the_last_drawings_of_each_class(tmp_path):
    for i, cls in enumerate(("cat", "alarm clock")):
        np.save(tmp_path / f"{cls}.npy", np.full((10, 784), i + 1, np.uint8))
    _table(tmp_path / "classes.csv", ("file", "label"), [("cat.npy", "cat"), ("alarm clock.npy", "alarm clock")])
    train = load_dataset("quickdraw", root=tmp_path, split="train", per_class=3, test_per_class=4)
    test = load_dataset("quickdraw", root=tmp_path, split="test", test_per_class=4)
    assert train.class_names == ["alarm clock", "cat"] and len(train) == 6 and len(test) == 8
    assert train.items[0].shape == (28, 28) and test.sources[0] == "quickdraw:alarm clock:6"
    np.save(tmp_path / "cat.npy", np.zeros((5, 28, 28), np.float32))
    with pytest.raises(DataError, match="not uint8"):
        load_dataset("quickdraw", root=tmp_path)


def test_speech_commands_splits_by_speaker(tmp_path):
    rows = []
    for word in ("cat", "dog"):
        (tmp_path / "words" / word).mkdir(parents=True)
        for spk in range(12):
            name = f"words/{word}/{spk:08x}_nohash_0.wav"
            sf.write(tmp_path / name, np.zeros(16000, np.float32), 16000)
            rows.append((name, word, f"{spk:08x}"))
    _table(tmp_path / "labels.csv", ("path", "label", "speaker"), rows)
    train = load_dataset("speech_commands", root=tmp_path, split="train", test_share=0.4)
    test = load_dataset("speech_commands", root=tmp_path, split="test", test_share=0.4)
    assert len(train) + len(test) == 24 and len(test) > 0 and not set(train.groups) & set(test.groups)
    assert train.modality == "speech" and train.sample_rate == 16000 and train.class_names == ["cat", "dog"]
    assert len(load_dataset("speech_commands", root=tmp_path, split="all", words=["dog"], per_word=5)) == 5
    with pytest.raises(DataError, match="labels.csv"):
        load_dataset("speech_commands", root=tmp_path / "nowhere")


def test_object_photos_keep_the_published_split(tmp_path):
    rows = []
    for cls in ("car", "dog"):
        (tmp_path / "images" / cls).mkdir(parents=True)
        for i, part in enumerate(("train", "train", "test", "")):
            name = f"images/{cls}/{i}.png"
            Image.fromarray(np.full((32, 32, 3), 40 * i, np.uint8)).save(tmp_path / name)
            rows.append((name, cls, "cifar10", part))
    _table(tmp_path / "labels.csv", ("path", "label", "set", "official_split"), rows)
    test = load_dataset("object_photos", root=tmp_path, split="test", test_share=0.0)
    train = load_dataset("object_photos", root=tmp_path, split="train", test_share=0.0)
    assert len(test) == 2 and len(train) == 6 and test.items[0].shape == (32, 32, 3)
    assert len(load_dataset("object_photos", root=tmp_path, split="all", per_class=1)) == 2
    (tmp_path / "images" / "car" / "3.png").write_bytes(b"not a picture")
    with pytest.raises(DataError, match="cannot read"):
        load_dataset("object_photos", root=tmp_path, split="all")
