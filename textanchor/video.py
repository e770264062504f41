"""Videos in the text space: frames through the image branch, sound through the audio branch,
fused into one vector per video.

    emb = embed_videos(embedder, videos.items)          # VideoEmbedding: fused + parts
    vecs, meta = gallery_entries(embedder, videos)       # rows for EmbeddingIndex.add
    metrics = evaluate_videos(embedder, videos)          # Kinetics protocol + retrieval

Fusion. Both branches were trained to land on the text of the item's class, so each part is
already a guess at that one point of the sphere. "mean" takes the normalised average of the
parts: the direction with the largest summed cosine to all of them (the spherical mean), and
frames of one video are averaged the same way first. "confidence" weights each part by how
sure it is (its top-1 minus top-2 cosine against the class texts), so a silent or ambiguous
track does not drag a clear picture away. A video without sound is its frames alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import DataSpec, ModalityRecipe, TrainConfig
from .data.base import ItemSet
from .data.combine import relabel
from .data.video import Video, decode_video, video_parts
from .metrics import evaluation_report, l2_normalize
from .model import BranchConfig
from .registry import Registry

FUSIONS: Registry = Registry("fusion")
PARTS = ("image", "audio")  # the branches a video is split into
PART_MODALITY = {"image": "video_frames", "audio": "video_audio"}  # index modality of part rows


@FUSIONS.register("mean")
def fuse_mean(parts: dict, present: dict, class_emb=None) -> np.ndarray:
    """Spherical mean of the parts that are present.

    Args:
        parts: {part: (N, A) unit vectors}. present: {part: (N,) bool}.
        class_emb: unused (the signature every fusion shares).

    Returns:
        (N, A) unit vectors.
    """
    total = sum(parts[p] * present[p][:, None] for p in parts)  # (N, A)
    return l2_normalize(total)


@FUSIONS.register("confidence")
def fuse_confidence(parts: dict, present: dict, class_emb=None) -> np.ndarray:
    """Parts weighted by their zero-shot margin (top-1 minus top-2 cosine to the class texts).

    Args:
        parts, present: as in `fuse_mean`. class_emb: (C, A) class texts; None falls back to
            the plain mean.

    Returns:
        (N, A) unit vectors.
    """
    if class_emb is None or len(class_emb) < 2:
        return fuse_mean(parts, present)
    cls = l2_normalize(class_emb)
    total = 0.0
    for p, v in parts.items():
        top2 = -np.sort(-(v @ cls.T), axis=1)[:, :2]  # (N, 2)
        w = np.maximum(top2[:, 0] - top2[:, 1], 1e-3) * present[p]  # (N,)
        total = total + v * w[:, None]
    return l2_normalize(total)


@dataclass
class VideoEmbedding:
    """Vectors of N videos in the anchor space (all unit length; absent parts are zero rows).

    fused:     (N, A) one vector per video (searchable "as a whole")
    image:     (N, A) the spherical mean of each video's frames
    audio:     (N, A) the sound track; zero where `has_audio` is False
    has_audio: (N,) bool
    frames:    per video, (F_i, A) one vector per kept frame
    """

    fused: np.ndarray
    image: np.ndarray
    audio: np.ndarray
    has_audio: np.ndarray
    frames: list


def embed_videos(embedder, videos: list[Video], fusion: str = "mean", class_emb=None) -> VideoEmbedding:
    """Embed decoded videos: every frame, every sound track, and their fusion.

    Args:
        embedder: a `textanchor.pipeline.Embedder` with an image branch (audio optional).
        videos: `Video` items (e.g. `load_dataset("video_folder", ...).items`).
        fusion: a FUSIONS name ("mean", "confidence").
        class_emb: (C, A) class texts for "confidence"; default the checkpoint's classes.

    Returns:
        a VideoEmbedding.
    """
    fuse = FUSIONS.get(fusion)
    n, dim = len(videos), embedder.dim
    counts = [len(v.frames) for v in videos]
    flat = embedder.embed("image", [f for v in videos for f in v.frames])  # (sum F_i, A)
    frames = np.split(flat, np.cumsum(counts)[:-1]) if n else []
    image = l2_normalize(np.stack([f.mean(0) for f in frames])) if n else np.zeros((0, dim), np.float32)
    audio = np.zeros((n, dim), np.float32)
    has = np.array([v.has_audio for v in videos], bool)
    if "audio" in embedder.modalities:
        for sr in {v.sample_rate for v in videos if v.has_audio}:  # embed() takes one rate per call
            idx = [i for i, v in enumerate(videos) if v.has_audio and v.sample_rate == sr]
            audio[idx] = embedder.embed("audio", [videos[i].audio for i in idx], sample_rate=sr)
    else:
        has[:] = False
    cls = embedder.class_embeddings.numpy() if class_emb is None else np.asarray(class_emb)
    fused = fuse({"image": image, "audio": audio}, {"image": np.ones(n, bool), "audio": has}, cls)
    return VideoEmbedding(fused=fused, image=image, audio=audio, has_audio=has, frames=frames)


def embed_video_file(embedder, path, n_frames: int = 8, fusion: str = "mean") -> tuple[VideoEmbedding, Video]:
    """One uploaded video file -> its embedding (the app's search query) and the decoded video.

    Args:
        embedder: the loaded checkpoint.
        path: the video file.
        n_frames: frames sampled evenly over the clip (1 = the first frame only).
        fusion: a FUSIONS name.

    Returns:
        (VideoEmbedding of one video, the Video: frames to show, `note` if it has no sound).

    Raises:
        DataError: the file cannot be decoded (the message is user-facing).
    """
    sr = embedder.sample_rate("audio") if "audio" in embedder.modalities else None
    video = decode_video(path, n_frames=n_frames, sample_rate=sr, audio=sr is not None)
    return embed_videos(embedder, [video], fusion), video


def gallery_entries(embedder, videos: ItemSet, parts: bool = True, fusion: str = "mean",
                    emb: VideoEmbedding | None = None) -> tuple[np.ndarray, list[dict]]:
    """Rows for `EmbeddingIndex.add`: one "video" row per video (the fused vector) and, with
    `parts`, a "video_frames" and a "video_audio" row, so a video can be found by its picture
    or its sound alone. Every row's metadata names its video in "video" (the whole video's id),
    which `best_per_video` uses to fold part hits back into videos.

    Args:
        embedder: the loaded checkpoint.
        videos: ItemSet(modality="video").
        parts: also add the part rows.
        fusion: a FUSIONS name. emb: an already computed embedding of `videos` (saves time).

    Returns:
        ((M, A) vectors, M metadata dicts with modality, label, source, id, video, part).
    """
    emb = emb if emb is not None else embed_videos(embedder, videos.items, fusion)
    vecs, meta = [], []
    for i, (v, y, src) in enumerate(zip(videos.items, videos.labels, videos.sources)):
        vid = f"video:{src}"
        base = {"label": videos.class_names[y], "source": src, "video": vid, "n_frames": len(v.frames),
                "has_audio": bool(emb.has_audio[i])}
        vecs.append(emb.fused[i])
        meta.append({**base, "modality": "video", "id": vid, "part": "whole"})
        if parts:
            rows = [("image", emb.image[i])] + ([("audio", emb.audio[i])] if emb.has_audio[i] else [])
            for p, vec in rows:
                vecs.append(vec)
                meta.append({**base, "modality": PART_MODALITY[p], "id": f"{vid}#{p}", "part": p})
    return (np.stack(vecs) if vecs else np.zeros((0, embedder.dim), np.float32)), meta


def best_per_video(hits: list) -> list:
    """Fold index hits on video parts into one hit per video (its best-scoring row); hits
    that are not part of a video pass through. Order: best first."""
    seen, out = set(), []
    for h in hits:
        key = h.meta.get("video", h.id)
        if key not in seen:
            seen.add(key)
            out.append(h)
    return out


def class_prototypes(embedder, class_names: list[str]) -> tuple[list[str], np.ndarray]:
    """The checkpoint's classes plus any new names, embedded through its text anchor and
    templates (open vocabulary): (names, (C, A) unit vectors)."""
    names = list(embedder.class_names)
    protos = embedder.class_embeddings.numpy()
    new = [c for c in class_names if c not in names]
    if new:
        protos = np.concatenate([protos, embedder.anchor.class_embeddings(new, embedder.templates).numpy()])
        names += new
    return names, protos


def video_report(emb: VideoEmbedding, labels, class_emb, probes: bool = True, seed: int = 0) -> dict[str, float]:
    """Pure metrics of embedded videos: `evaluation_report` over the modalities "image" (frames,
    one vector per video), "audio" (videos with sound only) and "video" (fused).

    Args:
        emb: a VideoEmbedding. labels: (N,) class indices into class_emb.
        class_emb: (C, A) class texts. probes, seed: as in `evaluation_report`.

    Returns:
        flat dict (keys of `textanchor.metrics.METRIC_KEYS_DOC`) plus "video/with_audio".
    """
    y = np.asarray(labels)
    embeddings = {"image": emb.image, "audio": emb.audio[emb.has_audio], "video": emb.fused}
    lab = {"image": y, "audio": y[emb.has_audio], "video": y}
    if not emb.has_audio.any():
        embeddings.pop("audio"), lab.pop("audio")
    report = evaluation_report(embeddings, lab, class_emb, probes=probes, seed=seed)
    report["video/n_classes"] = float(len(np.unique(y)))
    report["video/with_audio"] = float(emb.has_audio.mean()) if len(y) else float("nan")
    return report


def evaluate_videos(embedder, videos: ItemSet, fusion: str = "mean", probes: bool = True,
                    seed: int = 0) -> dict[str, float]:
    """The Kinetics protocol (mean cosine to the class text, logistic-regression probes 80/20
    and 20/80) per modality plus retrieval metrics, on held-out videos (see `video_report`).
    Class names the checkpoint never saw are embedded with its text anchor (open vocabulary).

    Args:
        embedder: the loaded checkpoint. videos: held-out ItemSet(modality="video").
        fusion: a FUSIONS name. probes: run the probes. seed: probe split seed.

    Returns:
        flat dict with the keys of `textanchor.metrics.METRIC_KEYS_DOC`.
    """
    names, protos = class_prototypes(embedder, videos.class_names)
    emb = embed_videos(embedder, videos.items, fusion, class_emb=protos)
    return video_report(emb, relabel(videos, names), protos, probes=probes, seed=seed)


def video_train_data(train: ItemSet, test: ItemSet) -> tuple[dict, dict]:
    """(train_sets, eval_sets) for `textanchor.train.train(cfg, data=...)` from video ItemSets:
    frames train the image branch, sound tracks the audio branch."""
    tr, te = video_parts(train), video_parts(test)
    if len(tr["audio"]) == 0:  # no sound anywhere: train the image branch alone
        return {"image": tr["image"]}, {"image": te["image"]}
    return tr, te


def video_recipe(path: str, natural: bool = True, n_frames: int = 4, epochs: int = 10,
                 templates: list[str] | None = None, sample_rate: int = 16000, audio: bool = True) -> TrainConfig:
    """A training recipe for a video folder or manifest, reproducible from the checkpoint alone
    (its data specs are the "video_frames" / "video_audio" loaders on `path`).

    Args:
        path: a video folder (`root/{class}/*.mp4`) or `path,text` CSV.
        natural: RGB 64x64 frames without digit centring (False: MNIST-like grayscale digits).
        n_frames: frames per video used as image training items.
        epochs: training epochs.
        templates: class-name templates (default "{}" and "a video of {}" for natural video).
        sample_rate: audio rate of the sound branch.
        audio: train a sound branch too (False for videos without sound).

    Returns:
        a TrainConfig; run it with `textanchor.train.train(cfg, out_dir=...)`.
    """
    pre = ({"channels": 3, "center": False, "invert_light_background": False, "size": 64} if natural
           else {"channels": 1, "center": True})
    frames = DataSpec("video_frames", {"path": str(path), "n_frames": n_frames})
    sound = DataSpec("video_audio", {"path": str(path)})
    modalities = {"image": ModalityRecipe([frames], branch=BranchConfig(encoder="image_cnn", preprocess=pre))}
    if audio:
        modalities["audio"] = ModalityRecipe([sound], branch=BranchConfig(
            encoder="audio_cnn", preprocess={"sample_rate": sample_rate, "seconds": 2.0 if natural else 1.2}))
    return TrainConfig(
        modalities=modalities,
        templates=templates or (["{}", "a video of {}"] if natural else ["{}"]),
        epochs=epochs,
    )
