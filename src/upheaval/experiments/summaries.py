"""Per-run summary statistics, computed in the worker as each run finishes.

A sweep keeps one row per run (:data:`METRICS`), so that a 100,000-run sweep never
holds its time series in memory; the full per-tick series are written only when
asked for (``keep_ticks``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from upheaval.model.ticks import PLACE, national
from upheaval.results.outbursts import DEFAULT_THRESHOLD, outbursts

if TYPE_CHECKING:
    import pyarrow as pa

#: Summary columns of one run, with their Arrow types ("int64", "float64"; nullable).
METRICS: dict[str, str] = {
    "ticks": "int64",  # the last tick run
    "peak_active": "int64",
    "peak_tick": "int64",  # first tick at which the peak is reached
    "mean_active": "float64",  # over ticks 1 … ticks (the initial state left out)
    "outbursts": "int64",
    "complete_outbursts": "int64",
    "first_outburst": "int64",  # start tick of the first outburst; null if none
    "outburst_duration_mean": "float64",
    "waiting_time_mean": "float64",
    "final_quiet": "int64",
    "final_active": "int64",
    "final_jailed": "int64",
    "final_cops": "int64",
    "final_legitimacy": "float64",
    "arrests": "int64",  # summed over the run
    "killed_blue": "int64",
    "killed_green": "int64",
    "killed_by_cops": "int64",  # lethal force (mechanisms); 0 where it is off
    "released": "int64",
    "born": "int64",
    "died": "int64",
    "jailed_max": "int64",
}


def summarise(table: pa.Table, threshold: int = DEFAULT_THRESHOLD) -> dict[str, int | float | None]:
    """Summary of one run from its tick table (``Simulation.table()``; a country's is
    summed over its places first, :func:`~upheaval.model.ticks.national`).

    Outbursts follow :mod:`upheaval.results.outbursts` with ``threshold`` actives.
    """
    if PLACE in table.column_names:
        table = national(table)
    if table.num_rows == 0:
        raise ValueError("expected a non-empty tick table")

    def col(name: str) -> np.ndarray:
        return table.column(name).to_numpy().astype(np.float64)

    tick = col("tick").astype(np.int64)
    active = (col("active_blue") + col("active_green")).astype(np.int64)
    quiet = (col("quiet_blue") + col("quiet_green")).astype(np.int64)
    jailed = (col("jailed_blue") + col("jailed_green")).astype(np.int64)
    peak_at = int(np.argmax(active))
    ob = outbursts(active, tick, threshold)
    s = ob.summary()
    later = slice(1, None) if table.num_rows > 1 else slice(None)

    def total(*names: str) -> int:
        return int(sum(col(n)[later].sum() for n in names))

    return {
        "ticks": int(tick[-1]),
        "peak_active": int(active[peak_at]),
        "peak_tick": int(tick[peak_at]),
        "mean_active": float(active[later].mean()),
        "outbursts": ob.count,
        "complete_outbursts": len(ob.complete),
        "first_outburst": s["first_start"],
        "outburst_duration_mean": s["duration_mean"],
        "waiting_time_mean": s["waiting_time_mean"],
        "final_quiet": int(quiet[-1]),
        "final_active": int(active[-1]),
        "final_jailed": int(jailed[-1]),
        "final_cops": int(col("cops")[-1]),
        "final_legitimacy": float(col("legitimacy")[-1]),
        "arrests": total("arrests"),
        "killed_blue": total("killed_blue"),
        "killed_green": total("killed_green"),
        "killed_by_cops": total("killed_by_cops"),
        "released": total("released"),
        "born": total("born_blue", "born_green"),
        "died": total("died_blue", "died_green"),
        "jailed_max": int(jailed.max()),
    }
