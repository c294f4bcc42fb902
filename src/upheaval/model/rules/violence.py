"""Model II: going active means killing a random member of the other group within
vision (Epstein 2002, Model II). The victim is drawn uniformly among the free
(quiet or active) citizens of the other group in the killer's neighbourhood; jailed
citizens are out of reach. The killer stays active, and cops may arrest it.
"""

from __future__ import annotations

from upheaval.core.jit import rule
from upheaval.core.rng import randint
from upheaval.model.slots import remove_agent
from upheaval.world.grid import count_other_group, kth_other_group

EV_KILLED = 1  # + victim's group


@rule
def kill_other_group(g, a, i, r, rng, free_slots, meta, events):
    """Citizen ``i`` kills a random free member of the other group in vision, if any."""
    site = a.position[i]
    n = count_other_group(g, a, site, r.cit_span_dy, r.cit_span_half, a.group[i])
    if n == 0:
        return -1
    k = randint(rng, n)
    j = kth_other_group(g, a, site, r.cit_span_dy, r.cit_span_half, a.group[i], k)
    events[EV_KILLED + a.group[j]] += 1
    remove_agent(g, a, j, r.hold_site, free_slots, meta)
    return j
