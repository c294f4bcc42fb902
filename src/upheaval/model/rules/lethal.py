"""Mechanism 3: lethal force, and rule C for forces with posts (issue 3; model-spec §4).

:func:`enforce_with_force` replaces rule C (:func:`upheaval.model.rules.arrest.enforce`)
in runs where lethal force may be ordered, per-agent legitimacy is on, guard
units arrive or the arrest rate may fall below 1 (a cop that sees actives then first
draws whether it acts at all, ``cops.arrest_rate``, rules/arrest.py); otherwise the
classic rule runs untouched. It picks the suspect exactly as rule C does
(``randint(actives in vision)``); then, only if the order in force
``q = lethal_force.probability`` is > 0, draws one more uniform u from the
``dynamics`` stream, and:

* u < q: the suspect is killed — removed from the world, its slot freed — and
  counted in ``killed_by_cops`` (apart from Model II's killings by citizens); no
  jail term is drawn. Every free citizen within citizen vision of the site sees it
  (:func:`~upheaval.model.rules.legitimacy.witness`): its fear rises by
  ``lethal_force.deterrence`` (deterrence) and, under per-agent legitimacy, its L_i
  falls by ``legitimacy.seen_kill_impact`` (backlash; the global backlash is the
  news term of :mod:`~upheaval.model.rules.legitimacy`);
* otherwise the suspect is arrested as in rule C (jail term drawn as there), and
  under per-agent legitimacy the free citizens in vision of the site see the arrest.

Fear enters rule A as P + fear (capped at 1) in place of P (``kernels.decide``) and
decays by ``lethal_force.fear_decay`` each tick after all turns. After a killing or
an arrest the cop steps onto the site as after an arrest (``cops.after_arrest``),
unless it is a guard, which never leaves its post.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from upheaval.core.codes import ACTIVE, LANE_ACTIVE, LANE_COP
from upheaval.core.jit import hot_rule
from upheaval.core.rng import randint, uniform
from upheaval.model.declare import Mechanism, Section, param, section
from upheaval.model.rules.arrest import arrest
from upheaval.model.rules.legitimacy import decay_fear, witness
from upheaval.model.slots import remove_agent
from upheaval.model.timeline import RampEvent, SetEvent
from upheaval.world.grid import count_cops_actives, kth_in_lane, move_to

if TYPE_CHECKING:
    from upheaval.model.params import Params

LETHAL = "our design after model-spec §4 (lethal force; Moro 2016, PLoS ONE 11(4))"

#: Index of the counter in ``Signals.lethal_force_counts``.
KILLED_BY_COPS = 0


@hot_rule
def enforce_with_force(g, a, i, r, s, max_jail_term, guard, rng, free_slots, meta, events):
    """Rule C with lethal force and posts for cop ``i``; returns the suspect or -1."""
    if g.active_total[0] == 0:
        return -1
    site = a.position[i]
    _, n = count_cops_actives(g, a, site, r.cop_span_dy, r.cop_span_half)
    if n == 0:
        return -1
    rate = s.arrest_rate[0]
    if rate < 1.0 and uniform(rng) >= rate:
        return -1  # it lets them be this turn (cops.arrest_rate, rules/arrest.py)
    k = randint(rng, n)
    j = kth_in_lane(g, a, site, r.cop_span_dy, r.cop_span_half, LANE_ACTIVE, ACTIVE, k)
    at = a.position[j]
    lethal_p = s.lethal_force_order[0]
    if lethal_p > 0.0 and uniform(rng) < lethal_p:
        s.lethal_force_counts[KILLED_BY_COPS] += 1
        remove_agent(g, a, j, r.hold_site, free_slots, meta)
        if r.fear_on or r.legit_per_agent:
            witness(g, a, at, r.cit_off_dx, r.cit_off_dy, r.seen_kill, r.fear_rise, -1)
    else:
        arrest(g, a, j, max_jail_term, r.jail_inclusive, r.countdown_own, r.hold_site, rng, events)
        if r.legit_per_agent:
            # The arrestee is no witness (a term-0 arrest leaves it free on its site).
            witness(g, a, at, r.cit_off_dx, r.cit_off_dy, r.seen_arrest, 0.0, j)
    if r.cop_to_arrestee and not guard:
        move_to(g, a, i, at, LANE_COP)
    return j


def lethal_ever(p: Params, timeline=()) -> bool:
    """Whether a lethal-force order > 0 may be in force at some tick of the run: one
    given, or one the provocateurs' framing can bring about."""
    return (
        p.lethal_force.probability > 0
        or any(
            isinstance(e, SetEvent | RampEvent) and e.param == "lethal_probability" and e.value > 0
            for e in timeline
        )
        or (p.provocateurs.count > 0 and p.provocateurs.framing_lethal > 0)
    )


# -- the mechanism's declaration -------------------------------------------------------
@section("lethal_force")
class LethalForceParams(Section):
    """Mechanism 3: lethal force, deterrence and backlash."""

    probability: float = param(
        0.0,
        "q: chance that an enforcement kills instead of arresting (the order in force; a "
        "timeline switches it on and off). 0: no killings and no extra draw.",
        LETHAL,
        kind="float",
        low=0.0,
        high=1.0,
        timeline=True,
        name="lethal_probability",
    )
    backlash: float = param(
        2.0,
        "λ_kill: L falls by λ_kill × killings by the police / citizens each tick "
        "(heard of by all).",
        LETHAL,
        kind="float",
        low=0.0,
        high=1000.0,
        name="lethal_backlash",
    )
    deterrence: float = param(
        0.0,
        "Fear added to the estimated arrest probability P of every citizen who sees a "
        "killing (P + fear, capped at 1); 0: no deterrence and no fear array.",
        LETHAL,
        kind="float",
        low=0.0,
        high=1.0,
        name="lethal_deterrence",
    )
    fear_decay: float = param(
        0.9,
        "Fear is multiplied by this each tick.",
        LETHAL,
        kind="float",
        low=0.0,
        high=1.0,
        name="lethal_fear_decay",
    )


class LethalForce(Mechanism):
    """Lethal force (see the module docstring)."""

    name = "lethal_force"
    section = LethalForceParams
    counters = ("killed_by_cops",)
    rule_fields = ("lethal_ever", "fear_on", "fear_rise")
    signal_fields = ("lethal_force_order",)

    def is_on(self, p: Params, timeline) -> bool:
        return lethal_ever(p, timeline)

    def agent_arrays(self, p: Params, timeline) -> tuple[str, ...]:
        return ("fear",) if lethal_ever(p, timeline) and p.lethal_force.deterrence > 0 else ()

    def replaces_rule_c(self, p: Params, timeline) -> bool:
        return lethal_ever(p, timeline)

    def removes_agents(self, p: Params, timeline) -> bool:
        return lethal_ever(p, timeline)

    def compile_rules(self, p: Params, timeline) -> dict[str, Any]:
        lethal = lethal_ever(p, timeline)
        return {
            "lethal_ever": lethal,
            "fear_on": lethal and p.lethal_force.deterrence > 0,
            "fear_rise": float(p.lethal_force.deterrence) if lethal else 0.0,
        }

    def make_signals(self, p: Params, timeline) -> dict[str, Any]:
        # the order in force this tick (raised by the provocateurs' framing)
        return {"lethal_force_order": np.array([p.lethal_force.probability], np.float64)}

    def before_tick(self, place, country) -> None:
        place.signals.lethal_force_order[0] = place.now("lethal_probability")

    def after_tick(self, place, country) -> None:
        if place.rules.fear_on:
            decay_fear(place.agents, place.params.lethal_force.fear_decay)


MECHANISM = LethalForce()
