"""Recording a run to disk: per-tick counts as Parquet, a JSON manifest, snapshots.

A finished run directory holds:

``manifest.json``
    What ran and how: scenario name and source, every parameter by ``section.key``,
    the timeline, the seed, package and library versions, timings, agent-steps per
    second, state bytes per agent, and ``status``: ``running``, ``complete`` or
    ``interrupted`` (with ``last_tick``, the last tick on disk, and ``reason``).
``ticks.parquet``
    One row per tick, the columns of :meth:`Simulation.table` (see
    :data:`upheaval.model.ticks.COLUMNS`; a country's with a ``place`` column), one
    row group per flush.
``snapshots.parquet``
    Only if snapshots were asked for: per-site occupant codes at chosen ticks
    (see :mod:`upheaval.results.snapshots`).
``links.parquet``
    Only in a country whose forces or activists travel (``transport.enabled`` or
    ``travel.enabled``): one row a link and tick from tick 1, the columns of
    :meth:`Simulation.links_table` (blocked, forces_on_link, travellers_on_link).
``units.parquet``
    Only in a run whose timeline brings named units (a ``reinforce``): the
    security forces by place and unit, one row a tick (from 0), place and unit,
    the columns of :meth:`Simulation.units_history` (on_duty, on_guard,
    in_transit).

While the run goes on, and after a run that was killed outright, the ticks are
instead in ``ticks/part-NNNNNN.parquet`` (and snapshots in
``snapshots/part-NNNNNN.parquet``, links in ``links/``, units in ``units/``): every
``flush_every`` ticks the rows not yet on disk are written as one complete Parquet
file under a temporary name, fsynced and renamed into place (the ticks' part, then
the same ticks' links and units), then the manifest is rewritten. A part is therefore either
whole or absent, whenever the process dies: a SIGKILL, the OOM killer or a power
cut loses at most the ticks since the last flush (fewer than ``flush_every``),
and everything before stays readable by :func:`read_run`, ``upheaval show`` and
``upheaval query``. The manifest may lag one part behind the parts on disk (it is
rewritten after the part), and the links and units one part behind the ticks (a
kill between their parts); readers go by the parts.

An orderly end (the run finishes, Ctrl-C, SIGTERM, an exception) writes every
finished tick and then merges the parts, in order, into ``ticks.parquet``: written
under a temporary name, fsynced, renamed into place, and only then are the parts
removed and the manifest finished (the links and units likewise, into
``links.parquet`` and ``units.parquet``). Whatever instant a kill comes, the
directory holds either ``ticks.parquet`` (complete: it appears only whole) or the
parts, and :func:`read_run` reads ``ticks.parquet`` if it exists, else the parts.
Run directories written before parts existed (one ``ticks.parquet`` streamed by a
single writer) read as before.

Data flows one way: the engine never imports this module. A :class:`Recorder` reads
the rows the simulation appends to each place's ``history``; give its
:meth:`Recorder.on_tick`
to ``Simulation.run(on_tick=...)``.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import platform
import shutil
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

from upheaval._version import __version__
from upheaval.model.params import Params, parameter
from upheaval.model.state import TALLY
from upheaval.model.ticks import COLUMNS, PLACE, agents_in, tick_schema, tick_table
from upheaval.model.timeline import ActionEvent, RampEvent, SetEvent, TimelineEvent
from upheaval.results.snapshots import lattice_snapshot, snapshot_schema, snapshot_table

if TYPE_CHECKING:
    import pyarrow as pa

    from upheaval.engine.simulation import Simulation

MANIFEST = "manifest.json"
TICKS = "ticks.parquet"
SNAPSHOTS = "snapshots.parquet"
#: Folders of the parts written while a run goes on (merged into TICKS, SNAPSHOTS).
TICK_PARTS = "ticks"
SNAPSHOT_PARTS = "snapshots"
#: A country's links and the forces by unit: final files and their parts' folders.
LINKS = "links.parquet"
LINK_PARTS = "links"
UNITS = "units.parquet"
UNIT_PARTS = "units"
#: The tables of a run directory :func:`read_run` reads: name → (file, parts' folder).
TABLES = {
    "ticks": (TICKS, TICK_PARTS),
    "links": (LINKS, LINK_PARTS),
    "units": (UNITS, UNIT_PARTS),
}
FIGURE = "timeseries.png"
FORMAT = "upheaval-run/1"
DEFAULT_FLUSH_EVERY = 100


class RunDirectoryError(ValueError):
    """A run directory that cannot be read or written: ``where`` is the path,
    ``reason`` what is wrong."""

    def __init__(self, where: str | Path, reason: str):
        self.where, self.reason = str(where), reason
        super().__init__(f"{where}: {reason}")


# -- what goes into a manifest -------------------------------------------------------
def _plain(value: Any) -> Any:
    """A JSON-safe value: infinities become the strings 'inf'/'-inf' (JSON has none)."""
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def parameters_by_location(params: Params) -> dict[str, Any]:
    """Every parameter as ``{"section.key": value}``, in registry order."""
    return {spec.location: _plain(value) for spec, value in params.items()}


def _location(name: str) -> str:
    return parameter(name).location


def timeline_entries(timeline: Iterable[TimelineEvent]) -> list[dict[str, Any]]:
    """The timeline as plain dicts, parameters named by ``section.key``."""
    out: list[dict[str, Any]] = []
    for e in timeline:
        if isinstance(e, SetEvent):
            out.append(
                {
                    "kind": "set",
                    "tick": e.tick,
                    "parameter": _location(e.param),
                    "value": _plain(e.value),
                    **_target(e),
                }
            )
        elif isinstance(e, RampEvent):
            out.append(
                {
                    "kind": "ramp",
                    "start": e.start,
                    "end": e.end,
                    "parameter": _location(e.param),
                    "value": _plain(e.value),
                    **_target(e),
                }
            )
        elif isinstance(e, ActionEvent):
            # every field, defaults included: the manifest must say what was run
            out.append({"kind": "action", **{k: _plain(v) for k, v in e.as_dict().items()}})
        else:
            raise TypeError(f"unknown timeline event {e!r}")
    return out


def country_record(country: Any) -> dict[str, Any] | None:
    """A country's places and links as plain data (what a manifest records)."""
    if country is None:
        return None
    from upheaval.scenario.country import country_tables

    return {"source": country.source, **country_tables(country, by_location=True)}


def _target(e: SetEvent | RampEvent) -> dict[str, str]:
    """The place or region an event targets, if any."""
    return {k: v for k, v in (("place", e.place), ("region", e.region)) if v}


def library_versions() -> dict[str, str]:
    import numba
    import pyarrow

    return {
        "upheaval": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "pyarrow": pyarrow.__version__,
    }


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    # Write then rename, so that an interruption never leaves half a manifest.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C (and a Python SIGTERM handler) while a row group is written or the
    files are closed, then deliver it: an interruption in the middle would write a
    row group twice or leave the Parquet file without its footer. Only the main
    thread may touch signal handlers; elsewhere nothing is deferred."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous: dict[int, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if callable(handler):
            previous[signum] = signal.signal(signum, lambda n, _frame: held.append(n))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in held[:1]:
            previous[signum](signum, None)


def prepare_run_directory(out: str | Path, overwrite: bool = False) -> Path:
    """Create ``out`` (and its parents), refusing to write into a non-empty directory.

    With ``overwrite``, a previous run's files are removed; a directory holding
    anything else (or another command's results) is still refused and nothing is
    removed, so that a mistyped ``--out`` cannot delete unrelated files (see
    :mod:`upheaval.results.directories`).
    """
    from upheaval.results.directories import RUN, claim

    path, _ = claim(out, RUN, overwrite=overwrite, error=RunDirectoryError, resume=False)
    return path


def links_schema() -> pa.Schema:
    """The columns of :meth:`Simulation.links_table` (``links.parquet``)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("tick", pa.int64()),
            ("link", pa.int64()),
            ("from", pa.string()),
            ("to", pa.string()),
            ("mode", pa.string()),
            ("blocked", pa.bool_()),
            ("forces_on_link", pa.int64()),
            ("travellers_on_link", pa.int64()),
        ]
    )


def units_schema() -> pa.Schema:
    """The columns of :meth:`Simulation.units_history` (``units.parquet``)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("tick", pa.int64()),
            ("place", pa.string()),
            ("unit", pa.string()),
            ("on_duty", pa.int64()),
            ("on_guard", pa.int64()),
            ("in_transit", pa.int64()),
        ]
    )


# -- crash-safe parts ---------------------------------------------------------------
def _write_atomically(path: Path, write: Any) -> None:
    """``write(tmp)``, fsync, then rename to ``path``: the file is whole or absent.

    The fsync is for power cuts (a renamed file whose data never reached the disk
    would be empty); a killed process needs only the rename. The directory is not
    fsynced: a power cut may then lose the last rename, that is, one flush window,
    which is what a flush window may lose anyway."""
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class _Parts:
    """Tables written as numbered, closed Parquet parts under ``out/folder`` and merged
    into ``out/final`` at the end (module docstring)."""

    def __init__(self, out: Path, folder: str, final: str, schema: pa.Schema):
        self.dir, self.final, self.schema = out / folder, out / final, schema
        self.count = 0

    def write(self, table: pa.Table) -> None:
        import pyarrow.parquet as pq

        self.dir.mkdir(exist_ok=True)
        path = self.dir / f"part-{self.count:06d}.parquet"
        _write_atomically(path, lambda tmp: pq.write_table(table, tmp))
        self.count += 1

    def merge(self, tables: Iterable[pa.Table] | None = None) -> bool:
        """Write the final file (one row group a part) and remove the parts; False if
        there were none. ``tables`` gives the parts' contents from memory, in order,
        to save reading the parts back (a long run may have thousands)."""
        import pyarrow.parquet as pq

        parts = part_files(self.dir)
        if not parts:
            return False
        if tables is None:
            tables = (pq.read_table(part, schema=self.schema) for part in parts)

        def write(tmp: Path) -> None:
            with pq.ParquetWriter(tmp, self.schema) as writer:
                for table in tables:
                    writer.write_table(table, row_group_size=max(1, table.num_rows))

        _write_atomically(self.final, write)
        # Only now may the parts go: until the rename above, they were the data.
        shutil.rmtree(self.dir, ignore_errors=True)
        return True


def part_files(folder: Path) -> list[Path]:
    """The complete parts in ``folder``, in the order they were written."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if p.name.startswith("part-") and p.suffix == ".parquet"
    )


# -- the recorder --------------------------------------------------------------------
class Recorder:
    """Streams one simulation's results into the run directory ``out``.

    Use it as a context manager and pass :meth:`on_tick` to ``Simulation.run``::

        sim = upheaval.Simulation(upheaval.load("epstein2002-run2"), seed=1)
        with Recorder("runs/demo", sim, snapshots=(0, 100)) as rec:
            sim.run(500, on_tick=rec.on_tick)

    Parameters
    ----------
    out : the run directory; created with its parents; must be empty unless
        ``overwrite`` (which replaces a previous run's files only).
    sim : the simulation to record. Its ``history`` so far is written too.
    snapshots : ticks at which to write a lattice snapshot (the current tick included).
    flush_every : ticks per Parquet row group; at most this many finished ticks live
        only in memory, and they are written on any orderly exit.
    steps : the number of ticks the caller means to run, recorded in the manifest.
    started : ``time.perf_counter()`` when the run began (default: now minus the
        simulation's initialisation time), for the manifest's wall time.
    """

    def __init__(
        self,
        out: str | Path,
        sim: Simulation,
        *,
        snapshots: Iterable[int] = (),
        flush_every: int = DEFAULT_FLUSH_EVERY,
        overwrite: bool = False,
        steps: int | None = None,
        started: float | None = None,
    ):
        if flush_every < 1:
            raise ValueError(f"flush_every must be at least 1, got {flush_every}")
        snap_ticks = sorted({int(t) for t in snapshots})
        if snap_ticks and snap_ticks[0] < 0:
            raise ValueError(f"snapshot ticks must be ≥ 0, got {snap_ticks[0]}")
        self.out = prepare_run_directory(out, overwrite)
        self.sim = sim
        self.flush_every = int(flush_every)
        self.steps = steps
        self.status = "running"
        self.reason: str | None = None
        self._started = (
            started if started is not None else time.perf_counter() - sim.timings["init_s"]
        )
        self._started_utc = _utc_now()
        self._step_s0 = sim.timings["step_s"]
        self._compile0 = (sim.timings["compile_s"], sim.timings["compile_agent_steps"])
        # Every place has one row a tick; the recorder counts ticks (rows of each
        # place's history), not rows.
        self._first_row = len(sim.places[0].history) - 1  # the row it starts from
        self._written = 0  # ticks of the places' histories on disk
        self._flushed: list[tuple[int, int]] = []  # the history rows of each part
        self._agent_steps_sum = 0
        self._agent_steps_rows = self._first_row  # history rows counted in the sum so far
        self._country = len(sim.places) > 1
        self._last_tick: int | None = None
        self._snap_wanted = snap_ticks
        self._snap_done: list[int] = []
        self._schema = tick_schema(with_place=self._country)
        self._ticks = _Parts(self.out, TICK_PARTS, TICKS, self._schema)
        self._snaps = _Parts(self.out, SNAPSHOT_PARTS, SNAPSHOTS, snapshot_schema())
        # a country's links, where forces or activists travel on them; the forces by
        # unit, where the simulation records them (named units on the timeline)
        p = sim.params
        self._links = (
            _Parts(self.out, LINK_PARTS, LINKS, links_schema())
            if sim.country is not None and (p.transport.enabled or p.travel.enabled)
            else None
        )
        self._units = (
            _Parts(self.out, UNIT_PARTS, UNITS, units_schema()) if sim.units_recorded else None
        )
        self._merged = False
        self._closed = False
        self._maybe_snapshot()
        self._write_manifest()

    # -- context manager --------------------------------------------------------------
    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        elif issubclass(exc_type, KeyboardInterrupt):
            self.close("interrupted", exc_type.__name__)
        else:
            self.close("interrupted", f"{exc_type.__name__}: {exc}")

    # -- recording --------------------------------------------------------------------
    def on_tick(self, sim: Simulation | None = None) -> None:
        """Record the ticks played since the last call; call it after every tick."""
        if self._closed:
            raise RuntimeError(f"recorder for {self.out} is closed")
        self._maybe_snapshot()
        if len(self.sim.places[0].history) - self._written >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Write the ticks not yet on disk as one row group; update the manifest."""
        with _signals_deferred():
            self._flush()

    def close(self, status: str = "complete", reason: str | None = None) -> None:
        """Write every finished tick, close the files and finish the manifest."""
        if self._closed:
            return
        with _signals_deferred():
            self.status, self.reason = status, reason
            try:
                self._flush()
            finally:
                self._closed = True
                # Merge even after a failed flush: the parts on disk are good.
                # The ticks' parts hold the histories in the ranges flushed: merged
                # from memory. Snapshots are not kept in memory: merged from their parts.
                self._ticks.merge(self._batch(a, b) for a, b in self._flushed)
                self._snaps.merge()
                for parts in (self._links, self._units):
                    if parts is not None:
                        parts.merge()
                self._merged = True
                self._write_manifest(finished=True)

    # -- internals --------------------------------------------------------------------
    def _flush(self) -> None:
        # Rows come straight from the places' histories by index: whatever the
        # simulation has recorded is a finished tick, and the index makes a repeated
        # flush harmless.
        end = len(self.sim.places[0].history)
        if end > self._written and not self._closed:
            self._ticks.write(self._batch(self._written, end))
            # the same ticks' links and units, after the ticks' part (module docstring)
            history = self.sim.places[0].history
            first, last = int(history[self._written].tick), int(history[end - 1].tick)
            for parts, table in (
                (self._links, self.sim.links_table),
                (self._units, self.sim.units_history),
            ):
                if parts is not None:
                    rows = table(first=first, last=last)
                    if rows.num_rows:
                        parts.write(rows)
            self._flushed.append((self._written, end))
            self._written = end
            self._last_tick = int(self.sim.places[0].history[end - 1].tick)
            self._write_manifest()

    def _batch(self, start: int, end: int) -> pa.Table:
        """Ticks ``start:end`` of every place's history as a tick table: a country's
        rows go tick by tick, place by place, with the ``place`` column."""
        places = self.sim.places
        blocks = [pl.history[start:end] for pl in places]
        rows = [row for tick_rows in zip(*blocks, strict=True) for row in tick_rows]
        names = [pl.name for _ in range(end - start) for pl in places] if self._country else None
        return tick_table(rows, names)

    def _maybe_snapshot(self) -> None:
        t = self.sim.tick
        if t in self._snap_wanted and t not in self._snap_done:
            with _signals_deferred():
                for place in self.sim.places:
                    self._snaps.write(snapshot_table(t, lattice_snapshot(place)))
                self._snap_done.append(t)

    def _agent_steps(self) -> int:
        """Agent turns played by the ticks this recorder saw: the live agents (citizens
        of any status, cops) at the start of each tick, summed. Kept as a running sum
        so that a long run's manifest updates stay cheap."""
        end = len(self.sim.places[0].history) - 1  # the last row: the state after the tick
        if end > self._agent_steps_rows:
            for place in self.sim.places:
                rows = place.history[self._agent_steps_rows : end]
                self._agent_steps_sum += sum(agents_in(r) for r in rows)
            self._agent_steps_rows = end
        return self._agent_steps_sum

    def manifest(self, finished: bool = False) -> dict[str, Any]:
        """The manifest as it stands (what :meth:`close` writes)."""
        sim, p = self.sim, self.sim.params
        step_s = sim.timings["step_s"] - self._step_s0
        compile_s = sim.timings["compile_s"] - self._compile0[0]
        agent_steps = self._agent_steps()
        # speed on the ticks that ran compiled code (the first call may compile)
        timed_steps = agent_steps - (sim.timings["compile_agent_steps"] - self._compile0[1])
        n_agents = sim.n_agents()
        state_bytes = sim.nbytes()
        history = sim.places[0].history
        first = int(history[0].tick) if history else None
        return {
            "format": FORMAT,
            "status": self.status,
            "reason": self.reason,
            "last_tick": self._last_tick,
            "scenario": {
                "name": sim.scenario.name,
                "description": sim.scenario.description,
                "source": sim.scenario.source,
            },
            "variant": p.model.variant,
            "seed": p.run.seed,
            "seed_sequence": {
                "entropy": sim.seed_sequence.entropy,
                "spawn_key": list(sim.seed_sequence.spawn_key),
            },
            "steps_requested": self.steps,
            "ticks": {"first": first, "last": self._last_tick, "count": self._written},
            "parameters": parameters_by_location(p),
            "timeline": timeline_entries(sim.scenario.timeline),
            "columns": [COLUMNS[0], PLACE, *COLUMNS[1:]] if self._country else list(COLUMNS),
            "places": [pl.name for pl in sim.places],
            "country": country_record(sim.country),
            "files": {
                "ticks": TICKS if self._merged else f"{TICK_PARTS}/",
                "snapshots": (SNAPSHOTS if self._merged else f"{SNAPSHOT_PARTS}/")
                if self._snap_done
                else None,
                # only where the run records them: a manifest's files are as before
                **({"links": LINKS if self._merged else f"{LINK_PARTS}/"} if self._links else {}),
                **({"units": UNITS if self._merged else f"{UNIT_PARTS}/"} if self._units else {}),
            },
            "snapshot_ticks": list(self._snap_done),
            "versions": library_versions(),
            "timings": {
                "init_s": sim.timings["init_s"],
                "steps_s": step_s,
                "compile_s": compile_s,
                "wall_s": time.perf_counter() - self._started,
            },
            "agent_steps": agent_steps,
            "agent_steps_per_second": timed_steps / step_s if step_s > 0 else None,
            "agents": n_agents,
            "state_bytes": state_bytes,
            "state_bytes_per_agent": state_bytes / n_agents if n_agents else None,
            "started_utc": self._started_utc,
            "finished_utc": _utc_now() if finished else None,
        }

    def _write_manifest(self, finished: bool = False) -> None:
        _write_json(self.out / MANIFEST, self.manifest(finished))


# -- reading back --------------------------------------------------------------------
def read_manifest(run_dir: str | Path) -> dict[str, Any]:
    """The manifest of a run directory; :class:`RunDirectoryError` if there is none."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise RunDirectoryError(run_dir, "no such directory")
    if not run_dir.is_dir():
        raise RunDirectoryError(run_dir, "not a directory")
    path = run_dir / MANIFEST
    if not path.is_file():
        raise RunDirectoryError(run_dir, f"not a run directory (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunDirectoryError(path, f"cannot read the manifest: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RunDirectoryError(path, f"not an upheaval run manifest (format {FORMAT!r})")
    _check_manifest(manifest, path)
    return manifest


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (isinstance(v, int | float) and not isinstance(v, bool)) or v in ("inf", "-inf")


#: What readers of a manifest rely on: dotted field, what it must be, a test.
_MANIFEST_FIELDS: tuple[tuple[str, str, Any], ...] = (
    ("status", "'running', 'complete' or 'interrupted'", lambda v: v in STATUSES),
    ("reason", "a string or null", lambda v: v is None or isinstance(v, str)),
    ("last_tick", "a whole number or null", lambda v: v is None or _is_int(v)),
    ("variant", "'I' or 'II'", lambda v: v in ("I", "II")),
    ("seed", "a whole number", _is_int),
    ("scenario", "a table", lambda v: isinstance(v, dict)),
    ("scenario.name", "a string", lambda v: isinstance(v, str)),
    ("scenario.description", "a string", lambda v: isinstance(v, str)),
    ("scenario.source", "a string", lambda v: isinstance(v, str)),
    ("ticks", "a table", lambda v: isinstance(v, dict)),
    ("ticks.count", "a whole number", _is_int),
    ("parameters", "a table", lambda v: isinstance(v, dict)),
    ("parameters.world.width", "a whole number", _is_int),
    ("parameters.world.height", "a whole number", _is_int),
    ("files", "a table", lambda v: isinstance(v, dict)),
    ("agent_steps_per_second", "a number or null", lambda v: v is None or _is_number(v)),
    ("state_bytes_per_agent", "a number or null", lambda v: v is None or _is_number(v)),
)
STATUSES = ("running", "complete", "interrupted")


def _check_manifest(manifest: dict[str, Any], path: Path) -> None:
    """Raise :class:`RunDirectoryError` naming the first field of the wrong type, so
    that a damaged or hand-edited manifest is a message, not a traceback."""
    for field, expected, ok in _MANIFEST_FIELDS:
        head, _, rest = field.partition(".")
        if head == "parameters" and rest:  # parameter names contain dots themselves
            table, key = manifest.get("parameters"), rest
        elif rest:
            table, key = manifest.get(head), rest
        else:
            table, key = manifest, head
        if not isinstance(table, dict) or key not in table:
            raise RunDirectoryError(path, f"field {field!r} is missing")
        if not ok(table[key]):
            raise RunDirectoryError(
                path, f"field {field!r} should be {expected}, got {table[key]!r}"
            )


def _read_table(run_dir: Path, final: str, folder: str, schema: pa.Schema | None) -> pa.Table:
    """``final`` if it exists (it is only ever renamed into place whole), else the
    parts in ``folder`` in order (module docstring)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = run_dir / final
    if path.exists():
        try:
            return pq.read_table(path)
        except (OSError, pa.ArrowException) as e:
            raise RunDirectoryError(
                path,
                f"cannot read: {e} (a run recorded before crash-safe parts, killed before "
                "it could close the file?)",
            ) from None
    tables = []
    for part in part_files(run_dir / folder):
        try:
            tables.append(pq.read_table(part))
        except (OSError, pa.ArrowException) as e:
            raise RunDirectoryError(part, f"cannot read: {e}") from None
    if not tables:
        if schema is None:
            raise RunDirectoryError(run_dir, f"no {final} and no parts in {folder}/")
        return schema.empty_table()
    return pa.concat_tables(tables)


def read_run(run_dir: str | Path, table: str = "ticks") -> tuple[dict[str, Any], pa.Table]:
    """A run directory's manifest and per-tick table (``table.to_pandas()``;
    ``polars.from_arrow(table)``; or ``upheaval query RUN_DIR "SELECT … FROM ticks"``).

    ``table="links"``: a country's links instead, one row a link and tick
    (``links.parquet``, :meth:`Simulation.links_table`); ``table="units"``: the
    security forces by place and unit, one row a tick, place and unit
    (``units.parquet``, :meth:`Simulation.units_history`). A run that recorded no
    such table (no travel on its links, no named units) gives it with no rows.

    A run still going, or killed, reads as far as its last flush."""
    if table not in TABLES:
        raise ValueError(f"table must be one of {', '.join(TABLES)}, got {table!r}")
    manifest = read_manifest(run_dir)
    if table == "links":
        return manifest, _read_table(Path(run_dir), LINKS, LINK_PARTS, links_schema())
    if table == "units":
        return manifest, _read_table(Path(run_dir), UNITS, UNIT_PARTS, units_schema())
    manifest_places = manifest.get("places") or [""]
    schema = tick_schema(with_place=len(manifest_places) > 1)
    ticks = _read_table(Path(run_dir), TICKS, TICK_PARTS, schema)
    return manifest, with_later_columns(ticks, Path(run_dir) / TICKS)


#: Columns a run recorded by an older upheaval may lack, each a mechanism added
#: since, with what that run's ticks held in its stead (exactly, not a guess: the
#: mechanism did not exist, so its counters were 0, the framing stayed 0 and a
#: place's control was its streets alone, docs/odd.md §12.4).
LATER_VALUES = ("framing", "control")


def with_later_columns(table: pa.Table, where: Path) -> pa.Table:
    """``table`` with every column of :data:`COLUMNS` (in order; ``place`` after
    ``tick`` in a country's): a mechanism's columns that a run recorded before the
    mechanism existed are added as that run had them (:data:`LATER_VALUES`, and
    the counters as 0). A table without the classic model's columns is no run's."""
    import pyarrow as pa

    from upheaval.model.mechanisms import MECHANISMS
    from upheaval.model.rules.sites import control_of

    later = {c for m in MECHANISMS for c in m.counters} | set(LATER_VALUES)
    missing = [c for c in COLUMNS if c not in table.column_names]
    if not missing:
        return table
    wrong = [c for c in missing if c not in later]
    if wrong:
        raise RunDirectoryError(where, f"not a run's ticks: no column {wrong[0]!r}")
    n = table.num_rows
    columns = {c: table.column(c) for c in table.column_names}
    for c in missing:
        if c == "control":
            columns[c] = pa.array(_streets_control(table, control_of), pa.float64())
        elif c == "framing":
            columns[c] = pa.array(np.zeros(n), pa.float64())
        else:
            columns[c] = pa.array(np.zeros(n, np.int64), pa.int64())
    names = list(COLUMNS)
    if PLACE in table.column_names:
        names.insert(1, PLACE)
    return pa.table({c: columns[c] for c in names})


def _streets_control(table: pa.Table, control_of: Any) -> np.ndarray:
    """Each row's control as a run without sites recorded it: 1 at a place's first
    row, then 1 − the active share at the end of the place's previous row."""
    ticks = np.asarray(table.column("tick"))
    places = (
        np.asarray(table.column(PLACE).to_pylist(), dtype=object)
        if PLACE in table.column_names
        else np.zeros(ticks.shape[0], dtype=object)
    )
    cols = {c: np.asarray(table.column(c)) for c in TALLY if c != "cops"}
    active = cols["active_blue"] + cols["active_green"]
    citizens = sum(cols.values())
    out = np.ones(ticks.shape[0])
    last: dict[Any, int] = {}
    for i in np.argsort(ticks, kind="stable"):
        j = last.get(places[i])
        if j is not None:
            out[i] = control_of(0.0, 0, 0, int(active[j]), int(citizens[j]))
        last[places[i]] = int(i)
    return out


def read_snapshots(run_dir: str | Path) -> dict[int, dict[str, np.ndarray]]:
    """Tick → ``{"occupant", "group", "occupants"}``, each an array (height, width)."""
    from upheaval.results.snapshots import snapshots_from_table

    manifest = read_manifest(run_dir)
    d = Path(run_dir)
    # By what is on disk, not by the manifest: after a kill it may lag one part behind.
    if not (d / SNAPSHOTS).exists() and not part_files(d / SNAPSHOT_PARTS):
        return {}
    table = _read_table(d, SNAPSHOTS, SNAPSHOT_PARTS, snapshot_schema())
    params = manifest["parameters"]
    return snapshots_from_table(table, params["world.width"], params["world.height"])
