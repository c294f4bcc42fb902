"""Forces that travel and blockades (docs/odd.md §12.2): the reference twin bit for
bit, travel times, conservation under random timelines, and the effect of a
blockade over 20 seeds (recorded in ``results/transport.json``; ``python
tests/country/test_transport.py`` rewrites it)."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import upheaval
from country.helpers import country_scenario, three_towns, twin_agrees_cop_by_cop
from reference.country import ReferenceCountry
from upheaval.core.codes import COP, DEAD, RIVAL, RULER
from upheaval.model.declare import ParameterError
from upheaval.model.rules.defection import ORIGIN_CODES
from upheaval.model.rules.forces import country_units
from upheaval.model.rules.transport import in_transit, in_transit_by_unit
from upheaval.model.timeline import ActionEvent, SetEvent, TimelineError
from upheaval.scenario.country import Country, LinkSpec, PlaceSpec
from upheaval.scenario.loading import ScenarioError

RESULTS = Path(__file__).parent / "results" / "transport.json"
TRANSPORT = dict(transport_enabled=True)


def _compare(sim, twin) -> None:
    got, want = sim.table(), twin.table()
    for name in got.column_names:
        assert got.column(name).to_pylist() == want.column(name).to_pylist(), name


@pytest.mark.parametrize("seed", [1, 2])
def test_reference_twin_with_convoys_calls_and_blockades(seed):
    tl = (
        ActionEvent(tick=3, action="send", place="Alpha", to="Gamma", count=6),
        ActionEvent(tick=4, action="send", place="Gamma", to="Beta", count=2),
        SetEvent(tick=8, param="legitimacy", value=0.5, place="Beta"),
        SetEvent(tick=20, param="legitimacy", value=0.9, place="Beta"),
    )
    sc = country_scenario(
        three_towns(),
        tl,
        legitimacy=0.78,
        steps=40,
        transport_call_ratio=2.0,
        transport_blockade_share=0.2,
        transport_cooldown=6,
        information_enabled=True,
        information_elsewhere_weight=1.0,
        **TRANSPORT,
    )
    sim = upheaval.Simulation(sc, seed=seed).run()
    twin = ReferenceCountry(sc, seed)
    twin.step(40)
    _compare(sim, twin)
    assert in_transit(sim) == twin.in_transit()
    table = sim.table()
    assert sum(table.column("forces_sent").to_pylist()) >= 8
    assert sum(table.column("forces_arrived").to_pylist()) > 0
    assert sum(table.column("links_blocked").to_pylist()) > 0
    links = sim.links_table()
    assert links.column("blocked").to_pylist() == [b for row in twin.blocked_history for b in row]


#: A national guard reinforces Gamma first (code 1 everywhere), a foreign guard unit
#: Alpha; part of each is sent on by name, then all of Alpha's cops at once.
UNITS = (
    ActionEvent(
        tick=1, action="reinforce", place="Gamma", count=4, unit="ng", origin="national_guard"
    ),
    ActionEvent(
        tick=2,
        action="reinforce",
        place="Alpha",
        count=6,
        unit="csto",
        mode="guard",
        origin="foreign",
    ),
    ActionEvent(tick=3, action="send", place="Alpha", to="Beta", unit="csto", count=4),
    ActionEvent(tick=5, action="send", place="Gamma", to="Beta", unit="ng"),
    ActionEvent(tick=8, action="send", place="Alpha", to="Beta"),
)


def _members(place, code: int) -> int:
    a = place.agents
    return int(np.count_nonzero((a.kind == COP) & (a.status != DEAD) & (a.unit == code)))


@pytest.mark.parametrize("seed", [1, 2])
def test_reference_twin_with_named_units_in_transit(seed):
    sc = country_scenario(
        three_towns(),
        (*UNITS, ActionEvent(tick=6, action="send", place="Beta", to="Gamma", count=7)),
        legitimacy=0.74,
        steps=30,
        transport_call_ratio=2.0,
        transport_cooldown=5,
        forces_minds=True,
        **TRANSPORT,
    )
    sim = upheaval.Simulation(sc, seed=seed)
    twin = ReferenceCountry(sc, seed)
    moving = set()
    for _ in range(30):
        sim.step()
        twin.step()
        assert in_transit_by_unit(sim) == twin.in_transit_by_unit()
        moving |= set(in_transit_by_unit(sim))
    _compare(sim, twin)
    assert {"", "csto", "ng"} <= moving
    for place, model in zip(sim.places, twin.models, strict=True):
        a = place.agents
        live = np.flatnonzero(a.status != DEAD)
        want = {slot: snap[4] for slot, snap in model.mechanism_snapshot().items()}
        assert dict(zip(live.tolist(), a.unit[live].tolist(), strict=True)) == want, place.name


def test_a_named_unit_arrives_with_its_code_mode_and_origin():
    sc = country_scenario(three_towns(), UNITS, legitimacy=0.9, steps=14, **TRANSPORT)
    sim = upheaval.Simulation(sc, seed=3)
    alpha, beta, gamma = sim.places
    codes = country_units(alpha.timeline)
    assert codes == {"ng": 1, "csto": 2}  # the country's order of first arrival
    assert all(country_units(pl.timeline) == codes for pl in sim.places)
    # Beta never reinforces, yet knows both units: they may be sent there
    assert beta.rules.guard_units[2] == 1 and beta.rules.guard_units[1] == 0
    assert beta.rules.unit_origin[2] == ORIGIN_CODES["foreign"]
    assert beta.rules.unit_origin[1] == ORIGIN_CODES["national_guard"]
    sim.step(2)
    assert (_members(alpha, 2), _members(gamma, 1)) == (6, 4)
    sim.step()  # tick 3: four of the CSTO leave Alpha; the road takes 1.5 h
    assert (_members(alpha, 2), _members(beta, 2)) == (2, 0)
    assert in_transit_by_unit(sim) == {"csto": 4}
    assert alpha.row.forces_sent == 4 and beta.row.forces_in_transit == 4
    sim.step()  # tick 4: they arrive in Beta as CSTO guards
    assert (_members(alpha, 2), _members(beta, 2)) == (2, 4)
    assert in_transit_by_unit(sim) == {} and beta.row.forces_arrived == 4
    a = beta.agents
    guards = np.flatnonzero((a.kind == COP) & (a.status != DEAD) & (a.unit == 2))
    posts = a.position[guards].copy()
    sim.step()  # tick 5: all of the national guard leave Gamma (rail, 10 h)
    assert _members(gamma, 1) == 0 and in_transit_by_unit(sim) == {"ng": 4}
    sim.step(2)
    a = beta.agents
    assert (a.unit[guards] == 2).all() and (a.status[guards] != DEAD).all()
    assert (a.position[guards] == posts).all()  # guards in Beta keep their posts
    alpha_cops, beta_cops = alpha.cops_on_duty(), beta.cops_on_duty()
    sim.step()  # tick 8: every cop of Alpha leaves, each keeping its unit
    assert alpha.cops_on_duty() == 0
    assert in_transit_by_unit(sim) == {"": alpha_cops - 2, "csto": 2, "ng": 4}
    sim.step()
    assert _members(beta, 2) == 6 and beta.cops_on_duty() == beta_cops + alpha_cops
    sim.step(4)  # tick 13: the national guard is still on its way
    assert in_transit_by_unit(sim) == {"ng": 4} and _members(beta, 1) == 0
    sim.step()
    assert in_transit_by_unit(sim) == {} and _members(beta, 1) == 4


def test_a_send_naming_a_unit_not_yet_arrived_is_refused():
    early = ActionEvent(tick=1, action="send", place="Alpha", to="Beta", unit="csto")
    with pytest.raises(TimelineError, match=r"timeline\[4\]\.unit: no unit 'csto' has arrived "):
        upheaval.Simulation(country_scenario(three_towns(), (*UNITS[:3], early), **TRANSPORT))
    ghost = ActionEvent(tick=9, action="send", place="Alpha", to="Beta", unit="kgb", count=2)
    with pytest.raises(TimelineError, match=r"timeline\[2\]\.unit: no unit 'kgb'"):
        upheaval.Simulation(country_scenario(three_towns(), (UNITS[0], ghost), **TRANSPORT))
    # a unit has one mode and one origin in every place
    patrol = ActionEvent(tick=4, action="reinforce", place="Beta", count=2, unit="csto")
    with pytest.raises(TimelineError, match=r"timeline\[2\]\.mode: unit 'csto' arrived as 'guard'"):
        upheaval.Simulation(country_scenario(three_towns(), (UNITS[1], patrol)))
    # without transport, a unit is withdrawn only where it arrived
    away = ActionEvent(tick=5, action="withdraw", place="Beta", unit="csto")
    with pytest.raises(TimelineError, match=r"timeline\[2\]\.unit: in Beta: no unit 'csto'"):
        upheaval.Simulation(country_scenario(three_towns(), (UNITS[1], away)))
    # with it, wherever its members may have been sent
    upheaval.Simulation(country_scenario(three_towns(), (*UNITS[1:3], away), **TRANSPORT))


def test_a_convoy_arrives_when_its_travel_time_has_elapsed():
    # Alpha → Gamma: road 1.5 h + rail 10 h; one-hour ticks; sent at the start of tick 3
    tl = (ActionEvent(tick=3, action="send", place="Alpha", to="Gamma", count=5),)
    sc = country_scenario(three_towns(), tl, legitimacy=0.9, steps=20, **TRANSPORT)
    sim = upheaval.Simulation(sc, seed=1).run()
    t = sim.table().to_pandas().set_index(["tick", "place"])
    assert t.loc[(3, "Alpha"), "forces_sent"] == 5
    arrived = t.xs("Gamma", level="place")["forces_arrived"]
    assert arrived[arrived > 0].index.tolist() == [14]  # 3 + ⌈11.5⌉ − 1
    transit = t.xs("Gamma", level="place")["forces_in_transit"]
    assert transit.loc[3:13].eq(5).all() and transit.loc[14] == 0
    cops = t.xs("Gamma", level="place")["cops"]
    assert cops.loc[14] - cops.loc[13] == 5
    on_links = sim.links_table().to_pandas()
    road = on_links[(on_links.link == 0)].set_index("tick")["forces_on_link"]
    rail = on_links[(on_links.link == 1)].set_index("tick")["forces_on_link"]
    assert road.loc[3] == 5 and road.loc[4] == 0  # the road leg ends during tick 4
    assert rail.loc[4] == 5 and rail.loc[13] == 5 and rail.loc[14] == 0


def test_send_needs_a_place_a_destination_and_transport(tmp_path):
    base = """
[country]
places = "p.csv"
links = "l.csv"
[transport]
enabled = true
[[timeline]]
tick = 2
action = "send"
count = 3
{entry}
"""
    (tmp_path / "p.csv").write_text(
        "name,region,lat,lon,utc_offset,population\nA,R,1,1,0,5000\nB,R,1,2,0,5000\n"
        "C,S,1,3,0,5000\n"
    )
    (tmp_path / "l.csv").write_text("from,to,mode,distance_km,travel_hours\nA,B,road,10,1\n")
    path = tmp_path / "s.toml"
    for entry, expected in (
        ('to = "B"', "acts from one place"),
        ('to = "Z"\nplace = "A"', "timeline[1].to: no place 'Z'"),
        ('to = "C"\nplace = "A"', "no route joins 'A' and 'C'"),
        ('to = "A"\nplace = "A"', "'A' is where the forces are"),
        ('to = "B"\nplace = "A"\nunit = "csto"', "timeline[1].unit: no unit 'csto' has arrived"),
    ):
        path.write_text(base.format(entry=entry))
        with pytest.raises(ScenarioError, match=re.escape(expected)):
            upheaval.load(path)
    path.write_text(base.format(entry='to = "B"\nplace = "A"').replace("enabled = true", ""))
    with pytest.raises(ScenarioError, match=r"needs transport\.enabled"):
        upheaval.load(path)


def two_towns() -> Country:
    """A calm garrison town and a restless one, one road of 6 hours between them."""
    return Country(
        places=(
            PlaceSpec("Garrison", "G", 50.0, 70.0, 6, 2000, (("cop_density", 0.15),)),
            PlaceSpec("Restless", "R", 50.0, 72.0, 6, 4000, (("legitimacy", 0.72),)),
        ),
        links=(LinkSpec("Garrison", "Restless", "road", 300.0, 6.0),),
        source="two towns",
    )


def blockade_run(seed: int, blockade: bool) -> dict:
    sc = country_scenario(
        two_towns(),
        legitimacy=0.85,
        steps=80,
        transport_call_ratio=3.0,
        transport_send_share=0.6,
        transport_blockade_share=0.25 if blockade else 0.0,
        **TRANSPORT,
    )
    t = upheaval.Simulation(sc, seed=seed).run().table().to_pandas()
    r = t[t.place == "Restless"].set_index("tick")
    arrived = r.index[r.forces_arrived > 0]
    active = r.active_blue + r.active_green
    return {
        "arrival": int(arrived[0]) if len(arrived) else None,
        "peak": int(active.max()),
        "mean_active": float(active.mean()),
        "blocked_ticks": int(r.links_blocked.sum()),
    }


def measure() -> dict:
    seeds = range(20)
    return {
        "seeds": len(seeds),
        "open": [blockade_run(s, False) for s in seeds],
        "blockade": [blockade_run(s, True) for s in seeds],
    }


def test_blocking_the_only_link_delays_reinforcement_and_raises_the_peak():
    got = measure()
    assert got == json.loads(RESULTS.read_text("utf-8")), (
        "transport evidence changed; rerun `python tests/country/test_transport.py` if on purpose"
    )
    steps = 81
    later = [
        (b["arrival"] or steps) > (o["arrival"] or steps)
        for o, b in zip(got["open"], got["blockade"], strict=True)
    ]
    assert all(o["arrival"] is not None for o in got["open"])
    assert sum(later) >= 18, sum(later)
    assert all(b["blocked_ticks"] > 0 for b in got["blockade"])
    higher = [
        b["mean_active"] > o["mean_active"]
        for o, b in zip(got["open"], got["blockade"], strict=True)
    ]
    assert sum(higher) >= 15, sum(higher)
    # The peak itself is the first burst, before any call: a blockade cannot touch
    # it here (the same in every seed; docs/odd.md §12.2 says so).


TOWNS = three_towns()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sends=st.lists(
        st.tuples(
            st.integers(1, 25),
            st.sampled_from(TOWNS.names),
            st.sampled_from(TOWNS.names),
            st.integers(1, 40),
        ),
        max_size=6,
    ),
    call_ratio=st.sampled_from([0.0, 0.5, 3.0]),
    blockade=st.sampled_from([0.0, 0.05, 0.3]),
    legitimacy=st.sampled_from([0.6, 0.75, 0.85]),
    seed=st.integers(0, 1000),
)
def test_forces_are_never_created_or_lost(sends, call_ratio, blockade, legitimacy, seed):
    tl = tuple(
        ActionEvent(tick=t, action="send", place=a, to=b, count=n) for t, a, b, n in sends if a != b
    )
    sc = country_scenario(
        TOWNS,
        tl,
        legitimacy=legitimacy,
        steps=30,
        transport_call_ratio=call_ratio,
        transport_blockade_share=blockade,
        **TRANSPORT,
    )
    sim = upheaval.Simulation(sc, seed=seed)
    cops = sum(pl.cops_on_duty() for pl in sim.places)
    citizens = [pl.n_citizens() for pl in sim.places]
    sent = arrived = 0
    for _ in range(30):
        sim.step()
        assert sum(pl.cops_on_duty() for pl in sim.places) + in_transit(sim) == cops
        assert [pl.n_citizens() for pl in sim.places] == citizens
        sent += sum(pl.row.forces_sent for pl in sim.places)
        arrived += sum(pl.row.forces_arrived for pl in sim.places)
        assert sent - arrived == in_transit(sim)
        assert sum(pl.row.forces_in_transit for pl in sim.places) == in_transit(sim)


if __name__ == "__main__":
    RESULTS.write_text(json.dumps(measure(), indent=1) + "\n", "utf-8")
    sys.stdout.write(RESULTS.read_text("utf-8")[:2000])


# -- a cop who travels keeps its mind (issue 9) -------------------------------------------
#: Cops with minds who never break ranks here (D = H_c(1 − L) − ℓ·P_c ≤ 1 − L < 1), so
#: that every cop of the run is one that was placed, and stays a cop.
STEADY_MINDS = dict(
    forces_minds=True, forces_stand_aside_threshold=1.0, forces_defect_threshold=1.0
)


def _minds(place, code: int | None = None) -> list[tuple[float, float, int, int]]:
    """(H_c, loyalty, unit, faction) of each live cop of ``place`` (of unit ``code``
    only, if given), sorted: the cops' minds as a multiset."""
    a = place.agents
    cops = (a.kind == COP) & (a.status != DEAD)
    if code is not None:
        cops &= a.unit == code
    n = int(np.count_nonzero(cops))
    # without factions (no elite split) every cop answers to the ruler
    faction = a.faction[cops] if a.faction.shape[0] else np.full(n, RULER)
    unit = a.unit[cops] if a.unit.shape[0] else np.zeros(n, np.int8)
    return sorted(
        zip(
            a.hardship[cops].tolist(),
            a.risk_aversion[cops].tolist(),
            unit.tolist(),
            faction.tolist(),
            strict=True,
        )
    )


def test_a_unit_sent_between_places_arrives_with_the_minds_it_left_with():
    tl = (
        ActionEvent(
            tick=1, action="reinforce", place="Alpha", count=8, unit="ng", origin="national_guard"
        ),
        ActionEvent(tick=3, action="send", place="Alpha", to="Gamma", unit="ng"),
    )
    sc = country_scenario(three_towns(), tl, legitimacy=0.9, steps=16, **STEADY_MINDS, **TRANSPORT)
    sim = upheaval.Simulation(sc, seed=5)
    alpha, _, gamma = sim.places
    sim.step(2)
    leaving = _minds(alpha, 1)
    assert len(set(leaving)) == 8  # each drew its own mind as it arrived in Alpha
    sim.step()  # tick 3: the whole unit leaves Alpha (road 1.5 h, then rail 10 h)
    assert _minds(alpha, 1) == [] and in_transit_by_unit(sim) == {"ng": 8}
    sim.step(10)
    assert _minds(gamma, 1) == [] and in_transit_by_unit(sim) == {"ng": 8}
    sim.step()  # tick 14: they arrive, the same eight cops
    assert in_transit_by_unit(sim) == {}
    assert _minds(gamma, 1) == leaving


def test_a_faction_s_cops_stay_in_their_faction_after_travel():
    """Cops of the initial force sent by count (drawn among all on duty, both
    factions) arrive each with its own mind and its faction; nobody else changes."""
    tl = (ActionEvent(tick=2, action="send", place="Alpha", to="Beta", count=12),)
    sc = country_scenario(
        three_towns(),
        tl,
        legitimacy=0.9,
        steps=6,
        elite_rival_share=0.5,
        **STEADY_MINDS,
        **TRANSPORT,
    )
    sim = upheaval.Simulation(sc, seed=11)
    alpha, beta, _ = sim.places
    sim.step()
    alpha_before, beta_before = Counter(_minds(alpha)), Counter(_minds(beta))
    sim.step(2)  # tick 2: twelve leave Alpha; tick 3: they arrive in Beta (road 1.5 h)
    assert beta.row.forces_arrived == 12
    left = alpha_before - Counter(_minds(alpha))
    came = Counter(_minds(beta)) - beta_before
    assert came == left and sum(came.values()) == 12
    assert Counter(_minds(alpha)) + left == alpha_before  # nobody else changed
    rivals = sum(k for (_, _, _, faction), k in came.items() if faction == RIVAL)
    assert 0 < rivals < 12  # both factions travelled, and kept their faction


@pytest.mark.parametrize("seed", [3, 4])
def test_reference_twin_with_minds_factions_calls_and_a_full_destination(seed):
    """Cops with minds and factions sent by the timeline and by the regime's calls,
    into a destination too full for all of them (the rest wait at its edge): the twin
    agrees on every cop's mind, unit and faction, tick by tick."""
    tl = (
        ActionEvent(tick=1, action="reinforce", place="Gamma", count=5, unit="ng"),
        ActionEvent(tick=2, action="send", place="Gamma", to="Alpha", count=6),
        ActionEvent(tick=4, action="send", place="Alpha", to="Beta", count=9),
        ActionEvent(tick=6, action="send", place="Gamma", to="Beta", unit="ng"),
    )
    sc = country_scenario(
        three_towns(),
        tl,
        legitimacy=0.74,
        steps=24,
        transport_call_ratio=1.5,
        transport_cooldown=4,
        elite_rival_share=0.4,
        forces_minds=True,
        **TRANSPORT,
    )
    sim = twin_agrees_cop_by_cop(sc, 24, seed)
    t = sim.table().to_pandas()
    assert t.forces_sent.sum() > 20 and t.forces_arrived.sum() > 0


def test_a_checkpoint_mid_journey_keeps_the_convoys_cops_bit_for_bit(tmp_path):
    tl = (
        ActionEvent(tick=1, action="reinforce", place="Alpha", count=6, unit="csto", mode="guard"),
        ActionEvent(tick=3, action="send", place="Alpha", to="Gamma", unit="csto"),
        ActionEvent(tick=4, action="send", place="Alpha", to="Gamma", count=10),
    )
    sc = country_scenario(
        three_towns(),
        tl,
        legitimacy=0.8,
        steps=20,
        elite_rival_share=0.3,
        **STEADY_MINDS,
        **TRANSPORT,
    )
    straight = upheaval.Simulation(sc, seed=2).run()
    part = upheaval.Simulation(sc, seed=2).run(6)
    convoys = part.state["transport"]["convoys"]
    assert [c[0] for c in convoys] == [6, 10]  # both on the rail to Gamma
    path = part.checkpoint().save(tmp_path / "mid-journey.ckpt")
    resumed = upheaval.Simulation.restore(upheaval.Checkpoint.load(path))
    again = resumed.state["transport"]["convoys"]
    assert [c[5].tobytes() for c in again] == [c[5].tobytes() for c in convoys]
    assert all(c[5].dtype == d[5].dtype for c, d in zip(again, convoys, strict=True))
    resumed.run(14)
    assert resumed.table().equals(straight.table())
    for got, want in zip(resumed.places, straight.places, strict=True):
        for name in got.agents._fields:
            assert np.array_equal(getattr(got.agents, name), getattr(want.agents, name)), name
    gamma = straight.places[2]
    # the unit arrived as it left: the convoy's records are Gamma's members now
    assert _minds(gamma, 1) == sorted(_record_minds(convoys[0][5]))


def _record_minds(cops: np.ndarray) -> list[tuple[float, float, int, int]]:
    """(H_c, loyalty, unit, faction) of each cop of a convoy's records."""
    return [
        (float(r["hardship"]), float(r["risk_aversion"]), int(r["unit"]), int(r["faction"]))
        for r in cops
    ]


# -- which units the regime's policy may send (transport.policy_units) ----------------------
def garrisoned_towns(initial: float = 0.02) -> Country:
    """A calm garrison town (first in the table, so the donor of ties), a calm town and
    a hot one that calls; the garrison's initial force is thin (cop_density
    ``initial``)."""
    return Country(
        places=(
            PlaceSpec(
                "Garrison",
                "N",
                43.2,
                76.9,
                6,
                1500,
                (("legitimacy", 0.95), ("cop_density", initial)),
            ),
            PlaceSpec("Town", "N", 43.3, 77.5, 6, 1500, (("legitimacy", 0.95),)),
            PlaceSpec("Hot", "S", 42.3, 69.6, 5, 1500, (("legitimacy", 0.5),)),
        ),
        links=(
            LinkSpec("Garrison", "Hot", "road", 80.0, 1.5),
            LinkSpec("Town", "Hot", "road", 100.0, 2.0),
        ),
        source="garrisoned towns",
    )


def garrison(ng: int = 4) -> tuple[ActionEvent, ...]:
    """A foreign guard unit (the CSTO contingent, sent to guard state buildings) and a
    national guard patrol reinforce the garrison town at tick 1."""
    return (
        ActionEvent(
            tick=1,
            action="reinforce",
            place="Garrison",
            count=8,
            unit="csto",
            mode="guard",
            origin="foreign",
        ),
        ActionEvent(
            tick=1,
            action="reinforce",
            place="Garrison",
            count=ng,
            unit="ng",
            origin="national_guard",
        ),
    )


def policy_scenario(units: str, spares: bool, country=None, timeline=None, **params):
    return country_scenario(
        country or garrisoned_towns(),
        garrison() if timeline is None else timeline,
        steps=20,
        transport_call_ratio=2.0,
        transport_cooldown=5,
        transport_policy_units=units,
        transport_policy_spares_guards=spares,
        **TRANSPORT,
        **params,
    )


def sent_by_policy(sc, seed: int, ticks: int = 20) -> tuple[Counter, Counter]:
    """The cops the regime's calls put on the road, by unit name (the convoys' records;
    none are sent by the timeline here), and the cops each place sent."""
    sim = upheaval.Simulation(sc, seed=seed)
    names = {code: name for name, code in country_units(sim.places[0].timeline).items()}
    names[0] = ""
    seen: list[np.ndarray] = []  # each convoy's records, kept while it travels
    units: Counter = Counter()
    for _ in range(ticks):
        sim.step()
        for convoy in sim.state["transport"]["convoys"]:
            if not any(convoy[5] is s for s in seen):  # a convoy that left this tick
                seen.append(convoy[5])
                units.update(names[int(code)] for code in convoy[5]["unit"])
        # csto's members are all at the garrison or on the road (none defect here)
        t = sim.units_table().to_pandas()
        csto = t[t.unit == "csto"]
        assert csto.on_duty.sum() + csto.in_transit.sum() == 8
    table = sim.table().to_pandas()
    assert sum(units.values()) == table.forces_sent.sum()
    return units, Counter(table.groupby("place").forces_sent.sum().to_dict())


SEEDS = range(1, 6)


def test_the_policy_sends_only_the_units_it_may():
    """A foreign guard unit at the donor: "any" sends its members in some seed;
    "domestic" never does (it sends the national guard and the initial force);
    "local" sends only the initial force (named units stay where they were sent); and
    sparing guards never sends the guard unit (docs/odd.md §12.2)."""
    runs = {
        (units, spares): [sent_by_policy(policy_scenario(units, spares), s) for s in SEEDS]
        for units, spares in (("any", False), ("domestic", False), ("local", False), ("any", True))
    }
    for (units, spares), got in runs.items():
        assert all(by_place["Garrison"] > 0 for _, by_place in got), (units, spares)
    sent = {k: sum((u for u, _ in got), Counter()) for k, got in runs.items()}
    assert sent["any", False]["csto"] > 0, sent
    assert sent["domestic", False]["csto"] == 0 and sent["domestic", False]["ng"] > 0, sent
    assert sent["local", False]["csto"] == sent["local", False]["ng"] == 0, sent
    assert sent["local", False][""] > 0, sent
    assert sent["any", True]["csto"] == 0 and sent["any", True]["ng"] > 0, sent


def test_a_donor_with_fewer_than_two_cops_it_may_send_is_passed_over():
    """The garrison (all foreign guards but one national guard) gives under "any"; under
    "domestic", "local" or sparing guards it has fewer than two cops the policy may
    send and the next calmest place gives instead (docs/odd.md §12.2)."""
    country = garrisoned_towns(initial=0.0001)  # no initial force to speak of
    for units, spares in (("any", False), ("domestic", False), ("local", False), ("any", True)):
        sc = policy_scenario(units, spares, country=country, timeline=garrison(ng=1))
        for seed in (1, 2):
            _, by_place = sent_by_policy(sc, seed, ticks=10)
            if (units, spares) == ("any", False):
                assert by_place["Garrison"] > 0 and by_place["Town"] == 0, by_place
            else:
                assert by_place["Garrison"] == 0 and by_place["Town"] > 0, (units, by_place)


@pytest.mark.parametrize(
    ("units", "spares"), [("domestic", False), ("local", False), ("any", True), ("domestic", True)]
)
def test_reference_twin_with_a_policy_that_chooses_its_units(units, spares):
    """The twin agrees cop by cop with a policy that chooses which units it sends,
    with cops' minds (each unit's origin) and a timeline send of the foreign unit in
    the same tick as a call."""
    tl = (
        *garrison(),
        ActionEvent(
            tick=3,
            action="reinforce",
            place="Town",
            count=3,
            unit="csto",
            mode="guard",
            origin="foreign",
        ),
        ActionEvent(tick=6, action="send", place="Garrison", to="Town", unit="csto", count=2),
    )
    sc = policy_scenario(units, spares, timeline=tl, forces_minds=True, elite_rival_share=0.3)
    sim = twin_agrees_cop_by_cop(sc, 20, 3)
    assert sim.table().to_pandas().forces_sent.sum() > 2


def test_a_choice_that_excludes_no_unit_draws_what_any_draws():
    """Without named units "local" and sparing guards exclude nobody: the runs are
    those of "any", draw for draw."""
    sc = policy_scenario("any", False, timeline=())
    want = upheaval.Simulation(sc, seed=4).run().table()
    assert want.to_pandas().forces_sent.sum() > 0
    for units, spares in (("local", False), ("domestic", True)):
        got = upheaval.Simulation(policy_scenario(units, spares, timeline=()), seed=4).run()
        assert got.table().equals(want), (units, spares)


def test_the_policy_s_choice_is_checked_and_checkpointed(tmp_path):
    for key, value, expected in (
        ("transport_policy_units", "foreign", "transport.policy_units: expected one of"),
        ("transport_policy_spares_guards", "yes", "transport.policy_spares_guards: expected"),
    ):
        with pytest.raises(ParameterError, match=re.escape(expected)):
            country_scenario(three_towns(), transport_call_ratio=2.0, **{key: value}, **TRANSPORT)
    for key, value in (
        ("transport_policy_units", "local"),
        ("transport_policy_spares_guards", True),
    ):
        with pytest.raises(ParameterError, match=r"needs transport\.call_ratio > 0"):
            country_scenario(three_towns(), **{key: value}, **TRANSPORT)
    sc = policy_scenario("domestic", True)
    straight = upheaval.Simulation(sc, seed=2).run()
    part = upheaval.Simulation(sc, seed=2).run(7)
    path = part.checkpoint().save(tmp_path / "policy.ckpt")
    resumed = upheaval.Simulation.restore(upheaval.Checkpoint.load(path))
    assert resumed.params.transport.policy_units == "domestic"
    assert resumed.params.transport.policy_spares_guards is True
    resumed.run(13)
    assert resumed.table().equals(straight.table())
    assert straight.table().to_pandas().forces_sent.sum() > 0
