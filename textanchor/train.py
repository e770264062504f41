"""Training: every modality of a recipe against one frozen text anchor, in one run.

    result = train(config, progress=print)

Each step draws one batch per modality (smaller data sets cycle), maps it into the text
space and adds the losses against the class-text embeddings. Progress goes to a callback
(the app's live progress bar) and to tqdm on the command line.

Past one machine: `stream=True` decodes files lazily in DataLoader workers (textanchor.data.stream)
instead of holding the corpus in memory, and under `torchrun` every rank trains on its own shard
inside DistributedDataParallel (textanchor.distributed) while rank 0 alone evaluates, saves and
reports. `batch_size` stays the global batch: each of N ranks draws batch_size / N items, so a
recipe takes the same number of steps of the same size on any number of processes.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from . import distributed
from .anchor import TextAnchor
from .checkpoint import save_checkpoint
from .config import TrainConfig
from .data.combine import concat, load_spec, pooled_classes, relabel
from .losses import create_loss
from .model import AnchoredModel


def pick_device(requested: str = "auto") -> str:
    """CUDA, then Apple's MPS, then the CPU."""
    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


@dataclass
class TrainResult:
    checkpoint: Path | None
    metrics: dict  # held-out evaluation report (flat keys, see textanchor.metrics)
    history: list[dict]  # one entry per epoch: loss, per-modality held-out zero-shot accuracy
    seconds: float
    device: str
    stopped: str = ""  # "", "time budget", or "stop requested"
    class_names: list[str] = field(default_factory=list)


def load_recipe_data(cfg: TrainConfig, model: AnchoredModel) -> tuple[dict, dict]:
    """Decode and pool the train and held-out ItemSets of every modality."""
    train_sets, eval_sets = {}, {}
    for m, r in cfg.modalities.items():
        sr = getattr(model.branches[m].modality.cfg, "sample_rate", None)
        train_sets[m] = concat([load_spec(s.name, s.options, "train", cfg.data_root, sr) for s in r.data])
        specs = r.eval_data if r.eval_data is not None else r.data
        eval_sets[m] = concat([load_spec(s.name, s.options, "test", cfg.data_root, sr) for s in specs])
    return train_sets, eval_sets


def resolve_unseen(cfg: TrainConfig, train_sets: dict) -> dict[str, list[str]]:
    """Per modality, the classes its branch does not train on: the recipe's `unseen` list, else a
    seeded `unseen_share` of the classes only that modality has. Classes that two modalities
    share are never drawn: they carry the cross-modal links (a drawn cat finds a meowing one).

    Args: cfg: the recipe (seed: cfg.seed). train_sets: {modality: ItemSet} before holding out.
    Returns: {modality: sorted class names}, empty lists where nothing is held out."""
    counts: dict[str, int] = {}
    for s in train_sets.values():
        for n in set(s.class_names[y] for y in np.unique(s.labels)):
            counts[n] = counts.get(n, 0) + 1
    out = {}
    for i, (m, r) in enumerate(cfg.modalities.items()):
        if r.unseen is not None:
            out[m] = sorted(r.unseen)
            continue
        s = train_sets[m]
        only = sorted(n for n in set(s.class_names[y] for y in np.unique(s.labels)) if counts[n] == 1)
        k = int(round(r.unseen_share * len(only)))
        pick = np.random.default_rng([cfg.seed, i]).permutation(len(only))[:k]
        out[m] = sorted(only[j] for j in pick)
    return out


def hold_out(train_sets: dict, unseen: dict[str, list[str]]) -> dict:
    """The training sets without the items of each modality's unseen classes."""
    out = {}
    for m, s in train_sets.items():
        drop = set(unseen.get(m, ()))
        out[m] = s if not drop else s.subset(np.array([s.class_names[y] not in drop for y in s.labels], bool))
    return out


def batch_size(cfg: TrainConfig, modality: str, n: int) -> int:
    """Items of `modality` per step: its recipe's batch size, else the run's, at most n."""
    return min(cfg.modalities[modality].batch_size or cfg.batch_size, n)


def total_steps(cfg: TrainConfig, sizes: dict[str, int]) -> int:
    """Optimiser steps of a run on data of these sizes: every modality steps together, as
    often as the one needing the most batches per epoch."""
    return max(max(1, n // batch_size(cfg, m, n)) for m, n in sizes.items()) * cfg.epochs


def _cycle_batches(n: int, batch: int, gen: torch.Generator):
    """Endless shuffled index batches over range(n)."""
    while True:
        perm = torch.randperm(n, generator=gen)
        for s in range(0, n - (n % batch if n >= batch else 0), batch):
            yield perm[s: s + batch]


def _memory_batches(x: torch.Tensor, y: torch.Tensor, batch: int, gen: torch.Generator):
    """Endless shuffled (x, y) batches of prepared in-memory tensors."""
    for idx in _cycle_batches(len(x), batch, gen):
        yield x[idx], y[idx]


def _stream_data(cfg: TrainConfig, model: AnchoredModel) -> tuple[dict, dict]:
    """Lazily decoded training Datasets and decoded held-out subsets (eval_limit items each)."""
    from .data.stream import eval_itemset, open_stream

    train_sets, eval_sets = {}, {}
    for m, r in cfg.modalities.items():
        mod = model.branches[m].modality
        train_sets[m] = open_stream(r.data, "train", cfg.data_root, mod)
        held = open_stream(r.eval_data if r.eval_data is not None else r.data, "test", cfg.data_root, mod)
        eval_sets[m] = eval_itemset(held, cfg.eval_limit, cfg.seed, m)
    return train_sets, eval_sets


def cached_features(branch, s, device: str, cache: dict | None = None) -> torch.Tensor:
    """`item_features` of an ItemSet, kept in `cache` (when given) under the branch's encoder and
    settings and the items' sources, so runs that share a cache (seeds, folds, baselines in the
    bench) encode each item once."""
    if cache is None:
        return item_features(branch, s.items, s.sample_rate, device)
    import json

    key = (branch.modality.name, branch.cfg.encoder, json.dumps(branch.cfg.encoder_options, sort_keys=True),
           json.dumps(branch.modality.config_dict(), sort_keys=True), s.sample_rate)
    sources = list(s.sources)
    if len(set(sources)) < len(sources) or not all(sources):  # items not told apart: the set is the key
        whole = key + (tuple(sources),)
        if whole not in cache:
            cache[whole] = item_features(branch, s.items, s.sample_rate, device)
        return cache[whole]
    # Item by item, so sets that overlap (ESC-50's folds, each held out in turn) share features.
    known = cache.setdefault(key, {})
    todo = [i for i, src in enumerate(sources) if src not in known]
    if todo:
        new = item_features(branch, [s.items[i] for i in todo], s.sample_rate, device)
        known.update({sources[i]: v for i, v in zip(todo, new)})
    if not sources:
        return torch.zeros(0, branch.encoder.output_dim)
    return torch.stack([known[src] for src in sources])


@torch.no_grad()
def item_features(branch, items: list, sample_rate: int | None, device: str, chunk: int = 128) -> torch.Tensor:
    """Decoded items -> (N, D) encoder features on the CPU, prepared and encoded `chunk` at a
    time, so a corpus of photos never sits in memory as full-size tensors. For branches whose
    features are fixed during training (`Branch.cacheable`)."""
    was = branch.training
    branch.eval()
    parts = [branch.features(branch.modality.prepare(items[s: s + chunk], sample_rate).to(device)).cpu()
             for s in range(0, len(items), chunk)]
    branch.train(was)
    return torch.cat(parts) if parts else torch.zeros(0, branch.encoder.output_dim)


@torch.no_grad()
def embed_tensor(model: AnchoredModel, modality: str, x: torch.Tensor, device: str, bs: int = 512,
                 features: bool = False) -> torch.Tensor:
    """Prepared inputs (or, with `features`, encoder features) -> (N, A) unit vectors, in eval mode."""
    was = model.training
    model.eval()
    run = model.branches[modality].project if features else model.branches[modality]
    out = torch.cat([F.normalize(run(x[s: s + bs].to(device)), dim=-1).cpu()
                     for s in range(0, len(x), bs)]) if len(x) else torch.zeros(0, model.anchor_dim)
    model.train(was)
    return out


def train(cfg: TrainConfig, out_dir: str | Path | None = None, progress: Callable[[dict], None] | None = None,
          stop: threading.Event | None = None, anchor: TextAnchor | None = None, data: tuple | None = None,
          final_eval: bool = True, show_tqdm: bool = False, stream: bool = False, workers: int = 0,
          feature_cache: dict | None = None) -> TrainResult:
    """Train every modality branch of `cfg` against the text anchor.

    Args:
        cfg: the recipe. out_dir: checkpoint folder to write (None: do not save).
        progress: called with dicts: {"event": "step"|"epoch"|"done", ...}.
        stop: set it from another thread to end training cleanly after the current step.
        anchor: an already loaded TextAnchor with the recipe's name (saves reloading it).
        data: (train_sets, eval_sets) dicts of ItemSets, instead of loading the recipe's data.
        stream: decode training files lazily in DataLoader workers (memory flat in corpus size).
        workers: DataLoader worker processes per modality when streaming (0: decode in this one).
        feature_cache: a dict shared by several runs on the same items (`cached_features`).
    Returns: TrainResult with the held-out metrics (empty, and no checkpoint, on ranks other than 0
        of a torchrun run).
    """
    t0 = time.time()
    emit = progress or (lambda e: None)
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    di = distributed.info()
    # Every rank starts from the same weights (the seed above); data order and augmentation differ.
    gen = torch.Generator().manual_seed(cfg.seed + di.rank)
    device = distributed.local_device(pick_device(cfg.device), di)
    if di.active and not di.main:
        emit, show_tqdm = (lambda e: None), False
    anchor = anchor if anchor is not None and anchor.name == TextAnchor.canonical(cfg.anchor) else TextAnchor(cfg.anchor)
    model = AnchoredModel({m: r.branch for m, r in cfg.modalities.items()}, anchor.dim)
    if data is not None:
        if stream:
            raise ValueError("stream=True opens the recipe's own files; pass decoded data= without it")
        train_sets, eval_sets = data
    else:
        train_sets, eval_sets = (_stream_data if stream else load_recipe_data)(cfg, model)
    if any(r.unseen or r.unseen_share for r in cfg.modalities.values()):
        if stream:
            raise ValueError("holding classes out (unseen, unseen_share) needs the in-memory path, not stream=True")
        unseen = resolve_unseen(cfg, train_sets)
        train_sets = hold_out(train_sets, unseen)
        for m, names in unseen.items():  # saved with the checkpoint: evaluation knows what was never trained
            cfg.modalities[m].unseen = names
    for m, s in train_sets.items():
        if len(s) == 0:
            raise ValueError(f"the {m} training data is empty")

    # One class vocabulary for the whole run: the union of every modality's class names.
    class_names = pooled_classes([*train_sets.values(), *eval_sets.values()])
    protos = anchor.class_embeddings(class_names, cfg.templates).to(device)  # (C, A)

    sizes = {m: len(s) for m, s in train_sets.items()}  # global sizes: every rank agrees on the steps
    bs = {m: max(1, batch_size(cfg, m, n) // di.world) for m, n in sizes.items()}  # per rank
    # Frozen pretrained encoders without augmentation: their features are computed once per item
    # here, and each step trains only the projector on them (minutes instead of hours on a CPU).
    cached = frozenset(m for m in train_sets if model.branches[m].cacheable and not stream)
    model.to(device)
    batches, XE, YE = {}, {}, {}
    for m, s in train_sets.items():
        mod = model.branches[m].modality
        if m in cached:
            s = s.subset(distributed.shard_rows(len(s), di, cfg.seed)) if di.active else s
            emit({"event": "features", "modality": m, "items": len(s)})
            batches[m] = _memory_batches(cached_features(model.branches[m], s, device, feature_cache),
                                         torch.from_numpy(relabel(s, class_names)), bs[m], gen)
        elif stream:
            from .data.stream import relabel_stream, stream_batches

            relabel_stream(s, class_names)
            batches[m] = stream_batches(s, bs[m], di, cfg.seed, workers, pin=device.startswith("cuda"))
        else:
            s = s.subset(distributed.shard_rows(len(s), di, cfg.seed)) if di.active else s
            batches[m] = _memory_batches(mod.prepare(s.items, s.sample_rate),
                                         torch.from_numpy(relabel(s, class_names)), bs[m], gen)
        e = eval_sets[m]
        if cfg.eval_limit is not None and len(e) > cfg.eval_limit:  # a fixed, seeded subset
            e = e.subset(np.random.default_rng(cfg.seed).permutation(len(e))[: cfg.eval_limit])
        XE[m] = cached_features(model.branches[m], e, device, feature_cache) if m in cached else \
            mod.prepare(e.items, e.sample_rate)
        YE[m] = torch.from_numpy(relabel(e, class_names))

    prep_s = time.time() - t0
    if cfg.max_minutes is not None and prep_s > cfg.max_minutes * 60:
        # No step could run: a checkpoint now would be an untrained one reported as a run.
        what = " and the frozen encoder's features" if cached else ""
        raise ValueError(f"the time budget ({cfg.max_minutes:g} min) was used up preparing the data "
                         f"(decoding{what}: {prep_s:.0f} s) before the first training step; allow more minutes")
    # Each modality is trained against the class texts it has training items of: a class held out
    # of one modality (open vocabulary, `ModalityRecipe.unseen`) is never a target nor a negative
    # of that branch, so scoring it later through the text alone is honest zero-shot.
    own = {m: torch.from_numpy(np.unique(relabel(s, class_names))) for m, s in train_sets.items()}
    local = {}  # modality -> (C,) position of each global class among its own, -1 if not its own
    for m, idx in own.items():
        local[m] = torch.full((len(class_names),), -1, dtype=torch.long)
        local[m][idx] = torch.arange(len(idx))
        own[m], local[m] = own[m].to(device), local[m].to(device)

    model.to(device).train()
    net = distributed.wrap(model, di, device)  # DDP averages gradients across ranks
    loss_fn = create_loss(cfg.loss, **cfg.loss_options).to(device)
    total = total_steps(cfg, sizes)
    steps_per_epoch = total // cfg.epochs
    groups = [{"params": [p for p in model.branches[m].parameters() if p.requires_grad],
               "lr": cfg.modalities[m].lr or cfg.lr} for m in model.modalities]
    groups = [g for g in groups if g["params"]]
    opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in groups], total_steps=max(total, 2),
                                                pct_start=0.15)
    history, stopped, step = [], "", 0
    bar = None
    if show_tqdm:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="step", dynamic_ncols=True)
    emit({"event": "start", "device": device, "total_steps": total, "epochs": cfg.epochs, "processes": di.world,
          "train_sizes": sizes, "eval_sizes": {m: len(x) for m, x in XE.items()}})

    for epoch in range(1, cfg.epochs + 1):
        run_loss, n = 0.0, 0
        for _ in range(steps_per_epoch):
            xs, ys = {}, {}
            for m in batches:
                x, y = next(batches[m])
                xs[m] = x.to(device) if m in cached else model.branches[m].modality.augment(x.to(device), generator=gen)
                ys[m] = y.to(device)
            out = net(xs, cached)  # {m: (B, A)}, one forward through DDP for every modality
            loss = sum(loss_fn(out[m], protos[ys[m]], local[m][ys[m]], protos[own[m]]) for m in out)  # (B, A) vs (B, A)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            run_loss += float(loss.detach())
            n += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(epoch=epoch, loss=f"{run_loss / n:.4f}")
            emit({"event": "step", "step": step, "total_steps": total, "epoch": epoch, "loss": float(loss.detach()),
                  "elapsed_s": time.time() - t0})
            if stop is not None and stop.is_set():
                stopped = "stop requested"
            elif cfg.max_minutes is not None and time.time() - t0 > cfg.max_minutes * 60:
                stopped = "time budget"
            if distributed.any_rank(bool(stopped), di, device):
                stopped = stopped or "stopped by another rank"
                break
        record = {"epoch": epoch, "loss": run_loss / max(n, 1), "elapsed_s": time.time() - t0}
        for m in XE if di.main else ():
            emb = embed_tensor(model, m, XE[m], device, features=m in cached)
            record[f"{m}/zero_shot_acc"] = float(((emb @ protos.cpu().T).argmax(1) == YE[m]).float().mean()) if len(emb) else float("nan")
        history.append(record)
        emit({"event": "epoch", **record, "epochs": cfg.epochs, "total_steps": total, "step": step})
        if stopped:
            break
    if bar is not None:
        bar.close()

    metrics: dict = {}
    if not di.main:  # rank 0 reports; the others only had to train
        return TrainResult(None, metrics, history, time.time() - t0, device, stopped, class_names)
    if final_eval:
        from .evaluate import evaluate_model

        metrics = evaluate_model(model, eval_sets, protos.cpu(), class_names, device=device,
                                 unseen={m: r.unseen for m, r in cfg.modalities.items() if r.unseen},
                                 features={m: XE[m] for m in cached})  # used where XE holds the whole set
    metrics["train/seconds"] = time.time() - t0
    metrics["train/epochs_done"] = len(history)
    metrics["train/processes"] = di.world
    metrics["train/steps"] = step
    ckpt = None
    if out_dir is not None:
        ckpt = save_checkpoint(out_dir, model.cpu(), anchor_name=anchor.name, templates=cfg.templates,
                               class_names=class_names, class_embeddings=protos.cpu(), recipe=cfg.to_dict(),
                               metrics=metrics, history=history, half=cfg.save_half)
    res = TrainResult(ckpt, metrics, history, time.time() - t0, device, stopped, class_names)
    emit({"event": "done", "checkpoint": str(ckpt) if ckpt else None, "metrics": metrics, "stopped": stopped,
          "seconds": res.seconds})
    return res
