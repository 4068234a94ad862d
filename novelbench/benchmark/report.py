"""Tables and figures from run tables, laid out as each protocol asks (``Protocol.layout``),
beside the published rows: the paper's Table 1 (``caltech``) and Figure 3 (``mnist``).
No protocol is known here by name: a new protocol's reports come from its layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from novelbench.benchmark import published
from novelbench.benchmark.metrics import POLICIES
from novelbench.benchmark.protocols.base import ReportLayout
from novelbench.errors import NovelbenchError
from novelbench.registry import PROTOCOLS


def layout_of(protocol: str) -> ReportLayout:
    layout = getattr(PROTOCOLS.get(protocol), "layout", None)
    if layout is None:
        raise NovelbenchError(f"protocol {protocol!r} declares no report layout")
    return layout


def _ok(table: pd.DataFrame, protocol: str) -> pd.DataFrame:
    rows = table[(table["status"] == "ok") & (table["protocol"] == protocol)]
    if rows.empty:
        raise NovelbenchError(f"these results hold no finished {protocol!r} trials")
    return rows


def f1_column(policy: str) -> str:
    if policy not in POLICIES:
        raise NovelbenchError(f"unknown threshold policy {policy!r}; use one of {', '.join(POLICIES)}")
    return f"f1_{policy}"


def _cell(values: pd.Series) -> str:
    return f"{values.mean():.3f} ± {values.std(ddof=0):.3f}" if len(values) else "-"


def _group_order(groups) -> list[str]:
    def key(g: str):
        tail = g.split("=")[-1]
        return (0, float(tail)) if tail.replace(".", "", 1).isdigit() else (1, g)

    return sorted(groups, key=key)


def _by_groups(rows: pd.DataFrame, layout: ReportLayout, policy: str, protocol: str) -> pd.DataFrame:
    if layout.mix and (rows["mix"] == layout.mix).any():
        rows = rows[rows["mix"] == layout.mix]
    else:
        rows = rows[rows["mix"] != "pool"]
    groups = _group_order(rows["group"].unique())
    out = []
    for method, by_method in rows.groupby("method", sort=False):
        line = {"method": f"{method} ({by_method['dataset'].iloc[0]})",
                "trials per group": "/".join(str(by_method.loc[by_method["group"] == g, "trial_id"].nunique()) for g in groups)}
        for g in groups:
            sel = by_method[by_method["group"] == g]
            line[f"{g} AUROC"], line[f"{g} F1"] = _cell(sel["auroc"]), _cell(sel[f1_column(policy)])
        out.append(line)
    for name, source_dataset, values in published.rows(protocol):
        line = {"method": f"{name} (published, {source_dataset})", "trials per group": "-"}
        for g in groups:
            auc, f1 = values.get(g, (np.nan, np.nan))
            line[f"{g} AUROC"], line[f"{g} F1"] = f"{auc:.3f}", f"{f1:.3f}"
        out.append(line)
    return pd.DataFrame(out)


def _by_outlier_pct(rows: pd.DataFrame, layout: ReportLayout, policy: str, protocol: str) -> pd.DataFrame:
    mixes = rows[rows["mix"] != "pool"]
    pcts = sorted(mixes["outlier_pct"].unique())
    auroc_col = "AUROC (one-vs-rest)"
    out = []
    for method, by_method in mixes.groupby("method", sort=False):
        line = {"method": f"{method} ({by_method['dataset'].iloc[0]})"}
        for p in pcts:
            line[f"{p:g}%"] = _cell(by_method.loc[by_method["outlier_pct"] == p, f1_column(policy)])
        if layout.auroc_mix:
            line[auroc_col] = _cell(rows.loc[(rows["method"] == method) & (rows["mix"] == layout.auroc_mix), "auroc"])
        out.append(line)
    for name, source_dataset, values in published.rows(protocol):
        line = {"method": f"{name} (published, {source_dataset})"}
        line.update({f"{p:g}%": f"{values.get(f'p{p:g}', np.nan):.3f}" for p in pcts})
        if layout.auroc_mix:
            line[auroc_col] = "-"
        out.append(line)
    floor = {"method": "trivial floor (all inliers)"}
    floor.update({f"{p:g}%": f"{2 * (1 - p / 100) / (2 - p / 100):.3f}" for p in pcts})
    if layout.auroc_mix:
        floor[auroc_col] = "0.500"
    out.append(floor)
    return pd.DataFrame(out)


def protocol_table(table: pd.DataFrame, protocol: str, policy: str = "quantile") -> pd.DataFrame:
    """The protocol's results table (mean ± std over positive sets, repeats and seeds)."""
    layout = layout_of(protocol)
    rows = _ok(table, protocol)
    builders = {"group": _by_groups, "outlier_pct": _by_outlier_pct}
    if layout.columns not in builders:
        raise NovelbenchError(f"protocol {protocol!r} asks for table columns {layout.columns!r}; known: {', '.join(builders)}")
    return builders[layout.columns](rows, layout, policy, protocol)


def render(frame: pd.DataFrame, fmt: str) -> str:
    if fmt == "markdown":
        cols = list(frame.columns)
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
        return "\n".join(lines)
    if fmt == "latex":
        return frame.to_latex(index=False).replace("±", r"$\pm$")
    if fmt == "csv":
        return frame.to_csv(index=False)
    raise NovelbenchError(f"unknown format {fmt!r}; use markdown, latex or csv")


def figure_protocols(table: pd.DataFrame) -> list[str]:
    """Protocols of these results whose layout has a figure."""
    return [p for p in dict.fromkeys(table["protocol"]) if layout_of(p).figure]


def outlier_pct_figure(table: pd.DataFrame, protocol: str, out: Path, policy: str = "quantile") -> list[Path]:
    """F1 vs outlier %, one line per method, band = std over classes and seeds, dashed trivial
    floor, published reference points marked. Writes PNG and PDF."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    if not layout_of(protocol).figure:
        raise NovelbenchError(f"protocol {protocol!r} has no F1-vs-outlier-% figure")
    rows = _ok(table, protocol)
    rows = rows[rows["mix"] != "pool"]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    sns.lineplot(data=rows, x="outlier_pct", y=f1_column(policy), hue="method", errorbar="sd", marker="o", ax=ax)
    pcts = np.array(sorted(rows["outlier_pct"].unique()))
    ax.plot(pcts, 2 * (1 - pcts / 100) / (2 - pcts / 100), "k--", lw=1, label="trivial floor")
    for (name, source_dataset, values), marker in zip(published.rows(protocol, figure_only=True), "sxD^v"):
        xs = [p for p in pcts if f"p{p:g}" in values]
        ax.plot(xs, [values[f"p{p:g}"] for p in xs], linestyle="none", marker=marker, color="grey",
                label=f"{name} (published, {source_dataset})")
    ax.set_xlabel("outliers in the test mix (%)")
    ax.set_ylabel(f"F1, inliers positive ({policy} threshold)")
    ax.set_title(f"{rows['dataset'].iloc[0]}: F1 vs outlier share (band: std over classes and seeds)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = [out.with_suffix(".png"), out.with_suffix(".pdf")]
    for path in paths:
        fig.savefig(path, dpi=150)
    plt.close(fig)
    return paths
