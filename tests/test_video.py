"""Video data and video embedding: clips are written here with PyAV (toy-digit frames with a
tone of the same class as the sound track), decoded, embedded, trained on and searched."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from conftest import TOY_CLASSES, small_config, toy_audio, toy_images

av = pytest.importorskip("av")

from textanchor.data import DATASETS, DataError, load_dataset  # noqa: E402
from textanchor.data.video import decode_video, video_parts, write_video  # noqa: E402

SR = 8000
FOLDERS = ["zero", "one_", "two"]  # "one_" checks that underscores become spaces / are dropped


def _clip_frames(img: np.ndarray, n: int) -> list[np.ndarray]:
    """n frames of one image drifting right by a pixel a frame, upscaled to 56x56."""
    big = np.kron(img, np.ones((2, 2), np.uint8))
    return [np.roll(big, i, axis=1) for i in range(n)]


@pytest.fixture(scope="module")
def video_root(tmp_path_factory):
    """root/{class}/*.mp4: 4 clips per class, clip 0 of class "two" silent, plus two bad files."""
    root = tmp_path_factory.mktemp("videos")
    imgs, tones = toy_images(4, 7), toy_audio(4, 8, SR)
    for i, (img, wave, y) in enumerate(zip(imgs.items, tones.items, imgs.labels)):
        silent = y == 2 and i % 4 == 0
        write_video(root / FOLDERS[y] / f"clip{i}.mp4", _clip_frames(img, 8),
                    None if silent else wave, SR, fps=8)
    (root / "zero" / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"junk" * 64)
    (root / "one_" / "empty.mkv").write_bytes(b"")
    (root / "two" / "notes.txt").write_text("not a video")
    return root


def test_loaders_are_registered():
    for name in ("video_folder", "video_manifest", "video_frames", "video_audio"):
        assert name in DATASETS


def test_decode_first_frame_and_sound(video_root):
    v = decode_video(video_root / "zero" / "clip0.mp4", n_frames=1, sample_rate=SR)
    assert len(v.frames) == 1 and v.frames[0].shape == (56, 56, 3) and v.frames[0].dtype == np.uint8
    assert v.frame_times == [0.0]
    assert v.has_audio and v.sample_rate == SR
    assert abs(len(v.audio) / SR - len(toy_audio(4, 8).items[0]) / SR) < 0.2  # AAC pads a little
    assert np.abs(v.audio).max() > 0.05


def test_decode_even_frames_and_resample(video_root):
    v = decode_video(video_root / "zero" / "clip0.mp4", n_frames=4, sample_rate=16000, max_side=28)
    assert len(v.frames) == 4 and v.frames[0].shape == (28, 28, 3)
    assert np.allclose(v.frame_times, [0.0, 0.25, 0.5, 0.75], atol=0.13)  # 8 frames at 8 fps
    assert v.sample_rate == 16000


def test_pcm_in_mkv_round_trip(tmp_path):
    wave = (0.5 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)).astype(np.float32)
    p = write_video(tmp_path / "a.mkv", [np.zeros((16, 16), np.uint8)] * 3, wave, SR, audio_codec="pcm_s16le")
    v = decode_video(p, sample_rate=SR)
    assert len(v.audio) == SR and np.allclose(v.audio, wave, atol=1e-3)


@pytest.mark.parametrize("content", [b"", b"junk" * 100])
def test_bad_file_raises_data_error(tmp_path, content):
    p = tmp_path / "bad.mp4"
    p.write_bytes(content)
    with pytest.raises(DataError, match="bad.mp4"):
        decode_video(p)
    with pytest.raises(DataError, match="not found"):
        decode_video(tmp_path / "missing.mp4")


def test_truncated_and_audio_only_files(tmp_path, video_root):
    whole = (video_root / "zero" / "clip0.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError):
        decode_video(tmp_path / "cut.mp4")
    with av.open(str(tmp_path / "sound.mkv"), "w") as out:  # a sound track and no picture
        a = out.add_stream("pcm_s16le", rate=SR)
        a.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = SR
        out.mux(a.encode(frame))
        out.mux(a.encode())
    with pytest.raises(DataError, match="no video stream"):
        decode_video(tmp_path / "sound.mkv")


def test_folder_reports_bad_and_silent_files(video_root):
    s = load_dataset("video_folder", root=video_root, n_frames=2)
    assert s.modality == "video" and len(s) == 12
    assert s.class_names == sorted(["zero", "one", "two"])
    assert sorted(x["source"].rsplit("/", 1)[1] for x in s.meta["skipped"]) == ["corrupt.mp4", "empty.mkv"]
    assert [x["source"].rsplit("/", 1)[1] for x in s.meta["no_audio"]] == ["clip8.mp4"]
    assert not s.items[s.sources.index(str(video_root / "two" / "clip8.mp4"))].has_audio
    strict = load_dataset("video_folder", root=video_root, require_audio=True)
    assert len(strict) == 11


def test_folder_hash_split_is_a_partition(video_root):
    tr = load_dataset("video_folder", root=video_root, split="train", test_fraction=0.3)
    te = load_dataset("video_folder", root=video_root, split="test", test_fraction=0.3)
    assert len(tr) + len(te) == 12 and not set(tr.sources) & set(te.sources)
    assert tr.class_names == te.class_names  # every class is named even if one side lacks it


def test_manifest_split_column_and_missing_rows(video_root, tmp_path):
    m = tmp_path / "clips.csv"
    with open(m, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "text", "split"])
        for i in range(12):
            w.writerow([str(video_root / FOLDERS[i // 4] / f"clip{i}.mp4"), TOY_CLASSES[i // 4],
                        "test" if i % 4 == 3 else "train"])
        w.writerow(["nowhere.mp4", "zero", "train"])
    tr = load_dataset("video_manifest", csv_path=m, split="train")
    te = load_dataset("video_manifest", csv_path=m, split="test")
    assert (len(tr), len(te)) == (9, 3)
    assert [x["source"].endswith("nowhere.mp4") for x in tr.meta["skipped"]] == [True]
    with pytest.raises(DataError, match="header"):
        (tmp_path / "bad.csv").write_text("file,label\nx.mp4,zero\n")
        load_dataset("video_manifest", csv_path=tmp_path / "bad.csv")


def test_video_parts(video_root):
    s = load_dataset("video_folder", root=video_root, n_frames=3)
    parts = video_parts(s)
    assert len(parts["image"]) == 3 * len(s) and len(parts["audio"]) == len(s) - 1
    assert parts["audio"].sample_rate == SR and parts["image"].groups[0] == s.sources[0]
    frames = load_dataset("video_frames", path=video_root, n_frames=2)
    sound = load_dataset("video_audio", path=video_root, sample_rate=SR)
    assert (frames.modality, len(frames)) == ("image", 24)
    assert (sound.modality, len(sound)) == ("audio", 11)


@pytest.fixture(scope="module")
def embedder(trained, anchor):
    from textanchor.pipeline import Embedder

    return Embedder.from_checkpoint(trained.checkpoint, anchor=anchor)


def test_fused_embedding(embedder, video_root):
    from textanchor.video import embed_videos

    s = load_dataset("video_folder", root=video_root, n_frames=2)
    for fusion in ("mean", "confidence"):
        e = embed_videos(embedder, s.items, fusion)
        assert e.fused.shape == (12, embedder.dim)
        assert np.allclose(np.linalg.norm(e.fused, axis=1), 1, atol=1e-5)
        silent = np.flatnonzero(~e.has_audio)
        assert len(silent) == 1 and np.allclose(e.fused[silent], e.image[silent], atol=1e-6)
        assert np.allclose(e.audio[silent], 0)
    e = embed_videos(embedder, s.items, "mean")
    i = np.flatnonzero(e.has_audio)[0]
    expect = (e.image[i] + e.audio[i]) / np.linalg.norm(e.image[i] + e.audio[i])
    assert np.allclose(e.fused[i], expect, atol=1e-5)
    frame_mean = e.frames[i].mean(0)
    assert np.allclose(e.image[i], frame_mean / np.linalg.norm(frame_mean), atol=1e-5)
    with pytest.raises(KeyError, match="known: confidence, mean"):
        embed_videos(embedder, s.items, "median")


def test_evaluate_videos_reports_kinetics_protocol(embedder, video_root):
    from textanchor.video import evaluate_videos

    r = evaluate_videos(embedder, load_dataset("video_folder", root=video_root))
    for m in ("image", "audio", "video"):
        for k in ("mean_cosine", "probe_80_20", "probe_20_80", "zero_shot_acc"):
            assert f"{m}/{k}" in r
    assert r["video/n"] == 12 and r["audio/n"] == 11 and "video_to_text/P@1" in r
    assert r["video/zero_shot_acc"] > 0.6  # the toy checkpoint knows bars and tones


def test_search_round_trip(embedder, video_root):
    from textanchor.index import EmbeddingIndex
    from textanchor.video import best_per_video, embed_video_file, gallery_entries

    s = load_dataset("video_folder", root=video_root, n_frames=2)
    vecs, meta = gallery_entries(embedder, s)
    assert len(vecs) == 12 * 2 + 11 and {m["modality"] for m in meta} == {"video", "video_frames", "video_audio"}
    index = EmbeddingIndex()
    index.add(vecs, meta)
    path = str(video_root / "one_" / "clip5.mp4")
    q, video = embed_video_file(embedder, path, n_frames=2)
    assert len(video.frames) == 2 and video.has_audio
    top = index.search(q.fused[0], k=1, modality="video")[0]
    assert top.source == path and top.score > 0.999
    hits = best_per_video(index.search(q.fused[0], k=35))
    assert len({h.meta["video"] for h in hits}) == len(hits) == 12
    by_text = index.search(embedder.embed("text", ["one"])[0], k=4, modality="video")
    assert sum(h.label == "one" for h in by_text) >= 3


def test_training_on_videos(anchor, video_root, tmp_path):
    from textanchor.pipeline import Embedder
    from textanchor.train import train
    from textanchor.video import video_recipe, video_train_data

    tr = load_dataset("video_folder", root=video_root, split="train", test_fraction=0.25, n_frames=2)
    te = load_dataset("video_folder", root=video_root, split="test", test_fraction=0.25)
    cfg = small_config(epochs=2)
    res = train(cfg, anchor=anchor, data=video_train_data(tr, te), final_eval=False)
    assert res.history and np.isfinite(res.history[-1]["loss"])

    # The recipe form reloads the videos through the registry and trains from a folder.
    cfg = video_recipe(str(video_root), natural=False, n_frames=2, epochs=1)
    for r in cfg.modalities.values():
        r.branch.encoder_options = {"widths": [8, 16, 32]}
    cfg.batch_size, cfg.device = 8, "cpu"
    res = train(cfg, out_dir=tmp_path / "ck", anchor=anchor, final_eval=False)
    emb = Embedder.from_checkpoint(res.checkpoint, anchor=anchor)
    assert emb.class_names == sorted(TOY_CLASSES) and emb.modalities == ["image", "audio"]
