"""A zero-shot answer under `UNSURE_BELOW` says the model is unsure and names what it knows;
an image query is a "picture" unless it was drawn."""
from __future__ import annotations

import numpy as np
import pytest

from textanchor.demo.policy import DIGITS_CHECKPOINT
from textanchor.demo.search import UNSURE_BELOW, QueryResult, known_classes, query_noun

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _result(modality: str, confidence: float, noun: str = "") -> QueryResult:
    return QueryResult(modality, np.zeros(4, np.float32), "three", confidence, {"three": confidence},
                       {"image": []}, 0.01, "", noun, DIGITS)


def test_low_confidence_says_unsure_and_lists_the_classes():
    s = _result("image", 0.38).summary()
    assert s.startswith("Not sure: the picture reads as **three** (38% zero-shot confidence, under 60%)"), s
    # A low score says the query may be none of the classes; it must not read as if the label were unknown.
    assert "it may be none of the 10 classes this model knows (zero, one, two, three, four, five, six, seven, eight, nine)" in s
    assert "sketch" not in s and "Found 0 images" in s  # results are still shown
    assert _result("image", 0.38).rows()["query"]["unsure"] is True


def test_an_unsure_confidence_never_shows_as_the_line_itself():
    # 0.597 rounded to nearest read "60% zero-shot confidence, under 60%" (a real phone photo did)
    assert "(59% zero-shot confidence, under 60%)" in _result("image", 0.597).summary()
    from textanchor.demo.search import shown_under
    assert shown_under(0.597, percent=False) == "0.59" and shown_under(0.385) == "38%" and shown_under(0.228, False) == "0.23"


def test_confident_answer_has_no_caveat():
    s = _result("text", 0.95).summary()
    assert s.startswith("The text reads as **three** (95% zero-shot confidence). ") and "sure" not in s
    assert _result("text", UNSURE_BELOW).unsure is False


def test_drawn_queries_are_sketches_other_pictures_are_pictures():
    assert query_noun("image", {"layers": [], "background": None, "composite": None}) == "sketch"
    assert query_noun("image", "/tmp/photo.jpg") == "" and query_noun("audio", {"layers": []}) == ""
    assert "The sketch reads as" in _result("image", 0.9, noun="sketch").summary()
    assert "The picture reads as" in _result("image", 0.9).summary()


def test_known_classes_is_brief_for_many_classes():
    assert known_classes([f"c{i}" for i in range(25)], show=3) == "c0, c1, c2 and 22 more"


@pytest.mark.skipif(not (DIGITS_CHECKPOINT / "model.safetensors").is_file(), reason=f"no shipped checkpoint at {DIGITS_CHECKPOINT}")
def test_shipped_model_is_unsure_of_non_digit_text_and_sure_of_digits():
    """The texts the newcomer trial found answered confidently (measured 16-40%) fall under
    the threshold; digit words (measured 85-100%) stay above it."""
    from textanchor.pipeline import Embedder

    emb = Embedder.from_checkpoint(DIGITS_CHECKPOINT)
    _, p = emb.classify(emb.embed("text", ["sept", "a cat", "\U0001F600", "banana", "seven", "the number three"]))
    conf = p.max(1)
    assert (conf[:4] < UNSURE_BELOW).all() and (conf[4:] >= UNSURE_BELOW).all(), conf


def test_the_count_of_results_agrees_in_number():
    hits = {"image": [object()], "audio": [object(), object()], "ecg": [object()]}
    r = QueryResult("text", np.zeros(4, np.float32), "three", 0.9, {"three": 0.9}, hits, 0.01, "", "", DIGITS)
    assert "Found 2 clips, 1 image, 1 ecg item in" in r.summary()


def test_a_class_a_branch_never_trained_on_is_named_as_such():
    """Open vocabulary on the page: the status says which branches never saw the class, and a hit
    of such a class is captioned "never trained" (it was found through the class's text alone)."""
    from textanchor.index import Hit

    hits = {"sound": [Hit("sound:1", 0.61, "sound", "rooster", "", {}), Hit("sound:2", 0.55, "sound", "hen", "", {})],
            "sketch": [Hit("sketch:1", 0.7, "sketch", "rooster", "", {})]}
    r = QueryResult("text", np.zeros(4, np.float32), "rooster", 0.9, {"rooster": 0.9}, hits, 0.01, "", "",
                    ("rooster", "hen"), {}, {"sound": frozenset({"rooster"})})
    assert "The sound branch never trained on a rooster: its results come through the text alone." in r.summary()
    assert [r.caption(h) for h in hits["sound"]] == ["rooster · 0.61 · never trained", "hen · 0.55"]
    assert r.caption(hits["sketch"][0]) == "rooster · 0.70"  # the sketch branch did train on it
    two = QueryResult("text", np.zeros(4, np.float32), "rooster", 0.9, {}, hits, 0.01, "", "", (), {},
                      {"sound": frozenset({"rooster"}), "sketch": frozenset({"rooster"})})
    assert "The sketch and sound branches never trained on a rooster: those results" in two.summary()
    assert "never" not in _result("text", 0.95).summary()
