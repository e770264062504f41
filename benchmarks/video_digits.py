"""Audio-visual digit videos: the Kinetics protocol on clips the digits checkpoint never saw.

    OMP_NUM_THREADS=1 python benchmarks/video_digits.py --checkpoint checkpoints/digits \\
        [--data /work/shared/data] [--cache /tmp/textanchor_bench/video_digits] [--per-recording 4]

Each clip pairs one FSDD test recording (official split: indices 0-4 of every speaker) as its
sound track with an MNIST test image of the same digit as its picture, drifting a few pixels
from frame to frame; written with PyAV (MPEG-4 video + AAC sound) into the cache folder, not
the repository. FSDD's test split has 250 recordings, so each is paired with `--per-recording`
different MNIST images (4 -> 1,000 clips, every image used once).

Reported per modality (frames, sound, fused) and per fusion rule: zero-shot accuracy, mean
cosine to the class text and the logistic-regression probes (80/20, 20/80) of the original
Kinetics protocol, then retrieval. Because a recording appears in several clips, the probes
are run separately on each "round" of clips (one clip per recording) and averaged, so a probe
never tests on a sound it was trained on.
"""
from __future__ import annotations

import sys
import argparse
import json
import math
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from the repository without the package installed

import numpy as np

from textanchor.data import DIGIT_NAMES, load_dataset  # noqa: E402
from textanchor.data.video import write_video  # noqa: E402
from textanchor.metrics import linear_probe  # noqa: E402
from textanchor.pipeline import Embedder  # noqa: E402
from textanchor.video import class_prototypes, embed_videos, video_report  # noqa: E402

FPS = 8


def clip_frames(img: np.ndarray, seconds: float, rng) -> list[np.ndarray]:
    """The digit upscaled to 56x56, drifting by a small random walk: a few distinct frames."""
    big = np.kron(img, np.ones((2, 2), np.uint8))
    n = max(2, math.ceil(seconds * FPS))
    pos, frames = np.zeros(2, int), []
    for _ in range(n):
        frames.append(np.roll(big, tuple(pos), axis=(0, 1)))
        pos = np.clip(pos + rng.integers(-1, 2, 2), -4, 4)
    return frames


def generate(data: Path, out: Path, per_recording: int, seed: int = 0) -> Path:
    """Write the clips as out/<digit>/<speaker>_<index>_<k>.mp4 (skipped if already there)."""
    stamp = out / "done.json"
    want = {"per_recording": per_recording, "seed": seed, "fps": FPS}
    if stamp.is_file() and json.loads(stamp.read_text()) == want:
        return out
    rng = np.random.default_rng(seed)
    sound = load_dataset("fsdd", root=data / "fsdd", split="test")
    pics = load_dataset("mnist", root=data / "mnist", split="test")
    pools = {c: list(rng.permutation(np.flatnonzero(pics.labels == c))) for c in range(10)}
    for wave, y, src in zip(sound.items, sound.labels, sound.sources):
        stem = Path(src).stem.split("_", 1)[1]  # "7_george_3" -> "george_3"
        for k in range(per_recording):
            img = pics.items[pools[y].pop()]
            write_video(out / DIGIT_NAMES[y] / f"{stem}_{k}.mp4", clip_frames(img, len(wave) / sound.sample_rate, rng),
                        wave, sound.sample_rate, fps=FPS)
    stamp.write_text(json.dumps(want))
    return out


def probes_by_round(emb, y, rounds, seed: int = 0) -> dict[str, float]:
    """Both probes per modality, averaged over rounds in which no recording repeats."""
    out = {}
    parts = {"image": (emb.image, np.ones(len(y), bool)), "audio": (emb.audio, emb.has_audio),
             "video": (emb.fused, np.ones(len(y), bool))}
    for m, (e, ok) in parts.items():
        for frac, key in ((0.8, "probe_80_20"), (0.2, "probe_20_80")):
            accs = [linear_probe(e[(rounds == r) & ok], y[(rounds == r) & ok], frac, seed) for r in np.unique(rounds)]
            out[f"{m}/{key}"] = float(np.mean(accs))
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default="checkpoints/digits")
    p.add_argument("--data", default="/work/shared/data")
    p.add_argument("--cache", default="/tmp/textanchor_bench/video_digits")
    p.add_argument("--per-recording", type=int, default=4)
    p.add_argument("--frames", type=int, nargs="+", default=[1, 4], help="frames sampled per clip")
    p.add_argument("--out", default=None, help="write all metrics as JSON here")
    a = p.parse_args(argv)

    t0 = time.time()
    root = generate(Path(a.data), Path(a.cache), a.per_recording)
    print(f"clips ready in {root} ({time.time() - t0:.0f} s)")
    embedder = Embedder.from_checkpoint(a.checkpoint)
    results = {}
    for n_frames in a.frames:
        videos = load_dataset("video_folder", root=root, n_frames=n_frames)
        names, protos = class_prototypes(embedder, videos.class_names)
        y = np.array([names.index(videos.class_names[i]) for i in videos.labels])
        rounds = np.array([int(Path(s).stem.rsplit("_", 1)[1]) for s in videos.sources])
        for fusion in ("mean", "confidence"):
            emb = embed_videos(embedder, videos.items, fusion, class_emb=protos)
            r = video_report(emb, y, protos, probes=False)
            r.update(probes_by_round(emb, y, rounds))
            r["skipped"] = len(videos.meta["skipped"])
            results[f"frames={n_frames}/fusion={fusion}"] = r
    raw = load_dataset("mnist", root=Path(a.data) / "mnist", split="test")
    raw_acc = float(np.mean(embedder.classify(embedder.embed("image", raw.items))[0] == raw.labels))
    results["mnist_test_raw/image_zero_shot_acc"] = raw_acc

    print(f"\n{int(r['video/n'])} clips, {int(r['video/n_classes'])} classes; raw MNIST test zero-shot "
          f"(no video codec): {100 * raw_acc:.1f}%\n")
    print("| frames | fusion | modality | zero-shot | mean cos | probe 80/20 | probe 20/80 "
          "| text->item P@1 | text->item mAP |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key, r in results.items():
        if not isinstance(r, dict):
            continue
        nf, fu = key.split("/")[0].split("=")[1], key.split("/")[1].split("=")[1]
        for m in ("image", "audio", "video"):
            if m != "video" and fu != "mean":
                continue  # the parts do not depend on the fusion rule
            print(f"| {nf} | {fu if m == 'video' else '-'} | {m if m != 'video' else 'fused'} | "
                  f"{100 * r[f'{m}/zero_shot_acc']:.1f}% | {r[f'{m}/mean_cosine']:.3f} | "
                  f"{100 * r[f'{m}/probe_80_20']:.1f}% | {100 * r[f'{m}/probe_20_80']:.1f}% | "
                  f"{100 * r[f'text_to_{m}/P@1']:.0f}% | {r[f'text_to_{m}/mAP']:.3f} |")
    first = results[next(iter(results))]
    print("\nCross-modal retrieval (frames=%s, mean): image->audio P@1 %.1f%%, mAP %.3f; audio->image P@1 %.1f%%; "
          "video->text P@1 %.1f%%" % (a.frames[0], 100 * first["image_to_audio/P@1"], first["image_to_audio/mAP"],
                                      100 * first["audio_to_image/P@1"], 100 * first["video_to_text/P@1"]))
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(results, indent=1))
    print(f"\ntotal {time.time() - t0:.0f} s")
    return results


if __name__ == "__main__":
    main()
