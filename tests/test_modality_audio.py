"""The audio modality's preprocessing gives the right numbers (textanchor/modalities/audio.py):
silence trimmed at the stated level, one window centred, one loudness, the log-mel front end on
the mel scale it claims, and training augmentation within its stated ranges.

Synthetic tones with known answers; no model, no data folder.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from textanchor.modalities import create_modality
from textanchor.modalities.audio import LogMel, audio_problem, trim_silence

SR = 8000
HOP = 160  # trim_silence's 20 ms frame at 8 kHz


def tone(seconds: float, f: float = 440.0, amp: float = 0.5, sr: int = SR) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * f * t)).astype(np.float32)


# ------------------------------------------------------------------------------ trim_silence
def test_trim_silence_keeps_exactly_the_loud_frames():
    w = np.concatenate([np.zeros(25 * HOP), tone(15 * HOP / SR), np.zeros(20 * HOP)]).astype(np.float32)
    out = trim_silence(w, SR)
    np.testing.assert_array_equal(out, w[25 * HOP: 40 * HOP])


def test_trim_silence_threshold_is_relative_to_the_loudest_frame():
    # 450 Hz: 9 whole periods per 20 ms frame, so every frame of a tone has the same RMS.
    loud = tone(10 * HOP / SR, 450.0, amp=0.5)
    kept = tone(5 * HOP / SR, 450.0, amp=0.5 * 10 ** (-29.5 / 20))  # 29.5 dB down: above -30 dB, kept
    dropped = tone(5 * HOP / SR, 450.0, amp=0.5 * 10 ** (-30.5 / 20))  # 30.5 dB down: dropped
    w = np.concatenate([dropped, kept, loud, dropped])
    assert len(trim_silence(w, SR)) == 15 * HOP
    assert len(trim_silence(w, SR, rel_db=-20.0)) == 10 * HOP  # a stricter level drops the -29.5 dB part
    assert len(trim_silence(100 * w, SR)) == 15 * HOP  # relative: the gain does not matter


def test_a_single_loud_frame_is_all_that_is_kept():
    w = np.zeros(10 * HOP, np.float32)
    w[4 * HOP: 5 * HOP] = tone(HOP / SR, 450.0)  # a click-like burst in one frame
    np.testing.assert_array_equal(trim_silence(w, SR), w[4 * HOP: 5 * HOP])
    two = np.concatenate([np.zeros(HOP, np.float32), tone(HOP / SR, 450.0)])  # exactly two frames
    np.testing.assert_array_equal(trim_silence(two, SR), two[HOP:])


def test_trim_silence_leaves_what_it_cannot_judge():
    short = tone(1.5 * HOP / SR)  # under two frames
    np.testing.assert_array_equal(trim_silence(short, SR), short)
    silent = np.zeros(10 * HOP, np.float32)  # no frame louder than another
    np.testing.assert_array_equal(trim_silence(silent, SR), silent)
    two = tone(2 * HOP / SR)  # exactly two frames: judged, and both kept
    np.testing.assert_array_equal(trim_silence(two, SR), two)


# ------------------------------------------------------------------------------ audio_problem
def test_audio_problem_messages_and_limits():
    assert audio_problem(np.zeros(0, np.float32), SR) == "The recording is empty."
    assert audio_problem(None, SR) == "The recording is empty."
    assert audio_problem(tone(0.1), SR) is None  # exactly the minimum
    short = audio_problem(tone(0.1)[:-1], SR)
    assert short == "The recording is too short (0.10 s); speak for at least 0.1 s."
    assert audio_problem(np.full(SR, 0.0009), SR) == (
        "No speech heard: the recording is silent; check the microphone and speak a little louder.")
    assert audio_problem(np.full(SR, 0.001), SR) is None  # exactly the silence level
    assert audio_problem(tone(0.5), SR, min_seconds=0.6).startswith("The recording is too short")


# ------------------------------------------------------------------------------ prepare
@pytest.fixture(scope="module")
def audio():
    return create_modality("audio")


def test_window_is_1_2_seconds_and_a_short_word_sits_in_its_middle(audio):
    assert audio.input_shape() == (9600,)
    x = audio.prepare([tone(0.5)], SR)[0].numpy()
    on = np.flatnonzero(np.abs(x) > 0)
    assert (on[0], on[-1] + 1) == ((9600 - 4000) // 2, (9600 - 4000) // 2 + 4000)


def test_a_long_recording_keeps_its_middle(audio):
    w = np.concatenate([tone(1.0, 300.0), tone(1.0, 1200.0)])  # 2 s: the crop straddles the change
    x = audio.prepare([w], SR)[0].numpy()
    ref = w[(16000 - 9600) // 2: (16000 - 9600) // 2 + 9600]
    assert np.corrcoef(x, ref)[0, 1] > 0.999


def test_one_level_for_every_clip_dc_removed_and_clipped(audio):
    quiet, loud = audio.prepare([tone(0.5, amp=0.01), tone(0.5, amp=0.8)], SR).numpy()
    np.testing.assert_allclose(quiet, loud, atol=1e-4)
    # DC removed before trimming (else the offset silence would count as sound) and levelling.
    padded = np.concatenate([np.zeros(19 * HOP, np.float32), tone(0.5, amp=0.2), np.zeros(3 * HOP, np.float32)])
    offset = audio.prepare([padded + 0.3], SR)[0].numpy()
    np.testing.assert_allclose(offset, loud, atol=2e-3)  # the silence trimmed: the tone alone, centred
    click = np.concatenate([tone(0.5, amp=0.01), [1.0, -1.0], tone(0.2, amp=0.01)]).astype(np.float32)
    x = audio.prepare([click], SR)[0].numpy()
    assert x.max() == 1.0 and x.min() == -1.0  # the click is cut at full scale both ways
    assert 0.05 < np.abs(x[np.abs(x) < 1.0]).max() < 0.9  # the word keeps its level


def test_trim_level_comes_from_the_config():
    w = np.concatenate([tone(0.3, 450.0, amp=0.5 * 10 ** (-20 / 20)), tone(0.3, 450.0, amp=0.5)])
    on = lambda x: int(np.count_nonzero(x))  # noqa: E731
    # (a sine's own zero crossings are a few exact zeros)
    assert 4790 <= on(create_modality("audio").prepare([w], SR)[0].numpy()) <= 4800  # -20 dB part kept at -30
    assert 2390 <= on(create_modality("audio", trim_db=-10.0).prepare([w], SR)[0].numpy()) <= 2400


def test_other_rates_and_stereo_are_resampled_and_mixed(audio):
    at16 = audio.prepare([tone(0.5, sr=16000)], 16000)[0].numpy()
    at8 = audio.prepare([tone(0.5)], SR)[0].numpy()
    assert np.corrcoef(at16, at8)[0, 1] > 0.99
    stereo = np.stack([tone(0.5), tone(0.5)], axis=1)  # (T, 2)
    np.testing.assert_allclose(audio.prepare([stereo], SR)[0].numpy(), at8, atol=1e-5)
    assert audio.prepare([tone(0.5)], None).shape == (1, 9600)  # no rate: the modality's own


# ------------------------------------------------------------------------------ log-mel
def _mel(f):
    return 2595 * np.log10(1 + np.asarray(f) / 700)


def test_logmel_shape_and_bins_on_the_htk_mel_scale_20_hz_to_nyquist(audio):
    fe = audio.frontend().eval()
    assert audio.encoder_input_shape() == (1, 40, 9600 // 100 + 1)
    centres = np.linspace(_mel(20.0), _mel(SR / 2), 40 + 2)[1:-1]
    for f in (250.0, 1000.0, 3000.0):
        x = fe(audio.prepare([tone(1.0, f)], SR))[0, 0].numpy()  # (40, frames)
        assert int(np.argmax(x.mean(1))) == int(np.argmin(np.abs(centres - _mel(f)))), f


def test_logmel_is_torchaudios_htk_mel_with_the_documented_settings(audio):
    """32 ms Hann window (256 at 8 kHz), 12.5 ms hop, 40 HTK bands from 20 Hz to Nyquist, log
    with a 1e-6 floor, standardised per utterance."""
    import torchaudio

    w = torch.from_numpy(np.random.default_rng(0).normal(0, 0.3, (2, 9600)).astype(np.float32))
    ref = torchaudio.transforms.MelSpectrogram(sample_rate=8000, n_fft=256, win_length=256, hop_length=100,
                                               n_mels=40, f_min=20.0, f_max=4000.0)(w)
    ref = torch.log(ref + 1e-6)[:, None]
    ref = (ref - ref.mean(dim=(2, 3), keepdim=True)) / ref.std(dim=(2, 3), keepdim=True)
    torch.testing.assert_close(audio.frontend().eval()(w), ref, atol=1e-4, rtol=0)


def test_logmel_is_normalised_per_utterance_and_gain_free():
    fe = LogMel(SR, 256, 100, 40, spec_augment=False).eval()
    rng = np.random.default_rng(0)
    w = torch.from_numpy(np.stack([tone(1.0, 500.0), rng.normal(0, 0.3, SR).astype(np.float32)]))
    x = fe(w)
    assert x.shape == (2, 1, 40, SR // 100 + 1)
    np.testing.assert_allclose(x.mean(dim=(1, 2, 3)).numpy(), 0.0, atol=1e-5)
    np.testing.assert_allclose(x.std(dim=(1, 2, 3)).numpy(), 1.0, atol=1e-3)
    # Gain-free where the mel energy is well above the log's 1e-6 floor (the noise, not the tone's empty bins).
    np.testing.assert_allclose(fe(w * 4)[1].numpy(), x[1].numpy(), atol=1e-3)


def test_spec_augment_masks_only_while_training():
    torch.manual_seed(0)
    w = torch.from_numpy(np.stack([tone(1.0, 500.0)] * 4))
    fe = LogMel(SR, 256, 100, 40, spec_augment=True)
    ref = fe.eval()(w)
    assert torch.equal(fe.eval()(w), ref)  # inference: deterministic, no masks
    masked = fe.train()(w)
    assert not torch.equal(masked, ref)
    changed_bins = (masked != ref).any(dim=3)[:, 0]  # (B, mels) rows touched by a frequency mask
    assert changed_bins.sum(1).max() <= 40 // 8  # at most n_mels // 8 mel rows per item
    plain = LogMel(SR, 256, 100, 40, spec_augment=False).train()
    assert torch.equal(plain(w), ref)


def test_spec_augment_mask_widths():
    """Masks zero whole mel rows (up to n_mels // 8 - 1 = 4 wide) and whole frames (up to 9)."""
    torch.manual_seed(0)
    fe = LogMel(SR, 256, 100, 40, spec_augment=True).train()
    w = torch.from_numpy(tone(1.2, 500.0)[None])
    rows, cols = [], []
    for _ in range(150):
        z = fe(w)[0, 0] == 0  # (mels, frames): masked cells are set to 0
        rows.append(int(z.all(1).sum()))
        cols.append(int(z.all(0).sum()))
    assert max(rows) == 4 and max(cols) == 9 and min(rows) == 0


def test_the_modality_front_end_masks_while_training_as_configured():
    torch.manual_seed(0)
    w = torch.from_numpy(np.stack([tone(1.2, 500.0)] * 2))
    on = create_modality("audio").frontend().train()
    assert any(bool((on(w) == 0).any()) for _ in range(5))
    off = create_modality("audio", spec_augment=False).frontend().train()
    assert not (off(w) == 0).any()


# ------------------------------------------------------------------------------ augmentation
def _batch(n=64):
    return torch.from_numpy(np.stack([tone(1.2, 300 + 10 * i) for i in range(n)]))


def test_augment_gain_is_between_half_and_full():
    m = create_modality("audio", max_shift_s=0.0, noise_prob=0.0)
    x = _batch()
    a = m.augment(x, torch.Generator().manual_seed(0))
    gain = (a * x).sum(1) / (x * x).sum(1)
    torch.testing.assert_close(a, x * gain[:, None], atol=1e-5, rtol=0)
    assert gain.min() >= 0.5 and gain.max() <= 1.0 and gain.max() - gain.min() > 0.3


def test_augment_shift_is_a_circular_roll_within_its_limit():
    m = create_modality("audio", max_shift_s=0.1, noise_prob=0.0)
    x = torch.from_numpy(np.random.default_rng(0).normal(0, 0.3, (32, 9600)).astype(np.float32))
    a = m.augment(x, torch.Generator().manual_seed(1))
    # The circular cross-correlation peaks at the shift; the scaled roll must then match exactly.
    corr = torch.fft.irfft(torch.fft.rfft(a) * torch.fft.rfft(x).conj(), n=9600)
    shifts = [(int(k) + 4800) % 9600 - 4800 for k in corr.argmax(1)]
    for xi, ai, k in zip(x, a, shifts):
        g = float((ai @ torch.roll(xi, k)) / (xi @ xi))
        torch.testing.assert_close(torch.roll(xi, k) * g, ai, atol=1e-4, rtol=0)
    assert max(map(abs, shifts)) <= 800 and len(set(shifts)) > 20 and min(shifts) < 0 < max(shifts)


def test_white_noise_option_snr_is_10_to_40_db_and_on_about_half_the_items():
    # noise="white": the first recipe's augmentation (the room noise is pinned in test_noisy_voices)
    x = _batch(200)
    always = create_modality("audio", max_shift_s=0.0, noise_prob=1.0, noise="white").augment(x, torch.Generator().manual_seed(2))
    gain = (always * x).sum(1) / (x * x).sum(1)
    signal = x * gain[:, None]
    snr = 10 * torch.log10(signal.pow(2).mean(1) / (always - signal).pow(2).mean(1))
    assert snr.min() > 9.5 and snr.max() < 40.5 and snr.min() < 15 and snr.max() > 35
    half = create_modality("audio", max_shift_s=0.0, noise_prob=0.5, noise="white").augment(x, torch.Generator().manual_seed(3))
    g = (half * x).sum(1) / (x * x).sum(1)
    noisy = ((half - x * g[:, None]).abs().max(1).values > 1e-4).float().mean()
    assert 0.35 < float(noisy) < 0.65
    again = create_modality("audio", max_shift_s=0.0, noise_prob=0.5, noise="white").augment(x, torch.Generator().manual_seed(3))
    assert torch.equal(half, again)  # seeded


# ------------------------------------------------------------------------------ files and the app
def test_read_file_decodes_and_prepare_crops_a_long_file_to_the_word(audio, tmp_path):
    import soundfile as sf
    from conftest import spoken_word
    from textanchor.modalities.audio import speech_part
    from textanchor.vad import PAD_S

    word = spoken_word("seven", SR)
    assert len(word) < 9600
    long = np.concatenate([np.zeros(3 * SR, np.float32), word, np.zeros(SR, np.float32)])
    sf.write(tmp_path / "long.wav", long, SR)
    got = audio.read_file(str(tmp_path / "long.wav"))
    assert len(got) == len(long)  # read_file only decodes: one cropping rule, in prepare
    part = speech_part(got, SR, audio.cfg.seconds)
    assert len(word) * 0.5 < len(part) <= len(word) + 2 * PAD_S * SR + 0.2 * SR  # the word and its context
    # the long file and the bare word give the same model input, up to a shift of a few ms
    a, b = audio.prepare([got])[0].numpy(), audio.prepare([word])[0].numpy()
    best = max(float(np.dot(np.roll(a, d), b)) for d in range(-200, 201)) / float(np.linalg.norm(a) * np.linalg.norm(b))
    assert best > 0.99
    sf.write(tmp_path / "short.wav", word, SR)  # within the window: returned whole, silence and all
    assert len(audio.read_file(str(tmp_path / "short.wav"))) == len(word)
    sf.write(tmp_path / "at16k.wav", spoken_word("seven", 16000), 16000)  # read at the modality's rate
    assert abs(len(audio.read_file(str(tmp_path / "at16k.wav"))) - len(word)) <= 20  # not ~2x as long


def test_render_gives_a_player_value_at_the_right_rate(audio):
    kind, (rate, wave) = audio.render(tone(0.2).astype(np.float64))
    assert kind == "audio" and rate == SR and wave.dtype == np.float32
    np.testing.assert_allclose(wave, tone(0.2), atol=1e-7)
    assert audio.render(tone(0.2), 16000)[1][0] == 16000


def test_query_component_is_a_microphone_or_upload_giving_a_path(audio):
    assert audio.query_component() == ("audio", {"label": "Record (or upload a file)",
                                                 "sources": ["microphone", "upload"], "type": "filepath"})
