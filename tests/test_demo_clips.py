"""Result players: gallery WAVs served as static files skip gr.Audio's per-file ffprobe."""
from __future__ import annotations

import numpy as np
import pytest

gr = pytest.importorskip("gradio")


def test_static_gallery_clips_are_returned_without_probing(tmp_path, monkeypatch):
    import soundfile as sf
    from gradio import processing_utils

    from textanchor.demo.clips import GalleryClip

    probes = []
    monkeypatch.setattr(processing_utils, "ffmpeg_installed", lambda: True)  # as on a Space
    monkeypatch.setattr(processing_utils, "audio_is_playable", lambda p: probes.append(p) or True)
    static, other = tmp_path / "gallery", tmp_path / "upload"
    static.mkdir()
    other.mkdir()
    for folder in (static, other):
        sf.write(folder / "a.wav", np.zeros(800, np.float32), 8000, subtype="PCM_16")
    from gradio.data_classes import _StaticFiles

    import gradio.utils as gu

    from textanchor.demo import static_files

    monkeypatch.setattr(_StaticFiles, "all_paths", [])  # this process's static paths, restored after
    monkeypatch.setattr(gu, "is_static_file", gu.is_static_file)
    monkeypatch.setattr(static_files, "_PREFIXES", ())
    static_files.serve_static([static])
    clip = GalleryClip(visible=False)
    assert clip.get_block_name() == "audio"  # drawn by gr.Audio's front end
    out = clip.postprocess(str(static / "a.wav"))
    assert out.path == str(static / "a.wav") and probes == []
    gr.Audio().postprocess(str(static / "a.wav"))  # what gr.Audio itself does
    clip.postprocess(str(other / "a.wav"))  # not a gallery file: the usual checks
    assert len(probes) == 2


def test_result_slots_build_their_schema_once():
    """Gradio asks a slot for its API schema on every update: it is the class's, built once."""
    from textanchor.demo.clips import GalleryClip, ResultPlot

    for cls, parent in ((GalleryClip, gr.Audio), (ResultPlot, gr.Plot)):
        a, b = cls(visible=False), cls(visible=True)
        assert a.api_info() == parent().api_info() and a.get_block_name() == parent.__name__.lower()
        a.api_info()["edited"] = True  # a caller editing its copy changes nobody else's
        assert "edited" not in b.api_info()


def test_search_outputs_update_only_slots_that_change():
    """Shown slots get an update with their caption; slots shown before and not now are hidden;
    slots hidden and staying hidden get a plain None (no update: Gradio rebuilds a component per update)."""
    from textanchor.demo.result_slots import OUTPUTS, Shown, clear_outputs, search_outputs
    from textanchor.demo.service import MAX_K, SearchView

    def slots(out, kind):
        return [out[OUTPUTS.index(f"{kind}{i}")] for i in range(MAX_K)]

    view = SearchView("ok", clips=[(f"{i}.wav", f"seven · 0.{i}") for i in range(3)],
                      rendered=[("plot", "fig", "a plot (ecg)")])
    out = search_outputs(view, None)
    assert len(out) == len(OUTPUTS) and out[OUTPUTS.index("shown")] == Shown(3, 1)
    clips = slots(out, "clip")
    assert [c["label"] for c in clips[:3]] == ["seven · 0.0", "seven · 0.1", "seven · 0.2"]
    assert all(c["visible"] for c in clips[:3]) and clips[3:] == [None] * (MAX_K - 3)
    assert slots(out, "plot")[0]["visible"] and slots(out, "plot")[1:] == [None] * (MAX_K - 1)

    out = search_outputs(SearchView("ok", clips=[("a.wav", "one · 0.5")]), Shown(3, 1))
    clips = slots(out, "clip")
    assert clips[0]["visible"] and [c["visible"] for c in clips[1:3]] == [False, False] and clips[3:] == [None] * (MAX_K - 3)
    assert slots(out, "plot")[0]["visible"] is False and out[OUTPUTS.index("shown")] == Shown(1, 0)

    cleared = clear_outputs(Shown(1, 0))
    assert slots(cleared, "clip")[0]["visible"] is False and cleared[OUTPUTS.index("shown")] == Shown(0, 0)
    assert cleared[OUTPUTS.index("status")] == "Draw, record or type a query."


def test_the_cheap_static_check_gives_gradios_answer(tmp_path, monkeypatch):
    """Files under the served folders are static; a `..` out of them, a missing file, or a file
    elsewhere is not, and those still get Gradio's own check."""
    import gradio.utils as gu
    from gradio.data_classes import FileData, _StaticFiles

    from textanchor.demo import static_files

    monkeypatch.setattr(_StaticFiles, "all_paths", [])
    monkeypatch.setattr(gu, "is_static_file", gu.is_static_file)
    monkeypatch.setattr(static_files, "_PREFIXES", ())
    media, elsewhere = tmp_path / "cache" / "galleries", tmp_path / "uploads"
    (media / "g1" / "image").mkdir(parents=True)
    elsewhere.mkdir()
    (media / "g1" / "image" / "0.png").write_bytes(b"png")
    (elsewhere / "secret.txt").write_text("no")
    (tmp_path / "cache" / "galleries-other").mkdir()
    (tmp_path / "cache" / "galleries-other" / "x.png").write_bytes(b"png")
    assert static_files.serve_static([media]) is True
    cases = [(media / "g1" / "image" / "0.png", True),
             (FileData(path=str(media / "g1" / "image" / "0.png")), True),
             (str(media / "g1" / ".." / ".." / ".." / "uploads" / "secret.txt"), False),
             (str(media / "g1" / "image" / "missing.png"), False),
             (str(elsewhere / "secret.txt"), False),
             (str(tmp_path / "cache" / "galleries-other" / "x.png"), False),  # a prefix of the name, not the folder
             (None, False), (3, False)]
    for path, static in cases:
        assert static_files.is_static_media(path) is static, path
        # Gradio, with the cheap check installed, says the same as Gradio alone
        assert gu.is_static_file(path) is gu.is_static_file.__wrapped__(path) is static, path
    static_files.serve_static([media])  # twice: still one wrapper around Gradio's own function
    assert gu.is_static_file.__wrapped__.__module__ == "gradio.utils"


def test_result_gallery_answers_media_files_as_gr_gallery_does(tmp_path, monkeypatch):
    """Gallery files (images and videos) come out as gr.Gallery would give them, without its
    per-answer thread pool; anything else (an array, a file elsewhere) goes through gr.Gallery."""
    import concurrent.futures

    import gradio.utils as gu
    from gradio.data_classes import _StaticFiles

    from textanchor.demo import static_files
    from textanchor.demo.clips import ResultGallery

    monkeypatch.setattr(_StaticFiles, "all_paths", [])
    monkeypatch.setattr(gu, "is_static_file", gu.is_static_file)
    monkeypatch.setattr(static_files, "_PREFIXES", ())
    media = tmp_path / "galleries"
    media.mkdir()
    from PIL import Image

    Image.new("L", (8, 8), 255).save(media / "0.png")
    (media / "0.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    static_files.serve_static([media])
    value = [(str(media / "0.png"), "seven · 0.91"), (str(media / "0.mp4"), "seven · 0.88")]
    expected = gr.Gallery().postprocess(value).model_dump()
    pools = []
    real_pool = concurrent.futures.ThreadPoolExecutor
    monkeypatch.setattr("gradio.components.gallery.ThreadPoolExecutor", lambda *a, **k: pools.append(1) or real_pool(*a, **k))
    got = ResultGallery().postprocess(value).model_dump()
    assert got == expected and pools == []
    assert got[0]["image"]["path"] == str(media / "0.png") and got[1]["video"]["mime_type"] == "video/mp4"
    assert ResultGallery().postprocess([(np.zeros((4, 4, 3), np.uint8), "array")]).root[0].caption == "array"
    assert pools == [1]  # not a media file: gr.Gallery's own path
    assert ResultGallery().postprocess(None).root == [] and ResultGallery().get_block_name() == "gallery"
