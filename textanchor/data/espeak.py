"""Synthetic spoken words from eSpeak NG: unlimited, offline, speaker-varied audio for any text.

The eSpeak NG shared library and its voice data come from the `espeakng-loader` wheel and are
driven through ctypes (no espeak binary or system package needed). eSpeak is a formant
synthesiser: robotic, but each voice/variant/rate/pitch combination sounds distinct, which makes
"hold out whole voices" a meaningful test of generalisation to unseen speakers.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import threading
from pathlib import Path

import numpy as np

from .audio_io import resample_many
from .base import DIGIT_NAMES, DataError, ItemSet
from .datasets import DATASETS

# espeak_ng/speak_lib.h constants.
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000
POS_CHARACTER, CHARS_UTF8 = 1, 1
RATE, PITCH = 1, 3  # espeak_PARAMETER

# English accents x voice variants (`+name` = espeak-ng-data/voices/!v/name). Checked to exist in
# espeakng-loader 0.2.4 (eSpeak NG 1.52).
VOICES = (
    "en", "en-us", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-us-nyc", "en-gb-x-gbclan",
    "en-gb-x-gbcwmd", "en+f2", "en+f4", "en-us+f3", "en-us+m3", "en+m7", "en-gb-x-rp+f5",
    "en+klatt2", "en-us+klatt4",
)
ACCENTS = ("en", "en-us", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-us-nyc", "en-gb-x-gbclan",
           "en-gb-x-gbcwmd")  # every English voice of eSpeak NG 1.52 but en-Shaw (a spelling, not a voice)
RATES = (140, 175, 210)  # words per minute
PITCHES = (35, 50, 65)  # 0..100, 50 = the voice's normal pitch
TEST_VOICE_FRACTION = 0.25

_lock = threading.Lock()  # the library is one global synthesiser: one caller at a time
_state: dict = {}  # lib, sample_rate, callback (kept referenced so ctypes never frees it), chunks


def _library() -> dict:
    """Load and initialise eSpeak NG once (call with _lock held)."""
    if not _state:
        try:
            import espeakng_loader

            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path()
        except (ImportError, OSError, RuntimeError) as exc:
            raise DataError(f"eSpeak NG is unavailable ({exc}); pip install espeakng-loader") from None
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        sample_rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(),
                                            INITIALIZE_DONT_EXIT)
        if sample_rate <= 0:
            raise DataError(f"eSpeak NG failed to initialise with data at {data_path}")
        chunks: list[np.ndarray] = []

        @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
        def callback(wav, n, events):
            if wav and n > 0:
                chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())  # int16 (n,)
            return 0  # 0 = keep synthesising

        lib.espeak_SetSynthCallback(callback)
        _state.update(lib=lib, sample_rate=sample_rate, callback=callback, chunks=chunks,
                      variants=Path(data_path) / "voices" / "!v")
    return _state


def synthesize(text: str, voice: str = "en", rate: int = 175, pitch: int = 50):
    """Speak `text` with eSpeak NG.

    Args:
        text: what to say.
        voice: an eSpeak voice name, optionally with a variant: "en-us", "en+f3".
        rate: speed in words per minute (80..450).
        pitch: base pitch 0..100 (50 is the voice's normal).

    Returns:
        (wave, sr): (T,) float32 in [-1, 1] at eSpeak's rate (22050 Hz), untrimmed.

    Raises:
        DataError: unknown voice or variant, or eSpeak NG unavailable.
    """
    with _lock:
        s = _library()
        lib, chunks = s["lib"], s["chunks"]
        language, _, variant = voice.partition("+")
        # An unknown variant is silently ignored by eSpeak, so check its file ourselves.
        if variant and not (s["variants"] / variant).is_file():
            raise DataError(f"unknown eSpeak voice variant {variant!r} (in {voice!r})")
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise DataError(f"unknown eSpeak voice {language!r} (in {voice!r})")
        lib.espeak_SetParameter(RATE, int(rate), 0)  # after the voice: setting a voice resets them
        lib.espeak_SetParameter(PITCH, int(pitch), 0)
        chunks.clear()
        data = text.encode("utf-8")
        lib.espeak_Synth(data, len(data) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        chunks.clear()
        return samples.astype(np.float32) / 32768.0, s["sample_rate"]


def trim_silence(wave: np.ndarray, sr: int, threshold_db: float = -35.0, pad_s: float = 0.01):
    """Cut leading and trailing samples quieter than `threshold_db` below the peak.

    Args:
        wave: (T,) float samples.
        sr: its rate in Hz (for the padding).
        threshold_db: level relative to the peak below which a sample counts as silence.
        pad_s: seconds of context kept on each side.

    Returns:
        (T',) view of `wave`; `wave` itself when it is all silence.
    """
    peak = float(np.abs(wave).max()) if wave.size else 0.0
    loud = np.flatnonzero(np.abs(wave) > peak * 10 ** (threshold_db / 20))
    if peak == 0.0 or loud.size == 0:
        return wave
    pad = int(pad_s * sr)
    return wave[max(0, loud[0] - pad): loud[-1] + pad + 1]


def all_variants() -> list[str]:
    """Every voice variant eSpeak NG ships (espeak-ng-data/voices/!v), sorted."""
    with _lock:
        return sorted(p.name for p in _library()["variants"].iterdir() if p.is_file())


def sample_voices(n: int, seed: int = 0) -> list[str]:
    """`n` distinct "accent+variant" voices drawn (seeded) from ACCENTS x all_variants()."""
    pool = [f"{a}+{v}" for v in all_variants() for a in ACCENTS]
    return sorted(np.random.default_rng(seed).choice(pool, size=min(n, len(pool)), replace=False).tolist())


def held_out_voices(voices, seed: int = 0) -> list[str]:
    """The voices held out for testing: a seeded TEST_VOICE_FRACTION of them, at least one."""
    voices = sorted(set(voices))
    if len(voices) < 2:
        raise ValueError("holding out voices needs at least 2 voices; use split='all'")
    n_test = min(len(voices) - 1, max(1, round(TEST_VOICE_FRACTION * len(voices))))
    return sorted(np.random.default_rng(seed).permutation(voices)[:n_test].tolist())


@DATASETS.register("espeak")
def load_espeak(
    words=DIGIT_NAMES,
    voices=VOICES,
    rates=RATES,
    pitches=PITCHES,
    split: str = "train",
    sample_rate: int = 8000,
    seed: int = 0,
    cache_dir=None,
    n_voices: int | None = None,
    rate_range=(110, 280),
    pitch_range=(10, 90),
) -> ItemSet:
    """Synthesise every word in every voice/rate/pitch combination.

    Args:
        words: the texts to speak; they are also the class names.
        voices, rates, pitches: the grid of speaking styles (see `synthesize`).
        n_voices: instead of that grid, `n_voices` voices drawn from every English accent x
            every variant (`sample_voices`), each word once per voice at a rate and pitch drawn
            uniformly from rate_range and pitch_range (seeded): more voices than a grid.
        split: "train", "test" (whole voices held out, chosen by `seed`) or "all".
        sample_rate: output rate in Hz.
        seed: seed of the voice hold-out.
        cache_dir: if given, waves are saved there as .npz and reused on the next call.

    Returns:
        ItemSet(modality="audio", groups=voice), silence-trimmed float32 waves,
        sources "espeak:<voice>:<rate>:<pitch>:<word>".
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"unknown espeak split {split!r}; use 'train', 'test' or 'all'")
    words, voices = list(words), list(voices)
    if not words or not voices:
        raise ValueError("load_espeak needs at least one word and one voice")
    label = {w: i for i, w in enumerate(words)}
    if split != "all" and n_voices is None:
        held = set(held_out_voices(voices, seed))
        voices = [v for v in voices if (v in held) == (split == "test")]
    if n_voices is not None:
        voices = sample_voices(n_voices, seed)
        if split != "all":
            held = set(held_out_voices(voices, seed))
            voices = [v for v in voices if (v in held) == (split == "test")]
        rng = np.random.default_rng([seed, n_voices])
        combos = [(w, v, int(rng.integers(*rate_range)), int(rng.integers(*pitch_range))) for v in voices for w in words]
    else:
        combos = [(w, v, int(r), int(p)) for v in voices for r in rates for p in pitches for w in words]
    key = hashlib.sha1(json.dumps([combos, sample_rate]).encode()).hexdigest()[:16]
    cache = Path(cache_dir) / f"espeak-{key}.npz" if cache_dir is not None else None
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            items = np.split(z["waves"], z["offsets"][1:-1])
    else:
        items, sr = [], None
        for word, voice, rate, pitch in combos:
            wave, sr = synthesize(word, voice, rate, pitch)
            items.append(trim_silence(wave, sr))
        items = resample_many(items, sr, sample_rate)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            offsets = np.cumsum([0] + [len(x) for x in items])
            tmp = cache.with_name(cache.name + ".tmp.npz")  # renamed: no half-written cache
            np.savez(tmp, waves=np.concatenate(items), offsets=offsets)
            os.replace(tmp, cache)
    return ItemSet(
        modality="audio",
        items=items,
        labels=np.array([label[w] for w, *_ in combos], dtype=np.int64),
        class_names=words,
        sources=[f"espeak:{v}:{r}:{p}:{w}" for w, v, r, p in combos],
        sample_rate=sample_rate,
        groups=[v for _, v, _, _ in combos],
        meta={"voices": voices},
    )
