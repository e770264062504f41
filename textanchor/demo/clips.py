"""The Search tab's result slots, as Gradio components.

Gallery clips are 16-bit PCM WAVs written once when the gallery is built and served as static
files. gr.Audio checks every file it returns with an ffprobe subprocess wherever ffmpeg is
installed (as on Hugging Face Spaces): up to ten subprocesses per search for files known to play.

A slot whose label or visibility changes is answered with an update, and for every update Gradio
builds a fresh component and its JSON schema (pydantic, 1-3 ms of one core each, most of a
search's server time in the profile). The schema depends only on the class, so these slots
build it once.
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr
from gradio.data_classes import FileData

from .static_files import is_static_media


_SCHEMAS: dict[type, dict] = {}


def _schema_once(cls: type, compute) -> dict:
    """`api_info` computed once per class (Gradio asks for it on every update of a slot)."""
    if cls not in _SCHEMAS:
        _SCHEMAS[cls] = compute()
    # A fresh top-level dict, as Gradio's own api_info gives; nothing in Gradio edits deeper
    # (a deep copy would cost half of what is saved: each update asks three times).
    return dict(_SCHEMAS[cls])


class GalleryClip(gr.Audio):
    """gr.Audio that returns a WAV in the app's media folders (`static_files.serve_static`) as
    it is; any other value goes through gr.Audio. `is_template`: the page draws it with gr.Audio's own front end."""

    is_template = True

    def api_info(self):
        return _schema_once(type(self), super().api_info)

    def postprocess(self, value):
        if isinstance(value, (str, Path)) and str(value).endswith(".wav") and is_static_media(value):
            return FileData(path=str(value), orig_name=Path(value).name)
        return super().postprocess(value)


class ResultPlot(gr.Plot):
    """gr.Plot for a plugin modality's results (drawn by its `Modality.render`)."""

    is_template = True

    def api_info(self):
        return _schema_once(type(self), super().api_info)
