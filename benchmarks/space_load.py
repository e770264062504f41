"""How the app answers as a public Space: start-up, search latency against a trivial endpoint,
many visitors at once, visitors during a training run, and the first maps.

    python benchmarks/space_load.py [--cache DIR] [--clients 10] [--searches 9] [--out results/space_load.json]

Starts `app.py --offline` twice on a fresh cache (a first start builds the gallery and compiles
UMAP; the second is a restart), then drives it with `gradio_client` like API users, and the concurrent loads also with a lean
HTTP generator (one asyncio loop, Gradio's documented `/gradio_api/call` API), because
gradio_client's own CPU per call competes with the server on a small machine. The trivial
endpoint is `/status` (a string from memory): every search figure is printed next to it, as a
ratio measured in the same run, because absolute times depend on how busy the CPU is. The
sequential figures also give the server's CPU time per call (Linux), the figure least moved by
other jobs on the machine.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from the repository without the package installed

from textanchor.demo.launcher import launch_app, stop_app  # noqa: E402


def start_app(cache: Path) -> tuple:
    """app.py as a Space runs it (the package found from the repository); (process, url, seconds
    to a page that answers). Its output is appended to cache/app.log."""
    return launch_app(cache, log_mode="a", as_space=True, timeout=900)


def client(url: str):
    """A gradio_client session that waits for a busy server instead of failing."""
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, httpx_kwargs={"timeout": 120})


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used (Linux /proc; None elsewhere): the server's
    work per call, which depends far less on how busy the machine is than wall times do."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def stats(seconds: list[float]) -> dict:
    a = np.asarray(seconds) * 1000
    return {"n": len(a), "p50_ms": round(float(np.percentile(a, 50)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1), "max_ms": round(float(a.max()), 1)}


def queries(tmp: Path) -> dict:
    """One call per search endpoint: name -> (args, api_name)."""
    import soundfile as sf
    from gradio_client import handle_file
    from PIL import Image

    img = np.full((280, 280), 255, np.uint8)
    img[40:240, 130:150] = 0  # a "one"
    Image.fromarray(img).save(tmp / "one.png")
    wav = ROOT / "assets" / "speech_seven.wav"
    sketch = {"background": handle_file(str(tmp / "one.png")), "layers": [], "composite": handle_file(str(tmp / "one.png"))}
    sf.info(str(wav))
    return {"text": (("seven", 6), "/search_text"), "audio": ((handle_file(str(wav)), 6), "/search_audio"),
            "sketch": ((sketch, 6), "/search_sketch")}


def concurrent(url: str, calls: list, clients: int, per_client: int) -> dict:
    """`clients` gradio_client sessions, each making `per_client` calls (cycling `calls`) at once."""
    pool = [client(url) for _ in range(clients)]
    lat, errors, lock = [], [], threading.Lock()

    def visitor(c, offset):
        for i in range(per_client):
            args, api = calls[(i + offset) % len(calls)]
            try:
                s = timed(lambda: c.predict(*args, api_name=api))
                with lock:
                    lat.append(s)
            except Exception as e:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(f"{type(e).__name__}: {e}"[:200])

    threads = [threading.Thread(target=visitor, args=(c, j)) for j, c in enumerate(pool)]
    t0 = time.perf_counter()
    [t.start() for t in threads]
    [t.join() for t in threads]
    wall = time.perf_counter() - t0
    return {**stats(lat), "per_s": round(len(lat) / wall, 1), "errors": len(errors), "error_examples": errors[:3]}


# ------------------------------------------------------------------ a lean load generator
# gradio_client spends tens of ms of CPU per call of its own (threads, its API description,
# polling). On a Space the visitors' browsers run elsewhere; here the clients share the two cores
# with the server, so the same load is also sent by a lean generator: one asyncio loop speaking
# Gradio's documented HTTP API (upload, POST /gradio_api/call/<api>, read the event stream), as
# `curl` would. Both are reported, with each one's own CPU per call.

def _file_data(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


async def _http_call(http, url: str, api: str, make_args, session: str) -> None:
    """One search as a browser makes it: its files uploaded first, then the call and its answer."""
    args = await make_args(http, url)
    r = await http.post(f"{url}gradio_api/call/{api.lstrip('/')}", json={"data": args, "session_hash": session})
    r.raise_for_status()
    r = await http.get(f"{url}gradio_api/call/{api.lstrip('/')}/{r.json()['event_id']}")
    r.raise_for_status()
    if "event: complete" not in r.text:
        raise RuntimeError(r.text[-300:])


def http_queries(tmp: Path) -> list:
    """The search calls of `queries` for the lean generator: [(make_args, api)], where
    make_args(http, url) uploads the call's files (every call uploads its own, as a page does)."""
    import soundfile as sf  # noqa: F401 - the same inputs as `queries`
    from PIL import Image

    png = tmp / "one-http.png"
    img = np.full((280, 280), 255, np.uint8)
    img[40:240, 130:150] = 0
    Image.fromarray(img).save(png)
    wav = ROOT / "assets" / "speech_seven.wav"

    async def upload(http, url, path: Path) -> dict:
        with open(path, "rb") as f:
            r = await http.post(f"{url}gradio_api/upload", files={"files": (path.name, f.read())})
        r.raise_for_status()
        return _file_data(r.json()[0])

    async def text(http, url):
        return ["seven", 6]

    async def audio(http, url):
        return [await upload(http, url, wav), 6]

    async def sketch(http, url):
        bg = await upload(http, url, png)
        return [{"background": bg, "layers": [], "composite": await upload(http, url, png)}, 6]

    return [(text, "/search_text"), (audio, "/search_audio"), (sketch, "/search_sketch")]


def concurrent_http(url: str, calls: list, clients: int, per_client: int) -> dict:
    """`clients` visitors (own session each) making `per_client` calls at once through the lean
    generator; also its CPU per call."""
    import asyncio
    import uuid

    import httpx

    lat, errors = [], []

    async def visitor(http, offset):
        session = uuid.uuid4().hex[:11]
        for i in range(per_client):
            make_args, api = calls[(i + offset) % len(calls)]
            t0 = time.perf_counter()
            try:
                await _http_call(http, url, api, make_args, session)
                lat.append(time.perf_counter() - t0)
            except Exception as e:  # noqa: BLE001 - counted and reported
                errors.append(f"{type(e).__name__}: {e}"[:200])

    async def run():
        limits = httpx.Limits(max_connections=4 * clients)
        async with httpx.AsyncClient(timeout=120, limits=limits) as http:
            await asyncio.gather(*(visitor(http, j) for j in range(clients)))

    cpu0, t0 = time.process_time(), time.perf_counter()
    asyncio.run(run())
    wall = time.perf_counter() - t0
    return {**stats(lat), "per_s": round(len(lat) / wall, 1), "errors": len(errors), "error_examples": errors[:3],
            "client_cpu_ms_per_call": round((time.process_time() - cpu0) / max(1, len(lat)) * 1000, 1)}


def with_server_cpu(pid: int, run) -> dict:
    """run() -> figures, plus the server's CPU per answered call and the client's CPU per call."""
    cpu0, own0 = cpu_seconds(pid), time.process_time()
    out = run()
    if cpu0 is not None and out["n"]:
        out["server_cpu_ms_per_call"] = round((cpu_seconds(pid) - cpu0) / out["n"] * 1000, 1)
    out.setdefault("client_cpu_ms_per_call", round((time.process_time() - own0) / max(1, out["n"]) * 1000, 1))
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache", help="cache folder (default: a fresh temporary one, removed at the end)")
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--searches", type=int, default=9, help="per client")
    p.add_argument("--repeats", type=int, default=30, help="sequential calls per endpoint")
    p.add_argument("--out", default=None, help="also write the figures as JSON")
    a = p.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="space-load-"))
    cache = Path(a.cache) if a.cache else tmp / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    res = {"load_before": os.getloadavg()}

    # 1. a first start (empty cache: gallery, default map) and the UMAP compilation it pays once
    proc, url, res["first_start_s"] = start_app(cache)
    c = client(url)
    res["first_umap_s"] = timed(lambda: c.predict("UMAP", "2-D", api_name="/map"))
    stop_app(proc)

    # 2. a restart: ready page, first map, UMAP with numba's cache
    proc, url, res["restart_s"] = start_app(cache)
    try:
        c = client(url)
        res["restart_first_map_s"] = timed(lambda: c.predict("t-SNE", "2-D", api_name="/map"))
        res["restart_umap_s"] = timed(lambda: c.predict("UMAP", "2-D", api_name="/map"))
        res["restart_tsne_3d_s"] = timed(lambda: c.predict("t-SNE", "3-D", api_name="/map"))
        q = queries(tmp)
        trivial = ((), "/status")
        for _ in range(3):  # warm both paths
            c.predict(api_name="/status")
            [c.predict(*args, api_name=api) for args, api in q.values()]
        seq = {}
        for name, (args, api) in {"trivial": trivial, **q}.items():
            cpu0 = cpu_seconds(proc.pid)
            seq[name] = stats([timed(lambda: c.predict(*args, api_name=api)) for _ in range(a.repeats)])
            if cpu0 is not None:
                seq[name]["server_cpu_ms"] = round((cpu_seconds(proc.pid) - cpu0) / a.repeats * 1000, 1)
            seq[name]["p95_ratio"] = round(seq[name]["p95_ms"] / seq["trivial"]["p95_ms"], 2)
        res["sequential"] = seq
        print(json.dumps({k: res[k] for k in res if k != "sequential"}), json.dumps(seq), sep="\n", flush=True)
        res["concurrent_trivial"] = with_server_cpu(proc.pid, lambda: concurrent(url, [trivial], a.clients, a.searches))
        res["concurrent_search"] = with_server_cpu(proc.pid, lambda: concurrent(url, list(q.values()), a.clients, a.searches))
        hq = http_queries(tmp)

        async def status(http, url):
            return []

        res["concurrent_trivial_http"] = with_server_cpu(
            proc.pid, lambda: concurrent_http(url, [(status, "/status")], a.clients, a.searches))
        res["concurrent_search_http"] = with_server_cpu(proc.pid, lambda: concurrent_http(url, hq, a.clients, a.searches))
        print(json.dumps({k: res[k] for k in res if k.startswith("concurrent")}), flush=True)

        # 3. the same while a training run streams to another visitor
        trainer = client(url)
        # The offline digits choice trains without a data folder; this visitor's session picks
        # digits (the page starts on things, whose choices need one), the others stay on things.
        trainer.predict("digits", api_name="/pick_model")
        trainer.predict(api_name="/follow_model")  # as the page does after a pick
        job = trainer.submit(["Handwritten digits (scikit-learn 8x8, offline)"], None, "image_cnn", "audio_cnn", "mlp",
                             "mse_infonce", 6, 64, 3e-3, "all-MiniLM-L6-v2", "{}", "", False, api_name="/train")
        t0 = time.time()
        while job.status().code.name not in ("PROCESSING", "FINISHED") and time.time() - t0 < 60:
            time.sleep(0.2)
        time.sleep(2)  # into the training steps
        res["concurrent_search_while_training"] = with_server_cpu(
            proc.pid, lambda: concurrent(url, list(q.values()), a.clients, a.searches))
        res["concurrent_search_while_training_http"] = with_server_cpu(
            proc.pid, lambda: concurrent_http(url, hq, a.clients, a.searches))
        res["training_running_during_searches"] = not job.done()  # still running after both
        progress = job.result(timeout=900)[0]
        res["training_finished"] = "finished" in progress
        res["training_s"] = round(time.time() - t0, 1)
    finally:
        stop_app(proc)
        res["load_after"] = os.getloadavg()
        if not a.cache:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(res, indent=1))
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()
