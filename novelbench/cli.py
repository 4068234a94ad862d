"""`bench`: run novelty-detection benchmarks and list what is available.

Thin layer: parses options, calls novelbench.benchmark, prints with rich (tables for people,
--json for scripts). Known errors print as one line with a non-zero exit code; set
NOVELBENCH_DEBUG=1 to see the full traceback.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from novelbench.benchmark import report
from novelbench.benchmark.plan import plan_trials
from novelbench.benchmark.registry import DATASETS, METHODS, PROTOCOLS
from novelbench.benchmark.runner import run_trials
from novelbench.benchmark.store import ResultStore, read_results
from novelbench.benchmark.summary import fmt, summarize
from novelbench.benchmark.trial import load_dataset
from novelbench.errors import NovelbenchError
from novelbench.methods.base import resolve_device

app = typer.Typer(help="novelbench: benchmark image novelty detection methods.", no_args_is_help=True, add_completion=False)
# wide tables when writing to a file or pipe; a real terminal's width otherwise
out_console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)

DEFAULT_DATASET = {"mnist": "mnist", "caltech": "caltech256"}


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


def _floats(text: str | None, what: str) -> list[float] | None:
    try:
        return [float(v) for v in text.split(",") if v.strip()] if text else None
    except ValueError:
        raise NovelbenchError(f"{what} must be a comma list of numbers, got {text!r}") from None


def _protocol_params(protocol: str, classes, outlier_pcts, n_classes, repeats, max_per_class, train_fraction, transductive, val_share) -> dict:
    params = {"classes": [c.strip() for c in classes.split(",")] if classes else None,
              "outlier_pcts": _floats(outlier_pcts, "--outlier-pcts"), "val_share": val_share}
    if protocol == "caltech":
        params.update(n_classes=_ints(n_classes, "--n-classes"), repeats=repeats, train_fraction=train_fraction,
                      transductive=transductive, max_per_class=150 if max_per_class is None else (max_per_class or None))
    else:
        if n_classes or transductive:
            raise NovelbenchError("--n-classes and --transductive belong to the caltech protocol")
        params["max_per_class"] = max_per_class
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
    return view


@app.command()
@known_errors
def run(
    method: list[str] = typer.Option(..., "--method", "-m", help="Method name (see `bench list`), entry-point name or package.module:Class. Repeat for several."),
    protocol: str = typer.Option("mnist", help="mnist (one class vs the rest, outlier percentages) or caltech (clutter outliers, 50 %)."),
    dataset: Optional[str] = typer.Option(None, help="mnist, fashion-mnist, digits, caltech256, caltech101, folder, synthetic. Default: mnist for --protocol mnist, caltech256 for caltech."),
    data_root: Optional[Path] = typer.Option(None, help="Folder holding the data (torchvision layout, e.g. ROOT/MNIST/raw). Default: $NOVELBENCH_DATA_ROOT or ./data."),
    download: bool = typer.Option(False, "--download", help="Download the dataset through torchvision if it is missing (needs internet)."),
    image_size: Optional[int] = typer.Option(None, help="Resize images to SIZE x SIZE (default: 28 for digit sets, 64 for Caltech and folder)."),
    classes: Optional[str] = typer.Option(None, help="Comma list of class names or label indices. mnist: the positive classes to run (default all); caltech: the categories positives are drawn from."),
    seeds: str = typer.Option("0", help="Comma list of seeds; each seeds the split sampling and the method's training."),
    outlier_pcts: Optional[str] = typer.Option(None, help="Comma list of outlier percentages in (0, 100). Default 10,20,30,40,50 (mnist) or 50 (caltech)."),
    n_classes: Optional[str] = typer.Option(None, help="caltech: comma list of positive-set sizes (default 1,3,5)."),
    repeats: int = typer.Option(20, help="caltech: random positive-set draws per size."),
    max_per_class: Optional[int] = typer.Option(None, help="Cap on images per positive class (caltech default 150, 0 = no cap; mnist default no cap)."),
    train_fraction: float = typer.Option(0.5, help="caltech: share of the positive images used for training; the rest are test inliers."),
    transductive: bool = typer.Option(False, "--transductive", help="caltech: train and test on the same positive images (ALOCC's setup)."),
    val_share: float = typer.Option(0.1, help="Share of training inliers held out of fitting for the `validation` F1 policy (0 disables it)."),
    param: list[str] = typer.Option([], "--param", "-p", help="Method parameter override, METHOD.NAME=V1,V2 (a comma list expands to a grid). Repeatable."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default results/<protocol>-<dataset>-<methods>). Finished trials there are reused."),
    jobs: int = typer.Option(1, min=1, help="Trials run in N local processes."),
    device: str = typer.Option("auto", help="auto (CUDA when present), cpu or cuda[:N]."),
    force: bool = typer.Option(False, "--force", help="Recompute trials even if their results exist."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON (for scripts) instead of a table."),
) -> None:
    """Run METHOD(s) over a protocol's positive sets and seeds; write a tidy results table.

    Each trial trains on inliers once, scores the test pool once and derives every outlier
    percentage from those scores. Results: OUT/results.parquet and OUT/results.csv, one row per
    trial and test mix; OUT/trials/ keeps one file per finished trial, so an interrupted run
    resumes where it stopped when re-run with the same options.
    """
    if protocol not in PROTOCOLS.names():
        PROTOCOLS.get(protocol)  # raises the clear "unknown protocol" error
    dataset = dataset or DEFAULT_DATASET.get(protocol, "mnist")
    if dataset not in DATASETS.names():
        DATASETS.get(dataset)
    dataset_params = {"data_root": str(data_root) if data_root else None, "download": download, "image_size": image_size}
    protocol_params = _protocol_params(protocol, classes, outlier_pcts, n_classes, repeats, max_per_class, train_fraction, transductive, val_share)
    seed_list = _ints(seeds, "--seeds") or [0]
    resolve_device(device)  # a bad --device fails now, not in every trial
    trials, _ = plan_trials(method, param, protocol, protocol_params, dataset, dataset_params, seed_list, device)
    data = load_dataset(dataset, json.dumps(dataset_params, sort_keys=True, default=str))
    # one folder per (protocol, dataset, methods): a later run of other methods never replaces this table
    out = out or Path("results") / f"{protocol}-{dataset}-{'+'.join(m.replace(':', '.') for m in method)}"
    store = ResultStore(out)
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
            result = run_trials(trials, store, jobs=jobs, force=force, on_trial=on_trial)
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
        out_console.print(f"{result.n_trials} trials: {result.n_ran} run, {result.n_cached} reused, {result.n_failed} failed. Table: {out}/results.parquet (+ .csv)")
    if result.n_failed:
        raise typer.Exit(1)


@app.command("list")
@known_errors
def list_(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List methods (with their parameters and defaults), protocols and datasets."""
    methods = {n: {"summary": METHODS.get(n).summary, "params": {k: repr(v) for k, v in METHODS.get(n).param_defaults().items()}} for n in METHODS.names()}
    info = {"methods": methods, "unavailable_methods": METHODS.unavailable(),
            "protocols": {n: PROTOCOLS.get(n).summary for n in PROTOCOLS.names()},
            "datasets": DATASETS.names()}
    if as_json:
        out_console.print_json(json.dumps(info))
        return
    table = Table(title="methods")
    for col in ("name", "what", "parameters (defaults)"):
        table.add_column(col)
    for name, m in methods.items():
        table.add_row(name, m["summary"], ", ".join(f"{k}={v}" for k, v in m["params"].items()))
    for name, reason in info["unavailable_methods"].items():
        table.add_row(f"[red]{name}[/]", f"[red]unavailable: {reason}[/]", "")
    out_console.print(table)
    out_console.print("protocols: " + "; ".join(f"[bold]{n}[/]: {s}" for n, s in info["protocols"].items()))
    out_console.print("datasets: " + ", ".join(info["datasets"]))


@app.command()
@known_errors
def summary(results: Path = typer.Argument(..., help="A run's output folder, or its results .parquet/.csv."),
            as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Show mean ± std per method and setting for a finished run."""
    table = read_results(results)
    if as_json:
        out_console.print_json(summarize(table).to_json(orient="records"))
    else:
        out_console.print(_summary_table(table, str(results)))


def _read_many(results: list[Path]):
    import pandas as pd

    return pd.concat([read_results(r) for r in results], ignore_index=True)


POLICY_HELP = "F1 threshold policy: quantile, validation, oracle or native."


@app.command()
@known_errors
def table(results: list[Path] = typer.Argument(..., help="One or more run folders (or results files) to combine."),
          fmt: str = typer.Option("markdown", "--format", help="markdown, latex or csv."),
          policy: str = typer.Option("quantile", help=POLICY_HELP),
          out: Optional[Path] = typer.Option(None, help="Also write the table to this file.")) -> None:
    """The paper's Table 1 (caltech runs: AUROC / F1 for 1, 3, 5 classes) or the numbers of Figure 3
    (mnist runs: F1 per outlier %), measured rows beside the published ones."""
    data = _read_many(results)
    protocols = set(data["protocol"])
    parts = []
    if "caltech" in protocols:
        parts.append("Table 1 (caltech protocol; mean ± std over repeats and seeds; published rows are Caltech-256)\n\n"
                     + report.render(report.table1(data, policy), fmt))
    if "mnist" in protocols:
        parts.append(f"F1 ({policy} threshold) vs outlier % (mnist protocol; mean ± std over classes and seeds)\n\n"
                     + report.render(report.figure3_table(data, policy), fmt))
    text = "\n\n".join(parts)
    if out:
        out.write_text(text + "\n")
    print(text)


@app.command()
@known_errors
def figure(results: list[Path] = typer.Argument(..., help="One or more mnist-protocol run folders to combine."),
           out: Path = typer.Option(Path("results/figure3"), help="Output path without suffix; writes .png and .pdf."),
           policy: str = typer.Option("quantile", help=POLICY_HELP)) -> None:
    """The paper's Figure 3: F1 vs outlier %, one line per method, std band, trivial floor, published points."""
    for path in report.figure3(_read_many(results), out, policy):
        out_console.print(f"wrote {path}")
