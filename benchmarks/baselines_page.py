"""Print results/reference/baselines.md (issues 8 and 9: ALOCC, G2D, Deep SVDD, GEOM, pyod) from run tables.

    python benchmarks/baselines_page.py RUNS [--collect RESULTS] [--gan-speed FILE] > results/reference/baselines.md

RUNS is the folder of committed run tables (results/reference/runs). With ``--collect RESULTS``
each run folder RESULTS/ref-NAME (RESULTS/speed-mnist-cpu1 for the speed run) that has a
results.csv is first copied to RUNS/NAME.csv; ``--gan-speed FILE`` copies the output of
benchmarks/gan_speed.py to RUNS/gan-speed.txt. Then the page is printed from RUNS alone, so it
can be regenerated from the committed files as more runs finish: a run table that is not there
yet is reported as "pending", never guessed.

Every measured number comes from a run table written by `bench run` (the means, verdicts and
paired tests are computed here with novelbench.benchmark.report / compare, the code of
`bench table` / `bench compare`); published numbers come from novelbench's published.csv, except
Ruff et al.'s per-digit Deep SVDD numbers, which are quoted below (RUFF_ONE_CLASS) with their
source.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from novelbench.benchmark import compare, published, report
from novelbench.benchmark.store import read_results
from novelbench.errors import NovelbenchError

CPU_HERE = "this 2-core CPU machine, two trials at a time with one thread each (`--jobs 2 --threads 1`, or two `--jobs 1` runs side by side), shared with other runs"
GPU_LENT = "lent H200, ~25 `bench run` processes side by side, `--threads 1`"
CPU_LENT = "lent GPU machine's CPU (16 cores), ~25 processes side by side, `--threads 1`"


@dataclass
class Run:
    name: str  # RUNS/<name>.csv
    source: str  # RESULTS/<source>/results.csv
    machine: str
    what: str


RUNS = [
    Run("mnist-ocsvm", "ref-mnist-ocsvm", CPU_HERE, "ocsvm, defaults"),
    Run("mnist-ae", "ref-mnist-ae", CPU_HERE, "ae, defaults"),
    Run("mnist-crbnd", "ref-mnist-crbnd", CPU_HERE, "crbnd, defaults"),
    Run("mnist-crbnd-plus-cuda", "ref-mnist-crbnd-plus-cuda", GPU_LENT, "crbnd-plus, defaults"),
    Run("mnist-alocc", "ref-mnist-alocc", GPU_LENT, "alocc, score_mode dr and d, defaults (1 epoch)"),
    Run("mnist-g2d", "ref-mnist-g2d", GPU_LENT, "g2d, defaults"),
    Run("mnist-deep-svdd", "ref-mnist-deep-svdd", GPU_LENT, "deep-svdd, defaults (25 + 25 epochs)"),
    Run("mnist-deep-svdd-paper", "ref-mnist-deep-svdd-paper", GPU_LENT + "; the digits the GPU did not finish on " + CPU_HERE,
        "deep-svdd-paper (150 + 150 epochs)"),
    Run("mnist-geom", "ref-mnist-geom", GPU_LENT, "geom, defaults"),
    Run("mnist-geom-large", "ref-mnist-geom-large", GPU_LENT, "geom, widths (32,64,128), blocks 1, epochs 3"),
    Run("mnist-pyod", "ref-mnist-pyod", CPU_LENT, "pyod:KNN, pyod:IForest, pyod:ECOD, defaults"),
    Run("mnist-alocc40", "ref-mnist-alocc40", GPU_LENT, "alocc, epochs 40 (the authors' schedule), score dr"),
    Run("mnistT-alocc40", "ref-mnistT-alocc40", GPU_LENT, "alocc, epochs 40, score dr and d, mnist-transductive"),
    Run("mnist-alocc40-cpu", "ref-mnist-alocc40-cpu", CPU_HERE, "alocc, epochs 1 (default) and 40, score dr, the same trial on one device"),
]
CALTECH_METHODS = ["ocsvm", "ae", "crbnd", "crbnd-plus", "alocc", "g2d"]
#: run-table name prefixes of the two Caltech-101 setups; the method name follows
CALTECH_SPLIT, CALTECH_TRANSDUCTIVE = "caltech101-", "caltech101-transductive-"
for _m in CALTECH_METHODS:
    RUNS.append(Run(f"{CALTECH_SPLIT}{_m}", f"ref-caltech-{_m}", CPU_HERE, f"{_m}, caltech101, train/test split"))
for _m in CALTECH_METHODS:
    RUNS.append(Run(f"{CALTECH_TRANSDUCTIVE}{_m}", f"ref-caltech-transductive-{_m}", CPU_HERE,
                    f"{_m}, caltech101, `--transductive` (ALOCC's setup)"))
SPEED = Run("speed-mnist-cpu1", "speed-mnist-cpu1", "this 2-core CPU machine, `--jobs 2 --threads 1`",
            "alocc, g2d, deep-svdd, geom, crbnd-plus, crbnd: defaults, digit 0, seed 0")
RUNS.append(SPEED)

#: full MNIST runs (10 digits x 3 seeds) in the order of the tables
MNIST_MAIN = ["mnist-crbnd-plus-cuda", "mnist-crbnd", "mnist-alocc", "mnist-g2d", "mnist-deep-svdd", "mnist-geom",
              "mnist-pyod", "mnist-ocsvm", "mnist-ae"]
#: runs on some digits or one seed only
MNIST_PARTIAL = ["mnist-deep-svdd-paper", "mnist-geom-large", "mnist-alocc40"]

PLUS = "crbnd-plus"
ALOCC_DR, ALOCC_D = "alocc[score_mode=dr]", "alocc[score_mode=d]"
ALOCC40_DR = "alocc[epochs=40,score_mode=dr]"
ALOCC40_D = "alocc[epochs=40,score_mode=d]"
GEOM_LARGE = "geom[widths=(32,64,128),blocks=1,epochs=3]"
PCTS = [10, 20, 30, 40, 50]
POLICIES = ["quantile", "validation", "oracle"]
F1_TOLERANCE = 0.03
AUROC_TOLERANCE = 0.02

#: Ruff et al. (ICML 2018), Table 1, One-Class Deep SVDD on MNIST, AUROC % per digit (mean of 10
#: seeds); their mean is the 94.8 of published.csv. Quoted from the earlier notes (a reading of the
#: paper, not re-checked against the PDF here).
RUFF_ONE_CLASS = {0: 98.0, 1: 99.7, 2: 91.7, 3: 91.9, 4: 94.9, 5: 88.5, 6: 98.3, 7: 94.6, 8: 93.9, 9: 96.5}

COMMANDS = """\
CPU runs (this machine; code of commit 8372652, whose method code is identical to main's):

    python -m novelbench run --data-root ../shared/data --jobs 2 --threads 1 --device cpu --method ocsvm --protocol mnist --seeds 0,1,2 --out results/ref-mnist-ocsvm
    python -m novelbench run --data-root ../shared/data --jobs 2 --threads 1 --device cpu --method ae --protocol mnist --seeds 0,1,2 --out results/ref-mnist-ae
    python -m novelbench run --data-root ../shared/data --jobs 2 --threads 1 --device cpu --method crbnd --protocol mnist --seeds 0,1,2 --keep-models --out results/ref-mnist-crbnd
    python -m novelbench run --data-root ../shared/data --jobs 2 --threads 1 --device cpu --method ocsvm --protocol caltech --dataset caltech101 --repeats 8 --out results/ref-caltech-ocsvm
    python -m novelbench run --data-root ../shared/data --jobs 2 --threads 1 --device cpu --method ocsvm --protocol caltech --dataset caltech101 --repeats 8 --transductive --out results/ref-caltech-transductive-ocsvm

Third session (this machine, code of main; two `--jobs 1 --threads 1` runs side by side, which gives
the same trials as `--jobs 2`): ALOCC 1 vs 40 epochs on digit 3, the low-level cue check, and the
Caltech-101 runs in the loop below as far as they got (`benchmarks/reference_runs.sh` lists them):

    python -m novelbench run --data-root ../shared/data --jobs 1 --threads 1 --device cpu -m alocc -p alocc.epochs=1,40 --classes 3 --out results/ref-mnist-alocc40-cpu
    PYTHONPATH=. python benchmarks/low_level_cues.py --data-root ../shared/data --save results/reference/runs --fit g2d --digits 0 1 8

Fourth session: the rest of that loop's Caltech-101 runs, as two `--jobs 1` runs side by side; the
transductive `crbnd-plus` and `g2d` runs grew one draw at a time (`--repeats 1`, `2`, `3`: the same
trials, since `--repeats` only selects draws) and stopped at 3 of 5. The fifth session finished
them the same way (`--repeats 4`, then `5`, one lane per method; the existing trials were reused):

    python -m novelbench run --data-root ../shared/data --jobs 1 --threads 1 --device cpu -m crbnd-plus --protocol caltech --dataset caltech101 --transductive --repeats 5 --out results/ref-caltech-transductive-crbnd-plus
    python -m novelbench run --data-root ../shared/data --jobs 1 --threads 1 --device cpu -m g2d --protocol caltech --dataset caltech101 --transductive --repeats 5 --out results/ref-caltech-transductive-g2d

CPU queue of Caltech-101 runs and the speed measurement (this machine, code of main):

    python -m novelbench run --data-root ../shared/data --threads 1 --device cpu --jobs 2 -m alocc -m g2d -m deep-svdd -m geom -m crbnd-plus -m crbnd --classes 0 --out results/speed-mnist-cpu1
    PYTHONPATH=. python benchmarks/gan_speed.py --data-root ../shared/data --digit 0 --threads 1 > gan_speed.txt
    for m in crbnd crbnd-plus alocc g2d ae; do
      python -m novelbench run --data-root ../shared/data --threads 1 --device cpu --jobs 2 -m $m --protocol caltech --dataset caltech101 --repeats 5 --out results/ref-caltech-$m
    done
    for m in alocc crbnd crbnd-plus g2d ae; do
      python -m novelbench run --data-root ../shared/data --threads 1 --device cpu --jobs 2 -m $m --protocol caltech --dataset caltech101 --repeats 5 --transductive --out results/ref-caltech-transductive-$m
    done

(`results/ref-caltech-ae` also holds the trials an earlier CPU queue finished there with `--repeats 8`,
code of commit 8372652, before it was stopped; a run folder's table holds every trial in it.)

GPU runs (a lent H200 machine; torch 2.11.0+cu130; `--device cuda`: bf16 autocast training, fp32
scores; pyod on that machine's CPU). The script starts every run of issues 8, 9 and 12 side by side
(one trial at a time each, one CPU thread each), stops each after BUDGET seconds; it was run once
and then resumed once, split by seed. DEV is the device output folder, fetched here:

    DATA_ROOT=../shared/data OUT_ROOT=DEV BUDGET=450 bash benchmarks/device_reference.sh   # then resumed with BUDGET=285, split by seed

merged into one run folder each (nothing recomputed):

    python benchmarks/collect_runs.py results/ref-mnist-alocc DEV/mnist-alocc-s0 DEV/mnist-alocc-s1 DEV/mnist-alocc-s2
    python benchmarks/collect_runs.py results/ref-mnist-g2d DEV/mnist-g2d-s0 DEV/mnist-g2d-s1 DEV/mnist-g2d-s2
    python benchmarks/collect_runs.py results/ref-mnist-deep-svdd DEV/mnist-deep-svdd
    python benchmarks/collect_runs.py results/ref-mnist-deep-svdd-paper DEV/mnist-deep-svdd-paper-a DEV/mnist-deep-svdd-paper-b
    # the digits the GPU did not finish, on this CPU, then merged into the same folder:
    python -m novelbench run --data-root ../shared/data --jobs 2 --threads 1 --device cpu -m deep-svdd-paper --classes 3,4,7,9 --seeds 0 --out results/ref-mnist-deep-svdd-paper-cpu
    python benchmarks/collect_runs.py results/ref-mnist-deep-svdd-paper results/ref-mnist-deep-svdd-paper-cpu
    python benchmarks/collect_runs.py results/ref-mnist-geom DEV/mnist-geom-s0 DEV/mnist-geom-s1 DEV/mnist-geom-s2
    python benchmarks/collect_runs.py results/ref-mnist-geom-large DEV/mnist-geom-large-a DEV/mnist-geom-large-b
    python benchmarks/collect_runs.py results/ref-mnist-pyod DEV/mnist-pyod-knn-iforest DEV/mnist-pyod-ecod
    python benchmarks/collect_runs.py results/ref-mnist-crbnd-plus-cuda DEV/mnist-crbnd-plus
    python benchmarks/collect_runs.py results/ref-mnist-alocc40 DEV/mnist-alocc40
    python benchmarks/collect_runs.py results/ref-mnistT-alocc40 DEV/mnistT-alocc40-dr DEV/mnistT-alocc40-d

This page, its run tables, Table 1 and Figure 3 (`R=results/reference/runs`):

    python benchmarks/baselines_page.py results/reference/runs --collect results --gan-speed gan_speed.txt > results/reference/baselines.md
    R=results/reference/runs
    python -m novelbench table $R/mnist-crbnd-plus-cuda.csv $R/mnist-crbnd.csv $R/mnist-alocc.csv $R/mnist-g2d.csv $R/mnist-deep-svdd.csv $R/mnist-geom.csv $R/mnist-pyod.csv $R/mnist-ocsvm.csv $R/mnist-ae.csv $R/mnist-deep-svdd-paper.csv $R/mnist-geom-large.csv $R/mnist-alocc40.csv --out results/reference/table1-mnist.md
    python -m novelbench figure $R/mnist-crbnd-plus-cuda.csv $R/mnist-crbnd.csv $R/mnist-alocc.csv $R/mnist-g2d.csv $R/mnist-deep-svdd.csv $R/mnist-geom.csv $R/mnist-pyod.csv $R/mnist-ocsvm.csv $R/mnist-ae.csv --out results/reference/figure3-mnist
    python -m novelbench compare $R/mnist-crbnd-plus-cuda.csv $R/mnist-crbnd.csv $R/mnist-alocc.csv $R/mnist-g2d.csv $R/mnist-deep-svdd.csv $R/mnist-geom.csv $R/mnist-pyod.csv $R/mnist-ocsvm.csv $R/mnist-ae.csv --figure results/reference/cd-mnist
    python -m novelbench table $R/caltech101-{ocsvm,ae,crbnd,crbnd-plus,alocc,g2d}.csv --out results/reference/table1-caltech101.md   # the split runs (Table 1's six methods)
    python -m novelbench table $R/caltech101-transductive-*.csv --out results/reference/table1-caltech101-transductive.md
"""


# ---------------------------------------------------------------------------------------------
# loading


def collect(runs_dir: Path, results: Path, gan_speed: Path | None) -> list[str]:
    """Copy RESULTS/<source>/results.csv to RUNS/<name>.csv for every run that has one."""
    copied = []
    runs_dir.mkdir(parents=True, exist_ok=True)
    for run in RUNS:
        src = results / run.source / "results.csv"
        if src.exists():
            shutil.copyfile(src, runs_dir / f"{run.name}.csv")
            copied.append(run.name)
    if gan_speed is not None and gan_speed.exists() and gan_speed.stat().st_size:
        shutil.copyfile(gan_speed, runs_dir / "gan-speed.txt")
        copied.append("gan-speed.txt")
    return copied


def load_runs(runs_dir: Path) -> dict[str, pd.DataFrame]:
    tables = {}
    for run in RUNS:
        path = runs_dir / f"{run.name}.csv"
        if path.exists():
            tables[run.name] = read_results(path)
    return tables


def ok(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["status"] == "ok"]


def p50_rows(table: pd.DataFrame) -> pd.DataFrame:
    """One row per finished trial: its 50 % outlier mix (Caltech-101's Table 1 mix)."""
    done = ok(table)
    return done[done["mix"] == "p50"].drop_duplicates("trial_id")


def cat(tables: dict[str, pd.DataFrame], names: list[str]) -> pd.DataFrame | None:
    parts = [tables[n] for n in names if n in tables]
    return pd.concat(parts, ignore_index=True) if parts else None


def digit(label: str) -> int:
    return int(str(label).split(" ")[0])


# ---------------------------------------------------------------------------------------------
# formatting


def md(frame: pd.DataFrame, notes: list[str] | tuple[str, ...] = ()) -> str:
    return report.render(frame, "markdown", notes)


def f3(v: float) -> str:
    return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"


def pts(v: float) -> str:
    """A fraction as AUROC points (94.8)."""
    return "-" if v is None or np.isnan(v) else f"{100 * v:.1f}"


def yes_no(flag: bool) -> str:
    return "**met**" if flag else "**not met**"


def digits_text(rows: pd.DataFrame) -> str:
    ds = sorted({digit(p) for p in rows["positives"]})
    seeds = sorted(rows["seed"].unique())
    dtext = "0-9" if ds == list(range(10)) else ",".join(map(str, ds))
    return f"{dtext} x seed{'s' if len(seeds) > 1 else ''} {','.join(map(str, seeds))}"


# ---------------------------------------------------------------------------------------------
# summaries


def method_rows(table: pd.DataFrame, method: str) -> pd.DataFrame:
    return ok(table)[ok(table)["method"] == method]


def pool_auroc(table: pd.DataFrame, method: str, mix: str = "pool") -> pd.Series:
    """AUROC per (digit, seed) on one mix."""
    r = method_rows(table, method)
    r = r[r["mix"] == mix]
    return r.set_index([r["positives"].map(digit).rename("digit"), "seed"])["auroc"].sort_index()


def f1_means(table: pd.DataFrame, method: str, policy: str) -> dict[int, float]:
    r = method_rows(table, method)
    r = r[r["mix"] != "pool"]
    return {int(p): float(r.loc[r["outlier_pct"] == p, f"f1_{policy}"].mean()) for p in PCTS}


def cost(table: pd.DataFrame, method: str) -> float:
    r = method_rows(table, method).drop_duplicates("trial_id")
    return float((r["fit_seconds"] + r["score_seconds"]).mean())


def device_of(table: pd.DataFrame, method: str) -> str:
    r = method_rows(table, method)
    pairs = sorted({f"{d} ({p})" for d, p in zip(r["device"], r["precision"])})
    return ", ".join(pairs)


def published_mnist(method: str, metric: str = "f1") -> dict[str, float]:
    t = published.table()
    t = t[(t["method"] == method) & (t["dataset"] == "mnist") & (t["protocol"] == "mnist") & (t["metric"] == metric)]
    return dict(zip(t["setting"], t["value"].astype(float)))


# ---------------------------------------------------------------------------------------------
# sections


def runs_section(tables: dict[str, pd.DataFrame], runs_dir: Path) -> str:
    rows = []
    for run in RUNS:
        t = tables.get(run.name)
        if t is None:
            rows.append({"run table": f"`{run.name}.csv`", "from": f"`results/{run.source}`", "what": run.what,
                         "trials (ok / failed)": "**pending**", "positive sets x seeds": "-", "device": "-", "where": run.machine})
            continue
        trials = t.drop_duplicates("trial_id")
        n_ok, n_failed = int((trials["status"] == "ok").sum()), int((trials["status"] != "ok").sum())
        if t["protocol"].iloc[0].startswith("mnist"):
            cover = digits_text(ok(t))
        else:
            cover = f"{ok(t).groupby('group')['repeat'].nunique().to_dict()} repeats, seed {','.join(map(str, sorted(t['seed'].unique())))}"
        devices = ", ".join(sorted({f"{d} ({p})" for d, p in zip(trials["device"], trials["precision"])}))
        rows.append({"run table": f"`{run.name}.csv`", "from": f"`results/{run.source}`", "what": run.what,
                     "trials (ok / failed)": f"{n_ok} / {n_failed}", "positive sets x seeds": cover, "device": devices,
                     "where": run.machine})
    return md(pd.DataFrame(rows))


def mnist_table(tables: dict[str, pd.DataFrame]) -> tuple[str, pd.DataFrame]:
    """The protocol table (report.protocol_table, as `bench table`) with trials, coverage, device, cost."""
    t = cat(tables, MNIST_MAIN + MNIST_PARTIAL)
    made = report.protocol_table(t, "mnist", "quantile", "all")
    frame = made.frame.copy()
    extra = {}
    for method, rows in ok(t).groupby("method", sort=False):
        key = f"{method} ({rows['dataset'].iloc[0]})"
        extra[key] = {"trials": str(rows["trial_id"].nunique()), "digits x seeds": digits_text(rows),
                      "device": device_of(t, method), "fit+score s / trial": f"{cost(t, method):.1f}"}
    for col in ["trials", "digits x seeds", "device", "fit+score s / trial"]:
        frame[col] = [extra.get(m, {}).get(col, "-") for m in frame["method"]]
    return md(frame, made.notes), t


def verdict_rows(tables: dict[str, pd.DataFrame]) -> list[dict]:
    out = []
    a = tables.get("mnist-alocc")
    at = tables.get("mnistT-alocc40")
    for label, pub_name, method, method40 in (("D(R(X))", "ALOCC D(R(X))", ALOCC_DR, ALOCC40_DR),
                                              ("D(X)", "ALOCC D(X)", ALOCC_D, ALOCC40_D)):
        pub = published_mnist(pub_name)
        target = " / ".join(f"{pub[f'p{p}']:.2f}" for p in PCTS)
        for setting, table, m in (("`mnist` protocol, defaults (1 epoch)", a, method),
                                  ("`mnist-transductive`, 40 epochs (ALOCC's setup and schedule)", at, method40)):
            if table is None or method_rows(table, m).empty:
                out.append({"target": f"ALOCC {label} F1 within {F1_TOLERANCE} of {target} (10-50 %)",
                            "measured": f"{setting}: pending", "met?": "pending"})
                continue
            got = f1_means(table, m, "quantile")
            met = [abs(got[p] - pub[f"p{p}"]) <= F1_TOLERANCE for p in PCTS]
            cover = digits_text(method_rows(table, m))
            out.append({"target": f"ALOCC {label} F1 within {F1_TOLERANCE} of {target} (10-50 %)",
                        "measured": f"{setting}, digits {cover}, quantile F1: " + " / ".join(f"{got[p]:.3f}" for p in PCTS),
                        "met?": f"{yes_no(all(met))}: {sum(met)} of 5 shares"})
    out.extend(alocc_schedule_rows(tables))
    g = tables.get("mnist-g2d")
    if g is not None:
        auc = pool_auroc(g, "g2d")
        f1 = f1_means(g, "g2d", "quantile")
        floor = {p: 2 * (1 - p / 100) / (2 - p / 100) for p in PCTS}
        below = sum(f1[p] < floor[p] for p in PCTS)
        out.append({"target": "G2D measured beside CRBND (no published MNIST number: CRBND's Figure 3 plots it, "
                              "no values are transcribed)",
                    "measured": f"one-vs-rest AUROC {auc.mean():.3f} ({len(auc)} trials); quantile F1 "
                                + " / ".join(f"{f1[p]:.3f}" for p in PCTS),
                    "met?": f"measured; **near chance**, F1 below the all-inliers floor at {below} of 5 shares"})
    ds, dsp = tables.get("mnist-deep-svdd"), tables.get("mnist-deep-svdd-paper")
    pub = published_mnist("Deep SVDD", "auroc")["pool"]
    if dsp is not None:
        paper = pool_auroc(dsp, "deep-svdd-paper")
        n_dig = paper.index.get_level_values("digit").nunique()
        ruff = np.mean([RUFF_ONE_CLASS[d] for d in paper.index.get_level_values("digit")]) / 100
        full = n_dig == 10 and paper.index.get_level_values("seed").nunique() >= 3
        within = abs(paper.mean() - ruff) <= AUROC_TOLERANCE
        out.append({"target": f"`deep-svdd` with the paper's schedule within 2 points of {pts(pub)} (10 digits)",
                    "measured": f"{pts(paper.mean())} on {digits_text(method_rows(dsp, 'deep-svdd-paper'))} "
                                f"(the paper's per-digit numbers on the same digits: {pts(ruff)})",
                    "met?": ("**met** " if within else "**not met** ") + ("" if full else
                            f"on the {n_dig} digits finished; the 10-digit, 3-seed target is **not established**")})
    if ds is not None:
        d = pool_auroc(ds, "deep-svdd")
        out.append({"target": f"`deep-svdd` defaults (25 + 25 epochs): cost in quality vs {pts(pub)}",
                    "measured": f"{pts(d.mean())} ({len(d)} trials, 10 digits x 3 seeds)",
                    "met?": f"within 2 points: {yes_no(abs(d.mean() - pub) <= AUROC_TOLERANCE)} ({100 * (d.mean() - pub):+.2f} points)"})
    gm, gl = tables.get("mnist-geom"), tables.get("mnist-geom-large")
    pub = published_mnist("GEOM", "auroc")["pool"]
    if gm is not None:
        d = pool_auroc(gm, "geom")
        out.append({"target": f"`geom` within 2 points of {pts(pub)} (default, as close as the speed limit allows)",
                    "measured": f"{pts(d.mean())} ({len(d)} trials, 10 digits x 3 seeds)",
                    "met?": f"{yes_no(abs(d.mean() - pub) <= AUROC_TOLERANCE)} ({100 * (d.mean() - pub):+.1f} points)"})
    if gl is not None:
        d = pool_auroc(gl, GEOM_LARGE)
        out.append({"target": f"`geom`, largest setting run, within 2 points of {pts(pub)} (at least 3 digits)",
                    "measured": f"{pts(d.mean())} on {digits_text(method_rows(gl, GEOM_LARGE))} (widths (32,64,128), "
                                f"1 residual block, 3 epochs, 72 transformations; not the paper's WRN-16-8)",
                    "met?": f"{yes_no(abs(d.mean() - pub) <= AUROC_TOLERANCE)} on those {len(d)} digits "
                            f"(against the paper's 10-digit mean)"})
    p = tables.get("mnist-pyod")
    if p is not None:
        vals = [f"{m.split(':')[1]} {pts(pool_auroc(p, m).mean())}" for m in ("pyod:KNN", "pyod:IForest", "pyod:ECOD")
                if not method_rows(p, m).empty]
        out.append({"target": "`pyod:KNN`, `pyod:IForest`, `pyod:ECOD` measured", "measured": ", ".join(vals),
                    "met?": "**met** (measured; ECOD's pool number is pyod's transductive scoring, see below)"})
    out.extend(caltech_coverage_rows(tables))
    return out


def caltech_coverage_rows(tables: dict[str, pd.DataFrame], repeats: int = 5) -> list[dict]:
    """Issue 8's Caltech-101 Table 1: every method, n = 1, 3, 5, at least `repeats` draws, in both setups."""
    out = []
    for setting, prefix in (("train/test split", CALTECH_SPLIT), ("`--transductive`", CALTECH_TRANSDUCTIVE)):
        counts, short = [], []
        for m in CALTECH_METHODS:
            t = tables.get(prefix + m)
            groups = p50_rows(t)["group"] if t is not None else pd.Series(dtype=str)
            per = [int((groups == f"n={n}").sum()) for n in (1, 3, 5)]
            counts.append(f"`{m}` {'/'.join(map(str, per))}")
            if min(per) < repeats:
                short.append(m)
        out.append({"target": f"Caltech-101 Table 1, {setting}: {', '.join(CALTECH_METHODS)} at n = 1, 3, 5, "
                              f"at least {repeats} repeats each (the same draws)",
                    "measured": "trials n=1/3/5: " + ", ".join(counts),
                    "met?": "**met**" if not short else f"**not met**: {', '.join(f'`{m}`' for m in short)} incomplete"})
    return out


def alocc_schedule_pairs(tables: dict[str, pd.DataFrame]) -> list[tuple[int, int, float, float, str]]:
    """(digit, seed, 1-epoch AUROC, 40-epoch AUROC, device) of every trial trained both ways (D(R(X)))."""
    pairs = []
    a, a40, cpu = tables.get("mnist-alocc"), tables.get("mnist-alocc40"), tables.get("mnist-alocc40-cpu")
    if a is not None and a40 is not None:
        short, long = pool_auroc(a, ALOCC_DR), pool_auroc(a40, ALOCC40_DR)
        pairs += [(dg, sd, short.get((dg, sd), np.nan), v, "GPU") for (dg, sd), v in long.items()]
    if cpu is not None:
        short, long = pool_auroc(cpu, "alocc[epochs=1]"), pool_auroc(cpu, "alocc[epochs=40]")
        pairs += [(dg, sd, short.get((dg, sd), np.nan), v, "CPU") for (dg, sd), v in long.items()]
    return pairs


def alocc_schedule_rows(tables: dict[str, pd.DataFrame]) -> list[dict]:
    """Issue 8: what the short default (1 epoch) costs against the authors' 40, on at least 3 digits."""
    pairs = alocc_schedule_pairs(tables)
    if not pairs:
        return []
    digits = sorted({p[0] for p in pairs})
    text = "; ".join(f"digit {dg} ({where_}): {s1:.3f} -> {s40:.3f}" for dg, _, s1, s40, where_ in pairs)
    better = sum(s40 > s1 for _, _, s1, s40, _ in pairs)
    return [{"target": "ALOCC: the paper's 40 epochs one `--param` away; the cost of the 1-epoch default measured on at least 3 digits",
             "measured": f"`--param alocc.epochs=40`, D(R(X)) one-vs-rest AUROC, seed 0, 1 -> 40 epochs on the same trial: {text}",
             "met?": f"{yes_no(len(digits) >= 3)}: {len(digits)} digits; 40 epochs better on {better} of {len(pairs)} "
                     "(too few pairs for a test; "
                     + ("no sign that the short default costs quality)" if 2 * better <= len(pairs)
                        else "the short default may cost quality)")}]


def alocc_section(tables: dict[str, pd.DataFrame]) -> str:
    a, a40, at = tables.get("mnist-alocc"), tables.get("mnist-alocc40"), tables.get("mnistT-alocc40")
    if a is None:
        return "ALOCC runs pending.\n"
    parts = []
    # which setting and policy comes closest
    settings = [("`mnist`, 1 epoch (default)", a, ALOCC_DR, "ALOCC D(R(X))"), ("`mnist`, 1 epoch (default)", a, ALOCC_D, "ALOCC D(X)")]
    if a40 is not None:
        settings.append(("`mnist`, 40 epochs", a40, ALOCC40_DR, "ALOCC D(R(X))"))
    if at is not None:
        settings += [("`mnist-transductive`, 40 epochs", at, ALOCC40_DR, "ALOCC D(R(X))"),
                     ("`mnist-transductive`, 40 epochs", at, ALOCC40_D, "ALOCC D(X)")]
    rows, best, oracle_50 = [], None, []
    for setting, table, method, pub_name in settings:
        if method_rows(table, method).empty:
            continue
        pub = published_mnist(pub_name)
        cover = digits_text(method_rows(table, method))
        for policy in POLICIES:
            got = f1_means(table, method, policy)
            if all(np.isnan(v) for v in got.values()):
                continue
            diffs = [got[p] - pub[f"p{p}"] for p in PCTS]
            row = {"score vs published row": pub_name.replace("ALOCC ", ""), "setting": setting, "digits x seeds": cover,
                   "F1 policy": policy + (" (upper bound)" if policy == "oracle" else ""),
                   **{f"{p}%": f"{got[p]:.3f} ({d:+.3f})" for p, d in zip(PCTS, diffs)},
                   "shares within 0.03": f"{sum(abs(d) <= F1_TOLERANCE for d in diffs)}/5",
                   "mean abs gap": f"{np.mean(np.abs(diffs)):.3f}"}
            rows.append(row)
            if policy == "oracle":
                oracle_50.append(got[50])
            elif best is None or np.mean(np.abs(diffs)) < best[0]:
                best = (np.mean(np.abs(diffs)), pub_name, setting, policy, cover, diffs)
    parts.append("Every setting and F1 threshold policy we have, against the published curve of the same score "
                 "(cell: mean F1, inliers positive, and its difference to the published value):\n\n" + md(pd.DataFrame(rows)))
    if best:
        bd = best[5]
        missed = [p for p, d in zip(PCTS, bd) if abs(d) > F1_TOLERANCE]
        parts.append(f"Closest without the test labels: {best[1]} under {best[2]} with the **{best[3]}** policy "
                     f"(digits {best[4]}): mean absolute gap {best[0]:.3f}, within {F1_TOLERANCE} at "
                     f"{5 - len(missed)} of 5 shares, missed at {', '.join(f'{p} %' for p in missed) or 'none'}. "
                     "The validation policy tunes the threshold on labelled outliers of the training data (GPND's "
                     "protocol), which ALOCC's setup does not have; so even this is a generous reading.")
        worst_oracle = max(oracle_50)
        pub50 = min(published_mnist(n)["p50"] for n in ("ALOCC D(R(X))", "ALOCC D(X)"))
        parts.append(f"The oracle rows pick the F1-maximising threshold on the test mix itself (an upper bound no "
                     f"threshold rule can beat): at 50 % outliers the best oracle F1 of any setting is {worst_oracle:.3f}, "
                     + (f"below both published values (D(X) {pub50:.2f}). No choice of threshold reproduces the curves; "
                        "what is missing is the ranking (AUROC). " if worst_oracle < pub50 - F1_TOLERANCE else
                        f"against the published {pub50:.2f} (D(X)). ")
                     + "At 10-20 % outliers F1 sits close to the all-inliers "
                     "floor (0.947 / 0.889) for any weak detector, so those shares test little; 40-50 % are where the "
                     "ranking shows.")
    # AUROC per digit
    dr, d = pool_auroc(a, ALOCC_DR), pool_auroc(a, ALOCC_D)
    frame = pd.DataFrame({"dr": dr, "d": d}).reset_index()
    per = frame.groupby("digit").agg(dr_mean=("dr", "mean"), dr_min=("dr", "min"), dr_max=("dr", "max"),
                                     d_mean=("d", "mean"), d_min=("d", "min"), d_max=("d", "max"))
    out = pd.DataFrame({"digit": per.index,
                        "D(R(X)) 1 epoch: mean (min-max over 3 seeds)": [f"{r.dr_mean:.3f} ({r.dr_min:.3f}-{r.dr_max:.3f})" for r in per.itertuples()],
                        "D(X) 1 epoch: mean (min-max)": [f"{r.d_mean:.3f} ({r.d_min:.3f}-{r.d_max:.3f})" for r in per.itertuples()]})
    if a40 is not None:
        s40 = pool_auroc(a40, ALOCC40_DR)
        out["D(R(X)) 40 epochs, seed 0"] = [f3(s40.get((dg, 0), np.nan)) for dg in per.index]
    if at is not None:
        tdr, td = pool_auroc(at, ALOCC40_DR, "p50"), pool_auroc(at, ALOCC40_D, "p50")
        out["transductive 40 ep. D(R(X)), p50 mix, seed 0"] = [f3(tdr.get((dg, 0), np.nan)) for dg in per.index]
        out["transductive 40 ep. D(X), p50 mix, seed 0"] = [f3(td.get((dg, 0), np.nan)) for dg in per.index]
    parts.append("AUROC per digit (`mnist`: one-vs-rest on the whole test split; `mnist-transductive` has no test "
                 "split, so its AUROC is the 50 % mix's):\n\n" + md(out))
    below = int((per["dr_mean"] < 0.5).sum())
    spread = per["dr_max"] - per["dr_min"]
    pair = compare.compare_pair(ALOCC_DR, ALOCC_D, dr, d)
    lines = [f"- **Score D(R(X)) vs D(X)** (default, paired on {pair.n} (digit, seed) trials): mean AUROC "
             f"{pair.mean_a:.3f} vs {pair.mean_b:.3f}, D(R(X)) higher on {pair.wins}, lower on {pair.losses}; {pair.message or pair.verdict()}. "
             "D(R(X)) is ahead on average, as in the paper, but not significantly; both are far below the paper's numbers.",
             f"- **Spread across digits and seeds** (D(R(X)), default): per-digit means from {per['dr_mean'].min():.3f} "
             f"to {per['dr_mean'].max():.3f}; {below} digit(s) below 0.5 on average; the three seeds of one digit differ "
             f"by up to {spread.max():.3f} (digit {int(spread.idxmax())}: single trials from {dr.xs(int(spread.idxmax()), level='digit').min():.3f} "
             f"to {dr.xs(int(spread.idxmax()), level='digit').max():.3f})."
             + (" The same code and data give a near-perfect or an inverted ranking depending on the seed: the "
                "adversarial game does not reliably settle on a discriminator that ranks inliers first (the method's "
                "docstring records the same epoch-to-epoch swings on MNIST's train split)."
                if dr.xs(int(spread.idxmax()), level='digit').min() < 0.3 and dr.xs(int(spread.idxmax()), level='digit').max() > 0.9 else "")]
    if a40 is not None:
        s1 = dr[dr.index.isin(s40.index)]
        p40 = compare.compare_pair(ALOCC40_DR, ALOCC_DR, s40, s1)
        per40 = "; ".join(f"digit {dg}: {s1.get((dg, sd), np.nan):.3f} -> {s40[(dg, sd)]:.3f}" for dg, sd in s40.index)
        lines.append(f"- **1 vs 40 epochs** (`mnist`, D(R(X)), seed 0, the {p40.n} digits finished with 40 epochs): "
                     f"{per40} ({p40.n} pairs: no test). The authors' longer schedule does not rescue it on these digits.")
    schedule = alocc_schedule_pairs(tables)
    on_cpu = [p for p in schedule if p[4] == "CPU"]
    if on_cpu:
        per = "; ".join(f"digit {dg}, seed {sd}: {s1:.3f} -> {s40:.3f}" for dg, sd, s1, s40, _ in on_cpu)
        gpu1 = "; ".join(f"the GPU default runs of digit {dg} gave {dr.xs(dg, level='digit').min():.3f}-"
                         f"{dr.xs(dg, level='digit').max():.3f} over 3 seeds" for dg in sorted({p[0] for p in on_cpu}))
        lines.append(f"- **1 vs 40 epochs on one device** (`mnist`, D(R(X)), this CPU, the same trial trained twice): {per}. "
                     f"For scale, {gpu1}. With the GPU digits above, 40 epochs have now been measured on "
                     f"{len({p[0] for p in schedule})} digits.")
    if at is not None:
        tdr_all = pool_auroc(at, ALOCC40_DR, "p50")
        inv = sorted(dg for (dg, _), v in tdr_all.items() if v < 0.3)
        good = sorted(dg for (dg, _), v in tdr_all.items() if v > 0.85)
        lines.append(f"- **ALOCC's own setup** (`mnist-transductive`: trained and tested on the same training images, "
                     f"40 epochs, digits {digits_text(method_rows(at, ALOCC40_DR))}): mean AUROC {tdr_all.mean():.3f} "
                     f"(D(R(X))) and {pool_auroc(at, ALOCC40_D, 'p50').mean():.3f} (D(X)). That mean hides two groups: digits "
                     f"{', '.join(map(str, good)) or 'none'} above 0.85, digits {', '.join(map(str, inv)) or 'none'} below 0.3 "
                     "(an inverted ranking: D calls the other digits more 'real' than the digit it was trained on). "
                     "Removing the split does not bring the published numbers back; no 1-epoch transductive run was "
                     "made, so the two changes (setup, schedule) are not separated there.")
    floor = {p: 2 * (1 - p / 100) / (2 - p / 100) for p in PCTS}
    q = f1_means(a, ALOCC_DR, "quantile")
    at_or_below = [p for p in PCTS if q[p] <= floor[p] + 0.005]
    lines.append(f"- **F1 vs the trivial floor**: the default D(R(X)) quantile F1 is within 0.005 of, or below, "
                 f"the F1 of calling every image an inlier at {len(at_or_below)} of 5 shares "
                 f"({', '.join(f'{p} %' for p in at_or_below) or 'none'}). At these AUROCs the F1 curve carries "
                 "little information; the published curve "
                 f"({published_mnist('ALOCC D(R(X))')['p10']:.2f} at 10 %, {published_mnist('ALOCC D(R(X))')['p50']:.2f} at 50 %) "
                 "needs a far better ranking.")
    parts.append("\n".join(lines))
    parts.append("**Verdict: the published ALOCC MNIST curves are not reproduced** by this implementation, under any "
                 "setting, score or threshold policy measured here. What the runs show: no threshold policy closes the "
                 "gap (the test-set oracle misses too); ALOCC's own no-split setup with the authors' 40 epochs does "
                 "not close it; 40 epochs on the split did not rescue the digits run (the schedule row of the verdict "
                 "table). Across digits, D(R(X))'s AUROC anti-correlates with the ink statistic (the correlation table "
                 "of the G2D section): it is weakest on the thin digits, so its discriminator ranks partly by stroke "
                 "mass, not shape. What they cannot exclude: "
                 "the 40-epoch runs cover 3 (split) and 6 (no split) digits with one seed each, so the authors' "
                 "schedule is not measured on every digit; and a detail of the authors' code the paper does not state "
                 "(which of the 40 per-epoch checkpoints they scored; the paper's 'predefined' tau is never given) "
                 "could matter: with swings this large, which checkpoint is scored matters a lot. We score the model at "
                 "the end of a fixed schedule and choose nothing on test data.")
    return "\n\n".join(parts)


def per_digit(series: dict[str, pd.Series]) -> pd.DataFrame:
    """AUROC per digit, mean over the seeds each series has, and the mean row."""
    cols = {name: s.groupby(level="digit").mean() for name, s in series.items()}
    frame = pd.DataFrame(cols)
    frame.loc["mean (of the digits in the column)" if frame.isna().any().any() else "mean"] = frame.mean()
    return frame.map(f3).reset_index(names="digit")


def g2d_section(tables: dict[str, pd.DataFrame], runs_dir: Path) -> str:
    g = tables.get("mnist-g2d")
    if g is None:
        return "G2D runs pending.\n"
    auc = pool_auroc(g, "g2d")
    frame = auc.reset_index().groupby("digit")["auroc"].agg(["mean", "min", "max"])
    out = pd.DataFrame({"digit": frame.index, "AUROC mean over 3 seeds": frame["mean"].map(f3),
                        "min": frame["min"].map(f3), "max": frame["max"].map(f3)})
    f1 = {pol: f1_means(g, "g2d", pol) for pol in POLICIES}
    floor = {p: 2 * (1 - p / 100) / (2 - p / 100) for p in PCTS}
    f1_table = pd.DataFrame([{"F1 policy": pol, **{f"{p}%": f3(f1[pol][p]) for p in PCTS}} for pol in POLICIES]
                            + [{"F1 policy": "trivial floor (all inliers)", **{f"{p}%": f3(floor[p]) for p in PCTS}}])
    n_below = int((frame["mean"] < 0.5).sum())
    text = (f"`g2d` (defaults) has a one-vs-rest AUROC of **{auc.mean():.3f}** over {len(auc)} trials: **near chance**. "
            f"{n_below} of 10 digits are below 0.5 on average and single trials range from {auc.min():.3f} to "
            f"{auc.max():.3f}; digits {', '.join(str(x) for x in frame.index[frame['mean'] < 0.3]) or 'none'} are inverted "
            f"(mean AUROC below 0.3). Its quantile F1 is below the F1 of calling every image an "
            f"inlier at {sum(f1['quantile'][p] < floor[p] for p in PCTS)} of 5 shares, and even the oracle threshold "
            f"(an upper bound) is only {f1['oracle'][50] - floor[50]:+.3f} from that floor at 50 %. "
            "We have no published G2D MNIST number to hold it against: CRBND's Figure 3 plots G2D's F1 on MNIST, "
            "but no values are transcribed in `PUBLISHED.md`.")
    return (text + "\n\n" + md(out) + "\n\nF1 (inliers positive) by threshold policy, mean over the 30 trials:\n\n" + md(f1_table)
            + "\n\n" + cues_section(tables, runs_dir))


CUE_METHODS = ["g2d", ALOCC_DR, ALOCC_D, "pyod:ECOD", "geom", "ocsvm", "pyod:KNN", "deep-svdd", "ae", "crbnd", "crbnd-plus"]


def cues_section(tables: dict[str, pd.DataFrame], runs_dir: Path) -> str:
    """Why is G2D near chance? Its per-digit AUROCs against two training-free image statistics."""
    path = runs_dir / "cues-mnist.csv"
    if not path.exists():
        return ("**PENDING: the low-level cue check.** Command: `PYTHONPATH=. python benchmarks/low_level_cues.py "
                "--data-root ../shared/data --save results/reference/runs --fit g2d --digits 0 1 8`.")
    from scipy.stats import pearsonr, spearmanr

    cues = pd.read_csv(path).set_index("digit")
    full = cat(tables, MNIST_MAIN)
    rows = []
    for method in CUE_METHODS:
        auc = pool_auroc(full, method) if full is not None else pd.Series(dtype=float)
        if auc.empty:
            continue
        per = auc.groupby(level="digit").mean()
        ink, edges = cues.loc[per.index, "ink_auroc"], cues.loc[per.index, "edges_auroc"]
        r, p = pearsonr(per, ink)
        rho, p_rho = spearmanr(per, ink)
        r_e, p_e = pearsonr(per, edges)
        rows.append({"method": f"`{method}`", "mean AUROC": f3(per.mean()), "r with ink (p)": f"{r:+.2f} ({p:.2g})",
                     "Spearman with ink (p)": f"{rho:+.2f} ({p_rho:.2g})", "r with edges (p)": f"{r_e:+.2f} ({p_e:.2g})"})
    g2d = pool_auroc(full, "g2d").groupby(level="digit").mean()
    per_digit_table = pd.DataFrame({"digit": cues.index, "ink AUROC": cues["ink_auroc"].map(f3),
                                    "edges AUROC": cues["edges_auroc"].map(f3), "`g2d` AUROC": g2d.reindex(cues.index).map(f3)})
    text = ["### Why G2D is near chance: it ranks by how much ink an image has",
            "Two training-free statistics, used as novelty scores on the same one-vs-rest test split "
            "(`benchmarks/low_level_cues.py`): **ink** = mean pixel intensity (more ink = more novel) and **edges** = "
            "mean absolute difference of neighbouring pixels. Neither knows anything about digits. Per digit:\n\n"
            + md(per_digit_table),
            "Across the 10 digits, each method's per-digit mean AUROC against the statistic's (Pearson r and Spearman "
            "rho, with p; 10 digits, so only strong correlations are significant):\n\n" + md(pd.DataFrame(rows))]
    fit_path = runs_dir / "cues-fit-g2d.csv"
    if fit_path.exists():
        fit = pd.read_csv(fit_path)
        cols = {"digit": "digit", "AUROC": "`g2d` AUROC (this CPU fit)", "ink AUROC": "ink AUROC", "edges AUROC": "edges AUROC",
                "rho(score, ink) pool": "rho ink: pool", "rho(score, ink) inliers": "rho ink: inliers",
                "rho(score, ink) outliers": "rho ink: outliers", "rho(score, edges) pool": "rho edges: pool",
                "rho(score, edges) inliers": "rho edges: inliers", "rho(score, edges) outliers": "rho edges: outliers"}
        shown = fit[list(cols)].rename(columns=cols)
        text.append("Within single trained models (`--fit g2d`: digit, seed 0, defaults, CPU, the `mnist` split), the "
                    "Spearman correlation (rho) of each test image's `g2d` score with its ink and its edge energy, over the whole "
                    "test pool and within its inliers and its outliers:\n\n"
                    + md(shown.map(lambda v: f3(v) if isinstance(v, float) else v)))
    text.append(G2D_READING)
    return "\n\n".join(text)


G2D_READING = """\
Reading: across digits, G2D's AUROC follows the two statistics closely (Pearson r +0.88 with ink,
+0.92 with edges, first row of the correlation table), so G2D ranks like "more ink and more stroke
edges = more novel": it does well on 1 (the thinnest digit: every other digit has more ink and
edges) and is inverted on 0 and 8 (the inkiest: the others have less). Inside the three trained
models the same holds image by image: a test image's `g2d` score correlates with its edge energy at
Spearman 0.81 / 0.75 / 0.59 (digits 0 / 1 / 8), and still 0.80 / 0.64 / 0.56 among the outliers
alone, so within the other digits the score tracks stroke texture rather than class. (The fitted
numbers are rounded to 3 decimals as the script printed them.)
This is the mechanism `crbnd-tuning.md` found for CRBND's blur negatives: a classifier trained on
inliers against synthetic negatives learns whatever separates them most cheaply, and the early
generator's "irregular" samples differ from real digits first in stroke mass and texture, not in
shape. Our G2D follows the paper's recipe (WGAN-GP snapshots up to T as negatives). The G2D paper
reports strong MNIST numbers that we do not reproduce; this check shows why ours fails, not whether
the authors' exact T, sample count or classifier avoid it. `pyod:ECOD` (a per-pixel tail model)
follows ink as strongly; `alocc` D(R(X)) follows it with the opposite sign (r -0.80): it is weakest
on the thin digits, which its discriminator does not rank as 'real'."""


def deep_svdd_section(tables: dict[str, pd.DataFrame]) -> str:
    ds, dsp = tables.get("mnist-deep-svdd"), tables.get("mnist-deep-svdd-paper")
    if ds is None:
        return "Deep SVDD runs pending.\n"
    d = pool_auroc(ds, "deep-svdd")
    rows = []
    paper = pool_auroc(dsp, "deep-svdd-paper") if dsp is not None else pd.Series(dtype=float)
    for dg in range(10):
        dm = d.xs(dg, level="digit")
        pp = paper.get((dg, 0), np.nan)
        rows.append({"digit": dg, "Ruff et al. Table 1": f"{RUFF_ONE_CLASS[dg]:.1f}",
                     "`deep-svdd` default, mean of 3 seeds": pts(dm.mean()), "default, seed 0": pts(dm.get(0, np.nan)),
                     "`deep-svdd-paper`, seed 0": pts(pp),
                     "paper schedule - Ruff": "-" if np.isnan(pp) else f"{100 * pp - RUFF_ONE_CLASS[dg]:+.1f}"})
    shared = [dg for dg in range(10) if (dg, 0) in paper.index]
    rows.append({"digit": "mean, 10 digits", "Ruff et al. Table 1": f"{np.mean(list(RUFF_ONE_CLASS.values())):.1f}",
                 "`deep-svdd` default, mean of 3 seeds": pts(d.mean()),
                 "default, seed 0": pts(d.xs(0, level="seed").mean()), "`deep-svdd-paper`, seed 0": "-", "paper schedule - Ruff": "-"})
    if shared:
        rows.append({"digit": f"mean, digits {','.join(map(str, shared))}",
                     "Ruff et al. Table 1": f"{np.mean([RUFF_ONE_CLASS[x] for x in shared]):.1f}",
                     "`deep-svdd` default, mean of 3 seeds": pts(d[d.index.get_level_values('digit').isin(shared)].mean()),
                     "default, seed 0": pts(np.mean([d[(x, 0)] for x in shared])),
                     "`deep-svdd-paper`, seed 0": pts(np.mean([paper[(x, 0)] for x in shared])),
                     "paper schedule - Ruff": f"{np.mean([100 * paper[(x, 0)] - RUFF_ONE_CLASS[x] for x in shared]):+.1f}"})
    text = [md(pd.DataFrame(rows), ["Ruff et al. (ICML 2018), Table 1, One-Class Deep SVDD, mean of 10 seeds per digit; "
                                    "quoted from the earlier notes, not re-checked against the PDF here. Their mean is "
                                    "the 94.8 of published.csv."])]
    if shared:
        within = sum(abs(100 * paper[(x, 0)] - RUFF_ONE_CLASS[x]) <= 2 for x in shared)
        default_s0 = d.xs(0, level="seed")
        pair = compare.compare_pair("deep-svdd", "deep-svdd-paper", default_s0[default_s0.index.isin(shared)],
                                    paper.xs(0, level="seed"))
        cost_paper = cost(dsp, "deep-svdd-paper")
        r = method_rows(ds, "deep-svdd").drop_duplicates("trial_id")
        r = r[(r["seed"] == 0) & r["positives"].map(digit).isin(shared)]
        cost_default = float((r["fit_seconds"] + r["score_seconds"]).mean())
        text.append(
            f"- **Paper schedule** (150 + 150 epochs, seed 0, digits {','.join(map(str, shared))}; "
            + ("all 10 digits" if len(shared) == 10 else "the other digits did not finish") + "): within 2 points of Ruff et al. on "
            f"{within} of {len(shared)} digits; mean "
            f"{pts(np.mean([paper[(x, 0)] for x in shared]))} against their {np.mean([RUFF_ONE_CLASS[x] for x in shared]):.1f} "
            f"on the same digits, from one seed (the issue's targets name 3 seeds; Ruff et al. average 10).\n"
            f"- **What the short default costs**, paired on the same {pair.n} (digit, seed 0) trials: default "
            f"{pts(pair.mean_a)} vs paper schedule {pts(pair.mean_b)} ({100 * pair.mean_diff:+.1f} points; default higher "
            f"on {pair.wins}, lower on {pair.losses}; {pair.message or pair.verdict()}). The 6x shorter schedule (25 + "
            f"25 epochs) shows no loss in quality that these {pair.n} pairs can detect. Time on the lent GPU, same trials: {cost_default:.1f} s vs "
            f"{cost_paper:.1f} s fit + score per trial (processes side by side: an indication, not a speed measurement).\n"
            f"- **The default over all 30 trials**: {100 * d.mean():.2f} against the paper's 94.8 "
            f"({100 * d.mean() - 94.8:+.2f} points): within 2 points, and within 2 points of Ruff et al. on "
            f"{sum(abs(100 * d.xs(x, level='digit').mean() - RUFF_ONE_CLASS[x]) <= 2 for x in range(10))} of 10 digits "
            "(mean of 3 seeds)."
        )
    return "\n\n".join(text)


def geom_section(tables: dict[str, pd.DataFrame]) -> str:
    gm, gl, plus = tables.get("mnist-geom"), tables.get("mnist-geom-large"), tables.get("mnist-crbnd-plus-cuda")
    if gm is None:
        return "GEOM runs pending.\n"
    d = pool_auroc(gm, "geom")
    per_mean = d.groupby(level="digit").mean()
    n_default, n_large = geom_parameters((12, 24, 48), 0), geom_parameters((32, 64, 128), 1)
    series = {"`geom` default, mean of 3 seeds": d, "`geom` default, seed 0": d.xs(0, level="seed", drop_level=False)}
    large = pool_auroc(gl, GEOM_LARGE) if gl is not None else None
    if large is not None:
        series["`geom` large, seed 0"] = large
    if plus is not None:
        series["`crbnd-plus`, seed 0"] = pool_auroc(plus, PLUS).xs(0, level="seed", drop_level=False)
    table = per_digit(series)
    text = [f"`geom` default (72 transformations: flips x shifts x rotations; widths (12,24,48), 1 epoch; Dirichlet "
            f"score): **{pts(d.mean())}** over {len(d)} trials against the paper's 98.0 ({100 * d.mean() - 98.0:+.1f} "
            f"points): **missed**. Worst digit {int(per_mean.idxmin())} at {pts(per_mean.min())}. Why, as far as the runs "
            f"show: capacity and training. The default is a {n_default:,}-parameter CNN trained one epoch, sized to the "
            "180 s CPU budget; the paper trains a WRN-16-8 (about 11M parameters) for 3 epochs."]
    if large is not None:
        dl = sorted(large.index.get_level_values("digit"))
        same_default = d[[(x, 0) for x in dl]]
        pair = compare.compare_pair(GEOM_LARGE, "geom", large, same_default)
        line = (f"The larger setting (widths (32,64,128), one residual block per stage, 3 epochs, 72 transformations; "
                f"{n_large:,} parameters; run on the lent GPU) finished digits **{','.join(map(str, dl))}** (seed 0 only): mean "
                f"**{pts(large.mean())}** there, against the default's {pts(same_default.mean())} on the same trials "
                f"({pair.wins} of {pair.n} higher). It is "
                + ("within" if abs(large.mean() - 0.98) <= AUROC_TOLERANCE else "not within")
                + " 2 points of the paper's 10-digit mean on those digits, "
                f"but {len(dl)} digits and one seed are not the 10-digit target; GEOM's per-digit MNIST numbers "
                "are not in our published data, so no per-digit comparison is made.")
        if plus is not None:
            pp = pool_auroc(plus, PLUS)
            cp = compare.compare_pair(GEOM_LARGE, PLUS, large, pp[pp.index.isin(large.index)])
            line += (f" Against `crbnd-plus` on the same {cp.n} trials: {pts(cp.mean_a)} vs {pts(cp.mean_b)}, geom-large "
                     f"higher on {cp.wins} of {cp.n}: {cp.n} pairs are too few for a test, so this neither shows that "
                     "the larger GEOM beats `crbnd-plus` nor that it does not.")
        text.append(line)
    text.append("AUROC (one-vs-rest) per digit:\n\n" + md(table))
    return "\n\n".join(text)


def geom_parameters(widths: tuple[int, ...], blocks: int) -> int:
    """Parameters of geom's network on 1-channel input, 72 transformations (built, not trained)."""
    from novelbench.methods.geom import TransformClassifier

    return sum(p.numel() for p in TransformClassifier(1, 72, widths, blocks).parameters())


def pyod_section(tables: dict[str, pd.DataFrame]) -> str:
    p = tables.get("mnist-pyod")
    if p is None:
        return "pyod runs pending.\n"
    methods = [m for m in ("pyod:KNN", "pyod:IForest", "pyod:ECOD") if not method_rows(p, m).empty]
    series = {m: pool_auroc(p, m) for m in methods}
    text = [md(per_digit(series))]
    if "pyod:ECOD" in series:
        e = method_rows(p, "pyod:ECOD")
        by_mix = e.groupby("mix")["auroc"].mean()
        e0 = series["pyod:ECOD"].get((0, 0), np.nan)
        text.append(
            f"**pyod:ECOD ({pts(series['pyod:ECOD'].mean())}) is low because pyod's ECOD is transductive.** Its "
            "`decision_function` re-estimates the per-pixel empirical CDFs on the training images *plus every image it "
            "is asked to score* (pyod 3.6.7, `pyod/models/ecod.py`: `X = np.concatenate((self.X_train, X))`; COPOD does "
            "the same). The harness scores the whole test pool (10,000 images, 90 % other digits) in one call, so the "
            "'normal' distribution it scores against is mostly outliers and true inliers look rare. The scores are "
            "computed once for the pool and every mix is a subset of it, so ECOD's AUROC is the same on every mix "
            f"({', '.join(f'{m} {v:.3f}' for m, v in by_mix.items())}). Digit 0, seed 0 gives {e0:.3f} here; the "
            "earlier development notes measured the same trial with `--param pyod:ECOD.score_batch=200` (each call's "
            "CDFs then >= 96 % training images) at 0.861 (one trial; not in a committed run table: re-measure with "
            "`python -m novelbench run -m pyod:ECOD --param pyod:ECOD.score_batch=200 --protocol mnist --data-root "
            "../shared/data --classes 0 --seeds 0 --threads 1 --out results/ecod-b200`). The adapter keeps pyod's "
            "behaviour by default and documents `score_batch`; the number in the table is pyod's ECOD as pyod runs it.")
    if "pyod:KNN" in series and "pyod:IForest" in series:
        text.append(f"`pyod:KNN` (n_neighbors 5, largest distance) is a strong pixel baseline ({pts(series['pyod:KNN'].mean())}); "
                    f"`pyod:IForest` ({pts(series['pyod:IForest'].mean())}) is weak on the hard digits.")
    return "\n\n".join(text)


def oriented(pair: compare.Pair, first: str) -> dict:
    """The pair with ``first`` as A."""
    if pair.a == first:
        a, b, diff, lo, hi, w, l_ = pair.a, pair.b, pair.mean_diff, pair.ci_low, pair.ci_high, pair.wins, pair.losses
        ma, mb = pair.mean_a, pair.mean_b
    else:
        a, b, diff, lo, hi, w, l_ = pair.b, pair.a, -pair.mean_diff, -pair.ci_high, -pair.ci_low, pair.losses, pair.wins
        ma, mb = pair.mean_b, pair.mean_a
    return {"baseline": b, "pairs": pair.n, f"mean {first}": f3(ma), "mean baseline": f3(mb),
            f"{first} - baseline": f"{diff:+.3f}",
            "95% CI": "-" if np.isnan(lo) else f"[{lo:+.3f}, {hi:+.3f}]",
            f"{first} wins / ties / losses": f"{w} / {pair.ties} / {l_}",
            "Wilcoxon p": "-" if pair.p is None else f"{pair.p:.2g}",
            "Holm p": "-" if pair.p_holm is None else f"{pair.p_holm:.2g}",
            "reading": pair.message or pair.verdict()}


def compare_section(tables: dict[str, pd.DataFrame]) -> str:
    t = cat(tables, MNIST_MAIN)
    if t is None or PLUS not in set(t["method"]):
        return "crbnd-plus run pending.\n"
    comp = compare.compare(t, "auroc")[0]
    rows = [oriented(p, PLUS) for p in comp.pairs if PLUS in (p.a, p.b)]
    frame = pd.DataFrame(rows)
    text = [f"{comp.title}. Holm correction over all {len(comp.pairs)} pairs of the {len(comp.methods)} methods "
            "(the full `bench compare` of these run tables; the crbnd-plus rows are shown):\n\n" + md(frame, [comp.note]),
            comp.rank_summary()]
    if comp.ranks is not None:
        text.append(md(comp.ranks_frame()))
    beaten = [r["baseline"] for r in rows if r["reading"].startswith(f"{r['baseline']} >")]
    ahead = [r["baseline"] for r in rows if r["reading"].startswith(f"{PLUS} >")]
    ties = [r["baseline"] for r in rows if r["baseline"] not in beaten + ahead]
    close = [r for r in rows if r["baseline"] in ahead and float(r[f"{PLUS} - baseline"]) < 0.03]
    nemenyi_tied = []
    if comp.nemenyi is not None:
        nemenyi_tied = [m for m in comp.methods if m != PLUS and comp.nemenyi.loc[PLUS, m] >= compare.ALPHA]
    reading = (f"**Reading.** On the paired Wilcoxon tests (Holm), `crbnd-plus` is significantly ahead of "
               f"{', '.join(f'`{b}`' for b in ahead) or 'no baseline'}"
               + (f"; no significant difference from {', '.join(f'`{b}`' for b in ties)}" if ties else "")
               + (f"; **significantly behind {', '.join(f'`{b}`' for b in beaten)}**" if beaten else "") + ". ")
    if any(b in beaten for b in ("deep-svdd", "geom")):
        reading += "**A standard baseline beats `crbnd-plus`: see the rows above.** "
    else:
        reading += "Neither `deep-svdd` nor `geom` (defaults) beats `crbnd-plus` on these 30 paired trials. "
    if close:
        reading += ("The margins over the strongest baselines are small: "
                    + ", ".join(f"`{r['baseline']}` {r[f'{PLUS} - baseline']} AUROC ({r[f'{PLUS} wins / ties / losses']} "
                                f"wins / ties / losses)" for r in close) + ". ")
    if nemenyi_tied:
        reading += ("The rank-based Nemenyi test over all " + str(len(comp.methods)) + " methods (the diagram below), "
                    "which is less powerful than the paired tests, does not separate `crbnd-plus` from "
                    + ", ".join(f"`{m}`" for m in nemenyi_tied) + ".")
    text.append(reading)
    # partial runs against crbnd-plus
    plus = pool_auroc(tables["mnist-crbnd-plus-cuda"], PLUS)
    extra = []
    for name, method in (("mnist-deep-svdd-paper", "deep-svdd-paper"), ("mnist-geom-large", GEOM_LARGE), ("mnist-alocc40", ALOCC40_DR)):
        if name not in tables:
            continue
        s = pool_auroc(tables[name], method)
        extra.append(oriented(compare.compare_pair(PLUS, method, plus[plus.index.isin(s.index)], s), PLUS))
    if extra:
        text.append("Runs on a few digits, seed 0, against `crbnd-plus` on the same trials (no multiple-test "
                    "correction; fewer than 6 untied pairs get no test):\n\n" + md(pd.DataFrame(extra)))
        gl = next((r for r in extra if r["baseline"] == GEOM_LARGE), None)
        if gl is not None:
            losses = int(gl[f"{PLUS} wins / ties / losses"].split(" / ")[2])
            text.append(f"The larger GEOM is ahead of `crbnd-plus` on {losses} of its {gl['pairs']} digits (seed 0; mean "
                        f"{gl['mean baseline']} vs {gl[f'mean {PLUS}']}): {gl['pairs']} pairs are too few for a test, so "
                        "whether a GEOM of that size beats `crbnd-plus` over all digits and seeds is open.")
    rows_ok = ok(t)
    same_split = (rows_ok.groupby(["positives", "seed"])["n_train"].nunique().max() == 1
                  and rows_ok.groupby(["positives", "seed", "mix"])["n_test"].nunique().max() == 1)
    text.append("CPU rows (`ocsvm`, `ae`, `crbnd`, pyod) and CUDA rows (bf16 autocast training, fp32 scores) differ "
                "in device; the pairing is by (digit, seed), i.e. the same training images and the same test split "
                + ("(`n_train` and every mix's `n_test` agree across all these runs on every (digit, seed))."
                   if same_split else "(**warning: `n_train` or `n_test` differ between runs on some (digit, seed)**)."))
    return "\n\n".join(t for t in text if t)


def caltech_section(tables: dict[str, pd.DataFrame]) -> str:
    out = []
    for title, prefix in (
            ("Train/test split (`caltech` protocol defaults)", CALTECH_SPLIT),
            ("`--transductive` (ALOCC's setup: trained and tested on the same positive images)", CALTECH_TRANSDUCTIVE)):
        names = [f"{prefix}{m}" for m in CALTECH_METHODS]
        have = [n for n in names if n in tables]
        pending = [n for n in names if n not in tables]
        out.append(f"### Caltech-101, {title}")
        if not have:
            out.append("All pending: " + ", ".join(f"`{n}`" for n in pending) + ".")
            continue
        t = cat(tables, have)
        made = report.protocol_table(t, "caltech", "quantile", "all")
        out.append("Every finished trial (quantile F1):\n\n" + md(made.frame, made.notes))
        common = min(int(ok(tables[n])["repeat"].max()) + 1 for n in have)
        same = pd.concat([ok(tables[n]) for n in have], ignore_index=True)
        same = same[same["repeat"] < common]
        best = []
        for g, rows in p50_rows(same).groupby("group"):
            means = rows.groupby("method")["auroc"].mean()
            best.append(f"{g}: `{means.idxmax()}` {means.max():.3f}")
        pub = published.table()
        pub = pub[(pub["dataset"] == "caltech256") & (pub["metric"] == "auroc")]["value"].astype(float)
        ntr = ok(t).drop_duplicates("trial_id")["n_train"]
        out.append(f"Highest mean AUROC on the same {common} draws: " + "; ".join(best) + ". The published Caltech-256 "
                   f"AUROCs span {pub.min():.3f}-{pub.max():.3f} (the R-graph-era baselines used ImageNet-pretrained VGG "
                   f"features); ours are from raw 64x64 pixels on Caltech-101, with {ntr.min()}-{ntr.max()} training "
                   "images per positive set in these runs.")
        if len(have) > 1:
            made = report.protocol_table(same, "caltech", "quantile", "none")
            out.append(f"The same {common} draws per n for every method (repeats 0-{common - 1}):\n\n" + md(made.frame))
            try:
                comp = compare.compare(same, "auroc")[0]
                holm = f"Holm over {len(comp.pairs)} pairs; " if len(comp.methods) > 2 else ""
                out.append(f"{comp.title}, all n together ({holm}`bench compare` also gives each n):\n\n"
                           + md(comp.pairs_frame(), [comp.note]))
            except NovelbenchError as exc:
                out.append(f"No paired comparison: {exc}.")
        out.append("Pending (run tables not there yet): " + (", ".join(f"`{n}`" for n in pending) if pending else "none") + ".")
    return "\n\n".join(out)


def transductive_gain(tables: dict[str, pd.DataFrame]) -> str:
    """Each method's `--transductive` AUROC against its split AUROC on the same draws (positive set, repeat)."""
    rows = []
    for m in CALTECH_METHODS:
        split, trans = tables.get(CALTECH_SPLIT + m), tables.get(CALTECH_TRANSDUCTIVE + m)
        if split is None or trans is None:
            continue
        x, y = (p50_rows(t).set_index(compare.PAIR_KEYS)["auroc"] for t in (trans, split))
        pair = compare.compare_pair(f"{m} transductive", f"{m} split", x, y)
        rows.append({"method": f"`{m}`", "pairs": pair.n, "split": f3(pair.mean_b), "transductive": f3(pair.mean_a),
                     "transductive - split": f"{pair.mean_diff:+.3f}",
                     "95% CI": "-" if np.isnan(pair.ci_low) else f"[{pair.ci_low:+.3f}, {pair.ci_high:+.3f}]",
                     "higher / ties / lower": f"{pair.wins} / {pair.ties} / {pair.losses}",
                     "Wilcoxon p": "-" if pair.p is None else f"{pair.p:.2g}"})
    if not rows:
        return ""
    return ("What seeing the test inliers in training is worth: each method's `--transductive` AUROC against its "
            "split AUROC, paired by draw (same positive categories, repeat and seed; p50 mix). The two setups test "
            "on different inlier images (all of them vs the held-out half) with the clutter share fixed at 50 %, so "
            "the difference mixes memorisation with a larger training set; it is not a test of either method "
            "against another.\n\n" + md(pd.DataFrame(rows)))


def speed_section(tables: dict[str, pd.DataFrame], runs_dir: Path) -> str:
    out = []
    s = tables.get(SPEED.name)
    if s is None:
        out.append("**PENDING: per-trial CPU times of the defaults.** Not finished when this page was generated. Command "
                   "(one thread per trial, 2 trials at once on the 2 cores, digit 0):\n\n    python -m novelbench run "
                   "--data-root ../shared/data --threads 1 --device cpu --jobs 2 -m alocc -m g2d -m deep-svdd -m geom "
                   "-m crbnd-plus -m crbnd --classes 0 --out results/speed-mnist-cpu1")
    else:
        r = ok(s).drop_duplicates("trial_id")
        rows = []
        for method, g in r.groupby("method", sort=False):
            total = float((g["fit_seconds"] + g["score_seconds"]).mean())
            rows.append({"method (defaults)": method, "trials": len(g), "fit s": f"{g['fit_seconds'].mean():.1f}",
                         "score s (10,000 test images)": f"{g['score_seconds'].mean():.1f}", "fit + score s": f"{total:.1f}",
                         "<= 180 s?": "yes" if total <= 180 else "**no**",
                         "AUROC (pool)": f3(ok(s)[(ok(s)["method"] == method) & (ok(s)["mix"] == "pool")]["auroc"].mean())})
        failed = s[s["status"] != "ok"].drop_duplicates("trial_id")
        out.append("`results/speed-mnist-cpu1` (`speed-mnist-cpu1.csv`): digit 0, seed 0, defaults, one CPU thread per "
                   "trial, two trials at once on this 2-core machine (wall seconds, as the harness measures them; "
                   "fp32 on the CPU; the machine was not reserved, so other sessions' processes may have shared it; "
                   "one trial per method, so the AUROC column is one digit and one seed, not a quality measurement):\n\n" + md(pd.DataFrame(rows))
                   + (f"\n\nFailed trials: {', '.join(failed['method'])}." if len(failed) else ""))
    gan = runs_dir / "gan-speed.txt"
    if gan.exists() and gan.read_text().strip():
        out.append("Images/second of training and scoring for `alocc` and `g2d` (`benchmarks/gan_speed.py`, digit 0, one "
                   "thread; `gan-speed.txt`):\n\n" + gan_text(gan.read_text()))
    else:
        out.append("**PENDING: images/second of `alocc` and `g2d`.** Command: `PYTHONPATH=. python benchmarks/gan_speed.py "
                   "--data-root ../shared/data --digit 0 --threads 1 > gan_speed.txt`, then rerun this script with "
                   "`--gan-speed gan_speed.txt`.")
    out.append(DRAFT_SPEED)
    return "\n\n".join(out)


def gan_text(text: str) -> str:
    """gan_speed.py's output as markdown: its '# ...' comment lines become plain lines around the table."""
    out = []
    for line in text.strip().splitlines():
        if line.startswith("#"):
            out.append(("" if not out or not out[-1].startswith("|") else "\n") + line.lstrip("# ").rstrip() + ".\n")
        else:
            out.append(line)
    return "\n".join(out)


DRAFT_SPEED = """\
#### Development measurements of `deep-svdd`, `geom`, pyod (from the earlier notes, code of branch `baselines`)

One invocation per digit, seed 0, one thread, wrapped in `/usr/bin/time`, on this machine while it
was heavily shared (load 4-11 from other runs at higher priority), so wall times are inflated 2-7x;
process CPU seconds are what a trial costs alone on an idle core and include ~12 s of start-up
(imports, reading MNIST, writing results). fit / score = the harness's `fit_seconds` /
`score_seconds` (wall; score = the 10,000-image test pool).

    /usr/bin/time -f "cpu_user %U cpu_sys %S wall %e" nice -n 10 python -m novelbench run -m METHOD \\
        --protocol mnist --data-root ../shared/data --classes DIGIT --threads 1 --device cpu --out results/bl-NAME --json

| method (defaults) | digit | fit s (wall) | score s (wall) | process CPU s | load (1 min) before / after |
|---|---|---|---|---|---|
| `deep-svdd` | 0 | 984.6 | 3.1 | 146.1 | 11.6 / 9.7 |
| `deep-svdd` | 2 | 270.1 | 2.4 | 145.0 | 9.7 / 4.1 |
| `deep-svdd` | 8 | 308.6 | 3.1 | 135.3 | 4.1 / 5.7 |
| `geom` | 0 | 318.6 | 105.6 | 149.1 | 4.5 / 9.9 |
| `geom` | 2 | 225.9 | 98.4 | 143.4 | 9.9 / 10.4 |
| `geom` | 8 | 209.5 | 85.1 | 137.7 | 10.4 / 10.3 |
| `pyod:KNN` | 0 / 2 / 8 | 3.3 / 3.3 / 2.4 | 5.7 / 6.0 / 4.4 | 19.7 / 17.8 / 19.0 | 5.7-6.4 |
| `pyod:IForest` | 0 / 2 / 8 | 1.2 / 1.4 / 0.8 | 0.6 / 0.7 / 0.5 | 15.1 / 14.9 / 14.0 | 4.7-5.9 |
| `pyod:ECOD` | 0 / 2 / 8 | 2.7 / 3.6 / 4.5 | 7.1 / 6.2 / 9.3 | 23.3 / 23.5 / 21.7 | 4.2-4.7 |

Reading of those notes: met by CPU time, not by wall time under that load. A `deep-svdd` or `geom`
trial costs 123-137 CPU seconds (process CPU minus ~12 s start-up), so alone on one core it
finishes inside 180 s. The `geom` default was sized to this on digit 0: widths (8,16,32) took
106.7 process CPU s, (12,24,48) 149.1, (16,32,64) 187.1 CPU s for the trial alone (over budget).
Its scoring is 72 forward passes per image (~40 CPU s for the 10,000 test images). `pyod:ECOD`
with `score_batch=200` costs one ECDF estimation per call, ~100 CPU s per trial.

The `fit_seconds` of the GPU runs in the tables above are not speed measurements (about 25
processes shared one GPU and 16 cores), nor are those of the CPU reference runs, which ran two at a
time on this shared 2-core machine."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, help="folder of run tables (results/reference/runs)")
    parser.add_argument("--collect", type=Path, help="results folder holding the ref-* run folders to copy first")
    parser.add_argument("--gan-speed", type=Path, help="output of benchmarks/gan_speed.py to copy to RUNS/gan-speed.txt")
    args = parser.parse_args()
    if args.collect:
        copied = collect(args.runs, args.collect, args.gan_speed)
        print(f"copied: {', '.join(copied)}", file=sys.stderr)
    tables = load_runs(args.runs)
    if "mnist-crbnd-plus-cuda" not in tables:
        sys.exit(f"no MNIST run tables in {args.runs}; use --collect RESULTS")

    mnist_md, _ = mnist_table(tables)
    print(PAGE_HEAD)
    print("## Verdicts against the issues' targets\n")
    print(md(pd.DataFrame(verdict_rows(tables))), "\n")
    print(SPEED_VERDICT(tables), "\n")
    print("## Runs\n")
    print("Run tables in `runs/` (copies of each run folder's `results.csv`):\n")
    print(runs_section(tables, args.runs), "\n")
    print("## MNIST: every measured method (Table / Figure 3 numbers)\n")
    print("One-vs-rest AUROC = the `pool` mix (one digit against the other nine over the whole 10,000-image test "
          "split), mean ± std over trials; F1 at 10-50 % outliers with the quantile threshold. `fit+score s / trial` "
          "is the harness's wall time per trial as these runs measured it: **not comparable across rows** (GPU rows "
          "ran ~25 processes side by side; see Speed). Rows with fewer than 30 trials are means over the digits "
          "listed, not over all ten.\n")
    print(mnist_md, "\n")
    print("![Figure 3: F1 vs outlier share on MNIST](figure3-mnist.png)\n")
    print("`figure3-mnist.png` / `.pdf` (`bench figure`) draws the 12 methods of the nine full runs (10 digits x 3 seeds) with the "
          "published ALOCC D(R(X)) / D(X), LOF, DRAE and GPND points; the runs on a few digits are left out of the "
          "figure (a curve over 2-6 digits is not comparable to a 10-digit curve) but are in `table1-mnist.md` "
          "(`bench table`) and above.\n")
    print("## Paired comparisons on MNIST (`bench compare`): crbnd-plus against each baseline\n")
    print(compare_section(tables), "\n")
    print("![critical-difference diagram](cd-mnist.png)\n")
    print("## ALOCC (issue 8): fidelity to the published MNIST curves\n")
    print(ALOCC_HEAD)
    print(alocc_section(tables), "\n")
    print("## G2D (issue 8)\n")
    print(g2d_section(tables, args.runs), "\n")
    print("## Deep SVDD (issue 9)\n")
    print(deep_svdd_section(tables), "\n")
    print("## GEOM (issue 9)\n")
    print(geom_section(tables), "\n")
    print("## pyod (issue 9)\n")
    print(pyod_section(tables), "\n")
    print("## Caltech-101: Table 1 layout (issue 8), beside the published Caltech-256 rows\n")
    print(CALTECH_HEAD)
    print(caltech_section(tables), "\n")
    print(transductive_gain(tables), "\n")
    print("## Speed\n")
    print(speed_section(tables, args.runs), "\n")
    print("## Commands\n")
    print(COMMANDS)


def SPEED_VERDICT(tables: dict[str, pd.DataFrame]) -> str:
    s = tables.get(SPEED.name)
    if s is None:
        return ("Speed target (each default <= 180 s fit + score per full-MNIST trial on one CPU thread): **pending** for "
                "`alocc`, `g2d` (issue 8) and the harness measurement of `deep-svdd`, `geom` (issue 9); see Speed for "
                "the command and for the development CPU-time measurements of `deep-svdd`, `geom` and pyod.")
    r = ok(s).drop_duplicates("trial_id")
    parts = [f"`{m}` {float((g['fit_seconds'] + g['score_seconds']).mean()):.0f} s" for m, g in r.groupby("method", sort=False)]
    over = [m for m, g in r.groupby("method", sort=False) if float((g["fit_seconds"] + g["score_seconds"]).mean()) > 180]
    return ("Speed target (each default <= 180 s fit + score per full-MNIST trial on one CPU thread, digit 0): "
            + ", ".join(parts) + (f": **not met by {', '.join(over)}**." if over else ": **met** by every method measured."))


PAGE_HEAD = """\
# Baselines: ALOCC, G2D (issue 8), Deep SVDD, GEOM, pyod (issue 9) beside CRBND

Measured with `bench run` on `../shared/data` (official MNIST; Caltech-101 with `BACKGROUND_Google`
as clutter). Generated by

    python benchmarks/baselines_page.py results/reference/runs > results/reference/baselines.md

from the run tables in `runs/` (add `--collect results` to copy finished run folders first; a run
table not there yet is marked pending). Table 1 / Figure 3 files: `table1-mnist.md`,
`figure3-mnist.png` (`.pdf`), `table1-caltech101*.md`, `cd-mnist.png`; commands at the end.

Devices: the CPU runs (`ocsvm`, `ae`, `crbnd`, Caltech) ran on this 2-core machine, fp32. The GPU
runs ran on a lent H200 with `--device cuda`: training under bf16 autocast, scores in fp32, so their
trial ids differ from CPU trials of the same method. pyod ran on that machine's CPU. All trials of
one (digit, seed) share the same training images and test split whichever device ran them.
"""

ALOCC_HEAD = """\
Published: ALOCC's Figure 8 as transcribed in GPND v1 Table 1 (mean over 10 digits, F1 with inliers
positive, ALOCC's setup has no train/test split and an unstated threshold). Our closest settings:
the `mnist` protocol with the default (1 epoch, the epoch count chosen on the train split, see
`novelbench/methods/alocc.py`) and `mnist-transductive` (ALOCC's own no-split setup) with the
authors' 40 epochs. The default `mnist` runs have 10 digits x 3 seeds; the 40-epoch runs are what
finished inside the device budget (see the digit lists).

"""

CALTECH_HEAD = """\
Our runs are on **Caltech-101** (Caltech-256 is not available offline), 64x64 RGB from raw
pixels, `BACKGROUND_Google` as the clutter class; the published rows are **Caltech-256** (ALOCC's
and CRBND's Table 1) and are labelled as another dataset: context, not a like-for-like comparison.
n = 1, 3, 5 positive categories, the same draws for every method (`--repeats 5`; `ocsvm` has 8),
50 % clutter in the test mix, quantile F1.

"""


if __name__ == "__main__":
    main()
