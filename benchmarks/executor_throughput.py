"""How fast trials go through the harness, per executor; prints markdown tables.

Sections (``--sections``, default all):
- ``throughput``: trials per hour on mnist for each method with ``--jobs 1`` (inline),
  ``--jobs 2`` (processes) and Dask ``LocalCluster`` with 2 workers. Each is one fresh
  ``python -m novelbench run`` process into a fresh output folder, timed from launch to exit, so
  start-up (imports, data, worker processes) counts. "busy" = time inside fit + score over
  wall x workers.
- ``overhead``: the harness's own time per trial (``--jobs 1``, in this process): wall time of
  the run minus its trials' fit_seconds + score_seconds (scoring the validation pool counts as
  harness time), as a share of the run.
- ``first-trial``: time from launching ``bench run`` on caltech101 to its first finished
  trial, with a fresh decoded-image cache (cold: NOVELBENCH_CACHE_DIR = a new folder) and
  again with that cache filled (warm).
- ``oversubscription``: ``--jobs 2`` with ``--threads 2`` forced past the core cap (jobs x
  threads > cores) against ``--jobs 2 --threads 1``, same trials, wall time and mean fit time.

    python benchmarks/executor_throughput.py --data-root DATA              # the full measurement
    python benchmarks/executor_throughput.py --data-root DATA --tiny       # a minute or two, to check it runs

Paths come from options or the environment (NOVELBENCH_DATA_ROOT); nothing is written outside
``--work-dir`` (default: a temporary folder, removed at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's novelbench, here and in the `bench run` processes (cwd)
from novelbench.benchmark.report import render  # noqa: E402  (after the path above)
TINY = {"classes": "0", "max_per_class": 300, "params": ["ae.epochs=1", "ae.min_steps=0"], "caltech_max_per_class": 20}


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def bench_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "novelbench", "run", *map(str, args)]


def timed_run(args: list[str], env: dict[str, str] | None = None, trials_dir: Path | None = None) -> dict:
    """Run ``bench run`` in a fresh process; wall time to exit and to the first trial file."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = None
    while proc.poll() is None:
        if first is None and trials_dir is not None and trials_dir.is_dir() and any(trials_dir.glob("*.parquet")):
            first = time.perf_counter() - start
        time.sleep(0.05)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench run failed ({proc.returncode}): {' '.join(args)}\n{err[-2000:]}")
    if first is None and trials_dir is not None:
        first = wall
    return {"wall": wall, "first": first, "summary": json.loads(out)}


def mnist_args(method: str, opts, out: Path) -> list[str]:
    args = ["-m", method, "--protocol", "mnist", "--dataset", "mnist", "--data-root", opts.data_root, "--classes", opts.classes,
            "--seeds", opts.seeds, "--threads", "1", "--device", "cpu", "--out", out, "--json"]
    if opts.max_per_class:
        args += ["--max-per-class", opts.max_per_class]
    for p in opts.param:
        if p.split(".", 1)[0] == method:
            args += ["--param", p]
    return args


def throughput(opts, work: Path) -> list[dict]:
    configs = [("--jobs 1 (inline)", 1, []), ("--jobs 2 (processes)", 2, ["--jobs", "2"]),
               ("dask LocalCluster, 2 workers", 2, ["--executor", "dask", "--jobs", "2"])]
    rows = []
    for method in opts.methods:
        for label, workers, extra in configs:
            out = work / f"throughput-{method}-{workers}-{len(rows)}"
            before = load()
            res = timed_run(bench_cmd(*mnist_args(method, opts, out), *extra))
            table = pd.read_parquet(out / "results.parquet").drop_duplicates("trial_id")
            n = len(table)
            busy = (table["fit_seconds"] + table["score_seconds"]).sum()
            rows.append({"method": method, "executor": label, "trials": n, "wall s": round(res["wall"], 1),
                         "trials/hour": round(n / res["wall"] * 3600, 1), "busy": f"{busy / (res['wall'] * workers):.0%}",
                         "mean fit+score s": round(busy / n, 2), "load before": before})
    return rows


def overhead(opts, work: Path) -> list[dict]:
    """In this process, --jobs 1: the run's wall time minus its trials' fit and scoring time (the
    fit_seconds and score_seconds columns; scoring the validation pool counts as harness time)."""
    from novelbench.benchmark import runner
    from novelbench.benchmark.plan import plan_trials
    from novelbench.benchmark.store import ResultStore

    rows = []
    for method in opts.methods:
        params = [p for p in opts.param if p.split(".", 1)[0] == method]
        proto = {"classes": opts.classes.split(","), **({"max_per_class": opts.max_per_class} if opts.max_per_class else {})}
        trials, _ = plan_trials([method], params, "mnist", proto, "mnist",
                                {"data_root": opts.data_root, "download": False, "image_size": None},
                                [int(s) for s in opts.seeds.split(",")], "cpu", 1)
        before = load()
        t0 = time.perf_counter()
        result = runner.run_trials(trials, ResultStore(work / f"overhead-{method}"))
        wall = time.perf_counter() - t0
        table = result.table.drop_duplicates("trial_id")
        inside, n = (table["fit_seconds"] + table["score_seconds"]).sum(), len(table)
        rows.append({"method": method, "trials": n, "wall s": round(wall, 2), "fit+score s": round(inside, 2),
                     "harness s/trial": round((wall - inside) / n, 3), "harness share": f"{(wall - inside) / wall:.2%}",
                     "load before": before})
    return rows


def first_trial(opts, work: Path) -> list[dict]:
    cache = work / "fresh-cache"
    rows = []
    for label in ("cold", "warm"):
        out = work / f"first-{label}"
        args = bench_cmd("-m", opts.caltech_method, "--protocol", "caltech", "--dataset", "caltech101", "--data-root", opts.data_root,
                         "--n-classes", "1", "--repeats", "1", "--max-per-class", opts.caltech_max_per_class, "--threads", "1",
                         "--device", "cpu", "--out", out, "--json")
        before = load()
        res = timed_run(args, {"NOVELBENCH_CACHE_DIR": str(cache)}, out / "trials")
        rows.append({"cache": label, "method": opts.caltech_method, "first trial s": round(res["first"], 1),
                     "run s": round(res["wall"], 1), "load before": before})
    return rows


def oversubscription(opts, work: Path) -> list[dict]:
    """--jobs 2 at --threads 1 and at --threads 2 (forced past the cap), alternated ``--repeat``
    times; "worker CPU s" is the CPU time of the worker processes (start-up included)."""
    import resource

    from novelbench.benchmark import placement, runner
    from novelbench.benchmark.plan import plan_trials
    from novelbench.benchmark.store import ResultStore

    method = opts.oversub_method
    params = [p for p in opts.param if p.split(".", 1)[0] == method]
    proto = {"classes": opts.oversub_classes.split(","), **({"max_per_class": opts.max_per_class} if opts.max_per_class else {})}
    rows = []
    for attempt in range(opts.repeat):
        for threads in (1, 2):
            trials, _ = plan_trials([method], params, "mnist", proto, "mnist", {"data_root": opts.data_root, "download": False, "image_size": None},
                                    [int(s) for s in opts.seeds.split(",")], "cpu", threads)
            before = load()
            cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            result = runner.run_trials(trials, ResultStore(work / f"oversub-{threads}-{attempt}"), runner.make_executor("processes", 2))
            wall = time.perf_counter() - t0
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers were joined by the executor
            table = result.table.drop_duplicates("trial_id")
            rows.append({"method": method, "jobs x threads": f"2 x {threads}", "cores": placement.cpu_cores(), "trials": len(table),
                         "wall s": round(wall, 1), "mean fit s": round(table["fit_seconds"].mean(), 2),
                         "mean score s": round(table["score_seconds"].mean(), 2),
                         "worker CPU s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 1), "load before": before})
    return rows


SECTIONS = {"throughput": throughput, "overhead": overhead, "first-trial": first_trial, "oversubscription": oversubscription}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", default=os.environ.get("NOVELBENCH_DATA_ROOT"), help="holds MNIST/raw and caltech101/ (default $NOVELBENCH_DATA_ROOT)")
    ap.add_argument("--sections", default=",".join(SECTIONS), help=f"comma list of {', '.join(SECTIONS)}")
    ap.add_argument("--methods", default="ocsvm,ae")
    ap.add_argument("--classes", default="0,1,2,3", help="mnist digits, one trial each per seed")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--max-per-class", type=int, default=0, help="cap on training images (0: the protocol's whole class)")
    ap.add_argument("--param", action="append", default=[], help="METHOD.NAME=VALUE passed to bench run (repeatable)")
    ap.add_argument("--caltech-method", default="ocsvm")
    ap.add_argument("--caltech-max-per-class", type=int, default=150)
    ap.add_argument("--oversub-method", default="ae")
    ap.add_argument("--oversub-classes", default="0,1", help="one trial each, run two at a time")
    ap.add_argument("--repeat", type=int, default=2, help="oversubscription: how many times to alternate the two settings")
    ap.add_argument("--tiny", action="store_true", help="tiny settings, to check the script end to end")
    ap.add_argument("--work-dir", type=Path, default=None, help="where runs write (default: a temporary folder, removed)")
    opts = ap.parse_args()
    if not opts.data_root:
        ap.error("give --data-root or set NOVELBENCH_DATA_ROOT")
    opts.data_root = str(Path(opts.data_root).resolve())
    if opts.tiny:
        opts.classes, opts.oversub_classes = TINY["classes"], TINY["classes"]
        opts.max_per_class = opts.max_per_class or TINY["max_per_class"]
        opts.param = opts.param + TINY["params"]
        opts.caltech_max_per_class = TINY["caltech_max_per_class"]
    opts.methods = opts.methods.split(",")
    work = opts.work_dir or Path(tempfile.mkdtemp(prefix="executor-throughput-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"# executor throughput ({os.cpu_count()} CPUs, {load()})\n\n`{' '.join(sys.argv)}`\n", flush=True)
    try:
        for name in opts.sections.split(","):
            rows = SECTIONS[name](opts, work)
            print(f"## {name}\n\n{render(pd.DataFrame(rows), 'markdown')}\n", flush=True)
    finally:
        if opts.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
