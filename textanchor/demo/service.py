"""Everything the app's handlers do, as plain Python: the active model and gallery, searches,
maps, the model card and training. `app.py` only connects these methods to components.

One `DemoService` serves every user of the page. The active (embedder, gallery) pair is swapped
as a whole under a lock, so a search that started on the old model finishes on the old model.
No method raises for a user's mistake: each returns a message for the page instead.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .gallery import Gallery, default_cache_dir, open_gallery
from .inputs import InputError, clean_text, load_recording, sketch_to_image, video_path
from .search import QueryResult, run_query

log = logging.getLogger(__name__)

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "default"
MAX_K = 10


@dataclass
class SearchView:
    """The Search tab's outputs for one query."""

    status: str
    top_classes: dict = field(default_factory=dict)  # class -> probability (a Label component)
    images: list = field(default_factory=list)  # [(png, caption)]
    clips: list = field(default_factory=list)  # [(wav, caption)]
    rows: dict = field(default_factory=dict)  # JSON summary
    query: QueryResult | None = None
    videos: list = field(default_factory=list)  # [(video file, caption)]; empty without gallery videos


def warn(message: str) -> str:
    return f"⚠️ {message}"


class DemoService:
    """The app's state and logic.

    Args:
        checkpoint: folder of the model to start with (a missing or corrupt one leaves the page
            up with a clear message; the Train tab still works).
        data_dir: folder with mnist/ and fsdd/ for the gallery. cache_dir: galleries, maps and
            trained runs. download: let the gallery download MNIST/FSDD when not on disk.
        anchor: an already loaded TextAnchor to share (tests). sources: fixed gallery data
            (a list of `gallery.SourceChoice`) instead of choosing it.
    """

    def __init__(self, checkpoint=DEFAULT_CHECKPOINT, data_dir=None, cache_dir=None, download: bool = True,
                 anchor=None, sources=None):
        self.data_dir, self.download, self.anchor, self.sources = data_dir, download, anchor, sources
        self.cache_dir = Path(cache_dir or default_cache_dir())
        self.runs_dir = self.cache_dir / "runs"
        self.embedder = None
        self.gallery: Gallery | None = None
        self.error: str | None = "No model loaded yet."
        self._swap = threading.Lock()
        self.runs: dict[str, object] = {}  # session id -> its TrainingRun
        if checkpoint is not None:
            self.activate(checkpoint)

    # ------------------------------------------------------------------------ the active model
    def activate(self, folder, progress=None) -> str:
        """Load a checkpoint folder and its gallery and make them active for every user.

        Returns a message for the page; on failure the previous model stays active.
        """
        from ..checkpoint import CheckpointError
        from ..pipeline import Embedder

        folder = Path(str(folder or "").strip() or DEFAULT_CHECKPOINT).expanduser()
        t0 = time.time()
        try:
            embedder = Embedder.from_checkpoint(folder, anchor=self.anchor)
            gallery = open_gallery(embedder, self.data_dir, self.cache_dir, self.download, progress, self.sources)
        except (CheckpointError, FileNotFoundError, OSError, ValueError) as e:
            msg = f"Could not load the checkpoint {folder}: {e}"
            if self.embedder is None:
                self.error = msg + " Search and Explore need a model: train one in the Train tab or load another folder in the Model tab."
            log.warning(msg)
            return warn(msg)
        with self._swap:
            self.embedder, self.gallery, self.error = embedder, gallery, None
        threading.Thread(target=self._warm_up, args=(embedder, gallery), daemon=True).start()
        return f"✅ Active model: `{folder}` (loaded with its gallery in {time.time() - t0:.1f} s)."

    def _warm_up(self, embedder, gallery) -> None:
        """Load the text model and compute the default map in the background, so the first
        text query and the first look at Explore do not wait."""
        try:
            embedder.anchor
            gallery.projection("tsne", 2)
        except Exception:  # noqa: BLE001 - best effort; the request that needs it reports errors
            log.exception("warm-up failed")

    def active(self):
        """(embedder, gallery) as one consistent pair, or raise InputError when none is loaded."""
        with self._swap:
            if self.embedder is None:
                raise InputError(self.error or "No model loaded.")
            return self.embedder, self.gallery

    def status(self) -> str:
        """The page's banner: which model and which gallery are in use."""
        if self.embedder is None:
            return warn(self.error or "No model loaded.")
        e, g = self.embedder, self.gallery
        return (f"**Model** `{e.path}` ({' + '.join(e.modalities)} → {e.anchor_name}, {len(e.class_names)} classes) · "
                f"**Gallery**: {g.description}")

    # ------------------------------------------------------------------------ search
    def search(self, modality: str, value, k: int = 6) -> SearchView:
        """One query from the page or the API. modality: "image" (a Sketchpad value, or a picture:
        a file path, PIL image or array, read by `inputs.sketch_to_image`),
        "audio" ((rate, samples) or a file path), "text" or "video" (an uploaded file path;
        it needs the model's image branch, its sound is used when the model has an audio one)."""
        try:
            embedder, gallery = self.active()
            k = max(1, min(int(k or 6), MAX_K))
            branch = "image" if modality == "video" else modality  # a video's frames go through the image branch
            if modality != "text" and branch not in embedder.modalities:
                raise InputError(f"The active model has no {branch} branch (it embeds {', '.join(embedder.modalities)}).")
            sr = None
            if modality == "image":
                item = sketch_to_image(value)
            elif modality == "audio":
                item, sr = load_recording(value)
            elif modality == "video":
                item = video_path(value)
            else:
                item = clean_text(value)
            r = run_query(embedder, gallery, modality, item, k, sr)
            return SearchView(r.summary(), r.top_classes, r.images(gallery), r.clips(gallery), r.rows(), r,
                              r.videos(gallery))
        except InputError as e:
            return SearchView(warn(str(e)))
        except Exception as e:  # noqa: BLE001 - the page gets one line, the log the traceback
            log.exception("search failed")
            return SearchView(warn(f"The search failed: {type(e).__name__}: {e}"))

    # ------------------------------------------------------------------------ explore
    def map(self, method: str = "tsne", dim: int = 2, query: QueryResult | None = None):
        """(plotly Figure or None, message)."""
        from .explore import map_figure

        try:
            _, gallery = self.active()
            if query is not None and query.vector.shape[0] != gallery.index.dim:
                query = None  # made with another model
            return map_figure(gallery, method, int(dim), query), ""
        except InputError as e:
            return None, warn(str(e))
        except Exception as e:  # noqa: BLE001
            log.exception("map failed")
            return None, warn(f"The map could not be drawn: {type(e).__name__}: {e}")

    def pick(self, item_id: str):
        """(image path, audio path, caption) of one gallery item."""
        from .explore import item_view

        try:
            _, gallery = self.active()
            return item_view(gallery, item_id)
        except (InputError, KeyError) as e:
            return None, None, warn(str(e.args[0] if e.args else e))

    # ------------------------------------------------------------------------ model card
    def model_card(self):
        """(recipe dict, metrics DataFrame (metric, value), history DataFrame (epoch, loss,
        held-out accuracies)) of the active model."""
        import pandas as pd

        if self.embedder is None:
            return {}, pd.DataFrame(columns=["metric", "value"]), pd.DataFrame(columns=["epoch", "loss"])
        cfg = self.embedder.config
        metrics = pd.DataFrame([[k, round(float(v), 4)] for k, v in sorted(cfg.get("metrics", {}).items())
                                if isinstance(v, (int, float))], columns=["metric", "value"])
        hist = cfg.get("history", [])
        cols = ["epoch", "loss"] + sorted({k for h in hist for k in h if k.endswith("zero_shot_acc")})
        history = pd.DataFrame([[round(float(h.get(c, float("nan"))), 4) for c in cols] for h in hist], columns=cols)
        recipe = {"recipe": cfg.get("recipe", {}), "anchor": cfg.get("anchor"), "templates": cfg.get("templates"),
                  "class_names": cfg.get("class_names"), "created": cfg.get("created")}
        return recipe, metrics, history

    def checkpoints(self) -> list[str]:
        """Checkpoint folders the server knows: the shipped ones and this cache's trained runs."""
        found = [p.parent for root in (DEFAULT_CHECKPOINT.parent, self.runs_dir) if root.is_dir()
                 for p in sorted(root.glob("*/config.json"))]
        return [str(p) for p in found]

    # ------------------------------------------------------------------------ training
    def start_training(self, session: str, cfg) -> object:
        """Start a run for one page session (stopping none of the others)."""
        from .trainer import TrainingRun

        old = self.runs.get(session)
        if old is not None and old.thread.is_alive():
            raise InputError("A training run of yours is still going: stop it first.")
        out = self.runs_dir / time.strftime("run-%Y%m%d-%H%M%S")
        from ..anchor import TextAnchor

        e = self.embedder  # share the loaded text model when the recipe uses the same one
        anchor = e.anchor if e is not None and TextAnchor.canonical(cfg.anchor) == e.anchor_name else None
        run = self.runs[session] = TrainingRun(cfg, out, anchor=anchor).start()
        return run

    def stop_training(self, session: str) -> str:
        run = self.runs.get(session)
        if run is None or not run.thread.is_alive():
            return "Nothing to stop."
        run.stop()
        return "Stopping after the current step; the model trained so far is evaluated and saved."

    def zip_checkpoint(self, folder) -> str:
        """A zip of a checkpoint folder, for download. Returns its path."""
        folder = Path(folder)
        if not (folder / "config.json").is_file():
            raise InputError(f"{folder} is not a checkpoint folder.")
        out = Path(tempfile.mkdtemp(prefix="textanchor-")) / folder.name
        return shutil.make_archive(str(out), "zip", root_dir=folder.parent, base_dir=folder.name)
