"""Open vocabulary: does an audio branch trained on some spoken words place words it never heard
next to their text?

    result = run_open_vocab(OpenVocabConfig())      # or: python -m textanchor.openvocab

Words are spoken by eSpeak NG voices. A seeded share of the words is held out of training
("unseen": their names reach the model only through the text anchor at test time); test clips
come from voices held out of training for every word. Reported, each next to chance:
  seen words,   new voices:  accuracy among all class texts and among the seen ones;
  unseen words, new voices:  accuracy among all class texts, among the unseen ones only, top-5
                             among the unseen ones; and how often an unseen word is taken for
                             a seen one (the closed-set bias).
Unseen words are also split into those with a seen relative (sharing their first 4 letters with
a seen word: "rain" -> "rainbow") and those without, because the text space encodes words
partly by sub-word pieces, and sub-word sound is the one thing an audio branch could carry over.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .metrics import l2_normalize

# Common English words: families that share a stem (so transfer through sub-words is testable)
# and unrelated everyday nouns, verbs and adjectives.
WORDS = """
rain rainbow rainy sun sunny sunshine snow snowman snowing wind windy storm
play player playing teach teacher farm farmer fish fishing dance dancer dancing sing singer
singing read reader reading walk walking cook cooking cookie paint painter painting swim
swimmer swimming run runner bake baker bakery build builder building drive driver write
writer writing jump jumping sleep sleeping sleepy help helper helpful hope hopeful
care careful color colorful friend friendly home homework foot football basket basketball
water waterfall fire fireman firework book bookshelf moon moonlight star starfish
cat dog horse cow sheep pig chicken duck mouse lion tiger bear monkey rabbit snake frog
whale shark eagle owl bee spider zebra giraffe elephant kangaroo penguin dolphin turtle
apple banana orange grape lemon cherry peach carrot potato tomato onion bread cheese butter
milk coffee tea sugar salt pepper rice soup pizza cake chocolate
red blue green yellow purple brown black white pink gray
head hand arm leg knee nose mouth ear eye hair tooth finger shoulder heart
car bus train plane boat bicycle truck rocket ship taxi
house door window table chair bed lamp clock phone computer camera pencil paper bottle
mountain river ocean island forest desert valley beach garden bridge city village
happy sad angry tired hungry quiet loud fast slow small big tall short young old
doctor nurse police soldier pilot king queen baby mother father sister brother
music guitar piano drum violin
summer winter spring autumn morning evening night today tomorrow yesterday
""".split()


@dataclass
class OpenVocabConfig:
    words: list = field(default_factory=lambda: list(WORDS))  # every class (spoken and anchored)
    unseen_fraction: float = 0.25  # share of words held out of training
    voices: tuple | None = None  # eSpeak voices (None: all of textanchor.data.espeak.VOICES)
    rates: tuple = (150, 200)  # words per minute
    pitches: tuple = (40, 60)
    epochs: int = 6
    max_minutes: float | None = 9.0  # training time budget
    batch_size: int = 64
    lr: float = 3e-3
    widths: tuple = (32, 64, 128, 128)  # audio_cnn widths
    templates: tuple = ("{}",)
    seed: int = 0  # word split, voice split, training
    sample_rate: int = 8000
    cache_dir: str | None = None  # synthesised speech is cached here when given


def split_words(words: list[str], unseen_fraction: float, seed: int = 0) -> tuple[list[str], list[str]]:
    """A seeded split of the vocabulary into (seen, unseen), both in the input order."""
    n_unseen = max(1, min(len(words) - 1, round(unseen_fraction * len(words))))
    held = set(np.random.default_rng(seed).permutation(len(words))[:n_unseen].tolist())
    return ([w for i, w in enumerate(words) if i not in held], [w for i, w in enumerate(words) if i in held])


def has_relative(word: str, others: list[str], stem: int = 4) -> bool:
    """Whether another word shares `word`'s first `stem` letters (a sub-word the model may know)."""
    return len(word) >= stem and any(o != word and o[:stem] == word[:stem] for o in others)


def _acc(emb, labels, class_emb, among) -> float:
    """Zero-shot accuracy ranking only the classes in `among` (indices into class_emb)."""
    if len(emb) == 0:
        return float("nan")
    among = np.asarray(among)
    pred = among[np.argmax(emb @ class_emb[among].T, axis=1)]
    return float(np.mean(pred == labels))


def _topk(emb, labels, class_emb, among, k: int) -> float:
    among = np.asarray(among)
    sims = emb @ class_emb[among].T  # (N, |among|)
    top = among[np.argsort(-sims, axis=1)[:, :k]]
    return float(np.mean((top == labels[:, None]).any(1))) if len(emb) else float("nan")


def open_vocab_report(emb_seen, y_seen, emb_unseen, y_unseen, class_emb, seen_idx, unseen_idx,
                      related=None) -> dict[str, float]:
    """Seen versus unseen zero-shot accuracy, each with its chance level.

    Args:
        emb_seen, y_seen: (N, A) clips of seen words and their class indices into class_emb.
        emb_unseen, y_unseen: the same for unseen words.
        class_emb: (C, A) class texts of every word.
        seen_idx, unseen_idx: class indices of the seen and the unseen words.
        related: optional (C,) bool, True for words with a seen relative (see `has_relative`).

    Returns:
        flat dict: "seen/acc_all", "seen/acc_seen", "unseen/acc_all", "unseen/acc_unseen",
        "unseen/top5_unseen", "unseen/taken_for_seen", "chance/...", counts; with `related`,
        "unseen_related/acc_unseen" and "unseen_unrelated/acc_unseen".
    """
    cls = l2_normalize(class_emb)
    es, eu = l2_normalize(emb_seen), l2_normalize(emb_unseen)
    ys, yu = np.asarray(y_seen), np.asarray(y_unseen)
    all_idx = np.arange(len(cls))
    seen_set = set(np.asarray(seen_idx).tolist())
    out = {
        "n_words": float(len(cls)), "n_seen_words": float(len(seen_idx)), "n_unseen_words": float(len(unseen_idx)),
        "seen/n": float(len(ys)), "unseen/n": float(len(yu)),
        "seen/acc_all": _acc(es, ys, cls, all_idx),
        "seen/acc_seen": _acc(es, ys, cls, seen_idx),
        "unseen/acc_all": _acc(eu, yu, cls, all_idx),
        "unseen/acc_unseen": _acc(eu, yu, cls, unseen_idx),
        "unseen/top5_unseen": _topk(eu, yu, cls, unseen_idx, 5),
        "unseen/taken_for_seen": (float(np.mean([p in seen_set for p in np.argmax(eu @ cls.T, 1)]))
                                  if len(yu) else float("nan")),
        "chance/all": 1.0 / len(cls),
        "chance/seen": 1.0 / len(seen_idx),
        "chance/unseen": 1.0 / len(unseen_idx),
        "chance/top5_unseen": min(1.0, 5.0 / len(unseen_idx)),
        "seen/mean_cosine": float(np.mean(np.sum(es * cls[ys], 1))) if len(ys) else float("nan"),
        "unseen/mean_cosine": float(np.mean(np.sum(eu * cls[yu], 1))) if len(yu) else float("nan"),
    }
    if related is not None:
        rel = np.asarray(related, bool)[yu]
        for name, mask in (("unseen_related", rel), ("unseen_unrelated", ~rel)):
            out[f"{name}/n_words"] = float(len(np.unique(yu[mask])))
            out[f"{name}/acc_unseen"] = _acc(eu[mask], yu[mask], cls, unseen_idx)
    return out


def run_open_vocab(cfg: OpenVocabConfig, anchor=None, progress=None, out_dir=None) -> dict:
    """Train an audio branch on the seen words' eSpeak clips, then test on held-out voices.

    Args:
        cfg: the experiment. anchor: a loaded TextAnchor (saves reloading it).
        progress: training progress callback (see `textanchor.train.train`).
        out_dir: keep the checkpoint there (default: a temporary folder, removed).

    Returns:
        {"config": ..., "metrics": open_vocab_report(...), "seen": [...], "unseen": [...],
         "train": {"clips", "seconds", "epochs_done"}}.
    """
    from .anchor import TextAnchor
    from .config import DataSpec, ModalityRecipe, TrainConfig
    from .data.espeak import VOICES, load_espeak
    from .model import BranchConfig
    from .pipeline import Embedder
    from .train import train

    t0 = time.time()
    words = list(dict.fromkeys(cfg.words))
    seen, unseen = split_words(words, cfg.unseen_fraction, cfg.seed)
    opts = dict(voices=list(cfg.voices or VOICES), rates=list(cfg.rates), pitches=list(cfg.pitches),
                sample_rate=cfg.sample_rate, seed=cfg.seed, cache_dir=cfg.cache_dir)
    train_set = load_espeak(words=seen, split="train", **opts)
    test_seen = load_espeak(words=seen, split="test", **opts)
    test_unseen = load_espeak(words=unseen, split="test", **opts)
    tcfg = TrainConfig(
        modalities={"audio": ModalityRecipe([DataSpec("espeak", {"words": seen, **opts})], branch=BranchConfig(
            encoder="audio_cnn", encoder_options={"widths": list(cfg.widths)}))},
        templates=list(cfg.templates), epochs=cfg.epochs, max_minutes=cfg.max_minutes,
        batch_size=cfg.batch_size, lr=cfg.lr, seed=cfg.seed, device="auto",
    )
    anchor = anchor or TextAnchor(tcfg.anchor)
    with tempfile.TemporaryDirectory() as tmp:
        ck_dir = Path(out_dir) if out_dir else Path(tmp) / "openvocab"
        res = train(tcfg, out_dir=ck_dir, progress=progress, anchor=anchor,
                    data=({"audio": train_set}, {"audio": test_seen}), final_eval=False)
        emb = Embedder.from_checkpoint(res.checkpoint, anchor=anchor)
        e_seen = emb.embed("audio", test_seen.items, test_seen.sample_rate)
        e_unseen = emb.embed("audio", test_unseen.items, test_unseen.sample_rate)
    index = {w: i for i, w in enumerate(words)}
    class_emb = anchor.class_embeddings(words, list(cfg.templates)).numpy()  # (C, A)
    metrics = open_vocab_report(
        e_seen, [index[t] for t in test_seen.texts], e_unseen, [index[t] for t in test_unseen.texts],
        class_emb, [index[w] for w in seen], [index[w] for w in unseen],
        related=[w in unseen and has_relative(w, seen) for w in words],
    )
    return {
        "config": asdict(cfg), "metrics": metrics, "seen": seen, "unseen": unseen,
        "test_voices": sorted(set(test_seen.groups)),
        "train": {"clips": len(train_set), "seconds": time.time() - t0, "epochs_done": len(res.history),
                  "history": res.history},
    }


def format_report(result: dict) -> str:
    """A short Markdown table of the headline numbers, each next to chance."""
    m = result["metrics"]
    pct = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    rows = [
        ("seen words, held-out voices", "all words", m["seen/acc_all"], m["chance/all"]),
        ("seen words, held-out voices", "seen words", m["seen/acc_seen"], m["chance/seen"]),
        ("unseen words, held-out voices", "all words", m["unseen/acc_all"], m["chance/all"]),
        ("unseen words, held-out voices", "unseen words", m["unseen/acc_unseen"], m["chance/unseen"]),
        ("unseen words (top-5)", "unseen words", m["unseen/top5_unseen"], m["chance/top5_unseen"]),
    ]
    if "unseen_related/acc_unseen" in m:
        rows += [("unseen words with a seen relative", "unseen words", m["unseen_related/acc_unseen"],
                  m["chance/unseen"]),
                 ("unseen words without one", "unseen words", m["unseen_unrelated/acc_unseen"], m["chance/unseen"])]
    lines = ["| test clips | ranked among | accuracy | chance |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {pct(v)} | {pct(c)} |" for a, b, v, c in rows]
    lines.append(f"\nUnseen clips taken for a seen word: {pct(m['unseen/taken_for_seen'])}; "
                 f"{int(m['n_seen_words'])} seen / {int(m['n_unseen_words'])} unseen words, "
                 f"{result['train']['clips']} training clips, {result['train']['seconds']:.0f} s.")
    return "\n".join(lines)


def main(argv=None) -> dict:
    """CLI: `python -m textanchor.openvocab [--epochs N] [--out results.json] ...`."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=OpenVocabConfig.epochs)
    p.add_argument("--max-minutes", type=float, default=OpenVocabConfig.max_minutes)
    p.add_argument("--unseen-fraction", type=float, default=OpenVocabConfig.unseen_fraction)
    p.add_argument("--words", type=int, default=None, help="use only the first N words of the list")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--out", default=None, help="write the result as JSON here")
    a = p.parse_args(argv)
    cfg = OpenVocabConfig(epochs=a.epochs, max_minutes=a.max_minutes, unseen_fraction=a.unseen_fraction,
                          seed=a.seed, cache_dir=a.cache_dir)
    if a.words:
        cfg.words = cfg.words[: a.words]
    result = run_open_vocab(cfg)
    print(format_report(result))
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
