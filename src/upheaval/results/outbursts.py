"""Outburst statistics of a run (model-spec §3).

An outburst *begins* on the first tick with more than ``threshold`` actives (default
50, the paper's 40×40 figure) and *ends* on the first later tick with fewer than
``threshold``; its ticks are ``start … end − 1``. Its *duration* is ``end − start``,
its *peak* the most actives on one of its ticks, its *total activation* the sum of
actives over its ticks. A *waiting time* runs from one outburst's end to the next
one's start. An outburst still going when the run ends is reported with
``complete = False`` and is left out of durations and waiting times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

DEFAULT_THRESHOLD = 50


@dataclass(frozen=True)
class Outburst:
    start: int
    end: int  # first tick below the threshold; the run's last tick + 1 if incomplete
    peak: int
    total_activation: int
    complete: bool

    @property
    def duration(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class OutburstStats:
    """Summary of the outbursts of one run."""

    threshold: int
    outbursts: tuple[Outburst, ...]

    @property
    def complete(self) -> tuple[Outburst, ...]:
        return tuple(o for o in self.outbursts if o.complete)

    @property
    def count(self) -> int:
        return len(self.outbursts)

    @property
    def peaks(self) -> np.ndarray:
        return np.array([o.peak for o in self.outbursts], dtype=np.int64)

    @property
    def durations(self) -> np.ndarray:
        return np.array([o.duration for o in self.complete], dtype=np.int64)

    @property
    def total_activations(self) -> np.ndarray:
        return np.array([o.total_activation for o in self.complete], dtype=np.int64)

    @property
    def waiting_times(self) -> np.ndarray:
        """Ticks from each complete outburst's end to the next outburst's start."""
        ob = self.outbursts
        return np.array(
            [ob[i + 1].start - ob[i].end for i in range(len(ob) - 1) if ob[i].complete],
            dtype=np.int64,
        )

    def summary(self) -> dict[str, float | int | None]:
        """Counts, means and standard deviations, as plain numbers (None if undefined)."""

        def mean(x: np.ndarray) -> float | None:
            return float(x.mean()) if x.size else None

        def sd(x: np.ndarray) -> float | None:
            return float(x.std(ddof=1)) if x.size > 1 else None

        ta, wt, du, pk = self.total_activations, self.waiting_times, self.durations, self.peaks
        return {
            "threshold": self.threshold,
            "outbursts": self.count,
            "complete_outbursts": len(self.complete),
            "peak_max": int(pk.max()) if pk.size else None,
            "peak_mean": mean(pk),
            "duration_mean": mean(du),
            "duration_sd": sd(du),
            "total_activation_mean": mean(ta),
            "total_activation_sd": sd(ta),
            "waiting_time_mean": mean(wt),
            "waiting_time_sd": sd(wt),
            "first_start": self.outbursts[0].start if self.outbursts else None,
        }

    def to_rows(self) -> list[dict]:
        return [{**asdict(o), "duration": o.duration} for o in self.outbursts]


def outbursts(
    active: Sequence[int] | np.ndarray,
    ticks: Sequence[int] | np.ndarray | None = None,
    threshold: int = DEFAULT_THRESHOLD,
) -> OutburstStats:
    """Find the outbursts in a series of active counts (one value per tick).

    ``ticks`` gives each value's tick (default 0, 1, 2, …).
    """
    a = np.asarray(active, dtype=np.int64)
    t = np.arange(a.size, dtype=np.int64) if ticks is None else np.asarray(ticks, dtype=np.int64)
    if t.shape != a.shape:
        raise ValueError(f"ticks ({t.size}) and active counts ({a.size}) differ in length")
    found: list[Outburst] = []
    i, n = 0, a.size
    while i < n:
        if a[i] > threshold:
            j = i + 1
            while j < n and a[j] >= threshold:
                j += 1
            seg = a[i:j]
            complete = j < n
            end = int(t[j]) if complete else int(t[-1]) + 1
            found.append(
                Outburst(
                    start=int(t[i]),
                    end=end,
                    peak=int(seg.max()),
                    total_activation=int(seg.sum()),
                    complete=complete,
                )
            )
            i = j
        else:
            i += 1
    return OutburstStats(threshold=threshold, outbursts=tuple(found))


def run_outbursts(source: object, threshold: int = DEFAULT_THRESHOLD) -> OutburstStats:
    """The outbursts of a run, from its run directory (path), a per-tick
    :class:`pyarrow.Table` (``Simulation.table()`` or ``read_run``'s) or a
    :class:`~upheaval.engine.simulation.Simulation`.

    Actives are counted over both groups (``active_blue + active_green``).
    """
    from pathlib import Path

    if isinstance(source, str | Path):
        from upheaval.results.recorder import read_run

        _, table = read_run(source)
    elif hasattr(source, "table") and callable(source.table):
        table = source.table()
    else:
        table = source
    try:
        active = table.column("active_blue").to_numpy() + table.column("active_green").to_numpy()
        ticks = table.column("tick").to_numpy()
    except (AttributeError, KeyError) as e:
        raise TypeError(
            "run_outbursts needs a run directory, a per-tick table or a Simulation, "
            f"got {type(source).__name__}"
        ) from e
    return outbursts(active, ticks, threshold)
