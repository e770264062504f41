"""The contract every modality implements (see `textanchor.modalities`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

from ..registry import Registry

MODALITIES: Registry[type["Modality"]] = Registry("modality")


class Modality:
    """Base class. Subclasses set `name`, `default_encoder`, `file_extensions`, a `Config`
    dataclass with the preprocessing settings (saved in every checkpoint), and implement
    `prepare`; `augment`, `frontend` and `read_file` are optional."""

    name: str = ""
    default_encoder: str = ""
    file_extensions: tuple[str, ...] = ()

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

    def config_dict(self) -> dict:
        return asdict(self.cfg)

    def input_shape(self) -> tuple[int, ...]:
        """Shape of one prepared item, without the batch dimension."""
        raise NotImplementedError

    def prepare(self, items: list, sample_rate: int | None = None) -> torch.Tensor:
        """Decoded items -> (N, *input_shape) float tensor on the CPU."""
        raise NotImplementedError

    def augment(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Training-time augmentation of a prepared batch (on its device). Default: none."""
        return x

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


def create_modality(name: str, **options: Any) -> Modality:
    """Build a registered modality with its preprocessing options."""
    return MODALITIES.get(name)(**options)
