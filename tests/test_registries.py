"""Every registered encoder, projector, loss and modality: shapes, gradients, no NaNs
(timm's test_models idea: a new entry is tested the moment it is registered)."""
import pytest
import torch

from textanchor.encoders import ENCODER_MODALITIES, ENCODERS, create_encoder
from textanchor.losses import LOSSES, create_loss
from textanchor.modalities import MODALITIES, create_modality
from textanchor.projectors import PROJECTORS, create_projector
from textanchor.registry import Registry


def test_unknown_names_list_known_ones():
    with pytest.raises(KeyError, match="known: .*mse"):
        LOSSES.get("nope")
    r = Registry("thing")
    r.register("a")(1)
    with pytest.raises(ValueError, match="already registered"):
        r.register("a")(2)


@pytest.mark.parametrize("name", ENCODERS.names())
def test_encoder_forward_backward(name):
    torch.manual_seed(0)
    for modality in ENCODER_MODALITIES[name]:
        mod = create_modality(modality)
        shape = mod.encoder_input_shape()
        opts = {"pretrained": False} if name == "resnet18" else {}
        enc = create_encoder(name, shape, modality, **opts)
        x = torch.randn(3, *shape, requires_grad=True)
        y = enc(x)
        assert y.shape == (3, enc.output_dim)
        assert torch.isfinite(y).all()
        y.sum().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in enc.parameters())


def test_encoder_refuses_wrong_modality():
    with pytest.raises(ValueError, match="does not take audio"):
        create_encoder("image_cnn", (1, 28, 28), "audio")


def test_resnet18_without_cached_weights_says_so(monkeypatch):
    from textanchor.encoders import resnet

    monkeypatch.setattr(resnet, "cached_imagenet_weights", lambda: None)
    with pytest.warns(UserWarning, match="from scratch"):
        enc = create_encoder("resnet18", (1, 28, 28), "image", pretrained=True)
    assert not enc.pretrained
    with pytest.raises(ValueError, match="allow_random_frozen"), pytest.warns(UserWarning):
        create_encoder("resnet18", (1, 28, 28), "image", pretrained=True, freeze=True)


@pytest.mark.parametrize("name", PROJECTORS.names())
def test_projector_shapes(name):
    torch.manual_seed(0)
    p = create_projector(name, 64, 384)
    x = torch.randn(5, 64, requires_grad=True)
    y = p(x)
    assert y.shape == (5, 384) and torch.isfinite(y).all()
    y.sum().backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("name", LOSSES.names())
def test_loss_finite_and_decreases_toward_target(name):
    torch.manual_seed(0)
    protos = torch.nn.functional.normalize(torch.randn(4, 16), dim=-1)
    labels = torch.tensor([0, 1, 2, 3, 0, 1])  # duplicate targets in one batch
    target = protos[labels]
    pred = torch.randn(6, 16, requires_grad=True)
    loss_fn = create_loss(name)
    loss = loss_fn(pred, target, labels, protos)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(pred.grad).all()
    # Predicting exactly the targets must score better than random predictions.
    assert loss_fn(target * 1.0, target, labels, protos) < loss
    # Without prototypes (free-text targets) duplicates are merged, not treated as negatives.
    assert torch.isfinite(loss_fn(pred, target, None, None))


def test_infonce_duplicates_are_not_negatives():
    torch.manual_seed(0)
    protos = torch.nn.functional.normalize(torch.randn(3, 8), dim=-1)
    labels = torch.tensor([0, 0, 1])
    loss_fn = create_loss("infonce", temperature=0.05)
    perfect = loss_fn(protos[labels] * 1.0, protos[labels], None, None)
    assert perfect < 0.1  # two identical targets did not count against each other


@pytest.mark.parametrize("name", MODALITIES.names())
def test_modality_prepare_and_augment(name):
    import numpy as np

    mod = create_modality(name)
    rng = np.random.default_rng(0)
    if name == "image":
        items = [np.zeros((8, 8), np.uint8), (rng.random((50, 40, 3)) * 255).astype(np.uint8),
                 np.full((28, 28, 4), 200, np.uint8)]
    else:
        items = [rng.standard_normal(4000).astype(np.float32) * 0.1,
                 rng.standard_normal((20000, 2)).astype(np.float32) * 0.1,
                 np.zeros(10, np.float32)]
    x = mod.prepare(items, 16000 if name == "audio" else None)
    assert x.shape == (3, *mod.input_shape()) and torch.isfinite(x).all()
    a = mod.augment(x, generator=torch.Generator().manual_seed(0))
    assert a.shape == x.shape and torch.isfinite(a).all()
    fe = mod.frontend().eval()
    assert fe(x).shape[1:] == mod.encoder_input_shape()
