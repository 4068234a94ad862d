"""The paper's Table 1 and Figure 3 regenerated from run tables, beside the published rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from novelbench.benchmark import published
from novelbench.benchmark.metrics import POLICIES
from novelbench.errors import NovelbenchError


def _ok(table: pd.DataFrame, protocol: str) -> pd.DataFrame:
    rows = table[(table["status"] == "ok") & (table["protocol"] == protocol)]
    if rows.empty:
        raise NovelbenchError(f"these results hold no finished {protocol!r} trials")
    return rows


def _f1_column(policy: str) -> str:
    if policy not in POLICIES:
        raise NovelbenchError(f"unknown threshold policy {policy!r}; use one of {', '.join(POLICIES)}")
    return f"f1_{policy}"


def _cell(values: pd.Series) -> str:
    return f"{values.mean():.3f} ± {values.std(ddof=0):.3f}"


def table1(table: pd.DataFrame, policy: str = "quantile") -> pd.DataFrame:
    """Caltech protocol: AUROC and F1 for 1, 3, 5 positive classes (mean ± std over repeats and seeds)."""
    rows = _ok(table, "caltech")
    rows = rows[rows["mix"] == "p50"] if (rows["mix"] == "p50").any() else rows
    groups = sorted(rows["group"].unique(), key=lambda g: int(g.split("=")[1]))
    out = []
    for method, by_method in rows.groupby("method", sort=False):
        line = {"method": f"{method} ({by_method['dataset'].iloc[0]})",
                "trials per n": "/".join(str(by_method.loc[by_method["group"] == g, "trial_id"].nunique()) for g in groups)}
        for g in groups:
            sel = by_method[by_method["group"] == g]
            line[f"{g} AUROC"] = _cell(sel["auroc"]) if len(sel) else "-"
            line[f"{g} F1"] = _cell(sel[_f1_column(policy)]) if len(sel) else "-"
        out.append(line)
    for name, by_n in published.CALTECH_TABLE1.items():
        line = {"method": f"{name} (published, Caltech-256)", "trials per n": "-"}
        for g in groups:
            auc, f1 = by_n.get(int(g.split("=")[1]), (np.nan, np.nan))
            line[f"{g} AUROC"], line[f"{g} F1"] = f"{auc:.3f}", f"{f1:.3f}"
        out.append(line)
    return pd.DataFrame(out)


def figure3_table(table: pd.DataFrame, policy: str = "quantile") -> pd.DataFrame:
    """Mnist protocol: F1 per outlier % (mean ± std over classes and seeds), with published rows and the floor."""
    rows = _ok(table, "mnist")
    rows = rows[rows["mix"] != "pool"]
    pcts = sorted(rows["outlier_pct"].unique())
    out = []
    for method, by_method in rows.groupby("method", sort=False):
        line = {"method": f"{method} ({by_method['dataset'].iloc[0]})"}
        for p in pcts:
            line[f"{p:g}%"] = _cell(by_method.loc[by_method["outlier_pct"] == p, _f1_column(policy)])
        pool = _ok(table, "mnist")
        pool = pool[(pool["method"] == method) & (pool["mix"] == "pool")]
        line["AUROC (one-vs-rest)"] = _cell(pool["auroc"]) if len(pool) else "-"
        out.append(line)
    for name, values in published.MNIST_F1.items():
        line = {"method": f"{name} (published)"}
        for p in pcts:
            line[f"{p:g}%"] = f"{dict(zip(published.OUTLIER_PCTS, values)).get(int(p), np.nan):.3f}"
        line["AUROC (one-vs-rest)"] = "-"
        out.append(line)
    floor = {"method": "trivial floor (all inliers)"}
    floor.update({f"{p:g}%": f"{2 * (1 - p / 100) / (2 - p / 100):.3f}" for p in pcts})
    floor["AUROC (one-vs-rest)"] = "0.500"
    out.append(floor)
    return pd.DataFrame(out)


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


def figure3(table: pd.DataFrame, out: Path, policy: str = "quantile") -> list[Path]:
    """F1 vs outlier %, one line per method, band = std over classes and seeds, dashed trivial floor,
    published reference points marked. Writes PNG and PDF."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    rows = _ok(table, "mnist")
    rows = rows[rows["mix"] != "pool"]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    sns.lineplot(data=rows, x="outlier_pct", y=_f1_column(policy), hue="method", errorbar="sd", marker="o", ax=ax)
    pcts = np.array(sorted(rows["outlier_pct"].unique()))
    ax.plot(pcts, 2 * (1 - pcts / 100) / (2 - pcts / 100), "k--", lw=1, label="trivial floor")
    for (name, values), marker in zip(published.MNIST_F1.items(), "sxD^v"):
        if name in ("ALOCC D(R(X))", "GPND v1"):
            ax.plot(published.OUTLIER_PCTS, values, linestyle="none", marker=marker, color="grey", label=f"{name} (published)")
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
