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

A third kind, an **action** at one tick — ``{ tick = 10, action = "shock", factor =
1.5 }`` — does something a parameter cannot say (mechanisms of issue 3; docs/odd.md
§7.9-7.12). Actions and their keys:

* ``shock``: ``factor`` > 0 multiplies the hardship of the targeted citizens (capped
  at 1); ``target`` is ``"all"`` (default) or ``"group"`` (the hardship group), and
  an optional ``area = [x0, y0, x1, y1]`` (inclusive site bounds) narrows it to the
  citizens whose site lies inside;
* ``rollback``: moves the targeted citizens' hardship back toward its value before
  any shock by ``share`` (0 < share ≤ 1, default 1: all the way); same targeting;
* ``concession``: adds ``legitimacy`` (−1 … 1) to the legitimacy in force (every
  citizen's, under per-agent legitimacy), clamped to [0, 1]; under legitimacy
  feedback the anchor it recovers toward is unchanged;
* ``reinforce``: ``count`` new cops of unit ``unit`` (a name) on uniformly drawn
  empty sites of ``area`` (default: the whole lattice), drawn from the ``events``
  stream; ``mode = "patrol"`` (default: they move like any cop) or ``"guard"``
  (they never leave their site, even after an arrest); ``origin`` =
  ``"local_police"``, ``"national_guard"`` or ``"foreign"`` (default:
  ``security_forces.reinforcement_origin``) sets the unit's loyalty range and whether
  it may defect when cops' minds are on; a unit keeps one mode and one origin;
* ``withdraw``: removes unit ``unit`` — all of it, or ``count`` cops drawn uniformly
  among those of the unit on duty (``events`` stream);
* ``shutdown`` / ``restore``: the long-range information channel goes down / comes
  back (an internet shutdown; needs ``information.enabled``; docs/odd.md §7.15);
* ``shift_command``: ``share`` (0 < share ≤ 1, default 1) of the cops on duty under
  the other faction's command pass to faction ``to`` (``"ruler"`` or ``"rival"``):
  round-half-to-even of share × their number, drawn one at a time uniformly from the
  ascending list of the other faction's cops on duty (``events`` stream; no draw
  when the whole faction passes); needs ``security_forces.minds`` (docs/odd.md §7.18).
* ``general_strike``: every organised group strikes from this tick, whatever its
  quorum, for ``ticks`` ticks (default: to the end of the run); needs
  ``organisation.groups`` > 0 (docs/odd.md §7.17).

Divisive propaganda (mechanism 10, docs/odd.md §7.19) is no action but a ``set`` or
``ramp`` of ``identity.solidarity``, which needs ``identity.enabled``.

Actions of a tick act in the order of the sorted timeline (file order among ties),
after the ``set``/``ramp`` events listed before them.

**Clock time.** With ``run.start`` (when tick 1 begins) and ``run.tick_minutes``
(Δ) set, any entry may give a clock time instead of a tick: ``time`` for ``tick``,
``start_time``/``end_time`` for a ramp's ``start``/``end``. A time τ becomes the
tick during which it falls, ⌊(τ − start)/Δ⌋ + 1 (:func:`tick_at`), so the event
takes effect at the start of that tick; times are converted when the file is read.
A time before ``run.start`` is an error.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any


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


ACTIONS = (
    "shock",
    "rollback",
    "concession",
    "reinforce",
    "withdraw",
    "shutdown",
    "restore",
    "shift_command",
    "general_strike",
)

#: Keys each action takes: (required, optional).
ACTION_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "shock": (("factor",), ("target", "area")),
    "rollback": ((), ("share", "target", "area")),
    "concession": (("legitimacy",), ()),
    "reinforce": (("count", "unit"), ("mode", "area", "origin")),
    "withdraw": (("unit",), ("count",)),
    "shutdown": ((), ()),
    "restore": ((), ()),
    "shift_command": (("to",), ("share",)),
    "general_strike": ((), ("ticks",)),
}

#: Most reinforcement units a run may have (unit codes are int8; 0 is the initial force).
MAX_UNITS = 127


@dataclass(frozen=True)
class ActionEvent:
    """At ``tick``, an action (see the module docstring); unused fields keep defaults."""

    tick: int
    action: str
    factor: float = 1.0
    share: float = 1.0
    legitimacy: float = 0.0
    count: int = -1  # withdraw: -1 means the whole unit
    target: str = "all"
    area: tuple[int, int, int, int] | None = None
    mode: str = "patrol"
    unit: str = ""
    origin: str = ""  # reinforce: "" means security_forces.reinforcement_origin
    to: str = ""  # shift_command: the faction taking command, "ruler" or "rival"
    ticks: int = -1  # general_strike: its duration; -1 means to the end of the run


TimelineEvent = SetEvent | RampEvent | ActionEvent


def tick_at(time: Any, start: str, tick_minutes: float) -> int:
    """The tick during which clock time ``time`` falls: ⌊(time − start)/Δ⌋ + 1.

    ``time`` is a date-time or ISO 8601 text (no offset: UTC); raises ValueError with
    the reason if there is no clock or the time is before the start."""
    from upheaval.model.params import ParameterError, clock_time

    if not start or tick_minutes <= 0:
        raise ValueError("a clock time needs run.start and run.tick_minutes > 0")
    try:
        when = dt.datetime.fromisoformat(clock_time("time", time))
    except ParameterError as e:
        raise ValueError(e.reason) from None
    elapsed = (when - dt.datetime.fromisoformat(start)).total_seconds() / 60.0
    if elapsed < 0:
        raise ValueError(f"{when.isoformat()} is before run.start {start}")
    return math.floor(elapsed / tick_minutes) + 1


def first_tick(e: TimelineEvent) -> int:
    return e.start if isinstance(e, RampEvent) else e.tick


def last_tick(e: TimelineEvent) -> int:
    return e.end if isinstance(e, RampEvent) else e.tick


class TimelineError(ValueError):
    """An action that cannot work with these parameters: ``index`` is its 1-based
    position in the timeline as given, ``key`` the offending key."""

    def __init__(self, index: int, key: str, reason: str):
        self.index, self.key, self.reason = index, key, reason
        super().__init__(f"timeline[{index}].{key}: {reason}")


def unit_origins(timeline: tuple[TimelineEvent, ...] | list[TimelineEvent]) -> dict[str, str]:
    """Unit name → its origin as given on its reinforce actions ("" for the default)."""
    return {
        e.unit: e.origin for e in timeline if isinstance(e, ActionEvent) and e.action == "reinforce"
    }


def unit_codes(timeline: tuple[TimelineEvent, ...] | list[TimelineEvent]) -> dict[str, int]:
    """Unit name → code 1, 2, … in the order units first arrive."""
    codes: dict[str, int] = {}
    for e in sorted(timeline, key=first_tick):
        if isinstance(e, ActionEvent) and e.action == "reinforce" and e.unit not in codes:
            codes[e.unit] = len(codes) + 1
    return codes


def check_actions(params, timeline) -> None:
    """Check actions against the parameters (lattice bounds, the hardship group, units
    arriving before they leave, one mode per unit); raise TimelineError."""
    modes: dict[str, tuple[str, int]] = {}
    origins: dict[str, tuple[str, int]] = {}
    indexed = sorted(enumerate(timeline, start=1), key=lambda ne: first_tick(ne[1]))
    for n, e in indexed:
        if not isinstance(e, ActionEvent):
            if e.param == "identity_solidarity" and not params.identity_enabled:
                kind = "set" if isinstance(e, SetEvent) else "ramp"
                raise TimelineError(
                    n, f"{kind}.identity.solidarity", "needs identity.enabled = true"
                )
            continue
        if e.area is not None:
            x0, y0, x1, y1 = e.area
            if not (0 <= x0 <= x1 < params.width and 0 <= y0 <= y1 < params.height):
                raise TimelineError(
                    n,
                    "area",
                    f"[{x0}, {y0}, {x1}, {y1}] is not inside the {params.width}×"
                    f"{params.height} lattice with x0 ≤ x1, y0 ≤ y1",
                )
        if e.target == "group" and params.hardship_group_share <= 0:
            raise TimelineError(n, "target", "'group' needs hardship.group_share > 0")
        if e.action == "reinforce":
            seen = modes.get(e.unit)
            if seen is not None and seen[0] != e.mode:
                raise TimelineError(
                    n, "mode", f"unit {e.unit!r} arrived as {seen[0]!r} at tick {seen[1]}"
                )
            modes.setdefault(e.unit, (e.mode, e.tick))
            origin = origins.setdefault(e.unit, (e.origin, e.tick))
            if origin[0] != e.origin:
                raise TimelineError(
                    n,
                    "origin",
                    f"unit {e.unit!r} arrived with origin {origin[0] or 'default'!r} "
                    f"at tick {origin[1]}",
                )
            if len(modes) > MAX_UNITS:
                raise TimelineError(n, "unit", f"more than {MAX_UNITS} units")
        if e.action in ("shutdown", "restore") and not params.information_enabled:
            raise TimelineError(n, "action", f"{e.action!r} needs information.enabled = true")
        if e.action == "shift_command" and not params.forces_minds:
            raise TimelineError(n, "action", "'shift_command' needs security_forces.minds = true")
        if e.action == "general_strike" and params.organisation_groups <= 0:
            raise TimelineError(
                n, "action", "'general_strike' needs organisation.groups > 0 (groups to strike)"
            )
        if e.action == "withdraw":
            if e.unit not in modes:
                raise TimelineError(n, "unit", f"no unit {e.unit!r} has arrived by tick {e.tick}")


def value_at(e: TimelineEvent, tick: int, before: float) -> float | None:
    """The value ``e`` sets at ``tick`` given the value ``before`` the event began,
    or None if ``e`` does not act at ``tick``."""
    if isinstance(e, SetEvent):
        return e.value if tick == e.tick else None
    if tick < e.start or tick > e.end:
        return None
    span = e.end - e.start + 1
    return before + (e.value - before) * (tick - e.start + 1) / span
