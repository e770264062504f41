"""The command line end to end on files the test writes: train -> evaluate -> embed -> search."""
import json

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from conftest import toy_audio, toy_images
from textanchor.cli import build_parser, main


@pytest.mark.parametrize("cmd", [[], ["train"], ["evaluate"], ["embed"], ["search"]])
def test_help(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        main(cmd + ["--help"])
    assert e.value.code == 0
    assert "usage: textanchor" in capsys.readouterr().out


@pytest.fixture(scope="module")
def toy_files(tmp_path_factory):
    """Toy images as PNG and tones as WAV at 16 kHz, with one CSV manifest per modality."""
    root = tmp_path_factory.mktemp("files")
    rows = {"image": [], "audio": []}
    imgs, tones = toy_images(12, 5), toy_audio(12, 6, sr=16000)
    for i, (img, y) in enumerate(zip(imgs.items, imgs.labels)):
        Image.fromarray(255 - img).save(root / f"img{i}.png")  # dark ink on white paper
        rows["image"].append(f"img{i}.png,{imgs.class_names[y]}")
    for i, (w, y) in enumerate(zip(tones.items, tones.labels)):
        sf.write(root / f"tone{i}.wav", np.stack([w, w], 1), 16000)  # stereo
        rows["audio"].append(f"tone{i}.wav,{tones.class_names[y]}")
    for m, r in rows.items():
        (root / f"{m}.csv").write_text("path,text\n" + "\n".join(r) + "\n")
    return root


def test_train_evaluate_embed_search(toy_files, tmp_path, capsys):
    small = {"widths": [8, 16, 32]}
    recipe = {
        "modalities": {
            m: {"data": [{"name": "manifest", "options": {"csv_path": str(toy_files / f"{m}.csv")}}],
                "branch": {"encoder_options": small}}
            for m in ("image", "audio")
        },
        "epochs": 12, "batch_size": 12, "lr": 0.005,
    }
    (tmp_path / "recipe.json").write_text(json.dumps(recipe))
    ck = tmp_path / "ck"
    assert main(["train", "--config", str(tmp_path / "recipe.json"), "--out", str(ck), "--quiet",
                 "--json", str(tmp_path / "train.json")]) == 0
    assert (ck / "model.safetensors").is_file()

    out = tmp_path / "eval.json"
    assert main(["evaluate", "--checkpoint", str(ck), "--manifest", str(toy_files / "image.csv"),
                 "--manifest", str(toy_files / "audio.csv"), "--split", "all", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    for key in ("image/zero_shot_acc", "audio/zero_shot_acc", "image_to_audio/P@1", "audio_to_image/mAP",
                "text_to_image/R@5", "image/probe_80_20", "audio/modality_gap", "image/mean_cosine"):
        assert key in report
    assert report["image/zero_shot_acc"] > 0.6 and report["audio/zero_shot_acc"] > 0.6, report

    idx = tmp_path / "index"
    files = [str(toy_files / "img0.png"), str(toy_files / "tone0.wav")]
    assert main(["embed", "--checkpoint", str(ck), "--out", str(idx), "--manifest", str(toy_files / "audio.csv"),
                 "--split", "all", *files]) == 0
    capsys.readouterr()
    assert main(["search", "--index", str(idx), "--checkpoint", str(ck), "--text", "two", "-k", "3",
                 "--modality", "audio"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("query zero-shot: two") and len(lines) == 4
    assert all(" audio " in line for line in lines[1:])


def test_embed_leaves_out_unreadable_files_and_names_them(trained, toy_files, tmp_path, capsys):
    ck = trained.checkpoint
    (tmp_path / "fake.wav").write_bytes(b"not audio at all" * 20)
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("hello")
    good = [str(toy_files / "img0.png"), str(toy_files / "tone0.wav")]
    bad = [str(tmp_path / n) for n in ("fake.wav", "empty.png", "notes.txt")]
    idx = tmp_path / "index"
    assert main(["embed", "--checkpoint", str(ck), "--out", str(idx), good[0], *bad, good[1]]) == 0
    out, err = capsys.readouterr()
    assert "2 items (image, audio)" in out and "3 files not embedded" in out
    for b in bad:
        assert f"not embedded: {b}: " in err
    assert "Traceback" not in err and "Errno" not in err
    from textanchor.index import EmbeddingIndex
    assert [m["source"] for m in EmbeddingIndex.load(idx).metadata()] == good
    # nothing readable: an error, and no index written
    assert main(["embed", "--checkpoint", str(ck), "--out", str(tmp_path / "none"), *bad]) == 2
    assert "none of the 3 files could be embedded" in capsys.readouterr().err and not (tmp_path / "none").exists()
    # a branch the model lacks is said once
    assert main(["embed", "--checkpoint", str(ck), "--out", str(tmp_path / "x"), "--files-modality", "video", *good]) == 2
    assert capsys.readouterr().err.count("error:") == 1


def test_errors_are_one_clear_line(tmp_path, capsys):
    assert main(["evaluate", "--checkpoint", str(tmp_path / "nope"), "--digits"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "not a textanchor checkpoint" in err and "Traceback" not in err
    assert main(["train", "--preset", "nope"]) == 2
    assert "unknown preset" in capsys.readouterr().err


def test_parser_lists_every_command():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) == {"train", "evaluate", "embed", "search", "bench"}


def test_missing_data_says_where_it_looked_and_how_to_get_it(trained, tmp_path, capsys):
    assert main(["evaluate", "--checkpoint", str(trained.checkpoint), "--mnist", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "none") in err and "--download" in err
