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


def unknown_labels(class_names, eval_sets: dict[str, ItemSet]) -> dict[str, list[str]]:
    """{modality: labels of its set that are not among `class_names`} (modalities with none
    left out). Such labels are scored open-vocabulary by `evaluate_checkpoint`: a numeral "7"
    for a model of digit words is a new class, so its items almost never count as right."""
    known = set(class_names)
    out = {m: [n for n in s.class_names if n not in known] for m, s in eval_sets.items() if len(s)}
    return {m: v for m, v in out.items() if v}


def brief_list(names, show: int = 10, quote: bool = False) -> str:
    """"zero, one, ... nine" for a message: up to `show` names (repr'd when `quote`), then how
    many more."""
    names = list(names)
    more = f" and {len(names) - show} more" if len(names) > show else ""
    return ", ".join(map(repr if quote else str, names[:show])) + more


def describe_unknown(class_names, unknown: dict[str, list[str]], show: int = 10) -> str:
    """One message naming the unknown labels and the model's classes (up to `show` of each)."""
    parts = "; ".join(f"{m}: {brief_list(v, show, quote=True)}" for m, v in unknown.items())
    return f"labels the model has no class for ({parts}); its classes are {brief_list(class_names, show, quote=True)}"


def check_labels(class_names, eval_sets: dict[str, ItemSet], open_vocab: bool = False) -> str | None:
    """Refuse a set that shares no label with the model; warn about some unknown labels.

    A set sharing no label with the model (numerals "7" for a model of "seven") would score ~0%
    without a word, so scoring only new classes through the text anchor must be asked for.

    Returns:
        None when every label is a class (or `open_vocab`), else a warning to show the user.
    Raises:
        ValueError: without `open_vocab`, a set none of whose labels is a class of the model.
    """
    unknown = unknown_labels(class_names, eval_sets)
    if not unknown or open_vocab:
        return None
    if any(set(unknown[m]) == set(eval_sets[m].class_names) for m in unknown):
        raise ValueError(f"nothing to score: {describe_unknown(class_names, unknown)}. Relabel the data "
                         "with those class names, or pass --open-vocab to score new classes by their text.")
    return (f"{describe_unknown(class_names, unknown)}; they are scored as new classes by their text "
            "(open vocabulary), so expect them to count as mostly wrong.")


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
