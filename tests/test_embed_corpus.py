"""Embedding a corpus in resumable shards: killed halfway, rerun, nothing lost or embedded twice."""
import json
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from test_scale_train import write_toy_corpus
from textanchor.cli import main
from textanchor.embed_corpus import embed_corpus, merge_shards
from textanchor.index import EmbeddingIndex
from textanchor.index_faiss import FAISS_FILE, FaissIndex, load_index
from textanchor.pipeline import Embedder

ROOT = Path(__file__).resolve().parents[1]
SHARD = 25


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A manifest of 150 images and 150 tones (12 shards of 25)."""
    root = tmp_path_factory.mktemp("embed")
    csvs = write_toy_corpus(root, 50, 7)
    both = root / "both.csv"
    both.write_text("path,text\n" + "".join(c.read_text().split("\n", 1)[1] for c in csvs.values()))
    return both


def _embed_then_die(ck, csv, out, die_at: int):
    """Child process: embed, and SIGKILL itself when item `die_at` of the images is decoded."""
    import textanchor.embed_corpus as ec

    get = ec._CorpusFiles.__getitem__

    def dying(self, key):
        if key == ("image", die_at):
            os.kill(os.getpid(), signal.SIGKILL)
        return get(self, key)

    ec._CorpusFiles.__getitem__ = dying
    ec.embed_corpus(ck, csv, out, shard_size=SHARD, batch_size=10)


def test_killed_halfway_then_rerun_loses_and_duplicates_nothing(trained, corpus, tmp_path):
    ck, out = trained.checkpoint, tmp_path / "emb"
    # spawn, not fork: a fork taken after torch started its thread pools (earlier tests in the
    # same process) can hang in the child, which the old 120 s join then reported as a failure.
    child = multiprocessing.get_context("spawn").Process(target=_embed_then_die, args=(ck, corpus, out, 85))
    child.start()
    child.join(600)
    if child.exitcode is None:
        child.kill()
        pytest.fail("the embedding child neither finished nor reached item 85 in 600 s")
    assert child.exitcode == -signal.SIGKILL
    done = sorted(p.name for p in out.glob("shard-*"))
    assert done == [f"shard-image-{k:06d}" for k in range(3)]  # item 85 is in shard 3, mid-batch
    (out / ".shard-image-000003.partial").mkdir()  # as if the kill had hit a shard being written
    (out / ".shard-image-000003.partial" / "junk").write_text("half a shard")

    res = embed_corpus(ck, corpus, out, shard_size=SHARD, batch_size=10)
    assert res["items"] == 300 and res["shards"] == 12 and res["skipped"] == 3 and res["written"] == 9
    assert res["failed"] == [] and not list(out.glob(".*partial"))
    index = merge_shards(out, backend="exact")
    ids = [m["id"] for m in index.metadata()]
    assert len(ids) == len(set(ids)) == 300
    assert set(ids) == {f"{m}:{i}" for m in ("image", "audio") for i in range(150)}
    again = embed_corpus(ck, corpus, out, shard_size=SHARD, batch_size=10)  # a third run has nothing to do
    assert again["written"] == 0 and again["skipped"] == 12

    # The vectors are the ones the one-shot path gives.
    emb = Embedder.from_checkpoint(ck)
    meta = index.metadata()
    rows = [0, 80, 149, 150, 299]
    direct, _ = emb.embed_files([meta[r]["source"] for r in rows])
    np.testing.assert_allclose(index.vectors[rows], direct, atol=1e-5)


def test_a_changed_corpus_or_missing_shards_fail_clearly(trained, corpus, tmp_path):
    out = tmp_path / "emb"
    embed_corpus(trained.checkpoint, corpus, out, shard_size=SHARD)
    with pytest.raises(ValueError, match="shard_size changed"):
        embed_corpus(trained.checkpoint, corpus, out, shard_size=SHARD + 1)
    (out / "shard-audio-000002").rename(out / "gone")
    with pytest.raises(ValueError, match="1 of 12 shards are missing"):
        merge_shards(out)


def test_cli_corpus_merge_and_search_through_faiss(trained, corpus, tmp_path, capsys, monkeypatch):
    out = tmp_path / "emb"
    assert main(["embed", "--checkpoint", str(trained.checkpoint), "--corpus", str(corpus), "--out", str(out),
                 "--shard-size", "100", "--workers", "2", "--merge", "--backend", "hnsw", "--quiet"]) == 0
    assert "300 items in 4 shards" in capsys.readouterr().out
    index = load_index(out / "index")
    assert isinstance(index, FaissIndex) and index.kind == "hnsw" and (out / "index" / FAISS_FILE).is_file()
    # 300 items sit below the exact-search threshold; lower it so the search below goes through the graph.
    index.exact_below = 0
    index.save(out / "index")
    q = Embedder.from_checkpoint(trained.checkpoint).embed("text", ["two"])[0]
    want = [h.source for h in index.search(q, k=3, modality="image", exact=True)]

    def no_exact_scan(*a, **kw):
        raise AssertionError("the CLI search scanned exactly instead of asking FAISS")

    monkeypatch.setattr(EmbeddingIndex, "search", no_exact_scan)
    assert main(["search", "--index", str(out / "index"), "--checkpoint", str(trained.checkpoint),
                 "--text", "two", "-k", "3", "--modality", "image"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[-1] for line in lines[1:]] == want  # FAISS, with a modality selector, found the exact top 3


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available(), reason="this PyTorch build has no torch.distributed")
def test_torchrun_ranks_write_their_own_shards(trained, corpus, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    out = tmp_path / "emb"
    p = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                        "-m", "textanchor", "embed", "--checkpoint", str(trained.checkpoint), "--corpus", str(corpus),
                        "--out", str(out), "--shard-size", str(SHARD), "--merge", "--backend", "exact"],
                       env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.count("300 items in 12 shards") == 1  # rank 0 reports
    # Two ranks write to one stderr, so two progress lines can land on one line: find them all.
    import re

    progress = re.findall(r"(shard-(?:image|audio)-\d{6}): \d+ items", p.stderr)
    assert len(progress) == 12  # 6 per rank, none twice
    assert len(set(progress)) == 12
    assert json.loads((out / "corpus.json").read_text())["counts"] == {"image": 150, "audio": 150}
