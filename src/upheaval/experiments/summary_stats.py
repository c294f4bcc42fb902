"""Summary statistics for calibration and comparisons: explicit, named, versioned.

A statistic is a number computed from one run's per-tick history (the engine's
``COLUMNS``, as ``Simulation.history``, a run directory's ``ticks.parquet`` or a
sweep's kept ticks). Calibration compares simulated and observed statistics; a
comparison reports their distribution over replicates. Changing what a statistic
means changes :data:`SUMMARY_VERSION`, which every calibration records, so two
posteriors made with different definitions are never mistaken for each other.

Version 1 (``threshold``: actives at or above which a tick counts as unrest, the
outburst threshold, default 50):

=====================  ================================================================
``peak_active``        most actives in one tick (ticks 0 … T)
``peak_tick``          first tick at which that peak is reached
``mean_active``        mean actives over ticks 1 … T
``arrests``            arrests summed over the run
``deaths``             killed_blue + killed_green + killed_by_cops + cops_killed, summed
                       over the run (both sides; cops_killed is 0 unless crowds may
                       kill the cops they disarm, so earlier values are unchanged)
``outbursts``          outbursts (:mod:`upheaval.results.outbursts`, same threshold)
``final_jailed``       jailed at the last tick
``unrest_onset``       first tick with actives ≥ threshold; T + 1 if there is none
``unrest_duration``    ticks from the first to the last tick with actives ≥ threshold,
                       both counted; 0 if there is none
``peak_after_onset``   peak_tick − unrest_onset; 0 if there is no unrest
=====================  ================================================================

Every statistic is defined for every run (no nulls), so a distance never has to
guess what a missing value means.

Observed **events** (an ACLED-like CSV: ``date``, ``event_type``, optionally
``fatalities``; e.g. ``/work/shared/data/kz2022/events.csv``) map to the same names
by :func:`events_statistics`. Only what an event list can say is comparable:

* an event count is not a head count, so ``peak_active``, ``mean_active``,
  ``arrests``, ``outbursts``, ``final_jailed`` are **not** comparable;
* a calendar date is not a tick 0, so ``unrest_onset`` and ``peak_tick`` are not;
* durations are: ``unrest_duration`` is the days from the first to the last day with
  an unrest event, both counted, and ``peak_after_onset`` the days from the first
  such day to the day with the most unrest events (the first, on ties), each
  divided by ``tick_days`` (days per tick);
* ``deaths`` is the sum of ``fatalities`` when the file has that column — it is
  comparable only to the extent the simulated population stands for the real one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from upheaval.experiments.summaries import summarise
from upheaval.model.ticks import COLUMNS, PLACE, national
from upheaval.results.outbursts import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    import pyarrow as pa

#: Bumped whenever a statistic's definition changes.
SUMMARY_VERSION = 1

#: Every statistic, with a one-line definition (see the module docstring).
STATISTICS: dict[str, str] = {
    "peak_active": "most actives in one tick",
    "peak_tick": "first tick of the peak",
    "mean_active": "mean actives over ticks 1…T",
    "arrests": "arrests over the run",
    "deaths": "killed_blue + killed_green + killed_by_cops + cops_killed over the run",
    "outbursts": "outbursts (actives ≥ threshold)",
    "final_jailed": "jailed at the last tick",
    "unrest_onset": "first tick with actives ≥ threshold (T+1 if none)",
    "unrest_duration": "first to last tick with actives ≥ threshold (0 if none)",
    "peak_after_onset": "peak_tick − unrest_onset (0 if no unrest)",
}

#: What a calibration on a run's own outputs compares by default.
DEFAULT_STATISTICS = (
    "peak_active",
    "peak_tick",
    "mean_active",
    "arrests",
    "outbursts",
    "final_jailed",
)

#: Statistics an event list can give (``deaths`` only with a ``fatalities`` column).
EVENT_STATISTICS = ("unrest_duration", "peak_after_onset", "deaths")

#: Event types counted as unrest (case-insensitive): the kz2022 dataset's and ACLED's.
UNREST_EVENT_TYPES = frozenset(
    {
        "protest",
        "protest_start",
        "riot",
        "building_seized",
        "arson",
        "road_blockade",
        "rail_blockade",
        "strike",
        "monument_toppled",
        "protests",  # ACLED event_type
        "riots",  # ACLED event_type
    }
)


class ObservedError(ValueError):
    """Observed data that cannot be used: ``where`` names the file (and column)."""

    def __init__(self, where: str | Path, reason: str):
        self.where, self.reason = str(where), reason
        super().__init__(f"{where}: {reason}")


def check_statistics(names: Sequence[str], allowed: Sequence[str] = tuple(STATISTICS)) -> tuple:
    """The statistic names, checked against ``allowed``; raises ValueError naming the bad one."""
    if not names:
        raise ValueError("--stat: give at least one statistic")
    for n in names:
        if n not in STATISTICS:
            raise ValueError(f"--stat: unknown statistic {n!r}; known: {', '.join(STATISTICS)}")
        if n not in allowed:
            raise ValueError(
                f"--stat: {n!r} is not comparable with this observed data; "
                f"comparable: {', '.join(allowed)}"
            )
    if len(set(names)) != len(names):
        raise ValueError("--stat: a statistic is given twice")
    return tuple(names)


def run_statistics(table: pa.Table, threshold: int = DEFAULT_THRESHOLD) -> dict[str, float]:
    """Every statistic of :data:`STATISTICS` for one run's tick table
    (``Simulation.table()``, a run's ``ticks.parquet``; a country's is summed over its
    places first)."""
    if PLACE in table.column_names:
        table = national(table)
    s = summarise(table, threshold)

    def col(name: str) -> np.ndarray:
        return table.column(name).to_numpy().astype(np.float64)

    active = col("active_blue") + col("active_green")
    tick = col("tick")
    later = slice(1, None) if table.num_rows > 1 else slice(None)
    dead = ("killed_blue", "killed_green", "killed_by_cops", "cops_killed")
    deaths = sum(col(c)[later].sum() for c in dead)
    above = np.flatnonzero(active >= threshold)
    if above.size:
        onset = float(tick[above[0]])
        duration = float(tick[above[-1]] - tick[above[0]] + 1)
    else:
        onset, duration = float(tick[-1] + 1), 0.0
    return {
        "peak_active": float(s["peak_active"]),
        "peak_tick": float(s["peak_tick"]),
        "mean_active": float(s["mean_active"]),
        "arrests": float(s["arrests"]),
        "deaths": float(deaths),
        "outbursts": float(s["outbursts"]),
        "final_jailed": float(s["final_jailed"]),
        "unrest_onset": onset,
        "unrest_duration": duration,
        "peak_after_onset": float(s["peak_tick"]) - onset if above.size else 0.0,
    }


def sweep_statistics(
    out: str | Path,
    threshold: int = DEFAULT_THRESHOLD,
    summary: Callable[[pa.Table], dict[str, float]] | None = None,
) -> dict[tuple, dict]:
    """Statistics of every run of a sweep that kept its ticks: ``{(point, replicate): stats}``
    (:func:`run_statistics`, or ``summary`` of each run's tick table)."""
    from upheaval.experiments.store import query

    t = query(out, "SELECT * FROM ticks ORDER BY point, replicate, tick")
    if t.num_rows == 0:
        return {}
    keys = np.column_stack([t.column("point").to_numpy(), t.column("replicate").to_numpy()])
    starts = np.flatnonzero(np.r_[True, np.any(keys[1:] != keys[:-1], axis=1)])
    ends = np.r_[starts[1:], len(keys)]

    def stats(run: pa.Table) -> dict[str, float]:
        if summary is not None:
            return summary(run.drop_columns(["point", "replicate"]))
        return run_statistics(run, threshold)

    return {
        (int(keys[a, 0]), int(keys[a, 1])): stats(t.slice(a, b - a))
        for a, b in zip(starts, ends, strict=True)
    }


@dataclass(frozen=True)
class Observed:
    """Observed statistics and what they can be compared on."""

    source: str
    kind: str  # "run" or "events"
    statistics: dict[str, float]
    comparable: tuple[str, ...]
    notes: str = ""
    #: for a run directory: its lattice (width, height) and last tick
    lattice: tuple[int, int] | None = None
    last_tick: int | None = None


def observed_mismatch(observed: Observed, scenario: Any, steps: int | None) -> list[str]:
    """Why a run directory's statistics may not be comparable with the scenario's runs:
    another lattice (counts scale with it) or another number of ticks (durations,
    means and peaks depend on it). Empty if they match or the data are events."""
    from upheaval.results.recorder import parameters_by_location

    if observed.kind != "run" or observed.lattice is None:
        return []
    p = parameters_by_location(scenario.params)
    lattice = (p["world.width"], p["world.height"])
    last = p["run.steps"] if steps is None else steps
    out = []
    if observed.lattice != lattice:
        out.append(
            f"--observed {observed.source}: a {observed.lattice[0]}×{observed.lattice[1]} "
            f"lattice, but the runs are {lattice[0]}×{lattice[1]}: counts (actives, "
            "arrests, jailed) are not comparable"
        )
    if observed.last_tick is not None and observed.last_tick != last:
        out.append(
            f"--observed {observed.source}: {observed.last_tick} ticks, but the runs have "
            f"{last} (--steps): durations, means and peaks are not comparable"
        )
    return out


def observed_from_run(run_dir: str | Path, threshold: int = DEFAULT_THRESHOLD) -> Observed:
    """Statistics of a run directory written by ``upheaval run``."""
    from upheaval.results.recorder import RunDirectoryError, read_run

    try:
        manifest, table = read_run(run_dir)
    except (RunDirectoryError, OSError, ValueError) as e:
        raise ObservedError(run_dir, f"not a readable run directory ({e})") from None
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise ObservedError(run_dir, f"ticks.parquet lacks column {missing[0]!r}")
    if table.num_rows == 0:
        raise ObservedError(run_dir, "ticks.parquet has no rows")
    params = manifest["parameters"]
    return Observed(
        str(run_dir),
        "run",
        run_statistics(table, threshold),
        tuple(STATISTICS),
        lattice=(params["world.width"], params["world.height"]),
        last_tick=int(table.column("tick")[-1].as_py()),
    )


def events_statistics(path: str | Path, tick_days: float = 1.0) -> Observed:
    """Statistics of an ACLED-like event CSV (see the module docstring for the mapping)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ObservedError(path, "no such file or run directory")
    if not (tick_days > 0 and np.isfinite(tick_days)):
        raise ObservedError("--tick-days", f"must be a positive number of days, got {tick_days}")
    try:
        df = pd.read_csv(path)
    except Exception as e:
        raise ObservedError(path, f"cannot read as CSV: {e}") from None
    for col in ("date", "event_type"):
        if col not in df.columns:
            raise ObservedError(
                path,
                f"no column {col!r} (an event CSV needs date and event_type; "
                f"it has {', '.join(map(str, df.columns))})",
            )
    dates = pd.to_datetime(df["date"], errors="coerce")
    bad = dates.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2  # 1-based, after the header
        raise ObservedError(
            f"{path}:{row}", f"column 'date': cannot read {df['date'].iloc[row - 2]!r} as a date"
        )
    unrest = df["event_type"].astype(str).str.strip().str.lower().isin(UNREST_EVENT_TYPES)
    if not unrest.any():
        raise ObservedError(
            path, f"column 'event_type': no unrest events ({', '.join(sorted(UNREST_EVENT_TYPES))})"
        )
    days = dates[unrest].dt.normalize()
    first, last = days.min(), days.max()
    counts = days.value_counts().sort_index()
    peak_day = counts.idxmax()  # first of the days with the most events (sorted index)
    stats = {
        "unrest_duration": ((last - first).days + 1) / tick_days,
        "peak_after_onset": (peak_day - first).days / tick_days,
    }
    comparable = ["unrest_duration", "peak_after_onset"]
    if "fatalities" in df.columns:
        fat = pd.to_numeric(df["fatalities"], errors="coerce")
        if fat.isna().any() and df["fatalities"].notna().any():
            row = int(np.flatnonzero((fat.isna() & df["fatalities"].notna()).to_numpy())[0]) + 2
            raise ObservedError(f"{path}:{row}", "column 'fatalities': not a number")
        stats["deaths"] = float(fat.fillna(0).sum())
        comparable.append("deaths")
    notes = (
        f"{int(unrest.sum())} unrest events from {first.date()} to {last.date()}, "
        f"peak on {peak_day.date()} ({int(counts.max())} events); {tick_days:g} days per tick"
    )
    return Observed(str(path), "events", stats, tuple(comparable), notes)


def load_observed(
    path: str | Path, threshold: int = DEFAULT_THRESHOLD, tick_days: float = 1.0
) -> Observed:
    """A run directory (a folder) or an event CSV (a file)."""
    path = Path(path)
    if path.is_dir():
        return observed_from_run(path, threshold)
    return events_statistics(path, tick_days)
