"""Training from the page: a recipe built from the form, run in a background thread that reports
through a queue, so the page can stream progress while other users keep searching.

    run = TrainingRun(cfg, out_dir); run.start()
    for snap in run.stream(): show(snap)      # progress, loss curve, per-epoch metrics
    run.stop()                                # from another request: ends after the current step
"""
from __future__ import annotations

import csv
import os
import queue
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr

from ..config import DataSpec, ModalityRecipe, TrainConfig
from ..model import BranchConfig
from .inputs import InputError

# Form choice -> (modality, data set registry name, loader options).
DATA_CHOICES = {
    "Handwritten digits (scikit-learn 8x8, offline)": ("image", "digits", {}),
    "MNIST handwritten digits (data folder)": ("image", "mnist", {}),
    "Spoken digits (FSDD, data folder)": ("audio", "fsdd", {}),
    "Synthetic speech (eSpeak NG, offline)": ("audio", "espeak", {}),
}

# Things eSpeak NG can say for a visitor without a data folder: names the sketches and photos
# of the things model know too, so a model trained on them links a drawn cat to a spoken one.
SPOKEN_THINGS = ["cat", "dog", "bird", "house", "tree", "bed", "car", "airplane", "train", "fish", "flower",
                 "apple", "banana", "book", "clock", "bicycle", "horse", "sheep", "frog", "duck", "rabbit",
                 "lion", "monkey", "bear", "piano", "guitar", "umbrella", "helicopter", "star", "moon"]

# The things model's data: every set but the synthetic one is read from the operator's data
# folder (see docs/things.md).
THINGS_CHOICES = {
    "Quick, Draw! sketches (data folder)": ("sketch", "quickdraw", {"per_class": 300}),
    "Photos of things (data folder)": ("photo", "object_photos", {}),
    "ESC-50 sounds (data folder)": ("sound", "esc50", {}),
    "Speech Commands words (data folder)": ("speech", "speech_commands", {}),
    "Synthetic spoken things (eSpeak NG, offline)": ("speech", "espeak", {"words": SPOKEN_THINGS, "n_voices": 40}),
}

# choices read from the operator's data folder, never downloaded here
FOLDER_DATA = ("mnist", "fsdd", "quickdraw", "object_photos", "esc50", "speech_commands")
OFFLINE_CHOICES = [c for c, (_, n, _) in {**DATA_CHOICES, **THINGS_CHOICES}.items() if n not in FOLDER_DATA]


def _check_folder_data(choice: str, name: str, data_root) -> None:
    """InputError with the page's advice (not the CLI's `--download`) when a data-folder choice's
    files are not on the server. The run reads `data_root/<name>`, or without one
    `$TEXTANCHOR_DATA/<name>`, else `./data/<name>` (`data.datasets.default_root`)."""
    from ..data import DataError, load_dataset
    from ..data.datasets import default_root

    root = Path(data_root) / name if data_root else default_root(name)
    try:
        load_dataset(name, root=str(root), split="test", limit=1)
    except (DataError, OSError, ValueError):
        raise InputError(f"\u201c{choice}\u201d needs its files in {root} on this server, and they are not there. "
                         f"Choices that work without them: {', '.join(OFFLINE_CHOICES)}; or upload a CSV manifest. "
                         "The operator provides the data folder (app.py --data DIR or TEXTANCHOR_DATA, holding "
                         f"{name}/).") from None


class TrainDataChoices(gr.CheckboxGroup):
    """The Train tab's data checkboxes. The page shows the choices of the visitor's kind of model,
    but a new model may be trained on any data the server offers: Gradio checked a call against
    the session's copy of the checkboxes ("Value: ... is not in the list of choices"), which an API
    client that trained things data after picking the digits model could not know. Here every
    `data_choices()` key passes, and the API schema lists them all; `recipe_from_form` refuses
    anything else in words."""

    def preprocess(self, payload):
        # one choice sent as a bare string is that choice, not its letters
        return [payload] if isinstance(payload, str) else list(payload or [])

    def api_info(self) -> dict:
        return {**super().api_info(), "items": {"enum": list(data_choices()), "type": "string"}}

    def get_block_name(self) -> str:
        return "checkboxgroup"  # the browser renders it with the CheckboxGroup's own front end


def data_choices(modalities=None) -> dict[str, tuple[str, str, dict]]:
    """The Train tab's data choices for a model of `modalities` (None: every choice): the digits'
    DATA_CHOICES or the things' THINGS_CHOICES, plus every other registered data set of a
    modality neither covers (a plugin's), by name: "accel (accel data set)" -> ("accel", "accel", {})."""
    from ..data import DATASETS
    from .page import is_things

    DATASETS.discover()
    known = {n for _, n, _ in (*DATA_CHOICES.values(), *THINGS_CHOICES.values())}
    extra = {f"{n} ({meta['modality']} data set)": (meta["modality"], n, {}) for n, meta in sorted(DATASETS.meta.items())
             if meta.get("modality") not in (None, "image", "audio") and n not in known}
    if modalities is None:
        return {**DATA_CHOICES, **THINGS_CHOICES, **extra}
    return {**(THINGS_CHOICES if is_things(modalities) else DATA_CHOICES), **extra}


def video_specs(path: str, natural: bool = False, policy=None) -> dict[str, ModalityRecipe]:
    """The Train tab's video choice: a video folder (`root/{class}/*.mp4`) or `path,text` CSV ->
    {"image": frames recipe, "audio": sound recipe}, built by `textanchor.video.video_recipe`
    (frames train the image branch, sound tracks the audio branch; no sound: frames only).

    Args:
        path: the folder or CSV on the server.
        natural: RGB frames as they are (False: digit-like clips, grey and centred like MNIST).
        policy: a `policy.PathPolicy` the path and the videos a CSV names must pass (None: any).

    Raises:
        InputError: a refused or missing path, or one holding no decodable video.
    """
    from ..data import DataError
    from ..data.video import load_videos
    from ..video import video_recipe

    path = str(path).strip()
    if policy is not None:
        policy.check(path, "video folder or CSV")
    try:  # a quick look (first frame + sound of a few videos per class) before any training
        folder = not path.lower().endswith(".csv")
        probe = load_videos(path, n_frames=1, **({"limit": 2} if folder else {}))
    except (DataError, OSError, ValueError) as e:
        raise InputError(f"The video data cannot be used: {e}") from None
    if len(probe) == 0:
        bad = probe.meta.get("skipped", [])
        why = f" (e.g. {bad[0]['source']}: {bad[0]['reason']})" if bad else ""
        raise InputError(f"No video under {path} could be decoded{why}.")
    if policy is not None:  # a CSV may name videos anywhere on the server
        policy.check_all(probe.sources, "video the CSV names")
    sound = any(v.has_audio for v in probe.items)
    cfg = video_recipe(path, natural=natural, audio=sound, sample_rate=16000 if natural else 8000)
    return cfg.modalities


def recipe_from_form(data: list[str], manifest: str | None = None, image_encoder: str = "image_cnn",
                     audio_encoder: str = "audio_cnn", projector: str = "mlp", loss: str = "mse_infonce",
                     epochs: int = 5, batch_size: int = 64, lr: float = 3e-3, anchor: str = "all-MiniLM-L6-v2",
                     templates: str = "{}", data_root: str | None = None, max_minutes: float | None = 30,
                     videos: str | None = None, natural_video: bool = False, policy=None) -> TrainConfig:
    """The Train tab's choices as a TrainConfig; raises InputError for a choice that cannot work.

    Args:
        data: keys of `data_choices()`. manifest: an uploaded `path,text` CSV (its files must exist
            on the server, relative to the CSV or absolute); its modality comes from the files.
        templates: one per line, each with "{}" where the class name goes.
        data_root: folder with mnist/ and fsdd/ for the data-folder choices.
        videos: a video folder or CSV manifest on the server (see `video_specs`); its frames
            join the image data and its sound the audio data, with the video branch settings.
        natural_video: see `video_specs`.
        policy: a `policy.PathPolicy` every server file named must pass (None: any).

    Only sanity ranges are checked here: an app's limits (epochs, batch size, minutes) are the
    service's to apply, in `DemoService.start_training`, which every run goes through.
    """
    from ..data import DataError, load_dataset

    from ..modalities import MODALITIES
    from ..modalities.audio import AudioModality

    if policy is not None:  # a local folder is read as a model: the same rule as every server path
        policy.check_model_name(anchor)
    specs: dict[str, list[DataSpec]] = {}
    choices = data_choices()
    for choice in data or []:
        if choice not in choices:
            raise InputError(f"Unknown data choice {choice!r}; this server offers: "
                             f"{', '.join(map(repr, choices))}.")
        modality, name, options = choices[choice]
        specs.setdefault(modality, []).append(DataSpec(name, dict(options)))
        if name in FOLDER_DATA:
            _check_folder_data(choice, name, data_root)
    if manifest:
        if policy is not None:  # it names files on the server: vet them before opening any
            from ..data.manifest import listed_paths

            try:
                policy.check_all([str(p) for p in listed_paths(manifest)], "file the CSV manifest names")
            except (DataError, OSError, UnicodeDecodeError, csv.Error) as e:
                raise InputError(f"The CSV manifest cannot be read: {e}") from None
        try:
            s = load_dataset("manifest", csv_path=manifest)
        except DataError as e:
            raise InputError(f"The CSV manifest cannot be used: {e}") from None
        specs.setdefault(s.modality, []).append(DataSpec("manifest", {"csv_path": str(manifest)}))
    preprocess = {}
    if videos and str(videos).strip():
        for m, r in video_specs(videos, natural_video, policy).items():
            specs.setdefault(m, []).extend(r.data)
            preprocess[m] = r.branch.preprocess
    if not specs:
        raise InputError("Choose at least one training data set (or upload a CSV manifest or name a video folder).")
    tpl = [t.strip() for t in (templates or "").splitlines() if t.strip()] or ["{}"]
    bad = [t for t in tpl if "{}" not in t]
    if bad:
        raise InputError(f"Each template needs {{}} where the class name goes; fix: {bad[0]!r}.")
    if not (1 <= int(epochs) <= 200) or not (2 <= int(batch_size) <= 4096) or not (0 < float(lr) < 1):
        raise InputError("Epochs must be 1-200, batch size 2-4096 and the learning rate between 0 and 1.")
    encoders = {"image": image_encoder, "audio": audio_encoder}  # other modalities: their default encoder
    rate = AudioModality.WAVE_ENCODERS.get(audio_encoder or "")
    if rate and "audio" in specs:  # a frozen speech encoder reads one rate; the form has no field for it
        preprocess.setdefault("audio", {}).setdefault("sample_rate", rate)
    mods = {m: ModalityRecipe(data=v, branch=BranchConfig(encoder=encoders.get(m) or MODALITIES.get(m).default_encoder, projector=projector,
                                                          preprocess=dict(preprocess.get(m, {}))))
            for m, v in specs.items()}
    return TrainConfig(modalities=mods, anchor=anchor or "all-MiniLM-L6-v2", templates=tpl, loss=loss,
                       epochs=int(epochs), batch_size=int(batch_size), lr=float(lr), data_root=data_root,
                       max_minutes=max_minutes, eval_limit=1000)


@dataclass
class Snapshot:
    """Everything the page shows about a run at one moment."""

    status: str = "waiting to start"
    device: str = ""
    step: int = 0
    total_steps: int = 0
    losses: list[tuple[int, float]] = field(default_factory=list)  # (step, loss)
    epochs: list[dict] = field(default_factory=list)  # the trainer's per-epoch records
    metrics: dict = field(default_factory=dict)  # final held-out metrics
    checkpoint: str | None = None
    done: bool = False
    error: str | None = None

    @property
    def fraction(self) -> float:
        return self.step / self.total_steps if self.total_steps else 0.0

    def progress_html(self) -> str:
        """A progress bar with the status line under it."""
        import html

        colour = "#dc2626" if self.error else "#16a34a" if self.done else "#2563eb"
        return (f'<div style="border:1px solid #8884;border-radius:6px;height:16px;overflow:hidden">'
                f'<div style="width:{self.fraction:.1%};height:100%;background:{colour}"></div></div>'
                f'<div style="margin-top:4px">{self.fraction:.0%} · {html.escape(self.status)}</div>')

    def loss_frame(self, max_points: int = 400):
        """pandas DataFrame (step, loss) for a line plot, thinned to `max_points`."""
        import pandas as pd

        pts = self.losses[:: max(1, len(self.losses) // max_points)]
        return pd.DataFrame(pts, columns=["step", "loss"])

    def epoch_table(self):
        """pandas DataFrame: one row per epoch with its loss and held-out zero-shot accuracies."""
        import pandas as pd

        cols = ["epoch", "loss"] + sorted({k for e in self.epochs for k in e if k.endswith("zero_shot_acc")})
        return pd.DataFrame([[round(e.get(c, float("nan")), 4) for c in cols] for e in self.epochs], columns=cols)


class TrainingRun:
    """One training run in a background thread.

    Args:
        cfg: the recipe. out_dir: the checkpoint folder to write.
        anchor: an already loaded TextAnchor to share (the app's), or None.
        nice: how much lower than the server's the run's CPU priority is (Linux; 0: the same).
            The run then takes the CPU that searches leave idle instead of sharing it evenly
            with them: on a 2-core Space, searches during a run keep their latency.
    """

    def __init__(self, cfg: TrainConfig, out_dir: str | Path, anchor=None, nice: int = 10):
        self.cfg, self.out_dir, self.anchor, self.nice = cfg, Path(out_dir), anchor, nice
        self.events: queue.Queue = queue.Queue()
        self.stop_event = threading.Event()
        self.snapshot = Snapshot()
        self.thread = threading.Thread(target=self._run, name="textanchor-train", daemon=True)

    def start(self) -> "TrainingRun":
        self.thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to end after the current step; it still evaluates and saves."""
        self.stop_event.set()

    def _run(self) -> None:
        from ..train import train

        if self.nice and sys.platform.startswith("linux"):  # a Linux thread is a task with its own priority
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0) + self.nice)
            except OSError:  # not permitted here: the run keeps the server's priority
                pass
        try:
            train(self.cfg, self.out_dir, progress=self.events.put, stop=self.stop_event, anchor=self.anchor)
        except Exception as e:  # noqa: BLE001 - reported in the page, the server keeps going
            traceback.print_exc()
            self.events.put({"event": "error", "message": _friendly(e)})

    def _apply(self, e: dict) -> None:
        s = self.snapshot
        kind = e.get("event")
        if kind == "start":
            s.device, s.total_steps = e["device"], e["total_steps"]
            s.status = f"training on {e['device']}: {e['train_sizes']} items, {e['epochs']} epochs"
        elif kind == "step":
            s.step, s.total_steps = e["step"], e["total_steps"]
            s.losses.append((e["step"], e["loss"]))
            s.status = f"epoch {e['epoch']}/{self.cfg.epochs}, step {e['step']}/{e['total_steps']}, loss {e['loss']:.3f}"
        elif kind == "epoch":
            s.epochs.append({k: v for k, v in e.items() if k not in ("event", "epochs", "total_steps", "step")})
            s.status = f"epoch {e['epoch']} done; evaluating" if e["epoch"] == self.cfg.epochs else s.status
        elif kind == "done":
            # The run's name, not its server path: the page shows it to the visitor, and the
            # service finds the folder again by name (DemoService.models).
            s.metrics, s.checkpoint, s.done = e["metrics"], Path(e["checkpoint"]).name, True
            s.step = s.total_steps if not e["stopped"] else s.step
            s.status = (f"stopped ({e['stopped']}) and saved" if e["stopped"] else "finished") + \
                f" after {e['seconds']:.0f} s as {s.checkpoint}"
        elif kind == "error":
            s.error, s.done = e["message"], True
            s.status = "failed: " + e["message"]

    def stream(self, interval: float = 0.5, timeout: float | None = None):
        """Yield the snapshot whenever something changed, at most every `interval` seconds,
        until the run is done (or `timeout` seconds passed)."""
        t0 = time.time()
        while True:
            changed = False
            try:
                e = self.events.get(timeout=interval)
                self._apply(e)
                changed = True
                while True:  # drain everything queued since: one page update per interval
                    self._apply(self.events.get_nowait())
            except queue.Empty:
                pass
            if changed or self.snapshot.done:
                yield self.snapshot
            if self.snapshot.done:
                return
            if not self.thread.is_alive() and self.events.empty():
                self.snapshot.done = True
                self.snapshot.error = self.snapshot.error or "the training thread ended unexpectedly"
                yield self.snapshot
                return
            if timeout is not None and time.time() - t0 > timeout:
                return


def _friendly(e: Exception) -> str:
    """A one-line reason for a failed run (DataError messages already say how to fix)."""
    from ..data import DataError

    if isinstance(e, DataError):
        return str(e)
    return f"{type(e).__name__}: {e}"


def gpu(fn, duration: int = 600):
    """`spaces.GPU(fn)` on Hugging Face ZeroGPU hardware (the `spaces` package is present),
    `fn` unchanged elsewhere."""
    try:
        import spaces
    except ImportError:
        return fn
    return spaces.GPU(duration=duration)(fn)
