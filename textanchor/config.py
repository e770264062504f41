"""Typed run configuration and presets. Presets are data (JSON files in `presets/`), listed by
`list_presets()`; the full config is saved next to every checkpoint so a run can be redone."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .anchor import DEFAULT_ANCHOR
from .model import BranchConfig

PRESET_DIR = Path(__file__).parent / "presets"


@dataclass
class DataSpec:
    name: str  # data set registry name ("mnist", "fsdd", "espeak", "digits", "manifest", ...)
    options: dict = field(default_factory=dict)  # loader options; "split" is set by the trainer


@dataclass
class ModalityRecipe:
    data: list[DataSpec]  # training sets, pooled (e.g. FSDD + synthetic speech)
    eval_data: list[DataSpec] | None = None  # held-out sets; None: the same sets with split="test"
    branch: BranchConfig = field(default_factory=BranchConfig)
    # Items of this modality per step (None: the run's batch_size). Every modality steps
    # together, so a small data set with a smaller batch is not repeated too often.
    batch_size: int | None = None
    # Peak learning rate of this branch (None: the run's lr). A projector on frozen features
    # wants a gentler rate than a network trained from scratch beside it.
    lr: float | None = None
    # Open vocabulary: classes whose items this branch never trains on (they stay in its held-out
    # data and are scored through their text alone). None: a seeded `unseen_share` of the classes
    # that only this modality has, drawn when training starts and saved here in the checkpoint.
    unseen: list[str] | None = None
    unseen_share: float = 0.0
    # Audio answered at several speeds, the unit vectors averaged (test-time augmentation by speed
    # perturbation, e.g. [0.9, 1.0, 1.1]; `Embedder.embed`). Training ignores it. None: speed 1.
    test_speeds: list[float] | None = None


@dataclass
class TrainConfig:
    modalities: dict[str, ModalityRecipe]
    anchor: str = DEFAULT_ANCHOR  # sentence-transformers name or folder
    templates: list[str] = field(default_factory=lambda: ["{}"])  # class text = template.format(name)
    loss: str = "mse_infonce"  # loss registry name
    loss_options: dict = field(default_factory=dict)
    epochs: int = 5
    max_minutes: float | None = None  # stop early (cleanly) when this wall time is spent
    batch_size: int = 128  # per modality per step
    lr: float = 3e-3  # peak learning rate of the one-cycle schedule
    weight_decay: float = 1e-4
    seed: int = 0
    device: str = "auto"  # auto: cuda, then mps, then cpu
    data_root: str | None = None  # folder with mnist/, fsdd/, ... for loaders that need a root
    eval_limit: int | None = 2000  # held-out items per modality scored after each epoch
    save_half: bool = False  # store the weights as float16: half the file, answers within ~1e-3

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        mods = {}
        for m, r in d.pop("modalities").items():
            r = dict(r)
            mods[m] = ModalityRecipe(
                data=[DataSpec(**s) for s in r["data"]],
                eval_data=None if r.get("eval_data") is None else [DataSpec(**s) for s in r["eval_data"]],
                branch=BranchConfig(**r.get("branch", {})),
                batch_size=r.get("batch_size"),
                lr=r.get("lr"),
                unseen=r.get("unseen"),
                unseen_share=r.get("unseen_share", 0.0),
                test_speeds=_speeds(m, r.get("test_speeds")),
            )
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown training option(s) {sorted(unknown)}; known: {sorted(known)}")
        return cls(modalities=mods, **d)


def _speeds(modality: str, speeds) -> list[float] | None:
    """A recipe's `test_speeds`, checked: a list of factors between 0.5 and 2 (None stays None)."""
    if speeds is None:
        return None
    ok = isinstance(speeds, list) and speeds and all(
        isinstance(s, (int, float)) and not isinstance(s, bool) and 0.5 <= s <= 2 for s in speeds)
    if not ok:
        raise ValueError(f"{modality}: test_speeds must be a list of speed factors between 0.5 and 2, "
                         f"e.g. [0.9, 1.0, 1.1]; got {speeds!r}")
    return [float(s) for s in speeds]


def list_presets() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.json"))


def load_preset(name_or_path: str) -> TrainConfig:
    """A preset name (see `list_presets()`) or a path to a JSON config file."""
    p = Path(name_or_path)
    if not p.is_file():
        p = PRESET_DIR / f"{name_or_path}.json"
    if not p.is_file():
        raise ValueError(f"unknown preset {name_or_path!r}; presets: {', '.join(list_presets())} (or a JSON file)")
    d = json.loads(p.read_text())
    d.pop("description", None)
    return TrainConfig.from_dict(d)
