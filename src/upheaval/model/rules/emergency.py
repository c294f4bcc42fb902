"""States of emergency and curfews, per place or region (docs/odd.md §12.3).

A timeline ``emergency`` action declares a state of emergency — in the whole
country, or with ``place``/``region`` only there — and ``lift_emergency`` ends it.
While it holds, every citizen's risk aversion counts ``emergency.risk_factor``
times (ρ_E): rule A reads N = (ρ_E·R)·P·J_max^α, so the same crowd and the same
police deter more (checkpoints, patrols, the threat of emergency courts raise
the expected cost of protest; Kazakhstan's decrees of 5 January 2022 allowed
detention without charge). An emergency may set a **curfew**: from
``curfew_from`` to ``curfew_to`` o'clock, *local* time (the place's
``utc_offset`` and the run's clock), the factor is ``emergency.curfew_risk_factor``
instead — free citizens keep off the street unless their grievance is far above
the risk. A later ``emergency`` replaces the earlier one's curfew.

The forms are ours: a curfew acts on the decision to be out, not on movement;
there are no draws (the random-stream contract is unchanged), and whether a
place is under an emergency or a curfew at a tick is a function of its timeline
and its clock alone, so checkpoints carry nothing. Columns: ``under_emergency``
and ``under_curfew`` (1 in a tick when the place is, else 0).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from upheaval.model.declare import Mechanism, Section, param, section
from upheaval.model.timeline import ActionEvent, ActionSpec, Key, TimelineError, first_tick, indexed

if TYPE_CHECKING:
    from upheaval.model.params import Params

EMERGENCY = (
    "our design (docs/odd.md §12.3), after the regional states of emergency and "
    "curfews of 4-19 January 2022 in Kazakhstan (docs/brief.md)"
)


@section("emergency")
class EmergencyParams(Section):
    """States of emergency and curfews."""

    risk_factor: float = param(
        2.0,
        "ρ_E: under a state of emergency a citizen's risk aversion counts ρ_E times in "
        "rule A (N = ρ_E·R·P·J_max^α).",
        EMERGENCY,
        kind="float",
        low=0.0,
        high=1000.0,
        name="emergency_risk_factor",
    )
    curfew_risk_factor: float = param(
        6.0,
        "The factor during a curfew's hours (local time) instead of ρ_E.",
        EMERGENCY,
        kind="float",
        low=0.0,
        high=1000.0,
        name="emergency_curfew_risk_factor",
    )


def emergency_at(timeline, tick: int) -> ActionEvent | None:
    """The ``emergency`` in force at ``tick`` (the last one at a tick ≤ ``tick`` not
    lifted since), or None."""
    now = None
    for e in sorted(timeline, key=first_tick):
        if not isinstance(e, ActionEvent) or e.tick > tick:
            continue
        if e.action == "emergency":
            now = e
        elif e.action == "lift_emergency":
            now = None
    return now


def local_hour(start: str, tick_minutes: float, tick: int, utc_offset: float) -> float:
    """The local hour (0 ≤ h < 24) at the start of ``tick`` (tick 1 starts at
    ``start``)."""
    begins = dt.datetime.fromisoformat(start) + dt.timedelta(minutes=tick_minutes * (tick - 1))
    local = begins + dt.timedelta(hours=utc_offset)
    return local.hour + local.minute / 60.0


def in_curfew(hour: float, start: int, end: int) -> bool:
    """Whether local ``hour`` falls in the curfew ``start`` … ``end`` o'clock (across
    midnight when end < start; none when they are equal)."""
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


class Emergency(Mechanism):
    """States of emergency and curfews (module docstring)."""

    name = "emergency"
    section = EmergencyParams
    rule_fields = ("emergency_on",)
    signal_fields = ("emergency_risk",)
    counters = ("under_emergency", "under_curfew")
    actions: ClassVar[dict[str, ActionSpec]] = {
        "emergency": ActionSpec(
            "a state of emergency (where the entry's place or region says, else "
            "everywhere): risk aversion counts emergency.risk_factor times; with "
            "`curfew_from` and `curfew_to` (local hours 0-23) a curfew with "
            "emergency.curfew_risk_factor",
            optional={
                "curfew_from": Key("number", default=-1.0, low=-1.0, high=23.0),
                "curfew_to": Key("number", default=-1.0, low=-1.0, high=23.0),
            },
        ),
        "lift_emergency": ActionSpec("the state of emergency ends"),
    }

    def is_on(self, p: Params, timeline) -> bool:
        return any(isinstance(e, ActionEvent) and e.action in self.actions for e in timeline)

    def compile_rules(self, p: Params, timeline) -> dict[str, Any]:
        return {"emergency_on": self.is_on(p, timeline)}

    def make_signals(self, p: Params, timeline) -> dict[str, Any]:
        return {"emergency_risk": np.ones(1, np.float64)}

    def check_timeline(self, p: Params, timeline) -> None:
        for n, e in indexed(timeline):
            if not isinstance(e, ActionEvent) or e.action != "emergency":
                continue
            given = (e.curfew_from >= 0, e.curfew_to >= 0)
            if given[0] != given[1]:
                raise TimelineError(n, "curfew_to", "give curfew_from and curfew_to, or neither")
            if given[0]:
                if e.curfew_from != int(e.curfew_from) or e.curfew_to != int(e.curfew_to):
                    raise TimelineError(n, "curfew_from", "curfew hours are whole hours 0-23")
                if not p.run.start or p.run.tick_minutes <= 0:
                    raise TimelineError(
                        n, "curfew_from", "a curfew needs a clock: run.start and run.tick_minutes"
                    )

    def factor(self, place, country) -> tuple[float, bool, bool]:
        """(risk factor, under emergency, under curfew) of ``place`` now."""
        e = emergency_at(country.timeline_of(place), country.tick)
        if e is None:
            return 1.0, False, False
        p = place.params
        if e.curfew_from >= 0:
            hour = local_hour(p.run.start, p.run.tick_minutes, country.tick, place.utc_offset)
            if in_curfew(hour, int(e.curfew_from), int(e.curfew_to)):
                return p.emergency.curfew_risk_factor, True, True
        return p.emergency.risk_factor, True, False

    def before_tick(self, place, country) -> None:
        risk, emergency, curfew = self.factor(place, country)
        s = place.signals
        s.emergency_risk[0] = risk
        s.emergency_counts[0] = int(emergency)
        s.emergency_counts[1] = int(curfew)


MECHANISM = Emergency()
