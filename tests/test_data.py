"""Offline tests of every data set loader on tiny fixtures written into tmp_path."""
from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from textanchor.data import DATASETS, DIGIT_NAMES, DataError, ItemSet, load_dataset
from textanchor.data.audio_io import read_audio, resample, resample_many, to_mono
from textanchor.data.mnist import parse_idx

SHARED = Path(os.environ.get("TEXTANCHOR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write a uint8 IDX file, gzipped when the name ends in .gz."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def write_wav(path: Path, seconds=0.25, sr=8000, channels=1, freq=440.0) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    wave = 0.5 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.stack([wave] * channels, 1) if channels > 1 else wave, sr)
    return path


def test_registry_lists_every_loader():
    assert set(DATASETS.names()) >= {"mnist", "digits", "fsdd", "audiomnist", "espeak", "manifest"}
    with pytest.raises(KeyError, match="known: .*mnist"):
        load_dataset("imagenet")


# --- audio I/O ---------------------------------------------------------------------------------

def test_read_audio_mono_stereo_and_resampling(tmp_path):
    wave, sr = read_audio(write_wav(tmp_path / "a.wav"))
    assert (sr, wave.shape, wave.dtype) == (8000, (2000,), np.float32)
    stereo = write_wav(tmp_path / "s.wav", seconds=0.5, sr=44100, channels=2)
    wave, sr = read_audio(stereo, sample_rate=8000)
    assert sr == 8000 and wave.ndim == 1 and abs(len(wave) - 4000) <= 1
    assert 0.4 < np.abs(wave).max() < 0.6  # channels averaged, not summed


def test_read_audio_errors(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_text("not audio at all")
    for name, words in [("missing.wav", "not found"), ("empty.wav", "empty"), ("text.wav", "decode")]:
        with pytest.raises(DataError, match=words) as err:
            read_audio(tmp_path / name)
        assert name in str(err.value)


def test_to_mono_and_resample():
    pcm = np.array([[32767, -32767], [16384, 16384]], dtype=np.int16)  # (T=2, C=2) microphone
    np.testing.assert_allclose(to_mono(pcm), [0.0, 0.5], atol=1e-4)
    assert resample(np.zeros(16000, np.float32), 16000, 8000).shape == (8000,)
    x = np.ones(10, np.float32)
    assert resample(x, 8000, 8000) is x
    rng = np.random.default_rng(0)
    waves = [rng.standard_normal(n).astype(np.float32) for n in (7, 5000, 22050, 1234)]
    for one, many in zip(waves, resample_many(waves, 22050, 8000, batch=3)):  # padding is harmless
        np.testing.assert_allclose(many, resample(one, 22050, 8000), atol=1e-5)


# --- images ------------------------------------------------------------------------------------

def _mnist_fixture(folder: Path, split_stem: str, n: int, gz: bool) -> np.ndarray:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    ext = ".gz" if gz else ""
    write_idx(folder / f"{split_stem}-images-idx3-ubyte{ext}", images)
    write_idx(folder / f"{split_stem}-labels-idx1-ubyte{ext}", np.arange(n) % 10)
    return images


def test_parse_idx_roundtrip_and_errors(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    for name in ("x.idx", "x.idx.gz"):
        np.testing.assert_array_equal(parse_idx(write_idx(tmp_path / name, a)), a)
    np.testing.assert_array_equal(parse_idx((tmp_path / "x.idx").read_bytes()), a)
    with pytest.raises(DataError, match="magic"):
        parse_idx(b"\x01\x02\x03\x04")
    with pytest.raises(DataError, match="truncated"):
        parse_idx((tmp_path / "x.idx").read_bytes()[:-1])


def test_mnist_gz_plain_and_torchvision_layout(tmp_path):
    train = _mnist_fixture(tmp_path, "train", 12, gz=True)
    test = _mnist_fixture(tmp_path / "MNIST" / "raw", "t10k", 7, gz=False)
    ds = load_dataset("mnist", root=tmp_path, split="train", limit=5)
    assert isinstance(ds, ItemSet) and ds.modality == "image" and len(ds) == 5
    assert ds.items[3].shape == (28, 28) and ds.items[3].dtype == np.uint8
    np.testing.assert_array_equal(ds.items[3], train[3])
    assert ds.class_names == DIGIT_NAMES and ds.texts[:3] == ["zero", "one", "two"]
    ts = load_dataset("mnist", root=tmp_path, split="test")
    assert len(ts) == 7 and ts.sources[4] == "mnist:test:4"
    np.testing.assert_array_equal(ts.items[6], test[6])


def test_mnist_missing_files_message(tmp_path):
    with pytest.raises(DataError) as err:
        load_dataset("mnist", root=tmp_path, split="test")
    msg = str(err.value)
    assert str(tmp_path) in msg and "t10k-images-idx3-ubyte" in msg and "--download" in msg


def test_digits_splits_disjoint_stratified_and_seeded():
    train, test = load_dataset("digits", split="train"), load_dataset("digits", split="test")
    every = load_dataset("digits", split="all")
    assert len(every) == 1797 and len(train) + len(test) == 1797
    assert not set(train.sources) & set(test.sources)
    assert abs(len(test) / len(every) - 0.2) < 0.01
    share = np.bincount(test.labels, minlength=10) / np.bincount(every.labels, minlength=10)
    assert np.all(np.abs(share - 0.2) < 0.03)  # every class ~20% in test
    assert test.items[0].dtype == np.uint8 and max(x.max() for x in every.items) == 255
    assert load_dataset("digits", split="test", seed=0).sources == test.sources
    assert load_dataset("digits", split="test", seed=1).sources != test.sources


def test_manifest_images_audio_and_errors(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((5, 6), 200, np.uint8)).save(tmp_path / "g.png")
    (tmp_path / "sub").mkdir()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "sub" / "c.jpg")
    (tmp_path / "img.csv").write_text("path,text\ng.png,a cat\nsub/c.jpg,a dog\ng.png,a cat\n")
    ds = load_dataset("manifest", csv_path=tmp_path / "img.csv")
    assert ds.modality == "image" and ds.class_names == ["a cat", "a dog"]
    assert ds.items[0].shape == (5, 6) and ds.items[1].shape == (4, 4, 3)
    assert ds.labels.tolist() == [0, 1, 0]

    write_wav(tmp_path / "w" / "x.wav", sr=16000)
    (tmp_path / "aud.csv").write_text(f"path,text\nw/x.wav,hello\n{tmp_path / 'w' / 'x.wav'},bye\n")
    au = load_dataset("manifest", csv_path=tmp_path / "aud.csv", sample_rate=8000)
    assert au.modality == "audio" and au.sample_rate == 8000 and len(au.items[0]) == 2000

    (tmp_path / "miss.csv").write_text("path,text\ng.png,a\nnope1.png,b\nnope2.png,c\n")
    with pytest.raises(DataError, match=r"2 listed file\(s\) missing.*nope1\.png"):
        load_dataset("manifest", csv_path=tmp_path / "miss.csv")
    kept = load_dataset("manifest", csv_path=tmp_path / "miss.csv", skip_missing=True)
    assert len(kept) == 1 and len(kept.meta["missing"]) == 2

    (tmp_path / "bad.csv").write_text("file,label\ng.png,a\n")
    with pytest.raises(DataError, match="path,text"):
        load_dataset("manifest", csv_path=tmp_path / "bad.csv")
    (tmp_path / "mixed.csv").write_text("path,text\ng.png,a\nw/x.wav,b\n")
    with pytest.raises(DataError, match="one manifest per modality"):
        load_dataset("manifest", csv_path=tmp_path / "mixed.csv")


# --- spoken digits -----------------------------------------------------------------------------

def _digit_wavs(folder: Path, speakers, indices, sr: int, digits=(0, 1, 2)) -> None:
    for s in speakers:
        for d in digits:
            for i in indices:
                write_wav(folder / f"{d}_{s}_{i}.wav", seconds=0.1, sr=sr, freq=200 + 50 * d)


def test_fsdd_official_and_speaker_splits(tmp_path):
    rec = tmp_path / "recordings"
    _digit_wavs(rec, ["george", "theo", "yweweler"], range(7), sr=8000)
    (rec / "notes.txt").write_text("not a recording")
    write_wav(rec / "silence.wav")
    every = load_dataset("fsdd", root=tmp_path, split="all")
    assert len(every) == 63 and every.meta["skipped"] == 2 and every.sample_rate == 8000
    off_test = load_dataset("fsdd", root=rec, split="test")
    off_train = load_dataset("fsdd", root=rec, split="train")
    assert (len(off_test), len(off_train)) == (45, 18)
    assert not set(off_test.sources) & set(off_train.sources)
    spk_test = load_dataset("fsdd", root=tmp_path, split="test", holdout="speaker")
    spk_train = load_dataset("fsdd", root=tmp_path, split="train", holdout="speaker")
    assert set(spk_test.groups) == {"theo"} and "theo" not in set(spk_train.groups)
    assert len(spk_test) + len(spk_train) == 63
    assert spk_test.items[0].dtype == np.float32 and spk_test.items[0].shape == (800,)
    assert load_dataset("fsdd", root=rec, split="all", limit=4).texts == ["zero"] * 4
    with pytest.raises(DataError, match="speakers present"):
        load_dataset("fsdd", root=rec, split="test", holdout="speaker", test_speakers=("bob",))
    with pytest.raises(DataError, match="--download"):
        load_dataset("fsdd", root=tmp_path / "nowhere")


def test_audiomnist_layout_resampled(tmp_path):
    for s in ("01", "02", "03"):
        _digit_wavs(tmp_path / "data" / s, [s], range(6), sr=48000, digits=(3, 9))
    (tmp_path / "data" / "audioMNIST_meta.txt").write_text("{}")
    test = load_dataset("audiomnist", root=tmp_path, split="test", test_speakers=("03",))
    train = load_dataset("audiomnist", root=tmp_path / "data", split="train", test_speakers=("03",))
    assert set(test.groups) == {"03"} and set(train.groups) == {"01", "02"}
    assert len(test) == 12 and len(train) == 24 and test.sample_rate == 8000
    assert test.items[0].shape == (800,) and set(test.texts) == {"three", "nine"}
    official = load_dataset("audiomnist", root=tmp_path, split="test", holdout="official")
    assert len(official) == 30 and set(official.groups) == {"01", "02", "03"}


# --- synthetic speech --------------------------------------------------------------------------

def test_espeak_synthesizes_distinct_nonsilent_words():
    from textanchor.data.espeak import synthesize

    wave, sr = synthesize("seven", voice="en")
    assert sr == 22050 and wave.dtype == np.float32 and np.abs(wave).max() > 0.1
    assert 0.2 < len(wave) / sr < 1.5
    other, _ = synthesize("seven", voice="en-us+f3")
    n = min(len(wave), len(other))
    assert len(wave) != len(other) or not np.allclose(wave[:n], other[:n])
    with pytest.raises(DataError, match="variant"):
        synthesize("one", voice="en+nosuchvariant")


def test_espeak_dataset_holds_out_voices_and_caches(tmp_path):
    opts = dict(words=["one", "two"], voices=("en", "en-us", "en+f3", "en+m3"), rates=(175,),
                pitches=(40, 60), sample_rate=8000, cache_dir=tmp_path)
    train, test = load_dataset("espeak", split="train", **opts), load_dataset("espeak", split="test", **opts)
    assert len(train) + len(test) == 2 * 4 * 2 and not set(train.groups) & set(test.groups)
    assert test.class_names == ["one", "two"] and train.sample_rate == 8000
    durations = [len(x) / 8000 for x in train.items]
    assert min(durations) > 0.15 and max(durations) < 1.0  # silence trimmed, word kept
    # Trimmed: sound within 20 ms (the 10 ms pad plus slack) of both ends.
    for x in train.items:
        assert min(np.abs(x[:160]).max(), np.abs(x[-160:]).max()) > 0.01 * np.abs(x).max()
    again = load_dataset("espeak", split="train", **opts)
    assert len(list(tmp_path.glob("espeak-*.npz"))) == 2
    np.testing.assert_array_equal(again.items[1], train.items[1])


# --- the real data sets ------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "mnist").is_dir() or not (SHARED / "fsdd").is_dir(),
                    reason=f"real MNIST/FSDD not found at {SHARED} (set TEXTANCHOR_DATA)")
def test_real_mnist_and_fsdd():
    mnist = load_dataset("mnist", root=SHARED / "mnist", split="test")
    assert len(mnist) == 10000 and np.bincount(mnist.labels).min() > 800
    fsdd_test = load_dataset("fsdd", root=SHARED / "fsdd", split="test")
    assert len(fsdd_test) == 250 and len(set(fsdd_test.groups)) == 5
    held = load_dataset("fsdd", root=SHARED / "fsdd", split="test", holdout="speaker")
    assert len(held) == 500 and set(held.groups) == {"theo"}
    rest = load_dataset("fsdd", root=SHARED / "fsdd", split="train", holdout="speaker", limit=10)
    assert "theo" not in rest.groups
