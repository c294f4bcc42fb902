"""Rule C: a cop inspects all sites within vision v* and arrests one active citizen
drawn uniformly at random (Epstein 2002, rule C); the arrestee is jailed for a term
drawn by :func:`upheaval.model.rules.jail.draw_jail_term` and comes out as aggrieved
as it went in. After an arrest the cop either steps onto the arrestee's site
(NetLogo) or stays (Mesa, whose cop then makes its ordinary move).

**Arrest rate** (``cops.arrest_rate``, ours; docs/odd.md §7.3). Epstein's cop acts on
an active citizen whenever it sees one. With q_arr < 1 in force (per place, and the
timeline may change it), a cop that sees actives first draws one ``dynamics``
uniform u and acts (rule C as above, or lethal force) only if u < q_arr; otherwise its
rule C does nothing this turn and it makes its ordinary move. The rate thins the
arrests, not what citizens expect: P of rule A is the paper's estimate. A run in
which q_arr is never below 1 runs rule C untouched and draws nothing more; one in
which it may be runs rule C as :func:`upheaval.model.rules.lethal.enforce_with_force`,
which reads the rate in force from the place's signals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from upheaval.core.codes import ACTIVE, JAILED, LANE_ACTIVE, LANE_COP, LANE_QUIET, QUIET
from upheaval.core.jit import hot_rule
from upheaval.core.rng import randint
from upheaval.model.declare import Mechanism
from upheaval.model.rules.jail import draw_jail_term
from upheaval.model.timeline import RampEvent, SetEvent
from upheaval.world.grid import count_cops_actives, kth_in_lane, lane_of, move_to, relane, unplace

if TYPE_CHECKING:
    from upheaval.model.params import Params

EV_ARRESTS = 0


@hot_rule
def arrest(g, a, j, max_jail_term, inclusive, countdown_own, hold_site, rng, events):
    """Jail active citizen ``j``."""
    term = draw_jail_term(max_jail_term, inclusive, rng)
    events[EV_ARRESTS] += 1
    if term == 0 and not countdown_own:
        # NetLogo: a jail term of 0 means not in jail; the arrest only quiets.
        a.status[j] = QUIET
        relane(g, a, a.position[j], LANE_ACTIVE, LANE_QUIET)
        return
    a.status[j] = JAILED
    a.jail_left[j] = term
    new_lane = lane_of(a.kind[j], JAILED, hold_site)
    if hold_site:
        relane(g, a, a.position[j], LANE_ACTIVE, new_lane)
    else:
        unplace(g, a, j, LANE_ACTIVE)


@hot_rule
def enforce(g, a, i, r, max_jail_term, rng, events):
    """Rule C for cop ``i``. Returns the arrestee's slot, or -1 if none."""
    if g.active_total[0] == 0:
        return -1  # nobody active anywhere: no scan needed
    site = a.position[i]
    _, n = count_cops_actives(g, a, site, r.cop_span_dy, r.cop_span_half)
    if n == 0:
        return -1
    k = randint(rng, n)
    j = kth_in_lane(g, a, site, r.cop_span_dy, r.cop_span_half, LANE_ACTIVE, ACTIVE, k)
    arrest(g, a, j, max_jail_term, r.jail_inclusive, r.countdown_own, r.hold_site, rng, events)
    if r.cop_to_arrestee:
        move_to(g, a, i, a.position[j], LANE_COP)
    return j


def arrest_rate_below_one(p: Params, timeline=()) -> bool:
    """Whether an arrest rate below 1 may be in force at some tick of the run: one
    given, or one a timeline ``set`` or ``ramp`` of ``cops.arrest_rate`` brings about."""
    return p.cops.arrest_rate < 1.0 or any(
        isinstance(e, SetEvent | RampEvent) and e.param == "arrest_rate" and e.value < 1.0
        for e in timeline
    )


class ArrestRate(Mechanism):
    """The arrest rate of rule C (see the module docstring)."""

    name = "arrest_rate"
    signal_fields = ("arrest_rate",)

    def is_on(self, p: Params, timeline) -> bool:
        return arrest_rate_below_one(p, timeline)

    def replaces_rule_c(self, p: Params, timeline) -> bool:
        return arrest_rate_below_one(p, timeline)

    def make_signals(self, p: Params, timeline) -> dict[str, Any]:
        return {"arrest_rate": np.array([p.cops.arrest_rate], np.float64)}

    def before_tick(self, place, country) -> None:
        place.signals.arrest_rate[0] = place.now("arrest_rate")


MECHANISM = ArrestRate()
