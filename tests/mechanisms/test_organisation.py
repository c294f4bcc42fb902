"""Mechanism 8, organised groups and strikes (docs/odd.md §7.17): validation with
errors naming the key, the quorum rule, strikers off the street, the strike's news
term, membership draws, branching, and the ``general-strike`` counterfactual."""

from __future__ import annotations

import numpy as np
import pytest

import upheaval
from upheaval.core.codes import ACTIVE, CITIZEN, DEAD, JAILED, QUIET
from upheaval.engine.simulation import Simulation
from upheaval.experiments.compare import VariantError, make_variant
from upheaval.model.params import ParameterError, Params, validate_params
from upheaval.model.rules.organisation import (
    IDLE,
    PROTEST,
    STRIKE,
    general_strike_at,
    group_modes,
    groups_acting,
)
from upheaval.model.ticks import agents_in
from upheaval.model.timeline import ActionEvent, SetEvent
from upheaval.scenario.loading import ScenarioError, apply_overrides, load_file
from upheaval.scenario.schema import Scenario

HEAD = '[scenario]\nextends = "epstein2002-run2"\n'
ORG = "[organisation]\ngroups = 5\n"
SMALL = Params(legitimacy=0.7, organisation_groups=6, organisation_member_share=0.4)


def load_text(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(HEAD + text, "utf-8")
    return load_file(path)


@pytest.mark.parametrize(
    ("changes", "location", "reason"),
    [
        ({"organisation_groups": 3, "organisation_quorum": 0.0}, "organisation.quorum", "> 0"),
        (
            {"organisation_groups": 3, "organisation_member_share": 0.0},
            "organisation.member_share",
            "> 0",
        ),
        ({"organisation_groups": 3, "variant": "II"}, "organisation.groups", "Model II"),
        ({"organisation_groups": -1}, "organisation.groups", "≥ 0"),
        ({"organisation_quorum": 1.5}, "organisation.quorum", "≤ 1"),
        ({"organisation_action": "riot"}, "organisation.action", "'strike', 'protest'"),
        ({"organisation_risk_factor": -0.1}, "organisation.risk_factor", "≥ 0"),
        ({"organisation_strike_impact": float("nan")}, "organisation.strike_impact", "nan"),
    ],
)
def test_bad_organisation_parameters_are_named(changes, location, reason):
    with pytest.raises(ParameterError) as info:
        validate_params(Params().replace(**changes))
    assert info.value.location == location
    assert reason in info.value.reason, info.value.reason


def test_organisation_off_by_default_and_quorum_zero_is_fine_when_off():
    p = validate_params(Params(organisation_quorum=0.0))
    assert p.organisation.groups == 0
    sim = Simulation(p, seed=1)
    assert sim.place.agents.org.shape[0] == 0 and not sim.place.rules.organisation_on


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ('[[timeline]]\ntick = 5\naction = "general_strike"\n', "timeline[1].action", "groups"),
        (
            ORG + '[[timeline]]\ntick = 5\naction = "general_strike"\nticks = 0\n',
            "timeline[1].ticks",
            "≥ 1",
        ),
        (
            ORG + '[[timeline]]\ntick = 5\naction = "general_strike"\nticks = 2.5\n',
            "timeline[1].ticks",
            "integer",
        ),
        (
            ORG + '[[timeline]]\ntick = 5\naction = "general_strike"\ncount = 3\n',
            "timeline[1].count",
            "unknown key",
        ),
        ("[organisation]\ngroups = 2\nquorum = 0\n", "organisation.quorum", "> 0"),
        ("[organisation]\nmembers = 0.2\n", "organisation.members", "unknown key"),
    ],
)
def test_bad_scenario_entries_are_named(tmp_path, text, key, reason):
    with pytest.raises(ScenarioError) as info:
        load_text(tmp_path, text)
    assert info.value.key == key, str(info.value)
    assert reason in info.value.reason, info.value.reason


def test_override_removing_the_groups_under_a_general_strike_is_named(tmp_path):
    sc = load_text(tmp_path, ORG + '[[timeline]]\ntick = 5\naction = "general_strike"\n')
    with pytest.raises(ScenarioError) as info:
        apply_overrides(sc, ["organisation.groups=0"])
    assert info.value.key == "timeline[1].action"


def test_general_strike_loads_and_is_in_force_for_its_ticks(tmp_path):
    sc = load_text(
        tmp_path,
        ORG + '[[timeline]]\ntick = 5\naction = "general_strike"\nticks = 3\n'
        '[[timeline]]\ntick = 20\naction = "general_strike"\n',
    )
    assert sc.timeline[0] == ActionEvent(tick=5, action="general_strike", ticks=3)
    assert sc.timeline[1].ticks == -1
    in_force = [t for t in range(1, 30) if general_strike_at(sc.timeline, t)]
    assert in_force == [5, 6, 7, *range(20, 30)]


def test_quorum_rule_and_modes():
    willing = np.array([0, 3, 2, 0, 5])
    free = np.array([0, 6, 6, 0, 5])
    # group 1: 3 ≥ 0.5·6 acts (the boundary counts); 2: 2 < 3; 3: no free member
    assert groups_acting(willing, free, 0.5).tolist() == [0, 1, 0, 0, 1]
    acting = np.array([0, 1, 0, 0, 1], np.int8)
    assert group_modes(acting, "protest", False).tolist() == [IDLE, PROTEST, IDLE, IDLE, PROTEST]
    assert group_modes(acting, "strike", True).tolist() == [IDLE, *[STRIKE] * 4]


def test_membership_draws_each_member_into_one_group():
    sim = Simulation(SMALL, seed=3)
    a = sim.place.agents
    citizens = (a.kind == CITIZEN) & (a.status != DEAD)
    org = a.org[citizens]
    assert org.min() >= 0 and org.max() <= 6
    share = np.count_nonzero(org > 0) / org.shape[0]
    assert abs(share - 0.4) < 0.05  # 1,120 citizens: 3.5 standard errors
    assert set(np.unique(org[org > 0]).tolist()) == set(range(1, 7))
    assert not np.any(a.org[a.kind != CITIZEN])
    # the draws come after every other initial draw: the population is the classic one
    classic = Simulation(SMALL.replace(organisation_groups=0), seed=3)
    for name in ("position", "hardship", "risk_aversion", "kind"):
        assert np.array_equal(getattr(a, name), getattr(classic.place.agents, name)), name


def test_members_follow_their_group_and_strikers_stay_off_the_street():
    """Members are never active on their own under 'strike'; during a general strike
    none is arrested, every free member who takes a turn is counted, and they stay
    quiet."""
    sc = Scenario(
        params=SMALL.replace(organisation_quorum=1.0),
        timeline=(ActionEvent(tick=30, action="general_strike", ticks=20),),
    )
    sim = Simulation(sc, seed=2)
    a = sim.place.agents
    members = a.org > 0
    jailed_at_start = None
    for _ in range(60):
        sim.step()
        row = sim.counts()
        assert not np.any(members & (a.status == ACTIVE))
        if 30 <= sim.tick < 50:
            jailed = int(np.count_nonzero(members & (a.status == JAILED)))
            if jailed_at_start is None:
                jailed_at_start = jailed
            assert jailed <= jailed_at_start  # strikers are not arrestable
            quiet = int(np.count_nonzero(members & (a.status == QUIET)))
            assert 0 < row["striking"] <= quiet
        elif sim.tick >= 50:
            assert row["striking"] == 0  # quorum 1 is never met here
    assert sum(r.active_blue for r in sim.place.history) > 0  # non-members


def test_strikes_lower_legitimacy_by_their_news_term():
    """With feedback off, L falls each tick by exactly λ_strike · striking / citizens."""
    p = SMALL.replace(organisation_quorum=0.2, organisation_strike_impact=0.5)
    sim = Simulation(Scenario(params=p), seed=1)
    sim.step(40)
    h = sim.place.history
    for t in range(1, len(h) - 1):
        citizens = agents_in(h[t]) - h[t].cops
        expected = min(1.0, max(0.0, h[t].legitimacy - 0.5 * h[t].striking / citizens))
        assert h[t + 1].legitimacy == expected, t
    struck = sum(row.striking for row in h)
    assert struck > 0 and sim.place.row.legitimacy < p.citizens.legitimacy


def test_checkpoint_carries_the_groups_verdicts_and_refuses_new_groups():
    sc = Scenario(params=SMALL.replace(organisation_quorum=0.2))
    sim = Simulation(sc, seed=4)
    sim.step(20)
    cp = sim.checkpoint()
    assert np.array_equal(
        cp.places[0].state["organisation"]["acting"], sim.place.state["organisation"]["acting"]
    )
    with pytest.raises(ValueError, match=r"organisation\.groups"):
        Simulation.restore(cp, sc.with_params(organisation_groups=3))
    with pytest.raises(ValueError, match=r"organisation\.member_share"):
        Simulation.restore(cp, sc.with_params(organisation_member_share=0.5))
    # quorum, action and impact may change in a branch
    branch = Simulation.restore(cp, sc.with_params(organisation_action="protest"))
    branch.step(5)
    assert branch.tick == 25


def test_general_strike_variant():
    base = upheaval.load("epstein2002-run2")
    with pytest.raises(VariantError, match="no organised groups"):
        make_variant(base, "general-strike")
    sc = base.with_params(organisation_groups=4)
    v = make_variant(sc, "general-strike")
    assert v.scenario.timeline == (ActionEvent(tick=1, action="general_strike"),)
    timed = Scenario(
        params=sc.params,
        timeline=(
            SetEvent(tick=40, param="legitimacy", value=0.7),
            ActionEvent(tick=25, action="shock", factor=1.2),
        ),
    )
    v = make_variant(timed, "general-strike")
    assert ActionEvent(tick=25, action="general_strike") in v.scenario.timeline
    assert [getattr(e, "tick", None) for e in v.scenario.timeline] == [25, 25, 40]
    assert "tick 25" in v.patch
    with pytest.raises(VariantError, match="already calls"):
        make_variant(v.scenario, "general-strike")
