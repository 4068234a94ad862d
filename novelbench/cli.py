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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import ProgressColumn
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from novelbench.errors import NovelbenchError
from novelbench.registry import DATASETS, EXECUTORS, METHODS, PROTOCOLS

if TYPE_CHECKING:
    from novelbench.benchmark.protocols.base import Option
    from novelbench.benchmark.store import ResultStore

# Start-up: `bench --help` and the reading commands must not pay for torch, scikit-learn or
# pandas, so the harness modules are imported inside the commands that use them.


class Commands(TyperGroup):
    """`bench`'s commands. `run` and `samples` take the options declared by every registered
    protocol (and executor), and reading those declarations imports the protocols (and torch), so
    the two commands get them only when one of them is called or asked for its --help."""

    def resolve_command(self, ctx, args):
        name, command, rest = super().resolve_command(ctx, args)
        if name in WITH_DECLARED_OPTIONS:
            command = typer.main.get_command(_with_declared_options(name))
        return name, command, rest


app = typer.Typer(cls=Commands, help="novelbench: benchmark image novelty detection methods.", no_args_is_help=True, add_completion=False)
# wide tables when writing to a file or pipe; a real terminal's width otherwise
out_console = Console(width=None if sys.stdout.isatty() else 160)
# soft wrap: an error line stays one line when stderr is piped (no hard breaks at 80 columns)
err_console = Console(stderr=True, soft_wrap=True)


def _one_line(exc: BaseException) -> str:
    """What an error says, as one line. A file-system error names its path (a folder that cannot
    be made, a file where a folder is wanted, a name too long); a decoding error says which bytes."""
    if isinstance(exc, OSError) and exc.strerror:
        paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
        return f"{paths}: {exc.strerror}" if paths else exc.strerror
    if isinstance(exc, UnicodeDecodeError):
        return (f"a file given is not UTF-8 text ({exc.reason}: byte {exc.object[exc.start:exc.start + 1]!r} "
                f"at position {exc.start}); save it as UTF-8")
    return str(exc)


def known_errors(command):
    """Show a NovelbenchError as one red line and exit 1; so too a file the system cannot read or
    write, or a text file that is not UTF-8 (full traceback with NOVELBENCH_DEBUG=1)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (NovelbenchError, OSError, UnicodeDecodeError) as exc:
            if os.environ.get("NOVELBENCH_DEBUG"):
                raise
            err_console.print(f"[red]error:[/] {escape(_one_line(exc))}", highlight=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/] (Ctrl-C)", highlight=False)
            raise typer.Exit(130) from None

    return wrapper


def _out_path(value) -> Path:
    """Parser of every --out: an empty value would silently mean the current folder."""
    if isinstance(value, Path):  # a default
        return value
    if not value.strip():
        raise typer.BadParameter("is empty; give a path (use . for the current folder)")
    return Path(value)


def _assignments(values: list[str]) -> list[str]:
    """Callback of --param and --protocol-option: a value that starts with "-" is the next option,
    taken as this one's value because it was given none (the parser would otherwise fail later,
    on the option's own value, as an "extra argument")."""
    for value in values:
        if value.startswith("-"):
            raise typer.BadParameter(f"got {value!r}, which is the next option, not a NAME=VALUE: give this option its value first")
    return values


#: the most --threads a trial takes: more than any machine's cores (far above, libgomp dies
#: printing only its own out-of-memory line)
MAX_THREADS = 1024


def _import_problem(method: str) -> str:
    """Why a method listed by a family (a pyod detector) cannot be used here; "" if it can."""
    try:
        METHODS.plugin(method)
        return ""
    except NovelbenchError as exc:
        return str(exc)


def _ints(text: str | None, what: str) -> list[int] | None:
    if text and any(not v.strip() for v in text.split(",")):
        raise NovelbenchError(f"{what} {text!r} has an empty item; give a comma list of integers, e.g. 0,1,2")
    try:
        return [int(v) for v in text.split(",")] if text else None
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


def _protocol_option_pairs(specs: list[str]) -> dict[str, str]:
    """``--protocol-option NAME=VALUE`` words as {name: value} (dashes in NAME read as underscores)."""
    pairs = {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        if not sep or not key.strip():
            raise NovelbenchError(f"--protocol-option {spec!r} must look like NAME=VALUE")
        pairs[key.strip().replace("-", "_")] = value.strip()
    return pairs


def _chosen_protocol_params(protocol: str, given: dict[str, Any], extra: list[str]) -> dict[str, Any]:
    return {**_chosen_options("protocol", protocol, given), **_protocol_option_pairs(extra)}


def _summary_table(table, title: str) -> Table:
    from novelbench.benchmark.summary import LABELS, METRICS, fmt, summarize

    summary = summarize(table)
    # several protocols or datasets in one table: say which each row is
    where = summary["protocol"] + "/" + summary["dataset"]
    several = where.nunique() > 1
    view = Table(title=title, show_lines=False)
    for col in ["protocol/dataset"] * several + ["method", "set", "mix", "n", *(LABELS[m] for m in METRICS), "fit s"]:
        view.add_column(col, justify="left" if col in ("protocol/dataset", "method", "set", "mix") else "right")
    for (_, r), at in zip(summary.iterrows(), where):
        view.add_row(*[escape(at)] * several, escape(str(r["method"])), str(r["group"]), str(r["mix"]), str(r["n"]),
                     *(fmt(r[f"{m}_mean"], r[f"{m}_std"]) for m in METRICS), f"{r['fit_seconds_mean']:.1f}")
    view.caption = ("F1 takes inliers as the positive class. Thresholds: quantile = flag the known outlier share; validation = tuned on a "
                    "validation mix with labelled outliers; oracle = tuned on the test mix (an upper bound); native = the "
                    "method's own decision; trivial = everything an inlier (the floor). AUROC/AUPR: outliers positive.")
    return view


def _effective_jobs(jobs: int | None, threads: int, device: str) -> int | None:
    """No more CPU worker processes than cores // threads: oversubscribing changes no number but
    slows every trial. None (not given) lets the executor size itself to the machine."""
    if jobs is None or device.startswith("cuda"):
        return jobs
    from novelbench.benchmark import placement

    fit = placement.cpu_slots(threads)
    if jobs > fit:
        err_console.print(f"[yellow]--jobs {jobs} x --threads {threads} exceeds the {placement.cpu_cores()} CPU cores; running {fit} trial(s) at a time[/]")
        return fit
    return jobs


RUN_CONFIG_HELP = ("Run the entries of a TOML file one after the other: [[run]] tables whose keys are this command's "
                   "options (method = [\"ocsvm\"], seeds = \"0,1,2\", out = \"results/x\", budget = 600, ...; name = a label). "
                   "An entry's key wins over the same flag given here, which wins over the default. Every entry is "
                   "checked before any runs; each resumes like a single run.")


def run(
    ctx: typer.Context,
    method: Optional[list[str]] = typer.Option(None, "--method", "-m", help="Method name (see `bench list`), entry-point name or package.module:Class. Repeat for several."),
    protocol: str = typer.Option("mnist", help="Protocol (see `bench list`): mnist (one class vs the rest, outlier percentages) or caltech (clutter outliers, 50 %)."),
    dataset: Optional[str] = typer.Option(None, help="Dataset (see `bench list`). Default: the protocol's own (mnist for mnist, caltech256 for caltech)."),
    data_root: Optional[Path] = typer.Option(None, help="Folder holding the data (torchvision layout, e.g. ROOT/MNIST/raw). Default: $NOVELBENCH_DATA_ROOT or ./data."),
    download: bool = typer.Option(False, "--download", help="Download the dataset through torchvision if it is missing (needs internet)."),
    image_size: Optional[int] = typer.Option(None, help="Resize images to SIZE x SIZE (default: 28 for digit sets, 64 for Caltech and folder)."),
    seeds: str = typer.Option("0", help="Comma list of non-negative seeds; each seeds the split sampling and the method's training."),
    param: list[str] = typer.Option([], "--param", "-p", callback=_assignments, help="Method parameter override, METHOD.NAME=V1,V2 (a comma list expands to a grid). Repeatable."),
    protocol_option: list[str] = typer.Option([], "--protocol-option", callback=_assignments, help="Protocol option NAME=VALUE, for protocols given as package.module:Class. Repeatable."),
    out: Optional[Path] = typer.Option(None, parser=_out_path, help="Output folder (default results/<protocol>-<dataset>-<methods>). Finished trials there are reused."),
    jobs: Optional[int] = typer.Option(None, min=1, help="Trials run at the same time (local worker processes, or LocalCluster workers with --executor dask). Default: 1 (inline); with --executor processes or dask, cores // --threads, or one per GPU."),
    executor: Optional[str] = typer.Option(None, help="How trials run (see `bench list`): inline, processes, dask, ... Default: processes when --jobs > 1 or --devices, else inline."),
    threads: int = typer.Option(1, min=1, max=MAX_THREADS, help="CPU threads per trial. Part of a trial's identity: CPU numbers depend on it, never on --jobs."),
    device: str = typer.Option("auto", help="auto (CUDA when present), cpu or cuda[:N]."),
    force: bool = typer.Option(False, "--force", help="Recompute trials even if their results exist."),
    keep_models: bool = typer.Option(False, "--keep-models", help="Save each fitted method to OUT/models/<trial_id>.pt (for `bench samples`)."),
    checkpoint_minutes: float = typer.Option(10.0, min=0, help="A long trial of a resumable method (ae, crbnd, g2d, geom and their presets) saves its training state to OUT/checkpoints/ at most every MINUTES; re-running the command resumes an interrupted trial from there, with bit-identical results. 0: no checkpoints."),
    budget: Optional[float] = typer.Option(None, min=0, help="Seconds after which no new trial starts; running trials finish and are kept, the same command later resumes the rest."),
    config: Optional[Path] = typer.Option(None, help=RUN_CONFIG_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON (for scripts) instead of a table."),
    **declared_options: Any,
) -> None:
    """Run METHOD(s) over a protocol's positive sets and seeds; write a tidy results table.

    Each trial trains on inliers once, scores the test pool once and derives every outlier
    percentage from those scores. Results: OUT/results.parquet and OUT/results.csv, one row per
    trial and test mix; OUT/trials/ keeps one file per finished trial, so an interrupted run
    resumes where it stopped when re-run with the same options. --config runs a file of such runs.
    """
    from novelbench import run_config

    if config is None:
        runs = [_plan_run(**ctx.params)]
    else:  # every entry is checked and planned before the first trial starts
        runs = []
        for entry in run_config.entries(config, ctx):
            try:
                runs.append(_plan_run(argv=entry.argv, label=entry.label, **entry.params))
            except NovelbenchError as exc:
                raise NovelbenchError(f"{config}, {entry.label}: {exc}") from None
    results = []
    for planned in runs:
        if len(runs) > 1:
            err_console.print(f"[bold]{escape(planned.label)}[/]")
        results.append(_execute_run(planned, as_json))
    if as_json:
        payloads = [_run_payload(p, r) for p, r in zip(runs, results)]
        out_console.print_json(json.dumps(payloads if config is not None else payloads[0]))
    if any(r.n_failed for r in results):
        raise typer.Exit(1)


@dataclass
class PlannedRun:
    """One run, checked and planned; nothing written yet."""

    label: str
    argv: list[str] | None  # the equivalent `bench run` command line (None: this process's own)
    out: Path
    protocol: str
    dataset: str
    dataset_params: dict[str, Any]
    trials: list
    executor: Any
    force: bool
    budget: float | None


def _plan_run(method, protocol, dataset, data_root, download, image_size, seeds, param, protocol_option, out, jobs,
              executor, threads, device, force, keep_models, checkpoint_minutes, budget, argv=None, label="", config=None, as_json=False,
              **declared_options) -> PlannedRun:
    """Everything a user can get wrong is checked here, before any work, and nothing is written."""
    from novelbench.benchmark.plan import plan_trials
    from novelbench.benchmark.runner import default_executor, make_executor
    from novelbench.benchmark.store import check_out_path

    if not method:
        raise NovelbenchError("give at least one --method (or --config with a file of runs)")
    proto_cls = PROTOCOLS.get(protocol)  # unknown protocol: one clear line
    dataset = dataset or getattr(proto_cls, "default_dataset", "mnist")
    DATASETS.get(dataset)
    if executor is not None:
        EXECUTORS.get(executor)
    out = Path(out or Path("results") / f"{protocol.replace(':', '.')}-{dataset}-{'+'.join(m.replace(':', '.') for m in method)}")
    check_out_path(out)
    dataset_params = {"data_root": str(data_root) if data_root else None, "download": download, "image_size": image_size}
    protocol_params = _chosen_protocol_params(protocol, declared_options, protocol_option)
    seed_list = _ints(seeds, "--seeds") or []
    model_dir = str(out / "models") if keep_models else ""
    checkpoint_dir = str(out / "checkpoints") if checkpoint_minutes > 0 else ""
    trials, _ = plan_trials(list(method), list(param), protocol, protocol_params, dataset, dataset_params, seed_list, device, threads,
                            model_dir, checkpoint_dir, checkpoint_minutes * 60)
    run_device = trials[0].device if trials else "cpu"
    if executor is None:
        given = {k: v for k, v in declared_options.items() if k.startswith("exec_") and v is not None}
        executor = default_executor(jobs, run_device, given.get("exec_devices"))
    executor_options = _chosen_options("executor", executor, declared_options)
    runner_executor = make_executor(executor, _effective_jobs(jobs, threads, run_device), run_device,
                                    note=lambda m: err_console.print(escape(m)), **executor_options)
    if trials:
        runner_executor.check(trials[0])
    return PlannedRun(label or str(out), argv, out, protocol, dataset, dataset_params, trials, runner_executor, force, budget)


def _execute_run(planned: PlannedRun, as_json: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    from novelbench.benchmark import provenance
    from novelbench.benchmark.datacache import load_dataset
    from novelbench.benchmark.runner import run_id_for, run_trials
    from novelbench.benchmark.store import ResultStore

    trials, out = planned.trials, planned.out
    data = load_dataset(planned.dataset, planned.dataset_params)
    store = ResultStore(out, on_warning=lambda m: err_console.print(f"[yellow]{escape(m)}[/]"))
    store.prepare()
    provenance.record_run(out, run_id_for(trials), len(trials), planned.argv)  # the command line, for `bench report`
    if data.skipped_files:
        err_console.print(f"[yellow]{planned.dataset}: skipped {len(data.skipped_files)} non-image or unreadable file(s), e.g. {escape(data.skipped_files[0])}[/]")
    err_console.print(f"{len(trials)} trial(s): {escape(', '.join(dict.fromkeys(t.label for t in trials)))} on {planned.protocol}/{planned.dataset}, results in {out}")

    progress = Progress(RunningColumn(planned.executor), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TimeRemainingColumn(), console=err_console, disable=as_json)

    def on_trial(trial, rows, cached):
        if rows and rows[0]["status"] != "ok":
            err_console.print(f"[red]failed[/] {escape(trial.describe())}: {escape(rows[0]['error'])}")
        elif rows and not as_json:
            pool = next((r for r in rows if r["mix"] == "pool"), rows[-1])
            err_console.print(f"done {escape(trial.describe())}: AUROC {pool['auroc']:.3f} ({pool['mix']}), fit {pool['fit_seconds']:.1f}s")
        progress.update(task, advance=1, description="cached" if cached else "")

    with progress:
        task = progress.add_task("starting", total=len(trials))
        try:
            result = run_trials(trials, store, planned.executor, force=planned.force, on_trial=on_trial, budget=planned.budget)
        except KeyboardInterrupt:
            progress.stop()
            _interrupted(store, out)
    if result.n_not_started:
        err_console.print(f"[yellow]budget of {planned.budget:g} s spent: {result.n_not_started} trial(s) not started; "
                          "re-run the same command to go on[/]")
    if not as_json:
        if not result.table.empty and (result.table["status"] == "ok").any():
            out_console.print(_summary_table(result.table, f"{planned.protocol} / {planned.dataset}: mean ± std over positive sets and seeds"))
        not_started = f", {result.n_not_started} not started (budget)" if result.n_not_started else ""
        out_console.print(f"{result.n_trials} trials: {result.n_ran} run, {result.n_cached} reused, {result.n_failed} failed{not_started}. "
                          f"Table of every trial in the folder: {out}/results.parquet (+ .csv)")
    return result


def _run_payload(planned: PlannedRun, result) -> dict[str, Any]:
    from novelbench.benchmark.summary import summarize

    return {"run_id": result.run_id, "out": str(planned.out), "trials": result.n_trials, "cached": result.n_cached,
            "ran": result.n_ran, "failed": result.n_failed, "not_started": result.n_not_started,
            "summary": json.loads(summarize(result.table).to_json(orient="records"))}


def _command_with(command, kinds: tuple[str, ...] = ()):
    """``command`` wrapped in known_errors, with the options declared by ``kinds`` (protocol,
    executor) as keyword parameters in place of its ``**declared_options``."""
    wrapped = known_errors(command)
    own = [p for p in inspect.signature(command).parameters.values() if p.kind != p.VAR_KEYWORD]
    wrapped.__signature__ = inspect.signature(command).replace(  # type: ignore[attr-defined]
        parameters=own + [p for kind in kinds for p in _declared_parameters(kind)])
    return wrapped


def _with_declared_options(name: str) -> typer.Typer:
    command, kinds = WITH_DECLARED_OPTIONS[name]
    single = typer.Typer(add_completion=False)
    single.command(name)(_command_with(command, kinds))
    return single


app.command()(_command_with(run))  # what `bench --help` lists; Commands swaps in the full command


@app.command()
@known_errors
def collect(folders: list[Path] = typer.Argument(..., help="Run folders whose finished trials to gather."),
            into: Path = typer.Option(..., help="The run folder to gather them into (made if missing)."),
            as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON.")) -> None:
    """Gather the trials of several run folders (one per machine, seed or budgeted process) into
    one, computing nothing: of two files of one trial the newer wins. Then write the folder's
    results table as `bench run` does; the runs' recorded command lines come along for `bench report`."""
    from novelbench.benchmark import provenance
    from novelbench.benchmark.store import ResultStore, check_out_path

    for folder in folders:
        if not (folder / "trials").is_dir():
            raise NovelbenchError(f"{folder} is not a run folder (no trials/ folder in it)")
        if folder.resolve() == into.resolve():
            raise NovelbenchError(f"--into {into} is also one of the folders to collect")
    check_out_path(into, "--into")
    store = ResultStore(into, on_warning=lambda m: err_console.print(f"[yellow]{escape(m)}[/]"))
    store.prepare()
    copied = store.collect(folders)
    table = store.folder_table()
    if table.empty:  # before anything is recorded or written as DIR's table
        raise NovelbenchError(f"no readable finished trial in {', '.join(map(str, folders))}: {into} holds none")
    provenance.collect_runs(into, folders)
    store.merge([])
    n_trials = table["trial_id"].nunique()
    if as_json:
        out_console.print_json(json.dumps({"into": str(into), "copied": copied, "trials": int(n_trials)}))
    else:
        out_console.print(f"{into}: {copied} trial file(s) copied, {n_trials} trial(s) in its results table")


class RunningColumn(ProgressColumn):
    """The trials the executor is running now (not the last one that finished)."""

    def __init__(self, executor) -> None:
        super().__init__()
        self.executor = executor

    def render(self, task) -> Text:
        if task.finished:
            return Text("finished")
        return Text(running_label(self.executor.running()) or task.description)


def running_label(trials) -> str:
    if not trials:
        return ""
    more = f" (+{len(trials) - 1} more)" if len(trials) > 1 else ""
    return f"running {trials[0].describe()}{more}"


def _interrupted(store: ResultStore, out: Path) -> None:
    """Ctrl-C during a run: bring the folder's table up to date with the finished trials, say so, exit 130."""
    try:
        store.merge([])
        saved = f"finished trials are saved in {out}/trials and {out}/results.parquet is up to date"
    except (KeyboardInterrupt, NovelbenchError):
        saved = f"finished trials are saved in {out}/trials ({out}/results.parquet is updated when the run is resumed)"
    err_console.print(f"[yellow]interrupted[/]: {escape(saved)}; re-run the same command to resume", highlight=False)
    raise typer.Exit(130)


@app.command("list")
@known_errors
def list_(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List methods (with their parameters and defaults), protocols (with their options), datasets and executors."""
    from novelbench.benchmark.report import SEES_POOL, sees_test_pool

    methods = {}
    for n in METHODS.names():
        plugin = METHODS.plugin(n)
        methods[n] = {"summary": plugin.summary, "preset_of": plugin.cls.name if plugin.is_preset else None,
                      "sees_test_pool": sees_test_pool(n),
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
        what += f" [bold]({SEES_POOL}: transductive)[/]" if m["sees_test_pool"] else ""
        table.add_row(name, what, escape(", ".join(f"{k}={v}" for k, v in m["params"].items())))
    for prefix, names in info["method_families"].items():
        unusable = {n: _import_problem(f"{prefix}:{n}") for n in names}
        unusable = {n: why for n, why in unusable.items() if why}
        names = [n for n in names if n not in unusable]
        transductive = [n for n in names if sees_test_pool(f"{prefix}:{n}")]
        what = f"one of: {', '.join(names)}" + (f" ({', '.join(transductive)}: {SEES_POOL})" if transductive else "") if names else f"none available: install the optional extra, pip install -e \".[{prefix}]\""
        table.add_row(f"{prefix}:<NAME>", escape(what), "the detector's own parameters and the adapter's (see README)" if names else "")
        for name, why in unusable.items():  # listed by the family, but their module does not import here
            table.add_row(f"[red]{escape(prefix)}:{escape(name)}[/]", f"[red]unavailable method: {escape(why)}[/]", "")
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
    from novelbench.benchmark.store import read_results
    from novelbench.benchmark.summary import summarize

    table = read_results(results)
    if not (table["status"] == "ok").any():
        raise NovelbenchError(f"{results} holds no finished trials (only failed ones)")
    if as_json:
        out_console.print_json(summarize(table).to_json(orient="records"))
    else:
        out_console.print(_summary_table(table, str(results)))


def _read_many(results: list[Path]):
    import pandas as pd

    from novelbench.benchmark.store import read_results

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
          out: Optional[Path] = typer.Option(None, parser=_out_path, help="Also write the table to this file.")) -> None:
    """Each protocol's results table, laid out as the protocol asks, beside the published rows:
    the paper's Table 1 for caltech runs, the numbers of Figure 3 for mnist runs. The notes under
    each table name the F1 threshold policy and each published row's source and threshold."""
    from novelbench.benchmark import report

    from novelbench.benchmark.store import check_out_file

    if out:
        check_out_file(out)
    data = _read_many(results)
    report.f1_column(policy)
    parts = []
    for protocol in dict.fromkeys(data["protocol"]):
        made = report.protocol_table(data, protocol, policy, published)
        parts.append(made.heading + "\n\n" + made.render(fmt))
    text = "\n\n".join(parts)
    if out:
        try:
            out.write_text(text + "\n")
        except OSError as exc:
            raise NovelbenchError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(text)


@app.command()
@known_errors
def figure(results: list[Path] = typer.Argument(..., help="One or more run folders (or results files) to combine."),
           out: Path = typer.Option(Path("results/figure3"), parser=_out_path, help="Output path without suffix; writes .png and .pdf (an existing folder: FOLDER/figure3)."),
           policy: str = typer.Option("quantile", help=POLICY_HELP),
           published: str = typer.Option("all", help=PUBLISHED_HELP)) -> None:
    """The paper's Figure 3: F1 vs outlier %, one line per method, std band, trivial floor, published
    points (filled: the runs' dataset; hollow: another dataset), policy and sources under the plot."""
    from novelbench.benchmark import report

    from novelbench.benchmark.store import figure_target

    out = figure_target(out, "figure3")
    data = _read_many(results)
    report.f1_column(policy)
    protocols = report.figure_protocols(data)
    if not protocols:
        raise NovelbenchError(f"these results hold no trials of a protocol with an F1-vs-outlier-% figure (they hold {', '.join(dict.fromkeys(data['protocol']))})")
    for protocol in protocols:
        target = out if len(protocols) == 1 else figure_target(out.with_name(f"{out.name}-{protocol}"), "figure3")
        for path in report.outlier_pct_figure(data, protocol, target, policy, published):
            out_console.print(f"wrote {path}")


#: compare.MIN_PAIRS, written out so that the help needs no import of the statistics (a test checks it)
MIN_PAIRS_HELP = "Fewest untied pairs a test is run on; default 6 (with 5 the smallest two-sided Wilcoxon p possible is 0.0625)."
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
            min_pairs: Optional[int] = typer.Option(None, min=1, help=MIN_PAIRS_HELP),
            by_group: bool = typer.Option(True, "--by-group/--no-by-group", help="Also compare within each group (e.g. n=1, 3, 5 positive classes)."),
            figure: Optional[Path] = typer.Option(None, parser=_out_path, help="Write critical-difference diagrams (3+ methods) to FIGURE[-scope].png/.pdf (an existing folder: FOLDER/cd[-scope])."),
            as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Paired comparison of methods on the same (positive set, repeat, seed) trials.

    Two methods: mean difference with a bootstrap CI, wins/ties/losses, Wilcoxon signed-rank p.
    Three or more: average ranks, Friedman test, Nemenyi critical-difference diagram, and every
    pair's Wilcoxon p Holm-corrected. Pairs too few for a test get a message, not a p-value.
    """
    from novelbench.benchmark import compare as compare_mod
    from novelbench.benchmark import report
    from novelbench.benchmark.store import figure_target

    if figure is not None:
        figure = figure_target(figure, "cd", "--figure")
    comparisons = compare_mod.compare(_read_many(results), metric, mix, min_pairs or compare_mod.MIN_PAIRS, by_group)
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
    param: list[str] = typer.Option([], "--param", "-p", callback=_assignments, help="Method parameter override, METHOD.NAME=V1,V2 (a comma list expands to a grid). Repeatable."),
    protocol: str = typer.Option("mnist", help="Protocol (see `bench list`); it must give a validation pool."),
    dataset: Optional[str] = typer.Option(None, help="Dataset (default: the protocol's own)."),
    data_root: Optional[Path] = typer.Option(None, help="Folder holding the data. Default: $NOVELBENCH_DATA_ROOT or ./data."),
    image_size: Optional[int] = typer.Option(None, help="Resize images to SIZE x SIZE."),
    seeds: str = typer.Option("0", help="Comma list of seeds."),
    threads: int = typer.Option(1, min=1, max=MAX_THREADS, help="CPU threads per trial (part of a trial's identity)."),
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
    from novelbench.benchmark.plan import plan_trials
    from novelbench.benchmark.store import check_out_file

    check_out_file(out)  # before the training, not after it
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


app.command()(_command_with(curves))  # Commands swaps in the full command (protocol options)


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
    if len(pair) != 2 or min(pair) < 1 or pair[0] == pair[1]:
        raise NovelbenchError(f"--threads takes two different thread counts of at least 1, A,B; got {threads!r}")
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
    param: list[str] = typer.Option([], "--param", "-p", callback=_assignments, help="Method parameter override METHOD.NAME=VALUE (one value each). Repeatable."),
    protocol: str = typer.Option("mnist", help="Protocol (see `bench list`)."),
    dataset: Optional[str] = typer.Option(None, help="Dataset (default: the protocol's own)."),
    data_root: Optional[Path] = typer.Option(None, help="Folder holding the data. Default: $NOVELBENCH_DATA_ROOT or ./data."),
    download: bool = typer.Option(False, "--download", help="Download the dataset through torchvision if it is missing."),
    image_size: Optional[int] = typer.Option(None, help="Resize images to SIZE x SIZE (as in the run whose model you reuse)."),
    seed: int = typer.Option(0, min=0, help="The trial's seed."),
    repeat: int = typer.Option(0, min=0, help="The positive-set draw (protocols with repeated draws, e.g. caltech)."),
    n: int = typer.Option(6, min=1, max=20, help="Test inliers and test outliers to show (each)."),
    models: Optional[Path] = typer.Option(None, help="A run folder of `bench run --keep-models` (or its models/ folder): reuse the trial's saved model; a model trained here is saved there."),
    threads: int = typer.Option(1, min=1, max=MAX_THREADS, help="CPU threads (must match the run whose model you reuse: it is part of the trial id)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda[:N] (its type must match the run whose model you reuse)."),
    out: Optional[Path] = typer.Option(None, parser=_out_path, help="Output path without suffix; writes .png and .pdf (an existing folder: inside it). Default results/samples-<method>-<dataset>-<positives>-s<seed>."),
    **protocol_options: Any,
) -> None:
    """The paper's Figure 4: test inliers and outliers as original, the method's image panels
    (reconstruction, connective image ...) and each image's score, for one trial's model."""
    from novelbench.benchmark import report
    from novelbench.benchmark import samples as samples_mod
    from novelbench.benchmark.store import figure_target

    proto_cls = PROTOCOLS.get(protocol)
    dataset = dataset or getattr(proto_cls, "default_dataset", "mnist")
    dataset_params = {"data_root": str(data_root) if data_root else None, "download": download, "image_size": image_size}
    protocol_params = _chosen_protocol_params(protocol, protocol_options, [])
    trial = samples_mod.plan_one(method, param, protocol, protocol_params, dataset, dataset_params, seed, device, threads, repeat)
    positives = "+".join(trial.setting.positives).replace(" ", "")
    name = f"samples-{trial.label.replace(':', '.')}-{dataset}-{positives}-s{seed}"
    target = figure_target(out or Path("results") / name, name)  # checked before the model is trained
    err_console.print(f"trial {trial.trial_id}: {escape(trial.describe())}")
    drawn = samples_mod.draw_samples(trial, models, n)
    err_console.print(f"model: {escape(drawn.origin)}")
    for path in report.save_figure(samples_mod.draw_figure(drawn), target):
        out_console.print(f"wrote {path}")


app.command()(_command_with(samples))
#: commands that take the options declared by every registered protocol (and executor)
WITH_DECLARED_OPTIONS = {"run": (run, ("protocol", "executor")), "samples": (samples, ("protocol",)), "curves": (curves, ("protocol",))}


@app.command("report")
@known_errors
def report_(results: list[Path] = typer.Argument(..., help="Run folders (or results files) to report on."),
            out: list[Path] = typer.Option([Path("report.html")], parser=_out_path, help="Output file; .html (self-contained) or .md (figures in <stem>_files/). Repeatable."),
            policy: str = typer.Option("quantile", help=POLICY_HELP),
            metric: str = typer.Option("auroc", help="Metric of the paired comparison. " + METRIC_HELP),
            mix: Optional[str] = typer.Option(None, help="Test mix of the paired comparison (default: the mix of each protocol's own table)."),
            published: str = typer.Option("all", help=PUBLISHED_HELP),
            min_pairs: Optional[int] = typer.Option(None, min=1, help=MIN_PAIRS_HELP),
            title: Optional[str] = typer.Option(None, help="Title of the report (default: methods and protocols).")) -> None:
    """One document about runs: summary per method and mix, protocol tables and figures, paired
    comparison, per-trial timings, failed trials with their errors, and provenance. HTML is one
    self-contained file (figures inline, opens with no network); markdown is for repositories."""
    from novelbench.benchmark import compare as compare_mod
    from novelbench.benchmark import report_page
    from novelbench.benchmark.store import read_results

    for target in out:
        report_page.check_target(target)
    tables = [read_results(r) for r in results]
    context = report_page.build(results, tables, policy, metric, mix, published, min_pairs or compare_mod.MIN_PAIRS, title=title)
    for target in out:
        for path in report_page.write(context, target):
            out_console.print(f"wrote {path}")


def _rerun(planned: list, folder: Path, jobs: int | None, quiet: bool) -> dict:
    """Re-run ``planned`` trials into the scratch ``folder`` (one executor per device type, with
    progress); new rows per old trial id. Ctrl-C keeps what finished, for the next verify."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    from novelbench.benchmark import provenance
    from novelbench.benchmark import verify as verify_mod
    from novelbench.benchmark.runner import make_executor, run_id_for

    new_rows: dict = {}
    for device in dict.fromkeys(p.trial.device for p in planned if p.trial):
        group = [p for p in planned if p.trial and p.trial.device == device]
        executor = make_executor(None, _effective_jobs(jobs, group[0].trial.threads, device), device,
                                 note=lambda m: err_console.print(escape(m)))
        progress = Progress(RunningColumn(executor), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            TimeRemainingColumn(), console=err_console, disable=quiet)

        def on_trial(done, rows, cached):
            if rows and rows[0]["status"] != "ok":
                err_console.print(f"[red]failed[/] {escape(done.describe())}: {escape(rows[0]['error'])}")
            elif rows:
                err_console.print(f"re-ran {escape(done.describe())} in {rows[0]['fit_seconds'] + rows[0]['score_seconds']:.0f}s")
            progress.update(task, advance=1, description="reused from scratch" if cached else "")

        provenance.record_run(folder, run_id_for([p.trial for p in group]), len(group))
        with progress:
            task = progress.add_task("starting", total=len(group))
            try:
                new_rows.update(verify_mod.rerun(group, folder, executor, on_trial))
            except KeyboardInterrupt:
                err_console.print(f"[yellow]interrupted[/]: re-runs finished so far are kept in {folder}; the same command resumes")
                raise typer.Exit(130)
    return new_rows


@app.command()
@known_errors
def verify(
    runs: list[Path] = typer.Argument(..., help="Run folders or results .csv/.parquet files whose trials to re-run."),
    sample: Optional[int] = typer.Option(None, min=1, help="Re-run K trials per table, drawn reproducibly (--seed) among those this machine can run, spread over methods, positive sets and seeds. Default: every trial."),
    trial: list[str] = typer.Option([], "--trial", help="Re-run this trial (its id, or a unique prefix); with --sample, in addition to the K drawn. Repeatable."),
    tolerance: float = typer.Option(1e-3, min=0.0, help="Largest |new - old| of any metric that still counts as reproduced (verdict 'within T'); beyond it the exit code is 1."),
    seed: int = typer.Option(0, min=0, help="Seed of the --sample draw."),
    data_root: Optional[Path] = typer.Option(None, help="Folder holding the data, as in `bench run`. Default: $NOVELBENCH_DATA_ROOT or ./data."),
    image_size: Optional[int] = typer.Option(None, help="--image-size the runs used, if not the dataset's default."),
    protocol_option: list[str] = typer.Option([], "--protocol-option", callback=_assignments, help="Protocol option NAME=VALUE the runs used (e.g. max_per_class=50), where the defaults do not rebuild a row's config_id. Repeatable."),
    scratch: Optional[Path] = typer.Option(None, help="Folder for the re-runs, one sub-folder per table (reused: an interrupted verify resumes). Default: a folder under the system's temp dir."),
    jobs: Optional[int] = typer.Option(None, min=1, help="Trials re-run at the same time (local worker processes)."),
    out: list[Path] = typer.Option([], help="Also write the verification table: .csv or .md (one row per trial) or .json (every number). Written after each table, so it grows as a long verify goes. Repeatable."),
    details: bool = typer.Option(False, "--details", help="Also print every metric of every mix, old / new / delta, per trial."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show which trials would be re-run, rebuilt how (same trial id?) or why not."),
    as_json: bool = typer.Option(False, "--json", help="Print every trial's numbers as JSON (for scripts)."),
) -> None:
    """Re-run trials of existing results on this machine and compare every number.

    Per trial: each metric's old and new value and delta (the table shows the largest |delta|
    and the AUROC of the protocol's own mix; --details, --json and --out .json every number), what differs
    in the compute identity (CPU, vector ISA, libraries, GPU), whether today's code gives the
    row's trial id, and a verdict: bit-identical, within T or beyond T (failed and skipped
    trials say why). Exit code 1 if any trial is beyond T or failed to re-run, or none could be
    re-run. Results go to the scratch folder, never into the originals.
    """
    import torch

    from novelbench.benchmark import compute
    from novelbench.benchmark import verify as verify_mod
    from novelbench.benchmark.datacache import load_dataset

    for target in out:
        if target.suffix not in (".csv", ".md", ".json"):
            raise NovelbenchError(f"--out {target}: the verification table is written as .csv, .md or .json")
    options = _protocol_option_pairs(protocol_option)
    cuda_here = torch.cuda.is_available()
    scratch_root = scratch or verify_mod.default_scratch_root()
    chosen: dict[Path, tuple[dict, list[str]]] = {}
    for path in runs:
        trials = verify_mod.trials_of(verify_mod.read_table(path))
        verify_mod.check_scratch(verify_mod.scratch_folder(scratch_root, path), path)
        chosen[path] = (trials, verify_mod.select(trials, trial, sample, seed, cuda_here))
    verify_mod.check_wanted(trial, [t for trials, _ in chosen.values() for t in trials], runs)
    verify_mod.check_protocol_options(options, [t for trials, _ in chosen.values() for t in trials.values()])
    root = str(data_root) if data_root else None
    planned_of = {path: [verify_mod.rebuild(path, t, trials[t], root, image_size, options, cuda_here) for t in ids]
                  for path, (trials, ids) in chosen.items()}
    if not dry_run:  # the data is readable, before any work (one clear line if not)
        for dataset, params in {(p.trial.dataset, json.dumps(p.trial.dataset_params)) for ps in planned_of.values() for p in ps if p.trial}:
            load_dataset(dataset, json.loads(params))

    here = compute.identity("cuda" if cuda_here else "cpu")
    err_console.print("this machine: " + escape("; ".join(v for v in here.values() if v)), highlight=False)
    outcomes = []
    for path, planned in planned_of.items():
        folder = verify_mod.scratch_folder(scratch_root, path)
        n_run = sum(p.trial is not None for p in planned)
        err_console.print(f"{path}: {len(planned)} of {len(chosen[path][0])} trial(s) chosen, {n_run} to re-run in {folder}", highlight=False)
        if dry_run:
            done = [verify_mod.Outcome(p, "would re-run" if p.trial else "skipped") for p in planned]
            outcomes += done
            if not as_json:
                _print_frame(verify_mod.display_frame(done), f"verify {path}: dry run")
        else:
            new_rows = _rerun(planned, folder, jobs, as_json)
            done = [verify_mod.compare(p, new_rows.get(p.trial_id), tolerance) for p in planned]
            outcomes += done
            if not as_json:
                _print_frame(verify_mod.display_frame(done), f"verify {path} (tolerance {tolerance:g})",
                             "same id: today's code gives the row's trial id (no: the code changed since, numbers may differ)")
                for o in done if details else []:
                    if o.numbers:
                        _print_frame(verify_mod.numbers_frame(o), f"{o.planned.trial_id} {o.summary()['method']}: {o.verdict}")
        for target in out:
            verify_mod.write_table(outcomes, target)
    for target in out:
        err_console.print(f"wrote {target}")
    if as_json:
        out_console.print_json(verify_mod.to_json(outcomes))
    if dry_run:
        return
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.verdict] = counts.get(o.verdict, 0) + 1
    if len(chosen) > 1 and outcomes:  # several tables: one line per method across them
        per_method = verify_mod.by_method(verify_mod.table_frame(outcomes))
        _print_frame(per_method.map(lambda v: f"{v:.3g}" if isinstance(v, float) else v), f"verify: per method (tolerance {tolerance:g})")
    err_console.print(", ".join(f"{n} {kind}" for kind, n in counts.items()) + f" of {len(outcomes)} trial(s)", highlight=False)
    if not any(o.verdict not in ("skipped",) for o in outcomes):
        raise NovelbenchError("no chosen trial could be re-run here (see each one's note)")
    if any(verify_mod.is_beyond(o) or o.verdict == "failed" for o in outcomes):
        raise typer.Exit(1)


@app.command()
@known_errors
def page(spec: Path = typer.Argument(..., help="A page spec (TOML): prose and computed blocks; run tables relative to it."),
         out: list[Path] = typer.Option(..., help="Output file: .md, or .html (one page; figures beside it). Repeatable.")) -> None:
    """A results page declared in a spec, rendered from run tables: prose written by hand beside
    computed blocks (protocol tables and figures, paired comparisons, coverage, per-class tables,
    timings, verdict tables). See README "Results pages"."""
    from novelbench.benchmark import page as page_mod

    for path in page_mod.write(page_mod.load(spec), out):
        out_console.print(f"wrote {path}")
