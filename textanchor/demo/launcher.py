"""Start `app.py` as a child process on a free local port, as a visitor would meet it: the
end-to-end tests and `benchmarks/space_load.py` drive it through `gradio_client`."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_app(cache: Path, *args: str, checkpoint=None, env: dict | None = None, timeout: float = 600,
               log_mode: str = "w", as_space: bool = False) -> tuple[subprocess.Popen, str, float]:
    """Run `app.py --cache CACHE --offline [--checkpoint DIR] ARGS` with no data folder.

    Args:
        cache: the app's cache folder; its output goes to cache/app.log (`log_mode` "a" appends).
        env: the environment (default this process's). as_space: drop PYTHONPATH, so that app.py
            finds the package itself as on a Hugging Face Space.

    Returns:
        (process, url, seconds until the page answered).

    Raises:
        RuntimeError: the app exited or did not answer within `timeout` seconds (with its log's end).
    """
    cache = Path(cache)
    port = free_port()
    env = {**(env or os.environ), "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "TEXTANCHOR_DATA": str(cache / "no-data")}
    if as_space:
        env.pop("PYTHONPATH", None)
    cmd = [sys.executable, str(APP), "--cache", str(cache), "--offline", *args]
    if checkpoint is not None:
        cmd += ["--checkpoint", str(checkpoint)]
    log = cache / "app.log"
    t0 = time.time()
    proc = subprocess.Popen(cmd, cwd=APP.parent, env=env, stdout=open(log, log_mode), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return proc, url, time.time() - t0
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"app.py not ready after {timeout} s:\n{log.read_text()[-3000:]}")


def stop_app(proc: subprocess.Popen, timeout: float = 30) -> None:
    """End the app (SIGTERM, then SIGKILL after `timeout` seconds)."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
