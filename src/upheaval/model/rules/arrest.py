"""Rule C: a cop inspects all sites within vision v* and arrests one active citizen
drawn uniformly at random (Epstein 2002, rule C); the arrestee is jailed for a term
drawn by :func:`upheaval.model.rules.jail.draw_jail_term` and comes out as aggrieved
as it went in. After an arrest the cop either steps onto the arrestee's site
(NetLogo) or stays (Mesa, whose cop then makes its ordinary move).
"""

from __future__ import annotations

from upheaval.core.codes import ACTIVE, JAILED, LANE_ACTIVE, LANE_COP, LANE_QUIET, QUIET
from upheaval.core.jit import hot_rule
from upheaval.core.rng import randint
from upheaval.model.rules.jail import draw_jail_term
from upheaval.world.grid import count_cops_actives, kth_in_lane, lane_of, move_to, relane, unplace

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
