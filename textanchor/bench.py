"""`textanchor bench`: every published number, reproduced on held-out data.

Sections (each a function returning flat {key: value} rows):
  quality     the shipped recipe on MNIST test + FSDD official test, and a speaker-held-out run
  losses      every registered loss, same encoders and budget, several seeds
  classifier  the same encoders trained as plain 10-way classifiers, same budget
  anchors     class-text templates and any other sentence-transformer loadable offline
  speed       training time, embedding throughput, search latency vs gallery size, t-SNE/UMAP
  pictures    real pictures (handwritten/ by folder), MNIST test, simulated phone photos, the
              sketch edge cases and the picture path's cost (`textanchor.bench_pictures`)
  real_voices the checkpoint on speakers it never heard (speech_digits' held-out speakers), FSDD
              test, a generated no-speech set, and PocketSphinx on the same clips as the baseline;
              the same speakers in recordings with steady room noise (`noisy_voices` runs that
              part alone: `textanchor bench --sections noisy_voices --checkpoint DIR --data D`)
  things      the things model (checkpoints/things): held-out zero-shot accuracy per modality, the
              same encoders as plain classifiers, unseen classes, emergent cross-modal retrieval,
              3 seeds of its frozen-encoder branches and the 5 ESC-50 folds (`textanchor.bench_things`;
              its data folder holds quickdraw/, object_photos/, esc50/, speech_commands/)

`--quick` runs every section on tiny offline data (scikit-learn digits + eSpeak) in a minute,
for the tests; the real run takes hours on a 2-core CPU.
"""
from __future__ import annotations

import copy
import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .anchor import AnchorError, TextAnchor
from .config import DataSpec, TrainConfig, load_preset
from .data.espeak import VOICES
from .data.combine import concat, load_spec
from .losses import LOSSES
from .train import train
from .voice_bench import section_noisy_voices, section_real_voices

TEMPLATES = {"bare": "{}", "handwritten": "a handwritten digit {}", "spoken": "a recording of someone saying {}"}
OTHER_ANCHORS = ["thenlper/gte-base", "BAAI/bge-small-en-v1.5", "sentence-transformers/all-mpnet-base-v2"]
HEADLINE = ["image/zero_shot_acc", "audio/zero_shot_acc", "image_to_audio/P@1", "audio_to_image/P@1",
            "image/mean_cosine", "audio/mean_cosine"]


@dataclass
class BenchPlan:
    """How big each experiment is. `full` is the published run; `quick` the test run."""

    data_root: str | None
    quick: bool = False
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    study_mnist_limit: int | None = 5000  # loss/template/classifier studies: a smaller budget
    study_epochs: int = 2
    speaker: str = "theo"  # FSDD speaker held out in the unseen-voice run
    gallery_sizes: tuple = (1000, 10000, 100000)

    def recipe(self) -> TrainConfig:
        cfg = load_preset("digits")
        cfg.data_root = self.data_root
        if self.quick:  # small offline stand-ins of the same shape: 8x8 digits, synthetic speech
            cfg = load_preset("digits-offline")
            cfg.epochs, cfg.batch_size = 1, 32  # quick checks that every section runs and reports, not how well
            cfg.modalities["image"].data = [DataSpec("digits", {"limit": 200})]
            cfg.modalities["audio"].data = [DataSpec("espeak", {"voices": list(VOICES[:8]), "rates": [175], "pitches": [50]})]
            for r in cfg.modalities.values():
                r.branch.encoder_options = {"widths": [8, 16, 32]}
                r.batch_size = 32
        return cfg


def _nested(name: str, options: dict, wanted: str) -> list[dict]:
    """The options dicts of every `wanted` spec in a spec, looking inside wrappers that list
    specs under options["data"] (the "augmented" data set). Returned by reference: edit them."""
    found = [options] if name == wanted else []
    for inner in options.get("data", []) if isinstance(options.get("data"), list) else []:
        found += _nested(inner["name"], inner.setdefault("options", {}), wanted)
    return found


def _branch_rate(modality: str, recipe) -> int | None:
    """The rate (Hz) a recipe's branch reads: its preprocess's, else its modality's default (None
    for pictures), so a speech branch at 16 kHz beside the 8 kHz audio one gets its own."""
    from .modalities import MODALITIES

    cfg = MODALITIES.get(modality).Config(**recipe.branch.preprocess)
    return getattr(cfg, "sample_rate", None)


def _load(plan: BenchPlan, cfg: TrainConfig, audio_holdout: dict | None = None, mnist_limit=None) -> tuple[dict, dict]:
    """(train_sets, eval_sets) for a recipe, loaded once per configuration."""
    train_sets, eval_sets = {}, {}
    for m, r in cfg.modalities.items():
        sr = _branch_rate(m, r)
        specs = [copy.deepcopy(s) for s in r.data]
        evals = [copy.deepcopy(s) for s in (r.eval_data if r.eval_data is not None else r.data)]
        for s in specs + evals:
            if s.name == "mnist" and mnist_limit:
                s.options["limit"] = mnist_limit
            if s.name == "mnist_photos" and mnist_limit:  # keep the recipe's 1 photo per 5 digits
                s.options["limit"] = mnist_limit // 5
            for fsdd in _nested(s.name, s.options, "fsdd"):  # also inside an "augmented" wrapper
                fsdd.update(audio_holdout or {})
        train_sets[m] = concat([load_spec(s.name, s.options, "train", cfg.data_root, sr) for s in specs])
        eval_sets[m] = concat([load_spec(s.name, s.options, "test", cfg.data_root, sr) for s in evals])
    return train_sets, eval_sets


def section_quality(plan: BenchPlan, anchor: TextAnchor, out: Path, log, checkpoint: Path | None = None) -> dict:
    """The shipped recipe, held out. Trains it into out/checkpoint, or, given `checkpoint`
    (a folder trained by `textanchor train` with this recipe), evaluates that one."""
    cfg = plan.recipe()
    data = _load(plan, cfg)
    if checkpoint is not None:
        from .evaluate import evaluate_checkpoint
        from .pipeline import Embedder

        log(f"quality: evaluating {checkpoint}")
        emb = Embedder.from_checkpoint(checkpoint, anchor=anchor)
        rows = {f"quality/{k}": v for k, v in evaluate_checkpoint(emb, data[1]).items()}
        rows["quality/train_seconds"] = emb.config["metrics"].get("train/seconds", float("nan"))
        rows["quality/checkpoint"] = str(checkpoint)
    else:
        log(f"quality: training the default recipe ({cfg.epochs} epochs)")
        res = train(cfg, out_dir=out / "checkpoint", anchor=anchor, data=data)
        rows = {f"quality/{k}": v for k, v in res.metrics.items()}
        rows["quality/train_seconds"] = res.seconds
    log(f"quality: speaker-held-out run (FSDD speaker {plan.speaker!r} never heard)")
    sp = _load(plan, cfg, audio_holdout={"holdout": "speaker", "test_speakers": [plan.speaker]}) if not plan.quick else data
    res2 = train(cfg, anchor=anchor, data=sp)
    rows.update({f"unseen_speaker/{k}": v for k, v in res2.metrics.items()})
    return rows


def _study_cfg(plan: BenchPlan, **over) -> TrainConfig:
    cfg = plan.recipe()
    if not plan.quick:
        cfg.epochs = plan.study_epochs
    for k, v in over.items():
        setattr(cfg, k, v)
    return cfg


def section_losses(plan: BenchPlan, anchor: TextAnchor, log) -> dict:
    """Every registered loss x seeds on the study budget; mean and spread."""
    data = _load(plan, _study_cfg(plan), mnist_limit=None if plan.quick else plan.study_mnist_limit)
    rows = {}
    for loss in LOSSES.names():
        vals = {k: [] for k in HEADLINE}
        for seed in plan.seeds:
            log(f"losses: {loss} seed {seed}")
            res = train(_study_cfg(plan, loss=loss, seed=seed), anchor=anchor, data=data, final_eval=True)
            for k in HEADLINE:
                vals[k].append(res.metrics.get(k, float("nan")))
        for k, v in vals.items():
            rows[f"loss/{loss}/{k}/mean"] = float(np.mean(v))
            rows[f"loss/{loss}/{k}/std"] = float(np.std(v))
    return rows


def section_classifier(plan: BenchPlan, anchor: TextAnchor, log) -> dict:
    """Plain classifiers with the anchored run's encoders, batches and step count."""
    from .baseline import train_classifier
    from .train import total_steps

    cfg = _study_cfg(plan)
    train_sets, eval_sets = _load(plan, cfg, mnist_limit=None if plan.quick else plan.study_mnist_limit)
    anchored = train(cfg, anchor=anchor, data=(train_sets, eval_sets))
    steps = total_steps(cfg, {m: len(s) for m, s in train_sets.items()})
    rows = {}
    for m in train_sets:
        log(f"classifier: {m}")
        r = train_classifier(cfg, m, train_sets[m], eval_sets[m], steps=steps)
        zs = anchored.metrics[f"{m}/zero_shot_acc"]
        rows[f"classifier/{m}/accuracy"] = r["accuracy"]
        rows[f"classifier/{m}/anchored_zero_shot_acc"] = zs
        rows[f"classifier/{m}/ratio"] = zs / r["accuracy"] if r["accuracy"] else float("nan")
    return rows


def class_text_separation(class_emb: np.ndarray) -> dict:
    """How far apart the anchor puts the class texts: mean and max cosine between different
    classes (lower = more room to separate the modalities)."""
    sims = class_emb @ class_emb.T
    off = sims[~np.eye(len(sims), dtype=bool)]
    return {"mean_offdiag_cos": float(off.mean()), "max_offdiag_cos": float(off.max())}


def section_anchors(plan: BenchPlan, anchor: TextAnchor, log) -> dict:
    """Templates on the default anchor, then any other anchor that loads offline."""
    from .data.base import DIGIT_NAMES

    data = _load(plan, _study_cfg(plan), mnist_limit=None if plan.quick else plan.study_mnist_limit)
    rows = {}
    candidates = [(anchor.name, anchor)] + [(n, None) for n in ([] if plan.quick else OTHER_ANCHORS)]
    for name, a in candidates:
        if a is None:
            try:
                a = TextAnchor(name)
            except AnchorError as e:
                log(f"anchors: {name} unavailable ({str(e)[:80]}...)")
                rows[f"anchor/{name}/available"] = 0.0
                continue
        rows[f"anchor/{name}/available"] = 1.0
        for tname, tpl in TEMPLATES.items():
            if a is not anchor and tname != "bare":
                continue
            log(f"anchors: {name} template {tname!r}")
            sep = class_text_separation(a.class_embeddings(DIGIT_NAMES, [tpl]).numpy())
            res = train(_study_cfg(plan, anchor=name, templates=[tpl]), anchor=a, data=data)
            key = f"anchor/{name}/{tname}"
            rows.update({f"{key}/{k}": v for k, v in sep.items()})
            rows.update({f"{key}/{k}": res.metrics.get(k, float("nan")) for k in HEADLINE})
    return rows


def _pcts(times: list[float]) -> tuple[float, float]:
    t = np.array(times) * 1000
    return float(np.percentile(t, 50)), float(np.percentile(t, 95))


def section_speed(plan: BenchPlan, checkpoint: Path, log, repeats: int = 50) -> dict:
    """Throughput and latency of the trained checkpoint on this machine."""
    from .index import EmbeddingIndex
    from .pipeline import Embedder
    from .projection import project

    emb = Embedder.from_checkpoint(checkpoint)
    cfg = plan.recipe()
    _, eval_sets = _load(plan, cfg)
    rows = {}
    for m, s in eval_sets.items():
        items = s.items[:2000]
        t0 = time.perf_counter()
        vecs = emb.embed(m, items, s.sample_rate)
        rows[f"speed/embed_{m}_items_per_s"] = len(items) / (time.perf_counter() - t0)
    rng = np.random.default_rng(0)
    q_item = eval_sets["image"].items[0]
    sizes = plan.gallery_sizes if not plan.quick else (100, 1000)
    for n in sizes:
        g = rng.normal(size=(n, emb.dim)).astype(np.float32)
        index = EmbeddingIndex(emb.dim)
        index.add(g, [{"modality": "audio", "label": "", "source": str(i)} for i in range(n)])
        full, bare = [], []
        gn = index.vectors
        for _ in range(repeats if not plan.quick else 5):
            t0 = time.perf_counter()
            index.search(emb.embed("image", [q_item])[0], k=10)
            full.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with torch.no_grad():  # the floor: encoder forward on a prepared item + one product
                br = emb.branch("image")
                v = br(br.modality.prepare([q_item])).numpy()[0]
            _ = gn @ v
            bare.append(time.perf_counter() - t0)
        p50, p95 = _pcts(full)
        b50, b95 = _pcts(bare)
        rows.update({f"speed/search_{n}/p50_ms": p50, f"speed/search_{n}/p95_ms": p95,
                     f"speed/search_{n}/bare_p50_ms": b50, f"speed/search_{n}/ratio_p50": p50 / b50})
        log(f"speed: search over {n}: p50 {p50:.2f} ms (bare {b50:.2f} ms)")
    # 5,000 real embeddings (both modalities; MNIST supplies most of them).
    n_pts = 300 if plan.quick else 5000
    pts = np.concatenate([emb.embed(m, s.items[:n_pts], s.sample_rate) for m, s in eval_sets.items()])
    pts = pts[rng.permutation(len(pts))[:n_pts]]
    rows["speed/projection_points"] = float(len(pts))
    for method in ("tsne", "umap"):
        t0 = time.perf_counter()
        project(pts, method=method, dim=2, seed=0)
        rows[f"speed/{method}_2d_s"] = time.perf_counter() - t0
        log(f"speed: {method} on {len(pts)} points: {rows[f'speed/{method}_2d_s']:.1f} s")
    return rows


# ------------------------------------------------------------------------------ real pictures
def _section_pictures(plan: BenchPlan, checkpoint: Path, log) -> dict:
    """Real pictures by folder, MNIST test and simulated photos (see `bench_pictures`)."""
    from .bench_pictures import section_pictures

    return section_pictures(plan.data_root, checkpoint, log, quick=plan.quick)


def _section_things(plan: BenchPlan, anchor: TextAnchor, log, checkpoint) -> dict:
    """The things model (see `bench_things`); `checkpoint` is measured when it is a things model."""
    from .bench_things import section_things
    from .demo.page import is_things

    from .checkpoint import read_config

    things = None
    if checkpoint and (Path(checkpoint) / "config.json").is_file():
        mods = read_config(checkpoint).get("recipe", {}).get("modalities", {})
        things = Path(checkpoint) if is_things(mods) else None
    return section_things(plan.data_root, log, things, quick=plan.quick, seeds=plan.seeds, anchor=anchor)


SECTIONS = ("quality", "losses", "classifier", "anchors", "speed", "pictures", "real_voices", "things")


def run_bench(data_root: str | None, out: str | Path, quick: bool = False, seeds=(0, 1, 2),
              sections=SECTIONS, log=print, checkpoint: str | Path | None = None) -> dict:
    """Run the chosen sections and write out/results.json and out/results.md.

    checkpoint: evaluate this already trained default-recipe checkpoint in the quality and
    speed sections instead of training one (saves the longest run)."""
    from .report import write_report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plan = BenchPlan(data_root=data_root, quick=quick, seeds=list(seeds))
    t0 = time.time()
    anchor = TextAnchor(plan.recipe().anchor)
    # Sections can be run one at a time: results of earlier runs in `out` are kept, and a
    # section run again replaces its own keys.
    results: dict = json.loads((out / "results.json").read_text()) if (out / "results.json").is_file() else {}
    results |= {"meta/machine": platform.platform(), "meta/processor": platform.processor() or platform.machine(),
                     "meta/cpus": torch.get_num_threads(), "meta/torch": torch.__version__,
                     "meta/python": platform.python_version(), "meta/seeds": list(seeds), "meta/quick": quick,
                     "meta/data_root": str(data_root), "meta/recipe": plan.recipe().to_dict(),
                     "meta/date": time.strftime("%Y-%m-%d %H:%M")}
    ckpt = Path(checkpoint) if checkpoint else out / "checkpoint"
    runners = {
        "quality": lambda: section_quality(plan, anchor, out, log, Path(checkpoint) if checkpoint else None),
        "losses": lambda: section_losses(plan, anchor, log),
        "classifier": lambda: section_classifier(plan, anchor, log),
        "anchors": lambda: section_anchors(plan, anchor, log),
        "speed": lambda: section_speed(plan, ckpt, log),
        "pictures": lambda: _section_pictures(plan, ckpt, log),
        "real_voices": lambda: section_real_voices(plan, ckpt, log),  # textanchor.voice_bench
        "noisy_voices": lambda: section_noisy_voices(plan, ckpt, log),  # its noisy rows alone
        "things": lambda: _section_things(plan, anchor, log, checkpoint),
    }
    for name in sections:
        if name not in runners:
            raise ValueError(f"unknown bench section {name!r}; sections: {', '.join(runners)}")
        if name in ("speed", "pictures", "real_voices", "noisy_voices") and not (ckpt / "config.json").is_file():
            raise ValueError(f"the {name} section measures {ckpt}: run the quality section first")
        t = time.time()
        results.update(runners[name]())
        results[f"meta/seconds/{name}"] = time.time() - t
        (out / "results.json").write_text(json.dumps(results, indent=1, sort_keys=True))  # partial results survive
    results["meta/wall_seconds"] = time.time() - t0
    (out / "results.json").write_text(json.dumps(results, indent=1, sort_keys=True))
    write_report(results, out / "results.md")
    return results
