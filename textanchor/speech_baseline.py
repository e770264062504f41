"""The classic recognizer to beat on spoken digits: PocketSphinx 5 (CMU, BSD) with the en-us
acoustic model its PyPI wheel ships and a ten-word JSGF grammar, so it can only answer a digit.
No training: it is the "speech recognizer from the 2000s" figure of the real-voices bench."""
from __future__ import annotations

import numpy as np

from .data.audio_io import resample
from .data.base import DIGIT_NAMES

RATE = 16000  # the en-us model's rate


def grammar(words) -> str:
    """A JSGF grammar accepting exactly one of `words`."""
    return "#JSGF V1.0;\ngrammar words;\npublic <word> = " + " | ".join(words) + " ;\n"


def recognize_words(items, sample_rate: int, words=DIGIT_NAMES) -> list[str]:
    """PocketSphinx's best word for each clip ("" when it hears none).

    Args:
        items: (T,) float waves in [-1, 1]. sample_rate: their rate in Hz (resampled to 16 kHz).
        words: the vocabulary of the grammar (each must be in the model's dictionary).

    Returns:
        One hypothesis string per clip.
    """
    from pocketsphinx import Decoder

    dec = Decoder(samprate=RATE, logfn="/dev/null")
    dec.add_jsgf_string("words", grammar(words))
    dec.activate_search("words")
    out = []
    for w in items:
        pcm = (np.clip(resample(np.asarray(w, np.float32), sample_rate, RATE), -1, 1) * 32767).astype(np.int16)
        dec.start_utt()
        dec.process_raw(pcm.tobytes(), full_utt=True)
        dec.end_utt()
        hyp = dec.hyp()
        out.append(hyp.hypstr.strip() if hyp is not None else "")
    return out
