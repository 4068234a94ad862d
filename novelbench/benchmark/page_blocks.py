"""The block kinds of a page spec (``novelbench.benchmark.page``): each turns its spec entry and
the run tables it names into markdown, with the code `bench table`, `bench figure`, `bench
compare` and `bench report` use. ``BLOCKS`` maps a kind to its maker and the keys it accepts.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any, Callable

import pandas as pd

from novelbench.benchmark import compare as compare_mod
from novelbench.benchmark import report
from novelbench.benchmark.summary import fmt, summarize
from novelbench.errors import NovelbenchError

BLOCKS: dict[str, tuple[Callable[..., str], set[str]]] = {}


def block(kind: str, *keys: str):
    def register(make):
        BLOCKS[kind] = (make, set(keys))
        return make

    return register


def md(frame: pd.DataFrame, notes: list[str] | tuple[str, ...] = ()) -> str:
    return report.render(frame, "markdown", notes)


UNSTABLE_MARK = " (unstable)"


def unstable_note(page) -> list[str]:
    from novelbench.benchmark.stability import STABILITY_LIMIT

    return ([f"(unstable): the same trial's AUROC moved by more than {STABILITY_LIMIT} between --threads 1 and "
             "--threads 2 in this page's stability runs (a different floating-point summation order)."]
            if page.unstable() else [])


def _names(label: str, names) -> list[str]:
    """The names ``label`` is or labels (as "method (dataset...)" or a suffixed name)."""
    return [n for n in names if label == n or label.startswith(n + " ")]


def flag_label(page, label: str, source: pd.DataFrame | None = None) -> str:
    """``label`` with the unstable mark when it names (or labels, as "method (dataset...)" or a
    suffixed name) a method the page's stability runs flag. With ``source`` (the block's rows,
    ``method`` and ``trial_id``) only if the rows behind the label include a trial of those runs:
    another run under the same name (an earlier default, older code) is not what they measured."""
    hit = bool(_names(label, page.unstable()))
    if hit and source is not None:
        own = _names(label, source["method"].unique())
        if own:
            rows = source[source["method"] == max(own, key=len)]
            hit = not page.unstable_trials().isdisjoint(rows["trial_id"])
    return label + UNSTABLE_MARK if hit else label


def unstable_marks(page, labels, notes: list[str] | tuple[str, ...],
                   source: pd.DataFrame | None = None) -> tuple[dict[str, str], list[str]]:
    """Each label -> itself, marked where unstable; the notes, with the mark's meaning if any is marked."""
    marked = {str(label): flag_label(page, str(label), source) for label in labels}
    changed = any(k != v for k, v in marked.items())
    return marked, [*notes, *(unstable_note(page) if changed else [])]


def mark_columns(page, frame: pd.DataFrame, columns: list[str], notes: list[str] | tuple[str, ...],
                 source: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The frame's method-naming ``columns`` (e.g. a comparison's A and B) marked where unstable,
    and the notes with the mark's meaning."""
    present = [c for c in columns if c in frame.columns]
    labels = pd.unique(frame[present].to_numpy().ravel()) if present else []
    marked, notes = unstable_marks(page, labels, notes, source)
    return frame.assign(**{c: frame[c].astype(str).map(marked) for c in present}), notes


def num(value: float, digits: int = 3, signed: bool = False) -> str:
    if value is None or pd.isna(value):
        return "-"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def finished(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["status"] == "ok"]


def trials(table: pd.DataFrame) -> pd.DataFrame:
    """One row per finished trial."""
    return finished(table).drop_duplicates("trial_id")


def short(label: Any) -> str:
    """A positive set's short name: "3" for MNIST's "3 - three"."""
    return str(label).split(" - ")[0]


def span(values) -> str:
    """0,1,2,3 as "0-3"; other lists comma-separated; long ones as a count."""
    values = list(dict.fromkeys(values))
    if all(str(v).isdigit() for v in values):
        ints = sorted(int(v) for v in values)
        if len(ints) > 2 and ints == list(range(ints[0], ints[-1] + 1)):
            return f"{ints[0]}-{ints[-1]}"
        return ",".join(map(str, ints))
    return ",".join(sorted(map(str, values))) if len(values) <= 6 else f"{len(values)} sets"


def coverage_text(rows: pd.DataFrame) -> str:
    """Which positive sets, repeats and seeds finished trials cover, e.g. "0-9 x seeds 0,1,2"."""
    rows = trials(rows)
    seeds = sorted(rows["seed"].unique())
    text = span(rows["positives"].map(short))
    repeats = rows["repeat"].nunique()
    if repeats > 1:
        text += f" x {repeats} repeats"
    return text + f" x seed{'s' if len(seeds) > 1 else ''} " + ",".join(map(str, seeds))


def per_group(rows: pd.DataFrame) -> str:
    """Finished trials per group, e.g. "8/8/5" for n=1/3/5."""
    done = trials(rows)
    groups = report._group_order(done["group"].unique())
    return "/".join(str(int((done["group"] == g).sum())) for g in groups)


def devices(rows: pd.DataFrame) -> str:
    done = trials(rows)
    precision = done["precision"].fillna("precision not recorded") if "precision" in done else ["precision not recorded"] * len(done)
    return ", ".join(sorted({f"{d} ({p})" for d, p in zip(done["device"], precision)}))


def seconds(rows: pd.DataFrame) -> pd.Series:
    """Fit + test-pool scoring seconds per finished trial."""
    done = trials(rows)
    return done["fit_seconds"] + done["score_seconds"]


def default_mix(table: pd.DataFrame, metric: str) -> str:
    """AUROC: the protocol's own mix (pool for mnist, p50 for caltech); F1: the largest outlier share."""
    protocol = table["protocol"].iloc[0]
    mix = compare_mod.default_mix(protocol) if metric in ("auroc", "aupr") else None
    return mix or finished(table).sort_values("outlier_pct")["mix"].iloc[-1]


def figure_name(value: Any, where: str) -> str:
    name = str(value or "")
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or path.suffix:
        raise NovelbenchError(f"{where}: `file` must be a file name without suffix beside the page, got {name!r}")
    return name


@block("prose", "text", "file", "verbatim")
def prose(page, spec: dict, where: str, out_dir: Path) -> str:
    """Markdown written by hand (``text``), or a file beside the spec (``file``); ``verbatim =
    true`` shows the file as printed (e.g. a measurement script's output) in a code block."""
    if "file" not in spec:
        return str(spec.get("text", ""))
    path = page.folder / spec["file"]
    if not path.is_file():
        raise NovelbenchError(f"{where}: no file {spec['file']}")
    text = path.read_text(encoding="utf-8")
    return f"```text\n{text.strip()}\n```" if spec.get("verbatim") else text


@block("summary", "metric")
def summary_block(page, spec: dict, where: str, out_dir: Path) -> str:
    """Mean ± std of one metric per method (rows) and test mix (columns), as `bench summary`."""
    metric = spec.get("metric", "auroc")
    table = page.table(spec, where)
    compare_mod.check_metric(table, metric)
    order = {m: i for i, m in enumerate(dict.fromkeys(table["method"]))}
    stats = summarize(table).sort_values("method", key=lambda m: m.map(order), kind="stable")
    mixes = list(dict.fromkeys(stats["mix"]))
    rows = []
    for method, part in stats.groupby("method", sort=False):
        by_mix = part.set_index("mix")
        rows.append({"method": method, "trials": int(part["n"].max()),
                     **{mix: fmt(by_mix.at[mix, f"{metric}_mean"], by_mix.at[mix, f"{metric}_std"]) if mix in by_mix.index else "-"
                        for mix in mixes}})
    return md(*mark_columns(page, pd.DataFrame(rows), ["method"],
                           [f"{report.metric_label(metric)}: mean ± std over trials. {report.metric_note(metric)}"], table))


@block("table", "protocol", "policy", "published", "floor", "coverage", "heading")
def table_block(page, spec: dict, where: str, out_dir: Path) -> str:
    """A protocol's table as `bench table` lays it out (the paper's Table 1, Figure 3's numbers);
    ``coverage = true`` adds trials, positive sets x seeds, device and seconds per trial."""
    table = page.table(spec, where)
    protocols = [spec["protocol"]] if "protocol" in spec else list(dict.fromkeys(table["protocol"]))
    parts = []
    for protocol in protocols:
        made = report.protocol_table(table, protocol, spec.get("policy", "quantile"), spec.get("published", "all"))
        frame = made.frame
        if not spec.get("floor", True):
            frame = frame[~frame["method"].str.startswith("trivial floor")]
        if spec.get("coverage", False):
            frame = frame.copy()
            measured = {report.method_label(m, rows): rows for m, rows in
                        finished(table[table["protocol"] == protocol]).groupby("method", sort=False)}
            for column, value in (("trials", lambda r: str(r["trial_id"].nunique())), ("positive sets x seeds", coverage_text),
                                  ("device", devices), ("fit+score s / trial", lambda r: num(seconds(r).mean(), 1))):
                frame[column] = [value(measured[m]) if m in measured else "-" for m in frame["method"]]
        heading = made.heading + "\n\n" if spec.get("heading", True) else ""
        parts.append(heading + md(*mark_columns(page, frame, ["method"], made.notes, table)))
    return "\n\n".join(parts)


@block("figure", "file", "protocol", "policy", "published", "caption")
def figure_block(page, spec: dict, where: str, out_dir: Path) -> str:
    """Figure 3 (F1 vs outlier %) as `bench figure` draws it, written as FILE.png / .pdf beside the page."""
    name = figure_name(spec.get("file"), where)
    table = page.table(spec, where)
    protocol = spec.get("protocol") or next(iter(report.figure_protocols(table)), None)
    if protocol is None:
        raise NovelbenchError(f"{where}: these runs hold no protocol with an F1-vs-outlier-% figure")
    if out_dir is not None:  # None: the markdown only (the golden test checks the figure files exist)
        report.outlier_pct_figure(table, protocol, out_dir / name, spec.get("policy", "quantile"), spec.get("published", "all"))
    caption = spec.get("caption", f"{report.layout_of(protocol).title}, {protocol} protocol")
    return f"![{caption}]({name}.png)"


@block("compare", "metric", "mix", "by_group", "focus", "pairs", "holm", "ranks", "figure", "min_pairs")
def compare_block(page, spec: dict, where: str, out_dir: Path) -> str:
    """The paired comparison as `bench compare` computes it (Holm over all its pairs when 3+
    methods); ``focus = M`` shows only M's pairs, M as A; ``figure = FILE`` writes the
    critical-difference diagram. ``pairs = [[A, B], ...]`` compares only those pairs (Holm over
    them; ``holm = false``: each pair its own question), e.g. a method against an earlier run of
    itself named apart by a run entry's suffix."""
    table = page.table(spec, where)
    metric, min_pairs = spec.get("metric", "auroc"), spec.get("min_pairs", compare_mod.MIN_PAIRS)
    if "pairs" in spec:
        return listed_pairs(page, table, spec["pairs"], metric, spec.get("mix"), min_pairs, spec.get("holm", True), where)
    comparisons = compare_mod.compare(table, metric, spec.get("mix"), min_pairs, spec.get("by_group", False))
    stem = figure_name(spec["figure"], where) if "figure" in spec else None
    drawn = [c for c in comparisons if c.ranks is not None]
    parts = []
    for c in comparisons:
        pairs = [p.facing(spec["focus"]) for p in c.pairs if spec["focus"] in (p.a, p.b)] if "focus" in spec else c.pairs
        holm = f" Holm correction over all {len(c.pairs)} pairs of the {len(c.methods)} methods." if len(c.methods) > 2 else ""
        parts.append(f"{c.title}.{holm}\n\n" + md(*mark_columns(page, replace(c, pairs=pairs).pairs_frame(), ["A", "B"], [c.note], table)))
        if spec.get("ranks", True) and len(c.methods) > 2:
            ranks = md(*mark_columns(page, c.ranks_frame(), ["method"], [], table)) if c.ranks is not None else ""
            parts.append(c.rank_summary() + ("\n\n" + ranks if ranks else ""))
        if stem and c in drawn:
            name = stem if len(drawn) == 1 else f"{stem}-{c.scope.replace('=', '').replace(' ', '_')}"
            if out_dir is not None:
                report.save_figure(c.cd_figure(), out_dir / name)
            parts.append(f"![critical-difference diagram, {c.scope}]({name}.png)")
    return "\n\n".join(parts)


def listed_pairs(page, table: pd.DataFrame, listed: list, metric: str, mix: str | None, min_pairs: int, holm: bool,
                 where: str) -> str:
    compare_mod.check_metric(table, metric)
    protocol, dataset = table["protocol"].iloc[0], table["dataset"].iloc[0]
    mix = mix or default_mix(table, metric)
    wide = compare_mod.paired_frame(table, metric, mix)
    missing = sorted({m for pair in listed for m in pair} - set(wide.columns))
    if missing:
        raise NovelbenchError(f"{where}: no trials of {', '.join(missing)} on the {mix} mix in these run tables")
    pairs = [compare_mod.compare_pair(a, b, wide[a], wide[b], min_pairs) for a, b in listed]
    if holm:
        compare_mod.holm(pairs)
    methods = list(dict.fromkeys(m for pair in listed for m in pair))
    c = compare_mod.Comparison(protocol, dataset, "pairs listed", metric, mix, methods, pairs)
    how = (f" Holm correction over these {len(pairs)} pairs." if holm else " No multiple-test correction.") if len(pairs) > 1 else ""
    frame = c.pairs_frame() if holm else c.pairs_frame().drop(columns="Holm p", errors="ignore")
    return f"{c.title}.{how}\n\n" + md(*mark_columns(page, frame, ["A", "B"], [c.note], table))


@block("leaderboard", "policy", "metric", "mix", "min_pairs")
def leaderboard_block(page, spec: dict, where: str, out_dir: Path) -> str:
    """What `bench report` opens with: per protocol and dataset, one row per method, best mean rank
    first (AUROC on the protocol's mix, F1 at each outlier share, mean rank, seconds per trial)."""
    from novelbench.benchmark import report_page

    table = page.table(spec, where)
    metric, min_pairs = spec.get("metric", "auroc"), spec.get("min_pairs", compare_mod.MIN_PAIRS)
    comparisons = compare_mod.compare(table, metric, spec.get("mix"), min_pairs)
    section = report_page.leaderboard_section(table, spec.get("policy", "quantile"), comparisons)
    parts = []
    for b in section.blocks:
        frame = pd.DataFrame(b["table"].rows, columns=b["table"].columns)
        parts.append(f"**{b['title']}**\n\n" + md(frame, b["notes"]))
    return "\n\n".join(parts)


@block("coverage", "describe")
def coverage_block(page, spec: dict, where: str, out_dir: Path) -> str:
    """One row per run table and method: finished / failed trials, trials per group, positive
    sets x seeds, device; ``describe = {RUN = TEXT}`` adds what each run table is."""
    rows = []
    describe = spec.get("describe", {})
    for ref in page.refs(spec.get("runs"), where):
        table = page.filter(page.read([ref]), spec, where, strict=False)
        name = ref.path.stem
        for method, part in table.groupby("method", sort=False):
            all_trials = part.drop_duplicates("trial_id")
            ok = int((all_trials["status"] == "ok").sum())
            row = {"run table": f"`{ref.path.name}`", "method": method}
            if describe:
                row["what"] = describe.get(name, "-")
            rows.append({**row, "trials (ok / failed)": f"{ok} / {len(all_trials) - ok}",
                         "per group": per_group(part) if ok else "-", "positive sets x seeds": coverage_text(part) if ok else "-",
                         "device": devices(part) if ok else "-"})
    return md(pd.DataFrame(rows))


@block("per-class", "metric", "mix", "spread")
def per_class_block(page, spec: dict, where: str, out_dir: Path) -> str:
    """One row per positive set (e.g. digit), one column per method: the metric's mean over
    repeats and seeds (``spread = true``: with min-max), and the mean row."""
    table = page.table(spec, where)
    metric = spec.get("metric", "auroc")
    compare_mod.check_metric(table, metric)
    mix = spec.get("mix") or default_mix(table, metric)
    rows = finished(table)
    rows = rows[rows["mix"] == mix].drop_duplicates(["trial_id", "mix"])
    if rows.empty:
        raise NovelbenchError(f"{where}: no finished trials on the {mix!r} mix")
    rows = rows.assign(positive=rows["positives"].map(short))
    stats = rows.pivot_table(index="positive", columns="method", values=metric, aggfunc=["mean", "min", "max"], sort=False)
    methods = list(dict.fromkeys(rows["method"]))
    order = sorted(stats.index, key=lambda s: (0, int(s), "") if str(s).isdigit() else (1, 0, str(s)))
    frame = pd.DataFrame({"positive set": order})
    for m in methods:
        mean, low, high = (stats[(s, m)].reindex(order) for s in ("mean", "min", "max"))
        cells = [num(v) + (f" ({num(lo)}-{num(hi)})" if spec.get("spread") and not pd.isna(v) and lo < hi else "")
                 for v, lo, hi in zip(mean, low, high)]
        frame[m] = cells
    means = {m: num(stats[("mean", m)].mean()) for m in methods}
    partial = any(stats[("mean", m)].isna().any() for m in methods)
    frame.loc[len(frame)] = ["mean (of the sets in the column)" if partial else "mean", *means.values()]
    how = "mean (min-max) over repeats and seeds" if spec.get("spread") else "mean over repeats and seeds"
    renamed, notes = unstable_marks(page, methods, [f"{report.metric_label(metric)} on the {mix} mix per positive set, {how}."], rows)
    return md(frame.rename(columns=renamed), notes)


@block("timings", "budget")
def timings_block(page, spec: dict, where: str, out_dir: Path) -> str:
    """Seconds per trial and method (fit, scoring the test pool, both), as the rows record them;
    ``budget = S`` adds whether the mean fit + score stays within S seconds."""
    rows, table = [], page.table(spec, where)
    for method, part in trials(table).groupby("method", sort=False):
        total = part["fit_seconds"] + part["score_seconds"]
        row = {"method": method, "trials": len(part), "fit s (mean)": num(part["fit_seconds"].mean(), 1),
               "score s (mean)": num(part["score_seconds"].mean(), 1), "fit+score s (mean)": num(total.mean(), 1),
               "fit+score s (max)": num(total.max(), 1)}
        if "budget" in spec:
            row[f"mean <= {spec['budget']:g} s?"] = "yes" if total.mean() <= spec["budget"] else "**no**"
        rows.append({**row, "device": devices(part)})
    notes = ["Wall seconds per trial as the harness measured them; runs that shared their machine with other processes "
             "measure load as much as speed."]
    return md(*mark_columns(page, pd.DataFrame(rows), ["method"], notes, table))


def csv_beside(page, spec: dict, where: str) -> tuple[Path, pd.DataFrame]:
    """The CSV file a block's ``file`` names (relative to the spec) and its table."""
    path = page.folder / str(spec.get("file", ""))
    if not path.is_file():
        raise NovelbenchError(f"{where}: no CSV file {spec.get('file')}")
    return path, pd.read_csv(path)


@block("csv", "file", "columns")
def csv_block(page, spec: dict, where: str, out_dir: Path) -> str:
    """A CSV file beside the spec that is not a run table (e.g. a measurement script's output),
    as a table: ``columns = {NAME = "heading"}`` picks and renames columns (a list only picks); floats get 3 decimals."""
    path, frame = csv_beside(page, spec, where)
    if "columns" in spec:
        missing = [c for c in spec["columns"] if c not in frame.columns]
        if missing:
            raise NovelbenchError(f"{where}: {path.name} has no column(s) {', '.join(missing)}")
        renames = spec["columns"] if isinstance(spec["columns"], dict) else {}  # a list only picks
        frame = frame[list(spec["columns"])].rename(columns=renames)
    return md(frame.map(lambda v: num(v) if isinstance(v, float) else v))


@block("verify-summary", "file")
def verify_summary_block(page, spec: dict, where: str, out_dir: Path) -> str:
    """A `bench verify` table (its .csv beside the spec) summed up per method: trials bit-identical /
    within T / beyond T and how far the numbers moved (``verify.by_method``)."""
    from novelbench.benchmark import verify

    path, frame = csv_beside(page, spec, where)
    missing = {"method", "verdict", "auroc_delta", "max_abs_delta"} - set(frame.columns)
    if missing:
        raise NovelbenchError(f"{where}: {path.name} is not a `bench verify` table (no column(s) {', '.join(sorted(missing))})")
    summary = verify.by_method(frame)
    return md(summary.map(lambda v: num(v, 4) if isinstance(v, float) else v),
              ["Δ AUROC: the protocol's own mix (pool for MNIST, p50 for Caltech); any metric: AUROC, AUPR and every F1 "
               "policy of every test mix."])


@block("stability", "metric", "mix", "pairs")
def stability_block(page, spec: dict, where: str, out_dir: Path) -> str:
    """`bench stability` on the block's runs (default: the page's ``stability`` runs): per method
    the trials run with --threads 1 and 2, the largest and median change and whether it is
    unstable; ``pairs = true`` adds one row per trial."""
    from novelbench.benchmark.stability import thread_stability

    refs = page.refs(spec["runs"], where) if "runs" in spec else page.stability_runs  # load() checked one is there
    table = page.filter(page.read(refs), spec, where)
    result = thread_stability(table, spec.get("metric", "auroc"), mix=spec.get("mix"))
    methods = result.methods.assign(
        max_abs_change=result.methods["max_abs_change"].map(num), median_abs_change=result.methods["median_abs_change"].map(num),
        unstable=result.methods["unstable"].map({True: "**yes**", False: "no"}))
    methods.columns = ["method", "trials paired", "largest abs. change", "median abs. change", "trials above the limit", "unstable?"]
    label = report.metric_label(result.metric)
    notes = [f"change = {label}(--threads {result.threads[1]}) - {label}(--threads {result.threads[0]}) of the same trial on "
             f"the protocol's own mix; unstable: some |change| > {result.limit}."]
    text = md(methods, notes)
    if spec.get("pairs", False):
        pairs = result.pairs[["method", "positives", "seed", "repeat", *[c for c in result.pairs.columns if c.startswith(result.metric)],
                              "change"]].copy()
        pairs["positives"] = pairs["positives"].map(short)
        for c in pairs.columns[4:]:
            pairs[c] = pairs[c].map(lambda v: num(v, 3, signed=c == "change"))
        text += "\n\n" + md(pairs.rename(columns={"positives": "positive set"}))
    return text


@block("verdict", "rows")
def verdict_block(page, spec: dict, where: str, out_dir: Path) -> str:
    """Targets against measured values: met or not, computed (``novelbench.benchmark.verdict``)."""
    from novelbench.benchmark import verdict

    return verdict.render(page, spec, where)
