"""What happened in each place of a country: onset, peak, arrests, deaths.

**Onset** is the first tick at which at least ``onset_share`` of a place's
citizens (quiet, active and jailed, both groups) are active — 2 % by default,
a share rather than a count because places differ in size by orders of
magnitude (docs/odd.md §12). A place that never reaches it has no onset (None).

**Control** (docs/odd.md §12.4) is the tick table's ``control`` column: 1 − w·(share
of the place's key sites held by the crowd) − (1 − w)·(share of its citizens
active). A place is **lost** to the regime during a tick whose control is below
``lost_below`` — 0.5 by default: half the place's sites and streets gone, e.g. all
its sites with no one on the street, or no site with the streets all active.
``ticks_lost`` counts such ticks (hours with ``run.tick_minutes``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from upheaval.model.ticks import PLACE

if TYPE_CHECKING:
    import pyarrow as pa

#: The default share of a place's citizens active at its onset.
ONSET_SHARE = 0.02
#: The default control below which a place is lost to the regime.
LOST_BELOW = 0.5


@dataclass(frozen=True)
class PlaceSummary:
    """One place's run in numbers (module docstring)."""

    place: str
    citizens: int
    onset_tick: int | None
    peak_active: int
    peak_tick: int
    peak_share: float
    arrests: int
    killed_by_cops: int
    cops_killed: int
    final_active: int
    final_jailed: int
    final_cops: int
    #: key sites (docs/odd.md §12.4): declared, most held by the crowd at once,
    #: seizures and burnings in all; control's minimum and last value, and the ticks
    #: with control below ``lost_below``
    sites: int = 0
    peak_sites_held: int = 0
    sites_seized: int = 0
    sites_burned: int = 0
    min_control: float = 1.0
    final_control: float = 1.0
    ticks_lost: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _col(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy()


def place_summaries(
    table: pa.Table, onset_share: float = ONSET_SHARE, lost_below: float = LOST_BELOW
) -> list[PlaceSummary]:
    """One :class:`PlaceSummary` per place of a tick table, in the order the places
    first appear (a table without a ``place`` column is one place named ""). A table
    written before the sites' columns existed summarises as a place without sites."""
    if not 0.0 < onset_share <= 1.0:
        raise ValueError(f"onset_share must be in (0, 1], got {onset_share!r}")
    if not 0.0 < lost_below <= 1.0:
        raise ValueError(f"lost_below must be in (0, 1], got {lost_below!r}")
    has_sites = "control" in table.column_names
    if PLACE in table.column_names:
        names = table.column(PLACE).to_numpy(zero_copy_only=False)
        order = list(dict.fromkeys(names.tolist()))
    else:
        names = np.full(table.num_rows, "", dtype=object)
        order = [""]
    out = []
    for name in order:
        rows = table.filter(names == name) if PLACE in table.column_names else table
        ticks = _col(rows, "tick")
        active = _col(rows, "active_blue") + _col(rows, "active_green")
        citizens = sum(
            _col(rows, f"{s}_{g}") for s in ("quiet", "active", "jailed") for g in ("blue", "green")
        )
        share = np.divide(
            active, citizens, out=np.zeros(active.shape, np.float64), where=citizens > 0
        )
        reached = np.flatnonzero(share >= onset_share)
        peak = int(np.argmax(active))
        sites: dict[str, Any] = {}
        if has_sites:
            control = _col(rows, "control")
            sites = {
                "sites": int(_col(rows, "sites_declared").max()),
                "peak_sites_held": int(_col(rows, "sites_held").max()),
                "sites_seized": int(_col(rows, "sites_seized").sum()),
                "sites_burned": int(_col(rows, "sites_burned").sum()),
                "min_control": float(control.min()),
                "final_control": float(control[-1]),
                "ticks_lost": int(np.count_nonzero(control < lost_below)),
            }
        out.append(
            PlaceSummary(
                place=str(name),
                citizens=int(citizens[0]),
                onset_tick=int(ticks[reached[0]]) if reached.size else None,
                peak_active=int(active[peak]),
                peak_tick=int(ticks[peak]),
                peak_share=float(share[peak]),
                arrests=int(_col(rows, "arrests").sum()),
                killed_by_cops=int(_col(rows, "killed_by_cops").sum()),
                cops_killed=int(_col(rows, "cops_killed").sum()),
                final_active=int(active[-1]),
                final_jailed=int(_col(rows, "jailed_blue")[-1] + _col(rows, "jailed_green")[-1]),
                final_cops=int(_col(rows, "cops")[-1]),
                **sites,
            )
        )
    return out


def onset_ticks(table: pa.Table, onset_share: float = ONSET_SHARE) -> dict[str, int | None]:
    """Place → its onset tick (None: never)."""
    return {s.place: s.onset_tick for s in place_summaries(table, onset_share)}


__all__ = ["LOST_BELOW", "ONSET_SHARE", "PlaceSummary", "onset_ticks", "place_summaries"]
