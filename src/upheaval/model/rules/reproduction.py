"""Model II demography (Epstein 2002, Model II): every citizen ages one tick per tick
and dies on reaching its death age, drawn uniformly from 1 … max_age; every free
citizen clones with probability ``clone_probability`` a tick onto a uniformly drawn
empty neighbouring site (none free: no clone). The clone keeps group, hardship and
risk aversion, starts quiet at age 0 and draws its own death age.

Order (part of the random-stream contract): after all turns, first ageing in slot
order, then cloning over the free citizens in slot order as they stood before any
clone was born; each draws one uniform, and a cloning citizen then draws its site
and its clone's death age.
"""

from __future__ import annotations

import numpy as np

from upheaval.core.codes import ACTIVE, CITIZEN, DEAD, LANE_QUIET, QUIET
from upheaval.core.jit import rule
from upheaval.core.rng import randint, uniform
from upheaval.model.slots import pop_free, remove_agent
from upheaval.world.grid import count_empty, kth_empty, place

EV_BORN = 3  # + group
EV_DIED = 5  # + group


@rule
def age_and_die(g, a, n_slots, hold_site, free_slots, meta, events):
    """age ← age + 1 for every citizen, jailed included; death at age ≥ death age,
    death age ~ 1 + U{0 … max_age − 1} (Epstein 2002, Model II: U(0, 200))."""
    for i in range(n_slots):
        if a.kind[i] == CITIZEN and a.status[i] != DEAD:
            a.age[i] += 1
            if a.age[i] >= a.death_age[i]:
                events[EV_DIED + a.group[i]] += 1
                remove_agent(g, a, i, hold_site, free_slots, meta)


@rule
def clone(g, a, r, n_slots, parents, rng, free_slots, meta, events):
    """Each free citizen clones with probability p = clone_probability onto a
    uniformly drawn empty neighbouring site (Epstein 2002, Model II: p = 0.05)."""
    n = 0
    for i in range(n_slots):
        if a.kind[i] == CITIZEN and (a.status[i] == QUIET or a.status[i] == ACTIVE):
            parents[n] = i
            n += 1
    for t in range(n):
        i = parents[t]
        if uniform(rng) >= r.clone_probability:
            continue
        site = a.position[i]
        m = count_empty(g, site, r.clone_span_dy, r.clone_span_half)
        if m == 0:
            continue
        c = kth_empty(g, site, r.clone_span_dy, r.clone_span_half, randint(rng, m))
        j = pop_free(free_slots, meta)
        a.kind[j] = CITIZEN
        a.status[j] = QUIET
        a.hardship[j] = a.hardship[i]
        a.risk_aversion[j] = a.risk_aversion[i]
        a.group[j] = a.group[i]
        a.jail_left[j] = 0
        a.age[j] = 0
        a.death_age[j] = np.int16(1 + randint(rng, r.max_age))
        a.cell_next[j] = -1
        place(g, a, j, c, LANE_QUIET)
        events[EV_BORN + a.group[j]] += 1
