"""Digit checkpoints on a speaker none of them heard, read as the app reads an upload.

The folder holds FSDD-named recordings, `{digit}_{speaker}_{index}.wav`. FSDD's sixth speaker,
lucas, is not in ../shared/data/fsdd; `scripts/data/build_fsdd_speaker.py --speaker lucas` copies
his clips out of a git mirror of the FSDD repository. Each file goes through the audio branch's `query_item`, the app's upload path (decoding,
voice detection, level rule). Prints accuracy and the commonest confusions for every checkpoint,
the first being the baseline, with each other's error count as a ratio of the baseline's.

    python benchmarks/unseen_voice.py FOLDER CHECKPOINT [CHECKPOINT ...]
    python benchmarks/unseen_voice.py LABELS.csv [--not-in OTHER.csv] CHECKPOINT [CHECKPOINT ...]

A `path,label,speaker` CSV (the things data's `speech_commands/labels.csv`) gives the rows whose
label is a digit word; `--not-in` drops the speakers listed in another such CSV (e.g.
../shared/data/speech_digits/labels.csv, whose speakers the digits model trains or is measured on),
so what is left are voices and microphones the digits data never had.

A recording the app would refuse (no speech heard, unreadable) is counted as refused and named.
An earlier checkpoint to compare with comes out of git, e.g. the one before the voiceless onsets:
    mkdir -p /tmp/old && for f in config.json model.safetensors; do
        git show f4666e9~1:checkpoints/digits/$f > /tmp/old/$f; done
"""
from __future__ import annotations

import collections
import csv
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from textanchor.checkpoint import CheckpointError  # noqa: E402
from textanchor.data.base import DIGIT_NAMES  # noqa: E402
from textanchor.demo.inputs import InputError  # noqa: E402
from textanchor.pipeline import Embedder  # noqa: E402


def load(checkpoint: str) -> Embedder:
    """The checkpoint's Embedder; exits with one line if it is none or has no audio branch."""
    try:
        e = Embedder.from_checkpoint(checkpoint)
    except CheckpointError as exc:
        sys.exit(str(exc))
    if "audio" not in e.modalities:
        sys.exit(f"{checkpoint} has no audio branch (it embeds {', '.join(e.modalities)}); "
                 "this bench scores digit checkpoints such as checkpoints/digits")
    return e


def score(e: Embedder, files: list[str], words: list[str] | None = None) -> tuple[float, int, collections.Counter, list[str]]:
    """(accuracy over all files, errors, Counter of "said->read", refused file names) of one
    checkpoint's Embedder; a refused recording counts as an error. words: each file's digit word
    (None: from its FSDD name)."""
    modality = e.branch("audio").modality
    names = list(e.class_names)
    vecs, ys, refused = [], [], []
    for i, f in enumerate(files):
        try:
            item, sr = modality.query_item(f)
        except (InputError, ValueError) as exc:
            refused.append(f"{os.path.basename(f)} ({str(exc)[:120]})")
            continue
        vecs.append(e.embed("audio", [item], sr))
        ys.append(names.index(words[i] if words else DIGIT_NAMES[int(os.path.basename(f).split("_")[0])]))
    y = np.array(ys, int)
    pred = e.classify(np.concatenate(vecs))[0] if vecs else np.zeros(0, int)
    conf = collections.Counter(f"{names[a]}->{names[b]}" for a, b in zip(y, pred) if a != b)
    right = int((pred == y).sum())
    return right / len(files), len(files) - right, conf, refused


def labelled(csv_path: str, not_in: str | None) -> tuple[list[str], list[str], set[str]]:
    """(files, digit words, speakers) of a `path,label,speaker` CSV's digit-word rows, without the
    speakers of `not_in`."""
    with open(csv_path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["label"] in DIGIT_NAMES]
    if not_in:
        with open(not_in, newline="") as f:
            known = {r["speaker"] for r in csv.DictReader(f)}
        rows = [r for r in rows if r["speaker"] not in known]
    root = os.path.dirname(os.path.abspath(csv_path))
    return [os.path.join(root, r["path"]) for r in rows], [r["label"] for r in rows], {r["speaker"] for r in rows}


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit(__doc__)
    words, not_in = None, None
    if "--not-in" in argv:
        i = argv.index("--not-in")
        not_in, argv = argv[i + 1], argv[:i] + argv[i + 2:]
    if argv[0].endswith(".csv") and os.path.isfile(argv[0]):
        files, words, speakers = labelled(argv[0], not_in)
        if not files:
            sys.exit(f"no digit words left in {argv[0]}")
        print(f"{len(files)} recordings of {len(speakers)} speakers")
    else:
        files = sorted(f for f in glob.glob(os.path.join(argv[0], "**", "[0-9]_*.wav"), recursive=True)
                       if os.path.isfile(f))
        if not os.path.isdir(argv[0]):
            sys.exit(f"no folder {argv[0]}")
        if not files:
            sys.exit(f"no {{digit}}_{{speaker}}_{{index}}.wav recordings under {argv[0]}")
        speakers = sorted({os.path.basename(f).split("_")[1] for f in files})
        print(f"{len(files)} recordings of {', '.join(speakers)}")
    embedders = [load(ck) for ck in argv[1:]]  # every checkpoint checked before any scoring
    for k, (ck, e) in enumerate(zip(argv[1:], embedders)):
        acc, errors, conf, refused = score(e, files, words)
        if k == 0:
            base, ratio = errors, "the baseline"
        else:
            ratio = f"{errors / base:.2f}x the baseline's errors" if base else "the baseline made none"
        print(f"{ck}: {acc:.1%} ({errors} wrong; {ratio}); {conf.most_common(4)}")
        if refused:
            print(f"  refused as the app would ({len(refused)}, counted wrong): {', '.join(refused[:10])}")


if __name__ == "__main__":
    main(sys.argv[1:])
