"""Running a sweep: batches of runs on any :class:`concurrent.futures.Executor`.

The default executor is a local process pool over all cores, started with an
explicit ``forkserver`` (or ``spawn``) context; nothing here changes global
multiprocessing settings. A Dask cluster (``distributed.Client(address)
.get_executor(pure=False)``) or a Ray cluster (:class:`RayExecutor`) plugs in
through the same interface (they need a filesystem shared with the driver, since
workers write the store's parts themselves).

Seeds: run ``(point, replicate)`` gets ``SeedSequence(entropy, spawn_key=(*root_key,
point, replicate))`` — the child that ``root.spawn`` would give for that point and
then that replicate. A run's random streams therefore depend only on the root seed
and the run's place in the design, never on batching, backend or worker count, and
results are bit-identical across all of them.

Runs are grouped into tasks (``batch_size`` runs each). A worker runs its task's
runs one after the other, catches each run's error (a failed run never kills the
sweep), writes one summaries part (and one ticks part with ``keep_ticks``) and
returns the runs' statuses; the driver appends them to the status log. See
:mod:`upheaval.experiments.store` for why this neither loses nor doubles a run.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import math
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from upheaval.experiments import store
from upheaval.experiments.designs import Design, design_json
from upheaval.experiments.summaries import METRICS, summarise
from upheaval.results import directories
from upheaval.results.outbursts import DEFAULT_THRESHOLD
from upheaval.scenario.schema import Scenario

#: Most runs one task holds: short enough that progress moves and a kill loses little.
MAX_BATCH = 256


def run_seed(root: np.random.SeedSequence, point: int, replicate: int) -> np.random.SeedSequence:
    """The seed of run ``(point, replicate)``: ``root.spawn``'s child for the point,
    then that child's child for the replicate, built directly."""
    return np.random.SeedSequence(
        root.entropy, spawn_key=(*root.spawn_key, point, replicate), pool_size=root.pool_size
    )


@dataclass(frozen=True)
class Task:
    """A batch of runs for one worker (pickled to it)."""

    task: int
    scenario: Scenario
    runs: tuple[tuple[int, int, dict[str, Any]], ...]  # (point, replicate, overrides)
    steps: int
    entropy: int
    root_key: tuple[int, ...]
    pool_size: int
    out: str
    columns: tuple[tuple[str, str], ...]  # factor columns and their Arrow type names
    threshold: int
    keep_ticks: bool


def execute_task(task: Task) -> list[dict[str, Any]]:
    """Run one task's runs (in a worker); write its parts; return each run's status."""
    import pyarrow as pa

    from upheaval.engine.simulation import Simulation
    from upheaval.scenario.loading import ScenarioError, apply_overrides

    root = np.random.SeedSequence(task.entropy, spawn_key=task.root_key, pool_size=task.pool_size)
    rows: list[dict[str, Any]] = []
    tick_tables = []
    statuses: list[dict[str, Any]] = []
    scenarios: dict[int, Scenario] = {}
    for point, replicate, overrides in task.runs:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            if point not in scenarios:
                for name, value in overrides.items():
                    if value is None:  # an empty cell of a design matrix
                        raise ScenarioError(f"design point {point}", name, "empty cell")
                try:
                    scenarios[point] = apply_overrides(task.scenario, dict(overrides))
                except ScenarioError as e:  # say which design point, not "--set"
                    raise ScenarioError(f"design point {point}", e.key, e.reason) from None
            ss = run_seed(root, point, replicate)
            sim = Simulation(scenarios[point], seed=ss).run(task.steps)
            table = sim.table()
            summary = summarise(table, task.threshold)
        except Exception as e:  # a run's failure is recorded, never raised
            statuses.append(
                {
                    "point": point,
                    "replicate": replicate,
                    "status": "failed",
                    "error": f"{type(e).__name__}: {e}",
                    "traceback": traceback.format_exc(limit=6),
                    "seconds": time.perf_counter() - t0,
                }
            )
            continue
        rows.append(
            {
                "point": point,
                "replicate": replicate,
                **{name: overrides[name] for name, _ in task.columns},
                "seed_entropy": str(task.entropy),
                "spawn_key": list(ss.spawn_key),
                **summary,
            }
        )
        if task.keep_ticks:
            n = table.num_rows
            table = table.add_column(0, "replicate", pa.array(np.full(n, replicate, np.int64)))
            table = table.add_column(0, "point", pa.array(np.full(n, point, np.int64)))
            tick_tables.append(table)
        statuses.append(
            {
                "point": point,
                "replicate": replicate,
                "status": "done",
                "seconds": time.perf_counter() - t0,
                # CPU time beside wall time: on a shared machine the gap is contention.
                "cpu_seconds": time.process_time() - c0,
            }
        )
    if rows:
        out = Path(task.out)
        name = store.part_name(task.task)
        table = pa.Table.from_pylist(rows, schema=store.summary_schema(task.columns))
        sha = store.write_part(table, out / store.SUMMARIES / name)
        ticks_part = ticks_sha = None
        if task.keep_ticks:
            ticks_sha = store.write_part(pa.concat_tables(tick_tables), out / store.TICKS / name)
            ticks_part = f"{store.TICKS}/{name}"
    rss = _peak_rss_mib()
    for s in statuses:
        if rss is not None:
            s["worker_peak_rss_mib"] = rss
    if rows:
        for s in statuses:
            if s["status"] == "done":
                s["part"] = f"{store.SUMMARIES}/{name}"
                s["part_sha256"] = sha
                if ticks_part:
                    s["ticks_part"] = ticks_part
                    s["ticks_part_sha256"] = ticks_sha
    return statuses


def _peak_rss_mib() -> float | None:
    """This worker process's peak resident memory so far, in MiB (None where unknown)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return round(peak / (2**20 if sys.platform == "darwin" else 1024), 1)


# -- executors ---------------------------------------------------------------------------


class SerialExecutor(cf.Executor):
    """Runs each task in the calling process when it is submitted (debugging, tests)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        f: cf.Future = cf.Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except BaseException as e:
            f.set_exception(e)
        return f


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; the driver handles it and stops the
    # pool, so a worker should not die mid-write with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def local_executor(workers: int | None = None) -> cf.ProcessPoolExecutor:
    """A process pool of ``workers`` (default: all cores) with its own start context."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    return cf.ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1, mp_context=ctx, initializer=_ignore_sigint
    )


@contextlib.contextmanager
def dask_executor(address: str | None = None) -> Iterator[cf.Executor]:
    """An executor on a Dask cluster (``address``; None starts a local cluster)."""
    try:
        from distributed import Client
    except ImportError:
        raise ImportError(
            "Dask support needs the [dask] extra: pip install 'upheaval[dask]'"
        ) from None
    client = Client(address) if address else Client(processes=True)
    try:
        executor = client.get_executor(pure=False)
        # How many tasks the cluster runs at once: the runner keeps twice that in flight.
        executor.slots = sum(client.nthreads().values()) or 1
        yield executor
    finally:
        client.close()


class RayExecutor(cf.Executor):
    """A :class:`concurrent.futures.Executor` over Ray tasks (``ray.init`` must have run)."""

    def __init__(self) -> None:
        import ray

        self._remote = ray.remote(_call)

    @property
    def slots(self) -> int:
        """CPUs in the Ray cluster: the runner keeps twice as many tasks in flight."""
        import ray

        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        return self._remote.remote(fn, args, kwargs).future()


def _call(fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    return fn(*args, **kwargs)


@contextlib.contextmanager
def ray_executor(address: str | None = None) -> Iterator[cf.Executor]:
    """An executor on a Ray cluster (``address``; None or "local" starts a local one)."""
    try:
        import ray
    except ImportError:
        raise ImportError(
            "Ray support needs the [ray] extra: pip install 'upheaval[ray]'"
        ) from None
    started = not ray.is_initialized()
    if started:
        local = address in (None, "local")
        ray.init(address=None if local else address, include_dashboard=False, log_to_driver=False)
    try:
        yield RayExecutor()
    finally:
        if started:
            ray.shutdown()


# -- the sweep ---------------------------------------------------------------------------


@dataclass
class SweepReport:
    """What a call to :func:`run_sweep` did."""

    out: Path
    total: int  # runs in the design
    already: int  # done before this call
    done: int  # finished by this call
    failed: int  # failed in this call
    seconds: float

    @property
    def complete(self) -> bool:
        return self.already + self.done == self.total


def _identity(
    scenario: Scenario, design: Design, steps: int, entropy: int, threshold: int, ticks: bool
) -> dict[str, Any]:
    from upheaval.results.recorder import parameters_by_location, timeline_entries

    return {
        "scenario": {
            "name": scenario.name,
            "parameters": parameters_by_location(scenario.params),
            "timeline": timeline_entries(scenario.timeline),
        },
        "design": json.loads(design_json(design)),
        "steps": steps,
        "seed_entropy": str(entropy),
        "threshold": threshold,
        "keep_ticks": ticks,
    }


def _prepare(out: Path, identity: dict[str, Any], design: Design) -> None:
    """Check a resumed sweep's identity, or write a new sweep's manifest and design."""
    from upheaval.results.recorder import library_versions

    if (out / store.MANIFEST).exists():
        old = store.read_manifest(out)
        for key, value in identity.items():
            if json.dumps(old.get(key), sort_keys=True) != json.dumps(value, sort_keys=True):
                raise store.StoreError(
                    out,
                    f"holds a different sweep ({key} differs); resume with the same "
                    "arguments, or use another --out or force=True",
                )
        return
    store.write_part(points_table(design), out / store.DESIGN)
    manifest = {
        "format": store.FORMAT,
        **identity,
        "n_runs": design.n_runs,
        "versions": library_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if design.samples is not None:
        manifest["samples"] = design.samples.tolist()
    # The manifest is the directory's marker (results/directories.py): written last,
    # whole, and renamed into place.
    tmp = out / f".{store.MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, default=str), "utf-8")
    os.replace(tmp, out / store.MANIFEST)


def _columns(design: Design) -> tuple[tuple[str, str], ...]:
    import pyarrow as pa

    cols = [
        (name, store.arrow_type_name(pa.array(values).type))
        for name, values in design.points.items()
    ]
    clash = {n for n, _ in cols} & (set(METRICS) | {"point", "replicate", "spawn_key"})
    if clash:
        raise ValueError(f"a factor is named like a summary column: {sorted(clash)}")
    return tuple(cols)


def default_batch_size(n_runs: int, workers: int) -> int:
    """About eight tasks per worker (load balance), at most :data:`MAX_BATCH` runs each."""
    return max(1, min(MAX_BATCH, math.ceil(n_runs / (8 * max(1, workers)))))


def run_sweep(
    scenario: Scenario,
    design: Design,
    out: str | Path,
    *,
    steps: int | None = None,
    seed: int | np.random.SeedSequence | None = None,
    executor: cf.Executor | None = None,
    workers: int | None = None,
    batch_size: int | None = None,
    keep_ticks: bool = False,
    threshold: int = DEFAULT_THRESHOLD,
    retry_failed: bool = False,
    force: bool = False,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> SweepReport:
    """Run every run of ``design`` not yet done in ``out``; returns a :class:`SweepReport`.

    ``executor`` defaults to :func:`local_executor` with ``workers`` processes (all
    cores); any :class:`concurrent.futures.Executor` works (``workers``, or the
    executor's ``slots`` attribute, sizes the tasks and how many are in flight).
    ``seed`` (default: the scenario's ``run.seed``) is the root of every run's seed.
    Calling it again with the same arguments resumes: runs the log says are done are
    skipped (failed ones too, unless ``retry_failed``). ``on_progress(done, failed,
    to_run)`` is called as tasks finish. Ctrl-C stops the sweep with every finished run on disk.

    >>> from upheaval import load
    >>> from upheaval.experiments import designs, run_sweep
    >>> d = designs.grid([designs.parse_factor("legitimacy=0.7:0.9")], levels=3, replicates=2)
    >>> report = run_sweep(load("epstein2002-run2"), d, "sweeps/demo", steps=50)  # doctest: +SKIP
    """
    out = Path(out).resolve()
    steps = scenario.params.run.steps if steps is None else int(steps)
    if steps < 1:
        raise ValueError(f"steps must be ≥ 1, got {steps}")
    root = (
        seed
        if isinstance(seed, np.random.SeedSequence)
        else np.random.SeedSequence(scenario.params.run.seed if seed is None else int(seed))
    )
    if not isinstance(root.entropy, int):
        raise ValueError("the root SeedSequence needs integer entropy")
    columns = _columns(design)
    identity = _identity(scenario, design, steps, root.entropy, threshold, keep_ticks)
    t0 = time.perf_counter()
    out, resuming = directories.claim(
        out,
        directories.SWEEP,
        overwrite=False,
        error=store.StoreError,
        resume=True,
        overwrite_hint="force=True",
    )
    with store.locked(out):
        if force and resuming:
            # Cleared under the lock, so that a sweep still running there is not
            # robbed of its files; the lock file itself stays (it is held).
            directories.clear(out, directories.SWEEP, store.StoreError, keep=(store.LOCK,))
        _prepare(out, identity, design)
        status = store.read_status(out)
        # Every part the log names must be as it was written (raises, naming it);
        # runs whose part has gone missing are run again.
        missing = store.verify_parts(out, status)
        for key, e in list(status.items()):
            if e.get("status") == "done" and (
                e.get("part") in missing or e.get("ticks_part") in missing
            ):
                del status[key]
        store.remove_orphans(out, status)
        skip = {"done", "failed"} if not retry_failed else {"done"}
        already = sum(1 for e in status.values() if e.get("status") == "done")
        todo = [
            (p, r)
            for p in range(design.n_points)
            for r in range(design.replicates)
            if status.get((p, r), {}).get("status") not in skip
        ]
        del status
        # An executor may say how many tasks it runs at once (``slots``: Dask, Ray).
        n_workers = workers or getattr(executor, "slots", None) or os.cpu_count() or 1
        size = batch_size or default_batch_size(len(todo), n_workers)
        log = store.StatusLog(out)
        counts = {"done": 0, "failed": 0}

        def tasks() -> Iterator[Task]:
            for i in range(0, len(todo), size):
                chunk = todo[i : i + size]
                yield Task(
                    task=i // size,
                    scenario=scenario,
                    runs=tuple((p, r, design.point(p)) for p, r in chunk),
                    steps=steps,
                    entropy=root.entropy,
                    root_key=tuple(root.spawn_key),
                    pool_size=root.pool_size,
                    out=str(out),
                    columns=columns,
                    threshold=threshold,
                    keep_ticks=keep_ticks,
                )

        def keep(entries: list[dict[str, Any]]) -> None:
            log.append(entries)
            for e in entries:
                counts[e["status"]] += 1

        def record(entries: list[dict[str, Any]]) -> None:
            keep(entries)
            if on_progress is not None:
                on_progress(counts["done"], counts["failed"], len(todo))

        owned = executor is None
        pool = local_executor(n_workers) if owned and todo else executor
        clean = False
        try:
            if todo:
                _drive(
                    pool,
                    tasks(),
                    record,
                    keep,
                    window=2 * n_workers,
                    owned=owned,
                    workers=n_workers,
                )
            clean = True
        finally:
            log.close()
            if owned and pool is not None:
                _stop(pool, wait=clean)
    return SweepReport(
        out=out,
        total=design.n_runs,
        already=already,
        done=counts["done"],
        failed=counts["failed"],
        seconds=time.perf_counter() - t0,
    )


def _failed(task: Task, error: BaseException) -> list[dict[str, Any]]:
    return [
        {
            "point": p,
            "replicate": r,
            "status": "failed",
            "error": f"{type(error).__name__}: {error}",
        }
        for p, r, _ in task.runs
    ]


def _drive(
    pool: cf.Executor,
    tasks: Iterator[Task],
    record: Callable[[list[dict[str, Any]]], None],
    keep: Callable[[list[dict[str, Any]]], None],
    *,
    window: int,
    owned: bool,
    workers: int,
) -> None:
    """Keep ``window`` tasks in flight; record each task's statuses as it finishes.

    On Ctrl-C (or SIGTERM), the tasks that have finished but are not yet recorded
    are logged with ``keep`` before the interruption goes on: their parts are
    written, so they are kept rather than deleted and redone on resume."""
    pending: dict[cf.Future, Task] = {}
    source = iter(tasks)
    holder = {"pool": pool}

    def fill() -> None:
        while len(pending) < window:
            task = next(source, None)
            if task is None:
                return
            pending[holder["pool"].submit(execute_task, task)] = task

    try:
        _drive_loop(pending, fill, record, holder, owned, workers)
    except KeyboardInterrupt:
        for fut in list(pending):
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                keep(fut.result())
                del pending[fut]
        if holder["pool"] is not pool:  # a replacement for a broken pool: ours to stop
            _stop(holder["pool"], wait=False)
        raise
    if holder["pool"] is not pool:
        _stop(holder["pool"], wait=True)


def _drive_loop(
    pending: dict[cf.Future, Task],
    fill: Callable[[], None],
    record: Callable[[list[dict[str, Any]]], None],
    holder: dict[str, cf.Executor],
    owned: bool,
    workers: int,
) -> None:
    from concurrent.futures.process import BrokenProcessPool

    fill()
    while pending:
        finished, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        broken = False
        for fut in finished:
            task = pending.pop(fut)
            try:
                record(fut.result())
            except BrokenProcessPool as e:
                # A worker died (killed, out of memory, a crash in native code): its
                # tasks are logged as failed and a fresh pool takes the rest.
                record(_failed(task, e))
                broken = True
            except Exception as e:
                record(_failed(task, e))
        if broken and owned:
            for fut, task in list(pending.items()):
                pending.pop(fut)
                record(_failed(task, RuntimeError("a worker process died during this task")))
            _stop(holder["pool"], wait=False)
            holder["pool"] = local_executor(workers)
        fill()


def _stop(pool: cf.Executor, wait: bool) -> None:
    if wait:
        pool.shutdown(wait=True)
        return
    pool.shutdown(wait=False, cancel_futures=True)
    # A process pool waits for its running tasks on exit; on Ctrl-C we do not want to,
    # and a task cut short leaves only an unlogged part that the next resume deletes.
    # (There is no public API to stop a pool's workers before Python 3.14.)
    procs = getattr(pool, "_processes", None) or {}
    for proc in list(procs.values()):
        with contextlib.suppress(Exception):
            proc.terminate()


def points_table(design: Design):
    """The design's points as an Arrow table (``point`` + one column per factor)."""
    import pyarrow as pa

    return pa.table(
        {"point": pa.array(np.arange(design.n_points), pa.int64())}
        | {name: pa.array(col) for name, col in design.points.items()}
    )


__all__ = [
    "RayExecutor",
    "SerialExecutor",
    "SweepReport",
    "Task",
    "dask_executor",
    "execute_task",
    "local_executor",
    "ray_executor",
    "run_seed",
    "run_sweep",
]
