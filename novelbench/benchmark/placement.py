"""Where trials run: how many worker processes fit the machine, and the environment each worker
process starts with (its GPU, its thread pools).

- CPU: a trial computes with a fixed number of threads (part of its identity), so at most
  ``cores // threads`` trials run at once; more would only make every trial slower.
- GPU: one worker process per device. Each worker starts with ``CUDA_VISIBLE_DEVICES`` naming
  its own GPU, set before the process (and so torch) starts, so the worker sees exactly one
  device and a trial asking for ``cuda`` lands on it. ``--devices`` counts GPUs as torch
  numbers them in the driver, i.e. within the driver's own ``CUDA_VISIBLE_DEVICES``.

Nothing here touches CUDA beyond counting devices, so it is tested without a GPU.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from typing import Iterator

from novelbench.benchmark.identity import Trial
from novelbench.errors import NovelbenchError

#: thread pools sized from the environment when a library loads (OpenMP, MKL, OpenBLAS)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def cpu_cores() -> int:
    """Cores this process may use (its CPU affinity, e.g. a Slurm allocation), else all."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cpu_slots(threads: int) -> int:
    """How many trials of ``threads`` threads run at once without oversubscribing the cores."""
    return max(1, cpu_cores() // max(1, threads))


def cuda_device_count() -> int:
    import torch

    return torch.cuda.device_count()


def visible_gpus() -> list[str]:
    """The GPUs torch sees here, as ``CUDA_VISIBLE_DEVICES`` entries (index i = ``cuda:i``)."""
    count = cuda_device_count()
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is None:
        return [str(i) for i in range(count)]
    return [entry.strip() for entry in listed.split(",") if entry.strip()][:count]


def gpu_ids(devices: list[int] | None) -> list[str]:
    """``CUDA_VISIBLE_DEVICES`` entries for ``--devices`` (torch indices here); None: every visible GPU."""
    visible = visible_gpus()
    if devices is None:
        return visible
    missing = [d for d in devices if not 0 <= d < len(visible)]
    if missing:
        seen = f"cuda:0..{len(visible) - 1}" if visible else "none"
        raise NovelbenchError(f"--devices {','.join(map(str, devices))}: GPU {missing[0]} is not visible here (torch sees {seen})")
    return [visible[d] for d in devices]


def worker_environments(n_workers: int, threads: int, gpus: list[str] | None = None) -> list[dict[str, str]]:
    """The environment of each worker process: thread pools of ``threads`` threads, and with
    ``gpus`` one GPU each (round robin when there are more workers than GPUs)."""
    envs = []
    for i in range(n_workers):
        env = {name: str(threads) for name in THREAD_VARIABLES}
        if gpus:
            env["CUDA_VISIBLE_DEVICES"] = gpus[i % len(gpus)]
        envs.append(env)
    return envs


def on_pinned_worker(trial: Trial) -> Trial:
    """The trial as a worker pinned to one GPU runs it: ``cuda:N`` becomes ``cuda`` (the only
    device that worker sees). The trial id is unchanged: it names the device type only."""
    if trial.device.startswith("cuda:"):
        return dataclasses.replace(trial, device="cuda")
    return trial


@contextlib.contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """Set ``env`` in this process for the block (a spawned child inherits it from its start)."""
    before = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def gpus_for(devices: list[int] | None, trial_device: str) -> list[str] | None:
    """The GPUs to pin workers to: ``--devices``, or every visible GPU when trials ask for plain
    ``cuda``; None for CPU trials and for an explicit ``cuda:N`` (that one device, unpinned)."""
    if devices is not None:
        if trial_device == "cpu":
            raise NovelbenchError("--devices pins worker processes to GPUs, but this run computes on the CPU; add --device cuda")
        if trial_device.startswith("cuda:"):
            raise NovelbenchError(f"--device {trial_device} names one GPU; use --device cuda with --devices to spread trials over GPUs")
        return gpu_ids(devices)
    if trial_device == "cuda":
        return visible_gpus()
    return None
