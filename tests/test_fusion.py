"""Late fusion: a branch that joins another trains as its own branch, and once loaded the
modality it joins answers with the normalised mean of both branches' vectors, on every path
(embed, prepared batches, corpus embedding, held-out metrics)."""
import numpy as np
import pytest
import soundfile as sf
import torch

from textanchor.fusion import FusedInput, fuse, joined_members

from conftest import toy_audio, toy_images


def test_joined_members_and_their_mistakes():
    assert joined_members({"image": "", "audio": "", "speech": "audio"}) == {"image": ["image"],
                                                                             "audio": ["audio", "speech"]}
    with pytest.raises(ValueError, match="cannot join itself"):
        joined_members({"audio": "audio"})
    with pytest.raises(ValueError, match="joins 'sound', which is no branch"):
        joined_members({"audio": "", "speech": "sound"})
    with pytest.raises(ValueError, match="which itself joins 'audio'"):
        joined_members({"audio": "", "speech": "audio", "sound": "speech"})


def test_fuse_is_the_mean_of_unit_vectors():
    a, b = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 0.5]])
    assert torch.allclose(fuse([a, b]), torch.tensor([[1.0, 1.0]]) / 2 ** 0.5)
    assert torch.allclose(fuse([a]), torch.tensor([[1.0, 0.0]]))


def _config(epochs=10):
    from textanchor.config import DataSpec, ModalityRecipe, TrainConfig
    from textanchor.model import BranchConfig

    small = {"widths": [8, 16, 32]}
    return TrainConfig(modalities={
        "image": ModalityRecipe([DataSpec("toy")], branch=BranchConfig(encoder_options=small)),
        "audio": ModalityRecipe([DataSpec("toy")], branch=BranchConfig(encoder_options=small)),
        # a second audio network at 16 kHz in a longer window, trained beside the first
        "speech": ModalityRecipe([DataSpec("toy")], branch=BranchConfig(
            encoder="audio_cnn", encoder_options=small, joins="audio")),
    }, epochs=epochs, batch_size=16, lr=5e-3, device="cpu")


def _tones(n, seed, sr):
    s = toy_audio(n, seed, sr)
    s.sources = [f"tone:{seed}:{i}" for i in range(len(s))]
    return s


@pytest.fixture(scope="module")
def fused(anchor, tmp_path_factory):
    from textanchor.train import train

    data = ({"image": toy_images(30, 0), "audio": _tones(30, 1, 8000), "speech": _tones(30, 1, 16000)},
            {"image": toy_images(10, 2), "audio": _tones(10, 3, 8000), "speech": _tones(10, 3, 16000)})
    res = train(_config(), out_dir=tmp_path_factory.mktemp("fused") / "ckpt", anchor=anchor, data=data)
    return res, data


def test_a_joined_branch_is_part_of_the_answer_not_a_modality(fused):
    from textanchor.pipeline import Embedder

    res, (_, evals) = fused
    e = Embedder.from_checkpoint(res.checkpoint)
    assert e.modalities == ["image", "audio"] and e.members("audio") == ["audio", "speech"]
    assert e.sample_rate("audio") == 16000 and e.sample_rate("image") is None
    items = _tones(4, 9, 16000).items
    got = torch.from_numpy(e.embed("audio", items, 16000))
    with torch.no_grad():
        parts = [e.branch(m)(e.branch(m).modality.prepare(items, 16000)) for m in ("audio", "speech")]
    assert torch.allclose(got, fuse(parts), atol=1e-5)
    alone = torch.nn.functional.normalize(parts[0], dim=-1)
    assert not torch.allclose(got, alone, atol=1e-3)  # the second branch really moved the answer
    packed = e.inputs("audio").prepare(items, 16000)  # one tensor, as DataLoader workers make
    assert packed.shape == (len(items), 8000 * 1.2 + 16000 * 1.5) and isinstance(e.inputs("audio"), FusedInput)
    assert torch.allclose(e.embed_prepared("audio", packed), got, atol=1e-5)
    assert e.inputs("image") is e.branch("image").modality

    # The held-out metrics score "audio" as it answers (fused, each member on its own eval set),
    # not as its first branch alone (their accuracies may agree on toy tones; their mean cosines
    # to the class texts do not); the joined branch keeps its own keys.
    from textanchor.data.combine import relabel

    protos = e.class_embeddings[relabel(evals["audio"], list(e.class_names))]  # (N, A) each item's class text
    with torch.no_grad():
        raw = {m: e.branch(m)(e.branch(m).modality.prepare(evals[m].items, evals[m].sample_rate)) for m in ("audio", "speech")}
    fused_cos = float((fuse(list(raw.values())) * protos).sum(1).mean())
    alone_cos = float((torch.nn.functional.normalize(raw["audio"], dim=-1) * protos).sum(1).mean())
    assert abs(fused_cos - alone_cos) > 1e-2
    assert res.metrics["audio/mean_cosine"] == pytest.approx(fused_cos, abs=1e-4)
    assert "speech/zero_shot_acc" in res.metrics and "speech/mean_cosine" in res.metrics


def test_corpus_embedding_reads_a_fused_modality(fused, tmp_path):
    from textanchor.embed_corpus import embed_corpus, merge_shards
    from textanchor.pipeline import Embedder

    res, _ = fused
    tones = _tones(3, 5, 16000)
    rows = []
    for i, w in enumerate(tones.items):
        sf.write(tmp_path / f"t{i}.wav", w, 16000)
        rows.append(f"{tmp_path / f't{i}.wav'},{tones.class_names[tones.labels[i]]}")
    (tmp_path / "m.csv").write_text("path,text\n" + "\n".join(rows) + "\n")
    out = embed_corpus(res.checkpoint, tmp_path / "m.csv", tmp_path / "emb", shard_size=10, batch_size=2)
    assert out["items"] == len(rows) and not out["failed"]
    index = merge_shards(tmp_path / "emb")
    e = Embedder.from_checkpoint(res.checkpoint)
    want, _ = e.embed_files([tmp_path / "t0.wav"])
    # files are read at the highest member rate, so each member hears them as in training
    assert np.allclose(want, e.embed("audio", [tones.items[0]], 16000), atol=1e-5)
    hits = index.search(want[0], k=1)
    assert hits[0].source.endswith("t0.wav") and hits[0].score == pytest.approx(1.0, abs=1e-4)


def test_a_checkpoint_with_a_bad_join_is_refused_in_words(fused, tmp_path):
    import json
    import shutil

    from textanchor.checkpoint import CheckpointError, load_checkpoint

    res, _ = fused
    bad = tmp_path / "bad"
    shutil.copytree(res.checkpoint, bad)
    cfg = json.loads((bad / "config.json").read_text())
    cfg["modalities"]["speech"]["joins"] = "sound"
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="joins 'sound', which is no branch"):
        load_checkpoint(bad)


def test_fused_defaults_and_mistakes_match_one_branch(fused):
    """Without a rate, items are at the rate `sample_rate` advertises (the highest member's, what
    read_file decodes at: newcomers decoded at it and left the rate out); a batch that is not
    packed, or no item at all, is met with a message or an empty answer, not a reshape error."""
    from textanchor.pipeline import Embedder

    res, _ = fused
    e = Embedder.from_checkpoint(res.checkpoint)
    items = _tones(2, 11, 16000).items
    assert e.sample_rate("audio") == 16000
    assert np.allclose(e.embed("audio", items), e.embed("audio", items, 16000), atol=1e-6)
    assert torch.equal(e.inputs("audio").prepare(items), e.inputs("audio").prepare(items, 16000))  # read_rate
    assert not np.allclose(e.embed("audio", items), e.embed("audio", items, 8000), atol=1e-3)
    assert e.embed("audio", []).shape == (0, e.dim)
    assert e.inputs("audio").prepare([], 8000).shape == (0, e.inputs("audio").size)
    with pytest.raises(ValueError, match=r"expected a packed batch of shape \(B, 33600\).*2 branches"):
        e.embed_prepared("audio", e.branch("audio").modality.prepare(items, 8000))
