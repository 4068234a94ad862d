"""A trial of a resumable method, run inside a checkpoint session (``methods/checkpoint.py``).

The session's folder is ``<checkpoint_dir>/<trial_id>``: the id fixes the code and options, so a
re-run that finds the folder is the same trial and resumes from it. The folder is deleted once
the trial has finished (and ``checkpoint_dir`` with it when it is empty), or when one of its
checkpoints could not be used; an interruption (Ctrl-C, a killed process) or a failed trial
keeps it, so the retry resumes.

Like ``compute.py`` this is outside the trial code's fingerprint: it decides where state is kept,
never a number. A resumed trial's ``fit_seconds`` adds the training time its checkpoints stand
for to the time this run spent, so it reads as the trial's whole fit time.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from novelbench.benchmark.execution import run_trial
from novelbench.benchmark.identity import Trial
from novelbench.methods import checkpoint
from novelbench.registry import METHODS


def is_resumable(trial: Trial) -> bool:
    return bool(trial.checkpoint_dir) and getattr(METHODS.plugin(trial.method).cls, "resumable", False)


def run_checkpointed(trial: Trial) -> list[dict[str, Any]]:
    """``execution.run_trial``, inside a checkpoint session when the method is resumable."""
    if not is_resumable(trial):
        return run_trial(trial)
    folder = Path(trial.checkpoint_dir) / trial.trial_id
    with checkpoint.open_session(folder, trial.checkpoint_every) as session:
        rows = run_trial(trial)
    if rows[0]["status"] == "ok" or session.broken:
        shutil.rmtree(folder, ignore_errors=True)
        try:
            folder.parent.rmdir()  # the run's checkpoints/ folder, once no other trial's is left in it
        except OSError:
            pass
    if session.recovered_seconds:
        rows = [{**row, "fit_seconds": row["fit_seconds"] + session.recovered_seconds} if row["status"] == "ok" else row
                for row in rows]
    return rows
