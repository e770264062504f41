"""The "pictures" section of `textanchor bench`: a checkpoint's image branch on real and
photo-like pictures, the sketch edge cases, and what the picture path costs.

Rows (flat keys, all measured in the run):
  pictures/handwritten/<folder>/{correct,n}   the real pictures in data_root/handwritten
  pictures/mnist_test/acc                     MNIST test, zero-shot
  pictures/synthetic/{font,strokes,all}/acc   simulated phone photos of font and drawn digits
  pictures/sketch/<case>                      1 when right (a label, or a message for no digit)
  pictures/cost/...                           CPU cost of preparing MNIST and photos and of
                                              augmenting a batch, against a plain resize and a
                                              training step
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

SKETCH_CASES = ("opaque_layer", "fat_white_on_black", "dot", "blank")


def sketch_cases() -> dict:
    """name -> (Sketchpad value or picture, expected digit or None for "no digit" message).

    The three cases of issue 9 plus a blank page: a grey picture of a 7 sent as an opaque
    layer (RGBA with alpha 255 everywhere), a fat white 0 on black (over half the pixels are
    ink) and a 5x5 px dot on a 400 px canvas."""
    import cv2

    grey = np.full((300, 300), 225, np.uint8)
    cv2.polylines(grey, [np.array([[70, 60], [230, 60], [130, 250]], np.int32)], False, 40, 14)
    opaque = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    fat = np.zeros((200, 200), np.uint8)
    cv2.ellipse(fat, (100, 100), (75, 92), 0, 0, 360, 255, 62)
    dot = np.zeros((400, 400, 4), np.uint8)
    dot[200:205, 200:205] = (0, 0, 0, 255)
    blank = np.full((400, 400, 4), 255, np.uint8)
    return {"opaque_layer": ({"background": None, "layers": [opaque], "composite": opaque}, 7),
            "fat_white_on_black": (fat, 0),
            "dot": ({"background": blank, "layers": [dot], "composite": blank}, None),
            "blank": (blank[..., :3].copy(), None)}


def _accuracy(emb, items, labels) -> tuple[int, int]:
    if not len(items):
        return 0, 0
    pred, _ = emb.classify(emb.embed("image", items))
    return int((pred == np.asarray(labels)).sum()), len(items)


def section_pictures(data_root: str | None, checkpoint: Path, log=print, quick: bool = False) -> dict:
    """All picture measures of one checkpoint (see the module docstring for the keys)."""
    from .data import load_dataset
    from .data.base import DataError
    from .demo.inputs import InputError, sketch_to_image
    from .pipeline import Embedder

    emb = Embedder.from_checkpoint(checkpoint)
    rows: dict = {"pictures/checkpoint": str(checkpoint)}
    root = Path(data_root) if data_root else None
    hw = root / "handwritten" if root else None
    if hw is not None and (hw / "labels.csv").is_file():
        s = load_dataset("handwritten", root=hw)
        for g in sorted(set(s.groups)):
            idx = [i for i, x in enumerate(s.groups) if x == g]
            c, n = _accuracy(emb, [s.items[i] for i in idx], s.labels[idx])
            rows[f"pictures/handwritten/{g}/correct"], rows[f"pictures/handwritten/{g}/n"] = c, n
            log(f"pictures: {g}: {c}/{n}")
    else:
        log("pictures: no handwritten/labels.csv under the data folder; real pictures not measured")
    try:
        m = load_dataset("digits", split="test") if quick else load_dataset("mnist", root=root / "mnist", split="test")
        c, n = _accuracy(emb, m.items, m.labels)
        rows["pictures/mnist_test/acc" if not quick else "pictures/digits_test/acc"] = c / n
        log(f"pictures: {'digits' if quick else 'MNIST'} test {c / n:.4f}")
    except (DataError, TypeError) as e:
        log(f"pictures: MNIST test not measured ({e})")
    syn = load_dataset("synthetic_photos", n_per_digit=4 if quick else 100)
    for grp in ("font", "strokes", None):
        idx = [i for i, g in enumerate(syn.groups) if grp is None or g == grp]
        c, n = _accuracy(emb, [syn.items[i] for i in idx], syn.labels[idx])
        rows[f"pictures/synthetic/{grp or 'all'}/acc"] = c / n
        rows[f"pictures/synthetic/{grp or 'all'}/n"] = n
    log(f"pictures: synthetic photos {rows['pictures/synthetic/all/acc']:.4f}")
    for name, (value, want) in sketch_cases().items():
        try:
            pred, _ = emb.classify(emb.embed("image", [sketch_to_image(value)]))
            rows[f"pictures/sketch/{name}"] = float(want is not None and int(pred[0]) == want)
        except InputError:
            rows[f"pictures/sketch/{name}"] = float(want is None)
    rows.update(_costs(emb, m.items if "m" in locals() else syn.items, log, n_photos=50 if quick else 200))
    return rows


def _costs(emb, items, log, n: int = 2000, n_photos: int = 200) -> dict:
    """CPU seconds per item of the picture path on `n` MNIST-sized items and on `n_photos` 96 px
    photos, each against a plain resize of the same items, and one augmented batch against a
    training step. CPU time, not wall time: the figures must not depend on what else shares the
    machine."""
    import cv2

    from .data.photos import photos_of

    mod = emb.branch("image").modality
    items = list(items[:n])
    photos = photos_of(items[:n_photos], np.random.default_rng(0), 96)
    rows = {}
    for name, xs in (("mnist", items), ("photo96", photos)):
        t0 = time.process_time()
        mod.prepare(xs)
        prep = (time.process_time() - t0) / len(xs)
        t0 = time.process_time()
        [cv2.resize(np.asarray(x, np.float32), (28, 28), interpolation=cv2.INTER_AREA) for x in xs]
        base = (time.process_time() - t0) / len(xs)
        rows[f"pictures/cost/prepare_{name}_ms"] = prep * 1e3
        rows[f"pictures/cost/prepare_{name}_vs_resize"] = prep / max(base, 1e-9)
    rows["pictures/cost/prepare_60k_mnist_s"] = rows["pictures/cost/prepare_mnist_ms"] * 60
    t0 = time.process_time()
    photos_of(items[:n_photos], np.random.default_rng(1), 96)
    rows["pictures/cost/render_photo96_ms"] = (time.process_time() - t0) / n_photos * 1e3
    x = mod.prepare(items[:128])
    br = emb.branch("image").train()
    t0 = time.process_time()
    for _ in range(5):
        mod.augment(x)
    aug = (time.process_time() - t0) / 5
    t0 = time.process_time()
    for _ in range(5):
        br(x).square().mean().backward()
    step = (time.process_time() - t0) / 5
    br.eval()
    rows["pictures/cost/augment_batch128_ms"] = aug * 1e3
    rows["pictures/cost/augment_vs_train_step"] = aug / step
    log(f"pictures: prepare {rows['pictures/cost/prepare_mnist_ms']:.2f} ms per MNIST item, "
        f"augment {aug * 1e3:.1f} ms per batch ({aug / step:.2f}x a training step)")
    return rows


def pictures_report(r: dict) -> list[str]:
    """Markdown lines of the section for results.md (empty when it did not run)."""
    groups = sorted({k.split("/")[2] for k in r if k.startswith("pictures/handwritten/")})
    if not any(k.startswith("pictures/") for k in r):
        return []
    lines = ["## Real pictures (image branch of " + str(r.get("pictures/checkpoint")) + ")", "",
             "| set | correct |", "|---|---|"]
    lines += [f"| handwritten/{g} | {r[f'pictures/handwritten/{g}/correct']} / {r[f'pictures/handwritten/{g}/n']} |" for g in groups]
    for k, name in (("pictures/mnist_test/acc", "MNIST test"), ("pictures/digits_test/acc", "scikit-learn digits test")):
        if k in r:
            lines.append(f"| {name} | {100 * r[k]:.2f}% |")
    for g in ("font", "strokes", "all"):
        if f"pictures/synthetic/{g}/acc" in r:
            lines.append(f"| simulated photos, {g} ({int(r[f'pictures/synthetic/{g}/n'])}) | {100 * r[f'pictures/synthetic/{g}/acc']:.1f}% |")
    lines += [f"| sketch case: {c} | {'right' if r.get(f'pictures/sketch/{c}') else 'WRONG'} |" for c in SKETCH_CASES
              if f"pictures/sketch/{c}" in r]
    cost = sorted(k for k in r if k.startswith("pictures/cost/"))
    if cost:
        lines += ["", "| picture path cost | value |", "|---|---|"] + [f"| {k[14:]} | {r[k]:.2f} |" for k in cost]
    return lines + [""]
