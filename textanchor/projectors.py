"""Projectors, by registry: (B, D) encoder features -> (B, anchor_dim) text-space vectors."""
from __future__ import annotations

from torch import nn

from .registry import Registry

PROJECTORS: Registry = Registry("projector", entry_points="textanchor.projectors",
                                decorator="@PROJECTORS.register(name)")


@PROJECTORS.register("linear")
def linear(in_dim: int, out_dim: int) -> nn.Module:
    """One linear map: the smallest projector, the baseline for "better projectors"."""
    return nn.Linear(in_dim, out_dim)


@PROJECTORS.register("mlp")
def mlp(in_dim: int, out_dim: int, hidden: int = 512, dropout: float = 0.1) -> nn.Module:
    """Two layers with GELU, as CLIP-style projection heads (e.g. ImageBind's heads)."""
    return nn.Sequential(
        nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, out_dim)
    )


def create_projector(name: str, in_dim: int, out_dim: int, **options) -> nn.Module:
    return PROJECTORS.get(name)(in_dim, out_dim, **options)
