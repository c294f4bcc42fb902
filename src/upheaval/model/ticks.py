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
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from upheaval.model.mechanisms import MECHANISMS
from upheaval.model.state import EVENTS, TALLY

if TYPE_CHECKING:
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


#: Rows a :class:`History` keeps in its open buffer before packing them.
HISTORY_CHUNK = 64
_INT_AT = tuple(i for i, c in enumerate(COLUMNS) if c not in FLOAT_COLUMNS)
_FLOAT_AT = tuple(i for i, c in enumerate(COLUMNS) if c in FLOAT_COLUMNS)
_NARROW = (np.int8, np.int16, np.int32, np.int64)


class History(Sequence):
    """A place's rows, one :class:`TickRow` a tick, held compactly.

    A row of Python ints and floats weighs ~1.5 kB; a country of 36 places keeps
    36 rows a tick, which at 1:100 outweighed the agents (benchmarks/README.md, "A
    country"). So rows go into a numpy buffer of :data:`HISTORY_CHUNK` rows (counts
    int64, real values float64), and each full chunk is packed: the count columns
    that are not all zero in it, in the narrowest integer type holding them. Packing
    is lossless, so every row reads back equal to the one appended: ``history[i]``,
    slices (lists of rows), iteration and ``==`` (with another history or a list of
    rows) behave as the list of rows this replaces. The last row is kept as
    appended, since the mechanisms read it every tick (``Place.row``)."""

    def __init__(self, rows: Iterable[TickRow] = ()):
        self._packed: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._ints = np.zeros((HISTORY_CHUNK, len(_INT_AT)), np.int64)
        self._floats = np.zeros((HISTORY_CHUNK, len(_FLOAT_AT)), np.float64)
        self._n = 0
        self._last: TickRow | None = None
        for row in rows:
            self.append(row)

    def append(self, row: TickRow) -> None:
        k = self._n % HISTORY_CHUNK
        self._ints[k] = [row[i] for i in _INT_AT]
        self._floats[k] = [row[i] for i in _FLOAT_AT]
        self._n += 1
        self._last = row
        if k == HISTORY_CHUNK - 1:
            self._pack()

    def _pack(self) -> None:
        ints = self._ints
        used = np.flatnonzero(ints.any(axis=0))
        block = ints[:, used]
        lo, hi = (int(block.min()), int(block.max())) if block.size else (0, 0)
        narrow = next(t for t in _NARROW if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max)
        # packed chunks are never written again: a copy of the history shares them
        self._packed.append((used, block.astype(narrow), self._floats.copy()))

    def _chunk(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ``c``'s (counts int64, real values float64), rows in order."""
        if c < len(self._packed):
            used, block, floats = self._packed[c]
            ints = np.zeros((block.shape[0], len(_INT_AT)), np.int64)
            ints[:, used] = block
            return ints, floats
        k = self._n % HISTORY_CHUNK
        return self._ints[:k], self._floats[:k]

    def _rows(self, start: int, stop: int) -> list[TickRow]:
        """Rows ``start:stop`` (0 ≤ start ≤ stop ≤ len), decoded a chunk at a time."""
        out: list[TickRow] = []
        c = start // HISTORY_CHUNK
        while start < stop:
            base = c * HISTORY_CHUNK
            ints, floats = self._chunk(c)
            a, b = start - base, min(stop - base, HISTORY_CHUNK)
            # an object array turns the int64s into Python ints, the float64s into
            # Python floats: the values the row was appended with
            cells = np.empty((b - a, len(COLUMNS)), object)
            cells[:, _INT_AT] = ints[a:b]
            cells[:, _FLOAT_AT] = floats[a:b]
            out.extend(map(TickRow._make, cells.tolist()))
            start, c = base + b, c + 1
        return out

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if i == -1 and self._n:  # the last row, read by every hook every tick
            return self._last
        if isinstance(i, slice):
            r = range(self._n)[i]
            if r.step == 1:
                return self._rows(r.start, max(r.start, r.stop))
            return [self[j] for j in r]
        j = range(self._n)[i]  # IndexError as a list raises it
        if j == self._n - 1:
            return self._last
        return self._rows(j, j + 1)[0]

    def __iter__(self) -> Iterator[TickRow]:
        for c in range(0, self._n, HISTORY_CHUNK):
            yield from self._rows(c, min(c + HISTORY_CHUNK, self._n))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, History | list | tuple):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, as the list it replaces

    def __repr__(self) -> str:
        return f"History({self._n} rows)"

    def copy(self) -> History:
        """An independent history with the same rows."""
        new = History()
        new._packed = list(self._packed)
        new._ints, new._floats = self._ints.copy(), self._floats.copy()
        new._n, new._last = self._n, self._last
        return new

    def nbytes(self) -> int:
        """Bytes of the arrays holding the rows (the last row's objects aside)."""
        return (
            self._ints.nbytes
            + self._floats.nbytes
            + sum(u.nbytes + b.nbytes + f.nbytes for u, b, f in self._packed)
        )


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
