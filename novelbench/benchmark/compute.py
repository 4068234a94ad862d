"""The compute identity of a trial's rows: the hardware and numeric libraries that computed it.

A trial id fixes what is computed (code, options, seed, device type, precision, threads); it
cannot fix the machine. The same program can give other numbers on another CPU (torch, MKL and
OpenBLAS pick kernels by the vector extensions they find: AVX2, AVX-512 ...), with another torch
build (its BLAS, oneDNN) or on another GPU / CUDA. Every row records these, so a reader can tell
which machine a number came from and `bench verify` can say what differs between two machines.

They are deliberately *not* part of the trial id: a trial computed elsewhere is still the same
experiment (a cache made on other hardware is reused), and how far its numbers move between
machines is measured by `bench verify`, not hidden by a new id (see README, "Same trial, same
number"). Executors stamp the rows in the process that ran the trial (a dask worker may be
another machine), so this module is outside the trial code's fingerprint: it changes no number.
"""

from __future__ import annotations

import functools
import platform
import re
from typing import Any

from novelbench.benchmark.checkpointed import run_checkpointed
from novelbench.benchmark.provenance import cpu_model

#: the row columns, in order (old rows without them read as "not recorded")
COLUMNS = ("compute_cpu", "compute_isa", "compute_libs", "compute_gpu")


def _torch_libraries(config: str) -> str:
    """MKL and oneDNN versions from ``torch.__config__.show()`` (the CPU kernels torch calls)."""
    found = []
    mkl = re.search(r"Math Kernel Library Version ([\w.]+)", config)
    if mkl:
        found.append(f"MKL {mkl.group(1)}")
    onednn = re.search(r"(?:MKL-DNN|oneDNN) (v[\w.]+)", config)
    if onednn:
        found.append(f"oneDNN {onednn.group(1)}")
    blas = re.search(r"BLAS_INFO=(\w+)", config)
    if blas:
        found.append(f"BLAS {blas.group(1)}")
    return ", ".join(found) or "no BLAS info"


@functools.lru_cache(maxsize=1)
def _cpu_identity() -> dict[str, str]:
    import torch
    from threadpoolctl import threadpool_info

    # numpy / scipy BLAS (scikit-learn and pyod methods compute through it); architecture = the
    # kernel set OpenBLAS chose for this CPU
    numpy_blas = sorted({f"{i.get('internal_api')} {i.get('version') or ''} {i.get('architecture') or ''}".strip()
                         for i in threadpool_info() if i.get("user_api") == "blas"})
    libs = f"torch {torch.__version__} ({_torch_libraries(torch.__config__.show())})"
    if numpy_blas:
        libs += "; numpy/scipy " + ", ".join(numpy_blas)
    return {"compute_cpu": f"{cpu_model()} ({platform.machine()})",
            "compute_isa": torch.backends.cpu.get_cpu_capability(),
            "compute_libs": libs}


def _gpu_identity(device: str) -> str:
    """GPU model, CUDA and cuDNN versions for a trial on ``device`` ("" for CPU trials)."""
    import torch

    if not str(device).startswith("cuda") or not torch.cuda.is_available():
        return ""
    dev = torch.device(device)
    index = dev.index if dev.index is not None else torch.cuda.current_device()
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return f"{torch.cuda.get_device_name(index)}, CUDA {torch.version.cuda}" + (f", cuDNN {cudnn}" if cudnn else "")


def identity(device: str = "cpu") -> dict[str, str]:
    """This process's compute identity for a trial run on ``device``."""
    return {**_cpu_identity(), "compute_gpu": _gpu_identity(device)}


def run_recorded(trial: Any) -> list[dict[str, Any]]:
    """``execution.run_trial`` (checkpointed, for a resumable method) with the compute identity of
    this process added to every row."""
    rows = run_checkpointed(trial)
    stamp = identity(rows[0].get("device") or trial.device)
    return [{**row, **stamp} for row in rows]
