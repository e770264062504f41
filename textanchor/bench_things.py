"""The things model, measured (`textanchor bench --sections things --data DATA`).

Rows, all on items no run trained on:
  things/shipped/...   the shipped checkpoint (checkpoints/things) on each data set's held-out
                       split: zero-shot top-1 per modality ranked among all its classes, the
                       classes it never trained on ranked among themselves next to chance, and
                       emergent retrieval between modalities on the classes both hold, next to
                       chance (`metrics.shared_retrieval`);
  things/classifier/{m}  the same encoder as a plain classifier with the same data, steps,
                       batch and learning rate (`baseline.train_classifier`), seen classes only;
  things/seeds/...     the recipe retrained with 3 seeds for the branches on frozen encoders
                       (their features are computed once, so a run takes seconds): mean and
                       spread of zero-shot and unseen-class accuracy (the seed also draws which
                       classes are held out);
  things/esc50_folds/...  sounds over the 5 published ESC-50 folds, each held out in turn.
The sketch branch, trained from scratch in ~11 minutes, is measured on the shipped seed only.
"""
from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np

from .config import TrainConfig, load_preset
from .data.combine import concat, load_spec, relabel
from .train import resolve_unseen, train

THINGS_DATA = ("quickdraw", "object_photos", "esc50", "speech_commands")
HELD_OUT_NOTE = "held-out split of each data set; unseen classes ranked among the unseen"


def things_recipe(data_root: str | None, quick: bool = False) -> TrainConfig:
    """The shipped things recipe; `quick`: a few items per class of each data set, one epoch."""
    cfg = load_preset("things")
    cfg.data_root = data_root
    if quick:
        cfg.epochs = 1
        cfg.modalities["sketch"].data[0].options["per_class"] = 30
        cfg.modalities["sketch"].branch.encoder_options = {"widths": [8, 16, 32]}
        cfg.modalities["photo"].data[0].options["per_class"] = 8
        cfg.modalities["sound"].data[0].options["limit"] = 200
        cfg.modalities["speech"].data[0].options["copies"] = 0
    return cfg


def _sets(cfg: TrainConfig, sample_rates: dict) -> tuple[dict, dict]:
    train_sets, eval_sets = {}, {}
    for m, r in cfg.modalities.items():
        sr = sample_rates.get(m)
        train_sets[m] = concat([load_spec(s.name, s.options, "train", cfg.data_root, sr) for s in r.data])
        evals = r.eval_data if r.eval_data is not None else r.data
        eval_sets[m] = concat([load_spec(s.name, s.options, "test", cfg.data_root, sr) for s in evals])
    return train_sets, eval_sets


def _rates(emb) -> dict:
    """{modality: the sample rate its branch reads (None for pictures)} of a loaded Embedder."""
    return {m: emb.sample_rate(m) for m in emb.modalities}


def _shipped(emb, eval_sets: dict, log) -> dict:
    """The checkpoint on the held-out sets: every row of `evaluate_checkpoint` and the open-vocabulary
    rows of `evaluate.unseen_report`, prefixed things/shipped/."""
    from .evaluate import unseen_report
    from .metrics import evaluation_report

    unseen = {m: r.get("unseen") or [] for m, r in emb.config["recipe"]["modalities"].items()}
    names = list(emb.class_names)
    vecs = {m: emb.embed(m, s.items, s.sample_rate) for m, s in eval_sets.items()}
    labs = {m: relabel(s, names) for m, s in eval_sets.items()}
    rows = evaluation_report(vecs, labs, emb.class_embeddings.numpy(), probes=False)
    rows.update({f"{m}/n_classes": float(len(np.unique(y))) for m, y in labs.items()})
    rows.update(unseen_report(vecs, labs, emb.class_embeddings.numpy(), names, unseen))
    rows["train/seconds"] = float(emb.config.get("metrics", {}).get("train/seconds", float("nan")))
    for m in eval_sets:
        log(f"things (shipped): {m} zero-shot {rows[f'{m}/zero_shot_acc']:.1%} of {len(eval_sets[m])} held-out items, "
            f"{int(rows[f'{m}/n_classes'])} classes")
    return {f"things/shipped/{k}": v for k, v in rows.items()}


def _classifiers(cfg: TrainConfig, steps: int, train_sets: dict, eval_sets: dict, cache: dict, log) -> dict:
    """Each modality as a plain classifier, same encoder, data and steps, scored on its seen classes."""
    from .baseline import train_classifier

    rows = {}
    for m, r in cfg.modalities.items():
        drop = set(r.unseen or [])
        keep = lambda s: s.subset(np.array([s.class_names[y] not in drop for y in s.labels], bool))  # noqa: E731
        res = train_classifier(cfg, m, keep(train_sets[m]), keep(eval_sets[m]), steps=steps, feature_cache=cache)
        rows[f"things/classifier/{m}/accuracy"] = res["accuracy"]
        rows[f"things/classifier/{m}/seconds"] = res["seconds"]
        log(f"things (classifier): {m} {res['accuracy']:.1%} on its seen classes ({res['seconds']:.0f} s)")
    return rows


def _frozen_only(cfg: TrainConfig) -> TrainConfig:
    """The recipe without the branches that train an encoder (the sketch CNN)."""
    out = copy.deepcopy(cfg)
    out.modalities = {m: r for m, r in out.modalities.items() if m != "sketch"}
    return out


def _mean_spread(runs: list[dict], prefix: str) -> dict:
    rows = {}
    for k in sorted({k for r in runs for k in r}):
        v = [r[k] for r in runs if k in r and r[k] == r[k]]
        if v:
            rows[f"{prefix}/{k}/mean"], rows[f"{prefix}/{k}/spread"] = float(np.mean(v)), float(np.std(v))
    return rows


def section_things(data_root: str | None, log, checkpoint: str | Path | None = None, quick: bool = False,
                   seeds=(0, 1, 2), anchor=None) -> dict:
    """Every row of the module docstring.

    Args: data_root: the folder with quickdraw/, object_photos/, esc50/ and speech_commands/.
        checkpoint: the things model to measure (None: the shipped checkpoints/things; with
        `quick`, a one-epoch model trained here). seeds: of the retrained frozen branches.
    """
    from .demo.policy import THINGS_CHECKPOINT

    t0 = time.time()
    missing = [d for d in THINGS_DATA if not (Path(data_root or "data") / d).is_dir()]
    if missing:
        why = f"no {', '.join(m + '/' for m in missing)} in {data_root} (docs/things.md says how to build them)"
        log(f"things: skipped: {why}")
        return {"things/meta/skipped": why}
    cfg = things_recipe(data_root, quick)
    cache: dict = {}
    rows: dict = {}
    if quick and checkpoint is None:
        import tempfile

        checkpoint = Path(tempfile.mkdtemp()) / "things"
        train(cfg, out_dir=checkpoint, anchor=anchor, feature_cache=cache, final_eval=False)
    checkpoint = Path(checkpoint or THINGS_CHECKPOINT)
    from .pipeline import Embedder

    shipped = Embedder.from_checkpoint(checkpoint)
    recipe = TrainConfig.from_dict(shipped.config["recipe"])
    recipe.data_root = data_root
    rates = _rates(shipped)  # the recipe's branches read these rates; read once, not by building each branch
    train_sets, eval_sets = _sets(recipe, rates)
    rows.update(_shipped(shipped, eval_sets, log))
    steps = int(shipped.config.get("metrics", {}).get("train/steps", 0)) or None
    rows.update(_classifiers(recipe, steps, train_sets, eval_sets, cache, log))

    frozen = _frozen_only(cfg)
    runs = []
    for seed in seeds:
        c = copy.deepcopy(frozen)
        c.seed = seed
        # The classes held out as in a full run of this seed: a class the sketches share is never drawn.
        full = copy.deepcopy(cfg)
        full.seed = seed
        for m, names in resolve_unseen(full, train_sets).items():
            if m in c.modalities:
                c.modalities[m].unseen = names
        res = train(c, anchor=anchor, feature_cache=cache, data=(train_sets_of(c, train_sets), train_sets_of(c, eval_sets)))
        runs.append({k: v for k, v in res.metrics.items() if k.endswith(("/zero_shot_acc", "/acc_unseen", "chance/unseen", "/seen/acc_all"))
                     and "/zero_shot_acc/" not in k})
        log(f"things (seed {seed}): " + ", ".join(f"{m} {res.metrics[f'{m}/zero_shot_acc']:.1%}" for m in c.modalities))
    rows.update(_mean_spread(runs, "things/seeds"))

    folds = []
    sound = copy.deepcopy(frozen)
    sound.modalities = {"sound": sound.modalities["sound"]}
    sound.modalities["sound"].unseen_share = 0.0
    for k in (1, 2, 3, 4, 5):
        sound.modalities["sound"].data[0].options["test_folds"] = [k]
        tr, ev = _sets(sound, rates)
        res = train(sound, anchor=anchor, feature_cache=cache, data=(tr, ev))
        folds.append({"sound/zero_shot_acc": res.metrics["sound/zero_shot_acc"]})
        log(f"things (ESC-50 fold {k} held out): {res.metrics['sound/zero_shot_acc']:.1%}")
    rows.update(_mean_spread(folds, "things/esc50_folds"))
    rows["things/meta/seconds"] = time.time() - t0
    rows["things/meta/note"] = HELD_OUT_NOTE
    return rows


def train_sets_of(cfg: TrainConfig, train_sets: dict) -> dict:
    """The loaded training sets of the modalities `cfg` keeps (held-out classes are drawn anew by
    `train` from each run's seed)."""
    return {m: train_sets[m] for m in cfg.modalities}
