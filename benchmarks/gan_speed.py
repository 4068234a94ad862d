"""Training and scoring throughput (images/second) of alocc and g2d on one MNIST digit.

Fits each method with its defaults (or --param overrides) on the digit's training images as the
`mnist` protocol serves them, then scores the 10,000 test images (for timing only; no metric is
computed). Prints wall and CPU seconds per phase and the load average, since wall time on a
shared machine depends on what else runs.

    PYTHONPATH=. python benchmarks/gan_speed.py --data-root DATA --digit 0 --threads 1
    PYTHONPATH=. python benchmarks/gan_speed.py --method alocc --param alocc.epochs=40

DATA: --data-root, else $NOVELBENCH_DATA_ROOT. ``PYTHONPATH=.`` from the repository root, so this
checkout's ``novelbench`` is imported.
"""

from __future__ import annotations

import argparse
import ast
import os
import time

import torch

import novelbench.methods.g2d as g2d_module
from novelbench.benchmark.datacache import load_dataset
from novelbench.benchmark.execution import to_float
from novelbench.benchmark.protocols.base import Setting
from novelbench.benchmark.seeding import pinned_threads, seed_everything
from novelbench.registry import PROTOCOLS, get_method


class Clock:
    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def line(phase: str, images: int, wall: float, cpu: float) -> str:
    return f"| {phase} | {images} | {wall:.1f} | {cpu:.1f} | {images / wall:.0f} | {images / cpu:.0f} |"


def run_alocc(params, train, test) -> list[str]:
    method = get_method("alocc", **params)
    clock = Clock()
    method.fit(train)
    wall, cpu = clock.read()
    seen = method.n_steps_ * min(method.batch_size, len(train))
    out = [line(f"alocc train ({method.n_steps_} steps x batch {method.batch_size}, R {method.r_steps}x per step)", seen, wall, cpu)]
    clock = Clock()
    method.score(test)
    out.append(line(f"alocc score ({method.score_mode})", len(test), *clock.read()))
    return out + [f"| alocc fit total | {len(train)} training images | {wall:.1f} | {cpu:.1f} | | |"]


def run_g2d(params, train, test) -> list[str]:
    method = get_method("g2d", **params)
    phases = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            clock = Clock()
            out = fn(*args, **kwargs)
            phases[name] = clock.read()
            return out
        return wrapper

    real_gan, real_train = g2d_module.G2D._train_gan, g2d_module.train_module
    g2d_module.G2D._train_gan = timed("gan", real_gan)
    g2d_module.train_module = timed("classifier", real_train)
    try:
        clock = Clock()
        method.fit(train)
        wall, cpu = clock.read()
    finally:
        g2d_module.G2D._train_gan, g2d_module.train_module = real_gan, real_train
    n_neg = method.n_negatives or len(train)
    gan_images = method.threshold_iter * method.critic_steps * min(method.gan_batch_size, len(train))
    clf_images = len(method.clf_loss_history_) * (len(train) + n_neg)
    out = [line(f"g2d WGAN-GP to T={method.threshold_iter} (critic images, {method.critic_steps} critic steps/iter)", gan_images, *phases["gan"]),
           line(f"g2d classifier ({len(method.clf_loss_history_)} epochs on {len(train)} + {n_neg} images)", clf_images, *phases["classifier"])]
    clock = Clock()
    method.score(test)
    out.append(line("g2d score", len(test), *clock.read()))
    return out + [f"| g2d fit total | {len(train)} training images | {wall:.1f} | {cpu:.1f} | | |"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-root", default=os.environ.get("NOVELBENCH_DATA_ROOT"), help="default: $NOVELBENCH_DATA_ROOT")
    ap.add_argument("--method", action="append", choices=["alocc", "g2d"], help="default: both")
    ap.add_argument("--digit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--param", action="append", default=[], help="METHOD.NAME=VALUE (python literal)")
    args = ap.parse_args()
    if not args.data_root:
        ap.error("give --data-root or set NOVELBENCH_DATA_ROOT")
    data = load_dataset("mnist", {"data_root": args.data_root, "download": False, "image_size": None})
    setting = Setting((data.splits["train"].class_names[args.digit],))
    train = to_float(PROTOCOLS.create("mnist").split(data, setting, args.seed).train.images)
    test = to_float(data.splits["test"].images)
    print(f"# {len(train)} training images of digit {args.digit}, {len(test)} scored; {args.threads} thread(s), "
          f"device {args.device}; load average at start {os.getloadavg()[0]:.2f} (of {os.cpu_count()} CPUs)")
    print("| phase | images | wall s | CPU s | images/s (wall) | images/s (CPU) |\n|---|---|---|---|---|---|")
    for name in args.method or ["alocc", "g2d"]:
        params = {"device": args.device}
        for spec in args.param:
            key, _, value = spec.partition("=")
            method, _, param = key.rpartition(".")
            if method == name:
                params[param] = ast.literal_eval(value)
        with pinned_threads(args.threads):
            seed_everything(args.seed)
            for row in (run_alocc if name == "alocc" else run_g2d)(params, train, test):
                print(row, flush=True)
    print(f"# load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
