"""Invariants of the engine's state after random steps (Hypothesis-driven).

Checked after every tick: each citizen is exactly one of quiet/active/jailed/dead;
the occupancy lanes and the per-site linked lists equal a recount from the agents;
sharing of sites arises only in the documented ways; the cop count is constant
without a schedule and equals round(density × sites) after a cop_density event;
jail terms count down by one per tick (end_of_tick) or per own turn
(own_activation) and release happens when documented; tally() equals a recount.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from upheaval import Simulation
from upheaval.core.codes import (
    ACTIVE,
    CITIZEN,
    COP,
    DEAD,
    FOREVER,
    JAILED,
    LANE_ACTIVE,
    LANE_COP,
    LANE_JAILED,
    LANE_QUIET,
    QUIET,
)
from upheaval.model.kernels import tally
from upheaval.model.params import ParameterError, Params, validate_params
from upheaval.model.state import TALLY
from upheaval.model.ticks import agents_in
from upheaval.model.timeline import RampEvent, SetEvent
from upheaval.scenario.schema import Scenario

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def on_lattice(sim: Simulation) -> np.ndarray:
    a = sim.place.agents
    free = (a.status == QUIET) | (a.status == ACTIVE)
    jailed_holding = (a.status == JAILED) & sim.params.jail.hold_site
    return (a.status != DEAD) & (free | jailed_holding)


def check_state(sim: Simulation) -> None:
    a, g = sim.place.agents, sim.place.lattice
    live = a.status != DEAD
    citizens = live & (a.kind == CITIZEN)
    cops = live & (a.kind == COP)
    # Each citizen exactly one of quiet / active / jailed (dead slots are not agents).
    assert set(np.unique(a.status[citizens]).tolist()) <= {QUIET, ACTIVE, JAILED}
    assert np.all(a.status[cops] == QUIET)
    # Jail terms: non-negative or for life while jailed, 0 otherwise.
    terms = a.jail_left[citizens & (a.status == JAILED)]
    assert np.all((terms >= 0) | (terms == FOREVER))
    assert np.all(a.jail_left[citizens & (a.status != JAILED)] == 0)
    # Occupancy lanes equal a recount from the agents.
    placed = np.flatnonzero(on_lattice(sim))
    lanes = Counter()
    for i in placed:
        if a.kind[i] == COP:
            lane = LANE_COP
        else:
            lane = {ACTIVE: LANE_ACTIVE, QUIET: LANE_QUIET, JAILED: LANE_JAILED}[int(a.status[i])]
        lanes[(int(a.position[i]), lane)] += 1
    n_sites = g.occupancy.shape[0]
    expect = np.zeros(n_sites, np.uint64)
    for (site, lane), n in lanes.items():
        assert n < 256
        expect[site] += np.uint64(n) << np.uint64(lane)
    assert np.array_equal(g.occupancy.astype(np.uint64), expect)
    # The linked list of each site holds exactly the agents standing there.
    listed = {}
    for site in range(n_sites):
        members, j = [], int(g.head[site])
        while j != -1:
            members.append(j)
            assert len(members) <= len(placed), "cycle in a site's list"
            j = int(a.cell_next[j])
        if members:
            listed[site] = sorted(members)
    recount = {}
    for i in placed:
        recount.setdefault(int(a.position[i]), []).append(int(i))
    assert listed == {s: sorted(v) for s, v in recount.items()}
    # tally() equals a recount.
    t = tally(a)
    for group in (0, 1):
        mine = citizens & (a.group == group)
        for status in (QUIET, ACTIVE, JAILED):
            assert t[3 * group + status] == np.count_nonzero(mine & (a.status == status))
    assert t[6] == np.count_nonzero(cops)
    assert tuple(getattr(sim.place.row, n) for n in TALLY) == tuple(int(x) for x in t)


def sharing(sim: Simulation) -> tuple[int, int, int]:
    """Largest number of agents, citizens and cops standing on one site."""
    a = sim.place.agents
    placed = np.flatnonzero(on_lattice(sim))
    pos = a.position[placed]
    if placed.size == 0:
        return 0, 0, 0
    agents = np.bincount(pos).max()
    cit = placed[a.kind[placed] == CITIZEN]
    cop = placed[a.kind[placed] == COP]
    return (
        int(agents),
        int(np.bincount(a.position[cit]).max()) if cit.size else 0,
        int(np.bincount(a.position[cop]).max()) if cop.size else 0,
    )


def check_transition(before: dict, sim: Simulation) -> None:
    """Jail terms and releases between two consecutive ticks."""
    a, p = sim.place.agents, sim.params
    arrests = sim.place.row.arrests
    released = sim.place.row.released
    newly_jailed = 0
    model2 = a.age.shape[0] > 0
    for i, (status, term, age) in before.items():
        if a.status[i] == DEAD:
            continue
        if model2 and int(a.age[i]) != age + 1:
            continue  # the individual died and its slot went to a newborn
        now_status, now_term = int(a.status[i]), int(a.jail_left[i])
        if status != JAILED:
            if now_status == JAILED:
                newly_jailed += 1
                if math.isinf(sim.place.now("max_jail_term")):
                    assert now_term == FOREVER
            continue
        if term == FOREVER:
            assert now_status == JAILED and now_term == FOREVER
        elif p.jail.countdown == "end_of_tick":
            if term > 1:
                assert (now_status, now_term) == (JAILED, term - 1)
            else:  # term 1 → released at the end of this tick, on its site
                assert now_status == QUIET and now_term == 0
        elif term > 0:
            assert (now_status, now_term) == (JAILED, term - 1)
        else:  # term 0 → released at its turn; it may be re-arrested in the same tick
            assert now_status != JAILED or arrests > 0
    assert arrests >= newly_jailed
    if p.jail.countdown == "end_of_tick":
        due = sum(1 for s, t, _ in before.values() if s == JAILED and t == 1)
        assert released >= due


def jail_view(sim: Simulation) -> dict:
    a = sim.place.agents
    idx = np.flatnonzero((a.status != DEAD) & (a.kind == CITIZEN))
    age = a.age if a.age.shape[0] else np.zeros(a.status.shape[0], np.int16)
    return {int(i): (int(a.status[i]), int(a.jail_left[i]), int(age[i])) for i in idx}


@st.composite
def rule_sets(draw):
    pick = st.sampled_from
    changes = {
        "variant": draw(pick(["I", "II"])),
        "vision_shape": draw(pick(["euclidean", "von_neumann", "moore"])),
        "ratio_rule": draw(pick(["literal", "floor", "round_half_even", "round_half_up"])),
        "active_count_includes_self": draw(st.booleans()),
        "citizen_movement": draw(st.booleans()),
        "cop_movement": draw(st.booleans()),
        "citizen_turn_order": draw(pick(["move_then_act", "act_then_move"])),
        "cop_turn_order": draw(pick(["move_then_act", "act_then_move"])),
        "cop_after_arrest": draw(pick(["arrestee_site", "stay"])),
        "jail_term_range": draw(pick(["exclusive", "inclusive"])),
        "jail_countdown": draw(pick(["end_of_tick", "own_activation"])),
        "jailed_hold_site": draw(st.booleans()),
        "placement": draw(pick(["exact", "bernoulli"])),
        "max_jail_term": draw(pick([0.0, 1.0, 2.0, 5.0, 30.0, math.inf])),
        "legitimacy": draw(pick([0.4, 0.6, 0.8])),
        "citizen_density": draw(pick([0.5, 0.7, 0.85])),
        "cop_density": draw(pick([0.02, 0.05, 0.1])),
        "max_age": draw(pick([10, 200])),
        "clone_probability": draw(pick([0.05, 0.3])),
    }
    side = draw(st.integers(12, 24))
    v = draw(pick([1.0, 1.7, 2.0, 4.0]))
    changes.update(width=side, height=side, citizen_vision=v, cop_vision=v)
    return changes, draw(st.integers(0, 2**32)), draw(st.integers(5, 25))


def build(changes, timeline=()):
    p = Params().replace(**changes)
    try:
        validate_params(p)
    except ParameterError:
        return None
    return Scenario(params=p, timeline=timeline)


@SETTINGS
@given(rule_sets())
def test_state_invariants_after_random_steps(case):
    changes, seed, ticks = case
    sc = build(changes)
    if sc is None:
        return
    sim = Simulation(sc, seed=seed)
    p = sim.params
    check_state(sim)
    n_cops = sim.place.row.cops
    n_citizens = agents_in(sim.place.row) - n_cops
    for _ in range(ticks):
        before = jail_view(sim)
        sim.step()
        check_state(sim)
        check_transition(before, sim)
        row = sim.counts()
        assert row["cops"] == n_cops, "cop count changed without a schedule"
        citizens = agents_in(sim.place.row) - sim.place.row.cops
        if p.model.variant == "I":
            assert citizens == n_citizens
        else:
            born = row["born_blue"] + row["born_green"]
            gone = row["died_blue"] + row["died_green"] + row["killed"]
            assert citizens == n_citizens + born - gone
            n_citizens = citizens
        _, most_citizens, most_cops = sharing(sim)
        # Citizens share a site only by returning from jail to a site someone took
        # meanwhile; cops only by stepping onto their arrestee's site.
        if p.jail.hold_site:
            assert most_citizens <= 1
        if p.cops.after_arrest == "stay":
            assert most_cops <= 1
        if p.jail.hold_site and p.cops.after_arrest == "stay":
            assert sharing(sim)[0] <= 1  # Mesa-like: one agent per site
        no_release = math.isinf(p.jail.max_jail_term) and p.jail.countdown == "end_of_tick"
        if no_release and not p.jail.hold_site:
            # NetLogo-like with life terms: the arrestee leaves its site as the cop
            # arrives and nobody ever comes back, so no site is ever shared.
            assert sharing(sim)[0] <= 1


def test_netlogo_rules_do_share_sites():
    """The documented sharing does happen (so the checks above are not vacuous)."""
    p = Params(
        width=20,
        height=20,
        citizen_vision=3.0,
        cop_vision=3.0,
        legitimacy=0.5,
        max_jail_term=4.0,
        cop_density=0.08,
    )
    sim = Simulation(p, seed=2)
    most = 0
    for _ in range(30):
        sim.step()
        check_state(sim)
        most = max(most, sharing(sim)[0])
    assert most >= 2


@SETTINGS
@given(
    st.sampled_from(["I", "II"]),
    st.lists(st.sampled_from([0.0, 0.01, 0.05, 0.1, 0.2]), min_size=1, max_size=4),
    st.integers(0, 2**32),
)
def test_cop_count_follows_the_schedule(variant, densities, seed):
    p = Params(
        width=16,
        height=16,
        citizen_vision=2.0,
        cop_vision=2.0,
        variant=variant,
        legitimacy=0.6,
        cop_density=0.04,
        citizen_density=0.6,
    )
    events = [
        SetEvent(tick=3 * (k + 1), param="cop_density", value=d) for k, d in enumerate(densities)
    ]
    events.append(
        RampEvent(
            start=3 * len(densities) + 1,
            end=3 * len(densities) + 4,
            param="cop_density",
            value=0.07,
        )
    )
    sim = Simulation(Scenario(params=p, timeline=tuple(events)), seed=seed)
    expected = round(0.04 * p.n_sites)
    for tick in range(1, 3 * len(densities) + 6):
        sim.step()
        check_state(sim)
        if tick % 3 == 0 and tick // 3 <= len(densities):
            expected = round(densities[tick // 3 - 1] * p.n_sites)
        elif tick > 3 * len(densities):
            expected = round(sim.place.now("cop_density") * p.n_sites)
        assert sim.counts()["cops"] == expected
    assert sim.counts()["cops"] == round(0.07 * p.n_sites)
