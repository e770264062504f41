"""Late fusion: one modality answered by several branches, their unit vectors averaged.

A branch whose config says `joins: "audio"` is trained like any other (its own data, loss and
encoder, e.g. a frozen speech embedding at 16 kHz beside an audio CNN trained at 8 kHz) but is
never a modality of its own once loaded: every "audio" vector is then the normalised mean of the
two branches' unit vectors. Averaging the outputs of separately trained models is the oldest
ensemble (Hansen & Salamon 1990); it helps most where the members err differently, as a network
trained here on a few speakers and a keyword spotter trained on thousands do (docs/digits.md,
"Two audio branches").

So that a batch can be prepared once and embedded later (corpus embedding in DataLoader workers,
`Embedder.embed_prepared`), a fused modality's prepared batch is one (B, sum of member sizes)
tensor: each member's own preparation, flattened and laid side by side.
"""
from __future__ import annotations

import math

import torch


def fuse(vectors: list[torch.Tensor]) -> torch.Tensor:
    """[(B, A) vectors of each member] -> (B, A) unit vectors: the mean of their unit vectors."""
    unit = [torch.nn.functional.normalize(v, dim=-1) for v in vectors]
    return torch.nn.functional.normalize(torch.stack(unit).mean(0), dim=-1)


def joined_members(branch_joins: dict[str, str]) -> dict[str, list[str]]:
    """{branch: the modality it joins, or ""} -> {modality: [itself, then the branches joining it]}
    for every branch that joins nothing.

    Raises: ValueError: a branch joins itself, a missing branch, or a branch that itself joins another."""
    for m, target in branch_joins.items():
        if not target:
            continue
        if target == m:
            raise ValueError(f"the {m} branch cannot join itself")
        if target not in branch_joins:
            raise ValueError(f"the {m} branch joins {target!r}, which is no branch of this model "
                             f"(branches: {', '.join(branch_joins)})")
        if branch_joins[target]:
            raise ValueError(f"the {m} branch joins {target!r}, which itself joins {branch_joins[target]!r}; "
                             "join the branch that answers")
    return {m: [m, *(j for j, t in branch_joins.items() if t == m)] for m, t in branch_joins.items() if not t}


class FusedInput:
    """The input side of a fused modality, shaped like a `Modality` where files are read and
    batches prepared (`read_file`, `prepare`, `input_shape`, `file_extensions`): files are read
    by the member with the highest sample rate, at `read_rate` (so none gets a narrower band than
    it trained on), and `prepare` packs every member's preparation (module doc); the rest is the
    answering branch's.

    Args: modalities: {branch name: its Modality}, the answering branch first."""

    def __init__(self, modalities: dict):
        self.modalities = dict(modalities)
        self.primary = next(iter(self.modalities.values()))
        rate = lambda mod: getattr(getattr(mod, "cfg", None), "sample_rate", None) or 0  # noqa: E731
        self.reader = max(self.modalities.values(), key=rate)  # the first of the highest rate
        self.read_rate = rate(self.reader) or None  # what read_file gives: pass it to prepare
        self.shapes = {m: tuple(mod.input_shape()) for m, mod in self.modalities.items()}
        self.size = sum(math.prod(s) for s in self.shapes.values())

    def read_file(self, path):
        """One file decoded at `read_rate` (give that rate to `prepare`)."""
        return self.reader.read_file(path)

    def __getattr__(self, name):  # file_extensions, cfg, render, name...: the answering branch's
        if name.startswith("__") or "primary" not in self.__dict__:  # copying or unpickling
            raise AttributeError(name)
        return getattr(self.__dict__["primary"], name)

    def input_shape(self) -> tuple[int]:
        return (self.size,)

    def prepare(self, items: list, sample_rate: int | None = None) -> torch.Tensor:
        """Decoded items at `sample_rate` (None: `read_rate`, what `read_file` gives and
        `Embedder.embed` assumes) -> (B, sum of member sizes) packed batch; each member resamples
        and crops them as it does alone."""
        sample_rate = sample_rate or self.read_rate
        parts = [mod.prepare(items, sample_rate).reshape(len(items), math.prod(shape))
                 for mod, shape in zip(self.modalities.values(), self.shapes.values())]
        return torch.cat(parts, dim=1)

    def unpack(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """(B, packed) -> {branch name: (B, *its input shape)}.

        Raises: ValueError: x is not a packed batch (one branch's own preparation, say)."""
        if x.ndim != 2 or x.shape[1] != self.size:
            raise ValueError(f"expected a packed batch of shape (B, {self.size}) from Embedder.inputs(...).prepare "
                             f"(this modality is answered by {len(self.shapes)} branches), got {tuple(x.shape)}")
        out, at = {}, 0
        for m, shape in self.shapes.items():
            n = math.prod(shape)
            out[m] = x[:, at: at + n].reshape(len(x), *shape)
            at += n
        return out
