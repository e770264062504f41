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
from gradio.components.gallery import GalleryData, GalleryImage, GalleryVideo
from gradio.data_classes import FileData, ImageData
from gradio_client import utils as client_utils

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


class ResultGallery(gr.Gallery):
    """gr.Gallery that answers a list of (file in the app's media folders, caption) directly.

    gr.Gallery maps every answer's items through a new ThreadPoolExecutor, starting a thread per
    item (twelve per search: images and videos), for work that is a MIME-type guess per file path:
    20% of the server's CPU per audio search in a py-spy profile. Any other value goes through
    gr.Gallery."""

    is_template = True

    def postprocess(self, value):
        if not value or not all(isinstance(v, (tuple, list)) and len(v) == 2 and is_static_media(v[0]) for v in value):
            return super().postprocess(value)
        items = []
        for path, caption in value:
            path = str(path)
            mime = client_utils.get_mimetype(path)
            if mime is not None and "video" in mime:
                items.append(GalleryVideo(video=FileData(path=path, orig_name=Path(path).name, mime_type=mime),
                                          caption=caption))
            else:
                items.append(GalleryImage(image=ImageData(path=path, orig_name=Path(path).name, mime_type=mime),
                                          caption=caption))
        return GalleryData(root=items)


class ResultPlot(gr.Plot):
    """gr.Plot for a plugin modality's results (drawn by its `Modality.render`)."""

    is_template = True

    def api_info(self):
        return _schema_once(type(self), super().api_info)
