"""One call from a scenario to a finished, recorded run: :func:`upheaval.run`."""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from upheaval.engine.simulation import Simulation
from upheaval.model.timeline import ActionEvent, RampEvent, first_tick
from upheaval.results.recorder import (
    DEFAULT_FLUSH_EVERY,
    Recorder,
    parameters_by_location,
    prepare_run_directory,
)
from upheaval.scenario.loading import apply_overrides, load
from upheaval.scenario.schema import Scenario


class TimelineWarning(UserWarning):
    """A timeline entry that the run will never reach."""


def late_timeline(scenario: Scenario, steps: int) -> list[str]:
    """A message for each timeline entry that starts after the last tick ``steps``
    (it would never happen), naming the scenario's file and the entry."""
    late = []
    for n, e in enumerate(scenario.timeline, start=1):
        tick = first_tick(e)
        if tick > steps:
            what = (
                e.action
                if isinstance(e, ActionEvent)
                else f"{'ramp' if isinstance(e, RampEvent) else 'set'} {e.param}"
            )
            late.append(
                f"{scenario.source}: timeline[{n}] ({what} at tick {tick}) comes after the "
                f"last tick {steps}; it never happens"
            )
    return late


def run(
    scenario_or_name: Scenario | str | Path,
    *,
    steps: int | None = None,
    seed: int | None = None,
    overrides: Mapping[str, Any] | list[str] | None = None,
    out: str | Path | None = None,
    snapshots: Iterable[int] = (),
    progress: bool = False,
    overwrite: bool = False,
    flush_every: int = DEFAULT_FLUSH_EVERY,
    on_tick: Callable[[Simulation], None] | None = None,
) -> Simulation:
    """run(scenario_or_name, *, steps=None, seed=None, overrides=None, out=None,
    snapshots=(), progress=False) -> Simulation

    Load a scenario, run it, and (if ``out`` is given) record it to a run directory.

    Parameters
    ----------
    scenario_or_name : a :class:`Scenario`, a preset name (see
        :func:`upheaval.preset_names`) or the path of a ``.toml`` scenario file.
    steps : ticks to run (default: the scenario's ``run.steps``).
    seed : root seed (default: the scenario's ``run.seed``).
    overrides : parameter changes, ``{"legitimacy": 0.8, "jail.max_jail_term": 40}``
        or ``["legitimacy=0.8"]`` as on the command line; validated like a file.
    out : a run directory to write ``manifest.json``, ``ticks.parquet`` and (with
        ``snapshots``) ``snapshots.parquet`` into, streamed while the run goes on;
        it must be empty unless ``overwrite``. See :mod:`upheaval.results.recorder`.
    snapshots : ticks at which to record the lattice (needs ``out``).
    progress : show a progress bar on stderr.
    overwrite : replace a previous run's files in ``out``.
    flush_every : ticks per flush to disk, one Parquet part each (how many finished
        ticks may live only in memory, and be lost if the process is killed outright).
    on_tick : called with the simulation after every tick (after recording).

    Returns the finished :class:`Simulation`. Its per-tick record is
    ``sim.table()``, a :class:`pyarrow.Table`; ``sim.table().to_pandas()`` gives a
    pandas DataFrame if pandas is installed (it is not a dependency), and
    ``polars.from_arrow(sim.table())`` a polars one. A run directory reads back with
    :func:`upheaval.results.read_run`.

    Raises :class:`upheaval.ScenarioError` for a bad scenario or override, and
    :class:`upheaval.results.RunDirectoryError` for an unusable ``out``. On Ctrl-C
    (``KeyboardInterrupt``) or an error, every finished tick is on disk and the
    manifest says ``"status": "interrupted"`` before the exception propagates.

    >>> import upheaval
    >>> sim = upheaval.run("epstein2002-run2", steps=20, seed=3)
    >>> sim.tick
    20
    """
    t0 = time.perf_counter()
    scenario = (
        scenario_or_name if isinstance(scenario_or_name, Scenario) else load(scenario_or_name)
    )
    if overrides:
        scenario = apply_overrides(
            scenario, list(overrides) if isinstance(overrides, list) else dict(overrides)
        )
    snapshots = tuple(snapshots)
    if snapshots and out is None:
        raise ValueError("snapshots are written to a run directory: give out=")
    run_params = parameters_by_location(scenario.params)
    if steps is None:
        steps = run_params["run.steps"]
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer):
        raise TypeError(f"steps must be a whole number, got {type(steps).__name__} {steps!r}")
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"steps must be ≥ 0, got {steps}")
    for message in late_timeline(scenario, steps):
        warnings.warn(message, TimelineWarning, stacklevel=2)
    if out is not None:
        # Claimed before anything is shown or built: a refused directory is an error
        # with nothing else printed, and nothing computed in vain.
        out = prepare_run_directory(out, overwrite)

    with contextlib.ExitStack() as stack:
        callbacks: list[Callable[[Simulation], None]] = []
        if progress:
            from upheaval.views.progress import progress_bar

            shown_seed = run_params["run.seed"] if seed is None else seed
            label = f"{scenario.name} seed {shown_seed}"
            # Entered before the Simulation is built: building it and its first tick
            # compile the kernels on a first run, which the bar's spinner says.
            bar = stack.enter_context(progress_bar(steps, label, scenario=scenario))
        sim = Simulation(scenario, seed=seed)
        if out is not None:
            rec = stack.enter_context(
                Recorder(
                    out,
                    sim,
                    snapshots=snapshots,
                    flush_every=flush_every,
                    steps=steps,
                    started=t0,
                )
            )
            callbacks.append(rec.on_tick)
        if progress:
            callbacks.append(bar)
        if on_tick is not None:
            callbacks.append(on_tick)

        def each_tick(s: Simulation) -> None:
            for cb in callbacks:
                cb(s)

        sim.run(steps, on_tick=each_tick if callbacks else None)
    return sim
