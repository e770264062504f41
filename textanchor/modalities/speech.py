"""Spoken words naming things ("dog", "house"): the `audio` modality's path (voice detector,
level, trim) at 16 kHz in a 1.5 s window, the format of Speech Commands (Warden 2018), so real
clips keep their consonants' high frequencies.

By default the wave goes as it is to a frozen encoder trained for keyword spotting
(`encoders.speech_embedding`), whose features training computes once per clip. A network
trained here instead (`audio_cnn`) gets the log-mel front end and wave augmentation: both
settings follow the encoder unless a recipe sets them (`use_encoder`).
"""
from __future__ import annotations

from dataclasses import dataclass

from .audio import AudioModality
from .base import MODALITIES


@MODALITIES.register("speech")
class SpeechModality(AudioModality):
    name = "speech"
    default_encoder = "speech_embedding"
    generic_files = False  # .wav files are read by `audio` unless a checkpoint has speech only

    @dataclass
    class Config(AudioModality.Config):
        sample_rate: int = 16000
        seconds: float = 1.5  # a word and its context: the encoder looks at 775 ms at a time
        n_fft: int = 400  # 25 ms (the log-mel front end)
        hop: int = 160  # 10 ms
        n_mels: int = 40
        # frontend and augment ("auto"): as the audio modality's, settled by the encoder.

    def query_component(self):
        return "audio", {"label": "Say a word (or upload a recording)", "sources": ["microphone", "upload"],
                         "type": "filepath"}

    def query_item(self, value, notes: list | None = None):
        from ..demo.inputs import load_recording

        return load_recording(value, word="word", notes=notes)
