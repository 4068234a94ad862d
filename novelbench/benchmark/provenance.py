"""Where numbers came from: versions, git commit, device, CPU, and the command lines of runs.

``bench run`` appends one line per invocation to ``OUT/runs.jsonl`` (``record_run``); ``bench
report`` reads those lines back and adds the environment it runs in. A run table read from a
bare .csv/.parquet file has no such record; reports say so instead of guessing.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import novelbench

RUNS_FILE = "runs.jsonl"


def command_line(argv: list[str] | None = None) -> str:
    """The command as typed, e.g. ``bench run --method crbnd ...`` (``python -m novelbench ...``)."""
    argv = list(sys.argv if argv is None else argv)
    program = Path(argv[0]).name if argv else "bench"
    if program in ("__main__.py", "-m", "-c", ""):
        program = "python -m novelbench"
    return " ".join([program] + [shlex.quote(a) for a in argv[1:]])


#: flags whose value is the data folder: pages show it as DATA_ROOT, never a machine's path
DATA_FLAGS = ("--data-root", "--worker-data-root")


def shown_path(path: str | Path) -> str:
    """A path as a page may show it: relative to the working directory (as given if relative)."""
    path = str(path)
    return os.path.relpath(path) if os.path.isabs(path) else path


def portable_command(command: str, out_dir: str | Path | None = None) -> str:
    """A recorded command line with no path of the machine it ran on: the data folder becomes
    DATA_ROOT, ``--out`` the run folder as the reader names it (``out_dir``), any other absolute
    path is shown relative to the working directory."""
    try:
        words = shlex.split(command)
    except ValueError:
        return command
    shown, replace_next = [], None
    for word in words:
        flag, eq, value = word.partition("=")
        if replace_next is not None:
            shown.append(replace_next(word))
            replace_next = None
            continue
        rule = (lambda v: "DATA_ROOT") if flag in DATA_FLAGS else (
            (lambda v: shown_path(out_dir)) if flag == "--out" and out_dir is not None else None)
        if rule and eq:
            shown.append(f"{flag}={rule(value)}")
        elif rule:
            shown.append(word)
            replace_next = rule
        else:
            shown.append(f"{flag}={shown_path(value)}" if eq and flag.startswith("--") and os.path.isabs(value)
                         else shown_path(word) if os.path.isabs(word) else word)
    return " ".join(shlex.quote(w) for w in shown)


def git_commit() -> str | None:
    """The commit of the novelbench source when it is a git checkout (``+dirty`` with local edits)."""
    here = Path(novelbench.__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--", "."], capture_output=True, text=True, timeout=5)
        return commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def devices() -> str:
    import torch

    if torch.cuda.is_available():
        return ", ".join(f"cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count()))
    return "cpu only (no CUDA device visible)"


def environment() -> dict[str, Any]:
    """Versions, commit, CPU and devices of the process calling this."""
    import numpy
    import pandas
    import scipy
    import sklearn
    import torch

    return {
        "novelbench": novelbench.__version__, "git_commit": git_commit() or "not a git checkout",
        "python": platform.python_version(), "torch": torch.__version__, "sklearn": sklearn.__version__,
        "numpy": numpy.__version__, "pandas": pandas.__version__, "scipy": scipy.__version__,
        "platform": platform.platform(), "cpu": f"{cpu_model()} ({os.cpu_count()} logical cores)", "devices": devices(),
    }


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def record_run(out_dir: Path, run_id: str, n_trials: int, argv: list[str] | None = None) -> None:
    """Append this invocation (command line, environment, time) to ``OUT/runs.jsonl``."""
    line = {"run_id": run_id, "started": now(), "command": command_line(argv), "trials": n_trials, **environment()}
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / RUNS_FILE, "a") as f:
        f.write(json.dumps(line) + "\n")


def collect_runs(out_dir: Path, sources: list[Path]) -> None:
    """Append the sources' recorded invocations that ``out_dir`` does not hold yet (`bench collect`)."""
    path = Path(out_dir) / RUNS_FILE
    have = set(path.read_text().splitlines()) if path.exists() else set()
    new = [line for source in sources if (Path(source) / RUNS_FILE).exists()
           for line in (Path(source) / RUNS_FILE).read_text().splitlines() if line.strip() and line not in have]
    with open(path, "a") as f:
        f.writelines(line + "\n" for line in dict.fromkeys(new))


def read_runs(results: Path) -> list[dict[str, Any]]:
    """The recorded invocations of a run folder (or of the folder of a results file); [] if none."""
    folder = results if results.is_dir() else results.parent
    path = folder / RUNS_FILE
    inside_run_folder = results.is_dir() or (folder / "trials").is_dir()
    if not inside_run_folder or not path.exists():
        return []
    out = []
    for text in path.read_text().splitlines():
        try:
            out.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    return out
