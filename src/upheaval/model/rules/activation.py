"""Rule A: a citizen is active iff its grievance exceeds its net risk by more than T.

    G = H (1 − L)                    grievance (Epstein 2002, eq. 1)
    P = 1 − exp(−k · ratio(C, A))    estimated arrest probability (eq. 2)
    N = R · P · J_max^α              net risk (eq. 3; α = 0 in the paper's runs)
    active  ⇔  G − N > T             (strict: G − N = T is quiet)

C counts cops and A = 1 + actives within vision v. ``ratio`` is the modelling choice
the paper leaves open (model-spec §1): the literal quotient C/A, or C/A rounded
(floor: NetLogo Rebellion; half to even: Mesa; half up). Rounding is done in
integer arithmetic so every rule is exact.
"""

from __future__ import annotations

import math

from upheaval.core.jit import rule

RATIO_LITERAL = 0
RATIO_FLOOR = 1
RATIO_ROUND_HALF_EVEN = 2
RATIO_ROUND_HALF_UP = 3

RATIO_RULES = {
    "literal": RATIO_LITERAL,
    "floor": RATIO_FLOOR,
    "round_half_even": RATIO_ROUND_HALF_EVEN,
    "round_half_up": RATIO_ROUND_HALF_UP,
}


@rule(python=True)
def cop_active_ratio(cops, actives, rule):
    """(C/A) under a ratio rule; ``actives`` ≥ 1.

    literal C/A (Epstein 2002's text), ⌊C/A⌋ (NetLogo Rebellion), C/A rounded half
    to even (Mesa, Python ``round``) or half up (model-spec §1).
    """
    if rule == RATIO_LITERAL:
        return cops / actives
    q = cops // actives
    rem = cops - q * actives
    if rule == RATIO_FLOOR:
        return float(q)
    twice = 2 * rem
    if twice > actives:
        return float(q + 1)
    if twice == actives:
        if rule == RATIO_ROUND_HALF_UP or q % 2 == 1:
            return float(q + 1)
    return float(q)


@rule(python=True)
def arrest_probability(cops, actives, k, rule):
    """P = 1 − exp(−k · ratio(C, A)) (Epstein 2002, eq. 2)."""
    return 1.0 - math.exp(-k * cop_active_ratio(cops, actives, rule))


@rule(python=True)
def is_active(hardship, risk_aversion, legitimacy, threshold, p_arrest, deterrence):
    """G − N > T with G = H(1 − L), N = R·P·deterrence (deterrence = J_max^α);
    Epstein 2002, rule A (strict: G − N = T is quiet)."""
    grievance = hardship * (1.0 - legitimacy)
    net_risk = risk_aversion * p_arrest * deterrence
    return grievance - net_risk > threshold
