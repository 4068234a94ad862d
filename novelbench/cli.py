"""`bench`: run novelty-detection benchmarks and list what is available.

Thin layer: parses options, calls novelbench.benchmark, prints with rich (tables for people,
--json for scripts). Each protocol's options (``--n-classes``, ``--repeats`` ...) are derived
from the protocol's own declaration, so a new protocol needs no edit here. Known errors print
as one line with a non-zero exit code; set NOVELBENCH_DEBUG=1 to see the full traceback.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from novelbench.benchmark import compare as compare_mod
from novelbench.benchmark import provenance, report
from novelbench.benchmark.datacache import load_dataset
from novelbench.benchmark.plan import plan_trials
from novelbench.benchmark.protocols.base import Option
from novelbench.benchmark import placement
from novelbench.benchmark.runner import default_executor, make_executor, run_id_for, run_trials
from novelbench.benchmark.store import ResultStore, check_out_path, read_results
from novelbench.benchmark.summary import fmt, summarize
from novelbench.errors import NovelbenchError
from novelbench.registry import DATASETS, EXECUTORS, METHODS, PROTOCOLS

app = typer.Typer(help="novelbench: benchmark image novelty detection methods.", no_args_is_help=True, add_completion=False)
# wide tables when writing to a file or pipe; a real terminal's width otherwise
out_console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)


def known_errors(command):
    """Show a NovelbenchError as one red line and exit 1 (full traceback with NOVELBENCH_DEBUG=1)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except NovelbenchError as exc:
            if os.environ.get("NOVELBENCH_DEBUG"):
                raise
            err_console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def _ints(text: str | None, what: str) -> list[int] | None:
    try:
        return [int(v) for v in text.split(",") if v.strip()] if text else None
    except ValueError:
        raise NovelbenchError(f"{what} must be a comma list of integers, got {text!r}") from None


# -- protocol and executor options, derived from their declarations ---------------------------
#: prefix of the run() parameters derived from each kind's declared options
DECLARED = {"protocol": ("proto", PROTOCOLS), "executor": ("exec", EXECUTORS)}


def _declared_options(kind: str) -> dict[str, list[tuple[str, Option]]]:
    """Option name -> [(protocol or executor, option)] over every registered one of ``kind``."""
    merged: dict[str, list[tuple[str, Option]]] = {}
    registry = DECLARED[kind][1]
    for name in registry.names():
        for option in getattr(registry.get(name), "options", ()):
            merged.setdefault(option.name, []).append((name, option))
    return merged


def _show(value: Any, none: str = "all") -> str:
    if value is None:
        return none
    if isinstance(value, (list, tuple)):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return str(value)


def _declared_parameters(kind: str) -> list[inspect.Parameter]:
    prefix = DECLARED[kind][0]
    params = []
    for name, uses in _declared_options(kind).items():
        first = uses[0][1]
        owners = ", ".join(p for p, _ in uses)
        helps = dict.fromkeys(o.help for _, o in uses)
        text = first.help if len(helps) == 1 else " ".join(f"{p}: {o.help}" for p, o in uses)
        if kind == "protocol":
            text += " Default " + "; ".join(f"{p}: {_show(o.default)}" for p, o in uses) + "."
        panel = f"{kind.capitalize()} options ({owners})" if len(uses) > 1 else f"{owners} {kind} options"
        if first.kind == "bool":
            info = typer.Option(None, f"{first.flag}/--no-{first.flag[2:]}", help=text, rich_help_panel=panel, show_default=False)
            annotation = Optional[bool]
        else:
            info = typer.Option(None, first.flag, help=text, rich_help_panel=panel, show_default=False)
            annotation = Optional[str]
        params.append(inspect.Parameter(f"{prefix}_{name}", inspect.Parameter.KEYWORD_ONLY, default=info, annotation=annotation))
    return params


def _chosen_options(kind: str, chosen: str, given: dict[str, Any]) -> dict[str, Any]:
    """The values the user gave for the chosen protocol's (or executor's) options; an option of
    another one is an error. The protocol or executor itself converts, checks and fills defaults."""
    prefix, registry = DECLARED[kind]
    own = {o.name for o in getattr(registry.get(chosen), "options", ())}
    params = {}
    for key, value in given.items():
        if not key.startswith(prefix + "_") or value is None:
            continue
        name = key.removeprefix(prefix + "_")
        if name not in own:
            owners = ", ".join(p for p, _ in _declared_options(kind).get(name, []))
            plural = "s" if "," in owners else ""
            raise NovelbenchError(f"--{name.replace('_', '-')} belongs to the {owners} {kind}{plural}, not {chosen}")
        params[name] = value
    return params


def _chosen_protocol_params(protocol: str, given: dict[str, Any], extra: list[str]) -> dict[str, Any]:
    params = _chosen_options("protocol", protocol, given)
    for spec in extra:
        key, sep, value = spec.partition("=")
        if not sep:
            raise NovelbenchError(f"--protocol-option {spec!r} must look like NAME=VALUE")
        params[key.strip().replace("-", "_")] = value
    return params


def _summary_table(table, title: str) -> Table:
    summary = summarize(table)
    view = Table(title=title, show_lines=False)
    for col in ["method", "set", "mix", "n", "AUROC", "AUPR", "F1 quant", "F1 valid", "F1 oracle", "F1 native", "F1 trivial", "fit s"]:
        view.add_column(col, justify="left" if col in ("method", "set", "mix") else "right")
    for _, r in summary.iterrows():
        view.add_row(escape(str(r["method"])), str(r["group"]), str(r["mix"]), str(r["n"]),
                     *(fmt(r[f"{m}_mean"], r[f"{m}_std"]) for m in ["auroc", "aupr", "f1_quantile", "f1_validation", "f1_oracle", "f1_native", "f1_trivial"]),
                     f"{r['fit_seconds_mean']:.1f}")
    view.caption = ("F1 takes inliers as the positive class. Thresholds: quant = flag the known outlier share; valid = tuned on a "
                    "validation mix with labelled outliers; oracle = tuned on the test mix (an upper bound); native = the "
                    "method's own decision; trivial = everything an inlier (the floor). AUROC/AUPR: outliers positive.")
    return view


def _effective_jobs(jobs: int | None, threads: int, device: str) -> int | None:
    """No more CPU worker processes than cores // threads: oversubscribing changes no number but
    slows every trial. None (not given) lets the executor size itself to the machine."""
    if jobs is None or device.startswith("cuda"):
        return jobs
    fit = placement.cpu_slots(threads)
    if jobs > fit:
        err_console.print(f"[yellow]--jobs {jobs} x --threads {threads} exceeds the {placement.cpu_cores()} CPU cores; running {fit} trial(s) at a time[/]")
        return fit
    return jobs


def run(
    method: list[str] = typer.Option(..., "--method", "-m", help="Method name (see `bench list`), entry-point name or package.module:Class. Repeat for several."),
    protocol: str = typer.Option("mnist", help="Protocol (see `bench list`): mnist (one class vs the rest, outlier percentages) or caltech (clutter outliers, 50 %)."),
    dataset: Optional[str] = typer.Option(None, help="Dataset (see `bench list`). Default: the protocol's own (mnist for mnist, caltech256 for caltech)."),
    data_root: Optional[Path] = typer.Option(None, help="Folder holding the data (torchvision layout, e.g. ROOT/MNIST/raw). Default: $NOVELBENCH_DATA_ROOT or ./data."),
    download: bool = typer.Option(False, "--download", help="Download the dataset through torchvision if it is missing (needs internet)."),
    image_size: Optional[int] = typer.Option(None, help="Resize images to SIZE x SIZE (default: 28 for digit sets, 64 for Caltech and folder)."),
    seeds: str = typer.Option("0", help="Comma list of non-negative seeds; each seeds the split sampling and the method's training."),
    param: list[str] = typer.Option([], "--param", "-p", help="Method parameter override, METHOD.NAME=V1,V2 (a comma list expands to a grid). Repeatable."),
    protocol_option: list[str] = typer.Option([], "--protocol-option", help="Protocol option NAME=VALUE, for protocols given as package.module:Class. Repeatable."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default results/<protocol>-<dataset>-<methods>). Finished trials there are reused."),
    jobs: Optional[int] = typer.Option(None, min=1, help="Trials run at the same time (local worker processes, or LocalCluster workers with --executor dask). Default: 1 (inline); with --executor processes or dask, cores // --threads, or one per GPU."),
    executor: Optional[str] = typer.Option(None, help="How trials run (see `bench list`): inline, processes, dask, ... Default: processes when --jobs > 1 or --devices, else inline."),
    threads: int = typer.Option(1, min=1, help="CPU threads per trial. Part of a trial's identity: CPU numbers depend on it, never on --jobs."),
    device: str = typer.Option("auto", help="auto (CUDA when present), cpu or cuda[:N]."),
    force: bool = typer.Option(False, "--force", help="Recompute trials even if their results exist."),
    keep_models: bool = typer.Option(False, "--keep-models", help="Save each fitted method to OUT/models/<trial_id>.pt (for `bench samples`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON (for scripts) instead of a table."),
    **declared_options: Any,
) -> None:
    """Run METHOD(s) over a protocol's positive sets and seeds; write a tidy results table.

    Each trial trains on inliers once, scores the test pool once and derives every outlier
    percentage from those scores. Results: OUT/results.parquet and OUT/results.csv, one row per
    trial and test mix; OUT/trials/ keeps one file per finished trial, so an interrupted run
    resumes where it stopped when re-run with the same options.
    """
    # everything a user can get wrong is checked before any work, and nothing is written until then
    proto_cls = PROTOCOLS.get(protocol)  # unknown protocol: one clear line
    dataset = dataset or getattr(proto_cls, "default_dataset", "mnist")
    DATASETS.get(dataset)
    if executor is not None:
        EXECUTORS.get(executor)
    out = out or Path("results") / f"{protocol.replace(':', '.')}-{dataset}-{'+'.join(m.replace(':', '.') for m in method)}"
    check_out_path(out)
    dataset_params = {"data_root": str(data_root) if data_root else None, "download": download, "image_size": image_size}
    protocol_params = _chosen_protocol_params(protocol, declared_options, protocol_option)
    seed_list = _ints(seeds, "--seeds") or []
    model_dir = str(out / "models") if keep_models else ""
    trials, _ = plan_trials(method, param, protocol, protocol_params, dataset, dataset_params, seed_list, device, threads, model_dir)
    run_device = trials[0].device if trials else "cpu"
    if executor is None:
        given = {k: v for k, v in declared_options.items() if k.startswith("exec_") and v is not None}
        executor = default_executor(jobs, run_device, given.get("exec_devices"))
    executor_options = _chosen_options("executor", executor, declared_options)
    runner_executor = make_executor(executor, _effective_jobs(jobs, threads, run_device), run_device,
                                    note=lambda m: err_console.print(escape(m)), **executor_options)
    if trials:
        runner_executor.check(trials[0])
    data = load_dataset(dataset, dataset_params)
    store = ResultStore(out, on_warning=lambda m: err_console.print(f"[yellow]{escape(m)}[/]"))
    store.prepare()
    provenance.record_run(out, run_id_for(trials), len(trials))  # the command line, for `bench report`
    if data.skipped_files:
        err_console.print(f"[yellow]{dataset}: skipped {len(data.skipped_files)} non-image or unreadable file(s), e.g. {escape(data.skipped_files[0])}[/]")
    err_console.print(f"{len(trials)} trial(s): {escape(', '.join(dict.fromkeys(t.label for t in trials)))} on {protocol}/{dataset}, results in {out}")

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TimeRemainingColumn(), console=err_console, disable=as_json)

    def on_trial(trial, rows, cached):
        if rows and rows[0]["status"] != "ok":
            err_console.print(f"[red]failed[/] {escape(trial.describe())}: {escape(rows[0]['error'])}")
        elif rows and not as_json:
            pool = next((r for r in rows if r["mix"] == "pool"), rows[-1])
            err_console.print(f"done {escape(trial.describe())}: AUROC {pool['auroc']:.3f} ({pool['mix']}), fit {pool['fit_seconds']:.1f}s")
        progress.update(task, advance=1, description="cached" if cached else escape(trial.describe()))

    with progress:
        task = progress.add_task("starting", total=len(trials))
        try:
            result = run_trials(trials, store, runner_executor, force=force, on_trial=on_trial)
        except KeyboardInterrupt:
            err_console.print(f"[yellow]interrupted[/]: finished trials are saved in {out}/trials; re-run the same command to resume")
            raise typer.Exit(130)

    if as_json:
        summary = summarize(result.table)
        payload = {"run_id": result.run_id, "out": str(out), "trials": result.n_trials, "cached": result.n_cached,
                   "ran": result.n_ran, "failed": result.n_failed, "summary": json.loads(summary.to_json(orient="records"))}
        out_console.print_json(json.dumps(payload))
    else:
        if not result.table.empty and (result.table["status"] == "ok").any():
            out_console.print(_summary_table(result.table, f"{protocol} / {dataset}: mean ± std over positive sets and seeds"))
        out_console.print(f"{result.n_trials} trials: {result.n_ran} run, {result.n_cached} reused, {result.n_failed} failed. "
                          f"Table of every trial in the folder: {out}/results.parquet (+ .csv)")
    if result.n_failed:
        raise typer.Exit(1)


run.__signature__ = inspect.signature(run).replace(  # type: ignore[attr-defined]
    parameters=[p for p in inspect.signature(run).parameters.values() if p.kind != p.VAR_KEYWORD]
    + _declared_parameters("protocol") + _declared_parameters("executor")
)
app.command()(known_errors(run))


@app.command("list")
@known_errors
def list_(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List methods (with their parameters and defaults), protocols (with their options), datasets and executors."""
    methods = {}
    for n in METHODS.names():
        plugin = METHODS.plugin(n)
        methods[n] = {"summary": plugin.summary, "preset_of": plugin.cls.name if plugin.is_preset else None,
                      "params": {k: repr(v) for k, v in plugin.param_defaults().items()}}
    protocols = {n: {"summary": PROTOCOLS.get(n).summary, "default_dataset": getattr(PROTOCOLS.get(n), "default_dataset", None),
                     "options": {o.flag: {"default": _show(o.default), "help": o.help, "selects_only": o.selects}
                                 for o in getattr(PROTOCOLS.get(n), "options", ())}}
                 for n in PROTOCOLS.names()}
    info = {"methods": methods, "method_families": METHODS.families(), "unavailable_methods": METHODS.unavailable(),
            "protocols": protocols, "unavailable_protocols": PROTOCOLS.unavailable(),
            "datasets": {n: (DATASETS.get(n).__doc__ or "").strip().splitlines()[0] if DATASETS.get(n).__doc__ else "" for n in DATASETS.names()},
            "unavailable_datasets": DATASETS.unavailable(),
            "executors": {n: {"summary": EXECUTORS.plugin(n).summary,
                              "options": {o.flag: {"default": _show(o.default, "auto"), "help": o.help}
                                          for o in getattr(EXECUTORS.get(n), "options", ())}}
                          for n in EXECUTORS.names()},
            "unavailable_executors": EXECUTORS.unavailable()}
    if as_json:
        out_console.print_json(json.dumps(info))
        return
    table = Table(title="methods")
    for col in ("name", "what", "parameters (defaults)"):
        table.add_column(col)
    for name, m in methods.items():
        what = m["summary"] + (f" [dim](preset of {m['preset_of']})[/]" if m["preset_of"] else "")
        table.add_row(name, what, escape(", ".join(f"{k}={v}" for k, v in m["params"].items())))
    for prefix, names in info["method_families"].items():
        what = f"one of: {', '.join(names)}" if names else f"none available: install the optional extra, pip install -e \".[{prefix}]\""
        table.add_row(f"{prefix}:<NAME>", escape(what), "the detector's own parameters and the adapter's (see README)" if names else "")
    for kind in ("methods", "protocols", "datasets"):
        for name, reason in info[f"unavailable_{kind}"].items():
            table.add_row(f"[red]{escape(name)}[/]", f"[red]unavailable {kind[:-1]}: {escape(reason)}[/]", "")
    out_console.print(table)
    ptable = Table(title="protocols")
    for col in ("name", "what", "options (defaults)"):
        ptable.add_column(col)
    for name, p in protocols.items():
        opts = ", ".join(f"{flag}={o['default']}" for flag, o in p["options"].items())
        ptable.add_row(name, f"{p['summary']} (default dataset: {p['default_dataset']})", escape(opts))
    out_console.print(ptable)
    out_console.print("datasets: " + ", ".join(info["datasets"]))
    etable = Table(title="executors (--executor)")
    for col in ("name", "what", "options (defaults)"):
        etable.add_column(col)
    for name, e in info["executors"].items():
        etable.add_row(name, e["summary"], escape(", ".join(f"{flag}={o['default']}" for flag, o in e["options"].items())))
    for name, reason in info["unavailable_executors"].items():
        etable.add_row(f"[red]{escape(name)}[/]", f"[red]unavailable executor: {escape(reason)}[/]", "")
    out_console.print(etable)


@app.command()
@known_errors
def summary(results: Path = typer.Argument(..., help="A run's output folder, or its results .parquet/.csv."),
            as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Show mean ± std per method and setting for a finished run."""
    table = read_results(results)
    if not (table["status"] == "ok").any():
        raise NovelbenchError(f"{results} holds no finished trials (only failed ones)")
    if as_json:
        out_console.print_json(summarize(table).to_json(orient="records"))
    else:
        out_console.print(_summary_table(table, str(results)))


def _read_many(results: list[Path]):
    import pandas as pd

    return pd.concat([read_results(r) for r in results], ignore_index=True)


POLICY_HELP = ("F1 threshold policy: quantile (flag the known outlier share), validation (tuned on a validation mix "
               "with labelled outliers), oracle (tuned on the test mix: an upper bound) or native (the method's own decision).")
PUBLISHED_HELP = ("Published rows to show: all (rows published on another dataset than the runs' are shown and labelled "
                  "'another dataset'), matching (only rows of the runs' dataset) or none.")


@app.command()
@known_errors
def table(results: list[Path] = typer.Argument(..., help="One or more run folders (or results files) to combine."),
          fmt: str = typer.Option("markdown", "--format", help="markdown, latex or csv."),
          policy: str = typer.Option("quantile", help=POLICY_HELP),
          published: str = typer.Option("all", help=PUBLISHED_HELP),
          out: Optional[Path] = typer.Option(None, help="Also write the table to this file.")) -> None:
    """Each protocol's results table, laid out as the protocol asks, beside the published rows:
    the paper's Table 1 for caltech runs, the numbers of Figure 3 for mnist runs. The notes under
    each table name the F1 threshold policy and each published row's source and threshold."""
    data = _read_many(results)
    report.f1_column(policy)
    parts = []
    for protocol in dict.fromkeys(data["protocol"]):
        made = report.protocol_table(data, protocol, policy, published)
        parts.append(made.heading + "\n\n" + made.render(fmt))
    text = "\n\n".join(parts)
    if out:
        out.write_text(text + "\n")
    print(text)


@app.command()
@known_errors
def figure(results: list[Path] = typer.Argument(..., help="One or more run folders (or results files) to combine."),
           out: Path = typer.Option(Path("results/figure3"), help="Output path without suffix; writes .png and .pdf."),
           policy: str = typer.Option("quantile", help=POLICY_HELP),
           published: str = typer.Option("all", help=PUBLISHED_HELP)) -> None:
    """The paper's Figure 3: F1 vs outlier %, one line per method, std band, trivial floor, published
    points (filled: the runs' dataset; hollow: another dataset), policy and sources under the plot."""
    data = _read_many(results)
    report.f1_column(policy)
    protocols = report.figure_protocols(data)
    if not protocols:
        raise NovelbenchError(f"these results hold no trials of a protocol with an F1-vs-outlier-% figure (they hold {', '.join(dict.fromkeys(data['protocol']))})")
    for protocol in protocols:
        target = out if len(protocols) == 1 else out.with_name(f"{out.name}-{protocol}")
        for path in report.outlier_pct_figure(data, protocol, target, policy, published):
            out_console.print(f"wrote {path}")


METRIC_HELP = ("Metric to compare: auroc, aupr, or an F1 column (f1_quantile, f1_validation, f1_oracle, f1_native; "
               "F1 takes inliers as the positive class).")


def _print_frame(frame, title: str, caption: str = "") -> None:
    view = Table(title=escape(title), caption=escape(caption) if caption else None, caption_justify="left")
    for col in frame.columns:
        view.add_column(escape(str(col)), overflow="fold")
    for row in frame.itertuples(index=False):
        view.add_row(*(escape(str(v)) for v in row))
    out_console.print(view)


@app.command()
@known_errors
def compare(results: list[Path] = typer.Argument(..., help="Run folders (or results files) holding the methods to compare."),
            metric: str = typer.Option("auroc", help=METRIC_HELP),
            mix: Optional[str] = typer.Option(None, help="Test mix: pool or p10..p50 (default: the mix of the protocol's own table, e.g. pool for mnist, p50 for caltech)."),
            min_pairs: int = typer.Option(compare_mod.MIN_PAIRS, min=1, help="Fewest untied pairs a test is run on (with 5 the smallest two-sided Wilcoxon p possible is 0.0625)."),
            by_group: bool = typer.Option(True, "--by-group/--no-by-group", help="Also compare within each group (e.g. n=1, 3, 5 positive classes)."),
            figure: Optional[Path] = typer.Option(None, help="Write critical-difference diagrams (3+ methods) to FIGURE[-scope].png/.pdf."),
            as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Paired comparison of methods on the same (positive set, repeat, seed) trials.

    Two methods: mean difference with a bootstrap CI, wins/ties/losses, Wilcoxon signed-rank p.
    Three or more: average ranks, Friedman test, Nemenyi critical-difference diagram, and every
    pair's Wilcoxon p Holm-corrected. Pairs too few for a test get a message, not a p-value.
    """
    comparisons = compare_mod.compare(_read_many(results), metric, mix, min_pairs, by_group)
    if as_json:
        out_console.print_json(json.dumps([c.to_dict() for c in comparisons], default=float))
    else:
        for c in comparisons:
            _print_frame(c.pairs_frame(), c.title, c.note)
            if len(c.methods) > 2:
                if c.ranks is not None:
                    _print_frame(c.ranks_frame(), f"mean ranks, {c.title}")
                out_console.print(escape(c.rank_summary()), highlight=False)
            out_console.print()
    if figure is not None:
        drawn = [c for c in comparisons if c.ranks is not None]
        if not drawn:
            err_console.print("[yellow]no critical-difference diagram: it needs 3+ methods with enough shared trials[/]")
        for c in drawn:
            fig = c.cd_figure()
            suffix = "" if len(drawn) == 1 else "-" + "-".join(s.replace("=", "").replace(" ", "_") for s in (c.protocol, c.dataset, c.scope))
            for path in report.save_figure(fig, figure.with_name(figure.name + suffix)):
                err_console.print(f"wrote {path}")


def curves(
    method: list[str] = typer.Option(..., "--method", "-m", help="Method(s) with a per-epoch hook (e.g. alocc). Repeat for several."),
    param: list[str] = typer.Option([], "--param", "-p", help="Method parameter override, METHOD.NAME=V1,V2 (a comma list expands to a grid). Repeatable."),
    protocol: str = typer.Option("mnist", help="Protocol (see `bench list`); it must give a validation pool."),
    dataset: Optional[str] = typer.Option(None, help="Dataset (default: the protocol's own)."),
    data_root: Optional[Path] = typer.Option(None, help="Folder holding the data. Default: $NOVELBENCH_DATA_ROOT or ./data."),
    image_size: Optional[int] = typer.Option(None, help="Resize images to SIZE x SIZE."),
    seeds: str = typer.Option("0", help="Comma list of seeds."),
    threads: int = typer.Option(1, min=1, help="CPU threads per trial (part of a trial's identity)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda[:N]."),
    out: Path = typer.Option(..., help="CSV file to write: one row per trial and epoch (rewritten after each trial)."),
    **protocol_options: Any,
) -> None:
    """Per-epoch validation AUROC on the TRAINING split (held-out training inliers vs other
    classes' training images; the test split is never read), for choosing a label-free stopping
    rule: each trial is fitted once, and its method's `on_epoch` hook scores the validation pool
    after every epoch."""
    import pandas as pd

    from novelbench.benchmark import curves as curves_mod

    proto_cls = PROTOCOLS.get(protocol)
    dataset = dataset or getattr(proto_cls, "default_dataset", "mnist")
    dataset_params = {"data_root": str(data_root) if data_root else None, "download": False, "image_size": image_size}
    protocol_params = _chosen_protocol_params(protocol, protocol_options, [])
    trials, _ = plan_trials(method, param, protocol, protocol_params, dataset, dataset_params, _ints(seeds, "--seeds") or [], device, threads)
    for trial in trials:
        curves_mod.check_curves_supported(trial)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for trial in trials:
        err_console.print(f"curves: {escape(trial.describe())}")
        for row in curves_mod.epoch_curves(trial):
            rows.append(row)
            err_console.print(f"  epoch {row['epoch']}: validation AUROC {row['val_auroc']:.3f} {escape(row['error'])}", highlight=False)
        pd.DataFrame(rows).to_csv(out, index=False)
    out_console.print(f"wrote {out} ({len(rows)} epochs of {len(trials)} trial(s))")


curves.__signature__ = inspect.signature(curves).replace(  # type: ignore[attr-defined]
    parameters=[p for p in inspect.signature(curves).parameters.values() if p.kind != p.VAR_KEYWORD] + _declared_parameters("protocol")
)
app.command()(known_errors(curves))


@app.command()
@known_errors
def stability(results: list[Path] = typer.Argument(..., help="Run folders (or results files) holding the same trials run with two --threads values."),
              metric: str = typer.Option("auroc", help=METRIC_HELP),
              threads: str = typer.Option("1,2", help="The two thread counts to pair, A,B; change = metric(B) - metric(A)."),
              mix: Optional[str] = typer.Option(None, help="Test mix (default: the mix of the protocol's own table)."),
              as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Numerical stability: the change of a metric when the same trial runs with another CPU
    thread count (another floating-point summation order). A method whose change exceeds
    0.03 on any trial is flagged unstable."""
    from novelbench.benchmark import stability as stability_mod

    pair = _ints(threads, "--threads") or []
    if len(pair) != 2:
        raise NovelbenchError(f"--threads takes two thread counts, A,B; got {threads!r}")
    result = stability_mod.thread_stability(_read_many(results), metric, (pair[0], pair[1]), mix)
    if as_json:
        out_console.print_json(json.dumps({"pairs": json.loads(result.pairs.to_json(orient="records")),
                                           "methods": json.loads(result.methods.to_json(orient="records"))}))
        return
    shown = result.pairs.drop(columns=["protocol", "dataset", "group", "repeat", "device", "precision"]).round(4)
    _print_frame(shown, f"{metric}: threads {pair[0]} vs {pair[1]}, the same trials")
    _print_frame(result.methods.round(4), f"per method (unstable: some |change| > {result.limit})")


def samples(
    method: str = typer.Option(..., "--method", "-m", help="One method (see `bench list`)."),
    param: list[str] = typer.Option([], "--param", "-p", help="Method parameter override METHOD.NAME=VALUE (one value each). Repeatable."),
    protocol: str = typer.Option("mnist", help="Protocol (see `bench list`)."),
    dataset: Optional[str] = typer.Option(None, help="Dataset (default: the protocol's own)."),
    data_root: Optional[Path] = typer.Option(None, help="Folder holding the data. Default: $NOVELBENCH_DATA_ROOT or ./data."),
    download: bool = typer.Option(False, "--download", help="Download the dataset through torchvision if it is missing."),
    image_size: Optional[int] = typer.Option(None, help="Resize images to SIZE x SIZE (as in the run whose model you reuse)."),
    seed: int = typer.Option(0, min=0, help="The trial's seed."),
    repeat: int = typer.Option(0, min=0, help="The positive-set draw (protocols with repeated draws, e.g. caltech)."),
    n: int = typer.Option(6, min=1, max=20, help="Test inliers and test outliers to show (each)."),
    models: Optional[Path] = typer.Option(None, help="A run folder of `bench run --keep-models` (or its models/ folder): reuse the trial's saved model; a model trained here is saved there."),
    threads: int = typer.Option(1, min=1, help="CPU threads (must match the run whose model you reuse: it is part of the trial id)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda[:N] (its type must match the run whose model you reuse)."),
    out: Optional[Path] = typer.Option(None, help="Output path without suffix; writes .png and .pdf. Default results/samples-<method>-<dataset>-<positives>-s<seed>."),
    **protocol_options: Any,
) -> None:
    """The paper's Figure 4: test inliers and outliers as original, the method's image panels
    (reconstruction, connective image ...) and each image's score, for one trial's model."""
    from novelbench.benchmark import samples as samples_mod

    proto_cls = PROTOCOLS.get(protocol)
    dataset = dataset or getattr(proto_cls, "default_dataset", "mnist")
    dataset_params = {"data_root": str(data_root) if data_root else None, "download": download, "image_size": image_size}
    protocol_params = _chosen_protocol_params(protocol, protocol_options, [])
    trial = samples_mod.plan_one(method, param, protocol, protocol_params, dataset, dataset_params, seed, device, threads, repeat)
    err_console.print(f"trial {trial.trial_id}: {escape(trial.describe())}")
    drawn = samples_mod.draw_samples(trial, models, n)
    err_console.print(f"model: {escape(drawn.origin)}")
    positives = "+".join(trial.setting.positives).replace(" ", "")
    target = out or Path("results") / f"samples-{trial.label.replace(':', '.')}-{dataset}-{positives}-s{seed}"
    for path in report.save_figure(samples_mod.draw_figure(drawn), target):
        out_console.print(f"wrote {path}")


samples.__signature__ = inspect.signature(samples).replace(  # type: ignore[attr-defined]
    parameters=[p for p in inspect.signature(samples).parameters.values() if p.kind != p.VAR_KEYWORD] + _declared_parameters("protocol")
)
app.command()(known_errors(samples))


@app.command("report")
@known_errors
def report_(results: list[Path] = typer.Argument(..., help="Run folders (or results files) to report on."),
            out: list[Path] = typer.Option([Path("report.html")], help="Output file; .html (self-contained) or .md (figures in <stem>_files/). Repeatable."),
            policy: str = typer.Option("quantile", help=POLICY_HELP),
            metric: str = typer.Option("auroc", help="Metric of the paired comparison. " + METRIC_HELP),
            mix: Optional[str] = typer.Option(None, help="Test mix of the paired comparison (default: the mix of each protocol's own table)."),
            published: str = typer.Option("all", help=PUBLISHED_HELP),
            min_pairs: int = typer.Option(compare_mod.MIN_PAIRS, min=1, help="Fewest untied pairs a test is run on."),
            title: Optional[str] = typer.Option(None, help="Title of the report (default: methods and protocols).")) -> None:
    """One document about runs: summary per method and mix, protocol tables and figures, paired
    comparison, per-trial timings, failed trials with their errors, and provenance. HTML is one
    self-contained file (figures inline, opens with no network); markdown is for repositories."""
    from novelbench.benchmark import report_page

    tables = [read_results(r) for r in results]
    context = report_page.build(results, tables, policy, metric, mix, published, min_pairs, title=title)
    for target in out:
        for path in report_page.write(context, target):
            out_console.print(f"wrote {path}")
