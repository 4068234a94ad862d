"""Merge the trial files of several run folders into one folder and write its results table.

    python benchmarks/collect_runs.py DEST SRC [SRC ...]

For runs split over processes or machines (e.g. benchmarks/device_reference.sh runs one folder
per seed): DEST/trials/ gets every SRC/trials/*.parquet (same trial id = same trial: the newer
file wins, as in any run folder), then DEST/results.parquet and results.csv are written the way
`bench run` writes them. Nothing is recomputed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from novelbench.benchmark.store import ResultStore


def main(dest: str, *sources: str) -> None:
    store = ResultStore(dest)
    store.prepare()
    copied = 0
    for src in sources:
        for path in sorted(Path(src, "trials").glob("*.parquet")):
            target = store.trials_dir / path.name
            if not target.exists() or path.stat().st_mtime_ns > target.stat().st_mtime_ns:
                shutil.copy2(path, target)
                copied += 1
    table = store.merge([])
    print(f"{dest}: {copied} trial file(s) copied, {table_size(store)} trial(s) in the table")


def table_size(store: ResultStore) -> int:
    table = store.folder_table()
    return table["trial_id"].nunique() if not table.empty else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
