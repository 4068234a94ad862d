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

import errno
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
#: columns that hold numbers wherever they hold anything (a failed trial's row leaves them empty)
NUMERIC_COLUMNS = ("seed", "repeat", "outlier_pct", "n_test", "n_outliers", "auroc", "aupr", "f1_quantile", "f1_validation",
                   "f1_oracle", "f1_native", "f1_trivial", "n_train", "fit_seconds", "score_seconds", "threads")
#: where unreadable trial files are moved, under OUT/trials/
CORRUPT = "corrupt"


def _free_space(folder: Path) -> str:
    try:
        return f"{shutil.disk_usage(folder).free / 2**20:.0f} MiB free there"
    except OSError:
        return "free space unknown"


def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Write through a temp file and a rename; a failed write (a full disk) leaves the old file
    intact and is one clear error naming the path and the free space."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        write(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except OSError as exc:
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        reason = "the disk is full" if full else (exc.strerror or str(exc))
        raise NovelbenchError(f"cannot write {path}: {reason} ({_free_space(path.parent)}); "
                              f"the trials finished before stay readable") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)


def _check_can_create(target: Path, what: str) -> None:
    """``target`` (a file or folder to be made) can be created: its nearest existing ancestor is a
    writable folder. Nothing is written."""
    existing = target.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NovelbenchError(f"cannot write {what} to {target}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise NovelbenchError(f"cannot write {what} to {target}: {existing} is not writable")


def check_out_file(path: Path, flag: str = "--out") -> None:
    """Fail before any work (writing nothing) if the output file ``path`` cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise NovelbenchError(f"{flag} {path} is an existing folder; give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise NovelbenchError(f"cannot write {flag} {path}: the file is not writable")
    _check_can_create(path, flag)


def figure_target(out: Path, default_stem: str, flag: str = "--out") -> Path:
    """The path (without suffix) a figure's .png and .pdf are written to: ``out``, or ``out``/
    ``default_stem`` when ``out`` is an existing folder; checked before any work."""
    out = Path(out)
    target = out / default_stem if out.is_dir() else out
    for suffix in (".png", ".pdf"):
        check_out_file(target.with_suffix(suffix), flag)
    return target


def check_out_path(out_dir: Path, flag: str = "--out") -> None:
    """Fail before any work (and without writing anything) if the output folder cannot be made."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NovelbenchError(f"{flag} {out_dir} is an existing file, not a folder")
    if out_dir.is_dir():
        if not os.access(out_dir, os.W_OK | os.X_OK):
            raise NovelbenchError(f"cannot write results to {out_dir}: {out_dir} is not writable")
        corrupt = out_dir / "trials" / CORRUPT
        if corrupt.exists() and not corrupt.is_dir():
            raise NovelbenchError(f"{corrupt} is a file, but unreadable trial files are moved into a folder of that name; "
                                  f"move or delete it")
        return
    _check_can_create(out_dir, "results")


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
            aside = self.trials_dir / CORRUPT / path.name
            try:
                aside.parent.mkdir(exist_ok=True)
                os.replace(path, aside)
            except OSError as move:
                raise NovelbenchError(f"unreadable trial file {path} could not be moved to {aside.parent}/ "
                                      f"({move.strerror or move}); move or delete it") from None
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
    for column in (c for c in NUMERIC_COLUMNS if c in table.columns and not pd.api.types.is_numeric_dtype(table[c])):
        numbers = pd.to_numeric(table[column], errors="coerce")
        bad = numbers.isna() & table[column].notna() & (table[column].astype(str).str.strip() != "")
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise NovelbenchError(f"{path}: column {column!r} holds {table[column].iloc[row]!r} (row {row + 1}), "
                                  "not a number; was the table edited by hand?")
        table[column] = numbers
    return table
