"""The voice detector hears a spoken word anywhere in a recording and nothing in noise."""
from __future__ import annotations

import numpy as np
import pytest

from textanchor.vad import NO_SPEECH, PAD_S, NoSpeech, crop_to_speech, no_speech_examples, speech_span


@pytest.fixture(scope="module")
def word():
    """eSpeak NG saying "eight" (a short word), at 16 kHz."""
    from textanchor.data.audio_io import resample
    from textanchor.data.espeak import synthesize

    wave, sr = synthesize("eight", "en-gb-x-rp")
    return resample(wave, sr, 16000), 16000


def test_every_no_speech_input_is_refused():
    examples = no_speech_examples(seed=0)
    assert len(examples) >= 50
    heard = [name for name, w in examples.items() if speech_span(w, 16000) is not None]
    assert heard == []
    with pytest.raises(NoSpeech, match="No speech heard"):
        crop_to_speech(examples["hiss-pink-40dB"], 16000)


def test_word_after_ten_seconds_of_room_noise_is_found(word):
    w, sr = word
    rng = np.random.default_rng(0)
    noise = np.cumsum(rng.standard_normal(11 * sr)).astype(np.float32)  # brown room rumble
    noise = 0.01 * (noise - noise.mean()) / noise.std()
    x = noise.copy()
    at = 10 * sr
    x[at: at + len(w)] += 0.3 * w / np.abs(w).max()
    start, end = speech_span(x, sr)
    assert at - (PAD_S + 0.2) * sr <= start <= at + 0.05 * sr  # no more than the padding before the word
    assert end >= at + 0.6 * len(w) and end - start < len(w) + (2 * PAD_S + 0.4) * sr
    assert len(crop_to_speech(x, sr)) == end - start


@pytest.mark.parametrize("gain", [1e-3, 1.0])
def test_quiet_and_loud_words_are_heard(word, gain):
    w, sr = word
    x = np.concatenate([np.zeros(sr // 2, np.float32), gain * w / np.abs(w).max()]).astype(np.float32)
    assert speech_span(x, sr) is not None
    from textanchor.data.audio_io import resample

    assert speech_span(resample(x, sr, 8000), 8000) is not None  # another rate: resampled inside


def test_app_refuses_noise_with_the_message():
    from textanchor.demo.inputs import InputError, load_recording

    hiss = (np.random.default_rng(1).standard_normal(16000) * 300).astype(np.int16)
    with pytest.raises(InputError, match="No speech heard"):
        load_recording((16000, hiss))


def test_two_words_apart_are_two_spans_and_the_app_says_which_it_searched(word):
    from textanchor.demo.inputs import load_recording
    from textanchor.vad import speech_probabilities, word_spans

    w, sr = word
    w = 0.3 * w / np.abs(w).max()
    gap = np.zeros(int(0.7 * sr), np.float32)
    one = np.concatenate([gap, w, gap]).astype(np.float32)
    two = np.concatenate([gap, w, gap, 0.5 * w, gap]).astype(np.float32)  # the second one quieter
    assert len(word_spans(speech_probabilities(one, sr), sr)) == 1
    spans = word_spans(speech_probabilities(two, sr), sr)
    assert len(spans) == 2 and spans[0][1] < len(gap) + len(w) + 0.2 * sr < spans[1][0]
    notes = []
    crop, _ = load_recording((sr, two), notes=notes)
    assert notes == [f"2 words heard; searched the clearest, at {spans[0][0] / sr:.1f}-{spans[0][1] / sr:.1f} s: "
                     "say one digit per recording"]
    assert len(crop) < len(w) + (2 * PAD_S + 0.1) * sr  # one word searched, not both
    notes = []
    load_recording((sr, one), notes=notes)
    assert notes == []
    # 0.3 s apart, under the crop's 0.5 s of context: the crop stops where the other word starts,
    # so the model hears only the word the note names.
    close = np.concatenate([gap, w, np.zeros(int(0.3 * sr), np.float32), 0.5 * w, gap]).astype(np.float32)
    notes = []
    crop, _ = load_recording((sr, close), notes=notes)
    assert notes and notes[0].startswith("2 words heard")
    assert len(word_spans(speech_probabilities(crop, sr), sr)) == 1
    assert len(crop) < len(w) + (PAD_S + 0.3 + 0.1) * sr  # context before it, the pause after it
    blip = np.concatenate([gap, w, gap, 0.3 * w[: int(0.05 * sr)], gap]).astype(np.float32)  # 50 ms: no word
    assert len(word_spans(speech_probabilities(blip, sr), sr)) == 1
