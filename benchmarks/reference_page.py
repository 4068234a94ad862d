"""Print the first pass's measured tables of results/reference/crbnd.md from its run tables.

    python benchmarks/reference_page.py results/reference/runs/firstpass > /tmp/tables.md

Every number comes from a run table written by `bench run` (the first pass's
benchmarks/reference_runs.sh). The second pass's tables: benchmarks/crbnd_page.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from novelbench.benchmark import compare, report


def load(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / f"{name}.csv"
    return pd.read_csv(path) if path.exists() else None


def md(frame: pd.DataFrame, notes: list[str] = ()) -> str:
    return report.render(frame, "markdown", notes)


def protocol_md(table: pd.DataFrame, protocol: str, policy: str, measured_only: bool = False) -> str:
    """The protocol's table with its notes (F1 policy, published sources); measured rows only if asked."""
    made = report.protocol_table(table, protocol, policy, "none" if measured_only else "all")
    frame = made.frame[~made.frame["method"].str.startswith("trivial floor")] if measured_only else made.frame
    return md(frame, made.notes)


def compare_md(table: pd.DataFrame, metric: str = "auroc") -> str:
    """Paired comparisons (bench compare) of the methods in ``table``, one block per scope."""
    parts = []
    for c in compare.compare(table, metric):
        parts.append(f"{c.title}:\n\n" + md(c.pairs_frame()) + ("\n\n" + c.rank_summary() if c.rank_summary() else ""))
    return "\n\n".join(parts) + "\n\n" + compare.compare(table, metric)[0].note


def per_digit(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One-vs-rest AUROC (whole test split) per digit, mean over seeds."""
    cols = {}
    for name, t in tables.items():
        pool = t[(t["mix"] == "pool") & (t["status"] == "ok")]
        for method, rows in pool.groupby("method", sort=False):
            cols[method] = rows.groupby("positives")["auroc"].mean()
    frame = pd.DataFrame(cols)
    frame.loc["mean"] = frame.mean()
    return frame.map(lambda v: f"{v:.3f}").reset_index(names="digit")


def policies(t: pd.DataFrame) -> pd.DataFrame:
    rows = t[(t["status"] == "ok") & (t["mix"] != "pool")]
    out = rows.groupby(["method", "outlier_pct"])[["auroc", "f1_quantile", "f1_validation", "f1_oracle", "f1_native", "f1_trivial"]].mean()
    return out.map(lambda v: "-" if pd.isna(v) else f"{v:.3f}").reset_index()


def timings(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = []
    for name, t in tables.items():
        ok = t[t["status"] == "ok"].drop_duplicates("trial_id")
        for method, r in ok.groupby("method", sort=False):
            rows.append({"run": name, "method": method, "trials": len(r), "fit s (mean)": f"{r['fit_seconds'].mean():.1f}",
                         "fit s (max)": f"{r['fit_seconds'].max():.1f}", "score s (mean)": f"{r['score_seconds'].mean():.1f}",
                         "n_train (mean)": f"{r['n_train'].mean():.0f}", "n_test (first mix)": f"{r['n_test'].mean():.0f}"})
    return pd.DataFrame(rows)


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "results/reference/runs")
    names = sorted(p.stem for p in folder.glob("*.csv"))
    tables = {n: load(folder, n) for n in names}
    mnist = {n: t for n, t in tables.items() if t["protocol"].iloc[0] == "mnist"}
    caltech = {n: t for n, t in tables.items() if t["protocol"].iloc[0] == "caltech"}
    main_runs = {n: t for n, t in mnist.items() if not n.startswith("ablation")}
    ablations = {n: t for n, t in mnist.items() if n.startswith("ablation") or n in ("mnist-crbnd", "mnist-crbnd-plus")}

    print("## MNIST: F1 (quantile threshold) vs outlier %, and one-vs-rest AUROC\n")
    print(protocol_md(pd.concat(main_runs.values()), "mnist", "quantile"), "\n")
    print("## MNIST: every threshold policy (mean over digits and seeds)\n")
    print(md(policies(pd.concat(main_runs.values()))), "\n")
    print("## MNIST: one-vs-rest AUROC per digit (whole test split, mean over seeds)\n")
    print(md(per_digit(main_runs)), "\n")
    if ablations:
        print("## Ablations (MNIST, seed 0 where the run has one seed): one-vs-rest AUROC per digit\n")
        seed0 = {n: t[t["seed"] == 0] for n, t in ablations.items()}
        print(md(per_digit(seed0)), "\n")
        print("F1 (quantile) vs outlier %, seed 0:\n")
        print(protocol_md(pd.concat(seed0.values()), "mnist", "quantile", measured_only=True), "\n")
    if caltech:
        print("## Caltech-101 clutter protocol (Table 1 layout; published rows are Caltech-256)\n")
        print(protocol_md(pd.concat(caltech.values()), "caltech", "quantile"), "\n")
        common = min(t["repeat"].max() for t in caltech.values()) + 1
        same = pd.concat(t[t["repeat"] < common] for t in caltech.values())
        print(f"The same {common} draws per n for every method (repeats 0-{common - 1}), quantile F1:\n")
        print(protocol_md(same, "caltech", "quantile", measured_only=True), "\n")
        print("Same draws, validation-threshold F1 (the threshold is tuned on held-out inliers + labelled clutter):\n")
        print(protocol_md(same, "caltech", "validation", measured_only=True), "\n")
    print("## Paired comparisons (bench compare: the same positive set, repeat and seed)\n")
    print(compare_md(pd.concat(main_runs.values())), "\n")
    if caltech:
        print(compare_md(pd.concat(caltech.values())), "\n")
    print("## Timings (per trial; 2 local processes with 1 CPU thread each on a 2-core machine)\n")
    print(md(timings(tables)))


if __name__ == "__main__":
    main()
