"""End to end: `python app.py` in a subprocess, driven through `gradio_client` like any API user.

Offline: the toy checkpoint and the embedded gallery (assets/gallery: real MNIST + FSDD samples).
"""
from __future__ import annotations

import shutil
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from textanchor.demo.launcher import launch_app as _launch
from textanchor.demo.launcher import stop_app  # noqa: F401 - shared with test_browser, test_app_accel
from textanchor.demo.service import MAX_K

ROOT = Path(__file__).resolve().parents[1]


def launch_app(checkpoint, cache: Path, timeout: float = 600, env: dict | None = None):
    """app.py on the given checkpoint (see `textanchor.demo.launcher.launch_app`)."""
    return _launch(cache, checkpoint=checkpoint, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def app_cache(trained, tmp_path_factory):
    """The app's cache, holding a second checkpoint (a copy of the toy one) a visitor may load."""
    cache = tmp_path_factory.mktemp("app-cache")
    shutil.copytree(trained.checkpoint, cache / "models" / "other")  # an operator's model: shared
    return cache


@pytest.fixture(scope="module")
def app_url(trained, app_cache):
    proc, url, seconds = launch_app(trained.checkpoint, app_cache)
    print(f"app ready in {seconds:.1f} s")
    yield url
    stop_app(proc)


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def _sketch_file(tmp_path) -> str:
    """A drawn vertical bar (dark ink on white), as an API client would send a picture."""
    from PIL import Image

    img = np.full((280, 280), 255, np.uint8)
    img[40:240, 130:150] = 0
    path = tmp_path / "sketch.png"
    Image.fromarray(img).save(path)
    return str(path)


def _sketch(path):
    from gradio_client import handle_file

    return {"background": handle_file(path), "layers": [], "composite": handle_file(path)}


def test_every_event_has_a_named_endpoint(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/search_sketch", "/search_image", "/search_audio", "/search_text", "/search_video", "/clear", "/map", "/pick", "/train",
            "/stop_training", "/activate", "/download", "/load_checkpoint", "/status"} <= names


def test_search_with_a_sketch(client, tmp_path):
    out = client.predict(_sketch(_sketch_file(tmp_path)), 4, api_name="/search_sketch")
    status, label, images, videos, clips, rows = out[0], out[1], out[2], out[3], out[4:4 + MAX_K], out[-1]
    assert "sketch reads as" in status
    assert label["label"] in ("zero", "one", "two")
    assert len(images) == 4 and all(" · " in im["caption"] for im in images)
    assert sum(1 for c in clips if c and c.get("visible")) == 4  # the other slots stay hidden: None
    assert len(videos) == 4 and all(".mp4" in str(v["video"]) for v in videos)
    assert len(rows["results"]) == 12 and rows["query"]["modality"] == "image"


def _photo_file(tmp_path) -> str:
    """A phone-like photo of a pen stroke: grey paper, a lighting gradient, JPEG."""
    from PIL import Image

    yy, xx = np.mgrid[:300, :300] / 300
    img = 190 * (1.1 - 0.35 * xx) * (1 - 0.3 * yy)
    img[50:250, 145:151] = 60
    path = tmp_path / "photo.jpg"
    Image.fromarray(img.clip(0, 255).astype(np.uint8)).convert("RGB").save(path, quality=70)
    return str(path)


def test_search_with_a_photo_file(client, tmp_path):
    from gradio_client import handle_file

    for api in ("/search_image", "/search_sketch"):  # a bare image to /search_sketch is the drawing too
        out = client.predict(handle_file(_photo_file(tmp_path)), 3, api_name=api)
        assert "reads as" in out[0], (api, out[0])
        assert out[1]["label"] in ("zero", "one", "two") and out[-1]["query"]["modality"] == "image"
    blank = tmp_path / "blank.jpg"
    from PIL import Image

    Image.fromarray(np.full((200, 200), 200, np.uint8)).save(blank)
    assert "blank" in client.predict(handle_file(str(blank)), 3, api_name="/search_image")[0]


def test_photo_uploads_keep_transparency_and_refuse_non_images(client, tmp_path):
    """A drawing exported with its ink only in the alpha channel (RGB all black) is read, not
    called blank; a file that is not an image gets the page's message, not a traceback."""
    from gradio_client import handle_file
    from PIL import Image

    rgba = np.zeros((200, 200, 4), np.uint8)
    rgba[40:160, 95:105, 3] = 255  # a vertical bar, drawn in alpha only
    clear = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(clear)
    out = client.predict(handle_file(str(clear)), 3, api_name="/search_image")
    assert "reads as" in out[0], out[0]
    junk = tmp_path / "notimage.png"
    junk.write_text("this is not a picture\n" * 50)
    for api in ("/search_image", "/search_sketch"):
        with pytest.raises(Exception) as err:
            client.predict(handle_file(str(junk)), 3, api_name=api)
        assert "not a picture" in str(err.value) and "Traceback" not in str(err.value), (api, str(err.value)[:500])


def test_photo_exif_orientation_on_both_picture_endpoints(client, tmp_path):
    """A phone stores a portrait photo sideways with an EXIF Orientation tag: a bar stored
    horizontally ("zero" for the toy model) but shown upright as a vertical bar ("one")."""
    from gradio_client import handle_file
    from PIL import Image

    img = np.full((200, 300), 230, np.uint8)
    img[95:105, 60:240] = 30  # stored: a horizontal bar
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise: a vertical bar
    path = tmp_path / "portrait.jpg"
    Image.fromarray(img).save(path, exif=exif.tobytes(), quality=90)
    for api in ("/search_image", "/search_sketch"):
        out = client.predict(handle_file(str(path)), 3, api_name=api)
        assert out[1]["label"] == "one", (api, out[0])


def test_search_with_an_audio_file(client, tmp_path):
    import soundfile as sf
    from gradio_client import handle_file

    from conftest import spoken_word

    path = tmp_path / "word.wav"
    sf.write(path, np.stack([spoken_word("three", 44100)] * 2, 1), 44100)  # a spoken word, stereo, 44.1 kHz
    out = client.predict(handle_file(str(path)), 3, api_name="/search_audio")
    assert "recording reads as" in out[0] and len(out[-1]["results"]) == 9


def test_search_with_a_video(client, tmp_path):
    pytest.importorskip("av")
    from gradio_client import handle_file

    from textanchor.data.video import write_video

    frame = np.zeros((32, 32), np.uint8)
    frame[6:26, 14:18] = 255
    path = write_video(tmp_path / "one.mp4", [frame] * 8, 0.3 * np.sin(np.arange(8000) / 3), 8000, fps=8)
    out = client.predict(handle_file(str(path)), 3, api_name="/search_video")
    assert "video reads as" in out[0] and out[-1]["query"]["modality"] == "video"


def test_bad_inputs_get_messages(client, tmp_path):
    from gradio_client import handle_file

    not_audio = tmp_path / "notes.txt"
    not_audio.write_text("hello")
    assert "⚠️" in client.predict(handle_file(str(not_audio)), 3, api_name="/search_audio")[0]
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.fromarray(np.full((100, 100), 255, np.uint8)).save(blank)
    assert "empty" in client.predict(_sketch(str(blank)), 3, api_name="/search_sketch")[0]
    assert "⚠️" in client.predict("   ", 3, api_name="/search_text")[0]
    assert "⚠️" in client.predict(str(tmp_path / "nope"), api_name="/load_checkpoint")[0]
    assert "text reads as" in client.predict("one", 3, api_name="/search_text")[0]  # still serving


def test_train_while_searching_then_activate(client, app_url, app_cache, tmp_path):
    job = client.submit(["Handwritten digits (scikit-learn 8x8, offline)"], None, "image_cnn", "audio_cnn", "mlp",
                        "mse_infonce", 2, 128, 3e-3, "all-MiniLM-L6-v2", "{}", api_name="/train")
    sketch = _sketch(_sketch_file(tmp_path))
    t0 = time.time()
    while not job.done() and time.time() - t0 < 20:  # searches keep working during training
        assert "reads as" in client.predict(sketch, 2, api_name="/search_sketch")[0]
        time.sleep(0.5)
    progress, _, epochs, final, checkpoint = job.result(timeout=300)
    assert "finished" in progress, progress
    # The run is named, not shown by its server path (issue 19); it lives in the app's cache.
    assert checkpoint and "/" not in checkpoint and (app_cache / "runs" / checkpoint / "config.json").is_file()
    assert len(epochs["data"]) == 2 and "image/zero_shot_acc" in final
    msg, banner, choices = client.predict(checkpoint, api_name="/activate")
    assert msg.startswith("✅") and checkpoint in banner
    # the session's Train data choices follow the model it activated (an update, as gradio_client returns it)
    assert "Handwritten digits (scikit-learn 8x8, offline)" in choices["value"], choices
    out = client.predict(sketch, 3, api_name="/search_sketch")
    assert "reads as" in out[0] and out[1]["label"] in ("zero", "one", "two", "three", "four", "five", "six",
                                                         "seven", "eight", "nine")
    assert client.predict(checkpoint, api_name="/download").endswith(".zip")
    from gradio_client import Client

    stranger = Client(app_url, verbose=False)  # another visitor cannot take this session's run
    assert "not yours" in stranger.predict(checkpoint, api_name="/activate")[0]
    assert "not yours" in stranger.predict(checkpoint, api_name="/load_checkpoint")[0]
    with pytest.raises(Exception, match="not yours"):
        stranger.predict(checkpoint, api_name="/download")


def test_pick_and_map(client):
    img, clip, text = client.predict("image:0", api_name="/pick")
    assert img and clip is None and "image:0" in text
    fig, msg = client.predict("t-SNE", "2-D", api_name="/map")
    assert fig["type"] == "plotly" and "text anchors" in fig["plot"]


def test_huge_upload_is_refused(client, tmp_path):
    import soundfile as sf
    from gradio_client import handle_file

    big = tmp_path / "big.wav"
    sf.write(big, np.zeros(8000 * 700, np.float32), 8000, subtype="FLOAT")  # 22 MB > the 20 MB limit
    with pytest.raises(Exception, match="(?i)size|large|413"):
        client.predict(handle_file(str(big)), 3, api_name="/search_audio")
    assert "text reads as" in client.predict("two", 3, api_name="/search_text")[0]  # still serving


def test_two_visitors_models_stay_apart(app_url, app_cache, trained):
    from gradio_client import Client

    alice, bob = Client(app_url, verbose=False), Client(app_url, verbose=False)
    other = str(app_cache / "models" / "other")
    msg, banner = alice.predict(other, api_name="/load_checkpoint")[:2]
    assert msg.startswith("✅") and "**other**" in banner and "(your choice)" in banner
    assert "**other**" in alice.predict(api_name="/status")
    bob_banner = bob.predict(api_name="/status")
    assert f"**{trained.checkpoint.name}**" in bob_banner and "**other**" not in bob_banner
    for answer in (msg, banner, bob_banner):  # no server path in what visitors are told
        assert str(app_cache) not in answer and str(trained.checkpoint) not in answer
    assert "reads as" in bob.predict("one", 2, api_name="/search_text")[0]  # bob still searches the default


def test_server_paths_outside_the_apps_folders_are_refused(client):
    for path in ("/etc", "/", "~", "/tmp/../etc"):
        assert "Refused" in client.predict(path, api_name="/load_checkpoint")[0]
        assert "Refused" in client.predict(path, api_name="/activate")[0]
        with pytest.raises(Exception, match="Refused"):
            client.predict(path, api_name="/download")
    progress = client.predict([], None, "image_cnn", "audio_cnn", "mlp", "mse_infonce", 1, 32, 3e-3,
                              "all-MiniLM-L6-v2", "{}", "/etc", False, api_name="/train")[0]
    assert "Refused" in progress


def test_training_limits_reach_the_caller(client):
    """The form's bounds follow the operator's limits (defaults: 20 epochs, batch 512), and
    Gradio refuses a value past them with a message an API caller sees."""
    data = ["Handwritten digits (scikit-learn 8x8, offline)"]
    with pytest.raises(Exception, match="greater than maximum value 20"):
        client.predict(data, None, "image_cnn", "audio_cnn", "mlp", "mse_infonce", 21, 64, 3e-3,
                       "all-MiniLM-L6-v2", "{}", "", False, api_name="/train")
    with pytest.raises(Exception, match="greater than maximum value 512"):
        client.predict(data, None, "image_cnn", "audio_cnn", "mlp", "mse_infonce", 2, 1024, 3e-3,
                       "all-MiniLM-L6-v2", "{}", "", False, api_name="/train")


def test_gallery_media_are_served_as_static_files(app_url):
    """Results point at the files written when the gallery was built: nothing is copied or
    encoded per query."""
    from gradio_client import Client

    c = Client(app_url, verbose=False, download_files=False)
    out = c.predict("seven", 2, api_name="/search_text")
    files = [im["image"] for im in out[2]] + [v["video"] for v in out[3]] + [a["value"] for a in out[4:6]]
    assert len(files) == 6
    for f in files:
        assert "/galleries/" in f["path"] and Path(f["path"]).is_file(), f["path"]  # the gallery's own file
        assert f["url"].endswith(f["path"])  # served from where it lies
        with urllib.request.urlopen(f["url"], timeout=10) as r:
            assert r.status == 200 and r.read() == Path(f["path"]).read_bytes()
    assert Path(out[2][0]["image"]["path"]).suffix == ".png" and Path(out[4]["value"]["path"]).suffix == ".wav"
    assert Path(out[3][0]["video"]["path"]).suffix == ".mp4"


def test_the_offline_gallery_is_real_data(app_url):
    from gradio_client import Client

    banner = Client(app_url, verbose=False).predict(api_name="/status")  # a new visitor: the default model
    assert "MNIST test digits shipped with the app" in banner and "FSDD test recordings shipped with the app" in banner


def test_api_callers_get_validation_messages(client):
    with pytest.raises(Exception, match="(?s)Expected a `float`.*'abc'"):
        client.predict("seven", "abc", api_name="/search_text")
    for api in ("/search_audio", "/search_sketch", "/search_image"):  # a plain path instead of handle_file(path)
        with pytest.raises(Exception, match="must be sent as a file.*handle_file") as e:
            client.predict("/etc/passwd", 3, api_name=api)
        assert "validation error" not in str(e.value)
    with pytest.raises(Exception, match="not in the list of choices"):
        client.predict("nope", "2-D", api_name="/map")
