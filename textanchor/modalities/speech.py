"""Spoken words naming things ("dog", "house"): the `audio` modality's path (voice detector,
level, trim, log-mel, SpecAugment, room noise) at 16 kHz in a 1 s window, the format of Speech
Commands (Warden 2018), so real clips keep their consonants' high frequencies."""
from __future__ import annotations

from dataclasses import dataclass

from .audio import AudioModality
from .base import MODALITIES


@MODALITIES.register("speech")
class SpeechModality(AudioModality):
    name = "speech"
    default_encoder = "audio_cnn"
    generic_files = False  # .wav files are read by `audio` unless a checkpoint has speech only

    @dataclass
    class Config(AudioModality.Config):
        sample_rate: int = 16000
        seconds: float = 1.0
        n_fft: int = 400  # 25 ms
        hop: int = 160  # 10 ms
        n_mels: int = 40

    def query_component(self):
        return "audio", {"label": "Say a word (or upload a recording)", "sources": ["microphone", "upload"],
                         "type": "filepath"}

    def query_item(self, value):
        from ..demo.inputs import load_recording

        return load_recording(value, word="word")
