"""Encoder registry and the factory shared by every encoder file."""
from __future__ import annotations

from typing import Callable

from torch import nn

from ..registry import Registry

ENCODERS: Registry[Callable[..., nn.Module]] = Registry(
    "encoder", package="textanchor.encoders", entry_points="textanchor.encoders",
    decorator="@register_encoder(name, modalities=(...))")
ENCODER_MODALITIES: dict[str, tuple[str, ...]] = {}  # filled on registration; see encoders_for()


def register_encoder(name: str, modalities: tuple[str, ...]):
    """Register an encoder factory `f(input_shape, **options) -> nn.Module with .output_dim`."""

    def deco(fn):
        ENCODERS.register(name)(fn)
        ENCODER_MODALITIES[name] = modalities
        return fn

    return deco


def encoders_for(modality: str) -> list[str]:
    """Names of the registered encoders that take `modality` (after discovery)."""
    return [n for n in ENCODERS.names() if modality in ENCODER_MODALITIES[n]]


def create_encoder(name: str, input_shape: tuple[int, ...], modality: str | None = None, **options) -> nn.Module:
    """Build a registered encoder for inputs of `input_shape` (no batch dim).

    Raises ValueError when the encoder does not accept `modality`.
    """
    factory = ENCODERS.get(name)
    if modality is not None and modality not in ENCODER_MODALITIES[name]:
        fitting = encoders_for(modality)
        raise ValueError(f"encoder {name!r} does not take {modality}; encoders for {modality}: {fitting}")
    enc = factory(input_shape, **options)
    assert isinstance(getattr(enc, "output_dim", None), int), f"encoder {name} must set .output_dim"
    return enc
