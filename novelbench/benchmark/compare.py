"""Paired comparison of methods: is a difference between two methods real?

Trials of different methods are paired when they share (protocol, dataset, positive set, repeat,
seed) on one test mix, so each pair saw the same training images and the same test mix. For two
methods: the mean difference with a bootstrap confidence interval (scipy), wins / ties / losses
and the Wilcoxon signed-rank p-value (scipy). For three or more: average ranks over the trials
every method has, the Friedman test (scipy), Nemenyi post-hoc p-values and a critical-difference
diagram (scikit-posthocs), and every pair's Wilcoxon p-value Holm-corrected (statsmodels).

Too few pairs get a message instead of a p-value: with m untied pairs the smallest two-sided
Wilcoxon p-value possible is 2 / 2**m (0.0625 at m = 5), so a test on fewer than ``MIN_PAIRS``
untied pairs could never say anything.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from novelbench.benchmark.report import layout_of, metric_label, metric_note
from novelbench.benchmark.summary import SCORED
from novelbench.errors import NovelbenchError

#: the identity of a pair: the same positive set, repeat and seed (and so the same split)
PAIR_KEYS = ["protocol", "dataset", "group", "positives", "repeat", "seed"]
MIN_PAIRS = 6
CONFIDENCE = 0.95
RESAMPLES = 9999
ALPHA = 0.05


@dataclass
class Pair:
    """Method ``a`` against method ``b`` over their shared trials (difference = a - b)."""

    a: str
    b: str
    n: int
    mean_a: float = np.nan
    mean_b: float = np.nan
    mean_diff: float = np.nan
    ci_low: float = np.nan
    ci_high: float = np.nan
    wins: int = 0  # a > b
    ties: int = 0
    losses: int = 0  # a < b
    p: float | None = None  # Wilcoxon signed-rank, two-sided
    p_holm: float | None = None  # Holm-corrected over the comparison's pairs (3+ methods)
    message: str = ""  # why there is no test, when there is none

    def facing(self, a: str) -> "Pair":
        """The same pair with ``a`` as A (difference = a - b), for tables about one method."""
        if self.a == a:
            return self
        if self.b != a:
            raise NovelbenchError(f"{a} is not in the pair {self.a} / {self.b}")
        return replace(self, a=self.b, b=self.a, mean_a=self.mean_b, mean_b=self.mean_a, mean_diff=-self.mean_diff,
                       ci_low=-self.ci_high, ci_high=-self.ci_low, wins=self.losses, losses=self.wins)

    def verdict(self, alpha: float = ALPHA) -> str:
        p = self.p_holm if self.p_holm is not None else self.p
        if p is None:
            return "no test"
        if p >= alpha:
            return f"no significant difference (p = {p:.3g})"
        better, worse = (self.a, self.b) if self.mean_diff > 0 else (self.b, self.a)
        return f"{better} > {worse} (p = {p:.3g})"


@dataclass
class Comparison:
    """Every method of one (protocol, dataset) on one test mix, over all groups or one group."""

    protocol: str
    dataset: str
    scope: str  # "all positive sets" or one group such as "n=3"
    metric: str
    mix: str
    methods: list[str]
    pairs: list[Pair] = field(default_factory=list)
    blocks: int = 0  # trials every method has (the rank analysis uses only these)
    ranks: pd.Series | None = None  # mean rank per method, 1 = best
    friedman_stat: float | None = None
    friedman_p: float | None = None
    nemenyi: pd.DataFrame | None = None
    rank_message: str = ""

    @property
    def title(self) -> str:
        return f"{self.protocol} protocol on {self.dataset}, {self.scope}: {metric_label(self.metric)} on the {self.mix} mix"

    @property
    def note(self) -> str:
        return (f"{metric_note(self.metric)} Pairs share positive set, repeat and seed; differences are A - B; "
                f"{CONFIDENCE:.0%} bootstrap CI (BCa, {RESAMPLES} resamples); Wilcoxon "
                f"signed-rank two-sided; no test below {MIN_PAIRS} untied pairs.")

    def pairs_frame(self) -> pd.DataFrame:
        rows = []
        for p in self.pairs:
            row = {"A": p.a, "B": p.b, "pairs": p.n, "mean A": _f(p.mean_a), "mean B": _f(p.mean_b),
                   "A - B": _f(p.mean_diff, signed=True),
                   f"{CONFIDENCE:.0%} CI": f"[{_f(p.ci_low, signed=True)}, {_f(p.ci_high, signed=True)}]" if not np.isnan(p.ci_low) else "-",
                   "A wins/ties/B wins": f"{p.wins}/{p.ties}/{p.losses}",
                   "Wilcoxon p": f"{p.p:.3g}" if p.p is not None else "-"}
            if len(self.methods) > 2:
                row["Holm p"] = f"{p.p_holm:.3g}" if p.p_holm is not None else "-"
            row["reading"] = p.message or p.verdict()
            rows.append(row)
        return pd.DataFrame(rows)

    def ranks_frame(self) -> pd.DataFrame:
        if self.ranks is None:
            return pd.DataFrame()
        return pd.DataFrame({"method": self.ranks.index, "mean rank (1 = best)": [f"{r:.2f}" for r in self.ranks.values]})

    def rank_summary(self) -> str:
        if len(self.methods) < 3:
            return ""
        if self.friedman_p is None:
            return self.rank_message
        return (f"Friedman test over {self.blocks} trials every method has: chi2 = {self.friedman_stat:.3g}, "
                f"p = {self.friedman_p:.3g}. Nemenyi post-hoc: methods joined by a bar in the diagram do not differ "
                f"at alpha = {ALPHA}.")

    def cd_figure(self):
        """The critical-difference diagram (scikit-posthocs; Nemenyi p-values), or None."""
        if self.ranks is None or self.nemenyi is None:
            return None
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import scikit_posthocs as sp

        fig, ax = plt.subplots(figsize=(7.0, 0.9 + 0.32 * len(self.methods)))
        sp.critical_difference_diagram(self.ranks, self.nemenyi, ax=ax, alpha=ALPHA,
                                       label_fmt_left="{label} ({rank:.2f})", label_fmt_right="({rank:.2f}) {label}")
        ax.set_title(f"{self.title}\nmean rank over {self.blocks} shared trials (1 = best); bar = no significant "
                     f"difference (Nemenyi, alpha {ALPHA})", fontsize=8)
        fig.tight_layout()
        return fig

    def to_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "dataset": self.dataset, "scope": self.scope, "metric": self.metric, "mix": self.mix,
                "methods": self.methods, "note": self.note,
                "pairs": [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in p.__dict__.items()} for p in self.pairs],
                "blocks": self.blocks, "ranks": None if self.ranks is None else {k: float(v) for k, v in self.ranks.items()},
                "friedman_stat": self.friedman_stat, "friedman_p": self.friedman_p,
                "nemenyi": None if self.nemenyi is None else self.nemenyi.to_dict(), "rank_message": self.rank_message}


def _f(value: float, signed: bool = False) -> str:
    if value is None or np.isnan(value):
        return "-"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def default_mix(protocol: str) -> str | None:
    """The mix a protocol's own table uses (``layout.mix``, else ``layout.auroc_mix``)."""
    layout = layout_of(protocol)
    return layout.mix or layout.auroc_mix


def paired_frame(table: pd.DataFrame, metric: str, mix: str) -> pd.DataFrame:
    """One row per (protocol, dataset, group, positive set, repeat, seed), one column per method."""
    rows = table[(table["status"] == "ok") & (table["mix"] == mix)].drop_duplicates(["trial_id", "mix"])
    dup = rows.duplicated(PAIR_KEYS + ["method"], keep=False)
    if dup.any():
        first = rows[dup].iloc[0]
        raise NovelbenchError(f"{first['method']} has {int(dup.sum())} trials for the same positive set, repeat and seed "
                              f"({first['protocol']}/{first['dataset']}, {first['positives']}): these inputs mix runs with "
                              f"different protocol options or code; compare one of them")
    wide = rows.pivot(index=PAIR_KEYS, columns="method", values=metric)
    return wide[list(dict.fromkeys(rows["method"]))]


def compare_pair(a: str, b: str, x: pd.Series, y: pd.Series, min_pairs: int = MIN_PAIRS) -> Pair:
    """``a`` vs ``b`` on the pairs where both have a value."""
    from scipy import stats

    both = pd.concat([x, y], axis=1).dropna()
    n = len(both)
    pair = Pair(a, b, n)
    if n == 0:
        pair.message = "no shared trials (same positive set, repeat and seed)"
        return pair
    xa, xb = both.iloc[:, 0].to_numpy(float), both.iloc[:, 1].to_numpy(float)
    diffs = xa - xb
    pair.mean_a, pair.mean_b, pair.mean_diff = float(xa.mean()), float(xb.mean()), float(diffs.mean())
    pair.wins, pair.ties, pair.losses = int((diffs > 0).sum()), int((diffs == 0).sum()), int((diffs < 0).sum())
    untied = n - pair.ties
    if untied < min_pairs:
        smallest = 2.0 / 2**untied if untied else 1.0
        pair.message = f"no test: {untied} untied pairs (smallest possible p {smallest:.3g}; needs {min_pairs})"
        return pair
    pair.ci_low, pair.ci_high = bootstrap_ci(diffs)
    pair.p = float(stats.wilcoxon(xa, xb).pvalue)
    return pair


def bootstrap_ci(diffs: np.ndarray) -> tuple[float, float]:
    """BCa bootstrap CI of the mean difference (percentile where BCa is undefined), seeded."""
    from scipy import stats

    if np.ptp(diffs) == 0:
        return float(diffs[0]), float(diffs[0])
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = stats.bootstrap((diffs,), np.mean, confidence_level=CONFIDENCE, n_resamples=RESAMPLES,
                                  method=method, rng=np.random.default_rng(0))
        low, high = res.confidence_interval
        if np.isfinite(low) and np.isfinite(high):
            return float(low), float(high)
    return np.nan, np.nan


def _ranks(comparison: Comparison, wide: pd.DataFrame, min_pairs: int) -> None:
    import scikit_posthocs as sp
    from scipy import stats

    complete = wide[comparison.methods].dropna()
    comparison.blocks = len(complete)
    if len(complete) < min_pairs:
        comparison.rank_message = (f"no rank analysis: only {len(complete)} trial(s) that every method has "
                                   f"(need {min_pairs}); see the pairwise table")
        return
    comparison.ranks = complete.rank(axis=1, ascending=False).mean().sort_values()
    if (complete.nunique(axis=1) == 1).all():
        comparison.rank_message = "no rank analysis: every method scores the same on every shared trial"
        comparison.ranks = None
        return
    res = stats.friedmanchisquare(*(complete[m].to_numpy(float) for m in comparison.methods))
    comparison.friedman_stat, comparison.friedman_p = float(res.statistic), float(res.pvalue)
    comparison.nemenyi = sp.posthoc_nemenyi_friedman(complete[comparison.methods])


def holm(pairs: list[Pair]) -> None:
    """Set each tested pair's Holm-corrected p-value (over the tested pairs)."""
    from statsmodels.stats.multitest import multipletests

    tested = [p for p in pairs if p.p is not None]
    if len(tested) < 2:
        for p in tested:
            p.p_holm = p.p
        return
    adjusted = multipletests([p.p for p in tested], method="holm")[1]
    for p, adj in zip(tested, adjusted):
        p.p_holm = float(adj)


def check_metric(table: pd.DataFrame, metric: str) -> None:
    if metric not in SCORED:
        raise NovelbenchError(f"unknown metric {metric!r}; use one of {', '.join(SCORED)}")
    if metric not in table.columns:
        raise NovelbenchError(f"these results have no {metric!r} column")


def check_mix(table: pd.DataFrame, mix: str | None) -> None:
    """A test mix asked for by name must exist in the results (None: each protocol's own)."""
    if mix is not None and not table.empty and not (table["mix"] == mix).any():
        raise NovelbenchError(f"these results have no {mix!r} test mix (they have {', '.join(map(str, dict.fromkeys(table['mix'])))})")


def compare(table: pd.DataFrame, metric: str = "auroc", mix: str | None = None, min_pairs: int = MIN_PAIRS,
            by_group: bool = True) -> list[Comparison]:
    """Comparisons of every (protocol, dataset) with 2+ methods: over all groups and, where the
    runs hold several groups (e.g. n = 1, 3, 5 positive classes) and ``by_group``, per group."""
    check_metric(table, metric)
    ok = table[table["status"] == "ok"]
    if ok.empty:
        raise NovelbenchError("these results hold no finished trials")
    out: list[Comparison] = []
    skipped = []
    for (protocol, dataset), part in ok.groupby(["protocol", "dataset"], sort=False):
        chosen = mix or default_mix(protocol) or next(m for m in part["mix"] if m != "pool")
        if not (part["mix"] == chosen).any():
            skipped.append(f"{protocol}/{dataset} has no {chosen!r} mix (it has {', '.join(dict.fromkeys(part['mix']))})")
            continue
        wide = paired_frame(part, metric, chosen)
        methods = [m for m in wide.columns if wide[m].notna().any()]
        if len(methods) < 2:
            skipped.append(f"{protocol}/{dataset} holds {len(methods)} method(s) with {metric} on {chosen} (a comparison needs two)")
            continue
        groups = list(dict.fromkeys(wide.index.get_level_values("group")))
        scopes = [("all positive sets", wide)]
        if by_group and len(groups) > 1:
            scopes += [(g, wide.xs(g, level="group", drop_level=False)) for g in groups]
        for scope, sub in scopes:
            comparison = Comparison(protocol, dataset, scope, metric, chosen, methods)
            comparison.pairs = [compare_pair(a, b, sub[a], sub[b], min_pairs) for a, b in itertools.combinations(methods, 2)]
            if len(methods) > 2:
                holm(comparison.pairs)
                _ranks(comparison, sub, min_pairs)
            out.append(comparison)
    if not out:
        raise NovelbenchError("nothing to compare: " + "; ".join(skipped) if skipped else "nothing to compare")
    return out
