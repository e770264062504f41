"""Audio-visual digit videos for the gallery: a gallery image of a class shown while a gallery
clip of the same class plays, written as small browser-playable MP4s (H.264 + AAC).

They give the Search tab videos to return and the map a "video" modality without any video
data on disk; each is made from held-out gallery items, so nothing the model trained on leaks in.
"""
from __future__ import annotations

import logging

import numpy as np

from ..data.base import ItemSet
from ..data.video import Video, write_video

log = logging.getLogger(__name__)

N_VIDEOS = 24  # few enough to write and embed in about a second on one CPU core
SIDE = 64  # frame side in pixels (even, as H.264 needs)
FRAMES = 8  # per video, at FPS: one second


def _frames(img: np.ndarray) -> list[np.ndarray]:
    """FRAMES RGB frames (SIDE, SIDE, 3) of one digit image drifting slowly to the right."""
    from PIL import Image

    a = np.asarray(img)
    a = a if a.dtype == np.uint8 else np.clip(a, 0, 255).astype(np.uint8)
    small = Image.fromarray(a).convert("L").resize((SIDE - 8, SIDE - 8), Image.BILINEAR)
    canvas = np.zeros((SIDE, SIDE), np.uint8)
    canvas[4:-4, 4:-4] = np.asarray(small)
    return [np.repeat(np.roll(canvas, i - FRAMES // 2, axis=1)[..., None], 3, 2) for i in range(FRAMES)]


def make_digit_videos(images: ItemSet, clips: ItemSet, folder, n: int = N_VIDEOS) -> tuple[ItemSet, list[dict]]:
    """Pair images and clips of the same class into `n` videos written under `folder/video/`.

    Args:
        images: the gallery's ItemSet(modality="image"). clips: its ItemSet(modality="audio").
        folder: the gallery folder being built. n: how many videos (classes in turn).

    Returns:
        (ItemSet(modality="video") of the decoded-equivalent `Video` items, per video its files
        relative to `folder`: {"file": mp4, "poster": png, "sound": wav}); an empty set when
        the two share no class. The poster and sound let the map's item view show a video
        with the page's image and audio players.
    """
    import soundfile as sf
    from PIL import Image

    shared = [c for c in images.class_names if c in clips.class_names]
    pools = {c: (list(np.flatnonzero(images.labels == images.class_names.index(c))),
                 list(np.flatnonzero(clips.labels == clips.class_names.index(c)))) for c in shared}
    pools = {c: p for c, p in pools.items() if p[0] and p[1]}
    items, labels, sources, files = [], [], [], []
    classes = list(pools)
    for j in range(n if classes else 0):
        c = classes[j % len(classes)]
        imgs, auds = pools[c]
        r = j // len(classes)
        i, a = imgs[r % len(imgs)], auds[r % len(auds)]
        frames, wave = _frames(images.items[i]), np.asarray(clips.items[a], np.float32)
        name = f"video/{j:05d}.mp4"
        write_video(folder / name, frames, wave, clips.sample_rate, fps=FRAMES, video_codec="libx264")
        Image.fromarray(frames[FRAMES // 2]).save(folder / name.replace(".mp4", ".png"))
        sf.write(folder / name.replace(".mp4", ".wav"), wave, clips.sample_rate, subtype="PCM_16")
        items.append(Video(frames=frames, frame_times=[k / FRAMES for k in range(FRAMES)], audio=wave,
                           sample_rate=clips.sample_rate, duration=1.0, source=name))
        labels.append(classes.index(c))
        sources.append(f"{j:05d}")
        files.append({"file": name, "poster": name.replace(".mp4", ".png"), "sound": name.replace(".mp4", ".wav")})
    return ItemSet("video", items, np.array(labels, np.int64), classes, sources,
                   sample_rate=clips.sample_rate, meta={"from": "gallery images + clips"}), files
