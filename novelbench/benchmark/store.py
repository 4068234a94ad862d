"""Results on disk: one file per finished trial (written atomically), merged into one tidy table.

    OUT/trials/<trial_id>.parquet    rows of one trial (status ok or failed)
    OUT/results.parquet, results.csv every trial of the folder (one row per trial x test mix)

A trial file appears only complete (write to a temp file, then rename), so killing a run at
any moment loses at most the trials in flight. Failed trials are stored for the record but
never count as finished: re-running retries them. A trial file that cannot be read (truncated,
empty) is moved aside to ``OUT/trials/corrupt/`` with a warning and counts as not finished.

The folder's table describes every trial of the folder, whichever run wrote it (runs of
different methods may share a folder); where code changed, the newest trial of each experiment
(``config_id``) replaces the older ones.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import pandas as pd

from novelbench.errors import NovelbenchError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: new files get the permissions any other file of the user would get (mkstemp alone gives 0600)
FILE_MODE = 0o666 & ~_umask()

REQUIRED_COLUMNS = {"trial_id", "protocol", "dataset", "method", "status"}


def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def check_out_path(out_dir: Path) -> None:
    """Fail before any work (and without writing anything) if the output folder cannot be made."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NovelbenchError(f"--out {out_dir} is an existing file, not a folder")
    existing = out_dir
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise NovelbenchError(f"cannot write results to {out_dir}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise NovelbenchError(f"cannot write results to {out_dir}: {existing} is not writable")


class ResultStore:
    def __init__(self, out_dir: str | Path, on_warning: Callable[[str], None] | None = None):
        self.out_dir = Path(out_dir)
        self.trials_dir = self.out_dir / "trials"
        self.on_warning = on_warning or (lambda message: None)

    def prepare(self) -> None:
        """Create the folder; one clear error if that fails."""
        try:
            self.trials_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise NovelbenchError(f"cannot write results to {self.out_dir}: {exc.strerror or exc}") from None

    def _trial_path(self, trial_id: str) -> Path:
        return self.trials_dir / f"{trial_id}.parquet"

    def write_trial(self, trial_id: str, rows: list[dict], run_id: str = "") -> None:
        """Store a trial's rows under the id the driver planned (rows are stamped with it and
        with the run that computed them)."""
        frame = pd.DataFrame(rows).assign(trial_id=trial_id)
        frame.insert(0, "run_id", run_id)
        _atomic_write(self._trial_path(trial_id), lambda tmp: frame.to_parquet(tmp, index=False))

    def _read(self, path: Path) -> pd.DataFrame | None:
        try:
            frame = pd.read_parquet(path)
            if frame.empty or "status" not in frame:
                raise ValueError("no rows")
            return frame
        except Exception as exc:  # truncated, empty or foreign file: never fatal, never a result
            aside = self.trials_dir / "corrupt" / path.name
            aside.parent.mkdir(exist_ok=True)
            os.replace(path, aside)
            self.on_warning(f"unreadable trial file {path.name} ({type(exc).__name__}) moved to {aside}; the trial will be recomputed")
            return None

    def read_trial(self, trial_id: str) -> pd.DataFrame | None:
        path = self._trial_path(trial_id)
        return self._read(path) if path.exists() else None

    def is_finished(self, trial_id: str) -> bool:
        frame = self.read_trial(trial_id)
        return frame is not None and bool((frame["status"] == "ok").all())

    def folder_table(self) -> pd.DataFrame:
        """Every trial of the folder; of trials of one experiment (config_id), the newest file."""
        found = []
        for path in self.trials_dir.glob("*.parquet"):
            frame = self._read(path)
            if frame is not None:
                found.append((path.stat().st_mtime_ns, frame))
        if not found:
            return pd.DataFrame()
        newest: dict[str, tuple[int, pd.DataFrame]] = {}
        for mtime, frame in found:
            key = frame["config_id"].iloc[0] if "config_id" in frame else frame["trial_id"].iloc[0]
            if key not in newest or mtime > newest[key][0]:
                newest[key] = (mtime, frame)
        frames = [f for _, f in sorted(newest.values(), key=lambda item: item[0])]
        return pd.concat(frames, ignore_index=True)

    def collect(self, sources: list[Path]) -> int:
        """Copy the trial files of other run folders here, computing nothing: of two files of one
        trial id the newer wins, as in any folder. Returns how many files were copied."""
        copied = 0
        for source in sources:
            for path in sorted(Path(source, "trials").glob("*.parquet")):
                target = self.trials_dir / path.name
                if not target.exists() or path.stat().st_mtime_ns > target.stat().st_mtime_ns:
                    shutil.copy2(path, target)  # keeps the time stamp the newest-wins rule reads
                    copied += 1
        return copied

    def merge(self, trial_ids: list[str]) -> pd.DataFrame:
        """Write the folder's table (Parquet and CSV); return this run's rows, in plan order."""
        folder = self.folder_table()
        _atomic_write(self.out_dir / "results.parquet", lambda tmp: folder.to_parquet(tmp, index=False))
        _atomic_write(self.out_dir / "results.csv", lambda tmp: folder.to_csv(tmp, index=False))
        frames = [f for f in (self.read_trial(t) for t in trial_ids) if f is not None]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def read_results(path: str | Path) -> pd.DataFrame:
    """A results table from a run folder or its .parquet / .csv file; one clear error otherwise."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.parquet"
    if not path.exists():
        raise NovelbenchError(f"no results at {path}; run `bench run ... --out DIR` first")
    try:
        if path.suffix == ".parquet":
            table = pd.read_parquet(path)
        elif path.suffix == ".csv":
            table = pd.read_csv(path)
        else:
            raise ValueError("not a .parquet or .csv file")
    except Exception as exc:
        raise NovelbenchError(f"{path} is not a readable results table ({type(exc).__name__}: {str(exc)[:120]})") from None
    missing = REQUIRED_COLUMNS - set(table.columns)
    if missing:
        raise NovelbenchError(f"{path} is not a novelbench results table (missing columns: {', '.join(sorted(missing))})")
    if table.empty:
        raise NovelbenchError(f"{path} holds no trials")
    return table
