"""Videos as data: a Kinetics-style folder tree or a `path,text` manifest, decoded with PyAV.

Each video becomes a `Video` item: a few RGB frames (the first one, as the original work used,
or N sampled evenly over the clip) plus its sound track as one mono wave. PyAV's wheel ships
FFmpeg, so no system codecs are needed. A file that cannot be decoded is reported in the
ItemSet's `meta["skipped"]` (and logged) and left out; a video without sound keeps its frames
and is listed in `meta["no_audio"]`. A run never stops on a bad file.
"""
from __future__ import annotations

import csv
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .base import DataError, ItemSet
from .datasets import DATASETS

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v", ".mpg", ".mpeg")


@dataclass
class Video:
    """One decoded video.

    frames:      RGB uint8 arrays (H, W, 3), in time order (at least one)
    frame_times: the time of each frame in seconds
    audio:       (T,) float32 mono wave in [-1, 1], or None when the file has no usable sound
    sample_rate: the rate of `audio` in Hz (None without audio)
    duration:    seconds, as the container reports it (0.0 when unknown)
    source:      the file it came from
    note:        why the sound is missing, if it is
    """

    frames: list
    frame_times: list = field(default_factory=list)
    audio: np.ndarray | None = None
    sample_rate: int | None = None
    duration: float = 0.0
    source: str = ""
    note: str = ""

    @property
    def has_audio(self) -> bool:
        return self.audio is not None and len(self.audio) > 0


def _reformat(frame, max_side: int | None) -> np.ndarray:
    """An av.VideoFrame -> (H, W, 3) uint8, shrunk so its longer side is at most `max_side`."""
    w, h = frame.width, frame.height
    if max_side and max(w, h) > max_side:
        s = max_side / max(w, h)
        w, h = max(2, round(w * s)), max(2, round(h * s))
        return frame.reformat(width=w, height=h, format="rgb24").to_ndarray()
    return frame.to_ndarray(format="rgb24")


def _targets(n_frames: int, duration: float) -> np.ndarray:
    """The starts of n equal slices of the clip, so n = 1 is the first frame (the original
    protocol) and more frames add evenly spaced views after it. Unknown duration: first only."""
    if n_frames <= 1 or duration <= 0:
        return np.zeros(1)
    return np.arange(n_frames) * duration / n_frames


def decode_video(path, n_frames: int = 1, sample_rate: int | None = 8000, audio: bool = True,
                 max_side: int | None = 256) -> Video:
    """Decode frames and sound of one video file in a single pass over its packets.

    Args:
        path: the video file.
        n_frames: 1 keeps the first frame (the original protocol); N > 1 keeps the first frame
            at or after the start of each of N equal slices of the clip.
        sample_rate: rate the sound is resampled to (None: the file's own rate).
        audio: also decode the sound track.
        max_side: frames are shrunk so their longer side is at most this (None: keep size).

    Returns:
        a Video; `audio` is None (with `note` saying why) when there is no usable sound.

    Raises:
        DataError: the file is missing, not a video, has no video stream, or no frame decodes.
    """
    try:
        import av
    except ImportError:
        raise DataError("reading videos needs PyAV: pip install av") from None

    path = Path(path)
    if not path.is_file():
        raise DataError(f"video file not found: {path}")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise DataError(f"cannot open {path} as a video ({exc})") from None
    with container:
        if not container.streams.video:
            raise DataError(f"{path} has no video stream")
        vs = container.streams.video[0]
        a_s = container.streams.audio[0] if (audio and container.streams.audio) else None
        duration = float(container.duration / 1e6) if container.duration else 0.0
        if not duration and vs.duration and vs.time_base:
            duration = float(vs.duration * vs.time_base)
        targets = _targets(n_frames, duration)
        frames, times, waves, note = [], [], [], "" if a_s is not None else "no audio stream"
        resampler = None
        if a_s is not None:
            rate = sample_rate or a_s.codec_context.sample_rate or a_s.rate
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        streams = [vs] + ([a_s] if a_s is not None else [])
        t0, n_seen = None, 0
        try:
            for packet in container.demux(*streams):
                if packet.stream.type == "video":
                    if len(frames) >= len(targets):
                        continue  # enough frames: only the sound is still needed
                    for f in packet.decode():
                        t = float(f.time) if f.time is not None else n_seen / float(vs.average_rate or 25)
                        t0 = t if t0 is None else t0  # streams may start after 0: times are relative
                        n_seen += 1
                        # Keep a frame once the next target time is reached (the first frame
                        # always counts): nearest-after selection, no seeking needed.
                        if len(frames) < len(targets) and (not frames or t - t0 >= targets[len(frames)] - 1e-6):
                            frames.append(_reformat(f, max_side))
                            times.append(t - t0)
                elif resampler is not None:
                    try:
                        for f in packet.decode():
                            waves += [g.to_ndarray()[0] for g in resampler.resample(f)]  # (1, n) -> (n,)
                    except (av.FFmpegError, ValueError) as exc:  # bad sound: keep the frames
                        resampler, note, waves = None, f"sound track undecodable ({exc})", []
        except (av.FFmpegError, ValueError, OSError) as exc:
            if not frames:
                raise DataError(f"cannot decode {path} ({exc})") from None
            note = note or f"decoding stopped early ({exc})"
        if resampler is not None:
            try:
                waves += [g.to_ndarray()[0] for g in resampler.resample(None)]
            except (av.FFmpegError, ValueError):
                pass
    if not frames:
        raise DataError(f"no frame of {path} could be decoded")
    wave = np.concatenate(waves).astype(np.float32) if waves else None
    if wave is not None and (len(wave) == 0 or not np.isfinite(wave).all()):
        wave, note = None, "empty or invalid sound track"
    if wave is None and not note:
        note = "the sound track holds no samples"
    return Video(frames=frames, frame_times=times, audio=wave,
                 sample_rate=None if wave is None else int(resampler.rate if resampler else sample_rate),
                 duration=duration, source=str(path), note="" if wave is not None else note)


def write_video(path, frames, audio=None, sample_rate: int = 8000, fps: float = 10,
                video_codec: str = "mpeg4", audio_codec: str = "aac") -> Path:
    """Write frames (and optionally a mono sound track) to a video file with PyAV.

    Used to build test clips and the audio-visual digit benchmark.

    Args:
        path: output file; its suffix picks the container (.mp4, .mkv, ...).
        frames: (H, W) or (H, W, 3) uint8 arrays, all one size with even sides.
        audio: (T,) float wave in [-1, 1] or None for a silent (no sound stream) video.
        sample_rate: rate of `audio` in Hz.
        fps: frames per second.
        video_codec, audio_codec: FFmpeg encoder names ("mpeg4", "libx264"; "aac", "pcm_s16le").

    Returns:
        the path written.
    """
    import av
    from fractions import Fraction

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = [np.repeat(f[..., None], 3, 2) if f.ndim == 2 else f for f in frames]
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        vs = out.add_stream(video_codec, rate=Fraction(fps).limit_denominator(1000))
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        a_s = None
        if audio is not None:
            a_s = out.add_stream(audio_codec, rate=int(sample_rate))
            a_s.layout = "mono"
        for f in frames:
            out.mux(vs.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f, np.uint8), format="rgb24")))
        out.mux(vs.encode())
        if a_s is not None:
            wave = np.clip(np.asarray(audio, np.float32), -1, 1)
            fmt = a_s.codec_context.format.name  # the encoder's native sample format
            data = (wave * 32767).astype(np.int16)[None] if fmt.startswith("s16") else wave[None]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format=fmt, layout="mono")
            frame.sample_rate, frame.pts = int(sample_rate), 0
            out.mux(a_s.encode(frame))
            out.mux(a_s.encode())
    return path


def _is_test(key: str, test_fraction: float, seed: int) -> bool:
    """A stable per-file split: adding files never moves the others between train and test."""
    h = hashlib.sha1(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2 ** 64 < test_fraction


def _decode_all(entries, texts, n_frames, sample_rate, max_side, require_audio, meta, audio=True) -> ItemSet:
    """Decode (path, text) pairs into a video ItemSet, reporting instead of raising."""
    items, labels_txt, sources = [], [], []
    skipped, no_audio = [], []
    for p, text in zip(entries, texts):
        try:
            v = decode_video(p, n_frames=n_frames, sample_rate=sample_rate, audio=audio, max_side=max_side)
        except DataError as exc:
            skipped.append({"source": str(p), "reason": str(exc)})
            log.warning("skipping video: %s", exc)
            continue
        if audio and not v.has_audio:
            no_audio.append({"source": str(p), "reason": v.note})
            if require_audio:
                skipped.append({"source": str(p), "reason": f"no audio: {v.note}"})
                continue
        items.append(v)
        labels_txt.append(text)
        sources.append(str(p))
    class_names = sorted(set(texts))  # every class of the data, even if all its files failed
    index = {t: i for i, t in enumerate(class_names)}
    rates = {v.sample_rate for v in items if v.has_audio}
    return ItemSet(
        modality="video", items=items, labels=np.array([index[t] for t in labels_txt], np.int64),
        class_names=class_names, sources=sources,
        sample_rate=sample_rate if sample_rate else (rates.pop() if len(rates) == 1 else None),
        meta={**meta, "skipped": skipped, "no_audio": no_audio, "n_frames": n_frames},
    )


def class_name_of(folder_name: str) -> str:
    """Kinetics folder names ("air_drumming", "air drumming") -> anchor text "air drumming"."""
    return " ".join(folder_name.replace("_", " ").split())


@DATASETS.register("video_folder")
def load_video_folder(root, split: str = "all", n_frames: int = 1, sample_rate: int | None = 8000,
                      test_fraction: float = 0.2, seed: int = 0, limit: int | None = None,
                      max_side: int | None = 256, require_audio: bool = False, audio: bool = True) -> ItemSet:
    """Load a Kinetics-style tree `root/{class name}/*.mp4`.

    If `root/train` and `root/test` (or `root/val`) exist they are used as the split; otherwise
    each file goes to test with probability `test_fraction`, by a hash of its path.

    Args:
        root: the folder.
        split: "train", "test" or "all".
        n_frames: frames kept per video (see `decode_video`).
        sample_rate: rate of the sound tracks in Hz.
        test_fraction, seed: the hashed split.
        limit: at most this many videos per class (the first by file name).
        max_side: frames are shrunk to at most this side.
        require_audio: skip videos without sound instead of keeping them frames-only.
        audio: decode the sound tracks (False: frames only, faster).

    Returns:
        ItemSet(modality="video") of `Video` items; meta["skipped"] and meta["no_audio"] list
        {"source", "reason"} for each file that failed or has no sound.

    Raises:
        DataError: the folder is missing or holds no videos.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"unknown video split {split!r}; use 'train', 'test' or 'all'")
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"video folder not found: {root} (expected root/<class name>/*.mp4)")
    pre_split = (root / "train").is_dir() and any((root / s).is_dir() for s in ("test", "val"))
    if pre_split and split != "all":
        base = [root / "train"] if split == "train" else [d for d in (root / "test", root / "val") if d.is_dir()]
    else:
        base = [root / s for s in ("train", "test", "val") if (root / s).is_dir()] if pre_split else [root]
    paths, texts = [], []
    for b in base:
        for d in sorted(p for p in b.iterdir() if p.is_dir()):
            files = sorted(f for f in d.iterdir() if f.suffix.lower() in VIDEO_EXTENSIONS)
            if not pre_split and split != "all":
                files = [f for f in files if _is_test(f"{d.name}/{f.name}", test_fraction, seed) == (split == "test")]
            files = files[:limit] if limit else files
            paths += files
            texts += [class_name_of(d.name)] * len(files)
    if not paths:
        raise DataError(f"no videos ({', '.join(VIDEO_EXTENSIONS)}) under {root}/<class name>/ for split {split!r}")
    return _decode_all(paths, texts, n_frames, sample_rate, max_side, require_audio, {"root": str(root)}, audio)


@DATASETS.register("video_manifest")
def load_video_manifest(csv_path, split: str = "all", n_frames: int = 1, sample_rate: int | None = 8000,
                        test_fraction: float = 0.2, seed: int = 0, max_side: int | None = 256,
                        require_audio: bool = False, audio: bool = True) -> ItemSet:
    """Load the videos listed in a `path,text` CSV (paths relative to the CSV's folder).

    An optional `split` column ("train"/"test") fixes each row's split; otherwise rows are
    split by a hash of their path, as in `load_video_folder`. Missing files are reported in
    meta["skipped"] like undecodable ones.

    Args:
        csv_path: the manifest.
        split, n_frames, sample_rate, test_fraction, seed, max_side, require_audio, audio:
            as in `load_video_folder`.

    Returns:
        ItemSet(modality="video"), class_names = the sorted unique texts.

    Raises:
        DataError: missing manifest, wrong header, or no rows.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise DataError(f"video manifest not found: {csv_path}")
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        fields = {h.strip() for h in (reader.fieldnames or ())}
        if not {"path", "text"} <= fields:
            raise DataError(f"{csv_path}: the first line must be the header 'path,text' "
                            f"(got {','.join(fields) or 'nothing'})")
        rows = [{k.strip(): (v or "").strip() for k, v in r.items() if k} for r in reader]
    rows = [r for r in rows if r.get("path") and r.get("text")]
    if not rows:
        raise DataError(f"{csv_path} lists no videos")
    if split != "all":
        rows = [r for r in rows if (r["split"] == split if r.get("split")
                                    else _is_test(r["path"], test_fraction, seed) == (split == "test"))]
    return _decode_all([csv_path.parent / r["path"] for r in rows], [r["text"] for r in rows],
                       n_frames, sample_rate, max_side, require_audio, {"manifest": str(csv_path)}, audio)


def load_videos(path, **options) -> ItemSet:
    """A video folder or a `.csv` manifest, whichever `path` is (options as in the loaders)."""
    loader = load_video_manifest if str(path).lower().endswith(".csv") else load_video_folder
    return loader(path, **options)


def video_parts(videos: ItemSet) -> dict[str, ItemSet]:
    """Split a video ItemSet into what the model trains on: {"image": frames, "audio": sound}.

    Every kept frame becomes an image item labelled with its video's class (more frames per
    video = more views of the class); videos without sound are left out of "audio". `groups`
    holds each part's video, so a split by group never puts two parts of one video on both sides.

    Args:
        videos: ItemSet(modality="video") of `Video` items.

    Returns:
        {"image": ItemSet, "audio": ItemSet}, both with the videos' class_names.
    """
    img, img_y, img_src = [], [], []
    for v, y in zip(videos.items, videos.labels):
        for i, f in enumerate(v.frames):
            img.append(f)
            img_y.append(y)
            img_src.append(f"{v.source}#frame{i}")
    with_audio = [i for i, v in enumerate(videos.items) if v.has_audio]
    rates = {videos.items[i].sample_rate for i in with_audio}
    if len(rates) > 1:
        raise ValueError(f"videos decoded at different sample rates {sorted(rates)}; load them with one sample_rate")
    return {
        "image": ItemSet("image", img, np.array(img_y, np.int64), list(videos.class_names), img_src,
                         groups=[s.split("#frame")[0] for s in img_src], meta={"from": "video"}),
        "audio": ItemSet("audio", [videos.items[i].audio for i in with_audio], videos.labels[with_audio],
                         list(videos.class_names), [videos.sources[i] for i in with_audio],
                         sample_rate=rates.pop() if rates else videos.sample_rate,
                         groups=[videos.sources[i] for i in with_audio], meta={"from": "video"}),
    }


@DATASETS.register("video_frames")
def load_video_frames(path, split: str = "all", n_frames: int = 1, **options) -> ItemSet:
    """The frames of a video folder or manifest as an image data set, so a recipe can train
    its image branch on videos: {"name": "video_frames", "options": {"path": "clips/"}}.

    Args:
        path: a video folder or `.csv` manifest. split, n_frames, **options: see `load_video_folder`.

    Returns:
        ItemSet(modality="image").
    """
    return video_parts(load_videos(path, split=split, n_frames=n_frames, audio=False, **options))["image"]


@DATASETS.register("video_audio")
def load_video_audio(path, split: str = "all", sample_rate: int = 8000, **options) -> ItemSet:
    """The sound tracks of a video folder or manifest as an audio data set (videos without
    sound are left out).

    Args:
        path: a video folder or `.csv` manifest. split, sample_rate, **options: see `load_video_folder`.

    Returns:
        ItemSet(modality="audio") at `sample_rate`.
    """
    return video_parts(load_videos(path, split=split, n_frames=1, sample_rate=sample_rate, **options))["audio"]
