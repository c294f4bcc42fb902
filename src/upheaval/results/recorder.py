"""Recording a run to disk: per-tick counts as Parquet, a JSON manifest, snapshots.

A run directory holds:

``manifest.json``
    What ran and how: scenario name and source, every parameter by ``section.key``,
    the timeline, the seed, package and library versions, timings, agent-steps per
    second, state bytes per agent, and ``status``: ``running``, ``complete`` or
    ``interrupted`` (with ``last_tick``, the last tick on disk, and ``reason``).
``ticks.parquet``
    One row per tick, the columns of :meth:`Simulation.table` (see
    :data:`upheaval.engine.simulation.COLUMNS`).
``snapshots.parquet``
    Only if snapshots were asked for: per-site occupant codes at chosen ticks
    (see :mod:`upheaval.results.snapshots`).

Data flows one way: the engine never imports this module. A :class:`Recorder` reads
the rows the simulation appends to ``sim.history``; give its :meth:`Recorder.on_tick`
to ``Simulation.run(on_tick=...)``. Rows are streamed as one Parquet row group every
``flush_every`` ticks. If the run is interrupted (Ctrl-C, an exception), leaving the
``with`` block writes every finished tick, closes the Parquet file cleanly and marks
the manifest ``interrupted``. A process killed outright (SIGKILL, power loss) cannot
close the file: its ``ticks.parquet`` has no footer and cannot be read.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import platform
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

from upheaval._version import __version__
from upheaval.engine.simulation import COLUMNS, FLOAT_COLUMNS
from upheaval.model.params import Params, parameter_fields
from upheaval.model.state import TALLY
from upheaval.results.snapshots import lattice_snapshot, snapshot_schema, snapshot_table
from upheaval.scenario.timeline import ActionEvent, RampEvent, SetEvent, TimelineEvent

if TYPE_CHECKING:
    import pyarrow as pa

    from upheaval.engine.simulation import Simulation

MANIFEST = "manifest.json"
TICKS = "ticks.parquet"
SNAPSHOTS = "snapshots.parquet"
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
def tick_schema() -> pa.Schema:
    """Schema of ``ticks.parquet``: ``framing`` and ``legitimacy`` float64, every other
    column int64."""
    import pyarrow as pa

    return pa.schema([(c, pa.float64() if c in FLOAT_COLUMNS else pa.int64()) for c in COLUMNS])


def _plain(value: Any) -> Any:
    """A JSON-safe value: infinities become the strings 'inf'/'-inf' (JSON has none)."""
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def parameters_by_location(params: Params) -> dict[str, Any]:
    """Every parameter as ``{"section.key": value}``, in registry order."""
    return {
        f"{f.metadata['section']}.{f.metadata['key']}": _plain(getattr(params, f.name))
        for f in parameter_fields()
    }


def _location(field_name: str) -> str:
    f = next(f for f in parameter_fields() if f.name == field_name)
    return f"{f.metadata['section']}.{f.metadata['key']}"


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
                }
            )
        elif isinstance(e, ActionEvent):
            # every field, defaults included: the manifest must say what was run
            out.append({"kind": "action", **{k: _plain(v) for k, v in asdict(e).items()}})
        else:
            raise TypeError(f"unknown timeline event {e!r}")
    return out


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
        import pyarrow.parquet as pq

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
        self._first_row = len(sim.history) - 1  # the row this recorder starts from
        self._written = 0  # rows of sim.history on disk
        self._agent_steps_sum = 0
        self._agent_steps_rows = self._first_row  # history rows counted in the sum so far
        self._last_tick: int | None = None
        self._snap_wanted = snap_ticks
        self._snap_done: list[int] = []
        self._schema = tick_schema()
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(self.out / TICKS, self._schema)
        self._snap_writer: pq.ParquetWriter | None = None
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
        if len(self.sim.history) - self._written >= self.flush_every:
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
                if self._writer is not None:
                    self._writer.close()
                    self._writer = None
                if self._snap_writer is not None:
                    self._snap_writer.close()
                    self._snap_writer = None
                self._closed = True
                self._write_manifest(finished=True)

    # -- internals --------------------------------------------------------------------
    def _flush(self) -> None:
        # Rows come straight from sim.history by index: whatever the simulation has
        # recorded is a finished tick, and the index makes a repeated flush harmless.
        rows = self.sim.history[self._written :]
        if rows and self._writer is not None:
            import pyarrow as pa

            cols = list(zip(*rows, strict=True))
            batch = pa.table(
                [pa.array(c, type=f.type) for c, f in zip(cols, self._schema, strict=True)],
                schema=self._schema,
            )
            self._writer.write_table(batch, row_group_size=len(rows))
            self._written += len(rows)
            self._last_tick = int(rows[-1][0])
            self._write_manifest()

    def _maybe_snapshot(self) -> None:
        t = self.sim.tick
        if t in self._snap_wanted and t not in self._snap_done:
            import pyarrow.parquet as pq

            with _signals_deferred():
                if self._snap_writer is None:
                    path = self.out / SNAPSHOTS
                    self._snap_writer = pq.ParquetWriter(path, snapshot_schema())
                self._snap_writer.write_table(snapshot_table(t, lattice_snapshot(self.sim)))
                self._snap_done.append(t)

    def _agent_steps(self) -> int:
        """Agent turns played by the ticks this recorder saw: the live agents (citizens
        of any status, cops) at the start of each tick, summed. Kept as a running sum
        so that a long run's manifest updates stay cheap."""
        end = len(self.sim.history) - 1  # the last row is the state after the last tick
        if end > self._agent_steps_rows:
            rows = self.sim.history[self._agent_steps_rows : end]
            live = np.asarray([r[1 : 1 + len(TALLY)] for r in rows], dtype=np.int64)
            self._agent_steps_sum += int(live.sum())
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
        first = int(sim.history[0][0]) if sim.history else None
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
            "variant": p.variant,
            "seed": p.seed,
            "seed_sequence": {
                "entropy": sim.seed_sequence.entropy,
                "spawn_key": list(sim.seed_sequence.spawn_key),
            },
            "steps_requested": self.steps,
            "ticks": {"first": first, "last": self._last_tick, "count": self._written},
            "parameters": parameters_by_location(p),
            "timeline": timeline_entries(sim.scenario.timeline),
            "columns": list(COLUMNS),
            "files": {
                "ticks": TICKS,
                "snapshots": SNAPSHOTS if self._snap_done else None,
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
    return manifest


def read_run(run_dir: str | Path) -> tuple[dict[str, Any], pa.Table]:
    """A run directory's manifest and per-tick table (``table.to_pandas()`` if pandas is
    installed; ``polars.from_arrow(table)``; or query ``ticks.parquet`` with DuckDB)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    manifest = read_manifest(run_dir)
    path = Path(run_dir) / TICKS
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as e:
        hint = (
            "; the run is still going or was killed before it could close the file"
            if manifest.get("status") == "running"
            else ""
        )
        raise RunDirectoryError(path, f"cannot read the ticks: {e}{hint}") from None
    return manifest, table


def read_snapshots(run_dir: str | Path) -> dict[int, dict[str, np.ndarray]]:
    """Tick → ``{"occupant", "group", "occupants"}``, each an array (height, width)."""
    import pyarrow.parquet as pq

    from upheaval.results.snapshots import snapshots_from_table

    manifest = read_manifest(run_dir)
    if not manifest["files"].get("snapshots"):
        return {}
    table = pq.read_table(Path(run_dir) / manifest["files"]["snapshots"])
    params = manifest["parameters"]
    return snapshots_from_table(table, params["world.width"], params["world.height"])
