"""The app's logic without the web layer: gallery build and cache, searches, maps, model card.

Uses the toy checkpoint (`trained`) and a small offline gallery, so it runs in seconds offline.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from textanchor.demo import gallery as gallery_mod
from textanchor.demo.gallery import SourceChoice, choose_sources, gallery_key, open_gallery
from textanchor.demo.service import DemoService

SMALL_SOURCES = [
    SourceChoice("image", "digits", {"split": "test", "limit": 60}, "digits (test)"),
    SourceChoice("audio", "espeak", {"split": "all", "voices": ["en", "en-us"], "rates": [175], "pitches": [50],
                                     "words": ["zero", "one", "two"], "sample_rate": 8000}, "espeak (test)"),
]


@pytest.fixture(scope="module")
def service(trained, anchor, tmp_path_factory):
    return DemoService(trained.checkpoint, cache_dir=tmp_path_factory.mktemp("cache"), download=False,
                       anchor=anchor, sources=SMALL_SOURCES, background_maps=False)


def _sketch_of_bar(horizontal: bool) -> dict:
    layer = np.zeros((300, 300, 4), np.uint8)
    if horizontal:
        layer[140:160, 40:260] = 255
    else:
        layer[40:260, 140:160] = 255
    return {"background": None, "layers": [layer], "composite": None}


def test_gallery_is_built_with_files_and_description(service):
    g = service.gallery
    assert g.counts == {"image": 60, "audio": 6, "video": 24}
    assert "60 images from digits (test)" in g.description and "6 clips" in g.description
    assert "24 videos" in g.description
    assert len(g.items) == len(g.index) == 90
    assert all((g.folder / m["file"]).is_file() for m in g.items)
    assert "digits (test)" in service.status()


def test_gallery_cache_is_reused_and_keyed_by_checkpoint(service, trained, tmp_path, monkeypatch):
    e, g = service.active()
    monkeypatch.setattr(gallery_mod, "build_gallery", lambda *a, **k: pytest.fail("rebuilt a cached gallery"))
    again = open_gallery(e, cache_dir=service.cache_dir, download=False, sources=SMALL_SOURCES)
    assert again.folder == g.folder
    other = tmp_path / "ckpt"
    shutil.copytree(trained.checkpoint, other)
    cfg = json.loads((other / "config.json").read_text())
    cfg["created"] = "another run"
    (other / "config.json").write_text(json.dumps(cfg))
    assert gallery_key(other, SMALL_SOURCES) != gallery_key(trained.checkpoint, SMALL_SOURCES)
    assert gallery_key(trained.checkpoint, SMALL_SOURCES[:1]) != gallery_key(trained.checkpoint, SMALL_SOURCES)


def test_offline_fallback_sources(tmp_path, monkeypatch):
    monkeypatch.delenv("TEXTANCHOR_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    src = choose_sources(["image", "audio"], data_dir=tmp_path / "nothing", cache_dir=tmp_path, download=False,
                         embedded_root=tmp_path / "no-embedded-gallery")
    assert [s.dataset for s in src] == ["digits", "espeak"]
    assert all("offline" in s.title for s in src)


def test_embedded_gallery_is_the_offline_default(tmp_path, monkeypatch):
    """No data folder, no network: the real MNIST + FSDD samples shipped in assets/gallery."""
    from textanchor.data import load_dataset
    from textanchor.demo.embedded import EMBEDDED

    monkeypatch.delenv("TEXTANCHOR_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    src = choose_sources(["image", "audio"], data_dir=tmp_path / "nothing", cache_dir=tmp_path, download=False)
    assert [(s.modality, s.dataset) for s in src] == [("image", "manifest"), ("audio", "manifest")]
    assert "MNIST" in src[0].title and "FSDD" in src[1].title
    images, clips = (load_dataset(s.dataset, **s.options) for s in src)
    assert len(images) == 500 and np.bincount(images.labels).tolist() == [50] * 10
    assert images.items[0].shape == (28, 28) and images.items[0].dtype == np.uint8
    assert len(clips) == 250 and clips.sample_rate == 8000 and len(set(clips.labels.tolist())) == 10
    things = EMBEDDED / "things"  # the things model's gallery, beside the digits one
    size = sum(p.stat().st_size for p in EMBEDDED.rglob("*") if p.is_file() and things not in p.parents)
    assert size < 3_000_000, f"the embedded digits gallery grew to {size / 1e6:.1f} MB"
    size = sum(p.stat().st_size for p in things.rglob("*") if p.is_file())
    assert size < 6_000_000, f"the embedded things gallery grew to {size / 1e6:.1f} MB"
    notice = (EMBEDDED / "README.md").read_text()
    assert "CC BY-SA 3.0" in notice and "CC BY-SA 4.0" in notice and "LeCun" in notice and "Jakobovski" in notice


def test_gallery_ships_its_default_map(service):
    assert (service.gallery.folder / "map-tsne-2d.npz").is_file()  # computed at build time, not on first view


def test_other_maps_are_made_by_a_background_process(service, monkeypatch):
    from textanchor.demo import maps

    folder = service.gallery.folder
    proc = maps.precompute(folder, [("pca", 2), ("tsne", 2)])  # only the missing one is made
    assert proc is not None and proc.args[-1] == "pca:2" and proc.wait(timeout=300) == 0
    assert maps.map_path(folder, "pca", 2).is_file() and maps.precompute(folder, [("pca", 2)]) is None
    monkeypatch.setattr("textanchor.demo.maps.save_map", lambda *a, **k: pytest.fail("computed in the server"))
    fresh = open_gallery(service.embedder, cache_dir=service.cache_dir, download=False, sources=SMALL_SOURCES)
    assert fresh.projection("pca", 2)[0].shape == (90, 2)


def test_3d_maps_use_a_fast_method(service, monkeypatch):
    monkeypatch.setattr("textanchor.demo.explore.map_figure", lambda g, method, dim, q: (method, dim))
    fig, note = service.map("tsne", 3)
    assert fig == ("umap", 3) and "UMAP" in note
    assert service.map("tsne", 2) == (("tsne", 2), "")


def test_sketch_search_returns_labelled_results(service):
    v = service.search("image", _sketch_of_bar(horizontal=True), 4)
    assert "reads as" in v.status and v.query is not None
    assert len(v.images) == 4 and len(v.clips) == 4
    assert all(" · " in caption for _, caption in v.images + v.clips)
    scores = [r["score"] for r in v.rows["results"] if r["modality"] == "image"]
    assert scores == sorted(scores, reverse=True)
    assert v.rows["query"]["label"] in service.embedder.class_names
    assert abs(sum(v.top_classes.values()) - 1) < 0.05 or len(v.top_classes) == 3


def test_photo_search_takes_a_path_pil_or_array(service, tmp_path):
    from PIL import Image

    photo = np.full((240, 240, 3), 200, np.uint8)
    photo[30:210, 115:123] = (40, 40, 120)  # a blue pen stroke on grey paper
    photo = (photo * np.linspace(1.0, 0.7, 240)[None, :, None]).astype(np.uint8)  # light falls off
    Image.fromarray(photo).save(tmp_path / "photo.jpg")
    for value in (str(tmp_path / "photo.jpg"), Image.fromarray(photo), photo):
        v = service.search("image", value, 3)
        assert "reads as" in v.status and v.query is not None, v.status
    v = service.search("image", np.full((100, 100, 3), 200, np.uint8), 3)
    assert v.status.startswith("⚠️") and "blank" in v.status


def test_audio_and_text_search(service, tmp_path):
    import soundfile as sf

    from conftest import spoken_word

    path = tmp_path / "word.wav"
    sf.write(path, spoken_word("one", 8000), 8000)
    v = service.search("audio", str(path), 3)
    assert "recording reads as" in v.status and len(v.clips) == 3
    v = service.search("audio", (48000, (spoken_word("two", 48000) * 18000).astype(np.int16)), 2)
    assert "reads as" in v.status
    t = np.arange(8000) / 8000
    v = service.search("audio", (8000, 0.5 * np.sin(2 * np.pi * 800 * t)), 2)  # a tone is no word
    assert "No speech heard" in v.status
    v = service.search("text", "two", 5)
    assert "text reads as **two**" in v.status and len(v.images) == 5
    pause = np.zeros(8000, np.float32)
    both = np.concatenate([pause, spoken_word("one", 8000), pause, spoken_word("two", 8000), pause])
    v = service.search("audio", (8000, both), 2)  # two words: the answer says so, and which it used
    assert "the recording (2 words heard; searched the clearest, at " in v.status.lower(), v.status
    assert v.rows["query"]["note"].startswith("2 words heard")


def _tiny_video(path, sound: bool = True):
    """A 1-second 32x32 clip of a vertical bar (a "one"), with a tone or silent."""
    from textanchor.data.video import write_video

    frame = np.zeros((32, 32), np.uint8)
    frame[6:26, 14:18] = 255
    wave = 0.3 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000) if sound else None
    return str(write_video(path, [frame] * 8, wave, 8000, fps=8))


def test_video_search(service, tmp_path):
    pytest.importorskip("av")
    v = service.search("video", _tiny_video(tmp_path / "one.mp4"), 4)
    assert "video reads as" in v.status, v.status
    assert len(v.images) == 4 and len(v.clips) == 4 and v.top_classes and v.query.modality == "video"
    assert len(v.videos) == 4 and all(p.endswith(".mp4") and " · " in c for p, c in v.videos)
    silent = service.search("video", _tiny_video(tmp_path / "silent.mp4", sound=False), 2)
    assert "video (no audio stream) reads as" in silent.status and len(silent.images) == 2
    (tmp_path / "bad.mp4").write_bytes(b"not a video at all")
    for value, match in [(str(tmp_path / "bad.mp4"), "cannot be used"), (None, "Upload a video"),
                         (str(tmp_path / "x.txt"), "not on the server")]:
        assert match in service.search("video", value).status


@pytest.mark.parametrize("modality,value,match", [
    ("image", None, "Draw a digit"),
    ("audio", (8000, np.zeros(8000, np.int16)), "silent"),
    ("text", "   ", "Type a word"),
])
def test_bad_queries_give_messages_not_exceptions(service, modality, value, match):
    v = service.search(modality, value, 5)
    assert v.status.startswith("⚠️") and match in v.status and v.images == [] and v.query is None


def test_unexpected_errors_become_messages(service, monkeypatch):
    monkeypatch.setattr("textanchor.demo.service.run_query", lambda *a, **k: 1 / 0)
    v = service.search("text", "one", 3)
    assert v.status.startswith("⚠️") and "ZeroDivisionError" in v.status


def test_map_with_query_star_and_pick(service):
    q = service.search("text", "one", 3).query
    fig, msg = service.map("pca", 2, q)
    assert msg == "" and any("query" in (t.name or "") for t in fig.data)
    names = {t.name for t in fig.data}
    assert "text anchors" in names and {"zero", "one", "two"} <= names and "video (shape)" in names
    assert (service.gallery.folder / "map-pca-2d.npz").is_file()  # cached: never recomputed
    fig3, _ = service.map("pca", 3, None)
    assert fig3.data[0].type == "scatter3d"
    img, clip, text = service.pick("image:0")
    assert img.endswith(".png") and clip is None and "image:0" in text
    img, clip, _ = service.pick("audio:1")
    assert img is None and clip.endswith(".wav")
    img, clip, text = service.pick("video:00002")
    assert img.endswith(".png") and clip.endswith(".wav") and ".mp4" in text
    assert service.pick("nope:3")[2].startswith("⚠️")


def test_projection_is_cached_on_disk(service, monkeypatch):
    service.gallery.projection("pca", 3)
    fresh = open_gallery(service.embedder, cache_dir=service.cache_dir, download=False, sources=SMALL_SOURCES)
    monkeypatch.setattr("textanchor.projection.project_with_anchors", lambda *a, **k: pytest.fail("recomputed"))
    items, anchors = fresh.projection("pca", 3)
    assert items.shape == (90, 3) and anchors.shape == (3, 3)


def test_model_card_and_corrupt_checkpoint(service, trained, tmp_path):
    recipe, metrics, history = service.model_card()
    assert recipe["class_names"] == ["zero", "one", "two"]
    assert "image/zero_shot_acc" in metrics["metric"].tolist() and len(history) == 15
    assert list(history.columns[:3]) == ["epoch", "loss", "audio/zero_shot_acc"]
    bad = tmp_path / "bad"
    shutil.copytree(trained.checkpoint, bad)
    (bad / "model.safetensors").write_bytes(b"garbage")
    msg = service.activate(bad)
    assert msg.startswith("⚠️") and "could not be loaded" in msg
    assert service.embedder.path == str(trained.checkpoint)  # the previous model stays active
    assert service.activate(tmp_path / "missing").startswith("⚠️")


def test_missing_checkpoint_still_serves_a_message(tmp_path, anchor):
    s = DemoService(tmp_path / "none", cache_dir=tmp_path, download=False, anchor=anchor, sources=SMALL_SOURCES)
    assert "Train tab" in s.status()
    assert s.search("text", "one", 3).status.startswith("⚠️")
    assert s.map("pca", 2)[0] is None
    recipe, metrics, history = s.model_card()
    assert recipe == {} and metrics.empty and history.empty


def test_zip_checkpoint(service, trained):
    import zipfile

    path = service.zip_checkpoint(trained.checkpoint)
    assert {n.split("/")[-1] for n in zipfile.ZipFile(path).namelist()} >= {"config.json", "model.safetensors"}


def test_plugin_modality_gallery_source_train_choice_and_marker(monkeypatch):
    """A modality beyond image and audio: its gallery is the test split of a data set declared
    for it, the Train tab offers that set, the map gives it a shape of its own."""
    from textanchor.data import DATASETS
    from textanchor.demo.explore import SYMBOLS, symbols
    from textanchor.demo.gallery import registered_source
    from textanchor.demo.trainer import data_choices

    with pytest.raises(ValueError, match="no registered data set declares modality 'smell'"):
        registered_source("smell")
    DATASETS.discover()
    monkeypatch.setitem(DATASETS.meta, "sniffs", {"modality": "smell"})
    src = registered_source("smell")
    assert (src.modality, src.dataset, src.options) == ("smell", "sniffs", {"split": "test"})
    assert data_choices()["sniffs (smell data set)"] == ("smell", "sniffs", {})
    shapes = symbols({"image", "audio", "smell"})
    assert shapes["image"] == SYMBOLS["image"] and shapes["smell"] not in SYMBOLS.values()


def test_a_plain_path_string_to_a_file_input_gets_a_clear_message(tmp_path):
    """API callers sending "/x.png" instead of handle_file(...) read how to send a file, not
    pydantic's "1 validation error for EditorData"."""
    import gradio as gr
    from gradio_client import Client, handle_file
    from PIL import Image

    from textanchor.demo.file_inputs import AudioInput, FileInput
    from textanchor.demo.picture_input import PhotoInput, PictureSketchpad

    with gr.Blocks() as demo:
        sketch, audio, out = PictureSketchpad(type="numpy"), AudioInput(type="filepath"), gr.Textbox()
        photo, video = PhotoInput(), FileInput(type="filepath", what="video")
        gr.Button().click(lambda s: str(s is not None), sketch, out, api_name="sketch")
        gr.Button().click(lambda a: str(a is not None), audio, out, api_name="audio")
        gr.Button().click(lambda p: str(p is not None), photo, out, api_name="photo")
        gr.Button().click(lambda v: str(v is not None), video, out, api_name="video")
    demo.queue().launch(prevent_thread_lock=True, show_error=True, quiet=True)
    try:
        client = Client(demo.local_url, verbose=False)
        for api, what in (("/sketch", "sketch or picture"), ("/audio", "recording"), ("/photo", "photo"),
                          ("/video", "video")):
            with pytest.raises(Exception) as e:
                client.predict(str(tmp_path / "x.png"), api_name=api)
            assert f"The {what} must be sent as a file" in str(e.value) and "validation error" not in str(e.value)
        Image.new("L", (28, 28), 255).save(tmp_path / "x.png")
        for part in ("background", "composite"):  # a path string as one part of the sketch
            value = {"background": None, "layers": [], "composite": None, part: str(tmp_path / "x.png")}
            with pytest.raises(Exception) as e:
                client.predict(value, api_name="/sketch")
            assert f"The sketch's {part} must be sent as a file" in str(e.value) and "validation error" not in str(e.value)
        for api in ("/sketch", "/photo", "/video"):  # a file still works
            assert client.predict(handle_file(str(tmp_path / "x.png")), api_name=api) == "True"
    finally:
        demo.close()


def test_a_model_near_chance_is_activated_with_a_warning(service, trained, tmp_path):
    """A checkpoint whose recorded held-out zero-shot accuracies are all under twice chance (a
    one-epoch run on a small set) is activated, with a warning saying its answers are guesses."""
    import json

    from textanchor.demo.service import chance_warning

    assert chance_warning({"image/zero_shot_acc": 0.10, "audio/zero_shot_acc": 0.161}, 10) == (
        "⚠️ Its held-out zero-shot accuracy is 16% (audio), 10% (image), close to chance (10% with 10 classes): "
        "its answers will be mostly guesses. Train for more epochs or on more data.")
    assert chance_warning({"image/zero_shot_acc": 0.10, "audio/zero_shot_acc": 0.20}, 10) == ""  # one at 2x: fine
    assert chance_warning({"image/zero_shot_acc/zero": 0.0, "loss": 9.0}, 10) == ""  # nothing recorded
    assert chance_warning({"image/zero_shot_acc": float("nan")}, 10) == ""
    weak = service.cache_dir / "models" / "weak"  # a folder the app's path policy allows
    shutil.copytree(trained.checkpoint, weak)
    cfg = json.loads((weak / "config.json").read_text())
    cfg["metrics"] = {**cfg["metrics"], "image/zero_shot_acc": 0.3, "audio/zero_shot_acc": 0.35}  # 3 classes
    (weak / "config.json").write_text(json.dumps(cfg))
    msg = service.activate(weak, session="weak-visitor")
    assert msg.startswith("✅") and "close to chance (33% with 3 classes)" in msg, msg
    assert "⚠️" not in service.activate(trained.checkpoint, session="weak-visitor")  # the toy model learnt
