"""Changing the number of cops during a run (run 5's removals, Model II's
peacekeepers inserted at a given tick).

Reinforcements go to uniformly drawn empty sites of the whole lattice (rejection,
then enumeration, as in rule M) and take the lowest free slots; withdrawals remove
cops drawn uniformly among those on duty, one at a time from the ascending list of
their slots. All draws come from the ``events`` stream.
"""

from __future__ import annotations

import numpy as np

from upheaval.model.jit import kernel, rule
from upheaval.model.rng import randint
from upheaval.model.slots import pop_free, remove_agent
from upheaval.model.state import COP, DEAD, LANE_COP, QUIET
from upheaval.world.grid import place

SITE_TRIES = 64


@rule
def random_empty_site_anywhere(g, rng):
    """A uniformly drawn empty site of the lattice, or -1 if none is empty."""
    n = g.width * g.height
    for _ in range(SITE_TRIES):
        c = randint(rng, n)
        if g.occupancy[c] == 0:
            return c
    empties = 0
    for c in range(n):
        empties += g.occupancy[c] == 0
    if empties == 0:
        return -1
    k = randint(rng, empties)
    for c in range(n):
        if g.occupancy[c] == 0:
            if k == 0:
                return c
            k -= 1
    return -1


@kernel
def add_cops(g, a, count, rng, free_slots, meta):
    """Place up to ``count`` new cops; returns how many found an empty site."""
    added = 0
    for _ in range(count):
        c = random_empty_site_anywhere(g, rng)
        if c < 0:
            break
        i = pop_free(free_slots, meta)
        a.kind[i] = COP
        a.status[i] = QUIET
        # A reused slot may hold a dead citizen's attributes; a cop has none.
        a.jail_left[i] = 0
        a.hardship[i] = 0.0
        a.risk_aversion[i] = 0.0
        a.group[i] = 0
        if a.age.shape[0]:
            a.age[i] = 0
            a.death_age[i] = 0
        a.cell_next[i] = -1
        place(g, a, i, c, LANE_COP)
        added += 1
    return added


@kernel(allocates=True)
def remove_cops(g, a, count, hold_site, rng, free_slots, meta):
    """Withdraw ``count`` cops drawn uniformly among those on duty."""
    cops = np.empty(a.kind.shape[0], np.int32)
    n = 0
    for i in range(a.kind.shape[0]):
        if a.kind[i] == COP and a.status[i] != DEAD:
            cops[n] = i
            n += 1
    removed = 0
    for _ in range(min(count, n)):
        k = randint(rng, n)
        j = cops[k]
        cops[k : n - 1] = cops[k + 1 : n]
        n -= 1
        remove_agent(g, a, j, hold_site, free_slots, meta)
        removed += 1
    return removed
