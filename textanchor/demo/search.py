"""One query (a sketch, a recording or a text) -> its zero-shot label and the nearest gallery
images and clips, in shapes the page shows directly."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .gallery import Gallery


@dataclass
class QueryResult:
    modality: str  # of the query: "image", "audio" or "text"
    vector: np.ndarray  # (D,) unit query embedding
    label: str  # zero-shot class
    confidence: float  # its softmax probability over the checkpoint's classes
    top_classes: dict[str, float]  # the 5 most likely classes -> probability
    hits: dict[str, list] = field(default_factory=dict)  # gallery modality -> [index.Hit] best first
    seconds: float = 0.0  # embedding + search time

    def caption(self, hit) -> str:
        return f"{hit.label} · {hit.score:.2f}"

    def images(self, gallery: Gallery) -> list[tuple[str, str]]:
        """[(png path, "seven · 0.83")] for a Gallery component."""
        return [(gallery.file(h.id), self.caption(h)) for h in self.hits.get("image", [])]

    def clips(self, gallery: Gallery) -> list[tuple[str, str]]:
        """[(wav path, "seven · 0.81")] for the audio players."""
        return [(gallery.file(h.id), self.caption(h)) for h in self.hits.get("audio", [])]

    def rows(self) -> dict:
        """A JSON summary (the API's most convenient output)."""
        return {
            "query": {"modality": self.modality, "label": self.label, "confidence": round(self.confidence, 4)},
            "results": [{"id": h.id, "modality": h.modality, "label": h.label, "score": round(h.score, 4)}
                        for m in ("image", "audio") for h in self.hits.get(m, [])],
            "seconds": round(self.seconds, 4),
        }

    def summary(self) -> str:
        """Markdown line for the status area."""
        found = ", ".join(f"{len(v)} {'images' if m == 'image' else 'clips'}" for m, v in self.hits.items())
        src = {"image": "sketch", "audio": "recording", "text": "text"}[self.modality]
        return (f"The {src} reads as **{self.label}** ({self.confidence:.0%} zero-shot confidence). "
                f"Found {found} in {self.seconds * 1000:.0f} ms.")


def run_query(embedder, gallery: Gallery, modality: str, item, k: int = 6, sample_rate: int | None = None) -> QueryResult:
    """Embed one query item and search every gallery modality.

    Args:
        embedder: the active `Embedder`.
        gallery: the gallery to search.
        modality: "image" (an (H, W) uint8 array), "audio" (a float32 wave at `sample_rate`)
            or "text" (a str).
        k: results per gallery modality.
    """
    t0 = time.perf_counter()
    q = embedder.embed(modality, [item], sample_rate)[0]  # (D,)
    labels, probs = embedder.classify(q[None])
    p = probs[0]
    order = np.argsort(-p)[:5]
    names = embedder.class_names
    hits = {m: gallery.index.search(q, k=k, modality=m) for m in gallery.index.modalities()}
    return QueryResult(modality, q, names[int(labels[0])], float(p[labels[0]]),
                       {names[i]: float(p[i]) for i in order}, hits, time.perf_counter() - t0)
