"""Verdict tables: each row a target, the value measured from run tables, and whether the target
is met, computed from the numbers (never typed). A row is declared in a page spec:

    [[block.rows]]
    target = "`geom` within 2 AUROC points of the published mean"
    method = "geom"                 # omitted: every method of the row's runs, each must pass
    metric = "auroc"                # auroc, aupr, an F1 column, or "seconds" (fit + score per trial)
    mix = "pool"                    # or a list; default: the protocol's own AUROC mix / every F1 mix
    stat = "mean"                   # mean, median, min, max, "trials" (fewest finished per group),
                                    # "seed_std" (median over positive sets of the std over seeds),
                                    # "thread_change" (largest |change| of a trial between --threads 1 and 2)
                                    # or "cue_r" (Pearson r, across positive sets, of the mean metric with
                                    # a column of a csv that has a `positives` column, named by
                                    # cue = {file = "runs/cues-mnist.csv", column = "ink_auroc"})
    check = "within"                # <, <=, >, >=, within (|value - than| <= tolerance)
    than = {published = "GEOM"}     # a number, "trivial" (the all-inliers F1) or a published row
                                    # (its mean over classes; positives = "1 - one" picks a per-class value)
    tolerance = 0.02
    need = "all"                    # with several mixes: "all", or how many must pass

A paired row asks whether one method differs from another as `bench compare` of the row's runs
says (Holm-corrected when the runs hold 3+ methods):

    [[block.rows]]
    target = "`crbnd-plus` ahead of `deep-svdd`"
    pair = ["crbnd-plus", "deep-svdd"]
    check = "greater"               # greater, less, differs, or same (tested, no significant difference)
"""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd

from novelbench.benchmark import compare as compare_mod
from novelbench.benchmark import published
from novelbench.benchmark.metrics import trivial_f1
from novelbench.benchmark.page import check_types
from novelbench.benchmark.page_blocks import default_mix, finished, md, num, trials
from novelbench.errors import NovelbenchError

ROW_KEYS = {"target", "runs", "where", "methods", "method", "metric", "mix", "stat", "check", "than", "tolerance",
            "need", "pair", "cue"}
OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
STATS = {"mean": np.mean, "median": np.median, "min": np.min, "max": np.max}
SPECIAL_STATS = ("trials", "seed_std", "thread_change", "cue_r")
PAIR_CHECKS = ("greater", "less", "differs", "same")


def met_text(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def check(page, spec: dict, where: str) -> None:
    """Every row's keys, target, check and run tables, before anything is computed."""
    if not spec.get("rows"):
        raise NovelbenchError(f"{where}: a verdict block needs [[block.rows]]")
    for i, row in enumerate(spec["rows"]):
        at = f"{where}, row {i + 1}"
        if not isinstance(row, dict):
            raise NovelbenchError(f"{at}: rows are [[block.rows]] tables, not {row!r}")
        check_types(row, at)
        extra = set(row) - ROW_KEYS
        if extra:
            raise NovelbenchError(f"{at}: unknown key(s) {', '.join(sorted(extra))}")
        if "target" not in row:
            raise NovelbenchError(f"{at}: no `target` text")
        if "pair" in row:
            if not (isinstance(row["pair"], list) and len(row["pair"]) == 2):
                raise NovelbenchError(f"{at}: `pair` names two methods, e.g. [\"crbnd-plus\", \"ocsvm\"]")
            if row.get("check", "greater") not in PAIR_CHECKS:
                raise NovelbenchError(f"{at}: a paired row's check is one of {', '.join(PAIR_CHECKS)}")
        else:
            if row.get("check") not in OPERATORS and row.get("check") != "within":
                raise NovelbenchError(f"{at}: check is one of {', '.join(OPERATORS)}, within (or, with `pair`, "
                                      f"{', '.join(PAIR_CHECKS)})")
            if "than" not in row:
                raise NovelbenchError(f"{at}: no `than` (a number, \"trivial\" or {{published = NAME}})")
            if row.get("stat", "mean") not in (*STATS, *SPECIAL_STATS):
                raise NovelbenchError(f"{at}: stat is one of {', '.join((*STATS, *SPECIAL_STATS))}; not {row['stat']!r}")
            if (row.get("stat") == "cue_r") != ("cue" in row):
                raise NovelbenchError(f"{at}: stat \"cue_r\" and `cue` go together")
            if "cue" in row:
                _cue(page, row, at)
        page.refs(row.get("runs", spec.get("runs")), at)


def render(page, spec: dict, where: str) -> str:
    out = []
    for i, row in enumerate(spec["rows"]):
        at = f"{where}, row {i + 1}"
        table = page.table({**{k: v for k, v in spec.items() if k in ("where", "methods")}, **row}, at, spec.get("runs"))
        if "pair" in row:
            measured, reference, met = paired(page, table, row, at)
        else:
            measured, reference, met = measured_row(page, table, row, at)
        out.append({"target": row["target"], "measured": measured, "reference": reference, "met?": met})
    return md(pd.DataFrame(out))


def paired(page, table: pd.DataFrame, row: dict, at: str) -> tuple[str, str, str]:
    a, b = row["pair"]
    check = row.get("check", "greater")
    # rows on the same trials share one comparison (its bootstrap intervals are the slow part)
    key = (tuple(sorted(set(zip(table["trial_id"], table["method"])))), row.get("metric", "auroc"), row.get("mix"))
    if key not in page.comparisons:
        page.comparisons[key] = compare_mod.compare(table, key[1], key[2], by_group=False)[0]
    comparison = page.comparisons[key]
    pair = next((p.facing(a) for p in comparison.pairs if {p.a, p.b} == {a, b}), None)
    if pair is None:
        raise NovelbenchError(f"{at}: {a} and {b} are not both in these runs")
    p = pair.p_holm if pair.p_holm is not None else pair.p
    measured = (f"{a} - {b} = {num(pair.mean_diff, signed=True)} over {pair.n} pairs "
                f"({pair.wins} / {pair.ties} / {pair.losses} wins / ties / losses); {pair.message or pair.verdict()}")
    holm = f", Holm over {len(comparison.pairs)} pairs" if len(comparison.methods) > 2 else ""
    reference = f"Wilcoxon{holm}, alpha {compare_mod.ALPHA}"
    if p is None:
        return measured, reference, "**not met** (no test)"
    significant = p < compare_mod.ALPHA
    ok = {"greater": significant and pair.mean_diff > 0, "less": significant and pair.mean_diff < 0,
          "differs": significant, "same": not significant}[check]
    return measured, reference, met_text(ok)


def measured_row(page, table: pd.DataFrame, row: dict, at: str) -> tuple[str, str, str]:
    metric, stat, check = row.get("metric", "auroc"), row.get("stat", "mean"), row.get("check")
    if metric != "seconds" and metric not in table.columns:
        raise NovelbenchError(f"{at}: these run tables have no {metric!r} column")
    whole = stat == "trials" or metric == "seconds"
    mixes = ["all"] if whole else _mixes(table, row, metric)
    methods = [row["method"]] if "method" in row else list(dict.fromkeys(finished(table)["method"]))
    references = [_reference(table, row, metric, mix, at) for mix in mixes]
    cue = _cue(page, row, at) if stat == "cue_r" else None
    measured, failing, counts = [], [], []
    for method in methods:
        rows = finished(table[table["method"] == method])
        if rows.empty:
            raise NovelbenchError(f"{at}: no finished trials of {method}")
        if stat == "thread_change":
            results = [_thread_stability(rows, metric, mix, at) for mix in mixes]
            values = [float(r.methods["max_abs_change"].max()) for r in results]
            n, unit = len(results[0].pairs), "trial pair"
        elif stat == "cue_r":
            values, n = zip(*[_cue_r(rows, metric, mix, cue, at) for mix in mixes])
            n, unit = n[0], "positive set"
        else:
            values = [_value(rows, metric, stat, mix) for mix in mixes]
            n, unit = rows["trial_id"].nunique(), "trial"
        passed = [_passes(v, ref, check, row.get("tolerance", 0.0)) for v, ref in zip(values, references)]
        need = len(passed) if row.get("need", "all") == "all" else int(row["need"])
        if sum(passed) < need:
            failing.append(method)
        counts.append(sum(passed))
        shown = " / ".join(_fmt(v, metric, stat) for v in values)
        measured.append((f"`{method}` " if len(methods) > 1 else "") + shown + ("" if stat == "trials" else f" ({n} {unit}{'s' if n > 1 else ''})"))
    cut = f"within ±{row.get('tolerance', 0.0):g} of " if check == "within" else f"{check} "
    reference = cut + " / ".join(_fmt(r, metric, stat) for r in references) + _source(row)
    met = met_text(not failing)
    if len(mixes) > 1 and len(methods) == 1:
        met += f" ({counts[0]} of {len(mixes)} mixes)"
    elif failing and len(methods) > 1:
        met += " by " + ", ".join(f"`{m}`" for m in failing)
    return "; ".join(measured), reference, met


def _mixes(table: pd.DataFrame, row: dict, metric: str) -> list[str]:
    if "mix" in row:
        return row["mix"] if isinstance(row["mix"], list) else [row["mix"]]
    if metric.startswith("f1_"):
        mixes = finished(table)
        mixes = mixes[mixes["mix"] != "pool"].drop_duplicates("mix").sort_values("outlier_pct")
        return list(mixes["mix"])
    return [default_mix(table, metric)]


def _at_mix(rows: pd.DataFrame, mix: str) -> pd.DataFrame:
    """One row per trial: its row of the given mix."""
    return rows.loc[rows["mix"] == mix].drop_duplicates("trial_id")


def _thread_stability(rows: pd.DataFrame, metric: str, mix: str, at: str):
    """`bench stability` of one method's rows (its --threads 1 and 2 trials), errors naming the row."""
    from novelbench.benchmark.stability import thread_stability

    try:
        return thread_stability(rows, metric, mix=mix)
    except NovelbenchError as err:
        raise NovelbenchError(f"{at}: {err}") from None


def _cue(page, row: dict, at: str) -> pd.Series:
    """The cue column of a verdict row, indexed by `positives`."""
    cue = row["cue"]
    if not (isinstance(cue, dict) and set(cue) == {"file", "column"}):
        raise NovelbenchError(f"{at}: cue = {{file = \"runs/cues.csv\", column = \"ink_auroc\"}}, not {cue!r}")
    path = page.folder / str(cue["file"])
    if not path.is_file():
        raise NovelbenchError(f"{at}: no file {cue['file']} (paths are relative to the spec's folder)")
    frame = pd.read_csv(path)
    for column in ("positives", cue["column"]):
        if column not in frame.columns:
            raise NovelbenchError(f"{at}: {cue['file']} has no {column!r} column")
    return frame.set_index("positives")[cue["column"]]


def _cue_r(rows: pd.DataFrame, metric: str, mix: str, cue: pd.Series, at: str) -> tuple[float, int]:
    """Pearson r across positive sets of the mean metric with the cue, and how many sets it joins."""
    means = _at_mix(rows, mix).groupby("positives")[metric].mean().dropna()
    joined = means.index.intersection(cue.index)
    if len(joined) < 3:
        raise NovelbenchError(f"{at}: only {len(joined)} positive set(s) of these runs are in the cue file (need 3)")
    return float(np.corrcoef(means[joined], cue[joined].astype(float))[0, 1]), len(joined)


def _value(rows: pd.DataFrame, metric: str, stat: str, mix: str) -> float:
    if stat == "trials":  # the fewest finished trials of any group (e.g. n=1, 3, 5)
        return float(trials(rows).groupby("group")["trial_id"].nunique().min())
    if stat == "seed_std":  # how much a positive set's metric moves with the seed, typically
        spread = _at_mix(rows, mix).groupby("positives")[metric].std(ddof=1).dropna()
        return float(np.median(spread)) if len(spread) else np.nan
    if metric == "seconds":
        done = trials(rows)
        values = done["fit_seconds"] + done["score_seconds"]
    else:
        values = _at_mix(rows, mix)[metric].dropna()
    return float(STATS[stat](values)) if len(values) else np.nan


def _reference(table: pd.DataFrame, row: dict, metric: str, mix: str, at: str) -> float:
    than = row["than"]
    if isinstance(than, (int, float)):
        return float(than)
    if than == "trivial":
        share = finished(table).loc[lambda t: t["mix"] == mix, "outlier_pct"]
        if share.empty or mix == "pool":
            raise NovelbenchError(f"{at}: the trivial floor needs a mix with a known outlier share, not {mix!r}")
        return trivial_f1(float(share.iloc[0]) / 100)
    if isinstance(than, dict) and set(than) <= {"published", "dataset", "positives"} and "published" in than:
        pub = published.table()
        dataset = than.get("dataset") or table["dataset"].iloc[0]
        kind = "f1" if metric.startswith("f1_") else metric
        positives = str(than.get("positives", ""))
        hit = pub[(pub["method"] == than["published"]) & (pub["dataset"] == dataset) & (pub["setting"] == mix)
                  & (pub["metric"] == kind) & (pub["positives"] == positives)]["value"].astype(float).unique()
        if len(hit) != 1:
            of = f", positive set {positives!r}" if positives else ""
            raise NovelbenchError(f"{at}: published.csv has {len(hit)} values of {than['published']} on {dataset}, "
                                  f"{mix}, {kind}{of} (need exactly one)")
        return float(hit[0])
    raise NovelbenchError(f"{at}: `than` is a number, \"trivial\" or {{published = NAME, dataset = D, positives = P}}, "
                          f"not {than!r}")


def _source(row: dict) -> str:
    than = row["than"]
    if than == "trivial":
        return " (the all-inliers F1)"
    if isinstance(than, dict):
        of = f", positive set {than['positives']}" if than.get("positives") else ""
        return f" (published: {than['published']}{of})"
    return ""


def _passes(value: float, reference: float, check: str, tolerance: float) -> bool:
    if np.isnan(value):
        return False
    if check == "within":
        return abs(value - reference) <= tolerance + 1e-12
    return bool(OPERATORS[check](value, reference))


def _fmt(value: float, metric: str, stat: str) -> str:
    if stat == "trials":
        return "-" if np.isnan(value) else f"{value:.0f}"
    if stat == "cue_r":
        return num(value, 2, signed=True)
    return num(value, 1 if metric == "seconds" else 3)
