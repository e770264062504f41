"""The Search tab's Sketchpad, also reachable with a plain picture through the API.

Gradio's Sketchpad only accepts its editor payload ({"background", "layers", "composite"}); a
bare image file sent to `/search_sketch` was silently validated into an empty canvas. This
subclass accepts either, and hands a bare file on as its path, which `inputs.sketch_to_image`
reads like any upload.
"""
from __future__ import annotations

from typing import Union

import gradio as gr
from gradio.components.image_editor import EditorData
from gradio.data_classes import FileData, GradioRootModel


class SketchOrPicture(GradioRootModel):
    root: Union[FileData, EditorData]  # FileData first: an editor payload has no "path"

from gradio.events import Dependency

class PictureSketchpad(gr.Sketchpad):
    """gr.Sketchpad whose input may also be a plain image file (API clients)."""

    data_model = EditorDataOrPicture

    def get_block_name(self) -> str:
        return "imageeditor"
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component
class PhotoInput(gr.Image):
    """gr.Image for photo uploads: RGBA keeps a transparent PNG's alpha (where a drawing
    exported from a tablet keeps its ink; Gradio's default RGB would turn it into a black
    square), and a file that is not an image gets a message, not a traceback."""

    def __init__(self, **kwargs):
        kwargs.setdefault("type", "filepath")
        kwargs.setdefault("image_mode", "RGBA")
        super().__init__(**kwargs)

    preprocess = _readable(gr.Image.preprocess)

    def get_block_name(self) -> str:
        return "image"
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component

    