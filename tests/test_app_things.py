"""The app with its shipped models, as a new visitor gets it (no data folder, offline): the things
model by default, the digits one a click away, each visitor's choice their own, and every input
answered by the chosen model's own branch (through `gradio_client`, two sessions at once)."""
from __future__ import annotations

import json

from pathlib import Path

import pytest

from test_app_e2e import _launch, stop_app
from textanchor.demo.policy import DIGITS_CHECKPOINT, THINGS_CHECKPOINT
from textanchor.demo.service import MAX_K

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "assets" / "things"

pytestmark = pytest.mark.skipif(not (THINGS_CHECKPOINT / "config.json").is_file() or
                                not (DIGITS_CHECKPOINT / "config.json").is_file(),
                                reason="the shipped checkpoints (checkpoints/things, checkpoints/digits) are missing")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    proc, url, seconds = _launch(tmp_path_factory.mktemp("things-app"))  # no --checkpoint: the default
    print(f"app ready in {seconds:.1f} s")
    yield url
    stop_app(proc)


def _client(url):
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False)


def _sketch(path):
    from gradio_client import handle_file

    return {"background": handle_file(str(path)), "layers": [], "composite": handle_file(str(path))}


def test_a_new_visitor_gets_the_things_model(app_url):
    c = _client(app_url)
    banner = c.predict(api_name="/status")
    assert "**things**" in banner and "sketch + photo + sound + speech" in banner, banner
    assert "/" + "work" not in banner and str(ROOT) not in banner  # a model's name, never a server path
    assert "/search_sound" in c.view_api(print_info=False, return_format="dict")["named_endpoints"]


def test_two_visitors_pick_different_models_and_each_keeps_theirs(app_url):
    alice, bob = _client(app_url), _client(app_url)
    msg, banner = alice.predict("digits", api_name="/pick_model")[:2]
    assert msg.startswith("✅") and "**digits**" in banner and "(your choice)" in banner, (msg, banner)
    assert "**things**" in bob.predict(api_name="/status")
    seven = alice.predict("seven", 3, api_name="/search_text")
    assert "reads as **seven**" in seven[0], seven[0]
    assert bob.predict("something that barks", 3, api_name="/search_text")[1]["label"] == "dog"
    barks = bob.predict("a barking dog", 3, api_name="/search_text")
    assert "reads as **dog**" in barks[0], barks[0]
    # Bob's results come from the things gallery: photographed dogs, barks and spoken "dog"s.
    images = [im["caption"] for im in barks[2]]
    clips = [c["label"] for c in barks[4:4 + MAX_K] if c and c.get("visible")]
    assert any(cap.startswith("dog ·") and "photo" in cap for cap in images), images
    assert sum(label.startswith("dog ·") for label in clips) >= 3, clips
    # Alice's digits sketch pad still answers with digits; back to things, she gets things again.
    assert alice.predict("things", api_name="/pick_model")[0].startswith("✅")
    assert alice.predict("a cat", 2, api_name="/search_text")[1]["label"] == "cat"


def test_an_api_client_trains_on_the_picked_models_data(app_url):
    """/pick_model alone brings the model's Train data choices: no /follow_model needed."""
    c = _client(app_url)
    digits = "Handwritten digits (scikit-learn 8x8, offline)"
    args = ([digits], None, "image_cnn", "audio_cnn", "mlp", "mse_infonce", 1, 64, 3e-3, "all-MiniLM-L6-v2", "{}", "", False)
    assert c.predict("digits", api_name="/pick_model")[0].startswith("✅")
    progress = c.submit(*args, api_name="/train").result(timeout=300)[0]
    assert "finished" in progress, progress
    c.predict(api_name="/follow_model")  # the page's own follow-up still works for API clients


def test_an_api_client_may_train_on_any_data_the_server_offers(app_url):
    """A new model may be trained on any offered data, whichever model the session shows: a things
    session's /train with the digits data trains (Gradio used to answer "not in the list of
    choices"), the API schema lists every choice, and an unknown one is refused in words."""
    c = _client(app_url)
    digits = "Handwritten digits (scikit-learn 8x8, offline)"
    args = (None, "image_cnn", "audio_cnn", "mlp", "mse_infonce", 1, 64, 3e-3, "all-MiniLM-L6-v2", "{}", "", False)
    enum = c.view_api(return_format="dict", print_info=False)["named_endpoints"]["/train"]["parameters"][0]
    assert digits in json.dumps(enum), enum
    progress = c.predict(["nope"], *args, api_name="/train")[0]
    assert "Unknown data choice 'nope'; this server offers:" in progress and digits in progress, progress
    progress = c.submit([digits], *args, api_name="/train").result(timeout=300)[0]
    assert "finished" in progress, progress


def test_each_input_goes_to_the_things_branch_for_it(app_url):
    from gradio_client import handle_file

    c = _client(app_url)
    cases = [("/search_sketch", _sketch(EXAMPLES / "sketch_house.png"), "house", "sketch"),
             ("/search_image", handle_file(str(EXAMPLES / "photo_airplane.jpg")), "airplane", "photo"),
             ("/search_sound", handle_file(str(EXAMPLES / "sound_dog.ogg")), "dog", "sound"),
             ("/search_audio", handle_file(str(EXAMPLES / "speech_dog.wav")), "dog", "speech")]
    for api, value, want, modality in cases:
        out = c.predict(value, 3, api_name=api)
        assert out[-1]["query"]["modality"] == modality, (api, out[0])
        assert out[1]["label"] == want, (api, out[0])


def test_a_word_the_model_never_trained_on_is_flagged_not_sure(app_url):
    """A text naming nothing the model knows keeps the "not sure" rule of the digits page."""
    c = _client(app_url)
    status = c.predict("quantum chromodynamics", 3, api_name="/search_text")[0]
    assert "Not sure" in status, status
