"""Accelerometer windows: (T, 3) samples in g at any rate -> a fixed (3, rate * seconds) tensor."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from textanchor.modalities import MODALITIES, Modality
from textanchor.modalities.base import line_plot


@MODALITIES.register("accel")
class AccelModality(Modality):
    name = "accel"
    default_encoder = "accel_cnn1d"
    file_extensions = (".csv", ".npy")  # .csv: x,y,z columns (an optional header line)

    @dataclass
    class Config:
        sample_rate: int = 50  # Hz; items at another rate are resampled
        seconds: float = 2.56  # window the encoder sees: centre crop or zero pad
        max_shift_s: float = 0.5  # training augmentation: circular time shift
        max_gain: float = 0.1  # +- relative gain (sensors differ in calibration)
        noise_g: float = 0.03  # std of added noise, in g

    def input_shape(self):
        return (3, int(round(self.cfg.seconds * self.cfg.sample_rate)))

    def _one(self, item, rate: int) -> np.ndarray:
        a = np.asarray(item, np.float32)
        if a.ndim != 2 or a.shape[1] != 3:
            raise ValueError(f"an accel item is a (T, 3) array of x, y, z in g; got shape {a.shape}")
        if rate != self.cfg.sample_rate and len(a) > 1:  # linear resampling is enough below 25 Hz
            t_new = np.arange(int(len(a) * self.cfg.sample_rate / rate)) / self.cfg.sample_rate
            t_old = np.arange(len(a)) / rate
            a = np.stack([np.interp(t_new, t_old, a[:, c]) for c in range(3)], 1).astype(np.float32)
        n = self.input_shape()[1]
        out = np.zeros((n, 3), np.float32)
        if len(a) >= n:
            s = (len(a) - n) // 2
            out[:] = a[s: s + n]
        else:
            s = (n - len(a)) // 2
            out[s: s + len(a)] = a
        return out.T  # (3, n): channels first for Conv1d

    def prepare(self, items, sample_rate=None):
        if len(items) == 0:
            return torch.zeros((0, *self.input_shape()))
        rate = sample_rate or self.cfg.sample_rate
        return torch.from_numpy(np.stack([self._one(i, rate) for i in items]))

    def augment(self, x, generator=None):
        """Circular time shift, gain and sensor noise. x: (B, 3, n)."""
        c, (b, _, n), dev = self.cfg, x.shape, x.device
        rnd = lambda *s: torch.rand(*s, generator=generator).to(dev)  # noqa: E731
        shift = ((rnd(b) * 2 - 1) * c.max_shift_s * c.sample_rate).long()
        idx = (torch.arange(n, device=dev)[None] - shift[:, None]) % n  # (B, n)
        x = torch.gather(x, 2, idx[:, None].expand(-1, 3, -1))
        x = x * (1 + (rnd(b, 1, 1) * 2 - 1) * c.max_gain)
        return x + torch.randn(x.shape, generator=generator).to(dev) * c.noise_g

    def read_file(self, path):
        """A .npy (T, 3) array, or a .csv of x,y,z rows at `sample_rate`."""
        if str(path).lower().endswith(".npy"):
            return np.load(path).astype(np.float32)
        with open(path, encoding="utf-8") as f:
            first = f.readline()
        header = any(ch.isalpha() for ch in first)
        return np.loadtxt(path, delimiter=",", skiprows=int(header), ndmin=2, dtype=np.float32)

    def example_items(self, n=3, seed=0):
        """Random walks of 5 to 400 samples at 100 Hz (twice the model's rate)."""
        rng = np.random.default_rng(seed)
        lengths = [5, 400, 120]
        return [np.cumsum(rng.normal(0, 0.05, (lengths[i % 3], 3)), 0).astype(np.float32)
                for i in range(n)], 100

    def render(self, item, sample_rate=None):
        rate = sample_rate or self.cfg.sample_rate
        return "plot", line_plot(np.asarray(item, np.float32), rate, ("x", "y", "z"), "acceleration (g)")
