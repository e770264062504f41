"""Inference from a checkpoint: decoded items, files or texts -> unit vectors in the anchor
space, plus zero-shot labels against the stored class texts. The app, the CLI, evaluation
and the index all embed through `Embedder`."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch

from .checkpoint import load_checkpoint
from .fusion import FusedInput, fuse
from .modalities import modality_for_path, read_query


class Embedder:
    """A loaded checkpoint ready to embed.

    The text model is loaded lazily: class-level search and zero-shot labels work from the
    class embeddings stored in the checkpoint, without it.
    """

    def __init__(self, model, config: dict, anchor=None, device: str = "cpu", path: str | None = None):
        self.model = model.to(device).eval()
        self.config = config
        self.device = device
        self.path = path
        self.class_names: list[str] = list(config["class_names"])
        self.templates: list[str] = list(config["templates"])
        self.class_embeddings = torch.tensor(config["class_embeddings"], dtype=torch.float32)  # (C, A)
        self.anchor_name: str = config["anchor"]["name"]
        self.dim: int = int(config["anchor"]["dim"])
        self._anchor = anchor
        self._lock = threading.Lock()
        self._inputs: dict = {}  # modality -> its Modality or FusedInput (`inputs`)

    @classmethod
    def from_checkpoint(cls, folder: str | Path, device: str = "cpu", anchor=None) -> "Embedder":
        model, cfg = load_checkpoint(
            folder, anchor_name=None if anchor is None else anchor.name,
            anchor_dim=None if anchor is None else anchor.dim, device=device,
        )
        return cls(model, cfg, anchor=anchor, device=device, path=str(folder))

    @property
    def modalities(self) -> list[str]:
        """The modalities it answers: branches that join another (`BranchConfig.joins`) are part
        of that one's answer, not modalities of their own."""
        return list(self.model.members)

    def members(self, modality: str) -> list[str]:
        """The branches whose vectors make `modality`'s: [modality] unless others join it."""
        self.branch(modality)  # ValueError naming the branches it has
        return self.model.members.get(modality, [modality])

    def inputs(self, modality: str):
        """What reads and prepares `modality`'s items: its branch's Modality, or for a fused
        modality a `fusion.FusedInput` that prepares every member's input in one tensor (made
        once: every embedded batch asks for it)."""
        if modality not in self._inputs:
            names = self.members(modality)
            self._inputs[modality] = self.branch(modality).modality if len(names) == 1 else \
                FusedInput({m: self.branch(m).modality for m in names})
        return self._inputs[modality]

    def sample_rate(self, modality: str) -> int | None:
        """The rate to decode `modality`'s audio at (Hz): the highest any of its branches reads
        (`FusedInput.read_rate`), so none is given a narrower band than it trained on. None for
        modalities without a rate."""
        inp = self.inputs(modality)
        return getattr(inp, "read_rate", None) or getattr(getattr(inp, "cfg", None), "sample_rate", None)

    @property
    def unseen(self) -> dict[str, frozenset]:
        """{modality: the classes its branch never trained on} (open vocabulary; empty sets when
        the recipe held none out)."""
        recipe = (self.config.get("recipe") or {}).get("modalities", {})
        return {m: frozenset((recipe.get(m) or {}).get("unseen") or ()) for m in self.modalities}

    @property
    def anchor(self):
        """The text anchor, loaded on first use (a few seconds)."""
        with self._lock:
            if self._anchor is None:
                from .anchor import TextAnchor

                self._anchor = TextAnchor(self.anchor_name)
            return self._anchor

    def branch(self, modality: str):
        if modality not in self.model.branches:
            raise ValueError(f"this checkpoint has no {modality} branch; it embeds {self.modalities}")
        return self.model.branches[modality]

    @torch.no_grad()
    def embed(self, modality: str, items: list, sample_rate: int | None = None, batch_size: int = 256,
              speeds: tuple[float, ...] | None = None) -> np.ndarray:
        """Decoded items -> (N, A) float32 unit vectors. `text` items go through the anchor.

        sample_rate: the audio items' rate in Hz. None means the rate the model reads
        (`sample_rate(modality)`: 16 kHz for the digits model, what `read_file` and the app decode
        at), so pass the rate whenever your waves are at another. A branch that joins another can still be
        embedded alone by its name (research: how one member reads). Where the recipe sets
        `test_speeds`, audio is embedded at each speed and the unit vectors averaged
        (`test_speeds`); `speeds` overrides them ((1.0,): speed 1 alone). `embed_prepared` and
        corpus embedding read at speed 1 only.

        Raises: ValueError: an item is a single number (a bare wave passed instead of a list of
        waves), an array item holds no samples or pixels, or a NaN or infinite value (the network
        would turn it into a confident answer; the app and CLI refuse such files before they get
        here); `sample_rate` is not a positive whole number of Hz."""
        if modality == "text":
            return self.anchor.encode(list(items)).numpy()
        check_items(items)
        # None: the rate `sample_rate(modality)` advertises (a fused modality's highest member
        # rate), not the answering branch's own: two newcomers decoded at the advertised 16 kHz,
        # left the rate out and got 8 kHz readings (3 of 10 right).
        rate = self.sample_rate(modality)
        sample_rate = check_rate(sample_rate) or rate
        speeds = tuple(speeds) if speeds is not None else self.test_speeds(modality)
        if speeds == (1.0,):
            return self._embed_once(modality, items, sample_rate, batch_size)
        # Speed-perturbed copies, averaged (test-time augmentation): each item is first brought
        # to the read rate, so every copy is one small resampling ratio (9/10, 11/10) from it.
        from .data.audio_io import resample, to_mono

        if rate is None:
            raise ValueError(f"speeds {speeds} apply to audio; {modality!r} has no sample rate")
        waves = [resample(to_mono(x), sample_rate, rate) for x in items]
        z = sum(torch.nn.functional.normalize(torch.from_numpy(
            self._embed_once(modality, waves, int(round(rate * s)), batch_size)), dim=-1) for s in speeds)
        return torch.nn.functional.normalize(z, dim=-1).numpy()

    def test_speeds(self, modality: str) -> tuple[float, ...]:
        """The speed factors whose vectors `embed` averages for `modality` (its recipe's
        `test_speeds`); (1.0,) when the recipe sets none. A factor 1.1 plays the wave 10% faster
        (tempo and pitch together, as the training copies' speed perturbation does)."""
        recipe = ((self.config.get("recipe") or {}).get("modalities") or {}).get(modality) or {}
        return tuple(float(s) for s in recipe.get("test_speeds") or (1.0,))

    def _embed_once(self, modality: str, items: list, sample_rate: int | None, batch_size: int) -> np.ndarray:
        prepare = self.inputs(modality).prepare
        out = [self.embed_prepared(modality, prepare(items[s: s + batch_size], sample_rate))
               for s in range(0, len(items), batch_size)]
        if not out:
            return np.zeros((0, self.dim), np.float32)
        return torch.cat(out).numpy()

    @torch.no_grad()
    def embed_prepared(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        """A prepared batch (B, *input_shape) (`inputs(modality).prepare`) -> (B, A) unit vectors
        on the CPU; a fused modality's is the normalised mean of its members' (`fusion.fuse`)."""
        x = x.to(self.device)
        inp = self.inputs(modality)
        if not isinstance(inp, FusedInput):
            return torch.nn.functional.normalize(self.branch(modality)(x), dim=-1).cpu()
        return fuse([self.branch(m)(part) for m, part in inp.unpack(x).items()]).cpu()

    def modality_of_file(self, path: str | Path) -> str:
        """The checkpoint's modality that reads this file's extension (the registry's one rule,
        `modality_for_path`). Raises ValueError: none of them, or several, read it."""
        return modality_for_path(path, self.modalities)

    def embed_files(self, paths: list[str | Path], modality: str | None = None) -> tuple[np.ndarray, list[str]]:
        """Files of any supported modality -> ((N, A) vectors, modality of each).

        Args: modality: the branch that reads every file (None: each file's extension names it).
        Raises: ValueError: no branch, or several, read a file's extension (and `modality` is None).
        """
        if modality is not None:
            self.branch(modality)  # ValueError naming the branches it has
        mods = [modality or self.modality_of_file(p) for p in paths]
        vecs = np.zeros((len(paths), self.dim), np.float32)
        for m in set(mods):
            idx = [i for i, mm in enumerate(mods) if mm == m]
            # read_file decodes at sample_rate(m) (a fused modality's highest member rate), the
            # rate embed assumes without one
            vecs[idx] = self.embed(m, [self.inputs(m).read_file(str(paths[i])) for i in idx])
        return vecs, mods

    def embed_query_file(self, path: str | Path, modality: str | None = None, notes: list | None = None) -> np.ndarray:
        """One query file -> (A,) vector, checked as the app checks an upload (the modality's
        `query_item`: a recording without speech, an empty or over-large file are refused).

        Args: modality: the branch that reads it (None: the one its extension names; a things
            model's sketch and photo branches both read .png, its sound and speech ones .wav).
            notes: a list that gets what the answer should say about the file, as the app's
            (a recording with several words: which one was searched).
        Raises:
            ValueError: the file does not exist, no branch reads it, or the modality refuses it
                (the message is meant for the user).
        """
        if not Path(path).is_file():
            raise ValueError(f"{Path(path).resolve()} does not exist (or is not a file).")
        m = modality or self.modality_of_file(path)
        item, sr = read_query(self.branch(m).modality, str(path), notes)  # ValueError for a branch it lacks
        return self.embed(m, [item], sr)[0]

    def classify(self, emb: np.ndarray, temperature: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """Zero-shot: nearest class text. Returns (labels (N,), probabilities (N, C)), the
        probabilities a softmax over cosines at `temperature` (a confidence, not calibrated)."""
        sims = np.asarray(emb, np.float32) @ self.class_embeddings.numpy().T  # (N, C)
        z = sims / temperature
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        return sims.argmax(1), p


def check_items(items: list) -> None:
    """ValueError naming the first item that is a bare number, or an array (numpy or torch) that
    is empty or not finite; other items (PIL images, paths a modality reads) pass unchecked."""
    for i, item in enumerate(items):
        if isinstance(item, (int, float, np.number)):
            raise ValueError(f"item {i} is a single number: embed takes a list of items, "
                             "e.g. embed(\"audio\", [wave], sample_rate), not one bare wave")
        if isinstance(item, torch.Tensor):
            item = item.detach().cpu().numpy()
        if not isinstance(item, np.ndarray):
            continue
        if item.size == 0:
            raise ValueError(f"item {i} is empty (shape {item.shape}): nothing to embed")
        if np.issubdtype(item.dtype, np.number) and not np.isfinite(item).all():
            raise ValueError(f"item {i} holds NaN or infinite values: nothing can be read from them")


def check_rate(sample_rate) -> int | None:
    """`sample_rate` as an int (None stays None). Raises ValueError: not a positive whole number
    of Hz (0, -5, 16000.5, "16k"), which would otherwise read the wave at a wrong speed."""
    if sample_rate is None:
        return None
    try:
        ok = float(sample_rate) == int(sample_rate) and int(sample_rate) > 0
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok or isinstance(sample_rate, bool):
        raise ValueError(f"sample_rate must be a positive whole number of Hz, e.g. 16000; got {sample_rate!r}")
    return int(sample_rate)
