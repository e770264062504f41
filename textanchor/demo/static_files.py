"""The app's media folders as Gradio static paths, with a cheap check of "is this file static?".

Gradio asks that question for every file in every answer (`gradio.utils.is_static_file`, from
`processing_utils.async_move_files_to_cache`): it resolves the file's path and each static folder
with `Path.resolve`, one `lstat` per path component, in pure Python. A search answers with about
18 gallery files (thumbnails, clips, videos), and a py-spy profile of the server put this check at
22-35% of its CPU per search, more than the model's work.

For a file under one of our folders the same answer comes from a normalised string prefix and one
`stat`: `normpath` removes any `..`, and the folders hold only files this app wrote (no symlinks
in them). Every other path still gets Gradio's own check, so nothing outside the folders becomes
servable.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

_PREFIXES: tuple[str, ...] = ()


def is_static_media(file_path) -> bool:
    """True when `file_path` (str, Path or anything with a `.path`, such as Gradio's FileData)
    is an existing file under a folder given to `serve_static`. No system call beyond one stat."""
    p = getattr(file_path, "path", file_path)
    if not isinstance(p, (str, Path)) or not _PREFIXES:
        return False
    p = os.path.normpath(os.path.abspath(p))
    return p.startswith(_PREFIXES) and os.path.isfile(p)


def serve_static(folders: list) -> bool:
    """`gr.set_static_paths(folders)`, and Gradio's per-file check made cheap for them.

    Returns True when the check was installed; False when this Gradio has no
    `gradio.utils.is_static_file` to wrap (the folders are still served, only slower).
    """
    global _PREFIXES
    import gradio as gr
    import gradio.utils as gu

    gr.set_static_paths([str(f) for f in folders])
    # Both spellings of each folder: as given (files are named through it) and resolved.
    _PREFIXES = tuple(sorted({os.path.join(os.path.normpath(os.path.abspath(f)), "") for f in folders}
                             | {os.path.join(os.path.realpath(f), "") for f in folders}))
    original = getattr(gu, "is_static_file", None)
    if original is None:
        log.warning("gradio.utils.is_static_file not found: static media are checked the slow way")
        return False
    original = getattr(original, "__wrapped__", original)

    def is_static_file(file_path) -> bool:
        return is_static_media(file_path) or original(file_path)

    is_static_file.__wrapped__ = original
    gu.is_static_file = is_static_file
    return True
