"""The command line with the shipped things model: `--data DIR --dataset NAME` reads the named
sets from DIR and never asks for MNIST or FSDD, which a things model has no branch for."""
from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from textanchor.cli import main
from textanchor.demo.policy import THINGS_CHECKPOINT

pytestmark = pytest.mark.skipif(not (THINGS_CHECKPOINT / "config.json").is_file(),
                                reason=f"no shipped things checkpoint at {THINGS_CHECKPOINT}")


def _houses(n: int) -> np.ndarray:
    """n house outlines as 28x28 Quick, Draw!-style bitmaps (ink 255 on 0), a little shifted."""
    out = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        d = i % 3
        cv2.polylines(out[i], [np.array([[5 + d, 13], [5 + d, 26], [22 + d, 26], [22 + d, 13]], np.int32)], True, 255, 2)
        cv2.polylines(out[i], [np.array([[3 + d, 13], [13 + d, 2], [24 + d, 13]], np.int32)], False, 255, 2)
    return out


def test_embed_and_search_a_things_data_set_from_a_data_folder(tmp_path, capsys):
    data = tmp_path / "data"
    (data / "quickdraw").mkdir(parents=True)
    np.save(data / "quickdraw" / "house.npy", _houses(12))
    with open(data / "quickdraw" / "classes.csv", "w", newline="") as f:
        csv.writer(f).writerows([("file", "label"), ("house.npy", "house")])
    idx = tmp_path / "index"
    assert main(["embed", "--checkpoint", str(THINGS_CHECKPOINT), "--data", str(data), "--dataset", "quickdraw",
                 "--out", str(idx)]) == 0
    assert "6 items (sketch)" in capsys.readouterr().out  # the held-out half of 12
    assert main(["search", "--index", str(idx), "--checkpoint", str(THINGS_CHECKPOINT), "--text", "a house",
                 "-k", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("query zero-shot: house") and " sketch " in out[1]
    # --data alone names no set a things model reads: the message says what to add
    assert main(["embed", "--checkpoint", str(THINGS_CHECKPOINT), "--data", str(data), "--out", str(idx)]) == 2
    assert "--dataset quickdraw" in capsys.readouterr().err


def test_embed_files_says_which_branch_reads_them(tmp_path, capsys):
    """A things model reads .png as a sketch or a photo: the command asks, then embeds as told."""
    png = tmp_path / "house.png"
    cv2.imwrite(str(png), 255 - cv2.resize(_houses(1)[0], (280, 280), interpolation=cv2.INTER_NEAREST))
    idx = tmp_path / "index"
    assert main(["embed", "--checkpoint", str(THINGS_CHECKPOINT), "--out", str(idx), str(png)]) == 2
    assert "--files-modality" in capsys.readouterr().err
    assert main(["embed", "--checkpoint", str(THINGS_CHECKPOINT), "--out", str(idx), "--files-modality", "sketch",
                 str(png)]) == 0
    assert "1 items (sketch)" in capsys.readouterr().out
    assert main(["search", "--index", str(idx), "--checkpoint", str(THINGS_CHECKPOINT), "--file", str(png),
                 "--query-modality", "sketch", "-k", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("query zero-shot: house") and out[1].startswith("1.000")
