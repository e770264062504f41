"""Any registered data set on the command line: `--dataset NAME[:KEY=VALUE,...]` (repeatable).

    textanchor evaluate --checkpoint runs/accel --dataset accel:n_per_class=20,seed=3
    textanchor train --dataset mnist:root=../shared/data/mnist --dataset fsdd:root=...

Values are Python literals when they parse as one (`3`, `0.5`, `True`, `None`, `('a', 'b')`),
else plain strings (paths, names); commas inside brackets or quotes do not split options.
"""
from __future__ import annotations

import argparse
import ast


def parse_dataset_spec(text: str) -> tuple[str, dict]:
    """"accel:root=/data/accel,split=test" -> ("accel", {"root": "/data/accel", "split": "test"}).

    Raises:
        ValueError: an empty name, an option without "=", or an unknown data set (the message
            lists the registered ones and how to add one).
    """
    from .data.datasets import DATASETS

    name, _, rest = text.partition(":")
    name = name.strip()
    if not name:
        raise ValueError(f"--dataset {text!r}: give a data set name, e.g. --dataset digits")
    if name not in DATASETS:
        DATASETS.get(name)  # raises KeyError listing the known names and how to register
    options = {}
    for part in _split_top_level(rest):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"--dataset {text!r}: options are KEY=VALUE separated by commas, got {part!r}")
        options[key.strip()] = _literal(value.strip())
    return name, options


def _literal(value: str):
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets and quotes; drop empty parts."""
    parts, depth, quote, cur = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def add_dataset_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", action="append", default=[], metavar="NAME[:KEY=VALUE,...]",
                   help="any registered data set with its loader options, repeatable "
                        "(e.g. accel:n_per_class=20 or manifest:csv_path=my.csv)")


def dataset_specs(args) -> list[tuple[str, dict]]:
    """The parsed `--dataset` options of a command line."""
    return [parse_dataset_spec(t) for t in getattr(args, "dataset", None) or []]


def declared_modality(name: str) -> str | None:
    """The modality a loader declared with `@DATASETS.register(name, modality=...)`, if any."""
    from .data.datasets import DATASETS

    return DATASETS.meta.get(name, {}).get("modality")


def sample_rate_for(name: str, embedder, default: int | None) -> int | None:
    """The rate to decode data set `name` at for this checkpoint: its declared modality's
    branch rate (None when that modality has no rate), else `default` (the audio branch's)."""
    m = declared_modality(name)
    if m is None:
        return default
    if m not in embedder.modalities:
        return None
    return embedder.sample_rate(m)


def recipes_from_datasets(specs: list[tuple[str, dict]], cfg) -> dict:
    """Training recipes for `--dataset` specs, replacing the preset's data: one recipe per
    modality (data sets of one modality are pooled), keeping the preset's branch settings for
    modalities it already had. A loader that declares no modality is loaded once to see it."""
    from .config import DataSpec, ModalityRecipe
    from .data.combine import load_spec

    recipes: dict = {}
    for name, opts in specs:
        m = declared_modality(name) or load_spec(name, opts, "train", cfg.data_root).modality
        if m not in recipes:
            old = cfg.modalities.get(m)
            recipes[m] = ModalityRecipe(data=[], branch=old.branch) if old else ModalityRecipe(data=[])
        recipes[m].data.append(DataSpec(name, dict(opts)))
    return recipes
