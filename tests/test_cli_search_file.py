"""`textanchor search --file` checks a query file as the app checks an upload: a recording
without speech is refused with the app's own message, a spoken word is searched."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from conftest import spoken_word
from textanchor.cli import main
from textanchor.vad import NO_SPEECH


@pytest.fixture(scope="module")
def indexed(trained, tmp_path_factory):
    """(checkpoint, a spoken "three" at 16 kHz, an index holding it): built once for the module."""
    folder = tmp_path_factory.mktemp("cli-search")
    ck = str(trained.checkpoint)
    word = folder / "word.wav"
    sf.write(word, spoken_word("three", 16000), 16000)
    idx = folder / "index"
    assert main(["embed", "--checkpoint", ck, "--out", str(idx), str(word)]) == 0
    return ck, word, idx


def test_search_file_refuses_no_speech_and_searches_a_word(indexed, tmp_path, capsys):
    ck, word, idx = indexed
    capsys.readouterr()

    hiss = tmp_path / "hiss.wav"
    sf.write(hiss, (0.05 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32), 16000)
    assert main(["search", "--index", str(idx), "--checkpoint", ck, "--file", str(hiss)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {NO_SPEECH}"

    assert main(["search", "--index", str(idx), "--checkpoint", ck, "--file", str(word), "-k", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("query zero-shot:") and "word.wav" in out[1]

    # Two words: the note the app gives ("2 words heard; searched the clearest, ...") is printed too.
    two = tmp_path / "two.wav"
    sf.write(two, np.concatenate([spoken_word("three", 16000), np.zeros(8000, np.float32),
                                  spoken_word("seven", 16000)]), 16000)
    assert main(["search", "--index", str(idx), "--checkpoint", ck, "--file", str(two), "-k", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("query zero-shot:") and out[1].startswith("note: 2 words heard; searched the clearest")


def _png_header(path, width: int, height: int) -> None:
    """A grey PNG that declares width x height pixels and holds one empty row: enough for a
    reader that checks the size from the header before decoding."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1)))
                     + chunk(b"IEND", b""))


def test_search_refuses_bad_queries_with_clear_messages(indexed, tmp_path, capsys):
    import warnings

    from PIL import Image

    ck, _, idx = indexed
    capsys.readouterr()
    search = ["search", "--index", str(idx), "--checkpoint", ck]

    missing = tmp_path / "nonexistent.wav"
    assert main([*search, "--file", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {missing.resolve()} does not exist (or is not a file)."

    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), 16000)
    assert main([*search, "--file", str(empty)]) == 2
    assert "The recording empty.wav is empty" in capsys.readouterr().err

    assert main([*search, "--text", "  "]) == 2
    assert capsys.readouterr().err.strip() == "error: Type a word or a sentence to search with, e.g. 'zero'."  # the model's own class

    for k in ("0", "-5"):
        with pytest.raises(SystemExit) as e:
            main([*search, "--text", "seven", "-k", k])
        assert e.value.code == 2 and "must be at least 1" in capsys.readouterr().err

    huge = tmp_path / "huge.png"
    _png_header(huge, 12_000, 12_000)  # 144 megapixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)  # PIL's DecompressionBombWarning used to be printed
        assert main([*search, "--file", str(huge)]) == 2
    assert "The picture is too large (12000x12000 px, 144 megapixels; at most 89)" in capsys.readouterr().err


def test_search_says_when_it_is_not_sure(indexed, tmp_path, capsys):
    """The app's rule on the command line: under 60% zero-shot confidence the line says the query
    is likely none of the classes (the shipped checkpoint reads "banana bread" as a digit at ~23%)."""
    from pathlib import Path

    from textanchor.demo.search import UNSURE_BELOW
    from textanchor.pipeline import Embedder

    ck = str(Path(__file__).resolve().parents[1] / "checkpoints" / "digits")
    _, word, _ = indexed
    idx = tmp_path / "index"
    assert main(["embed", "--checkpoint", ck, "--out", str(idx), str(word)]) == 0
    emb = Embedder.from_checkpoint(ck)
    seen = []
    for text in ("banana bread", "two"):
        conf = float(emb.classify(emb.embed("text", [text]))[1][0].max())
        seen.append(conf < UNSURE_BELOW)
        capsys.readouterr()
        assert main(["search", "--index", str(idx), "--checkpoint", ck, "--text", text, "-k", "1"]) == 0
        first = capsys.readouterr().out.splitlines()[0]
        assert first.startswith("query zero-shot: ") and f"({conf:.2f})" in first
        assert ("not sure: under 0.60; it may be none of the 10 classes this model knows (zero, one, two" in first) == seen[-1], first
    assert seen == [True, False]  # both sides of the rule were checked
