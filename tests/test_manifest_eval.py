"""`textanchor evaluate --manifest CSV` scores any labelled folder of recordings, in any format."""
from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from textanchor.cli import main


def test_evaluate_a_manifest_of_spoken_digits(trained, tmp_path):
    from test_audio_formats import write_av

    from textanchor.data.espeak import synthesize

    rows = []
    for i, word in enumerate(["zero", "one", "two"]):  # the toy checkpoint's classes
        wave, sr = synthesize(word, "en-us")
        if i == 1:  # mixed formats in one folder
            write_av(tmp_path / f"{word}.m4a", wave, sr, "ipod", "aac", 16000)
            rows.append(f"{word}.m4a,{word}")
        else:
            sf.write(tmp_path / f"{word}.wav", wave, sr)
            rows.append(f"{word}.wav,{word}")
    (tmp_path / "labels.csv").write_text("path,text\n" + "\n".join(rows) + "\n")
    out = tmp_path / "m.json"
    assert main(["evaluate", "--checkpoint", str(trained.checkpoint), "--manifest", str(tmp_path / "labels.csv"),
                 "--split", "all", "--no-probes", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["audio/n"] == 3 and 0.0 <= report["audio/zero_shot_acc"] <= 1.0
    assert np.isfinite(report["audio/mean_cosine"])


def test_manifest_naming_a_missing_file_fails_clearly(trained, tmp_path, capsys):
    (tmp_path / "labels.csv").write_text("path,text\ngone.wav,zero\n")
    assert main(["evaluate", "--checkpoint", str(trained.checkpoint), "--manifest", str(tmp_path / "labels.csv")]) == 2
    assert "gone.wav" in capsys.readouterr().err
