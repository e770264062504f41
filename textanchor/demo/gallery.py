"""The search gallery: held-out digits and spoken digits embedded by the active checkpoint, with
an index, playable/viewable files and cached 2-D/3-D maps.

Which data: per modality, the real set when it is on disk (a data folder, $TEXTANCHOR_DATA, or
an earlier download), else the small real gallery shipped in `assets/gallery` (500 MNIST test
digits, the 250 FSDD test recordings; see `embedded.py`), else downloaded when the network
answers, else a set made offline (scikit-learn's 8x8 digits, eSpeak-synthesised speech), so the
demo always works.

Built once and cached under `cache_dir/galleries/<key>`, the key hashing the checkpoint's bytes
and the data choice: a new model or new data rebuilds, a restart reuses.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import DataError, ItemSet, load_dataset
from ..index import EmbeddingIndex
from .maps import ANCHORS_FILE, BACKGROUND_MAPS, DEFAULT_MAP, map_path, save_map

log = logging.getLogger(__name__)

BUILD_VERSION = 3  # bump when the folder layout changes: old caches are then ignored
IMAGES_PER_CLASS = 100  # MNIST gallery: a balanced 1,000 of the 10,000 test images
THINGS_PER_CLASS = 12  # a set of many classes (Quick, Draw!): enough to find, few enough for a map
THUMB_SIDE = 112
PHOTO_SIDE = 224  # longer side of a photo's gallery file


@dataclass
class SourceChoice:
    """One modality's gallery data: a registered data set and its loader options."""

    modality: str
    dataset: str
    options: dict
    title: str  # for the page: "MNIST test set"


def default_cache_dir() -> Path:
    return Path(os.environ.get("TEXTANCHOR_CACHE", Path.home() / ".cache" / "textanchor"))


def _online(host: str = "github.com", timeout: float = 3.0) -> bool:
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _try(name: str, **options) -> bool:
    try:
        load_dataset(name, **options)
        return True
    except (DataError, OSError, ValueError) as e:
        # Expected on a fresh start: the next source (the embedded gallery) is tried, and the
        # choice is logged once below. Debug level, so a newcomer does not read it as a failure.
        log.debug("gallery: %s not at %s (%s)", name, options.get("root"), e)
        return False


def choose_sources(modalities: list[str], data_dir=None, cache_dir=None, download: bool = True,
                   sample_rate: int = 8000, embedded_root=None, recipe: dict | None = None,
                   rates: dict | None = None) -> list[SourceChoice]:
    """Pick each modality's gallery data (see the module docstring).

    Args:
        modalities: the checkpoint's modalities. Image and audio get the sources above; any
            other gets the test split of a data set registered for it (`registered_source`).
        data_dir: a folder holding mnist/ and fsdd/ (None: $TEXTANCHOR_DATA, then ./data).
        cache_dir: where downloads go (cache_dir/data).
        download: allow downloading when the data is not on disk and the network answers.
        sample_rate: the audio branch's rate.
        embedded_root: the shipped gallery's folder (None: `embedded.EMBEDDED`).
        recipe: the checkpoint's recipe (config.json's "recipe"): any other modality's gallery
            is the held-out split of its recipe's data when that is on disk (`recipe_source`),
            else the sample shipped for it, else a registered data set of it.
        rates: {modality: sample rate} of the checkpoint's audio-like branches.
    """
    from .embedded import EMBEDDED, embedded_sources

    roots = [Path(p) for p in (data_dir, os.environ.get("TEXTANCHOR_DATA"), "data") if p]
    dl_root = Path(cache_dir or default_cache_dir()) / "data"
    roots.append(dl_root)
    shipped = embedded_sources(modalities, sample_rate, Path(embedded_root or EMBEDDED), rates)
    real = {  # modality -> (data set, its loader options, page title, offline fallback)
        "image": ("mnist", {"split": "test"}, "MNIST test set",
                  SourceChoice("image", "digits", {"split": "test"}, "scikit-learn 8x8 digits, held-out split (offline fallback)")),
        "audio": ("fsdd", {"split": "test", "sample_rate": sample_rate}, "FSDD spoken digits, test recordings",
                  SourceChoice("audio", "espeak", {"split": "test", "sample_rate": sample_rate},
                               "eSpeak NG synthetic spoken digits, held-out voices (offline fallback)")),
    }
    out = []
    for modality in (m for m in ("image", "audio") if m in modalities):
        name, opts, title, fallback = real[modality]
        root = next((r / name for r in roots if _try(name, root=r / name, limit=1, **opts)), None)
        if root is None and modality in shipped:
            log.info("gallery (%s): no %s folder in %s; using the embedded sample in the repository",
                     modality, name, ", ".join(str(r) for r in roots))
            out.append(shipped[modality])
            continue
        if root is None and download and _online() and _try(name, root=dl_root / name, limit=1, download=True, **opts):
            root = dl_root / name
        # No server path in the title: it is shown to every visitor.
        out.append(SourceChoice(modality, name, {"root": str(root), **opts}, f"{title} (data folder)") if root else fallback)
    for m in (m for m in modalities if m not in real):
        found = recipe_source(m, recipe or {}, roots, (rates or {}).get(m))
        out.append(found or shipped.get(m) or registered_source(m))
    return out


def recipe_source(modality: str, recipe: dict, roots: list[Path], sample_rate: int | None = None) -> SourceChoice | None:
    """The held-out split of the first data set of the recipe's `modality` (its eval_data, else
    its data) found under one of `roots` (`root/<data set name>`); None when none is on disk."""
    from ..data import DATASETS

    spec = recipe.get("modalities", {}).get(modality, {})
    for d in (spec.get("eval_data") or spec.get("data") or []):
        params = inspect.signature(DATASETS.get(d["name"])).parameters
        if "root" not in params:  # a loader that makes its data (a plugin's synthetic set): no folder to find
            continue
        name, opts = d["name"], {k: v for k, v in d.get("options", {}).items() if k not in ("split", "root", "limit")}
        if sample_rate and "sample_rate" in params:
            opts["sample_rate"] = sample_rate
        probe = {"limit": 1} if "limit" in params else {}
        for r in roots:
            if _try(name, root=r / name, split="test", **probe, **opts):
                return SourceChoice(modality, name, {"root": str(r / name), "split": "test", **opts},
                                    f"{name} held-out split (data folder)")
    return None


def registered_source(modality: str) -> SourceChoice:
    """A modality beyond image and audio (a plugin's): the held-out split of the first data set
    registered with `modality=` it, as its loader makes it by default (no data folder involved).

    Raises: ValueError when no registered data set declares the modality."""
    from ..data import DATASETS

    DATASETS.discover()
    names = sorted(n for n, meta in DATASETS.meta.items() if meta.get("modality") == modality)
    if not names:
        raise ValueError(f"no registered data set declares modality {modality!r} "
                         f"(@DATASETS.register(name, modality={modality!r})), so there is no gallery for it")
    return SourceChoice(modality, names[0], {"split": "test"}, f"the {names[0]} data set, held-out split")


def load_items(choice: SourceChoice) -> ItemSet:
    """Load one choice; MNIST and plugin sets are cut to a class-balanced subset so maps stay readable."""
    s = load_dataset(choice.dataset, **choice.options)
    if choice.dataset == "mnist" or choice.modality not in ("image", "audio"):
        per = IMAGES_PER_CLASS if choice.modality in ("image", "audio") or len(s.class_names) <= 20 else THINGS_PER_CLASS
        keep = np.concatenate([np.flatnonzero(s.labels == c)[:per] for c in np.unique(s.labels)])
        s = s.subset(np.sort(keep))
    return s


def checkpoint_digest(folder) -> str:
    """A content hash of a checkpoint folder's two files (a few MB: fast)."""
    h = hashlib.sha1()
    for name in ("config.json", "model.safetensors"):
        with open(Path(folder) / name, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def gallery_key(checkpoint, sources: list[SourceChoice]) -> str:
    spec = json.dumps([BUILD_VERSION, checkpoint_digest(checkpoint),
                       [(s.modality, s.dataset, s.options) for s in sources]], sort_keys=True)
    return hashlib.sha1(spec.encode()).hexdigest()[:16]


@dataclass
class Gallery:
    """A built gallery folder: the index, one file per item, and the text anchors."""

    folder: Path
    description: str
    index: EmbeddingIndex
    class_names: list[str]  # the checkpoint's classes: the map's landmarks
    anchor_vectors: np.ndarray  # (C, D) their text embeddings
    counts: dict = field(default_factory=dict)  # modality -> number of items
    items: list = field(default_factory=list)  # per index row: its metadata dict (id, modality, label, ...)
    background: object = None  # a `maps.precompute` process writing this gallery's other maps
    _proj: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def file(self, item_id: str) -> str:
        """Path of the item's PNG or WAV."""
        _, meta = self.index.get(item_id)
        return str(self.folder / meta["file"])

    def projection(self, method: str = "tsne", dim: int = 2) -> tuple[np.ndarray, np.ndarray]:
        """(items (N, dim), anchors (C, dim)) map coordinates, computed once and kept on disk.

        One lock for all maps: concurrent first requests wait for one computation instead of
        running the same t-SNE several times on a small CPU. A map the background process of
        `maps.precompute` is making is waited for before taking the lock, so the maps already
        loaded keep answering meanwhile.
        """
        key = (method, int(dim))
        path = map_path(self.folder, method, dim)
        if key not in self._proj and key in BACKGROUND_MAPS:
            while not path.is_file() and self.background is not None and self.background.poll() is None:
                time.sleep(0.2)
        with self._lock:
            if key not in self._proj:
                if not path.is_file():
                    save_map(path, self.index.vectors, self.anchor_vectors, method, dim)
                with np.load(path) as z:
                    self._proj[key] = (z["items"], z["anchors"])
            return self._proj[key]


def _write_files(folder: Path, s: ItemSet, start: int, modality=None) -> list[str]:
    """One file per item, as the modality's `render` shows it: a picture as PNG (a photo as
    JPEG: a tenth of the size), a sound as WAV, anything else (a plugin's plot) as the decoded
    item in .npy; returns names relative to `folder`.

    modality: the branch's `Modality` (None: `create_modality(s.modality)`)."""
    import soundfile as sf
    from PIL import Image

    from ..modalities import create_modality

    modality = modality or create_modality(s.modality)
    sub = folder / s.modality
    sub.mkdir(parents=True, exist_ok=True)
    names = []
    for i, item in enumerate(s.items):
        if modality.result_kind == "image":
            img = Image.fromarray(np.asarray(modality.render(item)[1], dtype=np.uint8))
            if img.mode == "RGB" and min(img.size) > 48:  # a photo: keep its aspect, 224 px at most
                img.thumbnail((PHOTO_SIDE, PHOTO_SIDE), Image.BILINEAR)
                name = f"{s.modality}/{start + i:05d}.jpg"
                img.save(folder / name, quality=85)
            else:
                resample = Image.NEAREST if max(img.size) < 16 else Image.BILINEAR  # keep 8x8 pixels crisp
                name = f"{s.modality}/{start + i:05d}.png"
                img.resize((THUMB_SIDE, THUMB_SIDE), resample).save(folder / name)
        elif modality.result_kind == "audio":
            name = f"{s.modality}/{start + i:05d}.wav"
            sf.write(folder / name, np.asarray(item, dtype=np.float32), s.sample_rate, subtype="PCM_16")
        else:
            name = f"{s.modality}/{start + i:05d}.npy"
            np.save(folder / name, np.asarray(item))
        names.append(name)
    return names


def _add_videos(embedder, images: ItemSet, clips: ItemSet, folder: Path, index: EmbeddingIndex, rows: list) -> int:
    """Write the gallery's digit videos and index their fused vectors (one "video" row each:
    the map then shows videos as one modality). Returns how many; 0 without PyAV."""
    try:
        from ..video import gallery_entries
        from .gallery_videos import make_digit_videos

        t0 = time.time()
        videos, files = make_digit_videos(images, clips, folder)
    except (ImportError, OSError, ValueError) as e:  # no PyAV / encoder: a gallery without videos
        log.warning("gallery: no videos (%s)", e)
        return 0
    if not len(videos):
        return 0
    vecs, meta = gallery_entries(embedder, videos, parts=False)
    for m in meta:
        m.update(files[videos.sources.index(m["source"])])
    index.add(vecs, meta)
    rows += meta
    log.info("gallery: %d videos in %.1f s", len(videos), time.time() - t0)
    return len(videos)


def build_gallery(embedder, sources: list[SourceChoice], folder: Path, progress=None) -> None:
    """Embed every source's items into an index and write the gallery folder atomically."""
    progress = progress or (lambda msg: None)
    folder = Path(folder)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    index = EmbeddingIndex(embedder.dim)
    titles, counts, rows, loaded = [], {}, [], {}
    for src in sources:
        progress(f"loading {src.title}")
        s = loaded[src.modality] = load_items(src)
        progress(f"embedding {len(s)} {src.modality} items")
        # Speed 1 alone: the gallery is what is searched, not what is classified, and a checkpoint's
        # test_speeds (3 for digits) would triple the first visitor's wait (5.3 -> 17.2 s for 250 clips).
        vecs = embedder.embed(src.modality, s.items, s.sample_rate, speeds=(1.0,))  # (N, D)
        files = _write_files(tmp, s, 0, embedder.branch(src.modality).modality)
        meta = [{"id": f"{src.modality}:{i}", "modality": src.modality, "label": s.class_names[y],
                 "source": s.sources[i], "file": files[i], **({"rate": s.sample_rate} if s.sample_rate else {})}
                for i, y in enumerate(s.labels)]
        index.add(vecs, meta)
        rows += meta
        counts[src.modality] = len(s)
        from .search import ITEM_NOUNS

        noun = ITEM_NOUNS.get(src.modality, f"{src.modality} items")
        titles.append(f"{len(s):,} {noun} from {src.title}")
    if {"image", "audio"} <= set(loaded):
        progress("making audio-visual digit videos")
        n = _add_videos(embedder, loaded["image"], loaded["audio"], tmp, index, rows)
        if n:
            counts["video"] = n
            titles.append(f"{n} videos made from them (an image shown while a clip of its class plays)")
    index.save(tmp / "index")
    progress("computing the default map")
    anchors = embedder.class_embeddings.numpy()  # (C, D)
    np.save(tmp / ANCHORS_FILE, anchors)
    save_map(map_path(tmp, *DEFAULT_MAP), index.vectors, anchors, *DEFAULT_MAP)
    (tmp / "gallery.json").write_text(json.dumps({
        "description": "; ".join(titles), "checkpoint": str(embedder.path), "built": time.strftime("%Y-%m-%d %H:%M"), "counts": counts, "items": rows,
        "sources": [s.__dict__ for s in sources]}, indent=1))
    if folder.exists():  # another process built it meanwhile: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        os.replace(tmp, folder)


def open_gallery(embedder, data_dir=None, cache_dir=None, download: bool = True, progress=None,
                 sources: list[SourceChoice] | None = None) -> Gallery:
    """The cached gallery for this checkpoint and data, built first if needed.

    Args:
        embedder: the active `Embedder` (its `path` names the checkpoint folder).
        data_dir, download: see `choose_sources`. sources: skip the choice (tests).
        cache_dir: default $TEXTANCHOR_CACHE or ~/.cache/textanchor.
    """
    cache_dir = Path(cache_dir or default_cache_dir())
    mods = list(embedder.modalities)
    if sources is None:
        sr = (embedder.sample_rate("audio") if "audio" in mods else None) or 8000
        rates = {m: embedder.sample_rate(m) for m in mods if embedder.sample_rate(m)}
        sources = choose_sources(mods, data_dir, cache_dir, download, sr, recipe=embedder.config.get("recipe"),
                                 rates=rates)
    folder = cache_dir / "galleries" / gallery_key(embedder.path, sources)
    if not (folder / "gallery.json").is_file():
        t0 = time.time()
        build_gallery(embedder, sources, folder, progress)
        log.info("gallery: built %s in %.1f s", folder, time.time() - t0)
    info = json.loads((folder / "gallery.json").read_text())
    return Gallery(folder, info["description"], EmbeddingIndex.load(folder / "index"), list(embedder.class_names),
                   embedder.class_embeddings.numpy(), info["counts"], info["items"])
