"""Timeline: parameters that change while a run goes on.

A scenario's ``[[timeline]]`` entries are of two kinds:

* a **set** at one tick — ``{ tick = 77, set = { legitimacy = 0.7 } }`` (run 4's jump);
* a **ramp** over ticks ``start … end`` — ``{ start = 51, end = 120, ramp = { legitimacy
  = 0.2 } }`` moves the value in equal steps from what it was at tick ``start − 1``
  to the target, reached at ``end`` (run 3's one point a tick).

Events take effect at the *start* of their tick, before any agent's turn, so tick 77
is the first tick played with the new value. Parameters a timeline may change are
those marked ``timeline`` in :mod:`upheaval.model.params`: ``legitimacy``,
``max_jail_term`` (a ramp passes through whole terms: each value is rounded, half
to even; a ramp cannot start from ``inf``) and ``cop_density`` (which adds cops on
random empty sites or removes random cops, drawn from the ``events`` stream, to
reach round(density × sites); if the lattice has too few empty sites, the density
reached is what is recorded).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SetEvent:
    """At ``tick``, set ``param`` to ``value``."""

    tick: int
    param: str
    value: float


@dataclass(frozen=True)
class RampEvent:
    """From ``start`` to ``end`` (inclusive), move ``param`` linearly to ``value``."""

    start: int
    end: int
    param: str
    value: float


TimelineEvent = SetEvent | RampEvent


def first_tick(e: TimelineEvent) -> int:
    return e.tick if isinstance(e, SetEvent) else e.start


def last_tick(e: TimelineEvent) -> int:
    return e.tick if isinstance(e, SetEvent) else e.end


def value_at(e: TimelineEvent, tick: int, before: float) -> float | None:
    """The value ``e`` sets at ``tick`` given the value ``before`` the event began,
    or None if ``e`` does not act at ``tick``."""
    if isinstance(e, SetEvent):
        return e.value if tick == e.tick else None
    if tick < e.start or tick > e.end:
        return None
    span = e.end - e.start + 1
    return before + (e.value - before) * (tick - e.start + 1) / span
