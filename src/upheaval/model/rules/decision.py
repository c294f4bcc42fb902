"""Rule A as a citizen weighs it, with everything that shapes what it perceives.

One test serves every free citizen who decides for itself (``kernels.decide``) and
every member of an organised group weighing whether it is willing
(:func:`~upheaval.model.rules.organisation.member_decide`), so the two can never
perceive the world differently:

    G − N > T,   G = H(1 − L),   N = (ρ·R)·P·J_max^α,   P = 1 − exp(−k·ratio(C, A))

(Epstein 2002, rule A; :mod:`~upheaval.model.rules.activation`), ρ = 1 for rule A
itself and ``organisation.risk_factor`` for a member. C counts the cops and
A = 1 + the actives within vision v. The mechanisms enter here and only here:

* provocateurs' framing scales H by 1 − β·F (:mod:`~upheaval.model.rules.provocation`);
* lethal-force deterrence adds the citizen's fear to P, capped at 1;
* the information channel adds its as-if-seen actives and cops to A and C
  (:mod:`~upheaval.model.rules.information`);
* with identities on and solidarity s < 1, the other group's actives count ⌊s·n⌋
  (:mod:`~upheaval.model.rules.identity`).
"""

from __future__ import annotations

import numpy as np

from upheaval.core.codes import ACTIVE, LANE_ACTIVE, LANE_QUIET, QUIET
from upheaval.core.jit import hot_rule
from upheaval.model.rules.activation import arrest_probability, is_active
from upheaval.model.rules.identity import solidary_count
from upheaval.world.grid import count_cops_actives, relane


@hot_rule
def willing(g, a, i, r, s, legitimacy, deterrence, fear, risk_scale):
    """Whether free citizen ``i`` passes rule A with its risk aversion scaled by
    ``risk_scale`` (module docstring). Changes nothing."""
    site = a.position[i]
    was_active = a.status[i] == ACTIVE
    h = np.float64(a.hardship[i])
    if r.provocateurs_on:  # the framed protest loses bystanders' sympathy
        h = h * s.provocateurs_framing[0]
    risk = np.float64(a.risk_aversion[i])
    if risk_scale != 1.0:
        risk = risk_scale * risk
    # Net risk only grows with P, and 0 ≤ P ≤ 1: a citizen quiet even at P = 0, or
    # active even at P = 1, decides the same whatever it would see (exact in floating
    # point too, as rounding is monotone), so the scan is skipped. Most citizens are
    # one of the two: with L = 0.8, T = 0.1, every H ≤ 0.5 is quiet at P = 0.
    if not is_active(h, risk, legitimacy, r.threshold, min(1.0, fear), deterrence):
        return False
    if is_active(h, risk, legitimacy, r.threshold, 1.0, deterrence):
        return True
    cops, actives = count_cops_actives(g, a, site, r.cit_span_dy, r.cit_span_half)
    if was_active and not r.includes_self:
        actives -= 1  # the scan saw the citizen itself on its own site
    if r.media_on:
        actives += s.media[0]
        cops += s.media[1]
    if r.identity_on and s.identity_solidarity[0] < 1.0:
        # s = 1 counts everyone (floor(1 · n) = n): nothing to do
        actives = solidary_count(g, a, i, site, r, s, cops, actives)
    p = arrest_probability(cops, 1 + actives, r.arrest_constant, r.ratio_rule)
    if r.fear_on:
        p = min(1.0, p + fear)
    return is_active(h, risk, legitimacy, r.threshold, p, deterrence)


@hot_rule
def set_free_status(g, a, i, active):
    """Free citizen ``i`` becomes active or quiet, its lane following."""
    was_active = a.status[i] == ACTIVE
    if active != was_active:
        if active:
            a.status[i] = ACTIVE
            relane(g, a, a.position[i], LANE_QUIET, LANE_ACTIVE)
        else:
            a.status[i] = QUIET
            relane(g, a, a.position[i], LANE_ACTIVE, LANE_QUIET)
