"""The Free Spoken Digit Dataset (FSDD): 8 kHz recordings named {digit}_{speaker}_{index}.wav.

The helpers `scan_digit_wavs`, `split_mask` and `load_digit_wavs` are shared with AudioMNIST,
which names its files the same way.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .audio_io import read_many
from .base import DIGIT_NAMES, DataError, ItemSet
from .datasets import DATASETS, default_root
from .download import download as fetch, extract_archive

FSDD_URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/heads/master.zip"
NAME = re.compile(r"^(\d)_([A-Za-z0-9]+)_(\d+)\.wav$", re.IGNORECASE)
SPLITS = ("train", "test", "all")
HOLDOUTS = ("official", "speaker")
OFFICIAL_TEST_INDICES = 5  # both data sets' own split: recording index 0-4 is test


def scan_digit_wavs(paths) -> tuple[list[tuple[Path, int, str, int]], int]:
    """Parse `{digit}_{speaker}_{index}.wav` names.

    Args:
        paths: candidate files.

    Returns:
        ([(path, digit, speaker, index), ...] sorted by path, number of names that did not match).
    """
    parsed, skipped = [], 0
    for path in sorted(paths):
        m = NAME.match(path.name)
        if m is None:
            skipped += 1
            continue
        parsed.append((path, int(m.group(1)), m.group(2), int(m.group(3))))
    return parsed, skipped


def split_mask(speakers, indices, split: str, holdout: str, test_speakers) -> np.ndarray:
    """Boolean mask of the recordings that belong to `split`.

    Args:
        speakers, indices: per-recording speaker name and recording index.
        split: "train", "test" or "all".
        holdout: "official" (index < 5 is test) or "speaker" (test_speakers are test).
        test_speakers: speakers held out when holdout == "speaker".

    Returns:
        (N,) bool.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {SPLITS}")
    if holdout not in HOLDOUTS:
        raise ValueError(f"unknown holdout {holdout!r}; use one of {HOLDOUTS}")
    if split == "all":
        return np.ones(len(speakers), dtype=bool)
    if holdout == "official":
        is_test = np.asarray(indices) < OFFICIAL_TEST_INDICES
    else:
        present = sorted(set(speakers))
        if not set(test_speakers) & set(present):
            raise DataError(
                f"none of the test speakers {list(test_speakers)} is in the data; "
                f"speakers present: {present}"
            )
        is_test = np.isin(np.asarray(speakers), list(test_speakers))
    return is_test if split == "test" else ~is_test


def load_digit_wavs(parsed, mask, sample_rate: int, limit, source_root: Path, meta) -> ItemSet:
    """Decode the masked recordings into an audio ItemSet (groups = speaker)."""
    chosen = [p for p, keep in zip(parsed, mask) if keep][:limit]
    items = read_many([path for path, *_ in chosen], sample_rate)
    return ItemSet(
        modality="audio",
        items=items,
        labels=np.array([digit for _, digit, _, _ in chosen], dtype=np.int64),
        class_names=list(DIGIT_NAMES),
        sources=[str(path) for path, *_ in chosen],
        sample_rate=sample_rate,
        groups=[speaker for _, _, speaker, _ in chosen],
        meta={"root": str(source_root), **meta},
    )


def _find_recordings(root: Path) -> Path | None:
    """The folder of wavs: root itself, root/recordings, or recordings/ inside an extracted zip."""
    for folder in (root, root / "recordings"):
        if folder.is_dir() and any(folder.glob("*.wav")):
            return folder
    if root.is_dir():
        for folder in sorted(root.glob("*/recordings")):
            if any(folder.glob("*.wav")):
                return folder
    return None


@DATASETS.register("fsdd")
def load_fsdd(
    root=None,
    split: str = "train",
    holdout: str = "official",
    test_speakers=("theo",),
    sample_rate: int = 8000,
    limit: int | None = None,
    download: bool = False,
    base_url: str | None = None,
) -> ItemSet:
    """Load FSDD recordings as mono float32 waves labelled with digit words.

    Args:
        root: the folder of wavs or its parent holding recordings/; default $TEXTANCHOR_DATA/fsdd.
        split: "train", "test" or "all".
        holdout: "official" (indices 0-4 test, 5+ train) or "speaker" (test_speakers test).
        test_speakers: speakers held out when holdout == "speaker".
        sample_rate: output rate in Hz (FSDD is recorded at 8 kHz).
        limit: keep only the first `limit` recordings of the split (sorted by file name).
        download: fetch and extract the GitHub archive into `root` when no wavs are found.
        base_url: URL of a zip archive to download instead of FSDD_URL.

    Returns:
        ItemSet(modality="audio", groups=speakers); meta["skipped"] counts ignored file names.
    """
    root = Path(root) if root is not None else default_root("fsdd")
    folder = _find_recordings(root)
    if folder is None and download:
        archive = fetch(base_url or FSDD_URL, root / "fsdd-master.zip")
        extract_archive(archive, root)
        folder = _find_recordings(root)
    if folder is None:
        raise DataError(
            f"no FSDD recordings (*.wav) found in {root} or {root / 'recordings'}. Pass "
            f"--download to fetch {FSDD_URL}, or put the recordings/ folder there by hand."
        )
    parsed, skipped = scan_digit_wavs(p for p in folder.iterdir() if p.is_file())
    mask = split_mask([p[2] for p in parsed], [p[3] for p in parsed], split, holdout,
                      test_speakers)
    return load_digit_wavs(parsed, mask, sample_rate, limit, folder, {"skipped": skipped})
