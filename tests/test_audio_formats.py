"""Every format a phone or a browser records decodes to the same spoken digit.

One eSpeak NG "seven" is written as each format (soundfile for the WAV family, FLAC, OGG Vorbis
and MP3; PyAV/FFmpeg for Opus, WebM, M4A/AAC, MP4, MOV, 3GP/AMR), read back by `read_audio`,
and must prepare to nearly the same features and get the same label from the shipped
checkpoint as the 16-bit WAV.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from textanchor.data.audio_io import AudioTooLong, audio_duration, read_audio, resample, to_mono
from textanchor.data.base import DataError

CHECKPOINT = Path(__file__).resolve().parents[1] / "checkpoints" / "digits"
SF_FORMATS = {  # name: (extension, soundfile format, subtype)
    "wav-u8": (".wav", "WAV", "PCM_U8"), "wav-16": (".wav", "WAV", "PCM_16"), "wav-24": (".wav", "WAV", "PCM_24"),
    "wav-32": (".wav", "WAV", "PCM_32"), "wav-float": (".wav", "WAV", "FLOAT"), "wav-alaw": (".wav", "WAV", "ALAW"),
    "wav-ulaw": (".wav", "WAV", "ULAW"), "flac": (".flac", "FLAC", "PCM_16"), "ogg-vorbis": (".ogg", "OGG", "VORBIS"),
    "mp3": (".mp3", "MP3", "MPEG_LAYER_III"),
}
AV_FORMATS = {  # name: (extension, container, codec, rate)
    "ogg-opus": (".opus", "ogg", "libopus", 48000), "webm-opus": (".webm", "webm", "libopus", 48000),
    "m4a-aac": (".m4a", "ipod", "aac", 16000), "mp4-aac": (".mp4", "mp4", "aac", 16000),
    "mov-aac": (".mov", "mov", "aac", 16000), "3gp-amr": (".3gp", "3gp", "libopencore_amrnb", 8000),
}


@pytest.fixture(scope="module")
def spoken():
    """(wave, 16000): eSpeak NG saying "seven", with a little silence around it."""
    from textanchor.data.espeak import synthesize

    wave, sr = synthesize("seven", "en-us")
    wave = resample(wave, sr, 16000)
    pad = np.zeros(1600, np.float32)
    return np.concatenate([pad, 0.7 * wave / np.abs(wave).max(), pad]).astype(np.float32), 16000


def write_av(path: Path, wave: np.ndarray, sr: int, container: str, codec: str, rate: int) -> Path:
    """Encode a mono wave with PyAV (FFmpeg) the way a phone or browser would."""
    import av

    x = resample(wave, sr, rate)
    with av.open(str(path), "w", format=container) as box:
        stream = box.add_stream(codec, rate=rate, layout="mono")
        fmt = stream.codec_context.codec.audio_formats[0].name
        frame_n = stream.codec_context.frame_size or 1024
        for s in range(0, len(x), frame_n):
            chunk = x[s: s + frame_n]
            if len(chunk) < frame_n:
                chunk = np.pad(chunk, (0, frame_n - len(chunk)))
            if fmt.startswith("s16"):
                data, fmt_used = (chunk * 32767).astype(np.int16)[None], "s16" if fmt == "s16" else "s16p"
            else:
                data, fmt_used = chunk[None].astype(np.float32), "flt" if fmt == "flt" else "fltp"
            frame = av.AudioFrame.from_ndarray(data, format=fmt_used, layout="mono")
            frame.sample_rate = rate
            frame.pts = s
            for packet in stream.encode(frame):
                box.mux(packet)
        for packet in stream.encode(None):
            box.mux(packet)
    return path


# Made by `write_av` from the `spoken` wave (eSpeak NG's "seven") with PyAV 18.1.0, for wheels
# without the encoder: PyAV 18.1.1's FFmpeg dropped libopencore_amrnb (its AMR decoder stays).
ENCODED = {"3gp-amr": Path(__file__).resolve().parent / "fixtures" / "seven_amr.3gp"}


def _can_encode(codec: str) -> bool:
    import av

    try:
        av.codec.Codec(codec, "w")
    except av.codec.codec.UnknownCodecError:
        return False
    return True


@pytest.fixture(scope="module")
def files(spoken, tmp_path_factory):
    wave, sr = spoken
    d = tmp_path_factory.mktemp("formats")
    out = {}
    for name, (ext, fmt, subtype) in SF_FORMATS.items():
        out[name] = d / f"{name}{ext}"
        sf.write(out[name], wave, sr, format=fmt, subtype=subtype)
    for name, (ext, container, codec, rate) in AV_FORMATS.items():
        if not _can_encode(codec) and name in ENCODED:  # any other missing encoder fails below
            out[name] = ENCODED[name]
            continue
        out[name] = write_av(d / f"{name}{ext}", wave, sr, container, codec, rate)
    return out


@pytest.fixture(scope="module")
def embedder():
    if not (CHECKPOINT / "config.json").is_file():
        pytest.skip(f"no shipped checkpoint at {CHECKPOINT}")
    from textanchor.pipeline import Embedder

    return Embedder.from_checkpoint(CHECKPOINT)


def _features(wave, sr):
    from textanchor.modalities.audio import AudioModality

    m = AudioModality()
    fe = m.frontend().eval()
    return fe(m.prepare([wave], sr))[0, 0].detach().numpy()  # (n_mels, frames)


@pytest.mark.parametrize("name", list(SF_FORMATS) + list(AV_FORMATS))
def test_every_format_reads_as_the_same_word(name, files, spoken, embedder):
    wave, sr = read_audio(files[name], sample_rate=16000)
    assert wave.dtype == np.float32 and wave.ndim == 1 and np.isfinite(wave).all()
    assert abs(len(wave) - len(spoken[0])) < 0.1 * 16000 + 2048  # codec padding, not a different clip
    assert abs(float(wave.mean())) < 0.01  # 8-bit's offset removed
    ref = _features(*spoken)
    got = _features(wave, 16000)
    assert np.corrcoef(ref.ravel(), got.ravel())[0, 1] > 0.8, name
    labels = [embedder.classify(embedder.embed("audio", [w], 16000))[0][0] for w in (spoken[0], wave)]
    assert labels[0] == labels[1], f"{name}: {embedder.class_names[labels[1]]} vs {embedder.class_names[labels[0]]}"


def test_duration_from_the_header_and_over_long_files(files, tmp_path, spoken):
    for name in ("wav-16", "m4a-aac", "ogg-opus"):
        assert audio_duration(files[name]) == pytest.approx(len(spoken[0]) / 16000, abs=0.1)
    long = write_av(tmp_path / "long.m4a", np.zeros(16000 * 40, np.float32) + 0.01, 16000, "ipod", "aac", 16000)
    with pytest.raises(AudioTooLong, match="40 s"):
        read_audio(long, max_seconds=30)


def test_not_audio_lists_the_accepted_formats(tmp_path):
    bad = tmp_path / "memo.m4a"
    bad.write_bytes(b"\x00\x01not a container" * 50)
    with pytest.raises(DataError, match="M4A/AAC") as err:
        read_audio(bad)
    assert "memo.m4a" in str(err.value) and "WebM" in str(err.value)
    assert "Errno" not in str(err.value) and str(err.value).count("memo.m4a") == 1  # PyAV's words, not its errno and path


def test_unsigned_and_signed_integer_arrays():
    u8 = np.array([128, 128, 255, 0], np.uint8)  # 8-bit WAV samples: 128 is silence
    np.testing.assert_allclose(to_mono(u8), [0, 0, 127 / 128, -1], atol=1e-6)
    np.testing.assert_allclose(to_mono(np.array([-32768, 16384], np.int16)), [-1, 0.5])
    np.testing.assert_allclose(to_mono(np.array([[-2 ** 31, 0]] * 3, np.int32)), [-0.5] * 3)  # (T, C)


def test_stereo_channels_in_opposite_polarity_are_not_silence(tmp_path):
    """A recorder with one channel wired inverted: the average of the channels is silence, so the
    word was refused as "No speech heard". The loudest channel is taken instead; ordinary stereo
    (the same sound, or two unrelated ones) is still averaged."""
    from conftest import spoken_word
    from textanchor.demo.inputs import load_recording

    word = spoken_word("seven", 16000)
    rng = np.random.default_rng(0)
    inverted = np.stack([word, -0.8 * word], 1)
    np.testing.assert_allclose(to_mono(inverted), word, atol=1e-6)  # channel 0 is the louder
    same = np.stack([word, 0.5 * word], 1)
    np.testing.assert_allclose(to_mono(same), 0.75 * word, atol=1e-6)
    other = np.stack([word, rng.normal(0, word.std(), len(word)).astype(np.float32)], 1)
    np.testing.assert_allclose(to_mono(other), other.mean(1), atol=1e-6)

    sf.write(tmp_path / "inverted.wav", inverted, 16000)
    heard, sr = load_recording(str(tmp_path / "inverted.wav"))
    assert sr == 16000 and np.abs(heard).max() > 0.1


def test_channels_first_arrays_are_read_as_channels():
    """A (C, T) array (torchaudio's layout) was averaged over its samples into a few values and
    answered confidently wrong; the shorter axis is the channels."""
    from conftest import spoken_word

    word = spoken_word("three", 8000)
    np.testing.assert_allclose(to_mono(word[None]), word, atol=1e-6)  # (1, T)
    stereo = np.stack([word, 0.5 * word])  # (2, T)
    np.testing.assert_allclose(to_mono(stereo), to_mono(stereo.T), atol=1e-6)
    np.testing.assert_allclose(to_mono(np.stack([word, -word])), word, atol=1e-6)  # and opposite polarity
    assert to_mono(np.zeros((0, 2), np.float32)).shape == (0,)  # no samples, no NaN warning


def test_resampling_no_samples_gives_no_samples():
    assert resample(np.zeros(0, np.float32), 8000, 16000).shape == (0,)
    assert resample(np.zeros((0, 2), np.float32), 44100, 16000).shape == (0, 2)
