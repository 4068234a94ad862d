"""Results on disk: one file per finished trial (written atomically), merged into one tidy table.

    OUT/trials/<trial_id>.parquet   rows of one trial (status ok or failed)
    OUT/results.parquet, results.csv the run's tidy table (one row per trial x test mix)

A trial file appears only complete (write to a temp file, then rename), so killing a run at
any moment loses at most the trials in flight. Failed trials are stored for the record but
never count as finished: re-running retries them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class ResultStore:
    def __init__(self, out_dir: str | Path):
        self.out_dir = Path(out_dir)
        self.trials_dir = self.out_dir / "trials"

    def _trial_path(self, trial_id: str) -> Path:
        return self.trials_dir / f"{trial_id}.parquet"

    def write_trial(self, trial_id: str, rows: list[dict]) -> None:
        frame = pd.DataFrame(rows)
        _atomic_write(self._trial_path(trial_id), lambda tmp: frame.to_parquet(tmp, index=False))

    def read_trial(self, trial_id: str) -> pd.DataFrame | None:
        path = self._trial_path(trial_id)
        return pd.read_parquet(path) if path.exists() else None

    def is_finished(self, trial_id: str) -> bool:
        frame = self.read_trial(trial_id)
        return frame is not None and bool((frame["status"] == "ok").all())

    def merge(self, trial_ids: list[str], run_id: str) -> pd.DataFrame:
        """The tidy table of these trials, in plan order; written as Parquet and CSV."""
        frames = [f for f in (self.read_trial(t) for t in trial_ids) if f is not None]
        table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if not table.empty:
            table.insert(0, "run_id", run_id)
        _atomic_write(self.out_dir / "results.parquet", lambda tmp: table.to_parquet(tmp, index=False))
        _atomic_write(self.out_dir / "results.csv", lambda tmp: table.to_csv(tmp, index=False))
        return table


def read_results(path: str | Path) -> pd.DataFrame:
    """A run's table from its folder or its .parquet / .csv file."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.parquet"
    if not path.exists():
        from novelbench.errors import NovelbenchError

        raise NovelbenchError(f"no results at {path}; run `bench run ... --out DIR` first")
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
