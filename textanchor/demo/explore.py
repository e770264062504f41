"""Plotly maps of the shared space: gallery items coloured by class, shaped by modality, the
class texts as labelled landmarks, and the latest query as a star."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .gallery import Gallery

REPO_ROOT = Path(__file__).resolve().parents[2]

# All exist in 2-D and 3-D plotly. A digits model has image + audio, a things model sketch, photo,
# sound and speech: pictures round or square, sounds pointed.
SYMBOLS = {"image": "circle", "audio": "diamond", "video": "square-open", "sketch": "circle", "photo": "square",
           "sound": "diamond", "speech": "cross"}
EXTRA_SYMBOLS = ("x", "circle-open", "diamond-open")  # for other (plugin) modalities, in name order


def symbols(modalities) -> dict[str, str]:
    """Marker shape per modality present: the fixed ones, then the spare shapes in turn."""
    extra = sorted(set(modalities) - set(SYMBOLS))
    out = {m: s for m, s in SYMBOLS.items() if m in set(modalities)}
    out.update({m: EXTRA_SYMBOLS[i % len(EXTRA_SYMBOLS)] for i, m in enumerate(extra)})
    return out
MAP_METHODS = {"t-SNE": "tsne", "UMAP": "umap"}


def place_query(vector: np.ndarray, gallery_vectors: np.ndarray, coords: np.ndarray, k: int = 10) -> np.ndarray:
    """Where a new point goes on a fitted map: t-SNE has no transform for new points, so the
    query sits at the similarity-weighted mean of its k nearest items' coordinates.

    Args: vector (D,), gallery_vectors (N, D) unit, coords (N, dim). Returns (dim,).
    """
    sims = gallery_vectors @ vector  # (N,)
    top = np.argsort(-sims)[: min(k, len(sims))]
    w = np.exp((sims[top] - sims[top].max()) / 0.05)  # sharp: the very nearest dominate
    return (coords[top] * w[:, None]).sum(0) / w.sum()


def _palette(n: int) -> list[str]:
    import plotly.express as px

    base = px.colors.qualitative.D3 + px.colors.qualitative.Set3
    return [base[i % len(base)] for i in range(n)]


def map_figure(gallery: Gallery, method: str = "tsne", dim: int = 2, query=None):
    """The map as a plotly Figure.

    Args:
        gallery: the active gallery (its projections are cached; nothing is fitted here after
            the first call per method and dim).
        method: "tsne" or "umap". dim: 2 or 3.
        query: an optional `search.QueryResult`, drawn as a star.
    """
    import plotly.graph_objects as go

    items, anchors = gallery.projection(method, dim)
    meta = gallery.items  # aligned with the map's rows
    labels = np.array([str(m["label"]) for m in meta])
    mods = np.array([m["modality"] for m in meta])
    ids = np.array([m["id"] for m in meta])
    classes = list(dict.fromkeys(list(gallery.class_names) + sorted(set(labels) - set(gallery.class_names))))
    colour = dict(zip(classes, _palette(len(classes))))
    scatter = go.Scatter3d if dim == 3 else go.Scatter
    xyz = lambda c: dict(x=c[:, 0], y=c[:, 1], **({"z": c[:, 2]} if dim == 3 else {}))  # noqa: E731
    shapes = symbols(set(mods))
    fig = go.Figure()
    for cls in classes:
        for j, mod in enumerate(shapes):
            sel = (labels == cls) & (mods == mod)
            if not sel.any():
                continue
            fig.add_trace(scatter(
                **xyz(items[sel]), mode="markers", name=cls, legendgroup=cls, showlegend=j == 0,
                marker=dict(color=colour[cls], symbol=shapes[mod], size=4 if dim == 3 else 7, opacity=0.8,
                            line=dict(width=0)),
                customdata=np.stack([ids[sel], labels[sel], mods[sel]], 1),
                hovertemplate="<b>%{customdata[1]}</b><br>%{customdata[2]}<br>id %{customdata[0]}<extra></extra>",
            ))
    fig.add_trace(scatter(
        **xyz(anchors), mode="markers+text", name="text anchors", text=[f"“{c}”" for c in gallery.class_names],
        textposition="top center", textfont=dict(size=13, color="black"),
        marker=dict(symbol="square", size=8 if dim == 3 else 11, color="white", line=dict(color="black", width=2)),
        hovertemplate="text anchor “%{text}”<extra></extra>",
    ))
    if query is not None:
        p = place_query(query.vector, gallery.index.vectors, items)[None]  # (1, dim)
        star = dict(mode="text", text=["★"], textfont=dict(size=34, color="crimson")) if dim == 3 else \
            dict(mode="markers", marker=dict(symbol="star", size=24, color="gold", line=dict(color="crimson", width=2)))
        fig.add_trace(scatter(**xyz(p), name=f"your {query.modality} query ({query.label})",
                              hovertemplate=f"your {query.modality} query<br>reads as {query.label}<extra></extra>", **star))
    for mod, shape in shapes.items():  # legend keys for the marker shapes
        fig.add_trace(scatter(**xyz(np.full((1, dim), np.nan)), mode="markers", name=f"{mod} (shape)",
                              marker=dict(symbol=shape, color="grey", size=8)))
    title = f"{'t-SNE' if method == 'tsne' else method.upper()} {dim}-D map of {len(ids):,} gallery items"
    fig.update_layout(title=title, height=620, margin=dict(l=10, r=10, t=50, b=10), legend=dict(itemsizing="constant"),
                      template="plotly_white", clickmode="event")
    if dim == 2:
        fig.update_xaxes(showticklabels=False, title=None)
        fig.update_yaxes(showticklabels=False, title=None, scaleanchor="x")
    return fig


def public_source(source: str) -> str:
    """What the page may say of an item's source: a data set reference as it is
    ("quickdraw:cat:12"), a file by its path inside the repository, else by its name alone: a
    visitor never learns where the server keeps its files."""
    src = str(source or "")
    if not os.path.isabs(src):
        return src
    try:
        return str(Path(src).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return Path(src).name


def item_view(gallery: Gallery, item_id: str) -> tuple[str | None, str | None, str]:
    """(image path or None, audio path or None, markdown caption) of one gallery item; a video
    shows as its poster frame and its sound track; another modality's item as neither (see
    `item_render`).

    Raises: KeyError with a readable message for an unknown id.
    """
    item_id = (item_id or "").strip()
    examples = " or ".join(f"{m}:{3 + 9 * i}" for i, m in enumerate(gallery.index.modalities()[:3]))
    if not item_id:
        raise KeyError(f"Type an item id (e.g. {examples}), or click a point on the map.")
    try:
        _, meta = gallery.index.get(item_id)
    except KeyError:
        raise KeyError(f"No item {item_id!r} in this gallery; ids look like {examples}.") from None
    path = gallery.file(item_id)
    text = f"**{meta['label']}** · {meta['modality']} · id `{item_id}` · source `{public_source(meta['source'])}`"
    if meta["modality"] == "video":
        return str(gallery.folder / meta["poster"]), str(gallery.folder / meta["sound"]), text + f" · video `{meta['file']}`"
    kind = _kind(gallery, meta)
    if kind not in ("image", "audio"):
        return None, None, text
    return (path, None, text) if kind == "image" else (None, path, text)


def _kind(gallery: Gallery, meta: dict) -> str:
    """How an item is shown: by its file ("image" for .png/.jpg, "audio" for .wav), else "plot"."""
    suffix = Path(meta["file"]).suffix.lower()
    return "image" if suffix in (".png", ".jpg", ".jpeg") else "audio" if suffix in (".wav", ".flac", ".ogg") else "plot"


def item_render(gallery: Gallery, embedder, item_id: str):
    """The `Modality.render` value of a gallery item of a modality other than image, audio and
    video (e.g. a plotly figure), or None for those three and for unknown ids."""
    try:
        _, meta = gallery.index.get((item_id or "").strip())
    except KeyError:
        return None
    if meta["modality"] == "video" or _kind(gallery, meta) != "plot" or meta["modality"] not in embedder.modalities:
        return None
    return embedder.branch(meta["modality"]).modality.render(np.load(gallery.file(item_id.strip())), meta.get("rate"))[1]
