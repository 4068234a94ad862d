"""Tables and figures from run tables, laid out as each protocol asks (``Protocol.layout``),
beside the published rows: the paper's Table 1 (``caltech``) and Figure 3 (``mnist``).
No protocol is known here by name: a new protocol's reports come from its layout.

Every table and figure names its F1 threshold policy and that F1 takes inliers as the positive
class; published rows carry footnotes with their source and how their threshold was chosen, and
rows published on another dataset than the runs' are labelled as such.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from novelbench.benchmark import published
from novelbench.benchmark.metrics import POLICIES, trivial_f1
from novelbench.benchmark.protocols.base import ReportLayout
from novelbench.errors import NovelbenchError
from novelbench.registry import METHODS, PROTOCOLS

#: how each F1 threshold policy picks its threshold (shown under every table and figure)
POLICY_TEXT = {
    "quantile": "flag the known outlier share of most novel scores",
    "validation": "the threshold maximising F1 on a validation mix built from held-out training inliers and "
                  "labelled outliers of the training data (it sees labelled outliers)",
    "oracle": "the threshold maximising F1 on the test mix itself (an upper bound, not a result)",
    "native": "the method's own decision (predict)",
}


#: pyod detectors that re-fit on the images they score (see pyod_adapter.py)
PYOD_TRANSDUCTIVE = frozenset({"pyod:ECOD", "pyod:COPOD", "pyod:RGraph"})
SEES_POOL = "sees the test pool"
SEES_POOL_NOTE = (f"Methods marked '{SEES_POOL}' are transductive: they fit on (or re-fit with) the very images they "
                  "score, outliers included, and find the outliers among them; the others never see a test image before scoring it.")


def sees_test_pool(method: str) -> bool:
    """Whether a registered method is transductive (its class says ``transductive = True``, or a
    transductive pyod detector)."""
    if method in PYOD_TRANSDUCTIVE:
        return True
    try:
        return bool(getattr(METHODS.plugin(method).cls, "transductive", False))
    except Exception:  # a method no longer installed: nothing to say about it
        return False


def method_label(method: str, by_method: pd.DataFrame) -> str:
    """A measured row's label in the protocol tables, e.g. ``pyod:ECOD (mnist; sees the test pool)``."""
    name = by_method["method_name"].iloc[0] if "method_name" in by_method else method
    return f"{method} ({by_method['dataset'].iloc[0]}{'; ' + SEES_POOL if sees_test_pool(name) else ''})"


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


def f1_note(policy: str) -> str:
    """One sentence every table or figure with F1 carries."""
    f1_column(policy)
    return f"F1 takes inliers as the positive class; threshold policy '{policy}': {POLICY_TEXT[policy]}."


def metric_note(metric: str) -> str:
    """What a metric column means (AUROC/AUPR: outliers positive; F1: inliers positive + policy)."""
    if metric.startswith("f1_") and metric[3:] in POLICIES:
        return f1_note(metric[3:])
    if metric in ("auroc", "aupr"):
        return f"{metric.upper()} from the continuous scores, outliers as the positive class (no threshold)."
    return f"{metric}."


def metric_label(metric: str) -> str:
    """Short name for titles: "AUROC", or "F1 (inliers positive, quantile threshold)"."""
    if metric.startswith("f1_") and metric[3:] in POLICIES:
        return f"F1 (inliers positive, {metric[3:]} threshold)"
    return metric.upper() if metric in ("auroc", "aupr") else metric


def _cell(values: pd.Series) -> str:
    return f"{values.mean():.3f} ± {values.std(ddof=0):.3f}" if len(values) else "-"


def _num(value: float) -> str:
    return "-" if np.isnan(value) else f"{value:.3f}"


def _group_order(groups) -> list[str]:
    def key(g: str):
        tail = g.split("=")[-1]
        return (0, float(tail)) if tail.replace(".", "", 1).isdigit() else (1, g)

    return sorted(groups, key=key)


@dataclass
class ProtocolTable:
    """A protocol's results table with its notes (F1 policy, published sources, dataset warnings)."""

    protocol: str
    title: str  # e.g. "Table 1: AUROC and F1 per number of positive classes, caltech protocol"
    caption: str  # what the cells are: averaging, F1 positive class and threshold policy
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def heading(self) -> str:
        return f"{self.title} ({self.caption})"

    def render(self, fmt: str) -> str:
        return render(self.frame, fmt, self.notes)


def _by_groups(rows: pd.DataFrame, layout: ReportLayout, policy: str,
               refs: list[published.Reference]) -> tuple[pd.DataFrame, list[published.Reference]]:
    if layout.mix and (rows["mix"] == layout.mix).any():
        rows = rows[rows["mix"] == layout.mix]
    else:
        rows = rows[rows["mix"] != "pool"]
    groups = _group_order(rows["group"].unique())
    out, shown = [], []
    for method, by_method in rows.groupby("method", sort=False):
        line = {"method": method_label(method, by_method),
                "trials per group": "/".join(str(by_method.loc[by_method["group"] == g, "trial_id"].nunique()) for g in groups)}
        for g in groups:
            sel = by_method[by_method["group"] == g]
            line[f"{g} AUROC"], line[f"{g} F1"] = _cell(sel["auroc"]), _cell(sel[f1_column(policy)])
        out.append(line)
    for ref in refs:
        if not any(not np.isnan(ref.value(g, m)) for g in groups for m in ("auroc", "f1")):
            continue
        line = {"method": ref.label(), "trials per group": "-"}
        for g in groups:
            line[f"{g} AUROC"], line[f"{g} F1"] = _num(ref.value(g, "auroc")), _num(ref.value(g, "f1"))
        out.append(line)
        shown.append(ref)
    return pd.DataFrame(out), shown


def _by_outlier_pct(rows: pd.DataFrame, layout: ReportLayout, policy: str,
                    refs: list[published.Reference]) -> tuple[pd.DataFrame, list[published.Reference]]:
    mixes = rows[rows["mix"] != "pool"]
    pcts = sorted(mixes["outlier_pct"].unique())
    auroc_col = "AUROC (one-vs-rest)"
    out, shown = [], []
    for method, by_method in mixes.groupby("method", sort=False):
        line = {"method": method_label(method, by_method)}
        for p in pcts:
            line[f"{p:g}%"] = _cell(by_method.loc[by_method["outlier_pct"] == p, f1_column(policy)])
        if layout.auroc_mix:
            line[auroc_col] = _cell(rows.loc[(rows["method"] == method) & (rows["mix"] == layout.auroc_mix), "auroc"])
        out.append(line)
    for ref in refs:
        f1s = [ref.value(f"p{p:g}", "f1") for p in pcts]
        auc = ref.value(layout.auroc_mix, "auroc") if layout.auroc_mix else np.nan
        if all(np.isnan(v) for v in f1s + [auc]):
            continue
        line = {"method": ref.label()}
        line.update({f"{p:g}%": _num(v) for p, v in zip(pcts, f1s)})
        if layout.auroc_mix:
            line[auroc_col] = _num(auc)
        out.append(line)
        shown.append(ref)
    floor = {"method": "trivial floor (all inliers)"}
    floor.update({f"{p:g}%": f"{trivial_f1(p / 100):.3f}" for p in pcts})
    if layout.auroc_mix:
        floor[auroc_col] = "0.500"
    out.append(floor)
    return pd.DataFrame(out), shown


def protocol_table(table: pd.DataFrame, protocol: str, policy: str = "quantile", which: str = "all") -> ProtocolTable:
    """The protocol's results table (mean ± std over positive sets, repeats and seeds), with the
    published rows ``which`` selects (``all``: other datasets' rows too, labelled; ``matching``;
    ``none``) and the notes that must travel with it."""
    layout = layout_of(protocol)
    rows = _ok(table, protocol)
    builders = {"group": _by_groups, "outlier_pct": _by_outlier_pct}
    if layout.columns not in builders:
        raise NovelbenchError(f"protocol {protocol!r} asks for table columns {layout.columns!r}; known: {', '.join(builders)}")
    datasets = list(dict.fromkeys(rows["dataset"]))
    build = builders[layout.columns]
    _, shown = build(rows, layout, policy, published.references(protocol, datasets, which))
    sources = published.footnotes(shown)  # numbers only the rows the table shows
    frame, _ = build(rows, layout, policy, shown)
    warning = published.other_dataset_warning(shown, datasets)
    caption = f"mean ± std over positive sets, repeats and seeds; F1 with inliers as the positive class, {policy} threshold"
    transductive = any(SEES_POOL in str(label) for label in frame["method"])
    notes = [f1_note(policy)] + ([SEES_POOL_NOTE] if transductive else []) + ([warning] if warning else []) + sources
    return ProtocolTable(protocol, f"{layout.title}, {protocol} protocol", caption, frame, notes)


def render(frame: pd.DataFrame, fmt: str, notes: list[str] | tuple[str, ...] = ()) -> str:
    """The table as markdown, LaTeX or CSV, its notes below (CSV: as # comment lines)."""
    if fmt == "markdown":
        cols = list(frame.columns)
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
        text = "\n".join(lines)
        return text + ("\n\n" + "\n".join(f"- {n}" for n in notes) if notes else "")
    if fmt == "latex":
        text = frame.to_latex(index=False).replace("±", r"$\pm$")
        return text + "".join(f"% {n}\n" for n in notes)
    if fmt == "csv":
        return frame.to_csv(index=False) + "".join(f"# {n}\n" for n in notes)
    raise NovelbenchError(f"unknown format {fmt!r}; use markdown, latex or csv")


def figure_protocols(table: pd.DataFrame) -> list[str]:
    """Protocols of these results whose layout has a figure."""
    return [p for p in dict.fromkeys(table["protocol"]) if layout_of(p).figure]


#: with more methods than this, the figure leaves out the std bands (they would hide the lines)
MAX_BANDS = 4
MARKERS = "osD^vP*Xph<>"
DASHES = ["-", "--", ":", "-."]


def _key(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _published_family(ref: published.Reference, families: list[str]) -> str | None:
    """The plotted method (registry name) a published row is a value of: the longest one whose
    name starts the published name ("alocc" for "ALOCC D(R(X))", "deep-svdd" for "Deep SVDD")."""
    found = [f for f in families if _key(ref.method).startswith(_key(f))]
    return max(found, key=len) if found else None


def _line_styles(methods: dict[str, str]) -> dict[str, tuple]:
    """(colour, marker, dash) per plotted label: one colour per method (registry name), so its
    settings and its published points share it; settings of one method differ in dash and marker."""
    import matplotlib.pyplot as plt

    families = list(dict.fromkeys(methods.values()))
    colours = plt.get_cmap("tab10").colors + plt.get_cmap("Dark2").colors  # 18 distinct colours
    styles, seen = {}, {}
    for label, family in methods.items():
        k = seen[family] = seen.get(family, -1) + 1
        styles[label] = (colours[families.index(family) % len(colours)], MARKERS[(families.index(family) + k) % len(MARKERS)],
                         DASHES[k % len(DASHES)])
    return styles


def draw_outlier_pct_figure(table: pd.DataFrame, protocol: str, policy: str = "quantile", which: str = "all"):
    """F1 vs outlier %, one line per method setting (one colour per method, its settings told
    apart by dash and marker), a std band per line when there are at most MAX_BANDS lines, the
    dashed trivial floor, and published points (filled: same dataset; hollow: another dataset) in
    the colour of the method they are published values of (grey for a method not plotted); the F1
    policy and sources are written under the plot. Returns the matplotlib figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not layout_of(protocol).figure:
        raise NovelbenchError(f"protocol {protocol!r} has no F1-vs-outlier-% figure")
    rows = _ok(table, protocol)
    rows = rows[rows["mix"] != "pool"]
    datasets = list(dict.fromkeys(rows["dataset"]))
    pcts = np.array(sorted(rows["outlier_pct"].unique()))
    refs = [r for r in published.references(protocol, datasets, which, metric="f1")
            if any(("p%g" % p, "f1") in r.values for p in pcts)]
    sources = published.footnotes(refs)
    warning = published.other_dataset_warning(refs, datasets)
    names = rows["method_name"] if "method_name" in rows else rows["method"]
    marked = {m for m, n in zip(rows["method"], names) if sees_test_pool(n)}
    rows = rows.assign(method=[f"{m} ({SEES_POOL})" if m in marked else m for m in rows["method"]])
    notes = [f1_note(policy)] + ([SEES_POOL_NOTE] if marked else []) + ([warning] if warning else []) + sources
    wrapped = [textwrap.fill(n, 120) for n in notes]
    n_lines = sum(w.count("\n") + 1 for w in wrapped)

    names = rows["method_name"] if "method_name" in rows else rows["method"]
    methods = dict(sorted(dict(zip(rows["method"], names)).items(), key=lambda item: list(dict.fromkeys(names)).index(item[1])))
    styles = _line_styles(methods)
    bands = len(methods) <= MAX_BANDS
    plot_h = max(3.2, 0.155 * (len(methods) + len(refs) + 1))  # the legend beside the plot fits its height
    notes_h = 0.2 + 0.11 * n_lines
    height = plot_h + notes_h + 1.1  # + title and x axis
    legend_w = 0.6 + 0.064 * max(len(label) for label in [*methods, *(r.short_label() for r in refs)])
    width = max(8.0, 4.9 + legend_w)
    fig, ax = plt.subplots(figsize=(width, height))
    fig.subplots_adjust(left=0.72 / width, right=1 - legend_w / width, top=1 - 0.5 / height, bottom=(notes_h + 0.6) / height)
    stats = rows.groupby(["method", "outlier_pct"], sort=False)[f1_column(policy)].agg(["mean", "std"])
    for method, (colour, marker, dash) in styles.items():
        line = stats.loc[method].sort_index()
        ax.plot(line.index, line["mean"], color=colour, marker=marker, linestyle=dash, ms=4, lw=1.4, label=method)
        if bands:
            std = line["std"].fillna(0)
            ax.fill_between(line.index, line["mean"] - std, line["mean"] + std, color=colour, alpha=0.15, lw=0)
    ax.plot(pcts, trivial_f1(pcts / 100), "k--", lw=1, label="trivial floor (all inliers)")
    families = list(dict.fromkeys(methods.values()))
    for ref, marker in zip(refs, "sDo^vP*ph"):
        xs = [p for p in pcts if (f"p{p:g}", "f1") in ref.values]
        family = _published_family(ref, families)
        colour = styles[next(m for m, f in methods.items() if f == family)][0] if family else "grey"
        ax.plot(xs, [ref.value(f"p{p:g}", "f1") for p in xs], linestyle="none", marker=marker, ms=7, color=colour,
                markerfacecolor=colour if ref.comparable else "none", markeredgecolor="black" if ref.comparable else colour,
                markeredgewidth=0.7 if ref.comparable else 1.4, label=ref.short_label())
    ax.set_xlabel("outliers in the test mix (%)")
    ax.set_ylabel(f"F1, inliers positive ({policy} threshold)")
    band = "band: std over classes and seeds" if bands else f"no std bands beyond {MAX_BANDS} lines: std in the tables"
    ax.set_title(f"{', '.join(datasets)}: F1 vs outlier share, mean over classes and seeds\n{band}; "
                 "big markers: published values, in their method's colour", fontsize=8, loc="left")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.text(0.02, 0.02, "\n".join(wrapped), fontsize=6.5, va="bottom", ha="left", color="#333333")
    return fig


def save_figure(fig, out: Path) -> list[Path]:
    """Write ``out``.png and ``out``.pdf and close the figure."""
    import matplotlib.pyplot as plt

    out.parent.mkdir(parents=True, exist_ok=True)
    paths = [out.with_suffix(".png"), out.with_suffix(".pdf")]
    for path in paths:  # no creation date in the PDF: the same figure gives the same file
        fig.savefig(path, dpi=150, metadata={"CreationDate": None} if path.suffix == ".pdf" else None)
    plt.close(fig)
    return paths


def outlier_pct_figure(table: pd.DataFrame, protocol: str, out: Path, policy: str = "quantile", which: str = "all") -> list[Path]:
    """Figure 3 as PNG and PDF (see ``draw_outlier_pct_figure``)."""
    return save_figure(draw_outlier_pct_figure(table, protocol, policy, which), out)
