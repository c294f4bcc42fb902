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
the rows the simulation appends to each place's ``history``; give its :meth:`Recorder.on_tick`
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
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

from upheaval._version import __version__
from upheaval.model.params import Params, parameter
from upheaval.model.ticks import COLUMNS, PLACE, agents_in, tick_schema, tick_table
from upheaval.model.timeline import ActionEvent, RampEvent, SetEvent, TimelineEvent
from upheaval.results.snapshots import lattice_snapshot, snapshot_schema, snapshot_table

if TYPE_CHECKING:
    import pyarrow as pa

    from upheaval.engine.simulation import Simulation

MANIFEST = "manifest.json"
TICKS = "ticks.parquet"
SNAPSHOTS = "snapshots.parquet"
FIGURE = "timeseries.png"
#: Every file a run directory may hold; ``overwrite`` replaces only these.
RUN_FILES = (MANIFEST, TICKS, SNAPSHOTS, FIGURE)
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
            out.append({"kind": "action", **{k: _plain(v) for k, v in e.as_dict().items()}})
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

    With ``overwrite``, a previous run's files (:data:`RUN_FILES`) are removed; a
    directory holding anything else is still refused, so that a mistyped ``--out``
    cannot delete unrelated files.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunDirectoryError(out, "exists and is not a directory")
    if out.is_dir():
        present = sorted(p.name for p in out.iterdir())
        if present and not overwrite:
            raise RunDirectoryError(
                out, "directory is not empty; choose another output directory or pass --force"
            )
        foreign = [n for n in present if n not in RUN_FILES and not n.endswith(".tmp")]
        if foreign:
            raise RunDirectoryError(
                out,
                f"holds files that are not a run's (e.g. {foreign[0]!r}); refusing to overwrite it",
            )
        for name in present:
            (out / name).unlink()
    out.mkdir(parents=True, exist_ok=True)
    return out


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
        # Every place has one row a tick; the recorder counts ticks, not rows.
        self._first_row = len(sim.places[0].history) - 1  # the row it starts from
        self._written = 0  # ticks of the places' histories on disk
        self._agent_steps_sum = 0
        self._agent_steps_rows = self._first_row  # history rows counted in the sum so far
        self._country = len(sim.places) > 1
        self._last_tick: int | None = None
        self._snap_wanted = snap_ticks
        self._snap_done: list[int] = []
        self._schema = tick_schema(with_place=self._country)
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
        # Rows come straight from the places' histories by index: whatever the
        # simulation has recorded is a finished tick, and the index makes a repeated
        # flush harmless. A country's rows go tick by tick, place by place.
        places = self.sim.places
        n = len(places[0].history) - self._written
        if n > 0 and self._writer is not None:
            blocks = [pl.history[self._written :] for pl in places]
            rows = [row for tick_rows in zip(*blocks, strict=True) for row in tick_rows]
            names = [pl.name for _ in range(n) for pl in places] if self._country else None
            batch = tick_table(rows, names)
            self._writer.write_table(batch, row_group_size=len(rows))
            self._written += n
            self._last_tick = int(rows[-1].tick)
            self._write_manifest()

    def _maybe_snapshot(self) -> None:
        t = self.sim.tick
        if t in self._snap_wanted and t not in self._snap_done:
            import pyarrow.parquet as pq

            with _signals_deferred():
                if self._snap_writer is None:
                    path = self.out / SNAPSHOTS
                    self._snap_writer = pq.ParquetWriter(path, snapshot_schema())
                for place in self.sim.places:
                    snap = lattice_snapshot(place)
                    self._snap_writer.write_table(snapshot_table(t, snap))
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
