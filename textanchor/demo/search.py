"""One query (a sketch, a recording, a text, a video, or an item of any registered modality) ->
its zero-shot label and the nearest gallery items of every modality, in shapes the page shows
directly (images and clips as files; other modalities through their `Modality.render`)."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..video import PART_MODALITY, best_per_video, embed_video_file
from .gallery import Gallery
from .inputs import InputError

NOUNS = {"image": "images", "audio": "clips", "video": "videos"}  # result kinds, in page order
# "picture", not "sketch": the image query may be a photo or an API client's file; the caller
# that knows it was drawn passes noun="sketch" to `run_query`.
QUERY_NOUNS = {"image": "picture", "audio": "recording", "text": "text", "video": "video", "sketch": "sketch",
               "photo": "photo", "sound": "sound", "speech": "spoken word"}
# How many of a modality's items a status line names ("4 sketches"): the plural of each noun.
ITEM_NOUNS = {"image": "images", "audio": "clips", "video": "videos", "sketch": "sketches", "photo": "photos",
              "sound": "sounds", "speech": "spoken words"}
# Below this zero-shot confidence the status says the model is unsure (results still show).
# Measured with checkpoints/digits (10 digit classes, chance 10%) on 2026-11-29: right answers on
# tests/golden score min 57% / 5th percentile 96% (MNIST, 49 of 50 right) and min 93% / p5 96%
# (FSDD, 49 of 50); inputs that are no digit score 38% (uniform RGB noise 280x280 that passes
# the texture check), 31-37% (drawn letters x, K), 16-40% (15 words: "sept" 40%, "a cat" 27%,
# an emoji 20%), 59% (a dog video frame, the newcomer trial). 0.6 flags all of those and 1 of
# the 98 right golden answers; letters shaped like a digit (A 92%, Q 99%) stay confident.
UNSURE_BELOW = 0.6


def _page_order(mods) -> list[str]:
    """Image, audio, any other modality (a plugin's), then videos."""
    return sorted(mods, key=lambda m: (m == "video", m not in ("image", "audio"), m))


@dataclass
class QueryResult:
    modality: str  # of the query: "image", "audio", "text" or "video"
    vector: np.ndarray  # (D,) unit query embedding
    label: str  # zero-shot class
    confidence: float  # its softmax probability over the checkpoint's classes
    top_classes: dict[str, float]  # the 5 most likely classes -> probability
    hits: dict[str, list] = field(default_factory=dict)  # gallery modality or "video" -> [index.Hit] best first
    seconds: float = 0.0  # embedding + search time
    note: str = ""  # about the query itself ("no audio stream": a silent video)
    noun: str = ""  # what the status calls the query ("sketch"); default from QUERY_NOUNS
    class_names: tuple = ()  # the checkpoint's classes, named when the answer is unsure

    kinds: dict = field(default_factory=dict)  # gallery modality -> its result kind ("image", "audio", "plot")
    unseen: dict = field(default_factory=dict)  # modality -> classes its branch never trained on

    def caption(self, hit) -> str:
        """"dog · 0.83", and "· never trained" for an item of a class its branch never saw, found
        through the class's text alone (open vocabulary)."""
        new = " · never trained" if hit.label in self.unseen.get(hit.modality, ()) else ""
        return f"{hit.label} · {hit.score:.2f}{new}"

    def _of_kind(self, kind: str, gallery: Gallery) -> list[tuple[str, str]]:
        """[(file, caption)] of every modality shown as `kind`, modality by modality in page
        order; captions name the modality when several share the view (sketches and photos)."""
        mods = [m for m in _page_order(self.hits) if m != "video" and self.kinds.get(m, m) == kind]
        tag = (lambda m: f" · {m}") if len(mods) > 1 else (lambda m: "")
        return [(gallery.file(h.id), self.caption(h) + tag(m)) for m in mods for h in self.hits[m]]

    def images(self, gallery: Gallery) -> list[tuple[str, str]]:
        """[(png path, "seven · 0.83")] for a Gallery component: every modality shown as an image."""
        return self._of_kind("image", gallery)

    def clips(self, gallery: Gallery) -> list[tuple[str, str]]:
        """[(wav path, "seven · 0.81")] for the audio players: every modality heard as a clip."""
        return self._of_kind("audio", gallery)

    def videos(self, gallery: Gallery) -> list[tuple[str, str]]:
        """[(video path, "seven · 0.79 (sound)")]: one per gallery video, found by its fused
        vector or by a part (frames or sound), which the caption names."""
        return [(gallery.file(h.meta.get("video", h.id)), self.caption(h) + ("" if h.meta.get("part", "whole") == "whole"
                 else f" ({'frames' if h.meta['part'] == 'image' else 'sound'})")) for h in self.hits.get("video", [])]

    def rendered(self, gallery: Gallery, embedder) -> list[tuple[str, object, str]]:
        """[(kind, value, caption)] for hits of modalities other than image, audio and video,
        each item shown by its own `Modality.render` (kind "image", "audio" or "plot")."""
        out = []
        for m in _page_order(self.hits):
            if m in NOUNS or self.kinds.get(m) in ("image", "audio"):
                continue
            modality = embedder.branch(m).modality
            for h in self.hits[m]:
                kind, value = modality.render(np.load(gallery.file(h.id)), h.meta.get("rate"))
                out.append((kind, value, f"{self.caption(h)} ({m})"))
        return out

    def rows(self) -> dict:
        """A JSON summary (the API's most convenient output)."""
        return {
            "query": {"modality": self.modality, "label": self.label, "confidence": round(self.confidence, 4),
                      "unsure": self.unsure, **({"note": self.note} if self.note else {})},
            "results": [{"id": h.id, "modality": h.modality, "label": h.label, "score": round(h.score, 4)}
                        for m in _page_order(self.hits) for h in self.hits[m]],
            "seconds": round(self.seconds, 4),
        }

    def summary(self) -> str:
        """Markdown line for the status area."""
        found = ", ".join(f"{len(self.hits[m])} {_noun(m, len(self.hits[m]))}" for m in _page_order(self.hits))
        src = self.noun or QUERY_NOUNS.get(self.modality, f"{self.modality} query")
        note = f" ({self.note})" if self.note else ""
        line = f"The {src}{note} reads as **{self.label}** ({self.confidence:.0%} zero-shot confidence). "
        if self.unsure:
            line = (f"Not sure: the {src}{note} reads as **{self.label}** ({shown_under(self.confidence)} zero-shot "
                    f"confidence, under {UNSURE_BELOW:.0%}): it may be none of the {len(self.class_names)} classes this model "
                    f"knows ({known_classes(self.class_names)}). ")
        never = [m for m in _page_order(self.unseen) if self.label in self.unseen[m]]
        if never:
            line += (f"The {' and '.join(never)} branch{'es' if len(never) > 1 else ''} never trained on a "
                     f"{self.label}: {'those' if len(never) > 1 else 'its'} results come through the text alone. ")
        return line + f"Found {found} in {self.seconds * 1000:.0f} ms."

    @property
    def unsure(self) -> bool:
        """True when the zero-shot confidence is under `UNSURE_BELOW` (likely not one of the classes)."""
        return self.confidence < UNSURE_BELOW


def shown_under(confidence: float, percent: bool = True) -> str:
    """A confidence under `UNSURE_BELOW` as shown ("38%", or "0.38" with percent=False): rounded
    to nearest unless that reaches the line, then down (0.597 read "60% zero-shot confidence,
    under 60%")."""
    hundredths = round(confidence * 100)
    if hundredths >= round(UNSURE_BELOW * 100):
        hundredths = math.floor(confidence * 100)
    return f"{hundredths}%" if percent else f"{hundredths / 100:.2f}"


def _noun(modality: str, n: int) -> str:
    """"clips" / "clip" (n == 1) for a result kind; "<modality> items" for a plugin's."""
    plural = ITEM_NOUNS.get(modality, f"{modality} items")
    if n != 1:
        return plural
    return plural[:-2] if plural.endswith("ches") else plural.replace(" items", " item").removesuffix("s")


def query_noun(modality: str, value) -> str:
    """"sketch" for a Sketchpad value (a dict of layers/background/composite), else "" (the
    default noun: an uploaded or API picture is a "picture")."""
    if modality == "image" and isinstance(value, dict) and {"layers", "background", "composite"} & set(value):
        return "sketch"
    return ""


def known_classes(names, show: int = 10) -> str:
    """"zero, one, ... nine" for a status line: up to `show` names, then how many more."""
    from ..evaluate import brief_list

    return brief_list(names, show)


def run_query(embedder, gallery: Gallery, modality: str, item, k: int = 6, sample_rate: int | None = None,
              noun: str = "", note: str = "") -> QueryResult:
    """Embed one query item and search every gallery modality.

    Args:
        embedder: the active `Embedder`.
        gallery: the gallery to search.
        modality: "image" (an (H, W) uint8 array), "audio" (a float32 wave at `sample_rate`),
            "text" (a str), "video" (a file path; its fused frames + sound vector is the query),
            or any other modality of the checkpoint (an item its `Modality.prepare` takes).
        k: results per gallery modality; gallery videos found by their fused vector, frames or
            sound count once each.
        noun: what the status calls the query ("sketch" for a drawing); default `QUERY_NOUNS`.
        note: what the status says about the query itself ("2 words heard; ..."); a video's
            own note (a silent sound track) takes its place.

    Raises:
        InputError: a video that cannot be decoded or has no frames.
    """
    from ..data import DataError

    t0 = time.perf_counter()
    if modality == "video":
        try:
            emb, video = embed_video_file(embedder, item)
        except DataError as e:
            raise InputError(f"This video cannot be used: {e}") from None
        q, note = emb.fused[0], video.note
    else:
        q = embedder.embed(modality, [item], sample_rate)[0]  # (D,)
    labels, probs = embedder.classify(q[None])
    p = probs[0]
    order = np.argsort(-p)[:5]
    names = embedder.class_names
    mods = gallery.index.modalities()
    hits = {m: gallery.index.search(q, k=k, modality=m) for m in mods
            if m != "video" and m not in PART_MODALITY.values()}
    video_rows = [m for m in mods if m == "video" or m in PART_MODALITY.values()]
    if video_rows:  # every part of a video may match: search deeper, then keep its best row
        hits["video"] = best_per_video(gallery.index.search(q, k=3 * k, modality=video_rows))[:k]
    kinds = {m: embedder.branch(m).modality.result_kind for m in hits if m in embedder.modalities}
    unseen = {m: v for m, v in embedder.unseen.items() if v}
    return QueryResult(modality, q, names[int(labels[0])], float(p[labels[0]]),
                       {names[i]: float(p[i]) for i in order}, hits, time.perf_counter() - t0, note, noun, tuple(names),
                       kinds, unseen)
