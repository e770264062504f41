"""The Search tab's Sketchpad, also reachable with a plain picture through the API.

Gradio's Sketchpad only accepts its editor payload ({"background", "layers", "composite"}); a
bare image file sent to `/search_sketch` was silently validated into an empty canvas. Here a
bare file is turned into that payload (as the background) before validation, so
`inputs.sketch_to_image` reads it like any upload. The schema and the browser side are the
Sketchpad's own: the page's drawing flow (strokes sent as blobs) is untouched.
"""
from __future__ import annotations

import gradio as gr
from gradio.components.image_editor import EditorData
from pydantic import ConfigDict, model_validator

EDITOR_KEYS = {"background", "layers", "composite", "id"}


class EditorDataOrPicture(EditorData):
    """EditorData that also validates from one FileData dict (a plain image file)."""

    model_config = ConfigDict(title="EditorData")

    @model_validator(mode="before")
    @classmethod
    def _bare_file(cls, value):
        if isinstance(value, dict) and "path" in value and not EDITOR_KEYS & set(value):
            return {"background": value, "layers": [], "composite": value}
        return value


class PictureSketchpad(gr.Sketchpad):
    """gr.Sketchpad whose input may also be a plain image file (API clients)."""

    data_model = EditorDataOrPicture

    def get_block_name(self) -> str:
        return "imageeditor"  # the browser renders it with the Sketchpad's own front end
