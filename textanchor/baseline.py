"""The plain-classifier baseline: the same encoder, augmentation, optimiser and schedule as
`train`, but a linear 10-way head trained with cross-entropy instead of a projector onto the
text. It answers "does anchoring on text cost accuracy?"."""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn

from .config import TrainConfig
from .data.base import ItemSet
from .data.combine import relabel
from .encoders import create_encoder
from .modalities import create_modality
from .train import _cycle_batches, batch_size, pick_device


class Classifier(nn.Module):
    def __init__(self, modality: str, branch_cfg, n_classes: int):
        super().__init__()
        self.modality = create_modality(modality, **branch_cfg.preprocess)
        enc = branch_cfg.encoder or self.modality.default_encoder
        self.modality.use_encoder(enc)
        self.frontend = self.modality.frontend()
        self.encoder = create_encoder(enc, self.modality.encoder_input_shape(), modality, **branch_cfg.encoder_options)
        self.head = nn.Linear(self.encoder.output_dim, n_classes)

    def forward(self, x):  # (B, ...) -> (B, C) logits
        return self.head(self.encoder(self.frontend(x)))


def train_classifier(cfg: TrainConfig, modality: str, train_set: ItemSet, eval_set: ItemSet,
                     steps: int | None = None, feature_cache: dict | None = None) -> dict:
    """Train and score one modality's classifier with `cfg`'s budget (the branch's own
    learning rate and batch size, as the anchored run uses them).

    A frozen encoder without augmentation is run once per item (as `train` does, sharing
    `feature_cache`) and only the linear head trains: the same budget as the anchored projector.

    Args:
        steps: optimiser steps; pass the anchored run's step count (`textanchor.train.total_steps`) so
            both see the same batches of this modality. None: `cfg.epochs` passes over the data.
    Returns: {"accuracy": held-out accuracy, "seconds": wall time, "steps": steps}."""
    from .model import Branch
    from .train import cached_features

    t0 = time.time()
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    device = pick_device(cfg.device)
    names = list(dict.fromkeys(train_set.class_names + eval_set.class_names))
    recipe = cfg.modalities[modality]
    model = Classifier(modality, recipe.branch, len(names)).to(device).train()
    frozen = bool(getattr(model.encoder, "frozen", False)) and not model.modality.augments()
    if frozen:  # features once; the head alone trains on them
        branch = Branch(modality, recipe.branch, 1)
        branch.encoder = model.encoder
        x = cached_features(branch, train_set, device, feature_cache)
        run = model.head
    else:
        x = model.modality.prepare(train_set.items, train_set.sample_rate)
        run = model
    y = torch.from_numpy(relabel(train_set, names))
    bs = batch_size(cfg, modality, len(x))
    steps = steps or max(1, len(x) // bs) * cfg.epochs
    lr = recipe.lr or cfg.lr
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(steps, 2), pct_start=0.15)
    batches = _cycle_batches(len(x), bs, gen)
    for _ in range(steps):
        idx = next(batches)
        xb = x[idx].to(device) if frozen else model.modality.augment(x[idx].to(device), generator=gen)
        loss = F.cross_entropy(run(xb), y[idx].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    xe = cached_features(branch, eval_set, device, feature_cache) if frozen else \
        model.modality.prepare(eval_set.items, eval_set.sample_rate)
    ye = relabel(eval_set, names)
    with torch.no_grad():
        pred = torch.cat([run(xe[s: s + 512].to(device)).argmax(1).cpu() for s in range(0, len(xe), 512)])
    return {"accuracy": float((pred.numpy() == ye).mean()), "seconds": time.time() - t0, "steps": steps}
