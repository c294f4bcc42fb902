"""A rich progress bar for a running simulation (printed to stderr)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from upheaval.engine.simulation import Simulation


@contextlib.contextmanager
def progress_bar(total: int, description: str) -> Iterator[Callable[[Simulation], None]]:
    """Show a bar over ``total`` ticks; yields the ``on_tick`` callback that advances it.

    Besides the tick it shows the actives of the last tick, the number a reader of
    Epstein's runs watches.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("ticks · active {task.fields[active]:>6}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    with progress:
        task = progress.add_task(description, total=total, active=0)

        def advance(sim: Simulation) -> None:
            progress.update(task, advance=1, active=sim.counts()["active"])

        yield advance
