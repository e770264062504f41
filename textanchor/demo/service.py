"""Everything the app's handlers do, as plain Python: the active model and gallery, searches,
maps, the model card and training. `app.py` only connects these methods to components.

One `DemoService` serves every visitor, each in their own lane: the shipped model is the default
for everyone, and a visitor who loads or trains a model changes only their own browser session's
model (methods take a `session` id; None is the default lane). Loaded (embedder, gallery) pairs
are shared between sessions that chose the same folder, and swapped as a whole under a lock, so
a search that started on one model finishes on it. Server paths a visitor names go through a
`PathPolicy`; training runs through `Limits`.

A trained run belongs to the session that started it: `runs_dir` (cache/runs) is private, each
run folder loadable, downloadable and listed only for its session (runs left from before a
restart belong to nobody; the operator shares one by passing it as --checkpoint or copying it
into checkpoints/). Shared by everyone: the shipped checkpoints/ folder, the operator's
--checkpoint and anything else the policy allows outside cache/runs. No method raises for a visitor's mistake: each
returns a message for the page instead.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

from .gallery import Gallery, default_cache_dir, open_gallery
from .inputs import InputError, clean_text, load_recording, sketch_to_image, text_example, video_path
from .maps import precompute, three_d_method
from .policy import CHECKPOINTS, DEFAULT_CHECKPOINT, Limits, PathPolicy
from .search import QUERY_NOUNS, QueryResult, query_noun, run_query

log = logging.getLogger(__name__)

MAX_K = 10
# The page's query inputs and the modalities that can answer each, in order of preference: a
# things model draws into its sketch branch, a digits model into its image branch.
INPUTS = {"sketch": ("sketch", "image"), "photo": ("photo", "image"), "speech": ("speech", "audio"),
          "sound": ("sound",)}
MAX_SESSIONS = 256  # visitors with their own model; the least recently used fall back to the default
MAX_LOADED = 8  # distinct models kept in memory (a few MB each plus their gallery index)


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
    rendered: list = field(default_factory=list)  # [(kind, value, caption)]: other modalities' results


def warn(message: str) -> str:
    return f"⚠️ {message}"


def chance_warning(metrics: dict, n_classes: int, factor: float = 2.0) -> str:
    """A warning when every held-out zero-shot accuracy a checkpoint recorded is under `factor`
    times chance (1 / n_classes), e.g. a one-epoch run on a small set; "" otherwise or when it
    recorded none. metrics: the checkpoint's flat metric dict ("image/zero_shot_acc": 0.10, ...)."""
    accs = {k.split("/")[0]: float(v) for k, v in metrics.items()
            if k.count("/") == 1 and k.endswith("/zero_shot_acc") and v == v}  # v == v: not NaN
    chance = 1.0 / max(1, n_classes)
    if not accs or n_classes < 2 or max(accs.values()) >= factor * chance:
        return ""
    got = ", ".join(f"{v:.0%} ({m})" for m, v in sorted(accs.items()))
    return (f"⚠️ Its held-out zero-shot accuracy is {got}, close to chance ({chance:.0%} with {n_classes} "
            "classes): its answers will be mostly guesses. Train for more epochs or on more data.")


def model_name(embedder) -> str:
    """What the page calls a model: its folder's name ("things", "digits", "run-20261205-...")."""
    return Path(str(embedder.path)).name if embedder.path else "unnamed model"


def recipe_summary(embedder) -> str:
    """"sketch + photo + sound + speech → all-MiniLM-L6-v2, 157 classes, recipe things"."""
    recipe = (embedder.config.get("recipe") or {}).get("preset")
    return (f"{' + '.join(embedder.modalities)} → {embedder.anchor_name}, {len(embedder.class_names)} classes"
            + (f", recipe {recipe}" if recipe else ""))


class DemoService:
    """The app's state and logic.

    Args:
        checkpoint: folder of the default model (a missing or corrupt one leaves the page up
            with a clear message; the Train tab still works).
        data_dir: folder with mnist/ and fsdd/ for the gallery. cache_dir: galleries, maps and
            trained runs. download: let the gallery download MNIST/FSDD when not on disk.
        anchor: an already loaded TextAnchor to share (tests). sources: fixed gallery data
            (a list of `gallery.SourceChoice`) instead of choosing it.
        policy: server paths visitors may name (default: the data, cache, checkpoint and upload
            folders). limits: training and upload limits (default `Limits()`).
        background_maps: make the default gallery's other maps in a niced process (`maps.precompute`).
        allow_any_path: the operator's `--allow-any-path` (the default policy then accepts any path).
        warm_up: load each activated model's text model and default map in a background thread
            (False: the caller starts `warm_up()` when the CPU is free, e.g. once the page is served).
    """

    def __init__(self, checkpoint=DEFAULT_CHECKPOINT, data_dir=None, cache_dir=None, download: bool = True,
                 anchor=None, sources=None, policy: PathPolicy | None = None, limits: Limits | None = None,
                 background_maps: bool = True, allow_any_path: bool = False, warm_up: bool = True):
        self.data_dir, self.download, self.anchor, self.sources = data_dir, download, anchor, sources
        self.background_maps, self.auto_warm_up = background_maps, warm_up
        self.cache_dir = Path(cache_dir or default_cache_dir())
        self.runs_dir = self.cache_dir / "runs"
        self.policy = policy or PathPolicy([data_dir, self.cache_dir, CHECKPOINTS, checkpoint,
                                            PathPolicy.upload_dir()],  # checkpoint: the operator's choice
                                           allow_any=allow_any_path)
        self.limits = limits or Limits()
        self.error: str | None = "No model loaded yet."
        self._default: tuple | None = None  # (embedder, gallery) for every visitor without their own
        self._sessions: OrderedDict[str, tuple] = OrderedDict()  # session id -> its (embedder, gallery)
        self._loaded: OrderedDict[str, tuple] = OrderedDict()  # resolved folder -> (embedder, gallery)
        self._swap = threading.Lock()
        self._building = threading.Lock()  # serialises loading models (`_load`)
        self.runs: dict[str, object] = {}  # session id -> its latest TrainingRun
        self.run_counts: dict[str, int] = {}  # session id -> runs started
        self.run_owner: dict[str, str] = {}  # run folder name under runs_dir -> the session that started it
        self.shared = {Path(checkpoint).expanduser().resolve()} if checkpoint is not None else set()
        if checkpoint is not None:
            self.activate(checkpoint)

    # ------------------------------------------------------------------------ the active model
    @property
    def embedder(self):
        """The default lane's embedder (None when no model loaded)."""
        return self._default[0] if self._default else None

    @property
    def gallery(self) -> Gallery | None:
        return self._default[1] if self._default else None

    def _load(self, folder: Path, progress=None) -> tuple:
        """(embedder, gallery) of a folder, shared with any session that loaded it before."""
        from ..pipeline import Embedder

        key = str(folder.resolve())
        # One load at a time: the warm-up preloading a shipped model and a visitor picking it
        # must not build its gallery twice.
        with self._building:
            with self._swap:
                if key in self._loaded:
                    self._loaded.move_to_end(key)
                    return self._loaded[key]
            embedder = Embedder.from_checkpoint(folder, anchor=self.anchor)
            gallery = open_gallery(embedder, self.data_dir, self.cache_dir, self.download, progress, self.sources)
            with self._swap:
                self._loaded[key] = (embedder, gallery)
                while len(self._loaded) > MAX_LOADED:
                    self._loaded.popitem(last=False)  # sessions using it keep their own reference
        return embedder, gallery

    def activate(self, folder, session: str | None = None, progress=None) -> str:
        """Load a checkpoint folder and its gallery and make them the model of one session
        (None: the default for every visitor without their own; the operator's choice, so no
        path check).

        Returns a message for the page; on failure the session's previous model stays active.
        """
        from ..checkpoint import CheckpointError

        asked = str(folder or "").strip()
        folder = self.find_model(asked or str(DEFAULT_CHECKPOINT), session)
        t0 = time.time()
        try:
            if session is not None:
                if not folder.exists() and "/" not in asked:
                    raise InputError(f"No model named {asked!r}; the models you can load are "
                                     f"{', '.join(self.models(session))} (or a checkpoint folder under this app's folders).")
                self.check_folder(folder, session)
            embedder, gallery = self._load(folder, progress)
        except InputError as e:
            return warn(str(e))
        except (CheckpointError, FileNotFoundError, OSError, ValueError) as e:
            log.warning("could not load %s: %s", folder, e)
            # The page names what the visitor typed (a shipped model by its name), never the
            # server's own paths: the reason is cut to its first clause for the same cause.
            reason = str(e).replace(str(folder), folder.name).replace(str(folder.resolve()), folder.name)
            msg = f"Could not load the model {asked or folder.name!r}: {reason}"
            if session is None and self._default is None:
                self.error = msg + " Search and Explore need a model: train one in the Train tab or load another folder in the Model tab."
            return warn(msg)
        with self._swap:
            if session is None:
                self._default, self.error = (embedder, gallery), None
                if gallery.background is None and self.background_maps:
                    gallery.background = precompute(gallery.folder)
            else:
                self._sessions[session] = (embedder, gallery)
                self._sessions.move_to_end(session)
                while len(self._sessions) > MAX_SESSIONS:
                    self._sessions.popitem(last=False)
        if self.auto_warm_up:
            self.warm_up(session)
        whose = "for every visitor" if session is None else "for you (other visitors keep theirs)"
        note = chance_warning(embedder.config.get("metrics") or {}, len(embedder.class_names))
        return (f"✅ Active model {whose}: **{model_name(embedder)}** (loaded with its gallery in {time.time() - t0:.1f} s)."
                + (f" {note}" if note else ""))

    def forget(self, session: str | None) -> None:
        """A visitor left (the page was closed): drop their model choice."""
        with self._swap:
            self._sessions.pop(session, None)

    def warm_up(self, session: str | None = None) -> threading.Thread | None:
        """Load a session's text model and default map in a background thread, so the first
        text query and the first look at Explore do not wait (the map is normally cached with
        the gallery). A request that needs them meanwhile waits for them (the embedder's lock),
        never fails for it. Returns the thread (None when no model is loaded).

        The other shipped model is not preloaded: building its gallery takes both cores for half
        a minute, which every visitor's first searches would wait behind; the first switch to
        it builds it once (cached on disk for later starts)."""
        try:
            embedder, gallery = self.active(session)
        except InputError:
            return None

        def work():
            try:
                embedder.anchor
                gallery.projection("tsne", 2)
            except Exception:  # noqa: BLE001 - best effort; the request that needs it reports errors
                log.exception("warm-up failed")

        t = threading.Thread(target=work, daemon=True, name="warm-up")
        t.start()
        return t

    def active(self, session: str | None = None):
        """(embedder, gallery) of a session (its own, else the default) as one consistent pair,
        or raise InputError when none is loaded."""
        with self._swap:
            pair = self._sessions.get(session) if session is not None else None
            pair = pair or self._default
            if pair is None:
                raise InputError(self.error or "No model loaded.")
            return pair

    def status(self, session: str | None = None) -> str:
        """The page's banner: which model and which gallery this session uses."""
        try:
            e, g = self.active(session)
        except InputError as err:
            return warn(str(err))
        own = " (your choice)" if session is not None and session in self._sessions else ""
        return (f"**Model**{own} **{model_name(e)}**: {recipe_summary(e)} · **Gallery**: {g.description}")

    # ------------------------------------------------------------------------ search
    def input_modality(self, kind: str, session: str | None = None) -> str:
        """The session's model's modality that answers one of the page's inputs: `INPUTS[kind]`'s
        first modality the model has ("sketch" is the sketch branch of a things model and the
        image branch of a digits model); any other name is taken as a modality itself."""
        try:
            mods = self.active(session)[0].modalities
        except InputError:
            return kind
        return next((m for m in INPUTS.get(kind, (kind,)) if m in mods), kind)

    def search(self, modality: str, value, k: int = 6, session: str | None = None) -> SearchView:
        """One query from the page or the API. modality: "image" (a Sketchpad value, or a picture:
        a file path, PIL image or array, read by `inputs.sketch_to_image`),
        "audio" ((rate, samples) or a file path), "text" or "video" (an uploaded file path;
        it needs the model's image branch, its sound is used when the model has an audio one),
        or any other modality of the model: the value of its `Modality.query_component`, read
        by its `query_item` (an uploaded file must pass the path policy).
        session: whose model answers (None: the default)."""
        try:
            embedder, gallery = self.active(session)
            k = max(1, min(int(k or 6), MAX_K))
            asked, modality = modality, self.input_modality(modality, session)
            if asked in INPUTS and modality not in embedder.modalities:
                raise InputError(f"The active model takes no {QUERY_NOUNS.get(asked, asked)} queries "
                                 f"(it embeds {', '.join(embedder.modalities)}).")
            branch = "image" if modality == "video" else modality  # a video's frames go through the image branch
            if modality != "text" and branch not in embedder.modalities:
                raise InputError(f"The active model has no {branch} branch (it embeds {', '.join(embedder.modalities)}).")
            sr, notes = None, []
            if modality == "image":
                item = sketch_to_image(value)
            elif modality == "audio":
                item, sr = load_recording(value, notes=notes)
            elif modality == "video":
                item = video_path(value)
            elif modality == "text":
                item = clean_text(value, text_example(embedder.class_names))
            else:
                item, sr = self._query_item(embedder.branch(modality).modality, value, session, notes)
            r = run_query(embedder, gallery, modality, item, k, sr,
                          noun=query_noun(modality, value) or ("sketch" if asked == "sketch" else ""),
                          note="; ".join(notes))
            return SearchView(r.summary(), r.top_classes, r.images(gallery), r.clips(gallery), r.rows(), r,
                              r.videos(gallery), r.rendered(gallery, embedder))
        except InputError as e:
            return SearchView(warn(str(e)))
        except Exception as e:  # noqa: BLE001 - the page gets one line, the log the traceback
            log.exception("search failed")
            return SearchView(warn(f"The search failed: {type(e).__name__}: {e}"))

    def _query_item(self, modality, value, session=None, notes: list | None = None):
        """A plugin modality's query: an uploaded file (Gradio's upload folder, or a folder the
        policy allows) read by the modality; a bad one is an InputError. An audio modality adds
        what the answer should say about the recording to `notes` (several words heard)."""
        from ..modalities import read_query

        path = value.get("path") if isinstance(value, dict) else value
        if isinstance(path, (str, Path)) and str(path).strip():
            self.policy_for(session).check(path, f"{modality.name} file")
        try:
            return read_query(modality, value, notes)
        except InputError:
            raise
        except (ValueError, OSError) as e:
            raise InputError(f"This {modality.name} query cannot be used: {e}") from None

    def query_modalities(self, session: str | None = None) -> list[str]:
        """The modalities the session's model takes queries of (the Search tab shows their inputs)."""
        try:
            return list(self.active(session)[0].modalities)
        except InputError:
            return []

    # ------------------------------------------------------------------------ explore
    def map(self, method: str = "tsne", dim: int = 2, query: QueryResult | None = None, session: str | None = None):
        """(plotly Figure or None, message) of the session's gallery."""
        from .explore import map_figure

        try:
            _, gallery = self.active(session)
            if query is not None and query.vector.shape[0] != gallery.index.dim:
                query = None  # made with another model
            note = ""
            if int(dim) == 3 and three_d_method(method) != method:
                method, note = three_d_method(method), "3-D maps are drawn with UMAP (3-D t-SNE takes close to a minute for a few thousand points on a small CPU)."
            return map_figure(gallery, method, int(dim), query), note
        except InputError as e:
            return None, warn(str(e))
        except Exception as e:  # noqa: BLE001
            log.exception("map failed")
            return None, warn(f"The map could not be drawn: {type(e).__name__}: {e}")

    def pick(self, item_id: str, session: str | None = None):
        """(image path, audio path, caption) of one item of the session's gallery."""
        from .explore import item_view

        try:
            _, gallery = self.active(session)
            return item_view(gallery, item_id)
        except (InputError, KeyError) as e:
            return None, None, warn(str(e.args[0] if e.args else e))

    def pick_render(self, item_id: str, session: str | None = None):
        """The rendered view (e.g. a plot) of a gallery item of a plugin modality, else None."""
        from .explore import item_render

        try:
            embedder, gallery = self.active(session)
            return item_render(gallery, embedder, item_id)
        except InputError:
            return None

    # ------------------------------------------------------------------------ model card
    def model_card(self, session: str | None = None):
        """(recipe dict, metrics DataFrame (metric, value), history DataFrame (epoch, loss,
        held-out accuracies)) of the session's model."""
        import pandas as pd

        try:
            embedder, _ = self.active(session)
        except InputError:
            return {}, pd.DataFrame(columns=["metric", "value"]), pd.DataFrame(columns=["epoch", "loss"])
        cfg = embedder.config
        metrics = pd.DataFrame([[k, round(float(v), 4)] for k, v in sorted(cfg.get("metrics", {}).items())
                                if isinstance(v, (int, float)) and "/zero_shot_acc/" not in k],  # not per class
                               columns=["metric", "value"])
        hist = cfg.get("history", [])
        cols = ["epoch", "loss"] + sorted({k for h in hist for k in h if k.endswith("zero_shot_acc")})
        history = pd.DataFrame([[round(float(h.get(c, float("nan"))), 4) for c in cols] for h in hist], columns=cols)
        recipe = {"recipe": cfg.get("recipe", {}), "anchor": cfg.get("anchor"), "templates": cfg.get("templates"),
                  "class_names": cfg.get("class_names"), "created": cfg.get("created")}
        return recipe, metrics, history

    def models(self, session: str | None = None) -> dict[str, Path]:
        """{name: folder} of the models a session may load: the shipped ones (checkpoints/), the
        operator's --checkpoint and the session's own training runs. Names are what the page and
        the API show: a folder's name, never its server path."""
        found = [p.parent for p in sorted(CHECKPOINTS.glob("*/config.json"))]
        found += [f for f in sorted(self.shared) if f not in found and (f / "config.json").is_file()]
        found += [self.runs_dir / n for n, who in self.run_owner.items() if who == session and session is not None
                  and (self.runs_dir / n / "config.json").is_file()]
        out: dict[str, Path] = {}
        for f in found:
            out.setdefault(f.name, f)
        return out

    def find_model(self, name_or_path: str, session: str | None = None) -> Path:
        """A model's folder by its name (`models`; a run's name finds the run, which the path
        policy then refuses to anyone but its owner), else the text taken as a path."""
        text = name_or_path.strip()
        run = self.runs_dir / text
        if "/" not in text and text not in (".", "..") and text and run.is_dir():
            return self.models(session).get(text, run)
        return self.models(session).get(text) or Path(text).expanduser()

    def checkpoints(self, session: str | None = None) -> list[str]:
        """Names of the models a session may load (see `models`)."""
        return list(self.models(session))

    def shipped_models(self) -> list[str]:
        """Names of the models in the repository's checkpoints/ ("things", "digits"): the page's
        model chooser. The default model's first."""
        names = [n for n, f in self.models().items() if f.parent == CHECKPOINTS]
        first = self.model_of()
        return sorted(names, key=lambda n: (n != first, n))

    def page(self, session: str | None = None):
        """What the page shows for the session's model (`page.PageView`): its inputs, examples
        and training choices; a digits page when no model is loaded."""
        from .page import page_view

        try:
            embedder = self.active(session)[0]
            return page_view(embedder.modalities, embedder.class_names)
        except InputError:  # no model: the digits page, with no branch to search
            return replace(page_view(("image", "audio"), []), modalities=())

    def model_of(self, session: str | None = None) -> str | None:
        """The name of the session's active model (None when none is loaded)."""
        try:
            return model_name(self.active(session)[0])
        except InputError:
            return None

    def policy_for(self, session: str | None) -> PathPolicy:
        """The path policy for one visitor: `policy`, also refusing every path inside another
        session's training run (see the module docstring). None: the operator's (no run check)."""
        if session is None:
            return self.policy
        return replace(self.policy, deny=lambda p: self._not_theirs(p, session))

    def _not_theirs(self, p: Path, session: str) -> str | None:
        runs = self.runs_dir.expanduser().resolve()
        if p in self.shared or not (p == runs or runs in p.parents):
            return None
        name = p.relative_to(runs).parts[0] if p != runs else ""
        if name and self.run_owner.get(name) == session:
            return None
        return ("Refused: training runs belong to the visitor session that started them, and this one is not yours. "
                "Shared models are the ones in the Model tab's list.")

    def check_folder(self, folder, session: str | None) -> Path:
        """A checkpoint folder a visitor names, when `policy_for(session)` allows it; else InputError.

        Args: folder: str or Path. session: the visitor's session id (None: the operator; no check)."""
        if session is None:
            return Path(str(folder)).expanduser()
        return self.policy_for(session).check(folder, "checkpoint folder")

    # ------------------------------------------------------------------------ training
    def start_training(self, session: str, cfg) -> object:
        """Start a run for one page session (stopping none of the others).

        Raises:
            InputError: the session's previous run is still going, or it used up its runs.
        """
        from .trainer import TrainingRun

        old = self.runs.get(session)
        if old is not None and old.thread.is_alive():
            raise InputError("A training run of yours is still going: stop it first.")
        if self.run_counts.get(session, 0) >= self.limits.runs_per_visitor:
            raise InputError(f"You have used this server's {self.limits.runs_per_visitor} training runs per visitor "
                             "(the operator sets this with --runs-per-visitor).")
        self.limits.check_run(cfg.epochs, cfg.batch_size)
        cfg.max_minutes = min(cfg.max_minutes or self.limits.max_minutes, self.limits.max_minutes)
        out = self.runs_dir / f"{time.strftime('run-%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"  # visitors may start in the same second
        from ..anchor import TextAnchor

        try:  # share this visitor's loaded text model when the recipe uses the same one
            e, _ = self.active(session)
        except InputError:
            e = None
        anchor = e.anchor if e is not None and TextAnchor.canonical(cfg.anchor) == e.anchor_name else None
        self.run_owner[out.name] = session  # before it starts: the folder is never anyone else's
        run = self.runs[session] = TrainingRun(cfg, out, anchor=anchor).start()
        self.run_counts[session] = self.run_counts.get(session, 0) + 1
        return run

    def stop_training(self, session: str) -> str:
        run = self.runs.get(session)
        if run is None or not run.thread.is_alive():
            return "Nothing to stop."
        run.stop()
        return "Stopping after the current step; the model trained so far is evaluated and saved."

    def zip_checkpoint(self, folder, session: str | None = None) -> str:
        """A zip of a checkpoint folder under the allowed folders, for download. Returns its path.
        session: the visitor asking (None: the operator); another session's run is refused.

        Raises: InputError for a refused path or a folder that is not a checkpoint."""
        folder = self.policy_for(session).check(self.find_model(str(folder), session), "checkpoint folder")
        if not (folder / "config.json").is_file():
            raise InputError(f"{folder.name} is not a checkpoint folder.")
        out = Path(tempfile.mkdtemp(prefix="textanchor-")) / folder.name
        return shutil.make_archive(str(out), "zip", root_dir=folder.parent, base_dir=folder.name)
