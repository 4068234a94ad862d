"""`bench report`: everything about one or more runs in one document to send to a colleague.

One self-contained HTML file (figures inline as PNG data URIs, styles inline, no script and
nothing fetched from a network) and a markdown version for repositories (figures as PNG files
in a folder beside it). Sections: how to read the numbers (F1 policy), the summary per method
and mix, each protocol's table and figure as its layout asks, the paired comparison, per-trial
timings, failed trials with their errors, and provenance. The documents come from jinja2
templates shipped with the package (``templates/``); this module only gathers the content.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from novelbench.benchmark import compare as compare_mod
from novelbench.benchmark import provenance, report
from novelbench.benchmark.metrics import trivial_f1
from novelbench.benchmark.store import check_out_file
from novelbench.benchmark.summary import LABELS, METRICS, fmt, summarize
from novelbench.errors import NovelbenchError



_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?%?( ?± ?(\d+(\.\d*)?|\.\d+))?$|^\d+(/\d+)+$|^\[.*\]$|^-$")


@dataclass
class TableBlock:
    columns: list[str]
    rows: list[list[str]]
    kv: bool = False  # a two-column "what / value" table (values may be long: given room to wrap)

    @classmethod
    def of(cls, frame: pd.DataFrame) -> "TableBlock":
        return cls([str(c) for c in frame.columns], [["-" if _missing(v) else str(v) for v in row] for row in frame.itertuples(index=False)])

    @property
    def numeric(self) -> list[bool]:
        """Per column: every cell a number, mean ± std, count, interval or "-" (right-aligned)."""
        return [bool(self.rows) and all(_NUMERIC.match(r[i]) for r in self.rows) and not all(r[i] == "-" for r in self.rows)
                for i in range(len(self.columns))]

    @property
    def long(self) -> list[bool]:
        """Per column: some cell is long text (those columns wrap; the others never break a name)."""
        return [any(len(r[i]) > 32 for r in self.rows) for i in range(len(self.columns))]


def _utc(stamp: str) -> str:
    return stamp.replace("T", " ").replace("+00:00", " UTC")


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


@dataclass
class Figure:
    name: str  # file stem for the markdown version
    title: str
    png: bytes
    notes: list[str] = field(default_factory=list)

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass
class Section:
    """A report section: blocks (tables, figures, text) in reading order."""

    anchor: str
    title: str
    intro: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def table(self, title: str, table: TableBlock | pd.DataFrame, notes: list[str] = (), collapsed: bool = False,
              level: int = 3) -> None:
        block = table if isinstance(table, TableBlock) else TableBlock.of(table)
        self.blocks.append({"kind": "table", "title": title, "table": block, "notes": list(notes), "collapsed": collapsed,
                            "level": level})

    def figure(self, figure: Figure) -> None:
        self.blocks.append({"kind": "figure", "figure": figure})

    def text(self, text: str, title: str = "") -> None:
        self.blocks.append({"kind": "text", "text": text, "title": title})

    def heading(self, title: str, caption: str = "") -> None:
        self.blocks.append({"kind": "heading", "title": title, "caption": caption})

    @property
    def figures(self) -> list[Figure]:
        return [b["figure"] for b in self.blocks if b["kind"] == "figure"]


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def leaderboard_section(table: pd.DataFrame, policy: str, comparisons: list) -> Section:
    """Per protocol and dataset, one row per method: AUROC on the protocol's own mix, F1 at each
    outlier share, the mean rank of the paired comparison and seconds per trial; best rank first."""
    section = Section("leaderboard", "Leaderboard",
                      "One row per method, best mean rank first; mean over positive sets, repeats and seeds (trials: how many).")
    ok = table[table["status"] == "ok"]
    for (protocol, dataset), part in ok.groupby(["protocol", "dataset"], sort=False):
        auroc_mix = compare_mod.default_mix(protocol) or "pool"
        ranked = next((c for c in comparisons if (c.protocol, c.dataset, c.scope) == (protocol, dataset, "all positive sets")
                       and c.ranks is not None), None)
        ranks = ranked.ranks if ranked is not None else pd.Series(dtype=float)
        mixes = part[part["mix"] != "pool"]
        f1 = mixes.pivot_table(index="method", columns="outlier_pct", values=report.f1_column(policy), aggfunc="mean")
        trials = part.drop_duplicates("trial_id")
        board = pd.DataFrame({
            "trials": trials.groupby("method")["trial_id"].count(),
            f"AUROC ({auroc_mix})": part[part["mix"] == auroc_mix].groupby("method")["auroc"].mean(),
            **{f"F1 {p:g}%": f1[p] for p in f1.columns},
            "mean rank": ranks,
            "s / trial": (trials["fit_seconds"] + trials["score_seconds"]).groupby(trials["method"]).mean(),
        }).reindex(list(dict.fromkeys(part["method"])))
        board = board.sort_values(["mean rank", f"AUROC ({auroc_mix})"], ascending=[True, False], na_position="last", kind="stable")
        shown = board.reset_index(names="method").astype({"trials": int})
        for col in shown.columns[2:]:
            digits = 2 if col == "mean rank" else 1 if col == "s / trial" else 3
            shown[col] = shown[col].map(lambda v, d=digits: "-" if pd.isna(v) else f"{v:.{d}f}")
        floor = {"method": "trivial floor (all inliers)", "trials": "-", f"AUROC ({auroc_mix})": "0.500",
                 **{f"F1 {p:g}%": f"{trivial_f1(p / 100):.3f}" for p in f1.columns}, "mean rank": "-", "s / trial": "-", "device": "-"}
        devices = trials.groupby("method")["device"].agg(lambda d: ", ".join(sorted({str(v).split(":")[0] for v in d})))
        shown["device"] = shown["method"].map(devices)
        shown = pd.concat([shown, pd.DataFrame([floor])], ignore_index=True)
        rank_note = (f"Mean rank: of {report.metric_label(ranked.metric)} on the {ranked.mix} mix over the {ranked.blocks} trials "
                     "every method has (1 = best; see Paired comparison)." if ranked is not None else
                     "Mean rank: none (it needs 3+ methods sharing enough trials; see Paired comparison).")
        section.table(f"{protocol} protocol on {dataset}", shown,
                      [f"F1 with inliers as the positive class, {policy} threshold, at each outlier share of the test mix; "
                       f"AUROC with outliers positive on the {auroc_mix} mix; s / trial: fit + scoring seconds on that device.",
                       rank_note])
    return section


def summary_section(table: pd.DataFrame, policy: str) -> Section:
    section = Section("summary", "Summary per method and test mix",
                      "Mean ± std over positive sets, repeats and seeds; n = trials. Each F1 column is one threshold "
                      "policy (see How to read the numbers above); F1 trivial is the floor of calling everything an inlier.")
    summary = summarize(table)
    for (protocol, dataset), part in summary.groupby(["protocol", "dataset"], sort=False):
        rows = []
        for _, r in part.iterrows():
            rows.append({"method": r["method"], "group": r["group"], "mix": r["mix"], "n": r["n"],
                         **{LABELS[m]: fmt(r[f"{m}_mean"], r[f"{m}_std"]) for m in METRICS},
                         "fit s": f"{r['fit_seconds_mean']:.1f}"})
        section.table(f"{protocol} protocol on {dataset} ({len(rows)} rows; click to open)", pd.DataFrame(rows),
                      ["F1 takes inliers as the positive class in every F1 column; AUROC and AUPR take outliers as positive."],
                      collapsed=True)
    return section


def protocol_section(table: pd.DataFrame, policy: str, which: str) -> Section:
    section = Section("tables", "Protocol tables and figures",
                      "Each protocol's table as its layout asks (the paper's Table 1 for caltech, the numbers of its "
                      "Figure 3 for mnist), beside published rows with their sources.")
    ok = table[table["status"] == "ok"]
    for protocol in dict.fromkeys(ok["protocol"]):
        made = report.protocol_table(ok, protocol, policy, which)
        section.heading(made.title, made.caption)
        section.table("", made.frame, made.notes)
        if report.layout_of(protocol).figure:
            fig = report.draw_outlier_pct_figure(ok, protocol, policy, which)
            section.figure(Figure(f"figure-{_slug(protocol)}", f"{report.layout_of(protocol).title}, {protocol} protocol", _png(fig),
                                  ["The F1 threshold policy and the published sources are written under the plot."]))
    return section


def compare_section(comparisons: list, why_none: str) -> Section:
    section = Section("compare", "Paired comparison",
                      "Trials of different methods are paired on the same positive set, repeat and seed (the same "
                      "training images and test mix).")
    if why_none:
        section.text(why_none)
        return section
    if comparisons:
        section.text(comparisons[0].note)
    for c in comparisons:
        section.heading(c.title)
        section.table("Pairs", c.pairs_frame(), level=4)
        if len(c.methods) > 2:
            if c.ranks is not None:
                section.table("Mean ranks over the trials every method has", c.ranks_frame(), [c.rank_summary()], level=4)
                section.figure(Figure(f"cd-{_slug(c.protocol + '-' + c.dataset + '-' + c.scope)}",
                                      f"Critical-difference diagram, {c.title}", _png(c.cd_figure())))
            else:
                section.text(c.rank_summary())
    return section


def timing_section(table: pd.DataFrame) -> Section:
    section = Section("timings", "Timings", "Seconds per trial: fit on the training inliers, then one scoring pass over the test pool.")
    trials = table[table["status"] == "ok"].drop_duplicates("trial_id")
    if trials.empty:
        section.text("No finished trials.")
        return section
    per_method = []
    for (protocol, dataset, method), r in trials.groupby(["protocol", "dataset", "method"], sort=False):
        per_method.append({"protocol": protocol, "dataset": dataset, "method": method, "trials": len(r),
                           "fit s mean": f"{r['fit_seconds'].mean():.1f}", "fit s max": f"{r['fit_seconds'].max():.1f}",
                           "score s mean": f"{r['score_seconds'].mean():.2f}", "n_train mean": f"{r['n_train'].mean():.0f}",
                           "devices": ", ".join(sorted(set(map(str, r["device"]))))})
    section.table("Per method", pd.DataFrame(per_method))
    cols = [c for c in ["protocol", "dataset", "method", "positives", "repeat", "seed", "n_train", "fit_seconds", "score_seconds",
                        "device", "threads", "compute_isa", "timestamp"] if c in trials.columns]
    per_trial = trials[cols].copy()
    per_trial["fit_seconds"] = per_trial["fit_seconds"].map(lambda v: f"{v:.2f}")
    per_trial["score_seconds"] = per_trial["score_seconds"].map(lambda v: f"{v:.2f}")
    section.table(f"Per trial ({len(per_trial)} trials; click to open)", per_trial, collapsed=True)
    return section


def failed_section(table: pd.DataFrame) -> Section:
    failed = table[table["status"] != "ok"].drop_duplicates("trial_id")
    section = Section("failed", f"Failed trials ({len(failed)})")
    if failed.empty:
        section.text("None: every trial in these results finished.")
        return section
    section.intro = "Failed trials are recorded with their error and retried when the same run is started again."
    cols = [c for c in ["protocol", "dataset", "method", "positives", "repeat", "seed", "error", "timestamp"] if c in failed.columns]
    section.table("", failed[cols])
    return section


def provenance_section(inputs: list[Path], tables: list[pd.DataFrame], argv: list[str] | None) -> Section:
    section = Section("provenance", "Provenance",
                      "A run folder's runs.jsonl records each bench run (command line, commit, versions, device, CPU); trial "
                      "rows also carry their own versions, device, precision, threads and compute identity (per-trial table).")
    env = provenance.environment()
    rows = [["command", provenance.portable_command(provenance.command_line(argv))], ["written", _utc(provenance.now())]]
    section.table("This report", TableBlock(["what", "value"], rows + [[k.replace("_", " "), str(v)] for k, v in env.items()], kv=True))
    for path, frame in zip(inputs, tables):
        recorded = provenance.read_runs(path)
        for i, rec in enumerate(recorded):
            what = [["command", provenance.portable_command(rec.get("command", "-"), path)], ["started", _utc(str(rec.get("started", "-")))],
                    ["trials planned", str(rec.get("trials", "-"))], ["git commit", rec.get("git_commit", "-")],
                    ["versions", " ".join(f"{k}={rec.get(k)}" for k in ("novelbench", "torch", "sklearn", "numpy", "python"))],
                    ["devices", rec.get("devices", "-")], ["cpu", rec.get("cpu", "-")], ["platform", rec.get("platform", "-")]]
            section.table(f"Run {provenance.shown_path(path)}" + (f" ({i + 1} of {len(recorded)} invocations)" if len(recorded) > 1 else ""),
                          TableBlock(["what", "value"], what, kv=True))
        if not recorded:
            versions = ", ".join(sorted(set(map(str, frame.get("versions", pd.Series(dtype=str)).dropna()))))
            devices = ", ".join(sorted(set(map(str, frame.get("device", pd.Series(dtype=str)).dropna()))))
            stamps = frame.get("timestamp", pd.Series(dtype=str)).dropna().astype(str)
            when = f"{_utc(stamps.min())} to {_utc(stamps.max())}" if len(stamps) else "-"
            machines = {f"{cpu}, {isa}" for cpu, isa in frame.reindex(columns=["compute_cpu", "compute_isa"]).dropna().itertuples(index=False)}
            what = [["command", "not recorded (a results file without its run folder's runs.jsonl)"], ["trials ran", when],
                    ["git commit", "not recorded"], ["versions (from the trial rows)", versions or "-"],
                    ["devices (from the trial rows)", devices or "-"],
                    ["cpu (from the trial rows)", "; ".join(sorted(machines)) or "not recorded"]]
            section.table(f"Run {provenance.shown_path(path)}", TableBlock(["what", "value"], what, kv=True))
    return section


def build(inputs: list[Path], tables: list[pd.DataFrame], policy: str = "quantile", metric: str = "auroc",
          mix: str | None = None, which: str = "all", min_pairs: int = compare_mod.MIN_PAIRS,
          argv: list[str] | None = None, title: str | None = None) -> dict[str, Any]:
    """The template context of a report over ``tables`` (read from ``inputs``)."""
    report.f1_column(policy)
    table = pd.concat(tables, ignore_index=True)
    ok = table[table["status"] == "ok"]
    compare_mod.check_metric(ok if not ok.empty else pd.DataFrame(columns=[metric]), metric)
    compare_mod.check_mix(ok, mix)
    comparisons, why_none = [], ""
    if not ok.empty:
        try:
            comparisons = compare_mod.compare(table, metric, mix, min_pairs)
        except NovelbenchError as exc:
            why_none = str(exc)
    sections = [leaderboard_section(table, policy, comparisons), summary_section(table, policy)] if not ok.empty else []
    if not ok.empty:
        sections += [protocol_section(table, policy, which), compare_section(comparisons, why_none), timing_section(table)]
    sections += [failed_section(table), provenance_section(inputs, tables, argv)]
    methods = list(dict.fromkeys(table["method"]))
    where = ", ".join(f"{p}/{d}" for p, d in dict.fromkeys(zip(table["protocol"], table["dataset"])))
    return {
        "title": title or f"novelbench report: {', '.join(methods)} on {where}",
        "f1_note": report.f1_note(policy), "policy": policy, "metric": metric,
        "policies": [*report.POLICY_TEXT.items(), ("trivial", "everything called an inlier: the floor, 2(1 - p)/(2 - p) at outlier share p")],
        "inputs": [provenance.shown_path(p) for p in inputs], "generated": _utc(provenance.now()),
        "n_trials": table["trial_id"].nunique(), "n_failed": table.loc[table["status"] != "ok", "trial_id"].nunique(),
        "sections": sections,
    }


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("novelbench.benchmark", "templates"), autoescape=select_autoescape(["html.j2"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_html(context: dict[str, Any]) -> str:
    return _environment().get_template("report.html.j2").render(**context)


def render_markdown(context: dict[str, Any], figure_dir: str) -> str:
    env = _environment()
    env.filters["md"] = _md_cell
    return env.get_template("report.md.j2").render(**context, figure_dir=figure_dir)


def check_target(out: Path) -> None:
    """One clear error before any work if ``out`` cannot be a report (its suffix, its folder)."""
    if out.suffix not in (".html", ".htm", ".md"):
        raise NovelbenchError(f"--out {out}: the suffix decides the format, use .html or .md")
    check_out_file(out)


def write(context: dict[str, Any], out: Path) -> list[Path]:
    """Write ``out`` as HTML (.html/.htm) or markdown (.md, figures into ``<stem>_files/``)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix in (".html", ".htm"):
        out.write_text(render_html(context), encoding="utf-8")
        return [out]
    if out.suffix == ".md":
        folder = out.with_name(out.stem + "_files")
        written = [out]
        figures = [f for section in context["sections"] for f in section.figures]
        if figures:
            folder.mkdir(exist_ok=True)
            for fig in figures:
                (folder / f"{fig.name}.png").write_bytes(fig.png)
                written.append(folder / f"{fig.name}.png")
        out.write_text(render_markdown(context, folder.name), encoding="utf-8")
        return written
    raise NovelbenchError(f"--out {out}: the suffix decides the format, use .html or .md")
