"""Losses pinned by behaviour: the value on a case worked out by hand, and the direction of the
gradient (a step down the loss pulls an item towards its own text; a contrastive loss also
pushes it away from the other texts). Every registered loss must appear in the tables below,
so a new loss is pinned the moment it is registered."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from textanchor.losses import LOSSES, create_loss

# The hand case: two classes in 2-D, prototypes e0 and e1, labels [0, 1],
#   item 0 at (1, 1): squared error 0 + 1, cosine to e0 = 1/sqrt(2), equal logits for both texts;
#   item 1 at (0, 2): squared error 0 + 1, cosine to e1 = 1, logits (0, 1/tau).
PROTOS = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
LABELS = torch.tensor([0, 1])
PRED = torch.tensor([[1.0, 1.0], [0.0, 2.0]])


def _infonce(tau: float) -> float:
    # item 0: -log(1/2); item 1: -log(e^(1/tau) / (1 + e^(1/tau))) = log(1 + e^(-1/tau))
    return (math.log(2) + math.log1p(math.exp(-1 / tau))) / 2


COSINE = (1 - 1 / math.sqrt(2) + 0) / 2
SQUARED_DISTANCE = (1 + 1) / 2  # summed over dimensions, averaged over items
HAND = {  # name -> [(options, expected value)]
    "mse": [({}, 2 / 4)],  # mean over the 4 entries
    "cosine": [({}, COSINE)],
    "infonce": [({}, _infonce(0.05)), ({"temperature": 0.5}, _infonce(0.5))],
    "mse_infonce": [({}, SQUARED_DISTANCE + _infonce(0.05)),
                    ({"temperature": 0.5, "weight": 2.0}, SQUARED_DISTANCE + 2 * _infonce(0.5))],
    "cosine_infonce": [({}, COSINE + _infonce(0.05)),
                       ({"temperature": 0.5, "weight": 2.0}, COSINE + 2 * _infonce(0.5))],
}
PUSHES = {"infonce", "mse_infonce", "cosine_infonce"}  # contrastive: separate the classes
PULL_ONLY = {"mse", "cosine"}  # only pull each item onto its own text


def test_every_loss_is_pinned():
    names = set(LOSSES.names())
    assert names == set(HAND), f"add a hand-computed case to HAND for {sorted(names ^ set(HAND))}"
    assert names == PUSHES | PULL_ONLY, f"say whether {sorted(names - PUSHES - PULL_ONLY)} pushes other classes"


@pytest.mark.parametrize("name", sorted(HAND))
def test_value_on_the_hand_case(name):
    for options, expected in HAND[name]:
        got = float(create_loss(name, **options)(PRED, PROTOS[LABELS], LABELS, PROTOS))
        assert got == pytest.approx(expected, rel=1e-5, abs=1e-7), (name, options)


@pytest.mark.parametrize("name", sorted(HAND))
def test_free_text_targets_give_the_same_value(name):
    """Without prototypes the distinct targets of the batch play their part."""
    options, expected = HAND[name][0]
    assert float(create_loss(name, **options)(PRED, PROTOS[LABELS])) == pytest.approx(expected, rel=1e-5)


def _setup(seed: int, n: int = 12, classes: int = 4, dim: int = 16):
    """Orthonormal class texts (a text model's digit words are nearly so), float64 so that the
    tiny gradients of well-classified items at temperature 0.05 still resolve."""
    g = torch.Generator().manual_seed(seed)
    protos = torch.eye(classes, dim, dtype=torch.float64)
    labels = torch.arange(n) % classes
    return protos, labels, g


def _step(name: str, pred: torch.Tensor, protos, labels, lr: float = 1e-4) -> torch.Tensor:
    """One small step of every item down its own gradient (row-normalised: each item's
    direction is what is tested, however small its gradient)."""
    pred = pred.clone().requires_grad_(True)
    create_loss(name)(pred, protos[labels], labels, protos).backward()
    assert torch.isfinite(pred.grad).all()
    return (pred - lr * pred.grad / pred.grad.norm(dim=1, keepdim=True)).detach()


@pytest.mark.parametrize("name", sorted(HAND))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_step_down_the_loss_pulls_every_item_towards_its_own_text(name, seed):
    protos, labels, g = _setup(seed)
    pred = 0.5 * protos[labels] + 0.5 * torch.randn(len(labels), protos.shape[1], generator=g, dtype=torch.float64)
    after = _step(name, pred, protos, labels)
    own_before = F.cosine_similarity(pred, protos[labels], dim=-1)
    own_after = F.cosine_similarity(after, protos[labels], dim=-1)
    assert (own_after > own_before).all(), (own_before, own_after)


@pytest.mark.parametrize("name", sorted(PUSHES))
def test_contrastive_losses_push_away_from_the_other_texts(name):
    """Items sitting on their own text: nothing left to pull, so the whole step is the push,
    and the cosine to every other class text must fall."""
    protos, labels, _ = _setup(0)
    pred = protos[labels]
    after = _step(name, pred, protos, labels)
    others = ~F.one_hot(labels, len(protos)).bool()  # (N, C)
    before_sim = F.normalize(pred, dim=-1) @ protos.T
    after_sim = F.normalize(after, dim=-1) @ protos.T
    assert (after_sim[others] < before_sim[others]).all()


@pytest.mark.parametrize("name", sorted(PULL_ONLY))
def test_pull_only_losses_ignore_the_other_texts(name):
    """The original MSE (and the cosine) never push: an item on its text has no gradient, and
    moving the other classes' texts does not change any item's gradient."""
    protos, labels, g = _setup(0)
    pred = protos[labels].clone().requires_grad_(True)
    create_loss(name)(pred, protos[labels], labels, protos).backward()
    assert pred.grad.abs().max() < 1e-6
    pred = torch.randn(len(labels), protos.shape[1], generator=g, dtype=torch.float64)
    grads = []
    for p in (protos, torch.cat([protos[:1], -protos[1:]])):  # the other classes move
        x = pred.clone().requires_grad_(True)
        create_loss(name)(x, protos[labels], labels, p).backward()
        grads.append(x.grad)
    torch.testing.assert_close(grads[0], grads[1])


@pytest.mark.parametrize("name", sorted(PUSHES))
def test_contrastive_weight_and_temperature_are_used(name):
    """The InfoNCE term grows with its weight and falls as the temperature sharpens on a case
    the items already classify right (a dropped option would leave the value unchanged)."""
    if name == "infonce":
        values = [float(create_loss(name, temperature=t)(PRED, PROTOS[LABELS], LABELS, PROTOS)) for t in (1.0, 0.1)]
        assert values[0] > values[1]
        return
    w1, w2 = (float(create_loss(name, weight=w)(PRED, PROTOS[LABELS], LABELS, PROTOS)) for w in (1.0, 2.0))
    assert w2 - w1 == pytest.approx(_infonce(0.05), rel=1e-5)


# Three texts, the third (-e0) absent from the batch: it must still count as a negative.
PROTOS3 = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])


def _infonce3(tau: float) -> float:
    # item 0, cosines (1/sqrt2, 1/sqrt2, -1/sqrt2): log(2 + e^(-2a)) with a = 1/(sqrt2 tau);
    # item 1, cosines (0, 1, 0): log(1 + 2 e^(-1/tau))
    a = 1 / (math.sqrt(2) * tau)
    return (math.log(2 + math.exp(-2 * a)) + math.log1p(2 * math.exp(-1 / tau))) / 2


@pytest.mark.parametrize("name", sorted(PUSHES))
def test_texts_absent_from_the_batch_are_negatives(name):
    loss = create_loss(name, temperature=0.5)
    own = {"infonce": 0.0, "mse_infonce": SQUARED_DISTANCE, "cosine_infonce": COSINE}[name]
    with_all = float(loss(PRED, PROTOS3[LABELS], LABELS, PROTOS3))
    assert with_all == pytest.approx(own + _infonce3(0.5), rel=1e-5)
    # Only the batch's own targets (free text): two texts, as in the first hand case.
    assert float(loss(PRED, PROTOS3[LABELS])) == pytest.approx(own + _infonce(0.5), rel=1e-5)
    # Labels without prototypes cannot index anything: the batch's targets are used.
    assert float(loss(PRED, PROTOS3[LABELS], LABELS, None)) == pytest.approx(own + _infonce(0.5), rel=1e-5)


@pytest.mark.parametrize("name", sorted(PUSHES))
def test_prototype_lengths_do_not_matter(name):
    """Only directions count in the contrastive term: rescaling each class text (one row each)
    leaves it unchanged, with more dimensions than classes."""
    g = torch.Generator().manual_seed(0)
    protos = F.normalize(torch.randn(3, 5, generator=g, dtype=torch.float64), dim=-1)
    labels = torch.tensor([0, 1, 2, 1, 0, 2, 2])
    pred = torch.randn(7, 5, generator=g, dtype=torch.float64)
    scaled = protos * torch.tensor([[0.3], [2.0], [5.0]], dtype=torch.float64)
    loss = create_loss(name)
    torch.testing.assert_close(loss(pred, protos[labels], labels, scaled), loss(pred, protos[labels], labels, protos))


@pytest.mark.parametrize("name", sorted(HAND))
def test_value_against_a_loop_on_random_data(name):
    """More items than dimensions than classes, so no axis can stand in for another."""
    g = torch.Generator().manual_seed(1)
    protos = F.normalize(torch.randn(3, 5, generator=g, dtype=torch.float64), dim=-1)
    labels = torch.tensor([0, 1, 2, 1, 0, 2, 2])
    pred = torch.randn(7, 5, generator=g, dtype=torch.float64)
    tau = 0.05
    p, t, c = pred.tolist(), protos[labels].tolist(), protos.tolist()
    norm = lambda v: [x / math.sqrt(sum(y * y for y in v)) for x in v]  # noqa: E731
    dot = lambda u, v: sum(a * b for a, b in zip(u, v))  # noqa: E731
    sq = [sum((a - b) ** 2 for a, b in zip(p[i], t[i])) for i in range(7)]
    cos = [dot(norm(p[i]), norm(t[i])) for i in range(7)]
    nce = [math.log(sum(math.exp(dot(norm(p[i]), norm(k)) / tau) for k in c)) - dot(norm(p[i]), norm(c[labels[i]])) / tau
           for i in range(7)]
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    expected = {"mse": mean(sq) / 5, "cosine": mean([1 - x for x in cos]), "infonce": mean(nce),
                "mse_infonce": mean(sq) + mean(nce), "cosine_infonce": mean([1 - x for x in cos]) + mean(nce)}[name]
    assert float(create_loss(name)(pred, protos[labels], labels, protos)) == pytest.approx(expected, rel=1e-9)
