"""`bench page`: a results page declared in a TOML spec, rendered from run tables.

A spec lists the page's blocks in reading order: prose written by hand, and computed blocks
(``novelbench.benchmark.page_blocks``) that the rest of the package knows how to make from run
tables: the summary pivot, the protocol table and figure, the paired comparison, coverage,
per-class tables, timings and verdict tables. Every number on the page comes from the run
tables when the page is rendered, so re-rendering after more runs finish updates the page.

    title = "Baselines"

    [runs]                       # named sets of run tables; paths are relative to the spec file
    mnist = ["runs/mnist-crbnd.csv", "runs/mnist-ocsvm.csv"]
    older = [{file = "runs/firstpass/mnist-crbnd.csv", suffix = " (first pass)"}]

    [[block]]
    kind = "prose"
    text = "Hand-written markdown."

    [[block]]
    kind = "table"
    runs = "mnist"               # a set's name, or a list of paths / set names (globs allowed)

    stability = ["runs/stability-*.csv"]   # optional: trials run with --threads 1 and 2

A run entry's ``suffix`` is appended to its method names (to compare a method with an earlier
run of itself). Every block may filter rows with ``where = {column = value or [values]}`` and
keep (and order) methods with ``methods = [...]``. The output is deterministic: no time stamp,
no absolute path, so a committed page can be compared byte for byte with a fresh rendering.

With ``stability``, every method that those runs show unstable (``novelbench.benchmark.stability``:
the same trial's AUROC moves more than 0.03 between ``--threads 1`` and ``--threads 2``) is
marked in the page's tables wherever its rows appear, with a note saying why; rows under that
name none of whose trials are in the stability runs (an earlier default's run, older code) are not.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from novelbench.errors import NovelbenchError

#: keys every computed block accepts besides its own
COMMON_KEYS = {"kind", "runs", "where", "methods"}
#: what a spec key must hold wherever it appears (the page, a block, a verdict row)
KEY_TYPES = {"title": (str, "text"), "text": (str, "text"), "file": (str, "a path"), "kind": (str, "a block kind"),
             "runs": ((str, list, dict), "a run table, a run set's name or a list of them"),
             "where": (dict, "a table, {column = value or [values]}"), "methods": (list, "a list of method names"),
             "rows": (list, "[[block.rows]] tables"), "tolerance": ((int, float), "a number"), "budget": ((int, float), "a number")}


def check_types(entries: dict[str, Any], where: str) -> None:
    """One clear line for a key of the wrong type (a string where a list is meant would be read
    letter by letter; a string where a number is meant fails deep inside a block)."""
    for key, value in entries.items():
        wanted, what = KEY_TYPES.get(key, (object, ""))
        if not isinstance(value, wanted) or (isinstance(value, bool) and wanted == (int, float)):
            raise NovelbenchError(f"{where}: `{key}` must be {what}, not {value!r}")


@dataclass
class RunRef:
    path: Path
    suffix: str = ""


@dataclass
class Page:
    spec: Path
    title: str
    run_sets: dict[str, list[RunRef]]
    blocks: list[dict[str, Any]]
    _cache: dict[Path, pd.DataFrame] = field(default_factory=dict, repr=False)
    comparisons: dict[tuple, Any] = field(default_factory=dict, repr=False)  # verdict rows' paired comparisons
    stability_runs: list[RunRef] = field(default_factory=list)
    _unstable: set[str] | None = field(default=None, repr=False)
    _unstable_trials: set[str] = field(default_factory=set, repr=False)

    @property
    def folder(self) -> Path:
        return self.spec.parent

    def where(self, index: int) -> str:
        return f"{self.spec.name}: block {index + 1} ({self.blocks[index].get('kind', '?')})"

    def refs(self, runs: Any, where: str) -> list[RunRef]:
        """The run tables a block's (or verdict row's) ``runs`` names, checked to exist."""
        if runs is None:
            raise NovelbenchError(f"{where}: no `runs` given")
        out: list[RunRef] = []
        for entry in [runs] if isinstance(runs, (str, dict)) else runs:
            if isinstance(entry, str) and entry in self.run_sets:
                out += self.run_sets[entry]
            else:
                out += _expand(self.folder, entry, where)
        return out

    def unstable(self) -> set[str]:
        """Methods the page's ``stability`` runs flag (AUROC change above the limit on any trial)."""
        if self._unstable is None:
            from novelbench.benchmark.stability import thread_stability

            self._unstable, self._unstable_trials = set(), set()
            if self.stability_runs:
                runs = self.read(self.stability_runs)
                methods = thread_stability(runs).methods
                self._unstable = set(methods.loc[methods["unstable"], "method"])
                self._unstable_trials = set(runs.loc[runs["method"].isin(self._unstable), "trial_id"])
        return self._unstable

    def unstable_trials(self) -> set[str]:
        """The trial ids (either thread count) of the methods ``unstable`` names, in the stability runs."""
        self.unstable()
        return self._unstable_trials

    def read(self, refs: list[RunRef]) -> pd.DataFrame:
        from novelbench.benchmark.store import read_results

        parts = []
        for ref in refs:
            if ref.path not in self._cache:
                self._cache[ref.path] = read_results(ref.path)
            table = self._cache[ref.path]
            parts.append(table.assign(method=table["method"] + ref.suffix) if ref.suffix else table)
        return pd.concat(parts, ignore_index=True)

    def table(self, spec: dict[str, Any], where: str, default_runs: Any = None) -> pd.DataFrame:
        """The rows a block (or verdict row) reads: its run tables, filtered by ``where`` and ``methods``."""
        table = self.filter(self.read(self.refs(spec.get("runs", default_runs), where)), spec, where)
        if table.empty:
            raise NovelbenchError(f"{where}: no rows left after `where` / `methods`")
        return table

    @staticmethod
    def filter(table: pd.DataFrame, spec: dict[str, Any], where: str, strict: bool = True) -> pd.DataFrame:
        """Rows that ``where = {column = value or [values]}`` keeps, of the ``methods`` named (in
        their order); ``strict``: a named method with no rows is an error."""
        for column, wanted in spec.get("where", {}).items():
            if column not in table.columns:
                raise NovelbenchError(f"{where}: `where` names {column!r}, not a column of these run tables")
            table = table[table[column].isin(wanted if isinstance(wanted, list) else [wanted])]
        if "methods" in spec:
            missing = [m for m in spec["methods"] if m not in set(table["method"])]
            if missing and strict:
                raise NovelbenchError(f"{where}: no trials of {', '.join(missing)} in these run tables")
            order = {m: i for i, m in enumerate(spec["methods"])}
            table = table[table["method"].isin(order)].sort_values("method", key=lambda s: s.map(order), kind="stable")
        return table


def _expand(folder: Path, entry: Any, where: str) -> list[RunRef]:
    if isinstance(entry, dict):
        if "file" not in entry or set(entry) - {"file", "suffix"}:
            raise NovelbenchError(f"{where}: a run entry is a path or {{file = PATH, suffix = TEXT}}, not {entry}")
        return [RunRef(r.path, str(entry.get("suffix", ""))) for r in _expand(folder, entry["file"], where)]
    if not isinstance(entry, str):
        raise NovelbenchError(f"{where}: a run entry is a path or a set's name, not {entry!r}")
    if any(ch in entry for ch in "*?["):
        found = sorted(glob.glob(str(folder / entry)))
        if not found:
            raise NovelbenchError(f"{where}: no run table matches {entry}")
        return [RunRef(Path(p)) for p in found]
    path = folder / entry
    if not path.exists():
        raise NovelbenchError(f"{where}: run table {entry} not found (paths are relative to the spec's folder)")
    return [RunRef(path)]


def load(spec: Path) -> Page:
    """Read and check a spec: known block kinds and keys, every run table present."""
    import tomllib

    from novelbench.benchmark.page_blocks import BLOCKS

    spec = Path(spec)
    try:
        raw = tomllib.loads(spec.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NovelbenchError(f"no page spec at {spec}") from None
    except UnicodeDecodeError as exc:
        raise NovelbenchError(f"the page spec {spec} is not UTF-8 text (byte {exc.start}); TOML files are UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise NovelbenchError(f"{spec.name} is not valid TOML: {exc}") from None
    unknown = set(raw) - {"title", "runs", "block", "stability"}
    if unknown:
        raise NovelbenchError(f"{spec.name}: unknown top-level key(s) {', '.join(sorted(unknown))}; use title, runs, stability, block")
    check_types({k: raw[k] for k in ("title",) if k in raw}, spec.name)
    if not isinstance(raw.get("runs", {}), dict):
        raise NovelbenchError(f"{spec.name}: the top-level `runs` must be a table of run sets, [runs] name = [...]")
    blocks = raw.get("block", [])
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise NovelbenchError(f"{spec.name}: `block` must be [[block]] tables, not {blocks!r}")
    page = Page(spec, raw.get("title", ""), {}, blocks)
    for name, entries in raw.get("runs", {}).items():
        page.run_sets[name] = [r for e in (entries if isinstance(entries, list) else [entries])
                               for r in _expand(page.folder, e, f"{spec.name}: run set {name!r}")]
    if "stability" in raw:
        page.stability_runs = page.refs(raw["stability"], f"{spec.name}: stability")
    if not page.blocks:
        raise NovelbenchError(f"{spec.name}: no [[block]] entries")
    for i, block in enumerate(page.blocks):
        kind = block.get("kind")
        if kind is None:
            raise NovelbenchError(f"{page.where(i)}: no `kind` given; known: {', '.join(BLOCKS)}")
        check_types(block, page.where(i))
        if kind not in BLOCKS:
            raise NovelbenchError(f"{page.where(i)}: unknown block kind {kind!r}; known: {', '.join(BLOCKS)}")
        make, keys = BLOCKS[kind]
        extra = set(block) - keys - (COMMON_KEYS if kind != "prose" else {"kind"})
        if extra:
            raise NovelbenchError(f"{page.where(i)}: unknown key(s) {', '.join(sorted(extra))}")
        check_inputs(page, block, page.where(i))
    return page


def check_inputs(page: Page, block: dict[str, Any], where: str) -> None:
    """Before any work: the run tables and files a block reads exist, and every verdict row is well formed."""
    from novelbench.benchmark import verdict

    kind = block["kind"]
    reads_a_file = kind in ("prose", "csv", "verify-summary")  # not run tables
    if kind == "prose" and "text" not in block and "file" not in block:
        raise NovelbenchError(f"{where}: a prose block needs `text` or `file`")
    if "file" in block and not (page.folder / str(block["file"])).is_file() and reads_a_file:
        raise NovelbenchError(f"{where}: no file {block['file']} (paths are relative to the spec's folder)")
    if kind == "verdict":
        verdict.check(page, block, where)
    elif kind == "stability" and "runs" not in block:
        if not page.stability_runs:
            raise NovelbenchError(f"{where}: no `runs`, and the page names no `stability` runs")
    elif not reads_a_file:
        page.refs(block.get("runs"), where)


def render_markdown(page: Page, out_dir: Path | None) -> str:
    """The page as markdown; figures are written into ``out_dir`` (the page's folder; None: not drawn)."""
    from novelbench.benchmark.page_blocks import BLOCKS

    parts = [f"# {page.title}"] if page.title else []
    for i, block in enumerate(page.blocks):
        make, _ = BLOCKS[block["kind"]]
        where = page.where(i)
        try:
            parts.append(make(page, block, where, out_dir).strip())
        except NovelbenchError as exc:  # errors of the computations a block calls name the block too
            message = str(exc)
            raise NovelbenchError(message if message.startswith(where) else f"{where}: {message}") from None
    return "\n\n".join(p for p in parts if p) + "\n"


def write(page: Page, outs: list[Path]) -> list[Path]:
    """Write the page as each of ``outs`` (.md, or .html through the package's page template);
    figures go beside each, the page is computed once per folder."""
    from novelbench.benchmark.store import check_out_file

    for out in outs:
        if out.suffix not in (".md", ".html", ".htm"):
            raise NovelbenchError(f"--out {out}: the suffix decides the format, use .md or .html")
        check_out_file(out)
    texts: dict[Path, str] = {}
    for out in outs:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.parent not in texts:
            texts[out.parent] = render_markdown(page, out.parent)
        text = texts[out.parent]
        out.write_text(text if out.suffix == ".md" else render_html(page.title, text), encoding="utf-8")
    return list(outs)


def render_html(title: str, markdown: str) -> str:
    from markdown_it import MarkdownIt

    from novelbench.benchmark.report_page import _environment

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    return _environment().get_template("page.html.j2").render(title=title, body=body)
