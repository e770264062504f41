"""`textanchor search --file` checks a query file as the app checks an upload: a recording
without speech is refused with the app's own message, a spoken word is searched."""
from __future__ import annotations

import numpy as np
import soundfile as sf

from tests.conftest import spoken_word
from textanchor.cli import main
from textanchor.vad import NO_SPEECH


def test_search_file_refuses_no_speech_and_searches_a_word(trained, tmp_path, capsys):
    ck = str(trained.checkpoint)
    word = tmp_path / "word.wav"
    sf.write(word, spoken_word("three", 16000), 16000)
    idx = tmp_path / "index"
    assert main(["embed", "--checkpoint", ck, "--out", str(idx), str(word)]) == 0
    capsys.readouterr()

    hiss = tmp_path / "hiss.wav"
    sf.write(hiss, (0.05 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32), 16000)
    assert main(["search", "--index", str(idx), "--checkpoint", ck, "--file", str(hiss)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {NO_SPEECH}"

    assert main(["search", "--index", str(idx), "--checkpoint", ck, "--file", str(word), "-k", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("query zero-shot:") and "word.wav" in out[1]
