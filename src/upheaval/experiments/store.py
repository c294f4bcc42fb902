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
    ``{"point", "replicate", "status": "done"|"failed", "part", "part_sha256",
    "ticks_part", "ticks_part_sha256", "error", "seconds", "time"}``. It is the
    commit record of the sweep.
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

Why a changed part is noticed: the log keeps each part's SHA-256, taken from the
bytes the worker wrote. Resuming checks every part the log names, and
:func:`connect` (hence ``upheaval query``, ``read_runs``, the sensitivity analysis)
checks every part it reads: a part changed since it was written (edited, forged,
truncated) is an error naming the part. A part that has gone missing is redone on
resume. Queries cannot change parts in the first place: :func:`connect` gives
DuckDB the parts as Arrow objects and disables its file access (see there).
Sweeps logged before checksums existed are read unchecked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from upheaval.experiments.summaries import METRICS

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


# -- the parts' schemas ---------------------------------------------------------------
def _arrow_type(name: str):
    import pyarrow as pa

    return {"int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}.get(name, pa.string())


def arrow_type_name(t: Any) -> str:
    """The store's name for an Arrow type of a factor column."""
    import pyarrow as pa

    if pa.types.is_integer(t):
        return "int64"
    if pa.types.is_floating(t):
        return "float64"
    if pa.types.is_boolean(t):
        return "bool"
    return "string"


def summary_schema(columns: tuple[tuple[str, str], ...]):
    """Schema of the summaries parts: keys, factors, seed, the summaries
    (:data:`~upheaval.experiments.summaries.METRICS`)."""
    import pyarrow as pa

    fields = [pa.field("point", pa.int64()), pa.field("replicate", pa.int64())]
    fields += [pa.field(n, _arrow_type(t)) for n, t in columns]
    fields += [pa.field("seed_entropy", pa.string()), pa.field("spawn_key", pa.list_(pa.int64()))]
    fields += [pa.field(n, _arrow_type(t)) for n, t in METRICS.items()]
    return pa.schema(fields)


def ticks_schema(with_place: bool = False):
    """Schema of the ticks parts: ``point``, ``replicate``, then the tick schema
    (upheaval.model.ticks)."""
    import pyarrow as pa

    from upheaval.model.ticks import tick_schema

    keys = [pa.field("point", pa.int64()), pa.field("replicate", pa.int64())]
    return pa.schema(keys + list(tick_schema(with_place)))


def part_name(task: int) -> str:
    """A part file name unique to one attempt at ``task``."""
    return f"part-{task:06d}-{uuid.uuid4().hex[:12]}.parquet"


def write_part(table: pa.Table, path: Path) -> str:
    """Write ``table`` to ``path`` atomically (a temporary file, fsynced, then renamed);
    returns the file's SHA-256, which the status log keeps to notice a later change."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    data = sink.getvalue().to_pybytes()
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()


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
    """The manifest of the sweep in ``out``; :class:`StoreError` if it is not a sweep."""
    from upheaval.results.directories import SWEEP, kind_of

    path = Path(out) / MANIFEST
    if not path.is_file():
        raise StoreError(out, "not a sweep directory (no manifest.json)")
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise StoreError(path, f"cannot read: {e}") from None
    if not SWEEP.is_marked(Path(out)):
        found = kind_of(out)
        what = f"a {found.name} directory" if found else "not an upheaval sweep manifest"
        raise StoreError(out, f"not a sweep directory ({what})")
    return manifest


# -- checksums --------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in blocks (ticks parts can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def changed_part(path: Path) -> StoreError:
    return StoreError(
        path,
        "changed after it was written (its SHA-256 differs from the one in status.jsonl); "
        "its results cannot be trusted: restore it, or delete it to have its runs redone "
        "when the sweep is run again",
    )


def missing_part(path: Path) -> StoreError:
    return StoreError(
        path,
        "missing, though status.jsonl says it holds finished runs; run the sweep again "
        "to redo them",
    )


def verify_parts(out: Path, status: dict[tuple[int, int], dict[str, Any]]) -> set[str]:
    """Check every part the log names against its logged SHA-256; returns the parts
    that are missing (their runs must be redone). Raises :func:`changed_part`."""
    expected: dict[str, str | None] = {}
    for e in status.values():
        if e.get("status") != "done":
            continue
        for field in ("part", "ticks_part"):
            if e.get(field):
                expected.setdefault(e[field], e.get(f"{field}_sha256"))
    missing = set()
    for rel, digest in sorted(expected.items()):
        path = out / rel
        if not path.is_file():
            missing.add(rel)
        elif digest is not None and sha256_file(path) != digest:
            raise changed_part(path)
    return missing


# -- querying ---------------------------------------------------------------------------

#: Statements a query may run (DuckDB statement types): reading, and explaining a read.
READ_STATEMENTS = ("SELECT", "EXPLAIN")


class QueryError(ValueError):
    """A query that is not allowed or fails: ``reason`` says why."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"query: {reason}")


def _key(table: pa.Table):
    """One int64 per row standing for (point, replicate)."""
    import pyarrow.compute as pc

    return pc.add(
        pc.multiply(table.column("point").cast("int64"), 1 << 32),
        table.column("replicate").cast("int64"),
    )


def _committed_runs(
    out: Path, status: dict[tuple[int, int], dict[str, Any]], verify: bool
) -> tuple[pa.Table | None, dict[str, bool]]:
    """Every committed run's summary row, each from the part its last log line names,
    and for each part whether it holds only such rows (``clean``)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    by_part: dict[str, list[tuple[int, int]]] = {}
    digest: dict[str, str | None] = {}
    for (p, r), e in sorted(status.items()):
        if e.get("status") == "done" and e.get("part"):
            by_part.setdefault(e["part"], []).append((p, r))
            digest[e["part"]] = e.get("part_sha256")
    tables, clean = [], {}
    for rel, keys in sorted(by_part.items()):
        path = out / rel
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise missing_part(path) from None
        if verify and digest[rel] is not None and hashlib.sha256(data).hexdigest() != digest[rel]:
            raise changed_part(path)
        t = pq.read_table(pa.BufferReader(data))
        wanted = pa.array([(p << 32) + r for p, r in keys], pa.int64())
        keep = pc.is_in(_key(t), value_set=wanted)
        clean[rel] = bool(pc.all(keep).as_py()) if t.num_rows else True
        tables.append(t if clean[rel] else t.filter(keep))
    if not tables:
        return None, clean
    return pa.concat_tables(tables, promote_options="default"), clean


def _ticks_source(out: Path, status: dict, clean: dict[str, bool], verify: bool):
    """The committed ticks parts as one Arrow object DuckDB can scan (None if none)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    by_part: dict[str, list[tuple[int, int]]] = {}
    digest: dict[str, str | None] = {}
    summary_of: dict[str, str] = {}
    for (p, r), e in sorted(status.items()):
        if e.get("status") == "done" and e.get("ticks_part"):
            by_part.setdefault(e["ticks_part"], []).append((p, r))
            digest[e["ticks_part"]] = e.get("ticks_part_sha256")
            summary_of[e["ticks_part"]] = e.get("part", "")
    if not by_part:
        return None
    whole, fixed = [], []
    for rel, keys in sorted(by_part.items()):
        path = out / rel
        if not path.is_file():
            raise missing_part(path)
        if verify and digest[rel] is not None and sha256_file(path) != digest[rel]:
            raise changed_part(path)
        # A ticks part holds the same runs as the summaries part of its task: if that
        # one holds only committed rows, so does this one, and it is scanned in place.
        if clean.get(summary_of[rel], False):
            whole.append(str(path))
        else:
            t = pq.read_table(path)
            wanted = pa.array([(p << 32) + r for p, r in keys], pa.int64())
            fixed.append(t.filter(pc.is_in(_key(t), value_set=wanted)))
    sources = []
    if whole:
        sources.append(ds.dataset(whole, format="parquet"))
    if fixed:
        sources.append(ds.dataset(pa.concat_tables(fixed)))
    return sources[0] if len(sources) == 1 else ds.dataset(sources)


def _sweep_views(con: duckdb.DuckDBPyConnection, out: Path, verify: bool) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    manifest = read_manifest(out)
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
    con.register("_design", pq.read_table(out / DESIGN))
    con.execute("CREATE VIEW design AS SELECT * FROM _design")
    runs, clean = _committed_runs(out, status, verify)
    # No finished run yet: an empty view with the right columns, so that queries still
    # parse and name the columns they would find.
    con.register("_runs", runs if runs is not None else _empty_runs(out))
    con.execute("CREATE VIEW runs AS SELECT * FROM _runs")
    if manifest.get("keep_ticks"):
        ticks = _ticks_source(out, status, clean, verify)
        con.register("_ticks", ticks if ticks is not None else _empty_ticks())
        con.execute("CREATE VIEW ticks AS SELECT * FROM _ticks")


def _empty_ticks() -> pa.Table:
    import pyarrow as pa

    from upheaval.results.recorder import tick_schema

    keys = [pa.field("point", pa.int64()), pa.field("replicate", pa.int64())]
    return pa.schema(keys + list(tick_schema())).empty_table()


def _run_views(con: duckdb.DuckDBPyConnection, out: Path) -> None:
    """A run directory's ``ticks`` (and ``snapshots``, ``links``, ``units`` where it
    has them), finished or killed."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    from upheaval.results import recorder as rec

    rec.read_manifest(out)
    for final, folder, view, schema in (
        (rec.TICKS, rec.TICK_PARTS, "ticks", rec.tick_schema()),
        (rec.SNAPSHOTS, rec.SNAPSHOT_PARTS, "snapshots", None),
        (rec.LINKS, rec.LINK_PARTS, "links", None),
        (rec.UNITS, rec.UNIT_PARTS, "units", None),
    ):
        files = [out / final] if (out / final).exists() else rec.part_files(out / folder)
        if not files and schema is None:
            continue
        try:
            source = ds.dataset([str(f) for f in files], format="parquet") if files else None
        except (OSError, pa.ArrowException) as e:
            raise rec.RunDirectoryError(files[0], f"cannot read: {e}") from None
        con.register(f"_{view}", source if source is not None else schema.empty_table())
        con.execute(f"CREATE VIEW {view} AS SELECT * FROM _{view}")


def connect(
    out: str | Path,
    database: str = ":memory:",
    *,
    confined: bool = True,
    verify: bool = True,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a sweep's (or a run's) tables as views.

    Sweep views: ``runs`` (one row per finished run: point, replicate, factors, spawn
    key, summaries), ``ticks`` (per-tick rows, if the sweep kept them), ``design``
    (one row per point), ``status`` (the last log line of every run: point,
    replicate, status, error, seconds) and ``failed`` (the failed runs). A run
    directory (``upheaval run``) gives ``ticks`` and, if it has them, ``snapshots``,
    ``links`` (a country's, where forces or activists travel) and ``units`` (the
    forces by place and unit, where the timeline brings named units);
    a run still going, or killed, gives every tick flushed so far.

    The views are Arrow objects made here, so DuckDB itself needs no file access:
    with ``confined`` (the default) the connection is made read-only and confined
    to these results — external access disabled (no other file can be read,
    written, globbed, attached or exported), extensions neither installed nor
    loaded, no scans of Python variables, and the configuration locked so that no
    query can undo it. Pass ``confined=False`` for a connection without these
    limits (e.g. to ``COPY`` a result to a file).

    With ``verify`` (the default), every part is checked against the SHA-256 the
    status log recorded when it was written: a part changed since raises
    :class:`StoreError` naming it. Checking reads every part once per call.
    """
    import duckdb

    from upheaval.results.directories import CALIBRATION, COMPARISON, RUN, kind_of

    out = Path(out)
    if not out.exists():
        raise StoreError(out, "no such directory")
    if not out.is_dir():
        raise StoreError(out, "not a directory")
    kind = kind_of(out)
    if kind is CALIBRATION:
        raise StoreError(
            out, f"a calibration directory; query one of its sweeps, e.g. {out / 'gen-00/round-00'}"
        )
    if kind is COMPARISON:
        raise StoreError(
            out,
            f"a comparison directory; query one of its sweeps, e.g. {out / 'variants/baseline'}",
        )
    if kind is None:
        raise StoreError(out, "not a sweep directory nor a run directory (no manifest.json)")
    config: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if confined:
        config["python_enable_replacements"] = False
    con = duckdb.connect(database, config=config)
    try:
        if kind is RUN:
            _run_views(con, out)
        else:
            _sweep_views(con, out, verify)
        if confined:
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def _empty_runs(out: Path) -> pa.Table:
    import pyarrow.parquet as pq

    design = pq.read_schema(out / DESIGN)
    columns = tuple((f.name, arrow_type_name(f.type)) for f in design if f.name != "point")
    return summary_schema(columns).empty_table()


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise :class:`QueryError` unless every statement of ``sql`` only reads."""
    import duckdb

    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as e:
        raise QueryError(" ".join(str(e).split())) from None
    if not statements:
        raise QueryError("no statement")
    for st in statements:
        kind = getattr(st.type, "name", str(st.type))
        if kind not in READ_STATEMENTS:
            raise QueryError(
                f"only reading statements (SELECT, EXPLAIN …) are allowed; "
                f"this one is {kind}: {st.query.strip()[:60]!r}"
            )


def explain_error(e: Exception, con: duckdb.DuckDBPyConnection) -> QueryError:
    """A DuckDB error in words a user can act on."""
    import re

    text = " ".join(str(e).split())
    if "Permission Error" in text or "disabled" in text:
        return QueryError(
            f"{text} — a query reads only the results it was given: other files, "
            "writing files, ATTACH and extensions are disabled"
        )
    missing = re.search(r"Table with name (\w+) does not exist", text)
    if missing:
        views = [
            r[0]
            for r in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        ]
        name = missing.group(1)
        if name == "ticks" and "runs" in views:
            return QueryError(
                "this sweep kept no per-tick rows, so it has no ticks view; run the "
                "sweep with --ticks to keep them (views: " + ", ".join(sorted(views)) + ")"
            )
        return QueryError(f"no table or view {name!r}; the views are {', '.join(sorted(views))}")
    return QueryError(text)


def query(out: str | Path, sql: str, *, confined: bool = True) -> pa.Table:
    """Run ``sql`` over the sweep (or run) in ``out`` (views as in :func:`connect`);
    an Arrow table. Confined and read-only unless ``confined=False``: a statement that
    is not a read raises :class:`QueryError`."""
    import duckdb

    con = connect(out, confined=confined)
    try:
        if confined:
            check_read_only(con, sql)
        try:
            rel = con.sql(sql)
            if rel is None:  # a statement without a result (SET, CREATE …)
                import pyarrow as pa

                return pa.table({})
            # DuckDB 2 renamed arrow() (a Table in 1.x) to to_arrow_table().
            fetch = getattr(rel, "to_arrow_table", None) or rel.arrow
            return fetch()
        except duckdb.Error as e:
            raise explain_error(e, con) from None
    finally:
        con.close()


def read_runs(out: str | Path) -> pa.Table:
    """Every finished run's summary row, ordered by point and replicate."""
    return query(out, "SELECT * FROM runs ORDER BY point, replicate")
