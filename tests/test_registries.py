"""Every registered encoder, projector, loss and modality: shapes, gradients, no NaNs
(timm's test_models idea: a new entry is tested the moment it is registered)."""
import numpy as np
import pytest
import torch

from textanchor.encoders import ENCODER_MODALITIES, ENCODERS, create_encoder
from textanchor.losses import LOSSES, create_loss
from textanchor.modalities import MODALITIES, create_modality
from textanchor.modalities.base import QUERY_COMPONENTS, RESULT_KINDS
from textanchor.projectors import PROJECTORS, create_projector
from textanchor.registry import Registry

# Every (encoder, modality) pair whose modality is registered: a new modality or encoder is
# tested here from its own `example_items`, with no edit to this file.
PAIRS = [(e, m) for e in ENCODERS.names() for m in ENCODER_MODALITIES[e] if m in MODALITIES]


def test_unknown_names_list_known_ones_and_how_to_register():
    with pytest.raises(KeyError, match="known: .*mse.*entry point in the group 'textanchor.losses'"):
        LOSSES.get("nope")
    with pytest.raises(KeyError, match="known: .*audio.*image.*textanchor/modalities/.*'textanchor.modalities'"):
        MODALITIES.get("no-such-modality")
    r = Registry("thing")
    r.register("a")(1)
    with pytest.raises(ValueError, match="already registered"):
        r.register("a")(2)


def _modality_for(name, modality):
    """The modality with its defaults, but at the rate an encoder that reads the wave needs (the
    audio modality refuses the speech embedding at its own 8 kHz, naming this setting)."""
    from textanchor.modalities.audio import AudioModality

    rate = AudioModality.WAVE_ENCODERS.get(name)
    return create_modality(modality, **({"sample_rate": rate} if rate and modality == "audio" else {}))


@pytest.mark.parametrize("name,modality", PAIRS)
def test_encoder_forward_backward(name, modality):
    torch.manual_seed(0)
    mod = _modality_for(name, modality)
    mod.use_encoder(name)  # as model.Branch does: the front end may follow the encoder
    shape = mod.encoder_input_shape()
    opts = {"pretrained": False} if name == "resnet18" else {}
    enc = create_encoder(name, shape, modality, **opts)
    x = torch.randn(3, *shape, requires_grad=True)
    y = enc(x)
    assert y.shape == (3, enc.output_dim)
    assert torch.isfinite(y).all()
    if getattr(enc, "frozen", False):
        # A frozen pretrained encoder: nothing to train, nothing in a checkpoint, the same
        # features in training mode as in eval mode (so training may compute them once).
        assert not any(p.requires_grad for p in enc.parameters())
        assert enc.state_dict() == {} or not any(".backbone." in f".{k}" for k in enc.state_dict())
        enc.train()
        assert torch.equal(enc(x.detach()), y.detach())
        return
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in enc.parameters())


@pytest.mark.parametrize("name,modality", PAIRS)
def test_encoder_on_prepared_examples(name, modality):
    """Decoded example items -> prepare -> front end -> encoder, as training runs it."""
    mod = _modality_for(name, modality)
    mod.use_encoder(name)
    opts = {"pretrained": False} if name == "resnet18" else {}
    enc = create_encoder(name, mod.encoder_input_shape(), modality, **opts).eval()
    items, rate = mod.example_items(4, seed=1)
    with torch.no_grad():
        y = enc(mod.frontend().eval()(mod.prepare(items, rate)))
    assert y.shape == (4, enc.output_dim) and torch.isfinite(y).all()


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
    mod = create_modality(name)
    items, rate = mod.example_items(3, seed=0)
    assert len(items) == 3
    x = mod.prepare(items, rate)
    assert x.shape == (3, *mod.input_shape()) and torch.isfinite(x).all()
    assert mod.prepare([], rate).shape == (0, *mod.input_shape())
    a = mod.augment(x, generator=torch.Generator().manual_seed(0))
    assert a.shape == x.shape and torch.isfinite(a).all()
    fe = mod.frontend().eval()
    assert fe(x).shape[1:] == mod.encoder_input_shape()
    again, _ = mod.example_items(3, seed=0)
    assert all(np.array_equal(np.asarray(i), np.asarray(j)) for i, j in zip(items, again))  # seeded


@pytest.mark.parametrize("name", MODALITIES.names())
def test_modality_contract_for_apps(name):
    """What an app needs from a modality: a query component it knows and a result view."""
    cls = MODALITIES.get(name)
    mod = create_modality(name)
    assert mod.name == name and mod.file_extensions and all(e.startswith(".") for e in mod.file_extensions)
    assert mod.default_encoder in ENCODERS and name in ENCODER_MODALITIES[mod.default_encoder]
    component, kwargs = mod.query_component()
    assert component in QUERY_COMPONENTS and isinstance(kwargs, dict)
    assert cls.result_kind in RESULT_KINDS
    items, rate = mod.example_items(2, seed=0)
    kind, value = mod.render(items[1], rate)
    assert kind == cls.result_kind and value is not None
