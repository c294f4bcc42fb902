"""Initial population: who stands where at tick 0, drawn from the ``init`` stream.

Draw order (random-stream contract):

1. placement — 'exact': a Fisher–Yates shuffle of all sites in ascending order; the
   first round(citizen_density × sites) sites get citizens (slots 0, 1, …), the next
   round(cop_density × sites) get cops. 'bernoulli': one uniform per site in
   ascending order; u < citizen_density → citizen, u < citizen_density +
   cop_density → cop; slots in site order.
2. attributes — for each citizen in slot order: hardship, then risk aversion; in
   Model II then group (Blue iff u < blue_share), death age 1 + randint(max_age),
   and age randint(death age).
"""

from __future__ import annotations

import numpy as np

from upheaval.core.codes import BLUE, CITIZEN, COP, GREEN, LANE_COP, LANE_QUIET, QUIET
from upheaval.core.jit import kernel
from upheaval.core.rng import randint, uniform
from upheaval.model.params import Params
from upheaval.model.state import Agents, empty_agents
from upheaval.world.grid import Lattice, empty_lattice, place


def agent_counts(p: Params) -> tuple[int, int]:
    """Citizens and cops under 'exact' placement: round(density × sites).

    Python's round (half to even) matches NetLogo's for the densities used here.
    """
    n = p.n_sites
    return int(round(p.population.citizen_density * n)), int(round(p.population.cop_density * n))


@kernel(allocates=True)
def _shuffled_sites(n_sites, rng):
    sites = np.arange(n_sites).astype(np.int32)
    for k in range(n_sites - 1, 0, -1):
        j = randint(rng, k + 1)
        t = sites[k]
        sites[k] = sites[j]
        sites[j] = t
    return sites


@kernel(allocates=True)
def _place_exact(g, a, n_cit, n_cop, rng):
    sites = _shuffled_sites(g.width * g.height, rng)
    for i in range(n_cit):
        a.kind[i] = CITIZEN
        a.status[i] = QUIET
        place(g, a, i, sites[i], LANE_QUIET)
    for k in range(n_cop):
        i = n_cit + k
        a.kind[i] = COP
        a.status[i] = QUIET
        place(g, a, i, sites[n_cit + k], LANE_COP)
    return n_cit + n_cop


@kernel
def _count_bernoulli(n_sites, cd, copd, rng):
    """How many agents _place_bernoulli will place, drawing from a copy of its stream."""
    n = 0
    for _ in range(n_sites):
        u = uniform(rng)
        if u < cd or u < cd + copd:
            n += 1
    return n


@kernel
def _place_bernoulli(g, a, cd, copd, rng):
    n = 0
    for s in range(g.width * g.height):
        u = uniform(rng)
        if u < cd:
            a.kind[n] = CITIZEN
            a.status[n] = QUIET
            place(g, a, n, s, LANE_QUIET)
            n += 1
        elif u < cd + copd:
            a.kind[n] = COP
            a.status[n] = QUIET
            place(g, a, n, s, LANE_COP)
            n += 1
    return n


@kernel
def _attributes(a, n, model2, blue_share, max_age, rng):
    for i in range(n):
        if a.kind[i] != CITIZEN:
            continue
        a.hardship[i] = np.float32(uniform(rng))
        a.risk_aversion[i] = np.float32(uniform(rng))
        if model2:
            a.group[i] = BLUE if uniform(rng) < blue_share else GREEN
            d = 1 + randint(rng, max_age)
            a.death_age[i] = d
            a.age[i] = randint(rng, d)


def populate(p: Params, rng: np.ndarray) -> tuple[Lattice, Agents, int]:
    """Build the lattice and agents for tick 0. Returns (lattice, agents, slots used)."""
    g = empty_lattice(p.world.width, p.world.height)
    model2 = p.model.variant == "II"
    n_cit, n_cop = agent_counts(p)
    if p.population.placement == "exact":
        capacity = n_cit + n_cop
    elif model2:
        capacity = p.n_sites
    else:
        # Counted first on a copy of the stream, so the arrays are allocated at their
        # final size: no trimmed copy of them at peak memory.
        capacity = _count_bernoulli(
            p.n_sites, p.population.citizen_density, p.population.cop_density, rng.copy()
        )
    if model2:
        capacity = max(capacity, 2 * p.n_sites)
    a = empty_agents(max(capacity, 1), model2)
    if p.population.placement == "exact":
        used = _place_exact(g, a, n_cit, n_cop, rng)
    else:
        used = _place_bernoulli(g, a, p.population.citizen_density, p.population.cop_density, rng)
    _attributes(a, used, model2, p.groups.blue_share, p.groups.max_age, rng)
    return g, a, used
