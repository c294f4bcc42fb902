"""The sweep store: Parquet parts, a manifest, an append-only status log.

A sweep directory holds:

``manifest.json``
    The scenario (every parameter by ``section.key``, the timeline), the design,
    the root seed's entropy, the steps and the library versions. Written once; a
    rerun into the same directory must describe the same sweep.
``design.parquet``
    One row per design point: ``point`` and one column per factor.
``status.jsonl``
    The append-only status log, one JSON object a line:
    ``{"point", "replicate", "status": "done"|"failed", "part", "ticks_part",
    "error", "seconds", "time"}``. It is the commit record of the sweep.
``summaries/part-TTTTTT-XXXXXXXX.parquet``
    One part per task (a batch of runs): a summary row per finished run
    (:data:`upheaval.experiments.summaries.METRICS`), with ``point``,
    ``replicate``, the factor values and the run's ``spawn_key``.
``ticks/part-…parquet``
    Only with ``keep_ticks``: the per-tick rows of each run, keyed the same way.

Why no run is lost or doubled: a worker writes each part under a temporary name
and renames it into place (atomic on one filesystem); only after that does the
driver append the runs' ``done`` lines to the log (flushed and fsynced). A part
name is unique to the task attempt that wrote it. Readers take a run's row only
from the part its *last* log line names, so a part written by an attempt that was
killed before its log lines were appended is never read (and is deleted when the
sweep resumes), and a run is never read twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

MANIFEST = "manifest.json"
DESIGN = "design.parquet"
STATUS = "status.jsonl"
SUMMARIES = "summaries"
TICKS = "ticks"
LOCK = ".lock"
#: The manifest's ``format``: marks the directory as a sweep (results/directories.py).
FORMAT = "upheaval-sweep/1"


class StoreError(ValueError):
    """A sweep directory that cannot be used: ``path`` and the reason."""

    def __init__(self, path: str | Path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


def part_name(task: int) -> str:
    """A part file name unique to one attempt at ``task``."""
    return f"part-{task:06d}-{uuid.uuid4().hex[:12]}.parquet"


def write_part(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` atomically: a temporary file, fsynced, then renamed."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_status(out: str | Path) -> dict[tuple[int, int], dict[str, Any]]:
    """The last status line of every run in the log, by ``(point, replicate)``.

    A torn last line (the machine lost power while appending it) is ignored: its
    run counts as not done and runs again.
    """
    path = Path(out) / STATUS
    latest: dict[tuple[int, int], dict[str, Any]] = {}
    if not path.exists():
        return latest
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                entry = json.loads(line)
                key = (int(entry["point"]), int(entry["replicate"]))
            except (ValueError, KeyError, TypeError):
                continue
            latest[key] = entry
    return latest


class StatusLog:
    """Appends run statuses to ``status.jsonl`` (the driver is the only writer)."""

    def __init__(self, out: Path):
        path = Path(out) / STATUS
        torn = False
        if path.exists() and path.stat().st_size:
            with open(path, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                torn = fh.read(1) != b"\n"
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115
        if torn:
            # End a line torn by a crash, so that the next entry starts a line of its own
            # (the torn one stays unreadable and is skipped by read_status).
            self._fh.write("\n")

    def append(self, entries: Iterable[dict[str, Any]]) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        text = "".join(json.dumps({**e, "time": now}, default=str) + "\n" for e in entries)
        self._fh.write(text)
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the sweep directory (two sweeps must not share one)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; one sweep per directory is on the user
        yield
        return
    fh = open(out / LOCK, "w")  # noqa: SIM115
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(out, "another sweep is running in this directory") from None
        yield
    finally:
        fh.close()


def remove_orphans(out: Path, status: dict[tuple[int, int], dict[str, Any]]) -> int:
    """Delete parts (and temporary files) that no log line names; returns how many."""
    named = {e.get("part") for e in status.values()} | {
        e.get("ticks_part") for e in status.values()
    }
    removed = 0
    for sub in (SUMMARIES, TICKS):
        d = out / sub
        if not d.is_dir():
            continue
        for p in d.iterdir():
            if f"{sub}/{p.name}" not in named:
                p.unlink()
                removed += 1
    return removed


def read_manifest(out: str | Path) -> dict[str, Any]:
    path = Path(out) / MANIFEST
    if not path.is_file():
        raise StoreError(out, "not a sweep directory (no manifest.json)")
    try:
        return json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as e:
        raise StoreError(path, f"not valid JSON: {e}") from None


def _committed(out: Path, kind: str) -> tuple[list[str], list[tuple[int, int, str]]]:
    """Part files holding committed runs, and (point, replicate, file) of each run."""
    field = "part" if kind == SUMMARIES else "ticks_part"
    runs = [
        (p, r, str((out / e[field]).resolve()))
        for (p, r), e in sorted(read_status(out).items())
        if e.get("status") == "done" and e.get(field)
    ]
    files = sorted({f for _, _, f in runs})
    return files, runs


def connect(out: str | Path, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the sweep's tables as views, read in place.

    Views: ``runs`` (one row per finished run: point, replicate, factors, spawn key,
    summaries), ``ticks`` (per-tick rows, if the sweep kept them), ``design``
    (one row per point), ``status`` (the last log line of every run: point,
    replicate, status, error, seconds) and ``failed`` (the failed runs).
    """
    import duckdb
    import pyarrow as pa

    out = Path(out)
    read_manifest(out)
    con = duckdb.connect(database)
    status = read_status(out)
    status_rows = [
        {
            "point": p,
            "replicate": r,
            "status": e.get("status"),
            "error": e.get("error"),
            "seconds": e.get("seconds"),
        }
        for (p, r), e in sorted(status.items())
    ]
    status_table = pa.Table.from_pylist(
        status_rows,
        schema=pa.schema(
            [
                ("point", pa.int64()),
                ("replicate", pa.int64()),
                ("status", pa.string()),
                ("error", pa.string()),
                ("seconds", pa.float64()),
            ]
        ),
    )
    con.register("_status", status_table)
    con.execute("CREATE VIEW status AS SELECT * FROM _status")
    con.execute("CREATE VIEW failed AS SELECT * FROM _status WHERE status = 'failed'")
    con.execute(f"CREATE VIEW design AS SELECT * FROM read_parquet({_sql_str(out / DESIGN)})")
    for kind, view in ((SUMMARIES, "runs"), (TICKS, "ticks")):
        files, runs = _committed(out, kind)
        if not files:
            if kind == SUMMARIES:
                # No finished run yet: an empty view with the right columns, so that
                # queries still parse and name the columns they would find.
                con.register("_no_runs", _empty_runs(out))
                con.execute("CREATE VIEW runs AS SELECT * FROM _no_runs")
            continue
        done = pa.table(
            {
                "point": pa.array([p for p, _, _ in runs], pa.int64()),
                "replicate": pa.array([r for _, r, _ in runs], pa.int64()),
                "file": pa.array([f for _, _, f in runs], pa.string()),
            }
        )
        con.register(f"_done_{view}", done)
        listed = ", ".join(_sql_str(f) for f in files)
        # The join keeps each run's row from the part its last log line names only.
        con.execute(
            f"CREATE VIEW {view} AS SELECT s.* EXCLUDE (filename) "
            f"FROM read_parquet([{listed}], filename = true) s "
            f"JOIN _done_{view} d ON s.point = d.point AND s.replicate = d.replicate "
            f"AND s.filename = d.file"
        )
    return con


def _empty_runs(out: Path) -> pa.Table:
    import pyarrow.parquet as pq

    from upheaval.experiments.runner import arrow_type_name, summary_schema

    design = pq.read_schema(out / DESIGN)
    columns = tuple((f.name, arrow_type_name(f.type)) for f in design if f.name != "point")
    return summary_schema(columns).empty_table()


def _sql_str(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def query(out: str | Path, sql: str) -> pa.Table:
    """Run ``sql`` over the sweep in ``out`` (views as in :func:`connect`); an Arrow table."""
    con = connect(out)
    try:
        rel = con.sql(sql)
        if rel is None:  # a statement without a result (SET, CREATE …)
            import pyarrow as pa

            return pa.table({})
        # DuckDB 2 renamed arrow() (a Table in 1.x) to to_arrow_table().
        fetch = getattr(rel, "to_arrow_table", None) or rel.arrow
        return fetch()
    finally:
        con.close()


def read_runs(out: str | Path) -> pa.Table:
    """Every finished run's summary row, ordered by point and replicate."""
    return query(out, "SELECT * FROM runs ORDER BY point, replicate")
