"""`textanchor evaluate --manifest CSV` scores any labelled folder of recordings, in any format.

The shipped checkpoint (`checkpoints/digits`) is evaluated on ten golden FSDD recordings
(tests/golden/, one speaker, every digit) in three formats, listed in a shuffled order, plus one
row whose label is deliberately wrong. The checkpoint reads all ten right (tests/test_golden.py
pins that), so the one right score is 10 of 11: a label remapped wrongly between the
manifest's class order and the checkpoint's, an unread row, or a score that ignores the labels
all give another number.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from textanchor.cli import main
from textanchor.data.base import DIGIT_NAMES
from textanchor.demo.policy import DIGITS_CHECKPOINT

GOLDEN = Path(__file__).resolve().parent / "golden" / "fsdd"

pytestmark = pytest.mark.skipif(not (DIGITS_CHECKPOINT / "model.safetensors").is_file(),
                                reason=f"no shipped checkpoint at {DIGITS_CHECKPOINT}")


def test_evaluate_a_manifest_of_spoken_digits(tmp_path):
    from test_audio_formats import write_av

    rows = []
    for d, word in enumerate(DIGIT_NAMES):
        src = next(GOLDEN.glob(f"{d}_george_*.flac"))
        if d % 3 == 0:  # mixed formats in one folder: FLAC as shipped, 16-bit WAV, AAC in M4A
            shutil.copy(src, tmp_path / src.name)
            rows.append(f"{src.name},{word}")
        else:
            wave, sr = sf.read(src, dtype="float32")
            if d % 3 == 1:
                sf.write(tmp_path / f"{d}.wav", wave, sr, subtype="PCM_16")
                rows.append(f"{d}.wav,{word}")
            else:
                write_av(tmp_path / f"{d}.m4a", wave, sr, "ipod", "aac", 16000)
                rows.append(f"{d}.m4a,{word}")
    rows.append(f"{rows[7].split(',')[0]},two")  # a "seven" labelled "two": must count as wrong
    order = np.random.default_rng(0).permutation(len(rows))  # class order unlike the checkpoint's
    (tmp_path / "labels.csv").write_text("path,text\n" + "\n".join(rows[i] for i in order) + "\n")
    out = tmp_path / "m.json"
    assert main(["evaluate", "--checkpoint", str(DIGITS_CHECKPOINT), "--manifest", str(tmp_path / "labels.csv"),
                 "--split", "all", "--no-probes", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["audio/n"] == 11
    assert report["audio/zero_shot_acc"] == pytest.approx(10 / 11), report
    assert report["audio_to_text/P@1"] == pytest.approx(10 / 11)
    assert 0.5 < report["audio/mean_cosine"] < 1.0


def test_manifest_naming_a_missing_file_fails_clearly(tmp_path, capsys):
    (tmp_path / "labels.csv").write_text("path,text\ngone.wav,zero\n")
    assert main(["evaluate", "--checkpoint", str(DIGITS_CHECKPOINT), "--manifest", str(tmp_path / "labels.csv")]) == 2
    assert "gone.wav" in capsys.readouterr().err


def _golden_manifest(tmp_path, labels: dict[int, str], extra: str = "") -> Path:
    rows = [f"{next(GOLDEN.glob(f'{d}_george_*.flac'))},{text}" for d, text in labels.items()]
    (tmp_path / "labels.csv").write_text("path,text\n" + "\n".join(rows) + "\n" + extra)
    return tmp_path / "labels.csv"


def test_missing_files_name_the_cli_flag_and_the_flag_skips_them(tmp_path, capsys):
    csv = _golden_manifest(tmp_path, {0: "zero", 1: "one"}, "gone.wav,two\n")
    assert main(["evaluate", "--checkpoint", str(DIGITS_CHECKPOINT), "--manifest", str(csv), "--no-probes"]) == 2
    err = capsys.readouterr().err
    assert "gone.wav" in err and "--skip-missing" in err, err
    out = tmp_path / "m.json"
    assert main(["evaluate", "--checkpoint", str(DIGITS_CHECKPOINT), "--manifest", str(csv), "--skip-missing",
                 "--split", "all", "--no-probes", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["audio/n"] == 2


def test_labels_the_model_has_no_class_for_are_refused_by_name(tmp_path, capsys):
    """Numerals for a model of digit words used to score 0% without a word."""
    csv = _golden_manifest(tmp_path, {7: "7", 4: "4"})
    assert main(["evaluate", "--checkpoint", str(DIGITS_CHECKPOINT), "--manifest", str(csv), "--no-probes"]) == 2
    err = capsys.readouterr().err
    assert "'4', '7'" in err and "'zero', 'one'" in err and "--open-vocab" in err, err


def test_some_unknown_labels_are_named_in_a_warning(tmp_path, capsys):
    csv = _golden_manifest(tmp_path, {7: "seven", 4: "cat"})
    assert main(["evaluate", "--checkpoint", str(DIGITS_CHECKPOINT), "--manifest", str(csv), "--split", "all",
                 "--no-probes"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: labels the model has no class for (audio: 'cat')") and "'nine'" in err, err
