"""End to end: `python app.py` in a subprocess, driven through `gradio_client` like any API user.

Offline: the toy checkpoint and the offline gallery (scikit-learn digits + eSpeak speech).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_app(checkpoint, cache: Path, timeout: float = 300):
    """Start app.py; returns (process, url, seconds until the page answered)."""
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "TEXTANCHOR_DATA": str(cache / "no-data")}
    log = open(cache / "app.log", "w")
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--checkpoint", str(checkpoint),
                             "--cache", str(cache), "--offline"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited ({proc.returncode}):\n{(cache / 'app.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return proc, url, time.time() - t0
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"app.py not ready after {timeout} s:\n{(cache / 'app.log').read_text()[-3000:]}")


def stop_app(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def app_url(trained, tmp_path_factory):
    proc, url, seconds = launch_app(trained.checkpoint, tmp_path_factory.mktemp("app-cache"))
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
    assert {"/search_sketch", "/search_audio", "/search_text", "/search_video", "/clear", "/map", "/pick", "/train",
            "/stop_training", "/activate", "/download", "/load_checkpoint", "/status"} <= names


def test_search_with_a_sketch(client, tmp_path):
    out = client.predict(_sketch(_sketch_file(tmp_path)), 4, api_name="/search_sketch")
    status, label, images, videos, clips, rows = out[0], out[1], out[2], out[3], out[4:-1], out[-1]
    assert "sketch reads as" in status
    assert label["label"] in ("zero", "one", "two")
    assert len(images) == 4 and all(" · " in im["caption"] for im in images)
    assert sum(1 for c in clips if c.get("visible")) == 4
    assert len(videos) == 4 and all(".mp4" in str(v["video"]) for v in videos)
    assert len(rows["results"]) == 12 and rows["query"]["modality"] == "image"


def test_search_with_an_audio_file(client, tmp_path):
    import soundfile as sf
    from gradio_client import handle_file

    path = tmp_path / "tone.wav"
    t = np.arange(44100) / 44100
    sf.write(path, np.stack([np.sin(2 * np.pi * 800 * t)] * 2, 1) * 0.4, 44100)  # 1 s, stereo, 44.1 kHz
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


def test_train_while_searching_then_activate(client, tmp_path):
    job = client.submit(["Handwritten digits (scikit-learn 8x8, offline)"], None, "image_cnn", "audio_cnn", "mlp",
                        "mse_infonce", 2, 128, 3e-3, "all-MiniLM-L6-v2", "{}", api_name="/train")
    sketch = _sketch(_sketch_file(tmp_path))
    t0 = time.time()
    while not job.done() and time.time() - t0 < 20:  # searches keep working during training
        assert "reads as" in client.predict(sketch, 2, api_name="/search_sketch")[0]
        time.sleep(0.5)
    progress, _, epochs, final, checkpoint = job.result(timeout=300)
    assert "finished" in progress, progress
    assert checkpoint and Path(checkpoint, "config.json").is_file()
    assert len(epochs["data"]) == 2 and "image/zero_shot_acc" in final
    msg, banner = client.predict(checkpoint, api_name="/activate")
    assert msg.startswith("✅") and checkpoint in banner
    out = client.predict(sketch, 3, api_name="/search_sketch")
    assert "reads as" in out[0] and out[1]["label"] in ("zero", "one", "two", "three", "four", "five", "six",
                                                         "seven", "eight", "nine")
    assert client.predict(checkpoint, api_name="/download").endswith(".zip")


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
