"""Held-out evaluation of a model or checkpoint: embed each modality's ItemSet and hand the
vectors to the pure functions of `textanchor.metrics`."""
from __future__ import annotations

import numpy as np
import torch

from .data.base import ItemSet
from .data.combine import pooled_classes, relabel
from .fusion import fuse
from .metrics import evaluation_report


def evaluate_model(model, eval_sets: dict[str, ItemSet], class_emb: torch.Tensor, class_names: list[str],
                   device: str = "cpu", probes: bool = True, seed: int = 0,
                   unseen: dict[str, list[str]] | None = None, features: dict | None = None) -> dict[str, float]:
    """Flat metrics dict (keys in `textanchor.metrics.METRIC_KEYS_DOC`) for a trained model.

    unseen: {modality: classes its branch never trained on}; adds `unseen_report`'s keys.
    features: {modality: (N, D) encoder features of all of its eval set}, already computed (a
        frozen encoder's, by training), so they are not computed again."""
    from .train import embed_tensor, item_features

    emb, lab = {}, {}
    for m, s in eval_sets.items():
        if len(s) == 0:
            continue
        f = (features or {}).get(m)
        if f is None or len(f) != len(s):
            # Prepared and encoded in chunks: 2,000 photos at 160 px are 600 MB as one tensor.
            f = item_features(model.branches[m], s.items, s.sample_rate, device)
        emb[m] = embed_tensor(model, m, f, device, features=True).numpy()
        lab[m] = relabel(s, class_names)
    # A modality other branches join (`textanchor.fusion`) is scored as it answers: the fused
    # vectors, where its members were scored on the same items; each member keeps its own keys.
    for m, names in getattr(model, "members", {}).items():
        if len(names) > 1 and all(n in emb and eval_sets[n].sources == eval_sets[m].sources for n in names):
            emb[m] = fuse([torch.from_numpy(emb[n]) for n in names]).numpy()
    # Per-class accuracies too ("{m}/zero_shot_acc/{class}"): what a class-balanced sample of the
    # held-out items (a golden test, the shipped gallery) should score is their mean, not the overall figure.
    report = evaluation_report(emb, lab, class_emb.numpy(), class_names=class_names, probes=probes, seed=seed)
    report.update(unseen_report(emb, lab, class_emb.numpy(), class_names, unseen or {}))
    return report


def unseen_report(emb: dict, lab: dict, class_emb: np.ndarray, class_names: list[str],
                  unseen: dict[str, list[str]]) -> dict[str, float]:
    """Seen versus unseen classes per modality (`openvocab.open_vocab_report`), keyed
    "{m}/open/{key}": e.g. "sketch/open/unseen/acc_unseen", accuracy on items of classes the
    branch never trained on, ranked among those classes only, next to "sketch/open/chance/unseen".

    Args: emb, lab: {modality: (N, A) vectors, (N,) class indices}; class_emb (C, A);
        unseen: {modality: class names held out of its training} (modalities without any skipped).
    """
    from .openvocab import open_vocab_report

    out = {}
    pos = {n: i for i, n in enumerate(class_names)}
    for m, names in unseen.items():
        if m not in emb or not names:
            continue
        u = np.array(sorted(pos[n] for n in names if n in pos))
        present = np.unique(lab[m])
        seen = np.setdiff1d(present, u)
        is_u = np.isin(lab[m], u)
        rep = open_vocab_report(emb[m][~is_u], lab[m][~is_u], emb[m][is_u], lab[m][is_u], class_emb,
                                seen if len(seen) else present, u)
        out.update({f"{m}/open/{k}": v for k, v in rep.items()})
    return out


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
