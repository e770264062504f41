"""The trainable part: per modality, front end -> encoder -> projector, dict in / dict out.

    {"image": (B, 1, 28, 28), "audio": (B, T)}  ->  {"image": (B, A), "audio": (B, A)}

The text side is the frozen anchor (`textanchor.anchor`), so it has no branch here.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from .encoders import create_encoder
from .fusion import joined_members
from .modalities import Modality, create_modality
from .projectors import create_projector


@dataclass
class BranchConfig:
    """How one modality is embedded; saved in every checkpoint."""

    encoder: str = ""  # encoder registry name; "" = the modality's default
    encoder_options: dict = field(default_factory=dict)
    projector: str = "mlp"  # projector registry name
    projector_options: dict = field(default_factory=dict)
    preprocess: dict = field(default_factory=dict)  # the modality's Config fields
    # Late fusion (`textanchor.fusion`): the modality this branch helps answer once trained ("" =
    # its own). It trains as a branch of its own; loaded, it is averaged into that one's vectors.
    joins: str = ""


class Branch(nn.Module):
    """One modality's path into the text space."""

    def __init__(self, modality: str, cfg: BranchConfig, anchor_dim: int):
        super().__init__()
        self.modality: Modality = create_modality(modality, **cfg.preprocess)
        cfg.encoder = cfg.encoder or self.modality.default_encoder
        self.modality.use_encoder(cfg.encoder)
        cfg.preprocess = self.modality.config_dict()  # fill defaults so the checkpoint is complete
        self.cfg = cfg
        self.frontend = self.modality.frontend()
        self.encoder = create_encoder(cfg.encoder, self.modality.encoder_input_shape(), modality, **cfg.encoder_options)
        self.projector = create_projector(cfg.projector, self.encoder.output_dim, anchor_dim, **cfg.projector_options)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projector(self.encoder(self.frontend(x)))  # (B, A)

    @property
    def cacheable(self) -> bool:
        """True when the encoder's output is a fixed function of the prepared item during
        training (a frozen pretrained encoder, no augmentation, no random front end), so training
        may compute it once per item and train the projector on it (`features`)."""
        return (bool(getattr(self.encoder, "frozen", False)) and not self.modality.augments()
                and isinstance(self.frontend, nn.Identity))

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, *input_shape) prepared items -> (B, D) encoder features (what `project` takes)."""
        return self.encoder(self.frontend(x))

    def project(self, f: torch.Tensor) -> torch.Tensor:
        """(B, D) encoder features -> (B, A) text-space vectors (not normalised)."""
        return self.projector(f)


class AnchoredModel(nn.Module):
    """All modality branches that project into one anchor space of dimension `anchor_dim`."""

    def __init__(self, branches: dict[str, BranchConfig], anchor_dim: int):
        super().__init__()
        self.anchor_dim = anchor_dim
        self.members = joined_members({m: c.joins for m, c in branches.items()})  # ValueError if ill-formed
        self.branches = nn.ModuleDict({m: Branch(m, c, anchor_dim) for m, c in branches.items()})

    @property
    def modalities(self) -> list[str]:
        """Every branch, those that join another included (training trains each)."""
        return list(self.branches.keys())

    def forward(self, batch: dict[str, torch.Tensor], features: frozenset = frozenset()) -> dict[str, torch.Tensor]:
        """{modality: prepared batch} -> {modality: (B, A)}; for modalities in `features` the
        batch holds encoder features already (`Branch.features`), and only the projector runs."""
        return {m: self.branches[m].project(x) if m in features else self.branches[m](x) for m, x in batch.items()}

    def branch_configs(self) -> dict[str, dict]:
        return {m: asdict(b.cfg) for m, b in self.branches.items()}
