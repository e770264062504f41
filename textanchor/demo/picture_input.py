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
from gradio.data_classes import ImageData
from pydantic import ConfigDict, model_validator

from .file_inputs import refuse_plain_path

EDITOR_KEYS = {"background", "layers", "composite", "id"}


class EditorDataOrPicture(EditorData):
    """EditorData that also validates from one FileData dict (a plain image file)."""

    model_config = ConfigDict(title="EditorData")

    @model_validator(mode="before")
    @classmethod
    def _bare_file(cls, value):
        refuse_plain_path(value, "sketch or picture")
        if isinstance(value, dict):  # a path string as one of the editor's parts
            for key in ("background", "composite"):
                refuse_plain_path(value.get(key), f"sketch's {key}")
            for layer in value.get("layers") or []:
                refuse_plain_path(layer, "sketch's layer")
        if isinstance(value, dict) and "path" in value and not EDITOR_KEYS & set(value):
            return {"background": value, "layers": [], "composite": value}
        return value


class PictureSketchpad(gr.Sketchpad):
    """gr.Sketchpad whose input may also be a plain image file (API clients)."""

    data_model = EditorDataOrPicture

    def get_block_name(self) -> str:
        return "imageeditor"  # the browser renders it with the Sketchpad's own front end


class ImageDataNotPath(ImageData):
    """ImageData (gr.Image's payload) that refuses a bare path string with `PlainPathError`,
    as the sketch and recording inputs do (pydantic's own report was all a caller got)."""

    model_config = ConfigDict(title="ImageData")

    @model_validator(mode="before")
    @classmethod
    def _no_plain_path(cls, value):
        return refuse_plain_path(value, "photo")


NOT_A_PICTURE = "The upload is not a picture this app can read: use a PNG, JPEG, WebP, BMP or GIF file."


def _readable(preprocess):
    """Gradio opens uploads with PIL before any handler runs; a file that is not an image would
    reach the caller as a traceback. Turn it into the page's usual message instead."""
    import PIL

    def wrapped(self, payload):
        try:
            return preprocess(self, payload)
        except (PIL.UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise gr.Error(NOT_A_PICTURE, print_exception=False) from None

    return wrapped


def _upright_background(preprocess):
    """A photo sent as the sketch's background keeps its EXIF orientation: the editor decodes
    it without turning it upright (phones store portrait photos sideways), so an upright copy
    is written next to the upload first, as the photo upload path does."""
    from PIL import Image, ImageOps

    def wrapped(self, payload):
        bg = getattr(payload, "background", None)
        path = getattr(bg, "path", None)
        if path:
            try:
                with Image.open(path) as im:
                    if im.getexif().get(0x0112, 1) != 1:  # 0x0112: Orientation; 1 is upright
                        upright = str(path) + ".upright.png"
                        ImageOps.exif_transpose(im).save(upright)
                        payload.background.path = upright
                        if getattr(payload, "composite", None) is not None and payload.composite.path == path:
                            payload.composite.path = upright
            except OSError:
                pass  # not an image: the editor's own decoding reports it (see _readable)
        return preprocess(self, payload)

    return wrapped


PictureSketchpad.preprocess = _readable(_upright_background(gr.Sketchpad.preprocess))


def PhotoInput(**kwargs) -> gr.Image:
    """A gr.Image for photo uploads. `image_mode=None` hands the file over as it is, keeping a
    transparent PNG's alpha (where a drawing exported from a tablet keeps its ink; Gradio's
    default RGB turns it into a black square, and RGBA cannot be saved back as JPEG), and a file that is not an image gets a message, not a traceback. A plain
    gr.Image with its preprocess and payload model set on the instance: a subclass changes how the page
    renders the component (its file input did not appear in the browser test)."""
    import types

    kwargs.setdefault("type", "filepath")
    kwargs.setdefault("image_mode", None)
    photo = gr.Image(**kwargs)
    photo.preprocess = types.MethodType(_readable(gr.Image.preprocess), photo)
    photo.data_model = ImageDataNotPath  # a plain path string gets the sketch's clear message
    return photo
