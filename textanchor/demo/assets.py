"""The example inputs shown under the Search tab, made by the project itself (no downloads):
digit drawings rendered from pen strokes (the same strokes the browser test draws with the
mouse) and spoken digits from eSpeak NG.

    python -m textanchor.demo.assets assets/
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

SKETCH_DIGITS = (2, 3, 7, 0)
SPOKEN_WORDS = ("five", "seven", "nine", "one")


def _ellipse(rx, ry, n=40):
    return [[(rx * math.sin(2 * math.pi * i / n), -ry * math.cos(2 * math.pi * i / n)) for i in range(n + 1)]]


# Pen strokes per digit in a unit box (x right, y down, centre 0), drawn the way people write them.
STROKES = {
    0: _ellipse(0.24, 0.38, n=16),
    1: [[(-0.08, -0.3), (0.03, -0.4), (0.03, 0.4)]],
    2: [[(-0.24, -0.22), (-0.12, -0.36), (0.06, -0.4), (0.22, -0.3), (0.24, -0.12), (0.1, 0.08), (-0.25, 0.38),
         (0.28, 0.38)]],
    3: [[(-0.22, -0.32), (0, -0.4), (0.2, -0.32), (0.2, -0.14), (0.02, -0.02), (-0.08, -0.02)],
        [(0.0, -0.02), (0.22, 0.1), (0.22, 0.28), (0.02, 0.4), (-0.24, 0.32)]],
    4: [[(0.1, -0.4), (-0.28, 0.12), (0.28, 0.12)], [(0.12, -0.15), (0.12, 0.42)]],
    5: [[(0.25, -0.38), (-0.18, -0.38), (-0.22, -0.04), (0.05, -0.1), (0.24, 0.05), (0.24, 0.25), (0.05, 0.4),
         (-0.24, 0.34)]],
    6: [[(0.2, -0.38), (-0.05, -0.3), (-0.2, -0.05), (-0.22, 0.2), (-0.1, 0.38), (0.1, 0.38), (0.22, 0.22),
         (0.15, 0.05), (-0.05, 0.02), (-0.2, 0.15)]],
    7: [[(-0.25, -0.36), (0.25, -0.36), (-0.05, 0.4)]],
    8: [[(0.2 * math.sin(2 * math.pi * i / 24) * math.cos(2 * math.pi * i / 24) * 2,
          -0.38 * math.cos(2 * math.pi * i / 24)) for i in range(25)]],
    9: [[(0.2, -0.22), (0.05, -0.38), (-0.15, -0.35), (-0.22, -0.18), (-0.1, -0.04), (0.1, -0.08), (0.2, -0.22),
         (0.2, 0.0), (0.12, 0.4)]],
}

# Things drawn the way Quick, Draw!'s players draw them, for the things model (the browser test
# and `scripts/screenshots.py` draw them with the mouse).
THING_STROKES = {
    "house": [[(-0.32, -0.02), (-0.32, 0.4), (0.32, 0.4), (0.32, -0.02), (-0.32, -0.02)],  # walls
              [(-0.4, 0.0), (0.0, -0.38), (0.4, 0.0)],  # roof
              [(-0.07, 0.4), (-0.07, 0.16), (0.07, 0.16), (0.07, 0.4)]],  # door
    "star": [[(0.0, -0.4), (0.12, -0.1), (0.4, -0.1), (0.17, 0.08), (0.26, 0.38), (0.0, 0.18), (-0.26, 0.38),
              (-0.17, 0.08), (-0.4, -0.1), (-0.12, -0.1), (0.0, -0.4)]],
    "fish": [[(-0.3, 0.0), (-0.1, -0.17), (0.12, -0.17), (0.3, 0.0), (0.12, 0.17), (-0.1, 0.17), (-0.3, 0.0)],  # body
             [(0.3, 0.0), (0.42, -0.14), (0.42, 0.14), (0.3, 0.0)],  # tail
             [(-0.18, -0.04), (-0.16, -0.04)]],  # eye
}


def make_examples(out_dir) -> list[Path]:
    """Write sketch_<word>.png (dark ink on white, 280 px) and speech_<word>.wav (8 kHz)."""
    import soundfile as sf
    from PIL import Image, ImageDraw

    from ..data import DIGIT_NAMES
    from ..data.audio_io import resample
    from ..data.espeak import synthesize, trim_silence

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for d in SKETCH_DIGITS:
        img = Image.new("L", (280, 280), 255)
        pen = ImageDraw.Draw(img)
        for stroke in STROKES[d]:
            pts = [(140 + x * 250, 140 + y * 250) for x, y in stroke]
            pen.line(pts, fill=0, width=18, joint="curve")
            for x, y in pts[:1] + pts[-1:]:  # round pen ends
                pen.ellipse((x - 9, y - 9, x + 9, y + 9), fill=0)
        path = out / f"sketch_{DIGIT_NAMES[d]}.png"
        img.save(path, optimize=True)
        written.append(path)
    for word in SPOKEN_WORDS:
        wave, sr = synthesize(word, "en-us", 160, 50)
        path = out / f"speech_{word}.wav"
        sf.write(path, resample(trim_silence(wave, sr), sr, 8000), 8000, subtype="PCM_16")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in make_examples(sys.argv[1] if len(sys.argv) > 1 else "assets"):
        print(p, p.stat().st_size)
