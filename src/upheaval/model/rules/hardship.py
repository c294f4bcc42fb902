"""Mechanism 2: hardship heterogeneity, groups and shocks (issue 3; model-spec §4).

Initial hardship. The population draws one uniform u per citizen (stored as float32
in ``hardship``, engine/population.py); this module then maps it, so no draw of the
classic contract moves:

* ``hardship.distribution = "uniform"``: H = float32(low + (high − low)·u) (skipped,
  H = u exactly, at the paper's [0, 1]);
* ``"beta"``: H = float32(I⁻¹(beta_a, beta_b; u)), the Beta quantile
  (``scipy.special.betaincinv``);
* a hardship group (``hardship.group_share`` > 0): after all other initial draws,
  one more uniform per citizen from the ``init`` stream in slot order; a citizen is
  in the group iff it is < group_share, and then H = float32(group_low +
  (group_high − group_low)·u) from its own u instead.

Shocks and rollbacks (timeline actions, no draws): a shock multiplies H by a factor
(capped at 1) for the citizens targeted (all or the group, optionally only those
whose site lies in an area; jailed citizens count at the site they were taken
from); a rollback moves H toward its value before any shock (``hardship0``) by a
share: H = float32(H + share·(H0 − H)).
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaincinv

from upheaval.core.codes import CITIZEN, DEAD
from upheaval.core.jit import kernel, rule
from upheaval.core.rng import uniform
from upheaval.model.params import Params


def needs_shaping(p: Params) -> bool:
    """Whether initial hardship differs from the paper's U(0, 1)."""
    return (
        p.hardship_distribution != "uniform"
        or (p.hardship_low, p.hardship_high) != (0.0, 1.0)
        or p.hardship_group_share > 0
    )


@kernel
def draw_group(a, share, rng):
    """One uniform per live citizen in slot order: cohort 1 iff u < share."""
    for i in range(a.kind.shape[0]):
        if a.kind[i] == CITIZEN and a.status[i] != DEAD:
            a.cohort[i] = 1 if uniform(rng) < share else 0


def shape_hardship(p: Params, a, rng: np.ndarray) -> None:
    """Map each citizen's stored uniform to its hardship (see the module docstring)."""
    citizens = (a.kind == CITIZEN) & (a.status != DEAD)
    u = a.hardship[citizens].astype(np.float64)
    if p.hardship_distribution == "beta":
        h = betaincinv(p.hardship_beta_a, p.hardship_beta_b, u)
    elif (p.hardship_low, p.hardship_high) != (0.0, 1.0):
        h = p.hardship_low + (p.hardship_high - p.hardship_low) * u
    else:
        h = u
    if p.hardship_group_share > 0:
        draw_group(a, p.hardship_group_share, rng)
        in_group = a.cohort[citizens] == 1
        lo, hi = p.hardship_group_low, p.hardship_group_high
        h = np.where(in_group, lo + (hi - lo) * u, h)
    a.hardship[citizens] = h.astype(np.float32)


@rule
def _targeted(a, i, width, group_only, x0, y0, x1, y1):
    """Whether citizen ``i`` is hit by a shock or rollback with this target and area."""
    if a.kind[i] != CITIZEN or a.status[i] == DEAD:
        return False
    if group_only and a.cohort[i] != 1:
        return False
    x = a.position[i] % width
    y = a.position[i] // width
    return x0 <= x <= x1 and y0 <= y <= y1


@kernel
def shock(a, width, factor, group_only, x0, y0, x1, y1):
    """H ← float32(min(1, H·factor)) for the targeted citizens; returns how many."""
    n = 0
    for i in range(a.kind.shape[0]):
        if _targeted(a, i, width, group_only, x0, y0, x1, y1):
            a.hardship[i] = np.float32(min(1.0, np.float64(a.hardship[i]) * factor))
            n += 1
    return n


@kernel
def rollback(a, width, share, group_only, x0, y0, x1, y1):
    """H ← float32(H + share·(H0 − H)) for the targeted citizens; returns how many."""
    n = 0
    for i in range(a.kind.shape[0]):
        if _targeted(a, i, width, group_only, x0, y0, x1, y1):
            h = np.float64(a.hardship[i])
            a.hardship[i] = np.float32(h + share * (np.float64(a.hardship0[i]) - h))
            n += 1
    return n
