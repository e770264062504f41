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


class PictureSketchpad(gr.Sketchpad):
    """gr.Sketchpad whose input is the editor payload or a plain image file (API clients)."""

    data_model = SketchOrPicture

    def preprocess(self, payload):
        """Editor payload -> the Sketchpad's usual dict; a bare file -> its path (str)."""
        p = payload.root if isinstance(payload, GradioRootModel) else payload
        if isinstance(p, FileData):
            return p.path
        return super().preprocess(p)
