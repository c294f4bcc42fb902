"""Mechanism 8: organised groups and strikes (issue 3; our design, docs/odd.md §7.17).

In the classic model every citizen decides alone. Here a share of the citizens
(``organisation.member_share``) belong to one of ``organisation.groups`` organised
groups — the workers of one employer, a strike committee — that decide together:
a group acts when enough of its members are willing (a quorum, after Granovetter's
1978 thresholds applied to a committee rather than to a crowd, and Oliver & Marwell's
1988 organised collective action), and while it acts every member follows it.

Membership (``org`` = group + 1, 0 for a non-member): drawn at initialisation from
the ``init`` stream after every other initial draw — per live citizen in slot order
one ``uniform`` u, and for a member (u < member_share) one ``randint(groups)``.

A free member's turn (:func:`member_decide`, in place of rule A; no draw):

1. its *willingness*: rule A with its net risk scaled by ρ (``risk_factor``),
   willing ⇔ H(1 − L) − (ρ·R)·P·J_max^α > T, with P from the same scan as rule A
   (cops and actives within vision, the broadcast and fear added as there);
2. it adds itself to its group's tallies: free members, and willing members;
3. it does what its group does this tick: ``strike`` — quiet (off the street, not
   arrestable) and counted in the event ``striking``; ``protest`` — active; the
   group not acting — quiet (it follows its committee).

After all turns (engine, no draw) group g acts next tick iff free_g > 0 and
willing_g ≥ quorum · free_g (:func:`groups_acting`); at tick 1 no group acts. While
a timeline ``general_strike`` is in force (:func:`general_strike_at`) every group
strikes whatever its quorum. A strike hurts the regime: L falls by
λ_strike · striking / citizens each tick (:func:`strike_news`), the news path of
lethal force's backlash (model/rules/legitimacy.py), so it works with legitimacy
feedback off too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from upheaval.core.codes import CITIZEN, DEAD
from upheaval.core.jit import hot_rule, kernel
from upheaval.core.rng import randint, uniform
from upheaval.model.declare import Mechanism, ParameterError, Section, param, section
from upheaval.model.rules.decision import set_free_status
from upheaval.model.rules.decision import willing as passes_rule_a
from upheaval.model.timeline import (
    ActionEvent,
    ActionSpec,
    Key,
    TimelineError,
    actions_of,
    indexed,
)

if TYPE_CHECKING:
    from upheaval.model.params import Params

ORGANISATION = (
    "our design after Granovetter 1978, AJS 83(6) and Oliver & Marwell 1988, ASR 53(1) "
    "(organised collective action; docs/odd.md §7.17)"
)

#: What a group does this tick (``Signals.organisation_mode[group + 1]``).
IDLE = 0
STRIKE = 1
PROTEST = 2
ACTION_CODES = {"strike": STRIKE, "protest": PROTEST}

#: Index of the counter in ``Signals.organisation_counts``.
STRIKING = 0


@kernel
def draw_membership(a, share, groups, rng):
    """Every live citizen in slot order: member iff uniform < share, then its group."""
    for i in range(a.kind.shape[0]):
        if a.kind[i] == CITIZEN and a.status[i] != DEAD:
            if uniform(rng) < share:
                a.org[i] = 1 + randint(rng, groups)
            else:
                a.org[i] = 0


@hot_rule
def member_decide(g, a, i, r, s, legitimacy, deterrence, fear):
    """The turn's decision of free member ``i`` (module docstring); True if active."""
    # rule A as any citizen weighs it (the same perception), its risk scaled by ρ
    ready = passes_rule_a(g, a, i, r, s, legitimacy, deterrence, fear, r.organisation_risk)
    group = a.org[i]
    s.organisation_free[group] += 1
    if ready:
        s.organisation_willing[group] += 1
    mode = s.organisation_mode[group]
    if mode == STRIKE:
        s.organisation_counts[STRIKING] += 1
    now_active = mode == PROTEST
    set_free_status(g, a, i, now_active)
    return now_active


def groups_acting(willing: np.ndarray, free: np.ndarray, quorum: float) -> np.ndarray:
    """int8 flags per group code: 1 iff free > 0 and willing ≥ quorum · free."""
    return ((free > 0) & (willing >= quorum * free)).astype(np.int8)


def group_modes(acting: np.ndarray, action: str, general_strike: bool) -> np.ndarray:
    """What each group does this tick: all strike during a general strike, else an
    acting group does ``action`` and the others are idle."""
    if general_strike:
        modes = np.full(acting.shape[0], STRIKE, np.int8)
    else:
        modes = np.where(acting == 1, ACTION_CODES[action], IDLE).astype(np.int8)
    modes[0] = IDLE  # code 0: non-members, who never reach member_decide
    return modes


def general_strike_at(timeline: Iterable, tick: int) -> bool:
    """Whether a ``general_strike`` action is in force at ``tick``: called at a tick
    ≤ ``tick`` and, if it has a duration, called fewer than ``ticks`` ticks before."""
    for e in actions_of(timeline, "general_strike"):
        if e.tick > tick:
            continue
        if e.ticks < 0 or tick < e.tick + e.ticks:
            return True
    return False


def strike_news(impact: float, striking: int, citizens: int) -> float:
    """λ_strike · striking / N, the drop in L every citizen hears of (0 if N = 0)."""
    if citizens <= 0:
        return 0.0
    return impact * striking / citizens


# -- the mechanism's declaration -------------------------------------------------------
@section("organisation")
class OrganisationParams(Section):
    """Mechanism 8: organised groups that decide together, and strikes."""

    groups: int = param(
        0,
        "Number of organised groups (workers of one employer, a strike committee) that "
        "decide together; 0: no organisation (the classic model, no draws).",
        ORGANISATION,
        kind="int",
        low=0,
        high=32000,
        scope="place",
        initial_only=True,
        name="organisation_groups",
    )
    member_share: float = param(
        0.3,
        "Share of citizens who are members, each of one group drawn uniformly (init "
        "stream, after every other initial draw).",
        ORGANISATION,
        kind="float",
        low=0.0,
        high=1.0,
        scope="place",
        initial_only=True,
        name="organisation_member_share",
    )
    quorum: float = param(
        0.5,
        "A group acts next tick iff its willing members number ≥ quorum × its free "
        "members this tick (0 < quorum ≤ 1).",
        ORGANISATION,
        kind="float",
        low=0.0,
        high=1.0,
        name="organisation_quorum",
    )
    action: str = param(
        "strike",
        "What an acting group does: 'strike' (members stay off the street: quiet, not "
        "arrestable, counted in `striking`) or 'protest' (members go active).",
        ORGANISATION,
        kind="choice",
        choices=("strike", "protest"),
        name="organisation_action",
    )
    risk_factor: float = param(
        0.5,
        "ρ: a member is willing iff H(1 − L) − ρ·R·P·J_max^α > T (rule A with net risk "
        "scaled; a strike risks less than the street).",
        ORGANISATION,
        kind="float",
        low=0.0,
        high=10.0,
        name="organisation_risk_factor",
    )
    strike_impact: float = param(
        0.01,
        "λ_strike: L falls by λ_strike × striking / citizens each tick (news every "
        "citizen hears of, as lethal_force.backlash).",
        ORGANISATION,
        kind="float",
        low=0.0,
        high=1000.0,
        name="organisation_strike_impact",
    )

    def validate(self, p: Params) -> None:
        if self.groups <= 0:
            return
        if p.model.variant == "II":
            # Model II clones would inherit a dead slot's membership.
            raise ParameterError(
                "organisation.groups", "Model II does not yet support organisation"
            )
        if self.quorum <= 0:
            raise ParameterError(
                "organisation.quorum",
                "must be > 0 (a group that needs no willing member always acts; for "
                "everyone out at once use the timeline action general_strike)",
            )
        if self.member_share <= 0:
            raise ParameterError(
                "organisation.member_share",
                f"must be > 0 when organisation.groups = {self.groups} (groups without members)",
            )


class Organisation(Mechanism):
    """Organised groups (see the module docstring)."""

    name = "organisation"
    section = OrganisationParams
    counters = ("striking",)
    rule_fields = ("organisation_on", "organisation_risk", "strikes_hurt")
    signal_fields = ("organisation_mode", "organisation_willing", "organisation_free")
    actions: ClassVar[dict[str, ActionSpec]] = {
        "general_strike": ActionSpec(
            "every organised group strikes from this tick, whatever its quorum, for "
            "`ticks` ticks (default: to the end of the run); needs organisation.groups > 0",
            optional={"ticks": Key("count", default=-1)},
        )
    }

    def is_on(self, p: Params, timeline) -> bool:
        return p.organisation.groups > 0

    def agent_arrays(self, p: Params, timeline) -> tuple[str, ...]:
        return ("org",) if p.organisation.groups > 0 else ()

    def compile_rules(self, p: Params, timeline) -> dict[str, Any]:
        o = p.organisation
        return {
            "organisation_on": o.groups > 0,
            "organisation_risk": float(o.risk_factor),
            "strikes_hurt": o.groups > 0 and o.strike_impact > 0,
        }

    def make_signals(self, p: Params, timeline) -> dict[str, Any]:
        n = p.organisation.groups + 1
        return {
            "organisation_mode": np.zeros(n, np.int8),
            "organisation_willing": np.zeros(n, np.int64),
            "organisation_free": np.zeros(n, np.int64),
        }

    def check_timeline(self, p: Params, timeline) -> None:
        for n, e in indexed(timeline):
            general = isinstance(e, ActionEvent) and e.action == "general_strike"
            if general and p.organisation.groups <= 0:
                raise TimelineError(
                    n, "action", "'general_strike' needs organisation.groups > 0 (groups to strike)"
                )

    def initial_state(self, p: Params) -> dict[str, Any]:
        # int8 per group code, 1 if the group acts next tick: none at tick 1
        return {"acting": np.zeros(p.organisation.groups + 1, np.int8)}

    def initialise(self, place, country) -> None:
        o = place.params.organisation
        if o.groups > 0:
            draw_membership(place.agents, o.member_share, o.groups, place.streams["init"])

    def before_tick(self, place, country) -> None:
        s = place.signals
        strike = general_strike_at(country.timeline_of(place), country.tick)
        s.organisation_mode[:] = group_modes(
            place.state[self.name]["acting"], place.params.organisation.action, strike
        )
        s.organisation_willing[:] = 0
        s.organisation_free[:] = 0

    def after_tick(self, place, country) -> None:
        s = place.signals
        place.state[self.name]["acting"] = groups_acting(
            s.organisation_willing, s.organisation_free, place.params.organisation.quorum
        )


MECHANISM = Organisation()
