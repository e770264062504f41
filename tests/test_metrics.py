"""Metrics against brute-force loops, scikit-learn, and data with known answers."""
import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from textanchor.metrics import (
    METRIC_KEYS_DOC, evaluation_report, l2_normalize, linear_probe, mean_cosine, modality_gap,
    retrieval_metrics, shared_retrieval, zero_shot_accuracy,
)


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _clustered(rng, n, n_cls=5, dim=16, noise=0.3, centers=None):
    centers = rng.standard_normal((n_cls, dim)) if centers is None else centers
    y = rng.integers(0, n_cls, n)
    return (centers[y] + noise * rng.standard_normal((n, dim))).astype(np.float32), y, centers


def _reference_retrieval(q, ql, g, gl, ks=(1, 5, 10), exclude_self=False):
    """One query at a time, straight from the definitions (for ties-free data)."""
    q, g = _unit(q.astype(np.float64)), _unit(g.astype(np.float64))
    p1, hits, aps = [], {k: [] for k in ks if k != 1}, []
    for i in range(len(q)):
        idx = [j for j in range(len(g)) if not (exclude_self and j == i)]
        ranked = sorted(idx, key=lambda j: -float(q[i] @ g[j]))
        rel = [gl[j] == ql[i] for j in ranked]
        if not any(rel):  # no right answer in the gallery: the query is left out
            continue
        p1.append(float(rel[0]))
        for k in hits:
            hits[k].append(float(any(rel[:k])))
        if any(rel):
            found, precisions = 0, []
            for rank, r in enumerate(rel, start=1):
                if r:
                    found += 1
                    precisions.append(found / rank)
            aps.append(np.mean(precisions))
    out = {"P@1": np.mean(p1), **{f"R@{k}": np.mean(v) for k, v in hits.items()}}
    out["mAP"] = np.mean(aps)
    return out


@pytest.mark.parametrize("exclude_self", [False, True])
def test_retrieval_matches_brute_force(exclude_self):
    rng = np.random.default_rng(0)
    q, ql, centers = _clustered(rng, 60, noise=1.5)
    g, gl, _ = (q, ql, None) if exclude_self else _clustered(rng, 80, noise=1.5, centers=centers)
    got = retrieval_metrics(q, ql, g, gl, exclude_self=exclude_self, chunk_size=7)
    want = _reference_retrieval(q, ql, g, gl, exclude_self=exclude_self)
    assert list(got) == ["P@1", "R@5", "R@10", "mAP"]
    for key in want:
        assert got[key] == pytest.approx(want[key], abs=1e-9), key
    assert 0 < got["P@1"] < 1  # the data is neither trivial nor hopeless


def test_custom_ks_and_torch_input():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    q, ql, c = _clustered(rng, 30, noise=1.0)
    g, gl, _ = _clustered(rng, 40, noise=1.0, centers=c)
    got = retrieval_metrics(torch.from_numpy(q), torch.from_numpy(ql), g, gl, ks=(1, 3, 100))
    want = _reference_retrieval(q, ql, g, gl, ks=(1, 3, 100))
    assert set(got) == {"P@1", "R@3", "R@100", "mAP"}
    assert got == pytest.approx(want)
    assert got["R@100"] == 1.0  # k beyond the gallery: any relevant item counts


def test_map_matches_sklearn_per_query_even_with_ties():
    rng = np.random.default_rng(2)
    q, ql, c = _clustered(rng, 25, noise=1.0)
    g, gl, _ = _clustered(rng, 40, noise=1.0, centers=c)
    g = np.concatenate([g, g[:15]])  # exact duplicates: tied scores of both kinds
    gl = np.concatenate([gl, rng.integers(0, 5, 15)])
    scores = _unit(q) @ _unit(g).T
    ap = [average_precision_score(gl == ql[i], scores[i]) for i in range(len(q)) if (gl == ql[i]).any()]
    assert retrieval_metrics(q, ql, g, gl)["mAP"] == pytest.approx(np.mean(ap), abs=1e-6)


def test_retrieval_perfect_adversarial_and_collapsed():
    eye = np.eye(4, dtype=np.float32)
    labels = np.repeat(np.arange(4), 3)
    perfect = eye[labels] + 0.01 * np.random.default_rng(3).standard_normal((12, 4))
    assert retrieval_metrics(perfect, labels, perfect, labels, exclude_self=True) == \
        {"P@1": 1.0, "R@5": 1.0, "R@10": 1.0, "mAP": 1.0}

    # Two classes; every query points away from its own class: relevant items rank last.
    gal = np.array([[-1, 0.1], [-1, 0.2], [1, 0.1], [1, 0.2], [1, 0.3], [1, 0.4]], np.float32)
    gal_l = np.array([0, 0, 1, 1, 1, 1])
    got = retrieval_metrics(np.array([[1, 0]], np.float32), [0], gal, gal_l, ks=(1, 2, 4, 5))
    assert got["P@1"] == got["R@2"] == got["R@4"] == 0.0 and got["R@5"] == 1.0
    assert got["mAP"] == pytest.approx((1 / 5 + 2 / 6) / 2)

    # A collapsed space (every score tied) earns nothing on P@1 and base rate on mAP.
    flat = np.ones((10, 3), np.float32)
    flat_l = np.arange(10) % 2
    got = retrieval_metrics(flat, flat_l, flat, flat_l)
    assert got["P@1"] == 0.0 and got["mAP"] == pytest.approx(0.5)


def test_queries_without_relevant_items_are_left_out():
    # Queries of classes 5..9 have no item in the gallery (classes 0..4): they change nothing.
    rng = np.random.default_rng(4)
    q, ql, centers = _clustered(rng, 40, n_cls=10, noise=1.5)
    g, gl, _ = _clustered(rng, 50, n_cls=5, noise=1.5, centers=centers[:5])
    has = ql < 5
    got = retrieval_metrics(q, ql, g, gl)
    assert got == pytest.approx(retrieval_metrics(q[has], ql[has], g, gl))
    assert got == pytest.approx(_reference_retrieval(q, ql, g, gl))
    assert all(np.isnan(v) for v in retrieval_metrics(q[~has], ql[~has], g, gl).values())


def test_text_to_modality_with_classes_lacking_items():
    # Ten class texts; audio items exist for three classes only, and retrieval is perfect. The
    # seven texts without an audio item must not count as misses (they once gave P@1 = 0.3).
    eye = np.eye(10, dtype=np.float32)
    img_l, aud_l = np.repeat(np.arange(10), 2), np.array([0, 0, 3, 7])
    rep = evaluation_report({"image": eye[img_l], "audio": eye[aud_l]}, {"image": img_l, "audio": aud_l},
                            eye, probes=False)
    for key in ("text_to_audio", "text_to_image", "image_to_audio", "audio_to_image", "audio_to_text"):
        assert rep[f"{key}/P@1"] == 1.0 and rep[f"{key}/R@5"] == 1.0 and rep[f"{key}/mAP"] == 1.0, key


def test_retrieval_rejects_bad_input():
    x = np.ones((3, 2))
    with pytest.raises(ValueError):
        retrieval_metrics(x, [0, 1], x, [0, 1, 2])
    with pytest.raises(ValueError):
        retrieval_metrics(x, [0, 1, 2], x[:2], [0, 1], exclude_self=True)


def test_zero_shot_and_mean_cosine_match_loops():
    rng = np.random.default_rng(4)
    cls = rng.standard_normal((6, 8))
    emb, y, _ = _clustered(rng, 50, n_cls=6, dim=8, noise=1.0, centers=cls)
    ref_acc = np.mean([np.argmax([_unit(e) @ _unit(c) for c in cls]) == t for e, t in zip(emb, y)])
    ref_cos = np.mean([_unit(e) @ _unit(cls[t]) for e, t in zip(emb, y)])
    assert zero_shot_accuracy(emb, y, cls) == pytest.approx(ref_acc)
    assert mean_cosine(emb, cls[y]) == pytest.approx(ref_cos, abs=1e-6)
    assert zero_shot_accuracy(3 * cls, np.arange(6), cls) == 1.0
    assert mean_cosine(5 * cls, cls) == pytest.approx(1.0)


def test_linear_probe_separable_vs_random():
    rng = np.random.default_rng(5)
    emb, y, _ = _clustered(rng, 300, n_cls=5, dim=32, noise=0.2)
    assert linear_probe(emb, y, 0.8) >= 0.95
    assert linear_probe(emb, y, 0.2) >= 0.95
    noise = rng.standard_normal((300, 32))
    assert linear_probe(noise, y, 0.8) < 0.5  # chance is 0.2
    assert np.isnan(linear_probe(emb[:4], [0, 0, 0, 1], 0.25))  # one class to train on


def test_modality_gap_on_constructed_data():
    e = np.eye(3)
    assert modality_gap(np.tile(e[0], (5, 1)), np.tile(5 * e[1], (7, 1))) == pytest.approx(np.sqrt(2))
    assert modality_gap(e, 2 * e) == pytest.approx(0.0, abs=1e-7)
    # Centroids, not pairs: the two sets are opposite on average.
    assert modality_gap(e[:2], -e[:2]) == pytest.approx(np.linalg.norm(e[0] + e[1]))


def test_evaluation_report_keys_and_ranges():
    rng = np.random.default_rng(6)
    cls = rng.standard_normal((4, 16)).astype(np.float32)
    img, yi, _ = _clustered(rng, 80, n_cls=4, noise=0.5, centers=cls)
    aud, ya, _ = _clustered(rng, 60, n_cls=4, noise=0.5, centers=cls)
    report = evaluation_report({"image": img, "audio": aud}, {"image": yi, "audio": ya}, cls)
    per = ["n", "zero_shot_acc", "mean_cosine", "modality_gap", "probe_80_20", "probe_20_80"]
    retr = ["P@1", "R@5", "R@10", "mAP"]
    pairs = ["text_to_image", "image_to_text", "text_to_audio", "audio_to_text",
             "image_to_audio", "audio_to_image"]
    want = {f"{m}/{k}" for m in ("image", "audio") for k in per} | \
        {f"{p}/{k}" for p in pairs for k in retr}
    assert set(report) == want
    assert all(isinstance(v, float) for v in report.values())
    assert report["image/n"] == 80.0 and report["audio/n"] == 60.0
    assert report["image_to_text/R@5"] == 1.0  # only 4 class texts in the gallery
    assert report["image/zero_shot_acc"] > 0.9 and report["audio_to_image/P@1"] > 0.9
    for key in per[1:] + retr:  # every key family is documented
        assert key in METRIC_KEYS_DOC

    named = evaluation_report({"image": img}, {"image": yi}, cls, class_names=list("abcd"),
                              probes=False)
    assert "image/probe_80_20" not in named
    assert {f"image/zero_shot_acc/{c}" for c in "abcd"} <= set(named)
    with pytest.raises(ValueError):
        evaluation_report({"image": img}, {"image": yi + 4}, cls)


# ------------------------------------------------------------ pinned by mutation testing (issue 12)
def test_per_class_zero_shot_accuracy_matches_a_loop():
    rng = np.random.default_rng(7)
    cls = rng.standard_normal((4, 8)).astype(np.float32)
    emb, y, _ = _clustered(rng, 60, n_cls=4, dim=8, noise=1.2, centers=cls)
    y[y == 3] = 2  # class "d" has no items: NaN, not 0
    r = evaluation_report({"image": emb}, {"image": y}, cls, class_names=list("abcd"), probes=False)
    pred = [int(np.argmax([_unit(e) @ _unit(c) for c in cls])) for e in emb]
    for c, name in enumerate("abc"):
        mine = [p == c for p, t in zip(pred, y) if t == c]
        assert r[f"image/zero_shot_acc/{name}"] == pytest.approx(np.mean(mine))
    assert 0 < r["image/zero_shot_acc/a"] < 1  # the data is hard enough for a loop to matter
    assert np.isnan(r["image/zero_shot_acc/d"])


def _probe_reference(emb, y, fraction, seed):
    """The documented protocol, spelled out: stratified seeded split, then standardised
    logistic regression on L2-normalised features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x = _unit(emb.astype(np.float32))
    n = int(round(fraction * len(y)))
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, train_size=n, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(x_tr)
    clf = LogisticRegression(max_iter=2000).fit(scaler.transform(x_tr), y_tr)
    return clf.score(scaler.transform(x_te), y_te)


def test_probes_follow_the_documented_protocol_and_seed():
    rng = np.random.default_rng(8)
    emb, y, _ = _clustered(rng, 120, n_cls=4, dim=12, noise=1.5)
    emb[:, 0] *= 50  # one dominant feature: without standardisation the probe scores differently
    for fraction in (0.8, 0.2):
        for seed in (0, 3):
            assert linear_probe(emb, y, fraction, seed) == pytest.approx(_probe_reference(emb, y, fraction, seed))
    seed = next(s for s in range(1, 20) if _probe_reference(emb, y, 0.8, s) != _probe_reference(emb, y, 0.8, 0))
    r = evaluation_report({"image": emb}, {"image": y}, np.eye(4, 12), seed=seed)
    assert r["image/probe_80_20"] == pytest.approx(_probe_reference(emb, y, 0.8, seed))
    assert r["image/probe_20_80"] == pytest.approx(_probe_reference(emb, y, 0.2, seed))
    assert r["image/probe_80_20"] != r["image/probe_20_80"]
    default = evaluation_report({"image": emb}, {"image": y}, np.eye(4, 12))
    assert default["image/probe_80_20"] == pytest.approx(_probe_reference(emb, y, 0.8, 0))  # seed 0 by default


def test_probe_without_stratification_is_seeded_too():
    """A class too small for both sides: a plain seeded split of the same size."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(9)
    emb, y, _ = _clustered(rng, 60, n_cls=3, dim=6, noise=1.5)
    y[0] = 3  # a class of one item
    x = _unit(emb)
    values = set()
    for seed in (0, 1, 2):
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, train_size=48, random_state=seed)
        sc = StandardScaler().fit(x_tr)
        ref = LogisticRegression(max_iter=2000).fit(sc.transform(x_tr), y_tr).score(sc.transform(x_te), y_te)
        assert linear_probe(emb, y, 0.8, seed) == pytest.approx(ref)
        values.add(round(ref, 6))
    assert len(values) > 1  # the seed matters on this data


def test_probe_boundaries():
    x = np.array([[1, 0], [0, 1], [1, 0.1], [0.1, 1], [1, 0.05]])
    assert linear_probe(x[:4], [0, 1, 0, 1], 0.5) == 1.0  # 2 training items of 2 classes are enough
    assert not np.isnan(linear_probe(x, [0, 1, 0, 1, 0], 0.8))  # 1 test item is enough (unstratified)
    assert np.isnan(linear_probe(x, [0, 0, 0, 0, 0], 0.8))  # one class: nothing to learn
    assert np.isnan(linear_probe(x[:2], [0, 1], 0.5))  # 1 training item
    assert np.isnan(linear_probe(x[:4], [0, 1, 0, 1], 1.0))  # nothing left to test on


def test_queries_without_a_relevant_item_are_left_out_of_map():
    """Queries with no relevant gallery item are left out of P@1, R@k and mAP alike (counting
    them as misses would blame the model for the gallery); with none left, every metric is NaN."""
    q = np.eye(3)
    g = np.eye(3)[[0, 1]]
    r = retrieval_metrics(q, [0, 1, 2], g, [0, 1])  # query 2 has nothing relevant
    assert r["mAP"] == 1.0 and r["P@1"] == 1.0 and r["R@5"] == 1.0  # not 2/3: query 2 is left out
    # One hit (AP 1), one miss ranked second (AP 1/2), one without a relevant item: averaged over
    # two queries, not three (1/3, 2/3, 1/2) and not counting the third as a hit (2/3, 1, 5/6).
    r = retrieval_metrics(q[[0, 0, 2]], [0, 1, 2], g, [0, 1])
    assert r["P@1"] == pytest.approx(1 / 2) and r["R@5"] == 1.0 and r["mAP"] == pytest.approx(3 / 4)
    none = retrieval_metrics(q[:1], [5], g, [0, 1])
    assert set(none) == {"P@1", "R@5", "R@10", "mAP"} and all(np.isnan(v) for v in none.values())


def test_retrieval_input_checks_are_exact():
    x = np.eye(3)
    for ql, gl in (([0, 1], [0, 1, 2]), ([0, 1, 2], [0, 1])):  # either side wrong alone
        with pytest.raises(ValueError, match="^embeddings and labels disagree in length$"):
            retrieval_metrics(x, ql, x, gl)
    with pytest.raises(ValueError, match="exclude_self needs query and gallery to be one set; got 3 vs 2"):
        retrieval_metrics(x, [0, 1, 2], x[:2], [0, 1], exclude_self=True)
    with pytest.raises(ValueError, match="^retrieval needs at least one query and one gallery item$"):
        retrieval_metrics(x[:1], [0], x[:1], [0], exclude_self=True)
    with pytest.raises(ValueError, match="at least one query"):
        retrieval_metrics(x[:0], [], x, [0, 1, 2])
    assert retrieval_metrics(x[:1], [0], x[:1], [0])["P@1"] == 1.0  # a one-item gallery is fine
    assert retrieval_metrics(x[:2], [0, 0], x[:2], [0, 0], exclude_self=True)["P@1"] == 1.0


def test_report_refuses_out_of_range_labels_and_names():
    cls = np.eye(3)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        evaluation_report({"image": cls}, {"image": [0, 1, 3]}, cls, probes=False)
    with pytest.raises(ValueError, match="3 embeddings but 2 labels"):
        evaluation_report({"image": cls}, {"image": [0, 1]}, cls, probes=False)
    with pytest.raises(ValueError, match="2 class names for 3 class embeddings"):
        evaluation_report({"image": cls}, {"image": [0, 1, 2]}, cls, class_names=["a", "b"], probes=False)


def test_l2_normalize_shapes_dtypes_and_tensors():
    import torch

    from textanchor.metrics import l2_normalize

    v = l2_normalize(np.array([3.0, 4.0]))  # one vector (D,)
    assert v.dtype == np.float32 and np.allclose(v, [0.6, 0.8])
    assert l2_normalize(np.zeros((2, 3))).tolist() == [[0.0] * 3] * 2  # zero rows stay zero
    t = torch.tensor([[3.0, 4.0]], requires_grad=True)  # a training tensor: detached, not refused
    assert np.allclose(l2_normalize(t), [[0.6, 0.8]])


def test_l2_normalize_scales_short_and_long_rows_to_one():
    """The eps floor only keeps zero rows at zero: a row of norm 0.5 or 1e-6 still becomes unit."""
    x = np.array([[0.3, 0.4], [3e-7, 4e-7], [30.0, 40.0], [0.0, 0.0]])
    np.testing.assert_allclose(l2_normalize(x), [[0.6, 0.8], [0.6, 0.8], [0.6, 0.8], [0.0, 0.0]], rtol=1e-6)
    assert l2_normalize(x).dtype == np.float32


def test_linear_probe_defaults_are_the_documented_split():
    """80% train / 20% held out with seed 0 by default (the figures in the README use them)."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 30)
    x = rng.normal(size=(120, 8)) + 1.5 * np.eye(8)[y]
    assert linear_probe(x, y) == linear_probe(x, y, train_fraction=0.8, seed=0)
    assert linear_probe(x, y) != linear_probe(x, y, train_fraction=0.5, seed=0) or \
        linear_probe(x, y) != linear_probe(x, y, seed=1)


def test_shared_retrieval_cuts_both_sides_to_the_shared_classes():
    """Sketches of classes 0-4 against sounds of classes 2-6: only 2, 3, 4 count, on both sides,
    and chance is the share of relevant gallery items a random ranking would hit first."""
    rng = np.random.default_rng(3)
    centers = rng.standard_normal((7, 16))
    q, ql = _clustered(rng, 50, n_cls=5, noise=1.2, centers=centers[:5])[:2]
    g, gl = _clustered(rng, 60, n_cls=5, noise=1.2, centers=centers[2:])[:2]
    gl = gl + 2
    got = shared_retrieval(q, ql, g, gl)
    qm, gm = np.isin(ql, [2, 3, 4]), np.isin(gl, [2, 3, 4])
    want = _reference_retrieval(q[qm], ql[qm], g[gm], gl[gm])
    for key in want:
        assert got[key] == pytest.approx(want[key], abs=1e-9), key
    assert got["n_classes"] == 3
    assert got["chance_P@1"] == pytest.approx(np.mean([np.sum(gl[gm] == c) / gm.sum() for c in ql[qm]]))
    none = shared_retrieval(q, ql, g, gl + 10)
    assert none["n_classes"] == 0 and np.isnan(none["P@1"])
    report = evaluation_report({"sketch": q, "sound": g}, {"sketch": ql, "sound": gl}, centers, probes=False)
    assert report["sketch_to_sound/shared/P@1"] == pytest.approx(got["P@1"])
    assert "image_to_audio/shared/P@1" not in evaluation_report(
        {"image": q, "audio": q}, {"image": ql, "audio": ql}, centers, probes=False)  # same classes: no cut
