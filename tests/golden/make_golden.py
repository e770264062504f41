"""Write the golden sample that tests/test_golden.py scores the shipped checkpoint on.

    python tests/golden/make_golden.py /work/shared/data     # rewrites tests/golden/{mnist,fsdd}/

50 MNIST test digits (5 per class, drawn with a fixed seed from the 10,000-image test split) as
8-bit PNG, and 50 FSDD test recordings (one per digit and speaker, recording index 0-4 drawn
with the same seed) as 16-bit FLAC. Both are lossless, so the checkpoint sees exactly the
samples its own evaluation saw. mnist.csv and fsdd.csv list path, text (the label) and origin, so
each is also a `manifest` data set (the gallery of the golden DemoService tests). Only held-out items
are taken: the checkpoint never trained on them.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PER_CLASS_IMAGES = 5
SEED = 0


def main(data_root: str) -> None:
    import soundfile as sf
    from PIL import Image

    from textanchor.data.base import DIGIT_NAMES
    from textanchor.data.fsdd import OFFICIAL_TEST_INDICES
    from textanchor.data.mnist import load_mnist

    root = Path(data_root)
    rng = np.random.default_rng(SEED)
    rows = {"mnist": [], "fsdd": []}
    (HERE / "mnist").mkdir(exist_ok=True)
    test = load_mnist(root / "mnist", split="test")
    for c in range(10):
        for i in sorted(rng.choice(np.flatnonzero(test.labels == c), PER_CLASS_IMAGES, replace=False)):
            name = f"mnist/{DIGIT_NAMES[c]}_{i:05d}.png"
            Image.fromarray(test.items[i]).save(HERE / name, optimize=True)
            rows["mnist"].append((name, DIGIT_NAMES[c], f"MNIST t10k index {i}"))
    (HERE / "fsdd").mkdir(exist_ok=True)
    rec = root / "fsdd" / "recordings"
    speakers = sorted({p.name.split("_")[1] for p in rec.glob("*_*_*.wav")})
    for c in range(10):
        for s in speakers:
            src = rec / f"{c}_{s}_{int(rng.integers(OFFICIAL_TEST_INDICES))}.wav"
            wave, sr = sf.read(src, dtype="int16")
            name = f"fsdd/{src.stem}.flac"
            sf.write(HERE / name, wave, sr, format="FLAC", subtype="PCM_16")
            rows["fsdd"].append((name, DIGIT_NAMES[c], f"FSDD recordings/{src.name}"))
    for set_name, set_rows in rows.items():
        with open(HERE / f"{set_name}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["path", "text", "origin"])
            w.writerows(set_rows)
        print(f"wrote {len(set_rows)} items to {HERE / set_name}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(HERE.parents[2] / "shared" / "data"))
