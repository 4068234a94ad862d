"""Print the issue-12 tables of results/reference/crbnd.md from the run tables copied into RUNS.

    python benchmarks/crbnd_page.py results/reference/runs > /tmp/crbnd-tables.md
    python benchmarks/crbnd_page.py results/reference/runs --speed results/speed-mnist-cpu1/results.csv

RUNS holds the run tables named PREFIX<run>.csv (default: no prefix), each the
results.csv of one run folder (benchmarks/device_reference.sh + benchmarks/collect_runs.py, or a
plain `bench run`):

- ``switch-*``: crbnd with one reading of the paper switched (seed 0, 10 digits); the
  ``crbnd[neg_target=recon]`` rows of ``switch-negtarget`` are the default run on the same device;
- ``mnist-crbnd-4x*``: crbnd at 4x the training budget (digits 1, 2, 3);
- every other ``mnist-*``: full 10 digits x 3 seeds runs of each method;
- runs that do not cover every (digit, seed) of seeds 0-2 (other configurations, or runs that ended
  early) are shown on their own trials, kept out of the full comparison.

Optional: ``--speed TABLE`` (a run table of timing runs, e.g. one thread on an idle CPU) adds a
timing table; ``--older TABLE`` (default RUNS/firstpass/mnist-crbnd-plus.csv, the first pass's
CPU run) pairs crbnd-plus against its
earlier run. Every test is novelbench.benchmark.compare (what
`bench compare` prints): pairs share positive set, repeat and seed; AUROC is one-vs-rest (the
``pool`` mix); Wilcoxon signed-rank, two-sided.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from novelbench.benchmark import compare, published, report

BASELINE = "crbnd[neg_target=recon]"  # the default crbnd in the switch runs (same device as the switches)
PLUS = "crbnd-plus"
TARGET = 0.98
FULL_TRIALS = 30  # 10 digits x seeds 0, 1, 2 per method: a run with fewer is partial


def md(frame: pd.DataFrame, notes: list[str] = ()) -> str:
    return report.render(frame, "markdown", notes)


def f(v: float, signed: bool = False) -> str:
    return "-" if v is None or pd.isna(v) else (f"{v:+.3f}" if signed else f"{v:.3f}")


def pool(t: pd.DataFrame) -> pd.DataFrame:
    return t[(t["status"] == "ok") & (t["mix"] == "pool")]


def pair(table: pd.DataFrame, a: str, b: str) -> compare.Pair:
    """``a`` vs ``b`` on their shared trials, one-vs-rest AUROC (the pool mix), as `bench compare`."""
    rows = table[table["method"].isin([a, b])]
    c = compare.compare(rows, "auroc", mix="pool", by_group=False)[0]
    return next(p for p in c.pairs if {p.a, p.b} == {a, b})


def oriented(p: compare.Pair, a: str) -> dict:
    """The pair's numbers with ``a`` as A (difference a - b)."""
    if p.a == a:
        return {"pairs": p.n, "mean A": f(p.mean_a), "mean B": f(p.mean_b), "A - B": f(p.mean_diff, True),
                "95% CI": f"[{f(p.ci_low, True)}, {f(p.ci_high, True)}]", "A wins/ties/B wins": f"{p.wins}/{p.ties}/{p.losses}",
                "Wilcoxon p": f"{p.p:.3g}" if p.p is not None else p.message}
    return {"pairs": p.n, "mean A": f(p.mean_b), "mean B": f(p.mean_a), "A - B": f(-p.mean_diff, True),
            "95% CI": f"[{f(-p.ci_high, True)}, {f(-p.ci_low, True)}]", "A wins/ties/B wins": f"{p.losses}/{p.ties}/{p.wins}",
            "Wilcoxon p": f"{p.p:.3g}" if p.p is not None else p.message}


def where(t: pd.DataFrame) -> str:
    """Device, precision and torch build of a method's rows (the torch build tells the machines
    apart); each distinct one, with its trial count, when the rows come from several."""
    def one(r) -> str:
        torch = next((v.split("=")[1] for v in str(r.get("versions", "")).split() if v.startswith("torch=")), "?")
        threads = f"{int(r['threads'])} thread" if pd.notna(r.get("threads")) else "threads not recorded"
        return f"{r.get('device', '?')} {r.get('precision', 'fp32')}, {threads}, torch {torch}"

    trials = t.drop_duplicates("trial_id") if "trial_id" in t else t
    kinds = trials.apply(one, axis=1).value_counts()
    return kinds.index[0] if len(kinds) == 1 else "; ".join(f"{k} ({n} trials)" for k, n in kinds.items())


def per_digit(t: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    p = pool(t)
    frame = p[p["method"].isin(methods)].pivot_table(index="positives", columns="method", values="auroc", aggfunc="mean")[methods]
    frame.loc["mean"] = frame.mean()
    return frame.map(f).reset_index(names="digit")


# -- 1. every reading of the paper as a switch ----------------------------------------------------
def switches(runs: dict[str, pd.DataFrame]) -> str:
    table = pd.concat([t for n, t in runs.items() if n.startswith("switch-")])
    table = table[table["seed"] == 0]
    methods = [BASELINE] + [m for m in dict.fromkeys(table["method"]) if m != BASELINE]
    rows = []
    for m in methods[1:]:
        rows.append({"switch (A)": f"`{m}`", "vs default (B)": f"`{BASELINE}`", **oriented(pair(table, m, BASELINE), m)})
    out = [md(pd.DataFrame(rows), [compare.Comparison("mnist", "mnist", "", "auroc", "pool", []).note,
                                   f"Both sides: {where(table[table['method'] == BASELINE])}."])]
    if "mnist-crbnd" in runs:  # the same default on the CPU (this is what the 4x section pairs against)
        cpu = runs["mnist-crbnd"]
        both = pd.concat([table[table["method"] == BASELINE], cpu[cpu["seed"] == 0]])
        row = {"A": "`crbnd` (default, CPU run)", "B": f"`{BASELINE}` (default, GPU run)", **oriented(pair(both, "crbnd", BASELINE), "crbnd")}
        out.append("The same default on the two devices (seed 0; device, precision and torch build differ):\n\n"
                   + md(pd.DataFrame([row]), [f"A: {where(cpu)}. B: {where(table[table['method'] == BASELINE])}."]))
        table = pd.concat([table, cpu[cpu["seed"] == 0]])
        methods = methods + ["crbnd"]
    out.append("One-vs-rest AUROC per digit, seed 0:\n\n" + md(per_digit(table, methods)))
    return "\n\n".join(out)


# -- 2. the faithful method at 4x the training budget ----------------------------------------------
def budget(runs: dict[str, pd.DataFrame]) -> str:
    big = [runs["mnist-crbnd-4x"]] + [t for n, t in runs.items() if n.startswith("mnist-crbnd-4x-")]
    table = pd.concat(big + [runs["mnist-crbnd"], runs["mnist-ocsvm"]])
    labels = [m for t in big for m in dict.fromkeys(t["method"])]
    shared = pool(pd.concat(big))[["positives", "seed"]].drop_duplicates()
    wide = pool(table).pivot_table(index=["positives", "seed"], columns="method", values="auroc")
    wide = wide.loc[pd.MultiIndex.from_frame(shared).sort_values(), labels + ["crbnd", "ocsvm"]]
    trials = wide.map(f).reset_index()
    trials.loc[len(trials)] = ["mean", ""] + [f(v) + (f" ({wide[c].notna().sum()})" if wide[c].isna().any() else "")
                                              for c, v in wide.mean().items()]
    keys = pool(table[table["method"] == labels[0]])[["positives", "seed"]].drop_duplicates()
    same = table.merge(keys, on=["positives", "seed"])  # the 4x run's (digit, seed) trials
    plan = [(labels[0], "ocsvm", table, ""), ("crbnd", "ocsvm", same, ""), (labels[0], "crbnd", table, ""),
            ("crbnd", "ocsvm", table, " (all 10 digits x 3 seeds)")]
    if "switch-negtarget" in runs:  # the 1x default on the 4x runs' device (seed 0 only)
        gpu1x = runs["switch-negtarget"][runs["switch-negtarget"]["method"] == BASELINE]
        plan.append((labels[0], BASELINE, pd.concat([table, gpu1x]), " (1x, same device, seed 0)"))
    plan += [(m, b, table, "") for m in labels[1:] for b in ("ocsvm", "crbnd", labels[0])]
    rows = [{"A": f"`{a}`", "B": f"`{b}`{scope}", **oriented(pair(sub, a, b), a)} for a, b, sub, scope in plan]
    devices = "; ".join(f"`{m}`: {where(table[table['method'] == m])}" for m in labels + ["crbnd", "ocsvm"])
    return ("One-vs-rest AUROC per trial (pool mix):\n\n" + md(trials) + "\n\nPaired (same digit and seed):\n\n"
            + md(pd.DataFrame(rows), [f"Devices: {devices}.", device_note(table, labels)]))


def device_note(table: pd.DataFrame, labels: list[str]) -> str:
    """Which 4x runs differ from the 1x `crbnd` run in device as well as budget."""
    base = where(table[table["method"] == "crbnd"])
    other = [m for m in labels if where(table[table["method"] == m]) != base]
    same = [m for m in labels if m not in other]
    parts = []
    if other:
        parts.append(f"{', '.join(f'`{m}`' for m in other)} differ from the 1x `crbnd` run in device as well as budget")
    if same:
        parts.append(f"{', '.join(f'`{m}`' for m in same)} ran on the same device as the 1x `crbnd` and `ocsvm` runs "
                     "(budget and switch are the only differences)")
    return "; ".join(parts) + "."


# -- 3. crbnd-plus against the target and every other method --------------------------------------
def is_full(t: pd.DataFrame) -> bool:
    """Every method of the run has all 10 digits x 3 seeds finished."""
    done = pool(t).drop_duplicates(["method", "positives", "seed"]).groupby("method").size()
    return bool((done >= FULL_TRIALS).all())


def seconds(t: pd.DataFrame) -> pd.Series:
    one = t[t["status"] == "ok"].drop_duplicates("trial_id")
    return one["fit_seconds"] + one["score_seconds"]


def target(runs: dict[str, pd.DataFrame], older: pd.DataFrame | None) -> str:
    mnist = {n: t for n, t in runs.items() if n.startswith("mnist-") and not n.startswith("mnist-crbnd-4x")}
    full = {n: t for n, t in mnist.items() if is_full(t)}
    table = pd.concat(full.values())
    methods = list(dict.fromkeys(table["method"]))
    others = [m for m in methods if m != PLUS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = compare.compare(table, "auroc", mix="pool", by_group=False)[0]
    plus = pool(table[table["method"] == PLUS])
    mean_plus = plus["auroc"].mean()
    rows = []
    for m in sorted(others, key=lambda m: -pool(table[table["method"] == m])["auroc"].mean()):
        p = next(p for p in c.pairs if {p.a, p.b} == {PLUS, m})
        t = table[table["method"] == m]
        s = seconds(t)
        auc = pool(t)["auroc"].mean()
        row = {"B": f"`{m}`", **oriented(p, PLUS)}
        row["Holm p (all pairs)"] = f"{p.p_holm:.3g}" if p.p_holm is not None else "-"
        row.update({"B: fit+score s/trial": f"{s.mean():.1f}", "B: s per AUROC point above 0.5": f"{s.mean() / (100 * (auc - 0.5)):.2f}",
                    "B: where": where(t)})
        rows.append(row)
    s = seconds(table[table["method"] == PLUS])
    head = pd.DataFrame([{"method": f"`{PLUS}`", "trials": plus["trial_id"].nunique(), "mean one-vs-rest AUROC": f"{mean_plus:.4f}",
                          "std over trials": f(plus["auroc"].std()), f"target {TARGET}": f"missed by {TARGET - mean_plus:.4f}" if mean_plus < TARGET else "met",
                          "fit+score s/trial": f"{s.mean():.1f}", "s per AUROC point above 0.5": f"{s.mean() / (100 * (mean_plus - 0.5)):.2f}",
                          "where": where(table[table["method"] == PLUS])}])
    out = [md(head), f"`{PLUS}` (A) against every other method (B), 10 digits x 3 seeds:\n\n" + md(pd.DataFrame(rows), [
        c.note, f"Holm: over all {len(c.pairs)} pairs of the {len(methods)} methods (what `bench compare` prints for these tables)."
        + (f" Friedman test over the {c.blocks} trials every method has: chi2 = {c.friedman_stat:.3g}, p = {c.friedman_p:.3g}."
           if c.friedman_p is not None else ""),
        "Seconds: fit + test-pool scoring per trial as the rows record them, on the device the `where` column names. "
        "Runs that shared their machine with other processes do not measure speed; then the cost column only orders "
        "methods roughly."])]
    if c.ranks is not None:
        out.append("Mean rank over the trials every method has (1 = best):\n\n" + md(c.ranks_frame()))
    if older is not None and PLUS in set(older["method"]):
        both = pd.concat([table[table["method"] == PLUS], older.assign(method=f"{PLUS} (first pass, CPU)")])
        row = {"A": f"`{PLUS}` (this run)", "B": f"`{PLUS}` (first pass, CPU)", **oriented(pair(both, PLUS, f"{PLUS} (first pass, CPU)"), PLUS)}
        out.append(f"The same preset, this run against the first pass's CPU run (device, precision, torch build and "
                   f"the code of the time differ):\n\n" + md(pd.DataFrame([row]), [f"B: {where(older)}."]))
    # F1 (quantile) against GPND's published curve
    mixes = table[(table["method"] == PLUS) & (table["status"] == "ok") & (table["mix"] != "pool")]
    pub = published.table()
    gpnd_ref = [r for r in published.references("mnist", ["mnist"], "matching") if r.method == "GPND v1"]
    gpnd = pub[(pub["method"] == "GPND v1") & (pub["dataset"] == "mnist") & (pub["metric"] == "f1")].set_index("setting")["value"]
    f1 = []
    for pct, rows_p in mixes.groupby("outlier_pct"):
        g = gpnd.get(f"p{pct:g}", np.nan)
        q, v = rows_p["f1_quantile"].mean(), rows_p["f1_validation"].mean()
        f1.append({"outlier %": f"{pct:g}", f"{PLUS} F1 quantile": f(q), f"{PLUS} F1 validation": f(v), "GPND v1 (published)": f(g),
                   "quantile - GPND": f"{q - g:+.4f}", "above GPND?": "yes" if q > g else "no"})
    out.append(f"F1 of `{PLUS}` against GPND's published curve (mean over 10 digits x 3 seeds):\n\n"
               + md(pd.DataFrame(f1), [report.f1_note("quantile"), report.f1_note("validation"),
                                       "GPND v1: " + " ".join(published.footnotes(gpnd_ref))]))
    best = [m for m in others if pool(table[table["method"] == m])["auroc"].mean() >= mean_plus - 0.05]
    out.append(f"One-vs-rest AUROC per digit (mean over seeds): `{PLUS}` and the methods within 0.05 of it on average:\n\n"
               + md(per_digit(table, [PLUS] + best)))
    partial = {n: t for n, t in mnist.items() if n not in full}
    if partial:
        rows = []
        for n, t in partial.items():
            for m in dict.fromkeys(t["method"]):
                both = pd.concat([table[table["method"] == PLUS], t[t["method"] == m]])
                rows.append({"B": f"`{m}`", **oriented(pair(both, PLUS, m), PLUS), "B: where": where(t)})
        out.append(f"Runs that do not cover all 10 digits x 3 seeds (other configurations, or runs that ended early): `{PLUS}` (A) on their trials only:\n\n"
                   + md(pd.DataFrame(rows)))
    return "\n\n".join(out)


def speed(t: pd.DataFrame) -> str:
    rows = []
    for m, r in t[t["status"] == "ok"].drop_duplicates("trial_id").groupby("method", sort=False):
        s = r["fit_seconds"] + r["score_seconds"]
        rows.append({"method": f"`{m}`", "trials": len(r), "fit+score s (mean)": f"{s.mean():.1f}", "fit+score s (max)": f"{s.max():.1f}",
                     "score s (mean)": f"{r['score_seconds'].mean():.1f}", "where": where(r)})
    return md(pd.DataFrame(rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", type=Path, help="folder of the run tables (PREFIX<run>.csv)")
    ap.add_argument("--prefix", default="")
    ap.add_argument("--speed", type=Path, help="run table of timing runs (optional)")
    ap.add_argument("--older", type=Path, help="crbnd-plus's earlier run table (default RUNS/firstpass/mnist-crbnd-plus.csv if present)")
    args = ap.parse_args()
    runs = {p.stem[len(args.prefix):]: pd.read_csv(p) for p in sorted(args.runs.glob(f"{args.prefix}*.csv"))}
    older_path = args.older or args.runs / "firstpass" / "mnist-crbnd-plus.csv"
    older = pd.read_csv(older_path) if older_path.exists() else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        print("### 1. Each reading of the paper against the default (seed 0, 10 digits, one-vs-rest AUROC)\n")
        print(switches(runs), "\n")
        print("### 2. The faithful method at 4x the training budget (digits 1, 2, 3 x seeds 0, 1, 2)\n")
        print(budget(runs), "\n")
        print(f"### 3. `{PLUS}` against the target (mnist, 10 digits x 3 seeds)\n")
        print(target(runs, older), "\n")
        if args.speed:
            print(f"### Timing runs ({args.speed.parent.name})\n")
            print(speed(pd.read_csv(args.speed)))


if __name__ == "__main__":
    main()
