"""The contract every modality implements (see `textanchor.modalities`)."""
from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..registry import Registry

MODALITIES: Registry[type["Modality"]] = Registry(
    "modality", package="textanchor.modalities", entry_points="textanchor.modalities",
    decorator="@MODALITIES.register(name) on a Modality subclass")

# Gradio components an app may build for a query (`Modality.query_component`), and the kinds of
# result view (`Modality.render`); an app maps each name to its own component class.
QUERY_COMPONENTS = ("sketchpad", "image", "audio", "file")
RESULT_KINDS = ("image", "audio", "plot")


class Modality:
    """Base class. Subclasses set `name`, `default_encoder`, `file_extensions`, a `Config`
    dataclass with the preprocessing settings (saved in every checkpoint), and implement
    `input_shape`, `prepare`, `read_file` and `example_items`.

    Optional, with defaults that suit a numeric time series: `augment` (none), `frontend`
    (identity), `query_component` (a file upload of `file_extensions`), `query_item` (read the
    uploaded file), `result_kind` / `render` (a line plot)."""

    name: str = ""
    default_encoder: str = ""
    file_extensions: tuple[str, ...] = ()
    result_kind: str = "plot"  # one of RESULT_KINDS: how `render` shows an item
    # False for a specialisation that shares its file types with a more general modality (sketch
    # and photo read .png like image): `modality_for_path` picks the general one when both are
    # candidates, so a manifest of .png files stays image data unless its rows say otherwise.
    generic_files: bool = True

    @dataclass
    class Config:
        pass

    def __init__(self, **options: Any):
        known = {f.name for f in fields(self.Config)}
        unknown = set(options) - known
        if unknown:
            raise ValueError(
                f"unknown {self.name} preprocessing option(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        self.cfg = self.Config(**options)

    def use_encoder(self, name: str) -> None:
        """Settle the settings that depend on the encoder (a wave or a spectrogram, augmentation
        or cached features), before the front end is built. Called by `model.Branch` with the
        encoder's registry name; the settled values are what a checkpoint saves. Default: none."""

    def config_dict(self) -> dict:
        """The settings as JSON holds them (a checkpoint's config.json, a preset): tuples as lists."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.cfg).items()}

    def input_shape(self) -> tuple[int, ...]:
        """Shape of one prepared item, without the batch dimension."""
        raise NotImplementedError

    def prepare(self, items: list, sample_rate: int | None = None) -> torch.Tensor:
        """Decoded items -> (N, *input_shape) float tensor on the CPU."""
        raise NotImplementedError

    def augment(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Training-time augmentation of a prepared batch (on its device). Default: none."""
        return x

    def augments(self) -> bool:
        """Whether `augment` changes a batch (False lets training cache a frozen encoder's features)."""
        return type(self).augment is not Modality.augment

    def frontend(self) -> nn.Module:
        """On-device transform between the prepared batch and the encoder. Default: identity."""
        return nn.Identity()

    def encoder_input_shape(self) -> tuple[int, ...]:
        """Shape the encoder sees after the front end (used to size encoders)."""
        with torch.no_grad():
            fe = self.frontend().eval()
            return tuple(fe(torch.zeros(1, *self.input_shape())).shape[1:])

    def read_file(self, path: str) -> Any:
        """Decode one file into an item `prepare` accepts."""
        raise NotImplementedError(f"{self.name} cannot read files")

    # --------------------------------------------------------------- tests and apps
    def example_items(self, n: int = 3, seed: int = 0) -> tuple[list, int | None]:
        """`n` synthetic decoded items as a loader or `read_file` would return them, varied in
        the ways real inputs vary (size, length, channels), for the registry tests.

        Returns: (items, sample_rate to pass to `prepare`, or None)."""
        raise NotImplementedError(f"modality {self.name!r} must implement example_items(n, seed)")

    def query_component(self) -> tuple[str, dict]:
        """How an app takes a query of this kind: (one of QUERY_COMPONENTS, keyword arguments
        for that component). Default: a file upload of `file_extensions`."""
        return "file", {"file_types": list(self.file_extensions), "label": f"A {self.name} file"}

    def query_item(self, value) -> tuple[Any, int | None]:
        """The value of the query component -> (item, sample_rate) ready for `prepare`.

        Default: `value` is an uploaded file's path (or a dict/object holding it), decoded with
        `read_file` (so items come at the modality's own rate). Raises ValueError with a
        user-facing message for a missing or unreadable upload."""
        path = value.get("path") if isinstance(value, dict) else getattr(value, "name", value)
        if not path or not Path(str(path)).is_file():
            raise ValueError(f"Upload a {self.name} file ({', '.join(self.file_extensions)}) first.")
        return self.read_file(str(path)), getattr(self.cfg, "sample_rate", None)

    def render(self, item, sample_rate: int | None = None) -> tuple[str, Any]:
        """How an app shows one item: (kind, value) with kind = `result_kind`.

        Default ("plot"): a plotly figure with one line per channel of a (T,) or (T, C) array,
        against seconds when `sample_rate` is known (plotly is in the app's extras)."""
        return "plot", line_plot(np.asarray(item, np.float32), sample_rate or getattr(self.cfg, "sample_rate", None),
                                 title=self.name)


def line_plot(series: np.ndarray, sample_rate: int | None = None, channel_names=None, title: str = ""):
    """A plotly figure of a (T,) or (T, C) series, one line per channel.

    Args: sample_rate: samples per second (x in seconds), None: x in samples.
    Raises: ValueError for arrays of more than two dimensions."""
    import plotly.graph_objects as go

    a = series[:, None] if series.ndim == 1 else series
    if a.ndim != 2:
        raise ValueError(f"cannot plot an array of shape {series.shape} as a time series")
    x = np.arange(len(a)) / sample_rate if sample_rate else np.arange(len(a))
    names = list(channel_names or [f"channel {i}" for i in range(a.shape[1])])
    fig = go.Figure([go.Scatter(x=x, y=a[:, i], mode="lines", name=names[i]) for i in range(a.shape[1])])
    fig.update_layout(title=title, xaxis_title="seconds" if sample_rate else "sample", height=260,
                      margin=dict(l=40, r=10, t=30 if title else 10, b=30))
    return fig


def read_query(modality: Modality, value, notes: list | None = None) -> tuple[Any, int | None]:
    """`modality.query_item(value)`, handing `notes` to modalities whose query reading fills one
    (the audio ones: "2 words heard; ..."); others, a plugin's included, are called as they are.
    The one rule for the app and `Embedder.embed_query_file`."""
    if notes is not None and "notes" in inspect.signature(modality.query_item).parameters:
        return modality.query_item(value, notes=notes)
    return modality.query_item(value)


def create_modality(name: str, **options: Any) -> Modality:
    """Build a registered modality with its preprocessing options."""
    return MODALITIES.get(name)(**options)


def modality_for_path(path: str | Path, among: list[str] | None = None) -> str:
    """The registered modality that reads files with this extension.

    Args:
        path: a file name; only its suffix is used.
        among: restrict to these modalities (e.g. a checkpoint's); None: all registered.
    Raises:
        ValueError: no modality, or more than one, claims the extension (the message lists the
            extensions known and says how to choose).
    """
    ext = Path(path).suffix.lower()
    names = MODALITIES.names() if among is None else list(among)
    claim = [m for m in names if ext in MODALITIES.get(m).file_extensions]
    if len(claim) > 1 and any(MODALITIES.get(m).generic_files for m in claim):
        claim = [m for m in claim if MODALITIES.get(m).generic_files]
    if len(claim) == 1:
        return claim[0]
    if claim:
        raise ValueError(f"{Path(path).name}: {ext} files are read by several modalities ({', '.join(claim)}); "
                         f"say which one (a manifest's modality column or option; `embed --files-modality`, "
                         f"`search --query-modality`)")
    known = sorted({e for m in names for e in MODALITIES.get(m).file_extensions})
    raise ValueError(f"{Path(path).name}: no modality ({', '.join(names)}) reads {ext or 'extensionless'} files; "
                     f"known extensions: {', '.join(known)}")
