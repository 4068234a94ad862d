"""Validation-only tuning of crbnd / crbnd-plus on MNIST's TRAIN split (the test split is never read).

Per digit k: 20 % of k's train images are held out as validation inliers, the rest trains the
model; validation outliers are 2000 images of the other digits, also from the TRAIN split (the
same split for every configuration and seed: it depends on the digit only). Only MNIST's
training file is opened.

From one fit we report the AUROC of the method's own score and of its parts: the classifier
score (-logit), the reconstruction error of the same autoencoder, the z-scored sum of both
("combined", z statistics from the fit images), and that sum with the reconstruction term
down-weighted ("comb_w25", "comb_w50": 0.25 / 0.5 x its z-score; a diagnostic, not a switch of
crbnd), plus the AUROC of digit k against each outlier digit j alone, the seconds per fit (wall
and process CPU time: on a loaded machine the CPU time of a one-thread fit is the better guess of
its idle wall time) and the load average.

Several configurations run in one process (``--config``, repeatable; each a ``;``-separated
list of name=python-literal on top of ``--param``), so the data is read once. Configurations
that train the same autoencoder (same digit, seed, threads and autoencoder parameters) share it:
the first fit trains it and stores its weights and the torch random state after its training;
later fits load both, so their numbers are bit-identical to a fresh fit (``--check-cache``
verifies that) at a fraction of the time. ``--ae-cache DIR`` keeps them on disk across runs.

    python benchmarks/crbnd_tune.py --data-root DATA --method crbnd --digits 1 2 3 \\
        --config "" --config 'neg_target="input"' --config 'latent_dim=None' --csv tune.csv
    python benchmarks/crbnd_tune.py --method pyod-ae --digits 1 2 3   # pyod's dense AutoEncoder, 10 epochs

The data root is ``--data-root``, else $NOVELBENCH_DATA_ROOT (MNIST in torchvision layout).
"""

from __future__ import annotations

import argparse
import ast
import copy
import csv
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from novelbench.benchmark.seeding import pinned_threads, seed_everything
from novelbench.registry import get_method

#: parameters of crbnd that decide its autoencoder (and nothing else decides it)
AE_PARAMS = ("widths", "latent_dim", "blocks", "ae_epochs", "min_steps", "lr", "batch_size", "noise_sigma",
             "dropout_p", "mask_size", "charbonnier_eps", "dropout_per_channel", "device")
RECON_WEIGHTS = (0.25, 0.5)


def data_root(arg: str | None) -> Path:
    root = arg or os.environ.get("NOVELBENCH_DATA_ROOT")
    if not root:
        sys.exit("error: give --data-root or set NOVELBENCH_DATA_ROOT (the folder holding MNIST/raw/)")
    return Path(root)


def load_mnist_train(root: Path) -> tuple[torch.Tensor, np.ndarray]:
    """MNIST's training split only, (N, 1, 28, 28) uint8 and labels."""
    import torchvision.datasets

    ds = torchvision.datasets.MNIST(root=str(root), train=True, download=False)
    return ds.data.unsqueeze(1).contiguous(), ds.targets.numpy()


def validation_split(images, labels, digit, n_out, rng):
    idx_in = rng.permutation(np.flatnonzero(labels == digit))
    n_val = len(idx_in) // 5
    idx_out = rng.choice(np.flatnonzero(labels != digit), n_out, replace=False)
    fit = images[idx_in[n_val:]].float() / 255
    val = torch.cat([images[idx_in[:n_val]], images[idx_out]]).float() / 255
    y_out = np.r_[np.zeros(n_val), np.ones(n_out)]
    return fit, val, y_out, np.r_[np.full(n_val, digit), labels[idx_out]]


def parse_params(items) -> dict:
    out = {}
    for item in items:
        for part in filter(None, (p.strip() for p in item.split(";"))):
            name, value = part.split("=", 1)
            out[name.strip()] = ast.literal_eval(value.strip())
    return out


class AECache:
    """Reuses a trained autoencoder (and the random state after its training) between fits."""

    def __init__(self, folder: str | None):
        self.memory: dict[str, tuple] = {}
        self.folder = Path(folder) if folder else None
        self.key: str | None = None
        self.hit = False
        self.ae_seconds = self.ae_cpu = 0.0

    def set_key(self, method, digit: int, seed: int, threads: int, n_fit: int) -> None:
        params = method.get_params()
        ae = {k: params[k] for k in AE_PARAMS if k in params}
        raw = json.dumps([type(method).__qualname__, digit, seed, threads, n_fit, repr(sorted(ae.items()))])
        self.key = hashlib.sha1(raw.encode()).hexdigest()[:16]

    def _load(self):
        if self.key in self.memory:
            return self.memory[self.key]
        if self.folder and (self.folder / f"{self.key}.pt").exists():
            self.memory[self.key] = torch.load(self.folder / f"{self.key}.pt", weights_only=False)
            return self.memory[self.key]
        return None

    def wrap(self, real_train):
        from novelbench.methods.nets import ConvAutoencoder

        def train(module, tensors, loss_fn, **kw):
            if not isinstance(module, ConvAutoencoder) or self.key is None:
                return real_train(module, tensors, loss_fn, **kw)
            cached = self._load()
            if cached is not None:
                state, history, rng, seconds, cpu = cached
                module.load_state_dict(state)
                module.to(kw["device"]).eval()
                torch.set_rng_state(rng)
                self.hit, self.ae_seconds, self.ae_cpu = True, seconds, cpu
                return list(history)
            t, c = time.perf_counter(), time.process_time()
            history = real_train(module, tensors, loss_fn, **kw)
            seconds, cpu = time.perf_counter() - t, time.process_time() - c
            entry = (copy.deepcopy(module.state_dict()), list(history), torch.get_rng_state(), seconds, cpu)
            self.memory[self.key] = entry
            if self.folder:
                self.folder.mkdir(parents=True, exist_ok=True)
                torch.save(entry, self.folder / f"{self.key}.pt")
            self.hit, self.ae_seconds, self.ae_cpu = False, seconds, cpu
            return history

        return train


def auroc(y, s) -> float:
    return float(roc_auc_score(y, s)) if np.isfinite(s).all() else float("nan")


def fit_crbnd(name, params, fit, val, cache: AECache, digit, seed, threads):
    m = get_method(name, **params)
    cache.set_key(m, digit, seed, threads, len(fit))
    with pinned_threads(threads):
        seed_everything(seed)
        t, c = time.perf_counter(), time.process_time()
        m.fit(fit)
        fit_s, fit_cpu = time.perf_counter() - t, time.process_time() - c
        t = time.perf_counter()
        logit_t, err_t = m._forward(val)  # one pass of A and C, as score_and_predict does
        score = m._score_from(logit_t, err_t)
        score_s = time.perf_counter() - t
        logit, err = logit_t.numpy(), err_t.numpy()
        parts = {"score": score, "classifier": -logit, "recon": err}
        if hasattr(m, "clf_"):
            if hasattr(m, "z_stats_"):
                rm, rs, cm, cs = m.z_stats_
            else:  # diagnostic only: z statistics from up to 1024 fit images
                fl, fe = (v.numpy() for v in m._forward(fit[:1024]))
                r, c = np.log(fe + 1e-12), -fl
                rm, rs, cm, cs = r.mean(), r.std() + 1e-12, c.mean(), c.std() + 1e-12
            zr, zc = (np.log(err + 1e-12) - rm) / rs, (-logit - cm) / cs
            parts["combined"] = zr + zc
            for w in RECON_WEIGHTS:
                parts[f"comb_w{int(w * 100)}"] = w * zr + zc
    ae_s, ae_cpu = (cache.ae_seconds, cache.ae_cpu) if cache.hit else (0.0, 0.0)  # a cached AE's training time is added back
    return parts, (fit_s + ae_s, fit_cpu + ae_cpu), score_s, cache.hit


def fit_pyod_ae(params, fit, val, seed, threads):
    from pyod.models.auto_encoder import AutoEncoder

    kw = {"epoch_num": 10, "verbose": 0, "device": "cpu", "random_state": seed, **params}
    with pinned_threads(threads):
        seed_everything(seed)
        m = AutoEncoder(**kw)
        t, c = time.perf_counter(), time.process_time()
        m.fit(fit.flatten(1).numpy())
        fit_s = (time.perf_counter() - t, time.process_time() - c)
        t = time.perf_counter()
        score = m.decision_function(val.flatten(1).numpy())
        score_s = time.perf_counter() - t
    return {"score": score}, fit_s, score_s, False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", default=None, help="folder holding MNIST/raw (default: $NOVELBENCH_DATA_ROOT)")
    ap.add_argument("--method", default="crbnd", help="crbnd, crbnd-plus (or another registered preset of CRBND), pyod-ae")
    ap.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--n-outliers", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--param", action="append", default=[], help="name=value (python literal), for every config")
    ap.add_argument("--config", action="append", default=None, help="'a=1;b=\"x\"' on top of --param; repeatable")
    ap.add_argument("--tag", default="")
    ap.add_argument("--csv", default=None, help="append one row per fit to this CSV")
    ap.add_argument("--ae-cache", default=None, help="folder to keep trained autoencoders in across runs")
    ap.add_argument("--no-ae-cache", action="store_true", help="train every autoencoder from scratch")
    ap.add_argument("--check-cache", action="store_true", help="fit the first config twice (fresh, cached); assert equal")
    ap.add_argument("--pairs", action="store_true", help="print the per-outlier-digit table")
    args = ap.parse_args()

    base = parse_params(args.param)
    configs = [parse_params([c]) for c in (args.config or [""])]
    images, labels = load_mnist_train(data_root(args.data_root))  # validation uses the train split only
    cache = AECache(args.ae_cache)
    if not args.no_ae_cache:
        import novelbench.methods.crbnd as crbnd_module

        crbnd_module.train_module = cache.wrap(crbnd_module.train_module)

    writer = None
    if args.csv:
        new = not Path(args.csv).exists()
        fh = open(args.csv, "a", newline="")
        writer = csv.writer(fh)
        if new:
            writer.writerow(["tag", "method", "params", "digit", "seed", "part", "auroc", "per_outlier", "fit_s", "fit_cpu_s", "score_s",
                             "ae_cached", "load1", "threads"])

    summary: dict[tuple, list] = {}
    pair_lines = []
    for ci, extra in enumerate(configs):
        params = {**base, **extra}
        label = ";".join(f"{k}={v!r}" for k, v in extra.items()) or "(base)"
        print(f"\n## {args.tag} method={args.method} base={base} config={label}", flush=True)
        print("| digit | seed | score | classifier | recon | combined | comb_w25 | comb_w50 | fit s | fit cpu s | val score s | AE cached | load |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
        for seed in args.seeds:
            for k in args.digits:
                rng = np.random.default_rng(1000 + k)  # the same validation split for every config and seed
                fit, val, y, lab = validation_split(images, labels, k, args.n_outliers, rng)
                load = os.getloadavg()[0]
                if args.method == "pyod-ae":
                    parts, fit_s, score_s, hit = fit_pyod_ae(params, fit, val, seed, args.threads)
                else:
                    parts, fit_s, score_s, hit = fit_crbnd(args.method, params, fit, val, cache, k, seed, args.threads)
                    if args.check_cache and ci == 0 and not args.no_ae_cache:
                        again, *_ = fit_crbnd(args.method, params, fit, val, cache, k, seed, args.threads)
                        assert np.array_equal(again["score"], parts["score"]), "cached autoencoder changed the scores"
                        print(f"(cache check, digit {k} seed {seed}: bit-identical scores)")
                aurocs = {p: auroc(y, s) for p, s in parts.items()}
                per_out = {}
                for p, s in parts.items():
                    if not np.isfinite(s).all():
                        continue
                    per_out[p] = {int(j): round(auroc(y[(lab == k) | (lab == j)], s[(lab == k) | (lab == j)]), 4)
                                  for j in sorted(set(lab.tolist()) - {k})}
                summary.setdefault((ci, label), []).append((k, seed, aurocs, fit_s))
                cells = " | ".join(f"{aurocs.get(p, float('nan')):.4f}" for p in ("score", "classifier", "recon", "combined", "comb_w25", "comb_w50"))
                print(f"| {k} | {seed} | {cells} | {fit_s[0]:.0f} | {fit_s[1]:.0f} | {score_s:.1f} | {'yes' if hit else 'no'} | {load:.1f} |", flush=True)
                pair_lines.append(f"| {label} | {k} | {seed} | " + " ".join(
                    f"{j}:{per_out['score'][j]:.2f}" + (f"/{per_out['classifier'][j]:.2f}/{per_out['recon'][j]:.2f}" if "classifier" in per_out else "")
                    for j in per_out["score"]) + " |")
                if writer:
                    for p, a in aurocs.items():
                        writer.writerow([args.tag, args.method, json.dumps({**params}, default=repr), k, seed, p, f"{a:.5f}",
                                         json.dumps(per_out.get(p, {})), f"{fit_s[0]:.1f}", f"{fit_s[1]:.1f}", f"{score_s:.2f}", hit, f"{load:.2f}", args.threads])
                    fh.flush()

    print(f"\n## summary (mean over digits {args.digits} and seeds {args.seeds}; method's own score, then parts)")
    print("| config | score | classifier | recon | combined | comb_w25 | comb_w50 | fit s (mean) | fit cpu s (mean) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (ci, label), rows in summary.items():
        means = [np.nanmean([r[2].get(p, np.nan) for r in rows]) for p in ("score", "classifier", "recon", "combined", "comb_w25", "comb_w50")]
        print(f"| {label} | " + " | ".join(f"{v:.4f}" for v in means) + f" | {np.mean([r[3][0] for r in rows]):.0f} | {np.mean([r[3][1] for r in rows]):.0f} |")
    if args.pairs:
        print("\nPer outlier digit j, AUROC of inlier k vs j only (score/classifier/recon):")
        print("| config | digit | seed | pairs |\n|---|---|---|---|")
        print("\n".join(pair_lines))


if __name__ == "__main__":
    main()
