"""Speech Commands (Warden 2018, Google; CC BY 4.0): one-second words said by thousands of
speakers into their own microphones, here the words that name things (bed, bird, cat, dog,
house, tree ...).

The folder holds `words/<word>/<speaker>_nohash_<n>.wav` and a `labels.csv` with the columns
path, label (the word), speaker (the hash before `_nohash_`) and the source repository, commit
and licence. The split is by speaker, never by clip: a speaker is held out when a stable hash of
their id falls in `test_share` (`tables.in_test_share`), so no voice is on both sides and adding
clips never moves a speaker across.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .audio_io import read_many
from .base import ItemSet
from .datasets import DATASETS, default_root
from .tables import check_files, check_split, first_per_class, in_test_share, read_table

HOW = "get Speech Commands clips of the words (words/<word>/<speaker>_nohash_<n>.wav) and a labels.csv (see docs/things.md)"


@DATASETS.register("speech_commands", modality="speech")
def load_speech_commands(root=None, split: str = "train", words=None, test_share: float = 0.3,
                         sample_rate: int = 16000, per_word: int | None = None) -> ItemSet:
    """Load the clips of one speaker-disjoint split.

    Args:
        root: the folder with labels.csv; default $TEXTANCHOR_DATA/speech_commands.
        split: "train", "test" (the held-out speakers) or "all".
        words: keep only these words (None: all in labels.csv).
        test_share: share of speakers held out (by a stable hash of the speaker id).
        sample_rate: output rate in Hz (the clips are 16 kHz).
        per_word: at most this many clips per word (the first by path), for quick runs.
    Returns: ItemSet(modality="speech"), groups = the speaker; sources are file paths.
    Raises: DataError: no labels.csv, a missing column or file.
    """
    check_split(split)
    root = Path(root) if root is not None else default_root("speech_commands")
    rows = read_table(root, "labels.csv", ("path", "label", "speaker"), HOW)
    wanted = set(words) if words is not None else None
    keep = sorted((r for r in rows if (wanted is None or r["label"] in wanted)
                   and (split == "all" or in_test_share(r["speaker"], test_share) == (split == "test"))),
                  key=lambda r: r["path"])
    if per_word is not None:
        keep = first_per_class(keep, per_word)
    check_files(root, keep)
    names = sorted({r["label"] for r in keep})
    pos = {n: i for i, n in enumerate(names)}
    return ItemSet("speech", read_many([root / r["path"] for r in keep], sample_rate),
                   np.array([pos[r["label"]] for r in keep], np.int64), names,
                   [str(root / r["path"]) for r in keep], sample_rate, groups=[r["speaker"] for r in keep])
