"""Losses, by registry. Every loss has the same signature:

    loss(pred (B, A), target (B, A), labels (B,), prototypes (C, A)) -> scalar

`target` is the frozen text embedding of each item's own text (unit norm), `labels` index that
text among the C distinct texts in `prototypes`. Passing class prototypes, instead of the
batch's own targets, is what keeps duplicate texts in a batch from being treated as negatives.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .registry import Registry

LOSSES: Registry = Registry("loss", entry_points="textanchor.losses", decorator="@LOSSES.register(name)")


@LOSSES.register("mse")
class MSELoss(nn.Module):
    """Mean squared error to the text embedding, averaged over batch and dimensions: the
    original textanchor loss (as sentence-transformers' MSELoss for distillation, Reimers &
    Gurevych 2020). It pulls each item onto its text but never pushes other classes away."""

    def forward(self, pred, target, labels=None, prototypes=None):
        return F.mse_loss(pred, target)


@LOSSES.register("cosine")
class CosineLoss(nn.Module):
    """1 - cos(pred, target): matches direction only, which is all that cosine search uses."""

    def forward(self, pred, target, labels=None, prototypes=None):
        return (1 - F.cosine_similarity(pred, target, dim=-1)).mean()


def _prototypes_and_labels(target, labels, prototypes):
    """Without class prototypes, use the distinct targets in the batch (free-text captions)."""
    if prototypes is not None and labels is not None:
        return prototypes, labels
    uniq, inv = torch.unique(target, dim=0, return_inverse=True)
    return uniq, inv


@LOSSES.register("infonce")
class InfoNCELoss(nn.Module):
    """Softmax cross-entropy over cosine similarities to the class-text prototypes with
    temperature tau (InfoNCE, van den Oord et al. 2018; the prototype form as in CLIP's
    zero-shot classifier, Radford et al. 2021). Pushes classes apart, but only cares about
    the ranking, so items need not land *on* their text."""

    def __init__(self, temperature: float = 0.05):
        super().__init__()
        self.temperature = temperature

    def forward(self, pred, target, labels=None, prototypes=None):
        protos, y = _prototypes_and_labels(target, labels, prototypes)
        logits = F.normalize(pred, dim=-1) @ F.normalize(protos, dim=-1).T / self.temperature  # (B, C)
        return F.cross_entropy(logits, y)


@LOSSES.register("mse_infonce")
class MSEInfoNCELoss(nn.Module):
    """Anchored contrastive loss, the answer to "MSE but pushing classes apart":

        L = mean_i ||p_i - t_i||^2  +  weight * InfoNCE(p, prototypes; tau)

    The squared distance (MSE summed over the A dimensions, so its scale does not shrink
    with A) keeps items on their text, as the original; the InfoNCE term adds separation."""

    def __init__(self, temperature: float = 0.05, weight: float = 1.0):
        super().__init__()
        self.infonce = InfoNCELoss(temperature)
        self.weight = weight

    def forward(self, pred, target, labels=None, prototypes=None):
        pull = (pred - target).pow(2).sum(-1).mean()
        return pull + self.weight * self.infonce(pred, target, labels, prototypes)


@LOSSES.register("cosine_infonce")
class CosineInfoNCELoss(nn.Module):
    """1 - cos to the own text plus weight * InfoNCE: the scale-free variant of mse_infonce."""

    def __init__(self, temperature: float = 0.05, weight: float = 1.0):
        super().__init__()
        self.cosine = CosineLoss()
        self.infonce = InfoNCELoss(temperature)
        self.weight = weight

    def forward(self, pred, target, labels=None, prototypes=None):
        return self.cosine(pred, target) + self.weight * self.infonce(pred, target, labels, prototypes)


def create_loss(name: str, **options) -> nn.Module:
    return LOSSES.get(name)(**options)
