"""Throughput of CRBND's phases on one MNIST digit (1 CPU thread by default).

    python benchmarks/crbnd_speed.py --data-root DATA --digit 0 --method crbnd

The data root is ``--data-root``, else $NOVELBENCH_DATA_ROOT (MNIST in torchvision layout).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch

from novelbench.registry import get_method
from novelbench.datasets.torchvision_sets import MNIST
from novelbench.methods.training import train_module


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-root", default=os.environ.get("NOVELBENCH_DATA_ROOT"), help="default: $NOVELBENCH_DATA_ROOT")
    ap.add_argument("--digit", type=int, default=0)
    ap.add_argument("--method", default="crbnd", help="crbnd or a preset of it (crbnd-plus)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--param", action="append", default=[], help="name=value (python literal)")
    args = ap.parse_args()
    if not args.data_root:
        sys.exit("error: give --data-root or set NOVELBENCH_DATA_ROOT (the folder holding MNIST/raw/)")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    import ast

    params = {k: ast.literal_eval(v) for k, v in (p.split("=", 1) for p in args.param)}
    d = MNIST(args.data_root).load()
    tr, te = d.splits["train"], d.splits["test"]
    x = tr.images[torch.from_numpy(tr.labels == args.digit)].float() / 255
    xt = te.images.float() / 255
    m = get_method(args.method, **params)
    print(f"{args.method} params: {m.get_params()}")
    n = len(x)

    # phase timings are taken by wrapping train_module / apply_batched calls made by fit()
    import novelbench.methods.crbnd as mod

    timings = []

    def timed_train(module, tensors, loss_fn, **kw):
        t = time.perf_counter()
        out = train_module(module, tensors, loss_fn, **kw)
        timings.append((type(module).__name__, kw["epochs"], time.perf_counter() - t))
        return out

    mod.train_module = timed_train
    t0 = time.perf_counter()
    m.fit(x)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    m.score(xt)
    t_score = time.perf_counter() - t0
    mod.train_module = train_module
    for name, ep, sec in timings:
        print(f"{name:16s} training: {ep} epochs, {sec:6.1f} s, {n * ep / sec:8.0f} images/s")
    print(f"fit total        : {t_fit:6.1f} s on {n} images")
    print(f"scoring          : {t_score:6.1f} s, {len(xt) / t_score:8.0f} images/s ({len(xt)} test images)")
    print(f"wall per trial   : {t_fit + t_score:6.1f} s")


if __name__ == "__main__":
    main()
