"""The tick schema: the named columns of one recorded tick, from the registry.

One row per tick (per place, in a country): ``tick``; the tallies of the state after
the tick (``state.TALLY``: quiet, active and jailed citizens by group, cops on duty);
the classic model's event counters of the tick (``state.EVENTS``: arrests, Model II's
killings, births, deaths, releases); then each mechanism's columns in registry order
(``model/mechanisms.py``), its real-valued ``values`` (``legitimacy``, ``framing``)
and its ``counters`` (``killed_by_cops``, ``stood_aside``, …). A country's table adds
a ``place`` column after ``tick``.

Every reader takes columns by name — ``row.arrests``, ``table.column("arrests")`` —
never by position: this module is the one place that knows the order, and the
simulation, the recorder and the sweep store all build their tables with
:func:`tick_table` and :func:`tick_schema`.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import TYPE_CHECKING

from upheaval.model.mechanisms import MECHANISMS
from upheaval.model.state import EVENTS, TALLY

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

#: Every column of a tick row, in order.
COLUMNS: tuple[str, ...] = (
    "tick",
    *TALLY,
    *EVENTS,
    *(c for m in MECHANISMS for c in (*m.values, *m.counters)),
)
#: Columns holding real numbers (float64); every other column is a whole count (int64).
FLOAT_COLUMNS: tuple[str, ...] = tuple(v for m in MECHANISMS for v in m.values)
#: The column that names the place in a country's table.
PLACE = "place"

#: One recorded tick: a named tuple of :data:`COLUMNS`.
TickRow = namedtuple("TickRow", COLUMNS)
TickRow.__doc__ = "One recorded tick of one place (see upheaval.model.ticks)."


def agents_in(row: TickRow) -> int:
    """The agents alive in a row's state: citizens of every status and group, and cops
    (the turns the next tick plays)."""
    return sum(getattr(row, name) for name in TALLY)


def tick_schema(with_place: bool = False) -> pa.Schema:
    """The pyarrow schema of a tick table: ``tick`` and the counts int64, the
    :data:`FLOAT_COLUMNS` float64; ``with_place`` adds ``place`` (string) after
    ``tick``."""
    import pyarrow as pa

    fields = [(c, pa.float64() if c in FLOAT_COLUMNS else pa.int64()) for c in COLUMNS]
    if with_place:
        fields.insert(1, (PLACE, pa.string()))
    return pa.schema(fields)


def _national_columns(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The national sum of a country's columns (every name of :data:`COLUMNS`, one
    entry a place and tick): one entry a tick, in order of tick. Counts are summed
    over the places; real values are averaged over them weighted by their citizens
    (unweighted where no place has any) — the national ``framing`` is the same in
    every place. The one implementation behind :func:`national` and
    :func:`national_rows`."""
    import numpy as np

    ticks = np.asarray(columns["tick"])
    order = np.argsort(ticks, kind="stable")
    ticks = ticks[order]
    if ticks.shape[0] == 0:
        return {n: np.zeros(0, np.float64 if n in FLOAT_COLUMNS else np.int64) for n in COLUMNS}
    starts = np.flatnonzero(np.r_[True, ticks[1:] != ticks[:-1]])
    citizens = sum(np.asarray(columns[n])[order].astype(np.float64) for n in TALLY if n != "cops")
    weight = np.add.reduceat(citizens, starts)
    counts = np.diff(np.r_[starts, ticks.shape[0]])
    out: dict[str, np.ndarray] = {}
    for name in COLUMNS:
        values = np.asarray(columns[name])[order]
        if name == "tick":
            out[name] = ticks[starts].astype(np.int64)
        elif name in FLOAT_COLUMNS:
            values = values.astype(np.float64)
            summed = np.add.reduceat(values * citizens, starts)
            plain = np.add.reduceat(values, starts) / counts
            out[name] = np.where(weight > 0, summed / np.maximum(weight, 1), plain)
        else:
            out[name] = np.add.reduceat(values.astype(np.int64), starts)
    return out


def national(table: pa.Table) -> pa.Table:
    """A country's tick table as one row a tick: counts summed over the places, real
    values averaged over them weighted by their citizens (``legitimacy``) — the
    national ``framing`` is the same in every place."""
    import pyarrow as pa

    out = _national_columns({n: table.column(n).to_numpy() for n in COLUMNS})
    schema = tick_schema()
    return pa.Table.from_arrays(
        [pa.array(out[n], schema.field(n).type) for n in COLUMNS], schema=schema
    )


def national_rows(rows: Sequence[TickRow]) -> list[TickRow]:
    """The nation's rows of a country's ``rows`` (the places' rows of one or more
    ticks, in any order): one :class:`TickRow` a tick, in order of tick, summed as
    :func:`national` sums a table (the same code)."""
    import numpy as np

    if not rows:
        return []
    columns = {
        n: np.array(values, np.float64 if n in FLOAT_COLUMNS else np.int64)
        for n, values in zip(COLUMNS, zip(*rows, strict=True), strict=True)
    }
    out = _national_columns(columns)
    return [
        TickRow(*(float(out[n][i]) if n in FLOAT_COLUMNS else int(out[n][i]) for n in COLUMNS))
        for i in range(out["tick"].shape[0])
    ]


def tick_table(rows: Sequence[TickRow], places: Sequence[str] | None = None) -> pa.Table:
    """A tick table of ``rows``; with ``places`` (one name a row) it has the ``place``
    column."""
    import pyarrow as pa

    schema = tick_schema(with_place=places is not None)
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(COLUMNS)
    arrays = [
        pa.array(values, type=schema.field(name).type)
        for name, values in zip(COLUMNS, columns, strict=True)
    ]
    if places is not None:
        arrays.insert(1, pa.array(list(places), type=pa.string()))
    return pa.Table.from_arrays(arrays, schema=schema)
