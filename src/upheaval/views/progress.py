"""Progress on stderr, one implementation for every command.

* :func:`progress_bar` — the ticks of one run (``upheaval run``), with a spinner
  while the engine starts: the first run after an install compiles the kernels
  (about a minute), and the bar alone would sit at 0 with no word why.
* :class:`RunsProgress` — runs done of a sweep, a comparison or a calibration
  round, with failures and the time left.

Both draw nothing until there is something to show, so a command that fails on
its arguments prints its one-line error and nothing else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from upheaval.engine.simulation import Simulation
    from upheaval.scenario.schema import Scenario

#: Shown while the engine starts, when its kernels are not in numba's cache yet.
COMPILING = "compiling the engine (first run only; cached afterwards)…"
STARTING = "starting the engine…"


def engine_cached(scenario: Scenario) -> bool | None:
    """Whether numba's on-disk cache holds the step kernels a run of ``scenario``
    calls, for this source (so a new process loads them in a second or two instead of
    compiling them); None where that cannot be told."""
    try:
        from upheaval.engine.simulation import step_kernels

        # numba keeps no public way to ask; its cache index for a kernel is empty or
        # stale (another source) exactly when the next call compiles. Each kernel
        # step_for gives (a classic copy, the generic step) has its own index.
        return all(bool(k._cache._cache_file._load_index()) for k in step_kernels(scenario))
    except Exception:  # a numba without these internals: say nothing either way
        return None


def _console():
    from rich.console import Console

    return Console(stderr=True)


@contextlib.contextmanager
def progress_bar(
    total: int,
    description: str,
    *,
    warming_up: bool = True,
    scenario: Scenario | None = None,
) -> Iterator[Callable[[Simulation], None]]:
    """Show a bar over ``total`` ticks; yields the ``on_tick`` callback that advances it.

    Enter it before building the :class:`Simulation` (building it compiles or loads
    the initialisation kernels, the first tick the step kernel): until the first tick
    is done, a spinner row says the engine is starting, or compiling if numba's
    cache does not hold it yet (for ``scenario``'s kernels; said unless its cache is
    known to hold them). Besides the tick, the bar shows the actives of the
    last tick, the number a reader of Epstein's runs watches.
    """
    from rich.console import Group
    from rich.live import Live
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = _console()
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("ticks · active {task.fields[active]:>6}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    spinner = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    )
    task = bar.add_task(description, total=total, active=0)
    warming: list[Any] = []
    if warming_up:
        cached = scenario is not None and engine_cached(scenario)
        warming.append(spinner.add_task(STARTING if cached else COMPILING, total=None))
    with Live(Group(spinner, bar), console=console, refresh_per_second=8) as live:

        def advance(sim: Simulation) -> None:
            if warming:
                spinner.remove_task(warming.pop())
            bar.update(task, advance=1, active=sim.counts()["active"])

        try:
            yield advance
        except BaseException:
            if warming:
                # Nothing ran (a mistake found while building, Ctrl-C while compiling):
                # erase the display, so that the command's one line is all that shows.
                live.transient = True
            raise


class RunsProgress:
    """A bar over runs (sweep, compare, calibrate), with failures and the time left.

    Pass :meth:`update` as ``on_progress``; a new ``label`` starts a new bar (a
    comparison's variants, a calibration's rounds). Nothing is drawn before the
    first update.
    """

    def __init__(self, label: str = "sweep"):
        self._label = label
        self._progress: Any = None
        self._task: Any = None
        self._current: str | None = None

    def __enter__(self) -> RunsProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs · failed {task.fields[failed]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=_console(),
        )
        self._progress.start()

    def update(self, done: int, failed: int, to_run: int, label: str | None = None) -> None:
        """``done`` and ``failed`` of the ``to_run`` runs of this bar so far."""
        if self._progress is None:
            self._start()
        label = label or self._label
        if self._task is None or label != self._current:
            self._task = self._progress.add_task(label, total=to_run, failed=0)
            self._current = label
        self._progress.update(self._task, total=to_run, completed=done + failed, failed=failed)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
