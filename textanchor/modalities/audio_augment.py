"""Per-step audio augmentation on prepared windows: shift, gain, and room noise over the WHOLE window.

Why over the whole window: a microphone in a noisy room records the noise before, under and after
the word, and the app hands the model the word with that context (`textanchor.vad.PAD_S`). Noise
added to a clip before it is zero-padded to the window teaches a box of noise in silence, an input
no recording makes (measured on speech_digits' held-out speakers, white noise at 10 dB SNR: 78%
as a padded crop, 91% with the same recording's context filling the window, shipped checkpoint).

The noises are those of `textanchor.data.noise`, drawn in torch on the batch so they cost a few
milliseconds a step: hiss of any spectral slope from white to brown, mains hum with harmonics, and
babble made of other clips of the same batch (training speakers only, shifted in time).
"""
from __future__ import annotations

import torch

KIND_SHARES = (0.5, 0.2, 0.3)  # hiss (white..brown), hum, babble


def _rand(generator, *shape) -> torch.Tensor:
    return torch.rand(*shape, generator=generator)


def hiss(b: int, n: int, generator=None) -> torch.Tensor:
    """(b, n) unit-RMS noise, each row with its own spectral slope in [0, 2] (white..brown)."""
    spec = torch.fft.rfft(torch.randn(b, n, generator=generator), dim=1)  # (b, n//2+1)
    f = torch.arange(spec.shape[1], dtype=torch.float32).clamp_min(1.0)
    slope = 2 * _rand(generator, b, 1)
    x = torch.fft.irfft(spec / f[None] ** (slope / 2), n, dim=1)
    return x / x.pow(2).mean(1, keepdim=True).sqrt().clamp_min(1e-8)


def hum(b: int, n: int, sr: int, generator=None) -> torch.Tensor:
    """(b, n) unit-RMS mains hum: 50 or 60 Hz and its harmonics to 1 kHz, random levels (1/k
    falling, odd ones stronger as in a transformer's buzz) and phases, over a little hiss.
    Built as spectral lines and one inverse FFT (sines summed in time cost 15x more)."""
    df = sr / n  # Hz per FFT bin
    f0 = torch.where(_rand(generator, b) < 0.5, 50.0, 60.0)
    k = torch.arange(1, int(min(1000.0, 0.45 * sr) // 50) + 1, dtype=torch.float32)  # (K,)
    amp = (0.3 + 0.7 * _rand(generator, b, len(k))) / k * torch.where(k % 2 == 1, 1.5, 1.0)  # (b, K)
    bins = (f0[:, None] * k / df).round().long()  # (b, K)
    amp = amp * (bins < n // 2).float()
    phase = 2 * torch.pi * _rand(generator, b, len(k))
    spec = torch.zeros(b, n // 2 + 1, dtype=torch.complex64)
    spec.scatter_add_(1, bins.clamp_max(n // 2), torch.polar(amp, phase))
    x = torch.fft.irfft(spec, n, dim=1)
    x = x / x.pow(2).mean(1, keepdim=True).sqrt().clamp_min(1e-8)
    x = x + 0.05 * torch.randn(b, n, generator=generator)
    return x / x.pow(2).mean(1, keepdim=True).sqrt().clamp_min(1e-8)


def babble(x: torch.Tensor, rows: torch.Tensor, talkers: int = 4, generator=None) -> torch.Tensor:
    """(len(rows), n) unit-RMS babble for the given rows of a (b, n) batch: for each, `talkers`
    other rows of the batch (one random offset per talker), each talker shifted in time by a
    random circular lag. Batch of one: that row shifted (a lone talker)."""
    b, n = x.shape
    src = x.detach().cpu().float()
    src = src / src.pow(2).mean(1, keepdim=True).sqrt().clamp_min(1e-8)
    out = torch.zeros(len(rows), n)
    for _ in range(talkers):
        step = 1 + int(_rand(generator, 1) * max(1, b - 1)) if b > 1 else 0
        out += src[(rows + step) % b].roll(int(_rand(generator, 1) * n), dims=1)
    return out / out.pow(2).mean(1, keepdim=True).sqrt().clamp_min(1e-8)


def active_power(x: torch.Tensor, sr: int, rel_db: float = -30.0, frame_s: float = 0.02) -> torch.Tensor:
    """(b, 1) mean power of each row's frames within `rel_db` of its loudest frame (the word's
    level, whatever padding surrounds it), as `textanchor.data.noise.active_power`."""
    hop = max(1, int(sr * frame_s))
    b, n = x.shape
    p = x[:, : (n // hop) * hop].reshape(b, -1, hop).pow(2).mean(2)  # (b, frames)
    keep = p >= p.amax(1, keepdim=True) * 10 ** (rel_db / 10)
    return ((p * keep).sum(1, keepdim=True) / keep.sum(1, keepdim=True).clamp_min(1)).clamp_min(1e-10)


def room_noise(x: torch.Tensor, sr: int, snr_db: tuple[float, float], rows: torch.Tensor | None = None,
               generator=None) -> torch.Tensor:
    """(b, n) noise for a batch of (b, n) windows: zero except on `rows` (default all), each of
    which gets one kind (KIND_SHARES) at an SNR drawn uniformly in `snr_db` against its active
    level. Made on the CPU (the seeded generator lives there), returned on x's device."""
    b, n = x.shape
    rows = torch.arange(b) if rows is None else rows.cpu()
    pick = _rand(generator, len(rows))
    hiss_rows = rows[pick < KIND_SHARES[0]]
    hum_rows = rows[(pick >= KIND_SHARES[0]) & (pick < KIND_SHARES[0] + KIND_SHARES[1])]
    babble_rows = rows[pick >= KIND_SHARES[0] + KIND_SHARES[1]]
    noise = torch.zeros(b, n)
    if len(hiss_rows):  # (an FFT of no rows is an error in MKL)
        noise[hiss_rows] = hiss(len(hiss_rows), n, generator)
    if len(hum_rows):
        noise[hum_rows] = hum(len(hum_rows), n, sr, generator)
    if len(babble_rows):
        noise[babble_rows] = babble(x, babble_rows, generator=generator)
    snr = snr_db[0] + (snr_db[1] - snr_db[0]) * _rand(generator, b, 1)
    scale = (active_power(x.detach().cpu().float(), sr) / 10 ** (snr / 10)).sqrt()
    return (noise * scale).to(x.device, x.dtype)
