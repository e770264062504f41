"""Open-vocabulary zero-shot on spoken words: train the audio branch on 3/4 of ~240 eSpeak
words, then classify held-out voices saying seen and never-trained words (see
`textanchor.openvocab` for the protocol). About 10 minutes on one CPU core.

    OMP_NUM_THREADS=1 python benchmarks/open_vocab.py [--epochs 6] [--out results/open_vocab.json]
"""
from __future__ import annotations

import sys

from textanchor.openvocab import main

if __name__ == "__main__":
    main(sys.argv[1:])
