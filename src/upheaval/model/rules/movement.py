"""Rule M: move to a random empty site within vision (Epstein 2002, rule M).

Empty means no free agent there (and no jailed one if jailed citizens hold their
site). The target is uniform over the empty sites in the neighbourhood; the agent
stays if there is none. We draw it by rejection: up to ``MOVE_TRIES`` sites drawn
uniformly from the whole neighbourhood, the first empty one taken; after that many
misses, the empty sites are enumerated and one is drawn. Both phases are uniform
over the empty sites, so the mixture is too; rejection costs a handful of draws
where a scan costs the whole neighbourhood.
"""

from __future__ import annotations

from upheaval.core.jit import hot_rule
from upheaval.core.rng import randint
from upheaval.world.grid import count_empty, kth_empty, move_to_empty, wrap_site

MOVE_TRIES = 16


@hot_rule
def random_empty_site(g, site, off_dx, off_dy, span_dy, span_half, rng):
    """A uniformly drawn empty site in the neighbourhood of ``site``, or -1."""
    m = off_dx.shape[0]
    x = site % g.width
    y = site // g.width
    for _ in range(MOVE_TRIES):
        k = randint(rng, m)
        c = wrap_site(g, x, y, off_dx[k], off_dy[k])
        if g.occupancy[c] == 0:
            return c
    n = count_empty(g, site, span_dy, span_half)
    if n == 0:
        return -1
    return kth_empty(g, site, span_dy, span_half, randint(rng, n))


@hot_rule
def move(g, a, i, lane, off_dx, off_dy, span_dy, span_half, rng):
    """Rule M for agent ``i`` currently filling ``lane``."""
    c = random_empty_site(g, a.position[i], off_dx, off_dy, span_dy, span_half, rng)
    if c >= 0:
        move_to_empty(g, a, i, c, lane)


@hot_rule
def torus_distance2(g, x, y, fx, fy):
    """Squared Euclidean distance from (x, y) to (fx, fy) across the torus's edges."""
    dx = abs(x - fx)
    dy = abs(y - fy)
    dx = min(dx, g.width - dx)
    dy = min(dy, g.height - dy)
    return dx * dx + dy * dy


@hot_rule
def move_toward(g, a, i, lane, off_dx, off_dy, fx, fy):
    """Rule M drawn to a focal site (information beyond sight, docs/odd.md §7.15): to
    the empty site within vision nearest to (fx, fy), the first in canonical order
    among equals, if it is nearer than where agent ``i`` stands; else stay. No draw."""
    site = a.position[i]
    x = site % g.width
    y = site // g.width
    best = -1
    best_d = torus_distance2(g, x, y, fx, fy)
    for k in range(off_dx.shape[0]):
        c = wrap_site(g, x, y, off_dx[k], off_dy[k])
        if g.occupancy[c] != 0:
            continue
        d = torus_distance2(g, c % g.width, c // g.width, fx, fy)
        if d < best_d:
            best = c
            best_d = d
    if best >= 0:
        move_to_empty(g, a, i, best, lane)
