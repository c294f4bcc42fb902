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

**In people** (:func:`people_totals`, :func:`country_outcomes`): a country's counts
are agents; ``world.scale`` people stand for each, so deaths and detentions are
counts × scale, summed over ticks 1 … T (tick 0 is the initial state). The
calibration (scripts/kz2022_calibration.py) and ``upheaval compare`` both read them
here, so a detention means the same thing in the fit and in the what-ifs.
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
    #: activists who travel (docs/odd.md §12.5): who left the place and who arrived
    #: in all, and who were on their way to it after the last tick
    travellers_left: int = 0
    travellers_arrived: int = 0
    final_travellers_in_transit: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _col(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy()


def place_summaries(
    table: pa.Table, onset_share: float = ONSET_SHARE, lost_below: float = LOST_BELOW
) -> list[PlaceSummary]:
    """One :class:`PlaceSummary` per place of a tick table, in the order the places
    first appear (a table without a ``place`` column is one place named ""). A table
    written before the sites' (or the travellers') columns existed summarises as a
    place without sites (or travellers)."""
    if not 0.0 < onset_share <= 1.0:
        raise ValueError(f"onset_share must be in (0, 1], got {onset_share!r}")
    if not 0.0 < lost_below <= 1.0:
        raise ValueError(f"lost_below must be in (0, 1], got {lost_below!r}")
    has_sites = "control" in table.column_names
    has_travel = "travellers_left" in table.column_names
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
        sites: dict[str, Any] = {}  # the sites' and the travellers' fields, if any
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
        if has_travel:
            sites.update(
                travellers_left=int(_col(rows, "travellers_left").sum()),
                travellers_arrived=int(_col(rows, "travellers_arrived").sum()),
                final_travellers_in_transit=int(_col(rows, "travellers_in_transit")[-1]),
            )
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


@dataclass(frozen=True)
class UnitSummary:
    """One named unit at one place over a run (``units.parquet``,
    :meth:`Simulation.units_history`): its members there after the last tick — on
    duty, on guard at the place's key sites, on their way to it — and the most it
    had there (on duty + on guard) at once, at the first tick it had them."""

    place: str
    unit: str
    final_on_duty: int
    final_on_guard: int
    final_in_transit: int
    peak: int
    peak_tick: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def unit_summaries(units: pa.Table) -> list[UnitSummary]:
    """One :class:`UnitSummary` a place and named unit (the initial force, unit "",
    left out) that ever had members at the place or on their way to it, places in
    the order they first appear, units in the order they arrived."""
    if units.num_rows == 0:
        return []
    df = units.to_pandas()
    df = df[df.unit != ""]
    last = int(units.column("tick").to_numpy().max())
    out = []
    for (place, unit), rows in df.groupby(["place", "unit"], sort=False):
        if not (rows.on_duty.any() or rows.on_guard.any() or rows.in_transit.any()):
            continue
        there = (rows.on_duty + rows.on_guard).to_numpy()
        peak = int(np.argmax(there))
        end = rows[rows.tick == last]
        out.append(
            UnitSummary(
                place=str(place),
                unit=str(unit),
                final_on_duty=int(end.on_duty.sum()),
                final_on_guard=int(end.on_guard.sum()),
                final_in_transit=int(end.in_transit.sum()),
                peak=int(there[peak]),
                peak_tick=int(rows.tick.to_numpy()[peak]),
            )
        )
    return out


def people_totals(
    table: pa.Table, scale: float, through_tick: int | None = None
) -> dict[str, float]:
    """Deaths by side and detentions of one run, in people (module docstring):
    ``killed_by_forces`` (civilians killed by the forces: ``killed_by_cops``),
    ``forces_killed`` (``cops_killed``) and ``detained`` (``arrests``), over ticks
    1 … T, or 1 … ``through_tick``."""
    ticks = _col(table, "tick")
    keep = ticks >= 1
    if through_tick is not None:
        keep &= ticks <= through_tick

    def total(name: str) -> float:
        return float(_col(table, name)[keep].sum() * scale)

    return {
        "killed_by_forces": total("killed_by_cops"),
        "forces_killed": total("cops_killed"),
        "detained": total("arrests"),
    }


#: The outcomes :func:`country_outcomes` gives for every country run, in order.
COUNTRY_OUTCOMES = (
    "deaths_civilians",
    "deaths_forces",
    "detained",
    "unrest_hours",
    "places_lost",
    "place_hours_lost",
)
#: The prefix of the outcome "place NAME was lost at least once" (1 or 0).
LOST_PREFIX = "lost:"


def country_outcomes(
    table: pa.Table,
    scale: float,
    tick_minutes: float,
    place_lost: tuple[str, ...] | list[str] = (),
    *,
    onset_share: float = ONSET_SHARE,
    lost_below: float = LOST_BELOW,
) -> dict[str, float]:
    """A country run's outcomes (:data:`COUNTRY_OUTCOMES`, then ``lost:NAME`` for each
    of ``place_lost``):

    * ``deaths_civilians``, ``deaths_forces``, ``detained`` — :func:`people_totals`;
    * ``unrest_hours`` — hours from the first to the last tick (both counted) in which
      some place has at least ``onset_share`` of its citizens active (a place's onset
      share, so that a town counts as much as a city); 0 if none ever does;
    * ``places_lost`` — places whose control fell below ``lost_below`` at least once;
    * ``place_hours_lost`` — the sum over places of their hours below it;
    * ``lost:NAME`` — 1 if place NAME fell below it at least once, else 0.

    Raises ValueError naming a place of ``place_lost`` the run does not have."""
    if PLACE not in table.column_names:
        raise ValueError("country outcomes need a country's tick table (a 'place' column)")
    summaries = {
        s.place: s for s in place_summaries(table, onset_share=onset_share, lost_below=lost_below)
    }
    for name in place_lost:
        if name not in summaries:
            raise ValueError(
                f"--place-lost: no place {name!r} in the scenario; it has "
                f"{', '.join(sorted(summaries))}"
            )
    hours = tick_minutes / 60.0
    active = _col(table, "active_blue") + _col(table, "active_green")
    citizens = sum(
        _col(table, f"{s}_{g}") for s in ("quiet", "active", "jailed") for g in ("blue", "green")
    )
    restless = (citizens > 0) & (active >= onset_share * citizens)
    when = _col(table, "tick")[restless & (_col(table, "tick") >= 1)]
    unrest = float(when.max() - when.min() + 1) * hours if when.size else 0.0
    totals = people_totals(table, scale)
    out = {
        "deaths_civilians": totals["killed_by_forces"],
        "deaths_forces": totals["forces_killed"],
        "detained": totals["detained"],
        "unrest_hours": unrest,
        "places_lost": float(sum(s.ticks_lost > 0 for s in summaries.values())),
        "place_hours_lost": float(sum(s.ticks_lost for s in summaries.values()) * hours),
    }
    for name in place_lost:
        out[f"{LOST_PREFIX}{name}"] = float(summaries[name].ticks_lost > 0)
    return out


def onset_ticks(table: pa.Table, onset_share: float = ONSET_SHARE) -> dict[str, int | None]:
    """Place → its onset tick (None: never)."""
    return {s.place: s.onset_tick for s in place_summaries(table, onset_share)}


__all__ = [
    "COUNTRY_OUTCOMES",
    "LOST_BELOW",
    "LOST_PREFIX",
    "ONSET_SHARE",
    "PlaceSummary",
    "UnitSummary",
    "country_outcomes",
    "onset_ticks",
    "people_totals",
    "place_summaries",
    "unit_summaries",
]
