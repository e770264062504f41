"""Digit checkpoints on a speaker none of them heard, read as the app reads an upload.

The folder holds FSDD-named recordings, `{digit}_{speaker}_{index}.wav`. FSDD's sixth speaker,
lucas, is not in ../shared/data/fsdd; `scripts/data/build_fsdd_speaker.py --speaker lucas` copies
his clips out of a git mirror of the FSDD repository. Each file goes through the audio branch's `query_item`, the app's upload path (decoding,
voice detection, level rule). Prints accuracy and the commonest confusions for every checkpoint,
the first being the baseline, with each other's error count as a ratio of the baseline's.

    python benchmarks/unseen_voice.py FOLDER CHECKPOINT [CHECKPOINT ...]
"""
from __future__ import annotations

import collections
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from textanchor.data.base import DIGIT_NAMES  # noqa: E402
from textanchor.pipeline import Embedder  # noqa: E402


def score(checkpoint: str, files: list[str]) -> tuple[float, int, collections.Counter]:
    """(accuracy, errors, Counter of "said->read") of one checkpoint on the files."""
    e = Embedder.from_checkpoint(checkpoint)
    modality = e.branch("audio").modality
    items = [modality.query_item(f) for f in files]
    vecs = np.concatenate([e.embed("audio", [it], sr) for it, sr in items])
    names = list(e.class_names)
    y = np.array([names.index(DIGIT_NAMES[int(os.path.basename(f).split("_")[0])]) for f in files])
    pred = e.classify(vecs)[0]
    conf = collections.Counter(f"{names[a]}->{names[b]}" for a, b in zip(y, pred) if a != b)
    return float((pred == y).mean()), int((pred != y).sum()), conf


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit(__doc__)
    files = sorted(glob.glob(os.path.join(argv[0], "**", "[0-9]_*.wav"), recursive=True))
    if not files:
        sys.exit(f"no {{digit}}_{{speaker}}_{{index}}.wav recordings under {argv[0]}")
    speakers = sorted({os.path.basename(f).split("_")[1] for f in files})
    print(f"{len(files)} recordings of {', '.join(speakers)}")
    base = None
    for ck in argv[1:]:
        acc, errors, conf = score(ck, files)
        base = errors if base is None else base
        ratio = f"{errors / base:.2f}x the baseline's errors" if base else "baseline has no errors"
        print(f"{ck}: {acc:.1%} ({errors} wrong; {ratio}); {conf.most_common(4)}")


if __name__ == "__main__":
    main(sys.argv[1:])
