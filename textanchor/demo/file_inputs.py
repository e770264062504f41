"""A clear answer for API callers who send a plain path string where a file is expected.

Gradio validates an input's payload against the component's pydantic `data_model` before any
handler runs, and outside its own error handling: a bare "/tmp/digit.png" sent to
`/search_sketch` or `/search_audio` came back as pydantic's "1 validation error for
EditorData ...", and the same on `/search_video` and `/train`'s manifest (gr.File). A
before-validator here raises `PlainPathError` instead. It is deliberately not
a ValueError: pydantic wraps those into its own report, anything else propagates, and the app's
`show_error=True` sends its message to the caller as is.
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr
from gradio.data_classes import FileData
from pydantic import ConfigDict, model_validator


class PlainPathError(Exception):
    """A path string where an uploaded file was expected (the message says how to send one)."""


def refuse_plain_path(value, what: str):
    """Raise PlainPathError for a str/Path payload, else return it unchanged.

    Args: value: the raw payload an API caller sent. what: the endpoint's input, for the message."""
    if isinstance(value, (str, Path)):
        raise PlainPathError(f"The {what} must be sent as a file, not as the path string {str(value)[:200]!r}: "
                             "with gradio_client pass handle_file(path) (it uploads the file).")
    return value


def file_data_refusing_paths(what: str) -> type[FileData]:
    """A FileData model that refuses a bare path string with `PlainPathError` naming `what`."""

    class FileDataNotPath(FileData):
        model_config = ConfigDict(title="FileData")  # the API schema keeps Gradio's name, so clients see a file

        @model_validator(mode="before")
        @classmethod
        def _no_plain_path(cls, value):
            return refuse_plain_path(value, what)

    return FileDataNotPath


class AudioInput(gr.Audio):
    """gr.Audio whose API input refuses a plain path string with a clear message."""

    data_model = file_data_refusing_paths("recording")

    def get_block_name(self) -> str:
        return "audio"  # the browser renders it with the Audio component's own front end


class FileInput(gr.File):
    """gr.File (one file) whose API input refuses a plain path string with a clear message.

    Args: what: the input's name in the message ("video", "manifest"); the rest as gr.File."""

    def __init__(self, *args, what: str = "file", **kwargs):
        super().__init__(*args, **kwargs)
        if self.file_count != "single":
            raise ValueError("FileInput takes one file (file_count='single')")
        self.data_model = file_data_refusing_paths(what)

    def get_block_name(self) -> str:
        return "file"
