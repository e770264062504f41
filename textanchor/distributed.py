"""Several processes, one run: the environment `torchrun` sets up -> torch.distributed + DDP.

    torchrun --nproc_per_node=2 -m textanchor train --preset digits-offline

torchrun starts N copies of the program with RANK, WORLD_SIZE, LOCAL_RANK and MASTER_ADDR/PORT
in their environment; `setup()` turns that into a process group (gloo on CPU, NCCL on CUDA).
Without those variables everything here is a no-op, so a plain single-process run is unchanged.
Gradients are averaged by PyTorch's DistributedDataParallel; nothing here reimplements it.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands in the run."""

    rank: int = 0  # 0 .. world-1; rank 0 evaluates, saves and reports
    world: int = 1  # number of processes
    local_rank: int = 0  # index on this machine (picks the GPU)

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


def setup(device: str = "auto") -> DistInfo:
    """Join the process group torchrun described in the environment, once.

    Args:
        device: the run's device request; CUDA (or "auto" with CUDA present) picks NCCL, else gloo.
    Returns:
        DistInfo; DistInfo() (rank 0 of 1) when WORLD_SIZE is unset or 1.
    Raises:
        RuntimeError: WORLD_SIZE > 1 but this PyTorch build has no torch.distributed.
    """
    if dist.is_available() and dist.is_initialized():
        return info()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE > 1 but this PyTorch build has no torch.distributed")
    cuda = torch.cuda.is_available() and device in ("auto", "cuda")
    dist.init_process_group("nccl" if cuda else "gloo")
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return info()


def info() -> DistInfo:
    """This process's place in an initialised group (DistInfo() outside one)."""
    if not (dist.is_available() and dist.is_initialized()):
        return DistInfo()
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def local_device(device: str, di: DistInfo) -> str:
    """One GPU per process: "cuda" becomes "cuda:<local rank>" in a multi-process run."""
    return f"cuda:{di.local_rank}" if di.active and device == "cuda" else device


def wrap(model: torch.nn.Module, di: DistInfo, device: str) -> torch.nn.Module:
    """The model wrapped in DistributedDataParallel in a multi-process run, else unchanged.
    Call the wrapper's forward (not its submodules) so DDP can schedule the gradient all-reduce."""
    if not di.active:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [torch.device(device).index] if device.startswith("cuda") else None
    return DistributedDataParallel(model, device_ids=ids)


def shard_rows(n: int, di: DistInfo, seed: int) -> np.ndarray:
    """This rank's rows of a data set of n items: a seeded permutation dealt round-robin, so the
    shards are disjoint, cover every item, and do not depend on the order of the files."""
    if not di.active:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).permutation(n)[di.rank:: di.world])


def any_rank(flag: bool, di: DistInfo, device: str = "cpu") -> bool:
    """True on every rank when it is true on one (a stop request or a time budget must end all
    ranks at the same step, or the others would wait forever in the next all-reduce)."""
    if not di.active:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def barrier(di: DistInfo) -> None:
    if di.active:
        dist.barrier()


def teardown() -> None:
    """Leave the process group (end of a CLI command)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def process_group(device: str = "auto"):
    """`setup(device)` for the length of a `with` block, then `teardown()`, even on an error:
    a CLI command's whole multi-process life. Yields the DistInfo."""
    di = setup(device)
    try:
        yield di
    finally:
        teardown()
