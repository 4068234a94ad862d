"""Cost of one full-MNIST (digit, seed) trial, fit + score, on one CPU thread: wall and CPU seconds.

On a shared machine wall time depends on the other processes, so this also records the CPU time
the trial's process used (``getrusage``), which is what the trial would take alone on an idle
core. The trial runs through the harness's own ``run_trial`` (split, seeding, fit, scoring of
the 10,000-image test pool and the validation pool, metrics); the dataset is loaded first and
not counted.

    python benchmarks/baselines_speed.py --data-root DATA --method deep-svdd --classes 0,8 [--param deep-svdd.epochs=10]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

from novelbench.benchmark.datacache import load_dataset
from novelbench.benchmark.execution import run_trial
from novelbench.benchmark.plan import plan_trials


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--method", required=True)
    parser.add_argument("--classes", default="0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--param", action="append", default=[])
    args = parser.parse_args()
    dataset_params = {"data_root": args.data_root, "download": False, "image_size": None}
    load_dataset("mnist", dataset_params)
    trials, _ = plan_trials([args.method], args.param, "mnist", {"classes": args.classes}, "mnist",
                            dataset_params, [args.seed], "cpu", threads=1)
    for trial in trials:
        load0, wall0, cpu0 = os.getloadavg()[0], time.perf_counter(), cpu_seconds()
        rows = run_trial(trial)
        wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
        pool = next((r for r in rows if r.get("mix") == "pool"), rows[0])
        print(json.dumps({"method": trial.label, "digit": trial.setting.positives[0], "seed": trial.seed,
                          "status": pool["status"], "error": pool.get("error", ""), "auroc_pool": pool.get("auroc"),
                          "fit_s": pool.get("fit_seconds"), "score_s": pool.get("score_seconds"),
                          "trial_wall_s": round(wall, 1), "trial_cpu_s": round(cpu, 1),
                          "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2)}), flush=True)


if __name__ == "__main__":
    main()
