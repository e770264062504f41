"""Open-vocabulary zero-shot on spoken words: train the audio branch on 3/4 of ~240 eSpeak
words, then classify held-out voices saying seen and never-trained words (see
`textanchor.openvocab` for the protocol). About 10 minutes on one CPU core.

    OMP_NUM_THREADS=1 python benchmarks/open_vocab.py [--epochs 6] [--out results/open_vocab.json]
"""
from __future__ import annotations

from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from the repository without the package installed

from textanchor.openvocab import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
