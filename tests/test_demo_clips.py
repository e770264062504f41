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

    monkeypatch.setattr(_StaticFiles, "all_paths", [])  # this process's static paths, restored after
    gr.set_static_paths([str(static)])
    clip = GalleryClip(visible=False)
    assert clip.get_block_name() == "audio"  # drawn by gr.Audio's front end
    out = clip.postprocess(str(static / "a.wav"))
    assert out.path == str(static / "a.wav") and probes == []
    gr.Audio().postprocess(str(static / "a.wav"))  # what gr.Audio itself does
    clip.postprocess(str(other / "a.wav"))  # not a gallery file: the usual checks
    assert len(probes) == 2
