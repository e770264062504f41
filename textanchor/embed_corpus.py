"""Embedding a corpus of any size: DataLoader workers decode, shards land atomically, reruns resume.

    embed_corpus("runs/latest", "photos/", "emb/", workers=2)       # or a path,text manifest
    index = merge_shards("emb/", backend="auto")                     # one searchable index

The corpus (a folder, searched recursively, or a `path,text` manifest) is listed once in a fixed
order and cut into shards of `shard_size` items per modality; shard k of modality m always holds
the same items. Each finished shard is an `EmbeddingIndex` folder moved into place with one rename,
so a process killed at any moment leaves only whole shards. A rerun skips the shards that exist:
nothing is lost or embedded twice. Under torchrun, rank r embeds the shards j with j % N == r.
`corpus.json` pins the listing (a hash of the paths), the shard size and the checkpoint, so a rerun
over a changed corpus fails instead of mixing two listings.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from . import distributed
from .data.base import DataError
from .data.stream import FileDataset, scan_folder, scan_manifest
from .index import EmbeddingIndex
from .modalities import modality_for_path

__all__ = ["list_corpus", "embed_corpus", "merge_shards", "CORPUS_FILE"]

CORPUS_FILE = "corpus.json"
FORMAT = "textanchor.corpus-shards"


def list_corpus(source, embedder) -> dict[str, FileDataset]:
    """Files to embed, per modality the checkpoint reads, in a fixed order: {modality: FileDataset}
    whose class names are the manifest's texts (a folder's files all have the label "")."""
    source = Path(source)
    if source.is_dir():
        exts = tuple(e for m in embedder.modalities for e in embedder.branch(m).modality.file_extensions)
        paths = scan_folder(source, exts)
        labels, names = np.zeros(len(paths), np.int64), [""]
        mods = np.array([modality_for_path(p.decode(), embedder.modalities) for p in paths])
    elif source.is_file():
        paths, labels, names, mods = scan_manifest(source, modalities=embedder.modalities)
    else:
        raise DataError(f"nothing to embed at {source}: give a folder or a path,text manifest")
    out = {m: FileDataset(paths[mods == m], labels[mods == m], names, embedder.inputs(m))
           for m in embedder.modalities if (mods == m).any()}
    if not out:
        raise DataError(f"{source} holds no files the checkpoint reads ({', '.join(embedder.modalities)})")
    return out


def _fingerprint(items: dict[str, FileDataset]) -> str:
    h = hashlib.sha256()
    for m, ds in items.items():
        h.update(m.encode() + b"\0" + b"\0".join(ds.paths) + b"\1" + "\0".join(ds.label_names()).encode())
    return h.hexdigest()


def _shard_name(modality: str, k: int) -> str:
    return f"shard-{modality}-{k:06d}"


class _CorpusFiles(Dataset):
    """Key (modality, i) -> (item i of that modality's FileDataset, decoded ok, i); a file that
    fails to decode gives zeros and ok=False, so one bad file among millions is reported instead
    of ending the run."""

    def __init__(self, items: dict[str, FileDataset]):
        self.items = items

    def __len__(self) -> int:
        return sum(len(d) for d in self.items.values())

    def __getitem__(self, key):
        m, i = key
        try:
            return self.items[m][i][0], True, i
        except Exception:  # any decoder's or preparation's error: recorded in the shard's failed.json
            return torch.zeros(self.items[m].modality.input_shape()), False, i


def _write_shard(out: Path, name: str, vecs, meta: list[dict], failed: list[str], dim: int) -> None:
    """Save one shard under a temporary name, then rename it into place (all or nothing)."""
    part = out / f".{name}.partial"
    index = EmbeddingIndex(dim)
    if len(meta):
        index.add(np.concatenate(vecs), meta)
    index.save(part)
    (part / "failed.json").write_text(json.dumps(failed))
    os.replace(part, out / name)


def embed_corpus(checkpoint, source, out, shard_size: int = 10_000, workers: int = 0, batch_size: int = 256,
                 device: str = "cpu", progress: Callable[[dict], None] | None = None) -> dict:
    """Embed every file of `source` into shards under `out`, resuming what a previous run began.

    Args:
        checkpoint: a trained checkpoint folder. source: a folder or a `path,text` manifest.
        out: the shard folder. shard_size: items per shard (fixed for the life of `out`).
        workers: DataLoader processes decoding files. device: where the model runs.
        progress: called with {"event": "shard", "shard": name, "items": n, ...} after each shard.
    Returns:
        {"items": total, "shards": total shards, "written": shards written by this rank now,
         "skipped": shards this rank found done, "failed": files that could not be decoded}.
    Raises:
        ValueError: `out` holds shards of another corpus, shard size or checkpoint.
    """
    from .pipeline import Embedder

    di = distributed.info()
    emb = Embedder.from_checkpoint(checkpoint, device=distributed.local_device(device, di))
    items = list_corpus(source, emb)
    out = Path(out)
    plan = {"format": FORMAT, "checkpoint": str(Path(checkpoint).resolve()), "shard_size": int(shard_size),
            "fingerprint": _fingerprint(items), "counts": {m: len(d) for m, d in items.items()}}
    if di.main:
        out.mkdir(parents=True, exist_ok=True)
        if not (out / CORPUS_FILE).exists():
            (out / f".{CORPUS_FILE}.tmp").write_text(json.dumps(plan, indent=1))
            os.replace(out / f".{CORPUS_FILE}.tmp", out / CORPUS_FILE)
    distributed.barrier(di)
    saved = json.loads((out / CORPUS_FILE).read_text())
    if saved != plan:
        diff = [k for k in plan if saved.get(k) != plan[k]]
        raise ValueError(f"{out} holds shards of a different run ({', '.join(diff)} changed); "
                         f"use a new --out folder or delete {out}")

    shards = [(m, k) for m, d in items.items() for k in range(math.ceil(len(d) / shard_size))]
    mine = [s for j, s in enumerate(shards) if j % di.world == di.rank]
    todo = [s for s in mine if not (out / _shard_name(*s)).is_dir()]
    for m, k in todo:  # leftovers of a killed run: partial shards are never read, only replaced
        shutil.rmtree(out / f".{_shard_name(m, k)}.partial", ignore_errors=True)
    # Batches never straddle two shards, so each shard is written as soon as its last batch is in.
    batches = [[(m, i) for i in range(s, min(s + batch_size, (k + 1) * shard_size, len(items[m])))]
               for m, k in todo for s in range(k * shard_size, min((k + 1) * shard_size, len(items[m])), batch_size)]
    loader = DataLoader(_CorpusFiles(items), batch_sampler=batches, num_workers=workers)
    failed_all: list[str] = []
    written = 0
    current, vecs, meta, failed = None, [], [], []
    with torch.no_grad():
        for batch, (x, ok, idx) in zip(batches, loader):
            m = batch[0][0]
            shard = (m, int(idx[0]) // shard_size)
            if shard != current:
                current, vecs, meta, failed = shard, [], [], []
            ds = items[m]
            keep = ok.bool()
            if keep.any():
                vecs.append(emb.embed_prepared(m, x[keep]).numpy())
                meta += [{"id": f"{m}:{i}", "modality": m, "label": ds.class_names[ds.labels[i]], "source": ds.path(i)}
                         for i in idx[keep].tolist()]
            failed += [ds.path(i) for i in idx[~keep].tolist()]
            end = min((shard[1] + 1) * shard_size, len(ds))
            if int(idx[-1]) == end - 1:  # the shard's last batch
                _write_shard(out, _shard_name(*shard), vecs, meta, failed, emb.dim)
                failed_all += failed
                written += 1
                if progress is not None:
                    progress({"event": "shard", "shard": _shard_name(*shard), "items": len(meta),
                              "written": written, "todo": len(todo)})
    distributed.barrier(di)
    return {"items": sum(plan["counts"].values()), "shards": len(shards), "written": written,
            "skipped": len(mine) - len(todo), "failed": failed_all}


def merge_shards(out, backend: str = "auto", **options) -> EmbeddingIndex:
    """Every shard of a finished `embed_corpus` run in one index (`create_index(backend)`).

    Raises:
        FileNotFoundError: not a shard folder. ValueError: shards missing (rerun embed to finish).
    """
    from .index_faiss import create_index

    out = Path(out)
    if not (out / CORPUS_FILE).is_file():
        raise FileNotFoundError(f"{out} is not an embed --corpus output (no {CORPUS_FILE})")
    plan = json.loads((out / CORPUS_FILE).read_text())
    size = plan["shard_size"]
    names = [_shard_name(m, k) for m, n in plan["counts"].items() for k in range(math.ceil(n / size))]
    missing = [n for n in names if not (out / n).is_dir()]
    if missing:
        raise ValueError(f"{len(missing)} of {len(names)} shards are missing in {out} (e.g. {missing[0]}); "
                         f"rerun the same embed command to finish them")
    index = create_index(backend, size=sum(plan["counts"].values()), **options)
    for n in names:
        part = EmbeddingIndex.load(out / n)
        if len(part):
            index.add(part.vectors, part.metadata())
    return index
