"""Things speech branch on voices from outside its training: speech_digits (AudioMNIST, other
sources; 155 speakers) and FSDD (5 speakers, 8 kHz phone-quality), read as the app reads an upload.
Scored among the 35 spoken words and among all 198 classes.

    python benchmarks/things_voices.py SHARED_DATA THINGS_DATA
"""
import collections
import csv
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"  # holds speech_digits/ and fsdd/
THINGS = sys.argv[2] if len(sys.argv) > 2 else "data"  # holds speech_commands/ (its word list)
from textanchor.pipeline import Embedder
from textanchor.demo.inputs import InputError
e = Embedder.from_checkpoint(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'checkpoints', 'things'))
mod = e.branch('speech').modality
W = ['zero','one','two','three','four','five','six','seven','eight','nine']
words35 = sorted({r['label'] for r in csv.DictReader(open(f'{THINGS}/speech_commands/labels.csv'))})
pos35 = [e.class_names.index(w) for w in words35]
def run(files, labels, name):
    items, ys, refused = [], [], 0
    for f, y in zip(files, labels):
        try:
            it, sr = mod.query_item(f)
        except (InputError, ValueError):
            refused += 1; continue
        items.append((it, sr)); ys.append(y)
    vecs = np.stack([e.embed('speech', [it], sr)[0] for it, sr in items])
    C = e.class_embeddings.numpy()
    all_ = np.argmax(vecs @ C.T, 1); among = np.asarray(pos35)[np.argmax(vecs @ C[pos35].T, 1)]
    ya = np.array([e.class_names.index(W[int(y)]) for y in ys])
    conf = collections.Counter((W[int(y)], e.class_names[p]) for y, p in zip(ys, among) if e.class_names[p] != W[int(y)])
    print(f"{name}: n={len(ys)} refused={refused}  among all 198: {np.mean(all_ == ya):.1%}  among the 35 words: {np.mean(among == ya):.1%}  top confusions {conf.most_common(4)}")
rows = list(csv.DictReader(open(f'{SHARED}/speech_digits/labels.csv')))
run([f'{SHARED}/speech_digits/' + r['file'] for r in rows], [r['label'] for r in rows], 'speech_digits (155 speakers)')
fs = sorted(glob.glob(f'{SHARED}/fsdd/recordings/*.wav'))[::4]
run(fs, [os.path.basename(f).split('_')[0] for f in fs], 'FSDD (5 speakers, 8 kHz), every 4th')
