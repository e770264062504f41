"""AudioMNIST (Becker et al., 2018): 30,000 spoken digits by 60 speakers, 48 kHz wavs.

Layout `data/{speaker}/{digit}_{speaker}_{index}.wav`, the same naming as FSDD, so the scanning
and splitting helpers come from `fsdd.py`. With many more speakers than FSDD, the default split
holds out whole speakers.
"""
from __future__ import annotations

from pathlib import Path

from .base import DataError, ItemSet
from .datasets import DATASETS, default_root
from .download import download as fetch, extract_archive
from .fsdd import load_digit_wavs, scan_digit_wavs, split_mask

AUDIOMNIST_URL = "https://github.com/soerenab/AudioMNIST/archive/refs/heads/master.zip"
# Speakers are "01".."60"; the last 12 (20%) are held out by default.
DEFAULT_TEST_SPEAKERS = tuple(f"{i:02d}" for i in range(49, 61))


def _find_data(root: Path) -> Path | None:
    """The folder whose subfolders are speakers: root/data, root, or data/ in an extracted zip."""
    candidates = [root / "data", root]
    if root.is_dir():
        candidates += sorted(root.glob("*/data"))
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*/*.wav")):
            return folder
    return None


@DATASETS.register("audiomnist")
def load_audiomnist(
    root=None,
    split: str = "train",
    holdout: str = "speaker",
    test_speakers=DEFAULT_TEST_SPEAKERS,
    sample_rate: int = 8000,
    limit: int | None = None,
    download: bool = False,
    base_url: str | None = None,
) -> ItemSet:
    """Load AudioMNIST recordings, resampled to `sample_rate`, labelled with digit words.

    Args:
        root: the AudioMNIST checkout (holding data/) or the folder of speaker folders;
            default $TEXTANCHOR_DATA/audiomnist.
        split: "train", "test" or "all".
        holdout: "speaker" (test_speakers are test) or "official" (index < 5 is test).
        test_speakers: speaker folder names held out when holdout == "speaker".
        sample_rate: output rate in Hz (the files are 48 kHz).
        limit: keep only the first `limit` recordings of the split (sorted by path).
        download: fetch and extract the GitHub archive (about 1 GB) when no data is found.
        base_url: URL of a zip archive to download instead of AUDIOMNIST_URL.

    Returns:
        ItemSet(modality="audio", groups=speakers); meta["skipped"] counts ignored file names.
    """
    root = Path(root) if root is not None else default_root("audiomnist")
    folder = _find_data(root)
    if folder is None and download:
        archive = fetch(base_url or AUDIOMNIST_URL, root / "audiomnist-master.zip")
        extract_archive(archive, root)
        folder = _find_data(root)
    if folder is None:
        raise DataError(
            f"no AudioMNIST recordings found in {root / 'data'} or {root} (expected "
            f"<speaker>/<digit>_<speaker>_<index>.wav). Pass --download to fetch "
            f"{AUDIOMNIST_URL}, or clone it there by hand."
        )
    parsed, skipped = scan_digit_wavs(p for p in folder.glob("*/*") if p.is_file())
    mask = split_mask([p[2] for p in parsed], [p[3] for p in parsed], split, holdout,
                      test_speakers)
    return load_digit_wavs(parsed, mask, sample_rate, limit, folder, {"skipped": skipped})
