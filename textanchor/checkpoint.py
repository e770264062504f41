"""Checkpoints are folders: `model.safetensors` (weights, no pickled code) + `config.json`
(anchor id and dimension, templates, class texts and their embeddings, per-modality
preprocessing, the recipe, metrics). Saving is atomic: the new folder is written beside the
old one and swapped in with renames, so a crash mid-save leaves the previous checkpoint."""
from __future__ import annotations

import inspect
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .encoders import ENCODERS
from .model import AnchoredModel, BranchConfig

FORMAT_VERSION = 1
WEIGHTS, CONFIG = "model.safetensors", "config.json"


class CheckpointError(RuntimeError):
    """A checkpoint folder is missing, corrupt, or made for another anchor."""


def save_checkpoint(folder: str | Path, model: AnchoredModel, *, anchor_name: str, templates: list[str],
                    class_names: list[str], class_embeddings: torch.Tensor, recipe: dict | None = None,
                    metrics: dict | None = None, history: list | None = None, half: bool = False) -> Path:
    """Write a checkpoint folder atomically. Returns its path.

    half: store floating-point weights as float16 (a shipped checkpoint at half the size);
    loading casts them back to float32."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "format_version": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "anchor": {"name": anchor_name, "dim": model.anchor_dim},
        "templates": list(templates),
        "class_names": list(class_names),
        # 7 decimals (a float32's precision for these unit vectors' entries): half the JSON
        "class_embeddings": [[round(x, 7) for x in row] for row in class_embeddings.detach().cpu().float().tolist()],
        "modalities": model.branch_configs(),
        "recipe": recipe or {},
        "metrics": metrics or {},
        "history": history or [],
        "versions": {"torch": torch.__version__},
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        if half:
            state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        save_file(state, str(tmp / WEIGHTS), metadata={"format": "textanchor"})
        with open(tmp / CONFIG, "w") as f:
            json.dump(config, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        # mkdtemp makes the folder 0700 (and safetensors its file 0600): give them the modes a
        # plain mkdir and open would, so a checkpoint is as readable as anything else its owner saves.
        mask = _umask()
        os.chmod(tmp, 0o777 & ~mask)
        for name in (WEIGHTS, CONFIG):
            os.chmod(tmp / name, 0o666 & ~mask)
        old = folder.with_name(f".{folder.name}.old")
        if old.exists():
            shutil.rmtree(old)
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _umask() -> int:
    """The process's umask, read without setting it (os.umask sets it, racing other threads):
    Linux's /proc/self/status, else the common 022."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def read_config(folder: str | Path) -> dict:
    """The checkpoint's config.json, validated, without touching the weights."""
    folder = Path(folder)
    if not folder.exists():
        old = folder.with_name(f".{folder.name}.old")
        if old.exists():  # a save was interrupted between its two renames: recover
            os.replace(old, folder)
    if not (folder / CONFIG).is_file() or not (folder / WEIGHTS).is_file():
        raise CheckpointError(f"{folder} is not a textanchor checkpoint: it needs {CONFIG} and {WEIGHTS}")
    try:
        cfg = json.loads((folder / CONFIG).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{folder / CONFIG} is corrupt: {e}") from e
    missing = {"anchor", "class_names", "class_embeddings", "modalities", "templates"} - set(cfg)
    if missing:
        raise CheckpointError(f"{folder / CONFIG} lacks {sorted(missing)}")
    if cfg.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{folder} uses format {cfg['format_version']}; this textanchor reads up to {FORMAT_VERSION}")
    return cfg


def _check_weights(folder, model, state: dict) -> None:
    """CheckpointError, in words, when the weights file is not the one its config.json describes
    (torch's own message lists every key, hundreds of them for one swapped file)."""
    want = model.state_dict()
    missing = [k for k in want if k not in state]
    extra = [k for k in state if k not in want]
    shape = [k for k in want if k in state and tuple(state[k].shape) != tuple(want[k].shape)]
    if missing or extra or shape:
        parts = [f"{len(v)} {what}" for v, what in ((missing, "missing"), (extra, "not in the model"),
                                                     (shape, "of another shape")) if v]
        raise CheckpointError(f"{folder} could not be loaded: its {WEIGHTS} does not match its config.json "
                              f"(weights of another model? {', '.join(parts)} of {len(want)}, e.g. "
                              f"{(missing or extra or shape)[0]!r})")


def load_checkpoint(folder: str | Path, anchor_name: str | None = None, anchor_dim: int | None = None,
                    device: str = "cpu") -> tuple[AnchoredModel, dict]:
    """Load (model, config). Refuses a checkpoint made for another anchor or dimension when
    `anchor_name` / `anchor_dim` say which anchor the caller uses."""
    cfg = read_config(folder)
    a = cfg["anchor"]
    if anchor_dim is not None and int(a["dim"]) != int(anchor_dim):
        raise CheckpointError(
            f"{folder} projects into a {a['dim']}-dimensional space ({a['name']}), "
            f"but the active text anchor has dimension {anchor_dim}"
        )
    if anchor_name is not None and a["name"] != anchor_name:
        raise CheckpointError(
            f"{folder} was trained against the text anchor {a['name']!r}, not {anchor_name!r}; "
            "its vectors would not be comparable"
        )
    try:
        branches = {m: BranchConfig(**b) for m, b in cfg["modalities"].items()}
        for b in branches.values():
            # The weights come from the file: never look for ImageNet weights on load.
            if "pretrained" in inspect.signature(ENCODERS.get(b.encoder or "image_cnn")).parameters:
                b.encoder_options = {**b.encoder_options, "pretrained": False}
        model = AnchoredModel(branches, int(a["dim"]))
        state = load_file(str(Path(folder) / WEIGHTS), device="cpu")
        _check_weights(folder, model, state)
        model.load_state_dict(state, strict=True)
    except CheckpointError:
        raise
    except SafetensorError as e:  # its class name means nothing to a visitor
        raise CheckpointError(f"{folder} could not be loaded: its {WEIGHTS} is truncated or is not a "
                              f"safetensors file ({e})") from e
    except Exception as e:  # noqa: BLE001 - unknown encoders, bad options, anything else
        raise CheckpointError(f"{folder} could not be loaded: {type(e).__name__}: {e}") from e
    return model.to(device).eval(), cfg
