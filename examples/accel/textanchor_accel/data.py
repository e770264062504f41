"""A synthetic accelerometer data set: four activities a phone in a trouser pocket would see.

Each item is (T, 3) in g, 3 to 5 s long: gravity (about 1 g, along the thigh when sitting) plus
the activity's motion at a random cadence, phase and loudness, seen through a randomly tilted
sensor, with noise. Train and test items come from different seeds.
"""
from __future__ import annotations

import numpy as np

from textanchor.data import ItemSet
from textanchor.data.datasets import DATASETS

CLASSES = ["walking", "running", "sitting", "jumping"]


def _motion(label: int, t: np.ndarray, rng) -> np.ndarray:
    """(T, 3) acceleration in the body frame (z up) of one activity, without noise."""
    a = np.zeros((len(t), 3))
    ph = rng.uniform(0, 2 * np.pi)
    if label == 2:  # sitting: gravity along the (horizontal) thigh, a little fidgeting
        a[:, 0] = 1.0
        a[:, 1] = 0.03 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + ph)
        return a
    if label == 3:  # jumping: ~0 g in the air, a hard landing, then the push-off
        f = rng.uniform(0.8, 1.3)
        cycle = (f * t + ph / (2 * np.pi)) % 1.0  # 0..1 within each jump
        air = rng.uniform(0.35, 0.5)  # fraction of the cycle in the air
        landed = np.clip(cycle - air, 0, None)
        a[:, 2] = np.where(cycle < air, 0.05, 1.0 + rng.uniform(1.5, 2.5) * np.exp(-landed * 12))
        return a
    # Cadence and bounce of walking and running meet at a jog, so the two are not trivially apart.
    f, amp = (rng.uniform(1.5, 2.4), rng.uniform(0.25, 0.6)) if label == 0 else \
        (rng.uniform(2.3, 3.2), rng.uniform(0.55, 1.2))
    w = 2 * np.pi * f * t + ph
    a[:, 2] = 1.0 + amp * (np.sin(w) + 0.3 * np.sin(2 * w))  # vertical bounce at the cadence
    a[:, 0] = 0.5 * amp * np.sin(w + 1.0)  # forward
    a[:, 1] = 0.3 * amp * np.sin(w / 2)  # side to side, once per stride
    return a


def _tilt(rng, max_deg: float = 30.0) -> np.ndarray:
    """A random rotation of at most `max_deg` about each axis: how the phone sits."""
    rx, ry, rz = np.deg2rad(rng.uniform(-max_deg, max_deg, 3))
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    return (np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]]) @ np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
            @ np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]]))


@DATASETS.register("accel", modality="accel")
def load_accel(split: str = "train", n_per_class: int = 60, seed: int = 0, sample_rate: int = 50) -> ItemSet:
    """Synthetic activities.

    Args:
        split: "train", "test" (other items, same distribution) or "all" (both).
        n_per_class: items per activity and split.
        seed: base seed; the split changes it, so train and test never share an item.
        sample_rate: Hz of the generated items.
    Returns:
        ItemSet("accel") of (T, 3) float32 arrays in g, class_names CLASSES.
    """
    if split == "all":
        a, b = load_accel("train", n_per_class, seed, sample_rate), load_accel("test", n_per_class, seed, sample_rate)
        return ItemSet("accel", a.items + b.items, np.concatenate([a.labels, b.labels]), CLASSES,
                       a.sources + b.sources, sample_rate=sample_rate)
    if split not in ("train", "test"):
        raise ValueError(f"accel split must be train, test or all, got {split!r}")
    rng = np.random.default_rng([seed, split == "test"])
    items, labels = [], []
    for label in range(len(CLASSES)):
        for _ in range(n_per_class):
            t = np.arange(int(rng.uniform(3.0, 5.0) * sample_rate)) / sample_rate
            a = _motion(label, t, rng) @ _tilt(rng).T * rng.uniform(0.9, 1.1)
            items.append((a + rng.normal(0, 0.08, a.shape)).astype(np.float32))
            labels.append(label)
    return ItemSet("accel", items, np.array(labels), list(CLASSES),
                   [f"accel:{split}:{i}" for i in range(len(items))], sample_rate=sample_rate)
