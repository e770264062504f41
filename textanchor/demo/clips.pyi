"""The Search tab's result players, as a Gradio component.

Gallery clips are 16-bit PCM WAVs written once when the gallery is built and served as static
files. gr.Audio checks every file it returns with an ffprobe subprocess wherever ffmpeg is
installed (as on Hugging Face Spaces): up to ten subprocesses per search for files known to play.
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr
from gradio.data_classes import FileData
from gradio.utils import is_static_file

from gradio.events import Dependency

class GalleryClip(gr.Audio):
    """gr.Audio that returns a static-served WAV as it is; any other value goes through
    gr.Audio. `is_template`: the page draws it with gr.Audio's own front end."""

    is_template = True

    def postprocess(self, value):
        if isinstance(value, (str, Path)) and str(value).endswith(".wav") and is_static_file(value):
            return FileData(path=str(value), orig_name=Path(value).name)
        return super().postprocess(value)
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component