"""Rule A (model-spec §3, claims E0 and E1): the arrest probability, the strict
threshold and the table of values each ratio rule gives."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from reference.model import ratio as reference_ratio
from upheaval import Simulation
from upheaval.core.codes import ACTIVE, CITIZEN, QUIET
from upheaval.model.params import Params
from upheaval.model.rules.activation import (
    RATIO_RULES,
    arrest_probability,
    cop_active_ratio,
    is_active,
)

K = 2.3


def expected_ratio(cops: int, actives: int, rule: str) -> float:
    """The ratio rules by definition: Python's floor and round, and half up."""
    exact = Fraction(cops, actives)
    if rule == "literal":
        return cops / actives
    if rule == "floor":
        return float(math.floor(exact))
    if rule == "round_half_even":
        return float(round(cops / actives))  # Python's round, as Mesa uses it
    return float(math.floor(exact + Fraction(1, 2)))


@pytest.mark.parametrize("rule", RATIO_RULES)
def test_E0_arrest_probability_is_about_0_9_with_one_cop_and_one_active(rule):
    p = arrest_probability(1, 1, K, RATIO_RULES[rule])
    assert p == 1.0 - math.exp(-2.3)
    assert abs(p - 0.9) < 0.001


@pytest.mark.parametrize("rule", RATIO_RULES)
@pytest.mark.parametrize("actives", range(1, 12))
def test_E0_no_cops_means_no_risk(rule, actives):
    assert arrest_probability(0, actives, K, RATIO_RULES[rule]) == 0.0


def test_E0_grievance_minus_net_risk_equal_to_threshold_is_quiet():
    # Exact binary fractions: G = 0.75·(1 − 0.5) = 0.375, N = 0.5·0.25·1 = 0.125,
    # G − N = 0.25 = T exactly.
    assert not is_active(0.75, 0.5, 0.5, 0.25, 0.25, 1.0)
    assert is_active(0.75, 0.5, 0.5, 0.25 - 2.0**-40, 0.25, 1.0)
    # And the deterrence factor multiplies net risk: N = 0.5·0.25·2 = 0.25, G − N = 0.125.
    assert not is_active(0.75, 0.5, 0.5, 0.125, 0.25, 2.0)
    assert is_active(0.75, 0.5, 0.5, 0.125 - 2.0**-40, 0.25, 2.0)


@pytest.mark.parametrize(
    ("hardship", "active"), [(0.5, False), (np.nextafter(np.float32(0.5), 1), True)]
)
def test_E0_strict_threshold_in_the_engine(hardship, active):
    """No cops (P = 0), L = 0.5, T = 0.25: G = H/2 equals T at H = 0.5, so nobody
    turns active; one float32 step above, everybody does."""
    p = Params(
        width=9,
        height=9,
        citizen_vision=1.0,
        cop_vision=1.0,
        cop_density=0.0,
        legitimacy=0.5,
        threshold=0.25,
        citizen_movement=False,
    )
    sim = Simulation(p, seed=1)
    citizens = sim.place.agents.kind == CITIZEN
    sim.place.agents.hardship[citizens] = np.float32(hardship)
    sim.step()
    status = sim.place.agents.status[citizens]
    assert np.all(status == (ACTIVE if active else QUIET))


@pytest.mark.parametrize("rule", RATIO_RULES)
def test_E1_ratio_rule_table(rule):
    """Every C in 0..6 against A in 1..7 (A counts the citizen itself, so A ≥ 1)."""
    code = RATIO_RULES[rule]
    for cops in range(7):
        for actives in range(1, 8):
            want = expected_ratio(cops, actives, rule)
            assert cop_active_ratio(cops, actives, code) == want, (cops, actives)
            assert reference_ratio(cops, actives, rule) == want, (cops, actives)
            assert arrest_probability(cops, actives, K, code) == 1.0 - math.exp(-K * want)


@pytest.mark.parametrize(
    ("cops", "actives", "floor", "half_even", "half_up"),
    [
        (1, 2, 0, 0, 1),  # 0.5
        (3, 2, 1, 2, 2),  # 1.5
        (5, 2, 2, 2, 3),  # 2.5
        (7, 2, 3, 4, 4),  # 3.5
        (2, 3, 0, 1, 1),  # 0.67
        (4, 3, 1, 1, 1),  # 1.33
        (6, 4, 1, 2, 2),  # 1.5
        (2, 4, 0, 0, 1),  # 0.5
    ],
)
def test_E1_the_rules_differ_where_the_docs_say(cops, actives, floor, half_even, half_up):
    """Worked by hand: floor truncates; at exact halves half-even goes to the even
    neighbour and half-up goes up; otherwise both round to nearest."""
    assert cop_active_ratio(cops, actives, RATIO_RULES["floor"]) == floor
    assert cop_active_ratio(cops, actives, RATIO_RULES["round_half_even"]) == half_even
    assert cop_active_ratio(cops, actives, RATIO_RULES["round_half_up"]) == half_up
    assert cop_active_ratio(cops, actives, RATIO_RULES["literal"]) == cops / actives


def test_synchronous_decisions_all_read_the_lattice_of_the_previous_tick():
    """Every citizen's synchronous decision is the one it would take alone on the
    unchanged lattice, although applying them changes what neighbours see."""
    import numba
    import numpy as np

    import upheaval
    from upheaval.model.kernels import deterrence_factor, synchronous_decisions
    from upheaval.model.rules.decision import willing
    from upheaval.model.state import Agents
    from upheaval.world.grid import copy_lattice

    sc = upheaval.apply_overrides(
        upheaval.load("epstein2002-run2"),
        {"citizens.activation": "synchronous", "citizens.legitimacy": 0.75},
    )
    sim = upheaval.Simulation(sc, seed=4)
    sim.step(13)  # an outburst is building: the next decisions change 110 statuses
    g, a, r, s = sim.place.lattice, sim.place.agents, sim.place.rules, sim.place.signals
    L, jmax = sim.place.now("legitimacy"), sim.place.now("max_jail_term")
    det = deterrence_factor(jmax, r.deterrence_exponent)
    free = np.flatnonzero((a.kind == 0) & (a.status <= 1))

    # the rules have no Python entry (core/jit.rule): called through compiled code
    @numba.njit
    def willing_alone(g, a, i, r, s, L, det):
        return willing(g, a, i, r, s, L, det, 0.0, 1.0)

    @numba.njit
    def decide_all(g, a, r, s, L, jmax, scratch):
        synchronous_decisions(g, a, r, s, L, jmax, scratch)

    alone = {int(i): bool(willing_alone(g, a, int(i), r, s, L, det)) for i in free}
    g2, a2 = copy_lattice(g), Agents(*(x.copy() for x in a))
    decide_all(g2, a2, r, s, L, jmax, np.zeros(a.kind.shape[0], np.int32))
    assert {i: bool(a2.status[i] == 1) for i in alone} == alone
    changed = sum(alone[i] != bool(a.status[i] == 1) for i in alone)
    assert changed > 50  # the tick changes many statuses, so order would have mattered
