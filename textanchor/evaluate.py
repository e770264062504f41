"""Held-out evaluation of a model or checkpoint: embed each modality's ItemSet and hand the
vectors to the pure functions of `textanchor.metrics`."""
from __future__ import annotations

import numpy as np
import torch

from .data.base import ItemSet
from .data.combine import pooled_classes, relabel
from .metrics import evaluation_report


def evaluate_model(model, eval_sets: dict[str, ItemSet], class_emb: torch.Tensor, class_names: list[str],
                   device: str = "cpu", probes: bool = True, seed: int = 0) -> dict[str, float]:
    """Flat metrics dict (keys in `textanchor.metrics.METRIC_KEYS_DOC`) for a trained model."""
    from .train import embed_tensor

    emb, lab = {}, {}
    for m, s in eval_sets.items():
        if len(s) == 0:
            continue
        x = model.branches[m].modality.prepare(s.items, s.sample_rate)
        emb[m] = embed_tensor(model, m, x, device).numpy()
        lab[m] = relabel(s, class_names)
    return evaluation_report(emb, lab, class_emb.numpy(), probes=probes, seed=seed)


def evaluate_checkpoint(embedder, eval_sets: dict[str, ItemSet], probes: bool = True, seed: int = 0) -> dict[str, float]:
    """Flat metrics for a loaded checkpoint (`textanchor.pipeline.Embedder`).

    Classes of the data that the checkpoint never saw are embedded with its text anchor
    (open vocabulary); the metrics then rank against the union of both class lists."""
    names = list(embedder.class_names)
    protos = embedder.class_embeddings
    new = pooled_classes([embedder, *eval_sets.values()])[len(names):]
    if new:
        extra = embedder.anchor.class_embeddings(new, embedder.templates)
        protos = torch.cat([protos, extra])
        names += new
    emb = {m: embedder.embed(m, s.items, s.sample_rate) for m, s in eval_sets.items() if len(s)}
    lab = {m: relabel(s, names) for m, s in eval_sets.items() if len(s)}
    report = evaluation_report(emb, lab, protos.numpy(), probes=probes, seed=seed)
    report.update({f"{m}/n_classes": float(len(np.unique(lab[m]))) for m in lab})
    return report
