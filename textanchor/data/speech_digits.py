"""Real spoken digits from many speakers (`../shared/data/speech_digits`), split by speaker.

Files are named `{digit}_{source}_{speaker}_{n}.wav`; `labels.csv` beside them gives the label,
speaker and source (`sc` Speech Commands, `am` AudioMNIST, `fcr` one speaker's own recordings).

The split is deterministic and never puts one speaker on both sides: a speaker is held out when
the SHA-1 of "source:speaker" falls in the lowest `test_fraction` of its range, so adding
speakers never moves an existing one. `fcr` (one speaker, 619 clips of digits 1-5, more than half
of the set) always trains: held out, that single voice would outweigh the other 150 in the score.
Training clips of any one speaker are capped (`max_per_speaker`, seeded choice) so that `fcr`
does not teach that "a real voice" means "one to five".
"""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np

from .audio_io import read_many
from .base import DIGIT_NAMES, DataError, ItemSet
from .datasets import DATASETS, default_root

ALWAYS_TRAIN = ("fcr",)  # sources whose speakers never enter the held-out split (see above)


def is_test_speaker(source: str, speaker: str, test_fraction: float) -> bool:
    """Whether a speaker belongs to the held-out split (stable hash of "source:speaker")."""
    if source in ALWAYS_TRAIN:
        return False
    h = int(hashlib.sha1(f"{source}:{speaker}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return h < test_fraction


@DATASETS.register("speech_digits")
def load_speech_digits(
    root=None,
    split: str = "train",
    test_fraction: float = 0.4,
    sources=("sc", "am", "fcr"),
    max_per_speaker: int | None = 150,
    sample_rate: int = 8000,
    seed: int = 0,
) -> ItemSet:
    """Load the real-voice digit clips of one speaker-disjoint split.

    Args:
        root: the folder with labels.csv and the wavs; default $TEXTANCHOR_DATA/speech_digits.
        split: "train", "test" (speakers held out by `is_test_speaker`) or "all".
        test_fraction: share of the (non-`fcr`) speakers held out.
        sources: which source tags to keep.
        max_per_speaker: at most this many training clips per speaker (seeded); None: all.
            Never applied to "test" or "all".
        sample_rate: output rate in Hz (the clips are 16 or 48 kHz).
        seed: seed of the per-speaker cap.

    Returns:
        ItemSet(modality="audio", groups="source:speaker"), sources are file paths.

    Raises:
        DataError: no labels.csv, or a listed file is missing.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"unknown speech_digits split {split!r}; use 'train', 'test' or 'all'")
    root = Path(root) if root is not None else default_root("speech_digits")
    table = root / "labels.csv"
    if not table.is_file():
        raise DataError(f"no labels.csv in {root}: point --data at the folder holding speech_digits/")
    with open(table, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["file"].split("_")[1] in sources]
    rows.sort(key=lambda r: r["file"])
    rng = np.random.default_rng(seed)
    keep, per_speaker = [], {}
    for r in rows:
        source = r["file"].split("_")[1]
        group = f"{source}:{r['speaker']}"
        if split != "all" and is_test_speaker(source, r["speaker"], test_fraction) != (split == "test"):
            continue
        per_speaker.setdefault(group, []).append(r)
    for group, rs in per_speaker.items():
        if split == "train" and max_per_speaker is not None and len(rs) > max_per_speaker:
            rs = [rs[i] for i in sorted(rng.choice(len(rs), max_per_speaker, replace=False))]
        keep += [(group, r) for r in rs]
    keep.sort(key=lambda gr: gr[1]["file"])
    missing = [r["file"] for _, r in keep if not (root / r["file"]).is_file()]
    if missing:
        raise DataError(f"{len(missing)} files listed in {table} are missing, e.g. {missing[0]}")
    items = read_many([root / r["file"] for _, r in keep], sample_rate)
    return ItemSet(
        modality="audio",
        items=items,
        labels=np.array([int(r["label"]) for _, r in keep], dtype=np.int64),
        class_names=list(DIGIT_NAMES),
        sources=[str(root / r["file"]) for _, r in keep],
        sample_rate=sample_rate,
        groups=[g for g, _ in keep],
        meta={"root": str(root), "test_fraction": test_fraction},
    )
