"""Over-long recordings are refused, also when the file's header does not say how long it is.

A browser's MediaRecorder streams WebM without a Duration element (it cannot seek back to
write one), so `audio_duration` returns None and `read_audio` must count samples while it
decodes and stop there (`audio_io._decode_av`); the app turns that into its "too long" message.
"""
from __future__ import annotations

import io

import numpy as np
import pytest

from textanchor.data.audio_io import AudioTooLong, audio_duration, read_audio

RATE = 48000  # Opus's own rate, as browsers record


class _Pipe(io.RawIOBase):
    """A write-only, non-seekable sink: FFmpeg's muxer cannot go back to write the duration."""

    def __init__(self):
        self.data = bytearray()

    def writable(self):
        return True

    def seekable(self):
        return False

    def write(self, b):
        self.data += bytes(b)
        return len(b)


def streamed_webm(path, seconds: float) -> str:
    """A WebM/Opus file of a 440 Hz tone written as a live stream (no duration in its header)."""
    import av

    x = (0.1 * np.sin(2 * np.pi * 440 * np.arange(int(RATE * seconds)) / RATE)).astype(np.float32)
    sink = _Pipe()
    with av.open(sink, "w", format="webm") as box:
        stream = box.add_stream("libopus", rate=RATE, layout="mono")
        n = stream.codec_context.frame_size or 960
        for s in range(0, len(x), n):
            chunk = np.pad(x[s: s + n], (0, max(0, s + n - len(x))))
            frame = av.AudioFrame.from_ndarray(chunk[None], format="flt", layout="mono")
            frame.sample_rate, frame.pts = RATE, s
            for packet in stream.encode(frame):
                box.mux(packet)
        for packet in stream.encode(None):
            box.mux(packet)
    path.write_bytes(sink.data)
    return str(path)


@pytest.fixture(scope="module")
def three_seconds(tmp_path_factory):
    return streamed_webm(tmp_path_factory.mktemp("webm") / "stream.webm", 3.0)


def test_a_streamed_webm_has_no_duration_in_its_header(three_seconds):
    assert audio_duration(three_seconds) is None  # else the header check, not decoding, refuses


def test_too_long_is_found_while_decoding(three_seconds):
    with pytest.raises(AudioTooLong, match=r"stream\.webm is longer than 2 s"):
        read_audio(three_seconds, max_seconds=2)
    wave, sr = read_audio(three_seconds, max_seconds=4)  # under the limit: all of it decodes
    assert sr == RATE and abs(len(wave) - 3 * RATE) < 0.05 * RATE


def test_the_app_refuses_a_streamed_recording_that_is_too_long(three_seconds):
    from textanchor.demo.inputs import InputError, load_recording

    with pytest.raises(InputError, match=r"too long \(stream\.webm is longer than 2 s\); say one digit, under 2 s"):
        load_recording(three_seconds, max_seconds=2)
