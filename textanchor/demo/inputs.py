"""Checking what a user hands the app: sketches, photos, recordings, uploads and texts.

Every function either returns a clean numpy value the Embedder accepts or raises `InputError`,
whose message is shown in the page as is (never a traceback).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_RECORDING_S = 30.0  # one spoken word; longer uploads are refused before any model work
MAX_TEXT_CHARS = 500


class InputError(ValueError):
    """A user input that cannot be searched with; the message says why and what to do."""


# ----------------------------------------------------------------------------------- pictures
def _layer_source(layer) -> np.ndarray | None:
    """A drawing layer as a picture to read, or None when nothing is on it. A layer whose
    alpha varies holds strokes; one with alpha 255 everywhere is an opaque picture (Gradio
    turns a grey or RGB image sent in `layers` into exactly that) and is read by its colours."""
    a = np.asarray(layer)
    return None if a.size == 0 or _is_blank(a) else a


def _part_array(part):
    """One part of a Sketchpad value as an array. Gradio hands arrays; a caller of
    `DemoService.search` may hand a file path, {"path": ...} (gradio_client's form) or a PIL image.
    Raises InputError for a file that is not a picture."""
    from ..modalities.picture import NoDigitError, load_picture

    if isinstance(part, dict):
        part = part.get("path")
    if part is None or isinstance(part, np.ndarray):
        return part
    try:
        return load_picture(str(part) if isinstance(part, Path) else part)
    except NoDigitError as e:
        raise InputError(str(e)) from None


def sketch_to_image(value, rules=None) -> np.ndarray:
    """A Sketchpad / ImageEditor value, an uploaded picture or a file path -> the digit's ink.

    Args:
        value: a dict with "layers", "background" and "composite" (numpy arrays or None, as
            Gradio's Sketchpad hands it to a handler; or file paths, {"path": ...} or PIL images); or a plain picture (array, PIL image, or
            a path / {"path": ...} of an uploaded file), e.g. an API client's photo.
    Returns:
        (h, w) uint8 ink, bright on black, of the digit's strokes only (see
        `textanchor.modalities.picture.extract_ink`); the image modality centres it.
    Raises:
        InputError: nothing drawn or uploaded, an unreadable file, or no digit in the picture
            (blank, a dot, a texture), with a message that says what to do.
    """
    from ..modalities.picture import DIGIT, NoDigitError, alpha_ink, extract_ink

    rules = rules or DIGIT
    noun = rules.noun

    if value is None:
        raise InputError(f"Draw a {noun} on the sketchpad first, or upload a photo of one.")
    if isinstance(value, dict) and not {"layers", "background", "composite"} & set(value):
        value = value.get("path") or value.get("image")  # an uploaded file as Gradio's FileData
    picture = None
    if isinstance(value, dict):
        value = {key: _part_array(value.get(key)) for key in ("background", "composite")} | {
            "layers": [_part_array(v) for v in (value.get("layers") or [])]}
        layers = [x for x in (_layer_source(v) for v in value["layers"] if v is not None) if x is not None]
        strokes = [i for i in (alpha_ink(x) for x in layers) if i is not None]
        if strokes:  # strokes on transparent layers: their alpha is the drawing, whatever the theme
            picture = np.max(np.stack(strokes), axis=0) if len({s.shape for s in strokes}) == 1 else strokes[0]
        elif layers:
            picture = layers[0]
        else:  # nothing drawn: an uploaded picture in the background or composite
            for key in ("background", "composite"):
                if value.get(key) is not None and not _is_blank(value[key]):
                    picture = value[key]
                    break
        if picture is None:
            raise InputError(f"The sketchpad is empty: draw a {noun} with the mouse (or finger), or upload a photo.")
    else:
        picture = str(value) if isinstance(value, Path) else value
    try:
        ink = extract_ink(picture, rules=rules)
    except NoDigitError as e:
        raise InputError(str(e)) from None
    return (ink * 255).round().astype(np.uint8)


def photo_to_rgb(value) -> np.ndarray:
    """An uploaded photo (numpy array, PIL image, a path or {"path": ...}) -> (H, W, 3) uint8,
    upright by its EXIF orientation.

    Raises:
        InputError: nothing uploaded, a file that is not a picture, or a blank (one colour) picture.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(value, dict):
        value = value.get("path") or value.get("image") or value.get("composite") or value.get("background")
        value = value.get("path") if isinstance(value, dict) else value
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError("Upload or take a photo first.")
    def rgb_or_rgba(im):  # keep transparency: it becomes white paper below, not black
        alpha = "A" in im.getbands() or (im.mode == "P" and "transparency" in im.info)
        return im.convert("RGBA" if alpha else "RGB")

    try:
        if isinstance(value, (str, Path)):
            with Image.open(value) as im:
                value = rgb_or_rgba(ImageOps.exif_transpose(im))
        if isinstance(value, Image.Image):
            value = np.asarray(rgb_or_rgba(value))
    except (UnidentifiedImageError, OSError):
        raise InputError(f"{Path(str(value)).name} is not a picture this app can read (PNG, JPEG, WebP, BMP, GIF).") from None
    a = np.asarray(value)
    if a.dtype != np.uint8:
        a = (np.clip(a.astype(np.float32), 0, 1) * 255).round().astype(np.uint8) if a.max(initial=0) <= 1 else \
            np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise InputError("This is not a photo the app can use: upload a colour or grey picture (PNG, JPEG, WebP).")
    if min(a.shape[:2]) < 8:
        raise InputError(f"This photo is {a.shape[1]}x{a.shape[0]} pixels: upload one at least 8 pixels on each side.")
    if a.shape[2] == 4:  # transparent parts become white, as a viewer shows them
        alpha = a[..., 3:].astype(np.float32) / 255.0
        a = (a[..., :3] * alpha + 255 * (1 - alpha)).round().astype(np.uint8)
    if _is_blank(a):
        raise InputError("The photo is blank (a single colour): upload a photo of one thing.")
    return np.ascontiguousarray(a)


def _is_blank(img) -> bool:
    a = np.asarray(img)
    if a.size == 0:
        return True
    if a.ndim == 3 and a.shape[2] == 4 and a[..., 3].max() == 0:
        return True  # fully transparent
    if a.ndim == 3 and a.shape[2] == 4 and a[..., 3].min() < 250:
        return False  # strokes on a transparent layer
    c = (a[..., :3] if a.ndim == 3 else a[..., None]).reshape(-1, 1 if a.ndim == 2 else min(3, a.shape[2]))
    # one flat colour: every channel nearly constant (a saturated blue has channels far apart)
    return float((c.max(axis=0).astype(np.float32) - c.min(axis=0)).max()) < 8


# ----------------------------------------------------------------------------------- audio
def load_recording(value, max_seconds: float = MAX_RECORDING_S, word: str = "digit",
                   notes: list | None = None) -> tuple[np.ndarray, int]:
    """A microphone recording or an uploaded file -> (mono float32 wave of the spoken word, rate).

    Args:
        value: (sample_rate, samples) as Gradio's numpy Audio gives it (int16, uint8, int32 or
            float, mono, (T, C) or (C, T)), or a path to an uploaded file in any format of
            `textanchor.data.audio_io.ACCEPTED_FORMATS`.
        max_seconds: longer recordings are refused (one spoken word is wanted); a file's
            header is checked before it is decoded.
        word: what the messages ask for ("digit"; a things model says "word").
        notes: when a list, a note for the answer is appended to it if the detector heard
            several words apart (only the clearest is searched, without its neighbours; the
            user should know).
    Returns:
        The part the voice detector (`textanchor.vad`) heard as speech, with a little context.
    Raises:
        InputError: no audio, not audio, too short, too long, or no speech heard.
    """
    from ..vad import NO_SPEECH, hear

    wave, sr = read_recording(value, max_seconds, f"spoken {word}", f"say one {word}")
    heard = hear(wave, sr)
    if heard is None:
        raise InputError(NO_SPEECH.replace("Say one digit", f"Say one {word}"))
    if notes is not None and len(heard.words) > 1:
        a, b = heard.word
        notes.append(f"{len(heard.words)} words heard; searched the clearest, at {a / sr:.1f}-{b / sr:.1f} s: "
                     f"say one {word} per recording")
    return np.asarray(wave)[heard.span[0]: heard.span[1]], sr


def read_recording(value, max_seconds: float = MAX_RECORDING_S, what: str = "spoken digit",
                   ask: str = "say one digit") -> tuple[np.ndarray, int]:
    """A microphone recording or an uploaded file -> (mono float32 wave, rate), checked but not
    cropped: `load_recording` then finds the spoken word; a sound (a bark, the rain) is used
    whole.

    Args:
        value, max_seconds: see `load_recording`.
        what: what the messages ask the user to record ("spoken digit", "sound").
        ask: how the too-long message says what is wanted ("say one digit", "keep it short").
    Raises:
        InputError: no audio, not audio, an empty, silent, too short or too long recording.
    """
    from ..data import DataError
    from ..data.audio_io import ACCEPTED_FORMATS, AudioTooLong, EmptyAudio, read_audio, to_mono
    from ..modalities.audio import audio_problem

    if value is None:
        raise InputError(f"Record a {what} with the microphone, or upload an audio file.")
    if isinstance(value, (str, Path)):
        path = Path(value)
        if not path.is_file():
            raise InputError(f"{path.name} does not exist (or is not a file).")  # never the server's path
        try:
            wave, sr = read_audio(path, max_seconds=max_seconds)
        except EmptyAudio:
            raise InputError(f"The recording {path.name} is empty (it holds no sound); record or upload a {what}.") from None
        except AudioTooLong as e:
            raise InputError(f"The recording is too long ({e}); {ask}, under {max_seconds:.0f} s.") from None
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
        raise InputError(f"The recording is too long ({len(wave) / sr:.0f} s); {ask}, under {max_seconds:.0f} s.")
    wave = np.nan_to_num(wave.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    problem = audio_problem(wave, sr, speech=what != "sound")
    if problem:
        raise InputError(problem)
    return wave, sr


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


def text_example(class_names) -> str:
    """A text query worth suggesting for a model of these classes."""
    names = list(class_names)
    return "something that barks" if "dog" in names else "seven" if "seven" in names else (names or ["a word"])[0]


def clean_text(text, example: str = "seven") -> str:
    """Strip a text query; refuse empty and over-long ones. example: a query the empty-text
    message suggests (one of the model's own classes)."""
    t = " ".join(str(text or "").split())
    if not t:
        raise InputError(f"Type a word or a sentence to search with, e.g. '{example}'.")
    if len(t) > MAX_TEXT_CHARS:
        raise InputError(f"The text is too long ({len(t)} characters); keep it under {MAX_TEXT_CHARS}.")
    return t
