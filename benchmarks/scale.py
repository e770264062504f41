"""Past one machine, measured: torchrun training, streamed memory, corpus embedding, FAISS vs exact.

    python benchmarks/scale.py --work /tmp/scale                       # every section
    python benchmarks/scale.py --work /tmp/scale --sections index --sizes 100000 1000000

Sections (figures printed as markdown tables and appended to WORK/scale.jsonl):
  train   the digits-offline recipe (no data folder needed) with 1 process and with
          `torchrun --nproc_per_node=2` (gloo): steps/s, items/s, held-out zero-shot accuracy.
  memory  peak resident memory of `train(stream=True)` over 10k and 200k synthetic PNG digits
          written to disk here (a fixed number of steps; workers=2), against the in-memory path.
  embed   `embed --corpus` throughput with 0 and 2 DataLoader workers (10k images), then 100k
          images killed with SIGKILL halfway, rerun, and checked: no item lost or embedded twice.
  index   N vectors of dimension 384, clustered like embeddings (1,000 class centres, each point
          at cosine ~0.8 to its centre; fresh queries from the same mixture; uniform random vectors
          would be unrealistically hard for any ANN method): exact vs FAISS HNSW and IVF, build
          time, single-query p50/p95 latency, recall@10 against exact search.
Run it with OMP_NUM_THREADS=1: on a shared machine every figure is single-threaded.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from the repository without the package installed

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
SECTIONS = ("train", "memory", "embed", "index")


def record(work: Path, section: str, rows: list[dict]) -> None:
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())  # the machine's business, beside every table
    with open(work / "scale.jsonl", "a") as f:
        f.write(json.dumps({"section": section, "time": time.strftime("%F %T"), "load_1_5_15min": load,
                            "rows": rows}) + "\n")
    keys = list(dict.fromkeys(k for r in rows for k in r))
    print(f"\n## {section} (load average {load} at the end)\n| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(f"{r.get(k, ''):.4g}" if isinstance(r.get(k), float) else str(r.get(k, ""))
                                 for k in keys) + " |", flush=True)


# ----------------------------------------------------------------------------------- train
def section_train(work: Path, seeds: list[int]) -> None:
    rows = []
    for procs in (1, 2):
        for seed in seeds:
            out = work / f"train-p{procs}-s{seed}"
            launch = [sys.executable, "-m", "textanchor"] if procs == 1 else \
                [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}", "-m", "textanchor"]
            cmd = launch + ["train", "--preset", "digits-offline", "--seed", str(seed), "--out", str(out / "ck"),
                            "--json", str(out / "metrics.json"), "--quiet"]
            out.mkdir(parents=True, exist_ok=True)
            p = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
            if p.returncode != 0:
                raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
            m = json.loads((out / "metrics.json").read_text())
            hist = json.loads((out / "ck" / "config.json").read_text())["history"]
            recipe = json.loads((out / "ck" / "config.json").read_text())["recipe"]
            # Epochs 2..E: after data loading and start-up (includes rank 0's per-epoch scoring).
            secs = hist[-1]["elapsed_s"] - hist[0]["elapsed_s"]
            batch = sum(r.get("batch_size") or recipe["batch_size"] for r in recipe["modalities"].values())
            n_steps = int(m["train/steps"])
            per_epoch = n_steps / len(hist)
            rows.append({"processes": procs, "seed": seed, "steps": n_steps,
                         "steps/s": per_epoch * (len(hist) - 1) / secs,
                         "items/s": per_epoch * (len(hist) - 1) * batch / secs, "wall_s": m["train/seconds"],
                         "image zero-shot": m["image/zero_shot_acc"], "audio zero-shot": m["audio/zero_shot_acc"]})
    record(work, "train", rows)


# ----------------------------------------------------------------------------------- corpus on disk
def write_digits(root: Path, n: int, seed: int = 0) -> Path:
    """n synthetic 28x28 PNG 'digits' (3 stroke classes, jittered) and their manifest; reused if present."""
    from PIL import Image

    csv = root / f"digits-{n}.csv"
    if csv.is_file():
        return csv
    rng = np.random.default_rng(seed)
    names = ["zero", "one", "two"]
    rows = []
    for i in range(n):
        c = i % 3
        img = np.zeros((28, 28), np.uint8)
        o, w = rng.integers(-3, 4), rng.integers(8, 12)
        if c == 0:
            img[13 + o: 16 + o, 14 - w: 14 + w] = 255
        elif c == 1:
            img[14 - w: 14 + w, 13 + o: 16 + o] = 255
        else:
            d = np.arange(-w, w)
            img[14 + d, np.clip(14 + d + o, 0, 27)] = 255
        sub = root / f"png/{i // 10000:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(sub / f"{i:07d}.png")
        rows.append(f"png/{i // 10000:03d}/{i:07d}.png,{names[c]}")
    tmp = csv.with_suffix(".tmp")
    tmp.write_text("path,text\n" + "\n".join(rows) + "\n")
    os.replace(tmp, csv)
    return csv


def _head(csv: Path, n: int) -> Path:
    out = csv.parent / f"{csv.stem}-head{n}.csv"
    if not out.is_file():
        lines = csv.read_text().splitlines()
        out.write_text("\n".join(lines[: n + 1]) + "\n")
    return out


# ----------------------------------------------------------------------------------- memory
def train_child(csv: str, steps: int, stream: bool, workers: int) -> None:
    """Runs in a fresh process: image-only training over the manifest for `steps` steps."""
    import threading

    import torch

    from textanchor.config import DataSpec, ModalityRecipe, TrainConfig
    from textanchor.train import train

    torch.set_num_threads(1)
    cfg = TrainConfig({"image": ModalityRecipe([DataSpec("manifest", {"csv_path": csv})])}, epochs=1,
                      batch_size=128, device="cpu")
    stop = threading.Event()
    t0 = time.time()
    train(cfg, stop=stop, final_eval=False, stream=stream, workers=workers,
          progress=lambda e: e["event"] == "step" and e["step"] >= steps and stop.set())
    print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                      "seconds": time.time() - t0}))


def section_memory(work: Path, sizes: list[int], steps: int, in_memory_sizes: list[int]) -> None:
    csv = write_digits(work / "corpus", max(sizes))
    rows = []
    for n in sizes:
        for stream in (True, False):
            if not stream and n not in in_memory_sizes:
                continue
            code = (f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import scale; "
                    f"scale.train_child({str(_head(csv, n))!r}, {steps}, {stream}, {2 if stream else 0})")
            p = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True)
            if p.returncode != 0:
                raise SystemExit(p.stderr[-2000:])
            r = json.loads(p.stdout.strip().splitlines()[-1])
            rows.append({"items": n, "path": "stream, 2 workers" if stream else "in memory", "steps": steps, **r})
    base = {r["path"]: r["peak_rss_mb"] for r in rows if r["items"] == min(sizes)}
    for r in rows:
        r["x peak at %d" % min(sizes)] = r["peak_rss_mb"] / base[r["path"]]
    record(work, "memory", rows)


# ----------------------------------------------------------------------------------- embed
def section_embed(work: Path, ck: Path, n_speed: int, n_resume: int) -> None:
    from textanchor.embed_corpus import embed_corpus, merge_shards

    csv = write_digits(work / "corpus", n_resume)
    rows = []
    for workers in (0, 2):
        out = work / f"embed-speed-w{workers}"
        subprocess.run(["rm", "-rf", str(out)])
        t = time.perf_counter()
        embed_corpus(ck, _head(csv, n_speed), out, shard_size=5000, workers=workers)
        dt = time.perf_counter() - t
        rows.append({"items": n_speed, "workers": workers, "seconds": dt, "items/s": n_speed / dt})
    record(work, "embed throughput", rows)

    out = work / "embed-resume"
    subprocess.run(["rm", "-rf", str(out)])
    cmd = [sys.executable, "-m", "textanchor", "embed", "--checkpoint", str(ck), "--corpus", str(_head(csv, n_resume)),
           "--out", str(out), "--shard-size", "5000", "--workers", "2", "--quiet"]
    n_shards = -(-n_resume // 5000)
    t = time.perf_counter()
    child = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    while len(list(out.glob("shard-*"))) < n_shards // 2 and child.poll() is None:
        time.sleep(0.2)
    os.killpg(child.pid, signal.SIGKILL)  # the run and its DataLoader workers, mid-shard
    child.wait()
    first = time.perf_counter() - t
    done_at_kill = len(list(out.glob("shard-*")))
    t = time.perf_counter()
    p = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    second = time.perf_counter() - t
    index = merge_shards(out, backend="exact")
    ids = [m["id"] for m in index.metadata()]
    expected = {f"image:{i}" for i in range(n_resume)}
    record(work, "embed resume", [{
        "items": n_resume, "shards": n_shards, "shards done when killed": done_at_kill,
        "first run s (killed)": first, "rerun s": second, "rerun exit": p.returncode,
        "items in index": len(ids), "duplicates": len(ids) - len(set(ids)), "lost": len(expected - set(ids))}])


# ----------------------------------------------------------------------------------- index
def clustered(n: int, dim: int, seed: int, centres: int = 1000, spread: float = 0.75, chunk: int = 100_000):
    """Chunks of unit vectors around fixed random centres (cosine to the centre ~1/sqrt(1+spread^2))."""
    c = np.random.default_rng(12345).standard_normal((centres, dim)).astype(np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        x = c[rng.integers(0, centres, m)] + rng.standard_normal((m, dim), dtype=np.float32) * (spread / np.sqrt(dim))
        yield x / np.linalg.norm(x, axis=1, keepdims=True)


def _latencies(index, queries, **kw) -> tuple[np.ndarray, np.ndarray, list]:
    """Per single query: wall ms, CPU ms of this thread (= wall on an idle core), top-10 ids."""
    wall, cpu, found = [], [], []
    for q in queries:
        t, c = time.perf_counter(), time.thread_time()
        hits = index.search(q, k=10, **kw)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
        found.append([h.id for h in hits])
    return np.array(wall), np.array(cpu), found


def _row(n, method, build_s, wall, cpu, recall) -> dict:
    return {"n": n, "method": method, "build_s": build_s, "p50_ms": float(np.median(wall)),
            "p95_ms": float(np.percentile(wall, 95)), "cpu_p50_ms": float(np.median(cpu)),
            "cpu_p95_ms": float(np.percentile(cpu, 95)), "recall@10": recall}


def section_index(work: Path, sizes: list[int], kinds: list[str], n_queries: int, hnsw_up_to: int,
                  nlist: int | None, ef: list[int] | None = None, nprobe: list[int] | None = None,
                  hnsw_m: int = 32, spread: float = 0.75, dim: int = 384) -> None:
    """`ef` / `nprobe`: query-time settings tried on each built HNSW / IVF index (default: the index's).
    FAISS's threads are left to the index (one per query for single queries), so OMP_NUM_THREADS
    sets only the build's and the exact search's threads."""
    from textanchor.index_faiss import FaissIndex

    queries = next(clustered(n_queries, dim, seed=999, spread=spread))
    for n in sizes:
        rows, truth = [], None
        for kind in kinds:
            if kind == "hnsw" and n > hnsw_up_to:
                print(f"(HNSW skipped at {n}: its single-threaded build does not fit this shared machine)")
                continue
            fi = FaissIndex(dim, kind=kind, exact_below=0, nlist=nlist if n >= 500_000 else None, hnsw_m=hnsw_m)
            t = time.perf_counter()
            for i, x in enumerate(clustered(n, dim, seed=0, spread=spread)):
                fi.add(x, [{"modality": "image", "label": "", "source": ""}] * len(x))
            fi.vectors  # noqa: B018 - consolidates the added blocks (part of the exact build)
            add_s = time.perf_counter() - t
            if truth is None:
                wall, cpu, truth = _latencies(fi, queries, exact=True)
                rows.append(_row(n, "exact (NumPy)", add_s, wall, cpu, 1.0))
                print(json.dumps(rows[-1]), flush=True)
            t = time.perf_counter()
            fi.build()
            build_s = time.perf_counter() - t
            for value in (ef if kind == "hnsw" else nprobe) or [fi.ef_search if kind == "hnsw" else fi.nprobe]:
                if kind == "hnsw":
                    fi.ef_search = value
                else:
                    fi.nprobe = value
                wall, cpu, found = _latencies(fi, queries)
                recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)]))
                setting = f"M={fi.hnsw_m}, efC={fi.ef_construction}, ef={fi.ef_search}" if kind == "hnsw" else \
                    f"nlist={fi._ann.nlist}, nprobe={fi.nprobe}"
                rows.append(_row(n, f"FAISS {kind} ({setting})", add_s + build_s, wall, cpu, recall))
                print(json.dumps(rows[-1]), flush=True)  # a long run's rows, as they come
            del fi
            gc.collect()
        record(work, f"index {n} x {dim}, spread {spread}", rows)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default="/tmp/textanchor-scale", help="scratch folder (corpora, checkpoints, logs)")
    ap.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=SECTIONS)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="train: seeds per process count")
    ap.add_argument("--mem-sizes", type=int, nargs="+", default=[10_000, 200_000])
    ap.add_argument("--mem-steps", type=int, default=200)
    ap.add_argument("--in-memory-sizes", type=int, nargs="*", default=[10_000, 200_000])
    ap.add_argument("--checkpoint", help="embed: checkpoint to use (default: the train section's 1-process one)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="index: gallery sizes")
    ap.add_argument("--kinds", nargs="+", default=["hnsw", "ivf"])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--hnsw-up-to", type=int, default=10**9, help="index: skip HNSW above this size")
    ap.add_argument("--nlist", type=int, help="index: IVF cells from 500k vectors (default 4 sqrt(N))")
    ap.add_argument("--ef", type=int, nargs="+", help="index: HNSW ef_search values to try")
    ap.add_argument("--nprobe", type=int, nargs="+", help="index: IVF nprobe values to try")
    ap.add_argument("--hnsw-m", type=int, default=32, help="index: HNSW graph degree M")
    ap.add_argument("--spread", type=float, default=0.75,
                    help="index: noise around the class centres (0.75: cosine ~0.8 to the centre; 1.5: ~0.55, harder)")
    a = ap.parse_args(argv)
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS')}")
    if "train" in a.sections:
        section_train(work, a.seeds)
    if "memory" in a.sections:
        section_memory(work, a.mem_sizes, a.mem_steps, a.in_memory_sizes)
    if "embed" in a.sections:
        section_embed(work, Path(a.checkpoint or work / f"train-p1-s{a.seeds[0]}" / "ck"), 10_000, 100_000)
    if "index" in a.sections:
        section_index(work, a.sizes, a.kinds, a.queries, a.hnsw_up_to, a.nlist, a.ef, a.nprobe, a.hnsw_m, a.spread)


if __name__ == "__main__":
    main()
