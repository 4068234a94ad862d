"""Do a method's per-digit MNIST AUROCs follow a low-level image statistic?

A detector that learned "inliers vs some synthetic negatives" may have learned a cue as simple as
the amount of ink. This script scores MNIST's test split with two training-free statistics, per
digit one-vs-rest (outliers positive, the `pool` mix of the `mnist` protocol):
- ``ink``: mean pixel intensity (more ink = more novel);
- ``edges``: mean absolute horizontal + vertical pixel difference (more edge energy = more novel);
and correlates, across the 10 digits, each run table's per-digit mean AUROC with them (Pearson
and Spearman, with their p-values: 10 digits, so only strong correlations reach significance).
With ``--fit METHOD --digits ...`` it also takes the method's `mnist` trial on each digit (fitted
by the harness on one CPU thread, or reused from ``--models``, a `bench run --keep-models` folder)
and reports, on the test pool, the Spearman correlation of its scores with each statistic, over
the whole pool and within inliers and outliers separately.

    python benchmarks/low_level_cues.py --data-root DATA results/reference/runs/mnist-*.csv
    python benchmarks/low_level_cues.py --data-root DATA --fit g2d --digits 0 1 8

``--save DIR`` writes DIR/cues-mnist.csv (the statistics' per-digit AUROCs) and, with --fit,
DIR/cues-fit-METHOD.csv, which results/reference/baselines.toml shows (csv blocks); cues-mnist.csv
also names each digit as run tables do (`positives`), so a page verdict row can correlate with it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import roc_auc_score

from novelbench.benchmark.datacache import load_dataset
from novelbench.benchmark.execution import to_float
from novelbench.benchmark.plan import plan_trials
from novelbench.benchmark.report import render
from novelbench.benchmark.samples import fitted_model
from novelbench.benchmark.seeding import pinned_threads
from novelbench.registry import PROTOCOLS


def cue_scores(images: np.ndarray) -> dict[str, np.ndarray]:
    x = images.astype(np.float64) / 255.0
    edges = np.abs(np.diff(x, axis=-1)).mean(axis=(1, 2, 3)) + np.abs(np.diff(x, axis=-2)).mean(axis=(1, 2, 3))
    return {"ink": x.mean(axis=(1, 2, 3)), "edges": edges}


def cue_aurocs(data_root: str) -> pd.DataFrame:
    data = load_dataset("mnist", {"data_root": data_root, "download": False, "image_size": None})
    test = data.splits["test"]
    scores = cue_scores(test.images.numpy())
    rows = []
    for digit in range(10):
        is_outlier = test.labels != digit
        rows.append({"digit": digit, "positives": test.class_names[digit],
                     **{f"{k}_auroc": roc_auc_score(is_outlier, v) for k, v in scores.items()}})
    return pd.DataFrame(rows).set_index("digit")


def fitted_correlations(data_root: str, method: str, digits: list[int], seed: int, models: Path | None) -> pd.DataFrame:
    """The `mnist` trial of ``method`` on each digit (one CPU thread), fitted by the harness or
    reused from ``models`` (a `bench run --keep-models` folder); its test-pool scores against the cues."""
    dataset_params = {"data_root": data_root, "download": False, "image_size": None}
    trials, _ = plan_trials([method], [], "mnist", {"classes": ",".join(map(str, digits))}, "mnist", dataset_params, [seed], "cpu", 1)
    data = load_dataset("mnist", dataset_params)
    names = data.splits["test"].class_names  # positive-set name -> its label
    rows = []
    for trial in trials:
        model, _ = fitted_model(trial, models)
        pool = PROTOCOLS.create(trial.protocol, **trial.protocol_params).split(data, trial.setting, trial.seed).test
        with pinned_threads(trial.threads):
            scores = np.asarray(model.score(to_float(pool.images.images)))
        outlier = pool.is_outlier
        row = {"method": method, "digit": names.index(trial.setting.positives[0]), "seed": seed, "AUROC": roc_auc_score(outlier, scores)}
        for cue, values in cue_scores(pool.images.images.numpy()).items():
            row[f"{cue} AUROC"] = roc_auc_score(outlier, values)
            row[f"rho(score, {cue}) pool"] = spearmanr(scores, values)[0]
            row[f"rho(score, {cue}) inliers"] = spearmanr(scores[~outlier], values[~outlier])[0]
            row[f"rho(score, {cue}) outliers"] = spearmanr(scores[outlier], values[outlier])[0]
        rows.append(row)
        print(render(pd.DataFrame([row]).round(3), "markdown"), flush=True)
    return pd.DataFrame(rows)


def method_aurocs(paths: list[str], class_names: list[str]) -> pd.DataFrame:
    """Per digit mean pool AUROC of every method setting in the given run tables (their
    ``positives`` are the dataset's ``class_names``)."""
    label = {name: i for i, name in enumerate(class_names)}
    frames = []
    for path in paths:
        table = pd.read_csv(path)
        table = table[(table["mix"] == "pool") & (table["status"] == "ok")]
        unknown = sorted(set(table["positives"]) - set(label))
        if unknown:
            raise SystemExit(f"{path}: positive sets {unknown} are not single MNIST digits")
        table = table.assign(digit=table["positives"].map(label))
        frames.append(table.groupby(["method", "digit"])["auroc"].mean().unstack("method"))
    return pd.concat(frames, axis=1).T.groupby(level=0).first().T  # one column per method setting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help="run tables (results.csv) of the mnist protocol")
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--fit", metavar="METHOD", help="also train METHOD (defaults) on --digits and correlate its scores")
    parser.add_argument("--digits", type=int, nargs="+", default=[0, 1, 8])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", type=Path, help="a `bench run --keep-models` folder to reuse (and keep) the fitted models")
    parser.add_argument("--save", type=Path, metavar="DIR", help="write cues-mnist.csv (and cues-fit-METHOD.csv) here")
    args = parser.parse_args()
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)  # before the fits: a missing folder must not cost their minutes
    if args.fit:
        table = fitted_correlations(args.data_root, args.fit, args.digits, args.seed, args.models)
        print("\nScores of a trained model against the cues (Spearman rho on the test pool):\n")
        print(render(table.round(3), "markdown"))
        if args.save:
            table.to_csv(args.save / f"cues-fit-{args.fit.replace(':', '-')}.csv", index=False)
    cues = cue_aurocs(args.data_root)
    if args.save:
        cues.to_csv(args.save / "cues-mnist.csv")
    if not args.runs:
        return
    methods = method_aurocs(args.runs, list(cues["positives"]))
    print("Per-digit one-vs-rest AUROC (mnist test split, pool mix):\n")
    cues = cues.drop(columns="positives")
    print(render(pd.concat([cues, methods], axis=1).round(3).reset_index(), "markdown"))
    print("\nAcross the 10 digits, correlation of each method's per-digit AUROC with each cue's:\n")
    rows = []
    for method in methods.columns:
        aurocs = methods[method].dropna()
        if len(aurocs) < 5:
            continue
        row = {"method": method, "digits": len(aurocs)}
        for cue in cues.columns:
            pair = cues.loc[aurocs.index, cue]
            r, p = pearsonr(aurocs, pair)
            rho, p_rho = spearmanr(aurocs, pair)
            row[f"{cue}: Pearson r (p)"] = f"{r:+.2f} ({p:.2g})"
            row[f"{cue}: Spearman rho (p)"] = f"{rho:+.2f} ({p_rho:.2g})"
        rows.append(row)
    print(render(pd.DataFrame(rows), "markdown"))


if __name__ == "__main__":
    main()
