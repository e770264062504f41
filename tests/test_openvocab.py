"""The open-vocabulary experiment: its report against a brute-force reference, the word split,
and a tiny end-to-end run on eSpeak speech."""
from __future__ import annotations

import numpy as np
import pytest

from textanchor.openvocab import WORDS, OpenVocabConfig, format_report, has_relative, open_vocab_report, split_words


def test_word_list_is_large_and_unique():
    assert len(WORDS) >= 200 and len(set(WORDS)) == len(WORDS)


def test_split_words_is_seeded_partition():
    seen, unseen = split_words(WORDS, 0.25, seed=3)
    assert sorted(seen + unseen) == sorted(WORDS) and not set(seen) & set(unseen)
    assert len(unseen) == round(0.25 * len(WORDS))
    assert (seen, unseen) == split_words(WORDS, 0.25, seed=3)
    assert split_words(WORDS, 0.25, seed=4) != (seen, unseen)


def test_has_relative():
    assert has_relative("rainbow", ["rain", "cat"]) and not has_relative("owl", ["owls"])
    assert not has_relative("cat", ["dog", "cat"])


def test_report_matches_brute_force():
    rng = np.random.default_rng(0)
    cls = rng.standard_normal((8, 16))
    cls /= np.linalg.norm(cls, axis=1, keepdims=True)
    seen_idx, unseen_idx = [0, 1, 2, 3, 4], [5, 6, 7]
    ys, yu = rng.choice(seen_idx, 40), rng.choice(unseen_idx, 30)
    es = cls[ys] + 0.9 * rng.standard_normal((40, 16))
    eu = cls[yu] + 1.2 * rng.standard_normal((30, 16))
    related = np.zeros(8, bool)
    related[5] = True
    r = open_vocab_report(es, ys, eu, yu, cls, seen_idx, unseen_idx, related)

    def brute(e, y, among):
        hits = 0
        for v, t in zip(e, y):
            best = max(among, key=lambda c: float(v @ cls[c]) / np.linalg.norm(v))
            hits += best == t
        return hits / len(y)

    assert r["seen/acc_all"] == pytest.approx(brute(es, ys, range(8)))
    assert r["seen/acc_seen"] == pytest.approx(brute(es, ys, seen_idx))
    assert r["unseen/acc_all"] == pytest.approx(brute(eu, yu, range(8)))
    assert r["unseen/acc_unseen"] == pytest.approx(brute(eu, yu, unseen_idx))
    assert r["unseen/top5_unseen"] == 1.0  # only 3 unseen classes
    m = yu == 5
    assert r["unseen_related/acc_unseen"] == pytest.approx(brute(eu[m], yu[m], unseen_idx))
    taken = np.mean([np.argmax(cls @ v) in seen_idx for v in eu])
    assert r["unseen/taken_for_seen"] == pytest.approx(taken)
    assert r["chance/unseen"] == pytest.approx(1 / 3) and r["chance/all"] == pytest.approx(1 / 8)


def test_tiny_run(anchor, tmp_path):
    """Six words, four voices, one epoch: the pipeline runs and reports every number."""
    pytest.importorskip("espeakng_loader")
    from textanchor.openvocab import run_open_vocab

    cfg = OpenVocabConfig(words=["cat", "dog", "red", "blue", "rain", "rainbow"], unseen_fraction=0.34,
                          voices=("en", "en-us", "en+f2", "en-gb-x-rp"), rates=(175,), pitches=(50,),
                          epochs=1, batch_size=8, widths=(8, 16, 16, 16), cache_dir=str(tmp_path), max_minutes=1)
    res = run_open_vocab(cfg, anchor=anchor)
    m = res["metrics"]
    assert len(res["unseen"]) == 2 and m["n_words"] == 6
    for k in ("seen/acc_all", "seen/acc_seen", "unseen/acc_all", "unseen/acc_unseen", "unseen/taken_for_seen"):
        assert 0.0 <= m[k] <= 1.0
    assert res["test_voices"] and "| unseen words" in format_report(res)
