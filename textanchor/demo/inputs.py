"""Checking what a user hands the app: sketches, recordings, uploads and texts.

Every function either returns a clean numpy value the Embedder accepts or raises `InputError`,
whose message is shown in the page as is (never a traceback).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_RECORDING_S = 30.0  # one spoken word; longer uploads are refused before any model work
MAX_TEXT_CHARS = 500
MIN_INK_PIXELS = 20  # fewer coloured pixels than this is a click, not a drawing
STROKE_FRACTION = 0.12  # MNIST strokes are ~2.5 px in a 20 px box: thicken thin pen strokes to this


class InputError(ValueError):
    """A user input that cannot be searched with; the message says why and what to do."""


# ----------------------------------------------------------------------------------- sketches
def _alpha_ink(layer: np.ndarray) -> np.ndarray | None:
    """(H, W) ink in [0, 1] from a drawing layer: strokes live in the alpha channel, which is
    the only reliable signal (the empty canvas is white in light mode and dark in dark mode)."""
    a = np.asarray(layer)
    if a.ndim == 3 and a.shape[2] == 4:
        return a[..., 3].astype(np.float32) / 255.0
    return None


def sketch_to_image(value) -> np.ndarray:
    """A Sketchpad / ImageEditor value -> (H, W) uint8, bright ink on black.

    Args:
        value: a dict with "layers", "background" and "composite" (numpy arrays or None), as
            Gradio's Sketchpad hands it to a handler; a plain image array is accepted too
            (API clients that send a picture).
    Returns:
        (H, W) uint8 image whose strokes are bright on a black background, thickened so that
        thin pen strokes look like MNIST's after centring.
    Raises:
        InputError: nothing was drawn.
    """
    if value is None:
        raise InputError("Draw a digit on the sketchpad first.")
    if isinstance(value, dict):
        layers = [x for x in (value.get("layers") or []) if x is not None]
        inks = [i for i in (_alpha_ink(x) for x in layers) if i is not None]
        ink = np.max(np.stack(inks), axis=0) if inks and max(float(i.max()) for i in inks) > 0 else None
        if ink is None:  # no strokes: an uploaded picture in the background or composite
            picture = value.get("background")
            if picture is None or _is_blank(picture):
                picture = value.get("composite")
            if picture is None or _is_blank(picture):
                raise InputError("The sketchpad is empty: draw a digit with the mouse (or finger).")
            ink = _picture_ink(picture)
    else:
        ink = _picture_ink(value)
    if int((ink > 0.2).sum()) < MIN_INK_PIXELS:
        raise InputError("The drawing is too small or too faint to read: draw a larger digit.")
    return (thicken(ink) * 255).round().astype(np.uint8)


def _is_blank(img) -> bool:
    a = np.asarray(img)
    if a.size == 0:
        return True
    if a.ndim == 3 and a.shape[2] == 4 and a[..., 3].max() == 0:
        return True  # fully transparent
    return float(a.max()) - float(a.min()) < 8  # one flat colour


def _picture_ink(img) -> np.ndarray:
    """A picture (dark-on-light or light-on-dark, grey or colour) -> (H, W) ink in [0, 1]."""
    from ..modalities.image import to_gray

    g = to_gray(np.asarray(img))
    if g.size and np.median(g) > 0.5:  # paper: dark ink on a light background
        g = 1.0 - g
    return g


def thicken(ink: np.ndarray, fraction: float = STROKE_FRACTION) -> np.ndarray:
    """Dilate strokes thinner than `fraction` of the drawing's size.

    A pen stroke of 8 px in a 400 px tall digit shrinks to 0.4 px when the digit is scaled to
    MNIST's 20 px box, far thinner than anything the encoder was trained on.
    Args: ink: (H, W) float in [0, 1]. Returns: (H, W) float in [0, 1].
    """
    from scipy import ndimage

    mask = ink > 0.2
    if not mask.any():
        return ink
    rows, cols = np.where(mask)
    size = max(rows.max() - rows.min(), cols.max() - cols.min()) + 1
    # Mean distance to the background inside a stroke of width w is about w / 4.
    width = 4.0 * float(ndimage.distance_transform_edt(mask)[mask].mean())
    missing = fraction * size - width
    if missing < 1.0:
        return ink
    r = int(round(missing / 2))
    yy, xx = np.mgrid[-r: r + 1, -r: r + 1]
    return ndimage.grey_dilation(ink, footprint=(yy ** 2 + xx ** 2) <= r * r)


# ----------------------------------------------------------------------------------- audio
def load_recording(value, max_seconds: float = MAX_RECORDING_S) -> tuple[np.ndarray, int]:
    """A microphone recording or an uploaded file -> (mono float32 wave of the spoken word, rate).

    Args:
        value: (sample_rate, samples) as Gradio's numpy Audio gives it (int16, uint8, int32 or
            float, mono, (T, C) or (C, T)), or a path to an uploaded file in any format of
            `textanchor.data.audio_io.ACCEPTED_FORMATS`.
        max_seconds: longer recordings are refused (one spoken word is wanted); a file's
            header is checked before it is decoded.
    Returns:
        The part the voice detector (`textanchor.vad`) heard as speech, with a little context.
    Raises:
        InputError: no audio, not audio, too short, too long, or no speech heard.
    """
    from ..data import DataError
    from ..data.audio_io import ACCEPTED_FORMATS, AudioTooLong, read_audio, to_mono
    from ..modalities.audio import audio_problem
    from ..vad import NoSpeech, crop_to_speech

    if value is None:
        raise InputError("Record a spoken digit with the microphone, or upload an audio file.")
    if isinstance(value, (str, Path)):
        path = Path(value)
        try:
            wave, sr = read_audio(path, max_seconds=max_seconds)
        except AudioTooLong as e:
            raise InputError(f"The recording is too long ({e}); say one digit, under {max_seconds:.0f} s.") from None
        except DataError:
            raise InputError(f"Could not read {path.name} as audio. Accepted: {ACCEPTED_FORMATS}.") from None
    else:
        try:
            sr, samples = value
            samples = np.asarray(samples)
            if samples.ndim == 2 and samples.shape[0] < samples.shape[1] and samples.shape[0] <= 8:
                samples = samples.T  # (C, T) -> (T, C)
            wave = to_mono(samples)
        except (TypeError, ValueError):
            raise InputError("The recording could not be read; please record again.") from None
        sr = int(sr)
    if sr <= 0:
        raise InputError(f"The recording has an invalid sample rate ({sr} Hz).")
    if len(wave) > max_seconds * sr:
        raise InputError(f"The recording is too long ({len(wave) / sr:.0f} s); say one digit, under {max_seconds:.0f} s.")
    wave = np.nan_to_num(wave.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    problem = audio_problem(wave, sr)
    if problem:
        raise InputError(problem)
    try:
        return crop_to_speech(wave, sr), sr
    except NoSpeech as e:
        raise InputError(str(e)) from None


# ----------------------------------------------------------------------------------- text
def video_path(value) -> str:
    """A Video / File upload value (a path, or a dict with "video" or "path") -> an existing
    file with a video extension. Decoding is left to `textanchor.video.embed_video_file`.

    Raises:
        InputError: nothing uploaded, a missing file or not a video file name.
    """
    from ..data.video import VIDEO_EXTENSIONS

    if isinstance(value, dict):
        value = value.get("video") or value.get("path")
        value = value.get("path") if isinstance(value, dict) else value
    if not value:
        raise InputError("Upload a video file first.")
    path = Path(str(value))
    if not path.is_file():
        raise InputError(f"The uploaded video {path.name} is not on the server (upload it again).")
    if path.suffix.lower() not in VIDEO_EXTENSIONS:
        raise InputError(f"{path.name} is not a video file; use one of {', '.join(VIDEO_EXTENSIONS)}.")
    return str(path)


def clean_text(text) -> str:
    """Strip a text query; refuse empty and over-long ones."""
    t = " ".join(str(text or "").split())
    if not t:
        raise InputError("Type a word or a sentence to search with, e.g. 'seven'.")
    if len(t) > MAX_TEXT_CHARS:
        raise InputError(f"The text is too long ({len(t)} characters); keep it under {MAX_TEXT_CHARS}.")
    return t
