"""`textanchor train | evaluate | embed | search`: a thin layer over the package.

`main(argv)` returns the exit code, so tests call it directly. User mistakes (missing data,
a bad checkpoint, an unknown name) print one line starting with "error:" and exit 2.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .cli_data import add_dataset_arg, dataset_specs, recipes_from_datasets, sample_rate_for


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="folder holding mnist/ and fsdd/ (e.g. ../shared/data)")
    p.add_argument("--mnist", help="folder with the MNIST IDX files")
    p.add_argument("--fsdd", help="folder with FSDD {digit}_{speaker}_{index}.wav recordings")
    p.add_argument("--download", action="store_true",
                   help="fetch MNIST / FSDD into those folders when they are missing (needs network)")
    add_dataset_arg(p)


DOWNLOADABLE = ("mnist", "fsdd", "audiomnist")  # loaders that take download=True


def _train(a) -> int:
    from . import distributed
    from .config import list_presets, load_preset
    from .train import train

    if a.list_presets:
        print("\n".join(list_presets()))
        return 0
    cfg = load_preset(a.config or a.preset)
    for key in ("epochs", "max_minutes", "loss", "anchor", "batch_size", "lr", "seed", "device"):
        if getattr(a, key) is not None:
            setattr(cfg, key, getattr(a, key))
    if a.template:
        cfg.templates = a.template
    if a.data:
        cfg.data_root = a.data
    if a.dataset:  # train on the named data sets instead of the recipe's
        cfg.modalities = recipes_from_datasets(dataset_specs(a), cfg)
    for r in cfg.modalities.values():
        for spec in r.data + (r.eval_data or []):
            if getattr(a, spec.name, None):  # --mnist / --fsdd point one data set elsewhere
                spec.options["root"] = getattr(a, spec.name)
            if a.download and spec.name in DOWNLOADABLE:
                spec.options["download"] = True
    def report_epoch(e: dict) -> None:
        if e["event"] == "epoch":
            accs = "  ".join(f"{k}={v:.4f}" for k, v in e.items() if k.endswith("zero_shot_acc"))
            print(f"epoch {e['epoch']}/{e['epochs']}  loss={e['loss']:.4f}  held-out {accs}  ({e['elapsed_s']:.0f} s)",
                  file=sys.stderr, flush=True)

    with distributed.process_group(cfg.device) as di:  # torchrun's environment, else a no-op
        res = train(cfg, out_dir=a.out, show_tqdm=not a.quiet, progress=report_epoch, stream=a.stream,
                    workers=a.workers)
    if not di.main:
        return 0
    summary = {k: v for k, v in res.metrics.items() if k.endswith(("zero_shot_acc", "P@1", "mean_cosine")) or k.startswith("train/")}
    print(json.dumps(summary, indent=1))
    print(f"checkpoint: {res.checkpoint}  ({res.seconds:.0f} s on {res.device}{', ' + res.stopped if res.stopped else ''})")
    if a.json:
        Path(a.json).write_text(json.dumps(res.metrics, indent=1, sort_keys=True))
    return 0


def _eval_sets(a, embedder) -> dict:
    """Held-out ItemSets named on the command line, per modality."""
    from .data.combine import concat, load_spec

    split = "all" if a.split == "all" else "test"
    specs: list[tuple[str, dict]] = []
    # --data alone means the digits sets, for a model that reads them (a things model names its
    # sets with --dataset; --data is then the folder they are found in).
    mods = set(embedder.modalities)
    if a.mnist or (a.data and "image" in mods):
        specs.append(("mnist", {"root": a.mnist or str(Path(a.data) / "mnist")} | ({"split": "test"} if split == "all" else {})))
    if a.fsdd or (a.data and "audio" in mods):
        specs.append(("fsdd", {"root": a.fsdd or str(Path(a.data) / "fsdd"), "holdout": a.holdout,
                               "test_speakers": tuple(a.test_speakers)}))
    if a.digits:
        specs.append(("digits", {}))
    if a.espeak:
        specs.append(("espeak", {}))
    for m in a.manifest or []:
        specs.append(("manifest", {"csv_path": m, "skip_missing": a.skip_missing}))
    specs += dataset_specs(a)
    if not specs:
        raise ValueError("name some data to evaluate on: --data, --mnist, --fsdd, --digits, --espeak, --manifest "
                         "or --dataset NAME[:KEY=VALUE,...]" + (f" (this model reads {', '.join(sorted(mods))}: "
                                                                "e.g. --data DATA --dataset quickdraw --dataset esc50)"
                                                                if a.data else ""))
    by_mod: dict[str, list] = {}
    audio_rate = embedder.sample_rate("audio") if "audio" in embedder.modalities else None
    for name, opts in specs:
        if a.download and name in DOWNLOADABLE:
            opts["download"] = True
        # Decoded once, at the checkpoint's audio rate (image loaders ignore the rate).
        s = load_spec(name, opts, split, a.data, sample_rate_for(name, embedder, audio_rate))
        by_mod.setdefault(s.modality, []).append(s)
    return {m: concat(v) for m, v in by_mod.items()}


def _evaluate(a) -> int:
    from .evaluate import check_labels, evaluate_checkpoint
    from .pipeline import Embedder

    emb = Embedder.from_checkpoint(a.checkpoint)
    sets = _eval_sets(a, emb)
    warning = check_labels(emb.class_names, sets, open_vocab=a.open_vocab)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    report = evaluate_checkpoint(emb, sets, probes=not a.no_probes)
    text = json.dumps(report, indent=1, sort_keys=True)
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(text)
    for k in sorted(report):
        if k.endswith(("zero_shot_acc", "/P@1", "mean_cosine", "/n")):
            print(f"{k:32s} {report[k]:.4f}")
    return 0


def _embed_corpus(a) -> int:
    """`embed --corpus`: resumable shards (under torchrun, each rank writes its own), then --merge."""
    from . import distributed
    from .embed_corpus import embed_corpus, merge_shards

    def report(e: dict) -> None:
        print(f"{e['shard']}: {e['items']} items ({e['written']}/{e['todo']} to write on this rank)",
              file=sys.stderr, flush=True)

    with distributed.process_group(a.device) as di:
        res = embed_corpus(a.checkpoint, a.corpus, a.out, shard_size=a.shard_size, workers=a.workers,
                           batch_size=a.batch_size, device=a.device, progress=None if a.quiet else report)
    if not di.main:
        return 0
    print(f"{res['items']} items in {res['shards']} shards -> {a.out} ({res['written']} written now, "
          f"{res['skipped']} already there; {len(res['failed'])} files could not be decoded)")
    for f in res["failed"][:10]:
        print(f"  not decoded: {f}", file=sys.stderr)
    if a.merge:
        index = merge_shards(a.out, backend=a.backend)
        index.save(Path(a.out) / "index")
        print(f"{len(index)} items -> {Path(a.out) / 'index'} ({type(index).__name__})")
    return 0


def _embed(a) -> int:
    from .data.base import DataError
    from .index import EmbeddingIndex
    from .pipeline import Embedder

    if a.corpus:
        return _embed_corpus(a)
    emb = Embedder.from_checkpoint(a.checkpoint)
    index = EmbeddingIndex(emb.dim)
    skipped = []
    if a.files and a.files_modality:
        emb.branch(a.files_modality)  # a branch it lacks is one error for the run, not one per file
    if a.files:
        # One file at a time, so a corrupt or unknown one is named and left out, not the run lost
        # (as `embed --corpus` does); batching matters only for corpora, which take that path.
        for f in a.files:
            try:
                vecs, mods = emb.embed_files([f], a.files_modality)
            except (DataError, ValueError) as e:
                skipped.append(f"{f}: {e}")
                continue
            index.add(vecs, [{"modality": mods[0], "label": "", "source": str(f)}])
        for line in skipped:
            print(f"not embedded: {line}", file=sys.stderr)
    if any([a.mnist, a.fsdd, a.data, a.digits, a.espeak, a.manifest, a.dataset]):
        for m, s in _eval_sets(a, emb).items():
            index.add(emb.embed(m, s.items, s.sample_rate),
                      [{"modality": m, "label": s.class_names[y], "source": src} for y, src in zip(s.labels, s.sources)])
    if len(index) == 0:
        raise ValueError(f"none of the {len(skipped)} files could be embedded (above)" if skipped
                         else "nothing to embed: give files or a data set option")
    index.save(a.out)
    print(f"{len(index)} items ({', '.join(index.modalities())}) -> {a.out}"
          + (f"; {len(skipped)} files not embedded (listed above)" if skipped else ""))
    return 0


def _search(a) -> int:
    from .index_faiss import load_index
    from .pipeline import Embedder

    from .demo.inputs import clean_text, text_example
    from .demo.search import UNSURE_BELOW, known_classes, shown_under

    # Queries are checked as the app checks them: an empty text here, a file (missing, silent,
    # too large) by Embedder.embed_query_file.
    emb = Embedder.from_checkpoint(a.checkpoint)
    text = clean_text(a.text, text_example(emb.class_names)) if a.text is not None else None
    index = load_index(a.index)  # exact or FAISS, as saved
    notes: list[str] = []  # what the app's answer would say about the file (several words heard)
    q = emb.embed("text", [text])[0] if text is not None else emb.embed_query_file(a.file, a.query_modality, notes)
    labels, probs = emb.classify(q[None])
    conf = float(probs[0].max())
    # The app's rule (demo/search.py): under UNSURE_BELOW the query is likely none of the classes.
    unsure = (f"  not sure: under {UNSURE_BELOW:.2f}; it may be none of the {len(emb.class_names)} classes this "
              f"model knows ({known_classes(emb.class_names)})"
              if conf < UNSURE_BELOW else "")
    shown = shown_under(conf, percent=False) if unsure else f"{conf:.2f}"
    print(f"query zero-shot: {emb.class_names[labels[0]]} ({shown}){unsure}")
    for note in notes:
        print(f"note: {note}")
    for h in index.search(q, k=a.k, modality=a.modality):
        print(f"{h.score:.3f}  {h.modality:6s} {str(h.label):10s} {h.source}")
    return 0


def _bench(a) -> int:
    from .bench import SECTIONS, run_bench

    if not a.quick and not a.data:
        raise ValueError("bench needs --data DIR (the folder with mnist/ and fsdd/), or --quick")
    res = run_bench(a.data, a.out, quick=a.quick, seeds=a.seeds, sections=a.sections or SECTIONS,
                    checkpoint=a.checkpoint)
    print(f"wrote {Path(a.out) / 'results.md'} and results.json ({res['meta/wall_seconds'] / 60:.1f} min)")
    return 0


def _positive_int(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="textanchor", description="Text-anchored multimodal embeddings.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train every modality of a recipe against the text anchor")
    t.add_argument("--preset", default="digits", help="recipe name (see --list-presets)")
    t.add_argument("--config", help="a JSON recipe file instead of a preset")
    t.add_argument("--list-presets", action="store_true")
    _add_data_args(t)
    t.add_argument("--epochs", type=int)
    t.add_argument("--max-minutes", type=float, help="stop cleanly after this much wall time")
    t.add_argument("--loss", help="loss registry name (mse, cosine, infonce, mse_infonce, ...)")
    t.add_argument("--anchor", help="sentence-transformers name or folder (default all-MiniLM-L6-v2)")
    t.add_argument("--template", action="append", help='class-text template, repeatable, e.g. "a person saying {}"')
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--seed", type=int)
    t.add_argument("--device", help="auto (default), cuda, mps or cpu")
    t.add_argument("--out", default="runs/latest", help="checkpoint folder to write")
    t.add_argument("--json", help="also write the held-out metrics here")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--stream", action="store_true",
                   help="decode training files lazily in DataLoader workers (corpora that do not fit in memory)")
    t.add_argument("--workers", type=int, default=0, help="DataLoader workers per modality with --stream")
    t.set_defaults(fn=_train)

    for name, fn, helptext in (("evaluate", _evaluate, "held-out metrics of a checkpoint as flat JSON"),
                               ("embed", _embed, "embed files or data sets into a search index")):
        e = sub.add_parser(name, help=helptext)
        e.add_argument("--checkpoint", required=True)
        _add_data_args(e)
        e.add_argument("--digits", action="store_true", help="scikit-learn's 8x8 digits (offline)")
        e.add_argument("--espeak", action="store_true", help="eSpeak NG synthetic spoken digits (offline)")
        e.add_argument("--manifest", action="append", help="CSV with path,text (repeatable)")
        e.add_argument("--skip-missing", action="store_true", help="--manifest: leave out listed files that do not exist")
        e.add_argument("--split", choices=["test", "all"], default="test",
                       help="test: held-out part only; all: every file given (e.g. a new speaker)")
        e.add_argument("--holdout", choices=["official", "speaker"], default="official", help="FSDD split")
        e.add_argument("--test-speakers", nargs="+", default=["theo"], help="FSDD speakers held out (speaker split)")
        if name == "evaluate":
            e.add_argument("--json", help="write the metrics here (keys documented in the README)")
            e.add_argument("--no-probes", action="store_true", help="skip the logistic-regression probes")
            e.add_argument("--open-vocab", action="store_true",
                           help="score labels the model has no class for through its text anchor (else refused)")
        else:
            e.add_argument("files", nargs="*", help="files to embed (pictures, recordings: whatever the model reads)")
            e.add_argument("--files-modality", help="the branch that reads FILES (needed where two read their "
                                                    "extension, e.g. a things model's sketch and photo branches for .png)")
            e.add_argument("--out", required=True, help="index folder to write (with --corpus: the shard folder)")
            e.add_argument("--corpus", help="a folder or path,text manifest of any size: embedded in resumable "
                                            "shards by DataLoader workers (rerun the same command to resume)")
            e.add_argument("--workers", type=int, default=0, help="--corpus: DataLoader workers decoding files")
            e.add_argument("--shard-size", type=int, default=10_000, help="--corpus: items per output shard")
            e.add_argument("--batch-size", type=int, default=256, help="--corpus: items per forward pass")
            e.add_argument("--device", default="cpu", help="--corpus: cpu or cuda (one GPU per torchrun rank)")
            e.add_argument("--merge", action="store_true", help="--corpus: also write OUT/index, one searchable index")
            e.add_argument("--backend", default="auto", choices=["auto", "exact", "hnsw", "ivf"],
                           help="--merge: exact search, or FAISS HNSW / IVF (auto: FAISS from 100k items)")
            e.add_argument("--quiet", action="store_true", help="--corpus: no per-shard progress")
        e.set_defaults(fn=fn)

    s = sub.add_parser("search", help="top-k items of an index for a text or a file")
    s.add_argument("--index", required=True)
    s.add_argument("--checkpoint", required=True)
    q = s.add_mutually_exclusive_group(required=True)
    q.add_argument("--text")
    q.add_argument("--file")
    s.add_argument("-k", type=_positive_int, default=10, help="results to show (at least 1)")
    s.add_argument("--modality", help="only results of this modality")
    s.add_argument("--query-modality", help="the branch that reads --file (needed where two read its extension, "
                                            "e.g. a things model's sketch and photo branches for .png)")
    s.set_defaults(fn=_search)

    b = sub.add_parser("bench", help="reproduce every published number (results.md / results.json)")
    b.add_argument("--data", help="folder with mnist/ and fsdd/ (e.g. ../shared/data); for things, quickdraw/, object_photos/, esc50/, speech_commands/")
    b.add_argument("--out", default="results")
    b.add_argument("--quick", action="store_true", help="tiny offline run of every section (minutes; for tests)")
    b.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    b.add_argument("--sections", nargs="+", help="subset of: quality losses classifier anchors speed pictures real_voices noisy_voices things")
    b.add_argument("--checkpoint", help="evaluate this default-recipe checkpoint instead of training one")
    b.set_defaults(fn=_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    from .anchor import AnchorError
    from .checkpoint import CheckpointError
    from .data.base import DataError

    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except (DataError, CheckpointError, AnchorError, ValueError, KeyError, FileNotFoundError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
