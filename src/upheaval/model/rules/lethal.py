"""Mechanism 3: lethal force, and rule C for forces with posts (issue 3; model-spec §4).

:func:`enforce_with_force` replaces rule C (:func:`upheaval.model.rules.arrest.enforce`)
in runs where lethal force may be ordered, per-agent legitimacy is on, or guard
units arrive; otherwise the classic rule runs untouched. It picks the suspect
exactly as rule C does (``randint(actives in vision)``); then, only if the order in
force ``q = lethal_force.probability`` is > 0, draws one more uniform u from the
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

from upheaval.core.codes import ACTIVE, LANE_ACTIVE, LANE_COP
from upheaval.core.jit import hot_rule
from upheaval.core.rng import randint, uniform
from upheaval.model.rules.arrest import arrest
from upheaval.model.rules.legitimacy import witness
from upheaval.model.slots import remove_agent
from upheaval.model.state import EV_KILLED_BY_COPS
from upheaval.world.grid import count_cops_actives, kth_in_lane, move_to


@hot_rule
def enforce_with_force(g, a, i, r, max_jail_term, lethal_p, guard, rng, free_slots, meta, events):
    """Rule C with lethal force and posts for cop ``i``; returns the suspect or -1."""
    if g.active_total[0] == 0:
        return -1
    site = a.position[i]
    _, n = count_cops_actives(g, a, site, r.cop_span_dy, r.cop_span_half)
    if n == 0:
        return -1
    k = randint(rng, n)
    j = kth_in_lane(g, a, site, r.cop_span_dy, r.cop_span_half, LANE_ACTIVE, ACTIVE, k)
    at = a.position[j]
    if lethal_p > 0.0 and uniform(rng) < lethal_p:
        events[EV_KILLED_BY_COPS] += 1
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
