"""Seeds and CPU threads: what must be fixed for a trial to give the same numbers anywhere.

CPU results of torch (and of BLAS) depend on the number of threads a reduction is split over,
so every trial computes with a fixed thread count, whichever executor runs it (in-process,
local processes, a cluster); the count is part of the trial's identity.
"""

from __future__ import annotations

import contextlib
import random
from typing import Iterator

import numpy as np
import torch
from threadpoolctl import threadpool_limits


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextlib.contextmanager
def pinned_threads(threads: int) -> Iterator[None]:
    """torch intra-op threads and BLAS/OpenMP pools limited to ``threads`` for the block."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(before)
