"""The Search tab's outputs for one `SearchView`, in the order of `OUTPUTS`: what the app's
search events return, kept here so `app.py` only wires.

Clips and plots live in MAX_K fixed slots each, shown or hidden per answer. Every slot answered
with an update costs the server a component rebuild (see `clips.py`), so a slot that was hidden
and stays hidden gets a plain None, and only slots that are shown, or were shown before, get an
update. What this page shows is carried in a `gr.State` (`Shown`), one per browser session.
"""
from __future__ import annotations

from typing import NamedTuple

import gradio as gr

from .service import MAX_K, SearchView

# Output order of every search event (the app passes components in this order).
OUTPUTS = ("status", "zero_shot", "images", "videos", *[f"clip{i}" for i in range(MAX_K)],
           *[f"plot{i}" for i in range(MAX_K)], "rows", "query", "shown")
EMPTY_STATUS = "Draw, record or type a query."


class Shown(NamedTuple):
    """How many clip and plot slots the page shows now."""

    clips: int = 0
    plots: int = 0


def _slots(items: list, before: int) -> list:
    """MAX_K slot values for [(value, caption)] when `before` slots were visible."""
    out = [gr.update(value=v, label=c, visible=True) for v, c in items[:MAX_K]]
    out += [gr.update(value=None, label="", visible=False)] * max(0, before - len(out))  # hide those shown before
    return out + [None] * (MAX_K - len(out))  # hidden, and staying hidden: no update


def search_outputs(view: SearchView, shown: Shown | None) -> list:
    """The values for `OUTPUTS`. Other modalities' results, drawn by their Modality.render:
    images join the gallery, sounds the players, plots fill the plot slots."""
    shown = Shown(*shown) if shown else Shown()
    extra = {kind: [(v, c) for k_, v, c in view.rendered if k_ == kind] for kind in ("image", "audio", "plot")}
    clips, plots = [*view.clips, *extra["audio"]][:MAX_K], extra["plot"][:MAX_K]
    return [view.status, view.top_classes or None, [*view.images, *extra["image"]], view.videos,
            *_slots(clips, shown.clips), *_slots(plots, shown.plots), view.rows, view.query,
            Shown(len(clips), len(plots))]


def clear_outputs(shown: Shown | None) -> list:
    """The values for `OUTPUTS` of an empty page."""
    return search_outputs(SearchView(EMPTY_STATUS), shown)
