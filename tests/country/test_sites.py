"""Key sites, seized and guarded, and a place's control (docs/odd.md §12.4): the
reference twin bit for bit in a country, strict declarations, forces conserved under
random guards, checkpoints, summaries, and the effect of guards over 20 seeds
(recorded in ``results/sites.json``; ``python tests/country/test_sites.py`` rewrites
it)."""

from __future__ import annotations

import itertools
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import upheaval
from country.helpers import (
    AKIMAT,
    country_scenario,
    run_and_show,
    sited_towns,
    twin_agrees_cop_by_cop,
)
from reference.country import ReferenceCountry
from upheaval.core.codes import COP, DEAD
from upheaval.model.params import Params
from upheaval.model.rules.forces import country_units
from upheaval.model.rules.sites import guards_at, guards_by_unit, parse_sites
from upheaval.model.rules.transport import in_transit_by_unit
from upheaval.model.timeline import ActionEvent, SetEvent, TimelineError
from upheaval.results.places import place_summaries
from upheaval.scenario.loading import ScenarioError
from upheaval.scenario.schema import Scenario

RESULTS = Path(__file__).parent / "results" / "sites.json"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "three-towns" / "with-sites.toml"


@pytest.mark.parametrize("seed", [1, 2])
def test_reference_twin_with_sites_guards_and_convoys(seed):
    tl = (
        ActionEvent(tick=2, action="guard", place="Alpha", site="akimat", count=5),
        ActionEvent(tick=3, action="guard", place="Gamma", site="statue", count=3, source="new"),
        ActionEvent(tick=4, action="send", place="Beta", to="Alpha", count=4),
        SetEvent(tick=6, param="legitimacy", value=0.55, place="Gamma"),
        ActionEvent(tick=9, action="unguard", place="Alpha", site="akimat", count=3),
        ActionEvent(tick=12, action="unguard", place="Gamma", site="statue"),
    )
    sc = country_scenario(
        sited_towns(),
        tl,
        legitimacy=0.75,
        steps=30,
        transport_enabled=True,
        site_min_crowd=3,
        site_burn_after=4.0,
    )
    sim = upheaval.Simulation(sc, seed=seed).run()
    twin = ReferenceCountry(sc, seed)
    twin.step(30)
    got, want = sim.table(), twin.table()
    for name in got.column_names:
        assert got.column(name).to_pylist() == want.column(name).to_pylist(), name
    t = got.to_pandas()
    assert t[t.place == "Beta"].sites_declared.eq(0).all()
    assert t[t.place == "Alpha"].sites_declared.iloc[1:].eq(2).all()
    assert t.sites_seized.sum() > 0 and t.site_guards.max() == 5
    assert (t.control < 1).any()


def test_sites_are_the_same_on_one_thread_or_many():
    tl = (ActionEvent(tick=2, action="guard", place="Alpha", site="akimat", count=5),)
    sc = country_scenario(sited_towns(), tl, legitimacy=0.7, steps=20, site_min_crowd=3)
    one = upheaval.Simulation(sc, seed=5, threads=1).run().table()
    three = upheaval.Simulation(sc, seed=5, threads=3).run().table()
    assert one.equals(three)
    assert sum(one.column("sites_seized").to_pylist()) > 0


def test_seizures_feed_the_framing_where_it_acts():
    """Same seed, φ = 0.3 against φ = 0: the lattice is the same until the framing
    first differs, which it does from the tick after the first seizure."""
    p = Params(
        width=20,
        height=20,
        legitimacy=0.6,
        site_list=AKIMAT,
        site_min_crowd=3,
        provocateurs_count=2,
        provocateurs_framing_lethal=0.5,
    )
    rows = {}
    for phi in (0.0, 0.3):
        sc = Scenario(params=p.replace(site_framing_rise=phi))
        rows[phi] = upheaval.Simulation(sc, seed=3).run(15).place.history
    first = next(r.tick for r in rows[0.0] if r.sites_seized)
    for a, b in zip(rows[0.0], rows[0.3], strict=True):
        if a.tick <= first:
            assert a == b
    after = rows[0.3][first + 1]
    assert after.framing > rows[0.0][first + 1].framing
    assert after.framing >= 0.3 * rows[0.3][first].sites_seized
    # no provocateurs: the framing acts nowhere and is not fed
    quiet = upheaval.Simulation(
        Scenario(params=p.replace(provocateurs_count=0, site_framing_rise=0.3)), seed=3
    ).run(15)
    assert all(r.framing == 0.0 for r in quiet.place.history)
    assert sum(r.sites_seized for r in quiet.place.history) > 0


def test_a_place_without_sites_reports_its_streets_as_control():
    sim = upheaval.Simulation(Params(width=20, height=20, legitimacy=0.6, steps=8), seed=2).run()
    rows = sim.place.history
    assert rows[0].control == 1.0
    for before, row in itertools.pairwise(rows):
        citizens = sum(
            getattr(before, f"{s}_{g}")
            for s in ("quiet", "active", "jailed")
            for g in ("blue", "green")
        )
        assert row.control == 1.0 - (before.active_blue + before.active_green) / citizens
    assert all(r.sites_declared == 0 and r.site_guards == 0 for r in rows)


# -- guards keep their unit -----------------------------------------------------------
def _units_arrive(tick: int = 1) -> tuple[ActionEvent, ...]:
    """A foreign guard unit and a national guard patrol, 10 cops each."""
    return (
        ActionEvent(
            tick=tick, action="reinforce", count=10, unit="csto", mode="guard", origin="foreign"
        ),
        ActionEvent(tick=tick, action="reinforce", count=10, unit="ng", origin="national_guard"),
    )


def _one_town(timeline: tuple, **changes) -> upheaval.Simulation:
    """A calm 20×20 town (no defections, disarming or killings) whose cops have minds
    and two factions, so that every cop carries a unit, a mind and a faction."""
    p = Params(
        width=20,
        height=20,
        legitimacy=0.9,
        cop_density=0.04,
        site_list=AKIMAT,
        forces_minds=True,
        elite_rival_share=0.5,
    )
    return upheaval.Simulation(Scenario(params=p.replace(**changes), timeline=timeline), seed=3)


def _cops_as_they_are(place) -> list[tuple]:
    """Each cop on duty as (unit, H_c, loyalty, faction), sorted: who they are, not
    where they stand or in which slot."""
    a = place.agents
    on = (a.kind == COP) & (a.status != DEAD)
    return sorted(
        zip(
            a.unit[on].tolist(),
            a.hardship[on].tolist(),
            a.risk_aversion[on].tolist(),
            a.faction[on].tolist(),
            strict=True,
        )
    )


def _by_unit(place) -> dict[int, int]:
    a = place.agents
    on = (a.kind == COP) & (a.status != DEAD)
    return {int(c): int(n) for c, n in enumerate(np.bincount(a.unit[on])) if n}


def test_guards_of_any_unit_come_back_as_the_cops_they_were():
    """A guard without a unit takes cops of every unit (here all of them) and an
    unguard brings each back with its unit code — so its mode and origin — its mind
    and its faction: the force on duty afterwards is the force before, cop for cop.
    The guard unit's members keep their posts again (they never move)."""
    tl = (
        *_units_arrive(),
        ActionEvent(tick=3, action="guard", site="akimat", count=1000),
        ActionEvent(tick=5, action="unguard", site="akimat"),
    )
    sim = _one_town(tl)
    sim.step(2)
    before = _cops_as_they_are(sim.place)
    n0 = sum(1 for c in before if c[0] == 0)
    sim.step(2)  # ticks 3-4: every cop guards the akimat
    assert sim.place.cops_on_duty() == 0
    assert guards_by_unit(sim.place) == {"": n0, "csto": 10, "ng": 10}
    sim.step()  # tick 5: all back on duty
    assert _cops_as_they_are(sim.place) == before
    assert guards_by_unit(sim.place) == {} and sim.place.row.site_guards == 0
    codes = country_units(sim.place.timeline)
    a = sim.place.agents
    csto = np.flatnonzero((a.kind == COP) & (a.status != DEAD) & (a.unit == codes["csto"]))
    posts = a.position[csto].copy()
    sim.step(4)
    assert np.array_equal(a.position[csto], posts)  # guards of a guard unit stand still
    assert (a.kind[csto] == COP).all() and (a.unit[csto] == codes["csto"]).all()


def test_a_guard_naming_a_unit_takes_only_its_members():
    codes = {"csto": 1, "ng": 2}
    tl = (
        *_units_arrive(),
        ActionEvent(tick=3, action="guard", site="akimat", count=4, unit="ng"),
        ActionEvent(tick=4, action="guard", site="airport", count=50, unit="csto"),
        ActionEvent(tick=6, action="unguard", site="akimat", count=3),
    )
    sim = _one_town(tl)
    sim.step(2)
    start = _by_unit(sim.place)
    assert start[codes["csto"]] == 10 and start[codes["ng"]] == 10
    sim.step()
    st_ = sim.place.state["sites"]
    assert _by_unit(sim.place) == {**start, codes["ng"]: 6}
    assert st_["posted"]["unit"].tolist() == [codes["ng"]] * 4
    sim.step()  # as many as there are: the whole guard unit
    assert _by_unit(sim.place) == {0: start[0], codes["ng"]: 6}
    assert guards_by_unit(sim.place) == {"ng": 4, "csto": 10}
    assert sim.place.row.site_guards == 14 and st_["own_guards"].tolist() == [4, 10]
    sim.step(2)  # tick 6: 3 of the akimat's 4 back on duty, with their unit
    assert _by_unit(sim.place) == {0: start[0], codes["ng"]: 9}
    assert guards_by_unit(sim.place) == {"ng": 1, "csto": 10}


def test_an_unguard_naming_a_unit_relieves_only_its_guards():
    """ "The CSTO hands its sites over": an unguard naming a unit brings back only that
    unit's guards at the site, first posted first, up to ``count``; the outsiders and
    the other units' guards stay at their posts."""
    codes = {"csto": 1, "ng": 2}
    tl = (
        *_units_arrive(),
        ActionEvent(tick=3, action="guard", site="akimat", count=3, unit="ng"),
        ActionEvent(tick=3, action="guard", site="akimat", count=6, unit="csto"),
        ActionEvent(tick=3, action="guard", site="akimat", count=5, source="new"),
        ActionEvent(tick=3, action="guard", site="airport", count=2, unit="csto"),
        ActionEvent(tick=4, action="unguard", site="akimat", count=4, unit="csto"),
        ActionEvent(tick=5, action="unguard", site="akimat", unit="csto"),
        ActionEvent(tick=6, action="unguard", site="akimat", unit="csto"),
    )
    sim = _one_town(tl)
    sim.step(3)
    st_ = sim.place.state["sites"]
    start = _by_unit(sim.place)
    akimat = st_["posted"][st_["posted"]["site"] == 0]
    mind = ("hardship", "risk_aversion", "faction")
    first_four = {tuple(r[f].item() for f in mind) for r in akimat[3:7]}
    sim.step()  # tick 4: the akimat's first 4 csto guards come back, no one else
    assert _by_unit(sim.place) == {**start, codes["csto"]: start[codes["csto"]] + 4}
    assert st_["new_guards"].tolist() == [5, 0] and st_["own_guards"].tolist() == [5, 2]
    assert guards_by_unit(sim.place) == {"ng": 3, "csto": 4}
    a = sim.place.agents
    on = (a.kind == COP) & (a.status != DEAD) & (a.unit == codes["csto"])
    back = set(zip(*(getattr(a, f)[on].tolist() for f in mind), strict=True))
    assert first_four <= back  # the first posted, as they were
    sim.step()  # tick 5: the akimat's last 2 csto; the airport's stay
    assert guards_by_unit(sim.place) == {"ng": 3, "csto": 2}
    assert st_["new_guards"].tolist() == [5, 0] and sim.place.row.site_guards == 10
    sim.step()  # tick 6: none of csto left at the akimat: nothing changes
    assert guards_by_unit(sim.place) == {"ng": 3, "csto": 2}


def test_a_whole_unit_withdraw_takes_its_guards_with_it():
    """A withdraw of a whole unit leaves none of it behind: its members guarding the
    place's sites leave with it (the CSTO left Almaty's sites when it withdrew,
    13-19 January 2022); a partial withdraw draws among those on duty only."""
    codes = {"csto": 1, "ng": 2}
    tl = (
        *_units_arrive(),
        ActionEvent(tick=3, action="guard", site="akimat", count=4, unit="ng"),
        ActionEvent(tick=3, action="guard", site="akimat", count=3, unit="csto"),
        ActionEvent(tick=3, action="guard", site="airport", count=2, unit="csto"),
        ActionEvent(tick=3, action="guard", site="airport", count=2, source="new"),
        ActionEvent(tick=4, action="withdraw", unit="ng", count=5),
        ActionEvent(tick=5, action="withdraw", unit="csto"),
        ActionEvent(tick=6, action="withdraw", unit="ng"),
    )
    sim = _one_town(tl)
    sim.step(3)
    st_ = sim.place.state["sites"]
    start = _by_unit(sim.place)
    assert start[codes["ng"]] == 6 and start[codes["csto"]] == 5
    sim.step()  # tick 4: 5 of ng's 6 on duty; its guards stay at their post
    assert _by_unit(sim.place) == {**start, codes["ng"]: 1}
    assert guards_by_unit(sim.place) == {"ng": 4, "csto": 5}
    sim.step()  # tick 5: csto, on duty and at both posts
    assert _by_unit(sim.place) == {0: start[0], codes["ng"]: 1}
    assert guards_by_unit(sim.place) == {"ng": 4}
    assert st_["own_guards"].tolist() == [4, 0] and st_["new_guards"].tolist() == [0, 2]
    assert sim.place.row.site_guards == 6
    assert (st_["posted"]["unit"] == codes["ng"]).all()
    sim.step()  # tick 6: ng, its last on duty and its 4 guards
    assert _by_unit(sim.place) == {0: start[0]}
    assert guards_by_unit(sim.place) == {} and st_["own_guards"].tolist() == [0, 0]
    assert sim.place.row.site_guards == 2  # the outsiders belong to no unit


def test_the_units_table_counts_each_units_guards_with_its_forces():
    """Where the forces are reported by unit, so are the guards: one row a unit
    (the initial force "" included) with its cops on duty and on guard; the
    outsiders, of no unit, are in site_guards only."""
    tl = (
        *_units_arrive(),
        ActionEvent(tick=3, action="guard", site="akimat", count=4, unit="ng"),
        ActionEvent(tick=3, action="guard", site="airport", count=3),
        ActionEvent(tick=3, action="guard", site="airport", count=2, source="new"),
    )
    sim = _one_town(tl)
    assert sim.units_table().to_pylist() == [
        {"tick": 0, "place": "", "unit": "", "on_duty": 16, "on_guard": 0, "in_transit": 0}
    ]
    sim.step(3)
    df = sim.units_table().to_pandas().set_index("unit")
    assert list(df.index) == ["", "csto", "ng"] and (df.tick == 3).all()
    codes = country_units(sim.place.timeline)
    on = _by_unit(sim.place)
    assert df.on_duty.to_dict() == {u: on.get(codes.get(u, 0), 0) for u in df.index}
    assert df.on_guard.to_dict() == {u: guards_by_unit(sim.place).get(u, 0) for u in df.index}
    assert df.on_guard["ng"] >= 4 and df.on_guard.sum() == 7
    assert sim.place.row.site_guards == 9  # with the 2 outsiders
    assert df.on_duty.sum() + df.on_guard.sum() == 16 + 20
    assert (df.in_transit == 0).all()


def test_a_whole_unit_sent_away_takes_its_guards_along():
    """A send of a whole unit (no count) takes its members guarding the source's
    sites along in the convoy (counted as sent; they arrive with their unit); a send
    with a count draws among those on duty and leaves the guards at their posts."""
    tl = (
        ActionEvent(tick=1, action="reinforce", place="Alpha", count=8, unit="csto"),
        ActionEvent(tick=2, action="guard", place="Alpha", site="akimat", count=3, unit="csto"),
        ActionEvent(tick=2, action="guard", place="Alpha", site="airport", count=2, unit="csto"),
        ActionEvent(tick=3, action="send", place="Alpha", to="Beta", unit="csto", count=2),
        ActionEvent(tick=4, action="send", place="Alpha", to="Beta", unit="csto"),
    )
    sc = country_scenario(sited_towns(), tl, legitimacy=0.9, steps=30, transport_enabled=True)
    sim = upheaval.Simulation(sc, seed=4)
    alpha, beta = sim.places[0], sim.places[1]
    sim.step(3)  # tick 3: 2 of the 3 on duty leave; the 5 guards stay
    assert alpha.row.forces_sent == 2 and guards_by_unit(alpha) == {"csto": 5}
    sim.step()  # tick 4: the last on duty and the 5 guards leave together
    code = country_units(alpha.timeline)["csto"]
    assert alpha.row.forces_sent == 6 and guards_by_unit(alpha) == {}
    assert alpha.row.site_guards == 0 and _by_unit(alpha).get(code, 0) == 0
    # the whole unit is on its way or in Beta (the first 2 may be there already)
    assert in_transit_by_unit(sim).get("csto", 0) + _by_unit(beta).get(code, 0) == 8
    units = sim.units_table().to_pandas().query("unit == 'csto'").set_index("place")
    assert units.loc["Alpha", ["on_duty", "on_guard", "in_transit"]].tolist() == [0, 0, 0]
    assert units.loc["Beta", ["on_duty", "in_transit"]].sum() == 8
    sim.step(20)
    assert in_transit_by_unit(sim) == {}
    assert _by_unit(beta)[code] == 8


def test_a_guard_naming_a_unit_that_has_not_arrived_is_refused():
    def guard(tick, unit, **keys):
        return ActionEvent(tick=tick, action="guard", site="akimat", count=2, unit=unit, **keys)

    p = Params(width=20, height=20, site_list=AKIMAT)
    for timeline, message in (
        ((*_units_arrive(3), guard(2, "csto")), "timeline[3].unit: no unit 'csto' has arrived"),
        ((*_units_arrive(), guard(2, "kgb")), "timeline[3].unit: no unit 'kgb' has arrived"),
        (
            (*_units_arrive(), guard(2, "csto", source="new")),
            'timeline[3].unit: guards from outside (source = "new") belong to no unit',
        ),
    ):
        with pytest.raises(TimelineError, match=re.escape(message)):
            upheaval.Simulation(Scenario(params=p, timeline=timeline))
    # in a country: without transport only where the unit arrived, with it anywhere
    beta = ActionEvent(tick=1, action="reinforce", place="Beta", count=3, unit="csto")
    alpha = ActionEvent(tick=2, action="guard", place="Alpha", site="akimat", count=2, unit="csto")
    with pytest.raises(TimelineError, match=re.escape("in Alpha: no unit 'csto' has arrived")):
        upheaval.Simulation(country_scenario(sited_towns(), (beta, alpha)))
    upheaval.Simulation(country_scenario(sited_towns(), (beta, alpha), transport_enabled=True))
    ghost = alpha.replace(unit="kgb")
    with pytest.raises(
        TimelineError,
        match=re.escape("timeline[2].unit: no unit 'kgb' has arrived anywhere by tick 2"),
    ):
        upheaval.Simulation(country_scenario(sited_towns(), (beta, ghost), transport_enabled=True))


def test_a_bad_guard_unit_is_named_with_the_file_entry_and_key(tmp_path):
    path = tmp_path / "bad.toml"
    head = (
        '[world]\nwidth = 20\nheight = 20\n[sites]\nlist = "name=akimat x=0.5 y=0.5"\n'
        '[[timeline]]\ntick = 1\naction = "reinforce"\ncount = 3\nunit = "csto"\n'
        '[[timeline]]\ntick = 2\naction = "guard"\nsite = "akimat"\ncount = 2\n'
    )
    for entry, expected in (
        ('unit = "csto"', None),
        ('unit = "nato"', "timeline[2].unit: no unit 'nato' has arrived by tick 2"),
        ('unit = ""', "timeline[2].unit: expected a name"),
        ("unit = 3", "timeline[2].unit: expected a name"),
    ):
        path.write_text(head + entry + "\n")
        if expected is None:
            upheaval.load(path)
            continue
        with pytest.raises(ScenarioError) as err:
            upheaval.load(path)
        assert str(err.value).startswith(f"{path}: {expected}"), err.value
        assert "\n" not in str(err.value)


def test_an_unguard_naming_a_unit_that_has_not_arrived_is_named_in_one_line(tmp_path):
    """As a guard's: the file, the entry and the key, on one line; in a country with
    transport the unit may have arrived anywhere."""
    path = tmp_path / "bad.toml"
    head = (
        '[world]\nwidth = 20\nheight = 20\n[sites]\nlist = "name=akimat x=0.5 y=0.5"\n'
        '[[timeline]]\ntick = 3\naction = "reinforce"\ncount = 3\nunit = "csto"\n'
        '[[timeline]]\ntick = 2\naction = "unguard"\nsite = "akimat"\n'
    )
    for entry, expected in (
        ("", None),
        ('unit = "csto"', "timeline[2].unit: no unit 'csto' has arrived by tick 2"),
        ('unit = "nato"', "timeline[2].unit: no unit 'nato' has arrived by tick 2"),
        ("unit = 3", "timeline[2].unit: expected a name"),
    ):
        path.write_text(head + entry + "\n")
        if expected is None:
            upheaval.load(path)
            continue
        with pytest.raises(ScenarioError) as err:
            upheaval.load(path)
        assert str(err.value).startswith(f"{path}: {expected}"), err.value
        assert "\n" not in str(err.value)
    beta = ActionEvent(tick=1, action="reinforce", place="Beta", count=3, unit="csto")
    alpha = ActionEvent(tick=2, action="unguard", place="Alpha", site="akimat", unit="csto")
    upheaval.Simulation(country_scenario(sited_towns(), (beta, alpha), transport_enabled=True))
    with pytest.raises(
        TimelineError,
        match=re.escape("timeline[2].unit: no unit 'kgb' has arrived anywhere by tick 2"),
    ):
        ghost = alpha.replace(unit="kgb")
        upheaval.Simulation(country_scenario(sited_towns(), (beta, ghost), transport_enabled=True))


@pytest.mark.parametrize("seed", [1, 2])
def test_reference_twin_with_units_relieved_withdrawn_and_sent_with_their_guards(seed):
    """A unit's guards relieved by name, a whole unit withdrawn and another sent away
    with their guards: the twin agrees cop by cop, and the books show it."""
    tl = (
        ActionEvent(tick=1, action="reinforce", place="Alpha", count=6, unit="csto", mode="guard"),
        ActionEvent(tick=1, action="reinforce", place="Alpha", count=5, unit="ng"),
        ActionEvent(tick=1, action="reinforce", place="Gamma", count=4, unit="kaz"),
        ActionEvent(tick=3, action="guard", place="Alpha", site="akimat", count=3, unit="csto"),
        ActionEvent(tick=3, action="guard", place="Alpha", site="akimat", count=2, unit="ng"),
        ActionEvent(tick=3, action="guard", place="Alpha", site="airport", count=4),
        ActionEvent(tick=3, action="guard", place="Gamma", site="statue", count=3, unit="kaz"),
        ActionEvent(tick=5, action="unguard", place="Alpha", site="akimat", count=1, unit="csto"),
        ActionEvent(tick=7, action="withdraw", place="Alpha", unit="csto"),
        ActionEvent(tick=8, action="send", place="Gamma", to="Alpha", unit="kaz"),
        ActionEvent(tick=9, action="unguard", place="Alpha", site="akimat", unit="ng"),
    )
    sc = country_scenario(
        sited_towns(),
        tl,
        legitimacy=0.75,
        steps=16,
        transport_enabled=True,
        site_min_crowd=3,
        forces_minds=True,
        elite_rival_share=0.3,
    )
    sim = twin_agrees_cop_by_cop(sc, 16, seed)
    df = sim.table().to_pandas().set_index(["place", "tick"])
    assert df.loc[("Gamma", 8), "forces_sent"] == 4  # the unit whole: on duty and guards
    assert df.loc[("Gamma", 8), "site_guards"] == 0
    alpha = sim.places[0]
    codes = country_units(alpha.timeline)
    posted = alpha.state["sites"]["posted"]
    assert not (posted["unit"] == codes["csto"]).any()  # withdrawn from both posts
    assert not (posted[posted["site"] == 0]["unit"] == codes["ng"]).any()  # relieved


@pytest.mark.parametrize("seed", [1, 2])
def test_reference_twin_with_units_guarding_in_a_country(seed):
    """Units sent between places guard a site and come back: the twin agrees on every
    row and on every cop's unit, faction and mind, place by place."""
    tl = (
        ActionEvent(tick=1, action="reinforce", place="Beta", count=6, unit="csto", mode="guard"),
        ActionEvent(tick=1, action="reinforce", place="Alpha", count=4, unit="ng"),
        ActionEvent(tick=2, action="send", place="Beta", to="Alpha", unit="csto", count=5),
        ActionEvent(tick=6, action="guard", place="Alpha", site="akimat", count=3, unit="csto"),
        ActionEvent(tick=7, action="guard", place="Alpha", site="akimat", count=4),
        ActionEvent(tick=8, action="guard", place="Gamma", site="statue", count=2, unit="ng"),
        ActionEvent(tick=10, action="unguard", place="Alpha", site="akimat", count=5),
        ActionEvent(tick=13, action="unguard", place="Alpha", site="akimat"),
    )
    sc = country_scenario(
        sited_towns(),
        tl,
        legitimacy=0.75,
        steps=16,
        transport_enabled=True,
        site_min_crowd=3,
        forces_minds=True,
        elite_rival_share=0.3,
    )
    sim = twin_agrees_cop_by_cop(sc, 16, seed)
    alpha = sim.table().to_pandas().query("place == 'Alpha'").set_index("tick")
    assert alpha.site_guards.loc[7:9].eq(7).all() and alpha.site_guards.loc[13:].eq(0).all()


# -- declarations ---------------------------------------------------------------------
def test_sites_are_read_from_text_or_tables_into_one_normal_form(tmp_path):
    tables = [
        {"name": "akimat", "x": 0.5, "y": 0.5},
        {"name": "airport", "kind": "airport", "x": 0.1, "y": 0.8, "radius": 1},
    ]
    sites = parse_sites(AKIMAT)
    assert parse_sites(tables) == sites
    assert [s.kind for s in sites] == ["akimat", "airport"]
    path = tmp_path / "s.toml"
    path.write_text(
        "[world]\nwidth = 20\nheight = 20\n[sites]\n"
        'list = [{name = "akimat", x = 0.5, y = 0.5}, '
        '{name = "airport", kind = "airport", x = 0.1, y = 0.8, radius = 1}]\n'
    )
    sc = upheaval.load(path)
    assert parse_sites(sc.params.sites.list) == sites
    assert isinstance(sc.params.sites.list, str)  # the normal form: hashable, tabular


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('"name=akimat x=1.2 y=0.5"', "site 1 ('akimat'): x is a fraction"),
        ('"name=akimat x=0.5"', "site 1 ('akimat'): missing 'y'"),
        ('"name=a x=0.1 y=0.1; name=a x=0.2 y=0.2"', "site 2: the name 'a' is given twice"),
        ('"name=akimat x=0.5 y=0.5 size=3"', "site 1 ('akimat'): unknown key 'size'"),
        (
            '"name=akimat x=0.5 y=0.5 radius=-1"',
            "site 1 ('akimat'): radius is a whole number of cells ≥ 0",
        ),
        ('"name=akimat x=0.5 y=0.5;"', "site 2: empty"),
        (
            '"name=akimat x=0.5 y=0.5 radius=12"',
            "site 'akimat': a window of radius 12 needs a lattice of at least 25",
        ),
        ('[{name = "a b", x = 0.1, y = 0.1}]', "site 1 ('a b'): a name is letters, digits"),
        ("3", "expected sites as text or a list of tables"),
    ],
)
def test_a_bad_site_is_named_with_the_file_and_key(tmp_path, value, reason):
    path = tmp_path / "bad.toml"
    path.write_text(f"[world]\nwidth = 20\nheight = 20\n[sites]\nlist = {value}\n")
    with pytest.raises(ScenarioError, match=re.escape(f"bad.toml: sites.list: {reason}")):
        upheaval.load(path)


def test_a_places_table_names_the_line_and_column_of_a_bad_site(tmp_path):
    (tmp_path / "p.csv").write_text(
        "name,region,lat,lon,utc_offset,population,site_list\n"
        "A,R,1,1,0,5000,name=akimat x=0.5 y=0.5\n"
        "B,R,1,2,0,5000,name=akimat x=0.5\n"
    )
    path = tmp_path / "s.toml"
    path.write_text('[country]\nplaces = "p.csv"\n')
    with pytest.raises(
        ScenarioError,
        match=re.escape("p.csv: line 3, column 'site_list': site 1 ('akimat'): missing 'y'"),
    ):
        upheaval.load(path)


def test_a_guard_names_a_site_of_its_place(tmp_path):
    (tmp_path / "p.csv").write_text(
        "name,region,lat,lon,utc_offset,population,site_list\n"
        "A,R,1,1,0,5000,name=akimat x=0.5 y=0.5\n"
        "B,R,1,2,0,5000,\n"
    )
    path = tmp_path / "s.toml"
    base = '[country]\nplaces = "p.csv"\n[[timeline]]\ntick = 2\naction = "guard"\ncount = 3\n'
    for entry, expected in (
        ('site = "akimat"\nplace = "A"', None),
        (
            'site = "airport"\nplace = "A"',
            "timeline[1].site: in A: no site 'airport' here (akimat)",
        ),
        ('site = "akimat"', "timeline[1].site: in B: no site 'akimat' here (none"),
        ('site = "akimat"\nplace = "A"\nsource = "army"', "timeline[1].source: expected one of"),
    ):
        path.write_text(base + entry + "\n")
        if expected is None:
            upheaval.load(path)
        else:
            with pytest.raises(ScenarioError, match=re.escape(expected)):
                upheaval.load(path)


# -- bookkeeping ----------------------------------------------------------------------
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    orders=st.lists(
        st.tuples(
            st.integers(1, 20),
            st.sampled_from(["guard", "unguard"]),
            st.sampled_from(["akimat", "airport"]),
            st.integers(1, 30),
            st.sampled_from(["cops", "new"]),
        ),
        max_size=8,
    ),
    legitimacy=st.sampled_from([0.55, 0.7, 0.85]),
    seed=st.integers(0, 1000),
)
def test_guards_are_never_created_or_lost(orders, legitimacy, seed):
    tl = tuple(
        ActionEvent(tick=t, action="guard", site=s, count=n, source=src)
        if a == "guard"
        else ActionEvent(tick=t, action="unguard", site=s, count=n)
        for t, a, s, n, src in orders
    )
    p = Params(width=20, height=20, legitimacy=legitimacy, cop_density=0.05, site_list=AKIMAT)
    sim = upheaval.Simulation(Scenario(params=p, timeline=tl), seed=seed)
    cops = sim.place.cops_on_duty()
    st_ = sim.place.state["sites"]
    for _ in range(25):
        sim.step()
        assert sim.place.cops_on_duty() + int(st_["own_guards"].sum()) == cops
        assert (st_["own_guards"] >= 0).all() and (st_["new_guards"] >= 0).all()
        posted = np.bincount(st_["posted"]["site"], minlength=len(st_["own_guards"]))
        assert posted.tolist() == st_["own_guards"].tolist()
        assert sim.place.row.site_guards == guards_at(sim.place)
        assert sim.place.row.sites_held == int(st_["held"].sum())
        assert (st_["held_for"][~st_["held"]] == 0).all()


def test_a_checkpoint_of_a_country_with_sites_continues_bit_for_bit():
    tl = (
        ActionEvent(tick=2, action="guard", place="Alpha", site="akimat", count=5),
        ActionEvent(tick=9, action="unguard", place="Alpha", site="akimat"),
    )
    sc = country_scenario(sited_towns(), tl, legitimacy=0.75, steps=20, site_min_crowd=3)
    straight = upheaval.Simulation(sc, seed=4).run(20)
    first = upheaval.Simulation(sc, seed=4).run(7)
    resumed = upheaval.Simulation.restore(first.checkpoint())
    resumed.run(13)
    assert resumed.table().equals(straight.table())
    for a, b in zip(straight.places, resumed.places, strict=True):
        for key, value in a.state["sites"].items():
            assert np.array_equal(value, b.state["sites"][key]), key


def test_summaries_count_sites_and_ticks_lost():
    tl = (ActionEvent(tick=2, action="guard", place="Alpha", site="akimat", count=5),)
    sc = country_scenario(sited_towns(), tl, legitimacy=0.7, steps=30, site_min_crowd=3)
    table = upheaval.Simulation(sc, seed=1).run().table()
    by = {s.place: s for s in place_summaries(table, lost_below=0.9)}
    t = table.to_pandas()
    for name, s in by.items():
        rows = t[t.place == name]
        assert s.sites == {"Alpha": 2, "Beta": 0, "Gamma": 1}[name]
        assert s.ticks_lost == int((rows.control < 0.9).sum())
        assert s.min_control == rows.control.min() and s.sites_seized == rows.sites_seized.sum()
    assert any(s.ticks_lost > 0 for s in by.values())


def test_the_worked_example_with_sites_shows_what_the_docs_say(tmp_path):
    out = tmp_path / "run"
    shown = run_and_show(EXAMPLE, out)
    block = shown[shown.index("\ncontrol ") + 1 :].splitlines()
    assert len(block) == 5
    doc = (ROOT / "docs" / "places.md").read_text("utf-8")
    for line in block:
        assert line in doc, f"docs/places.md does not show: {line}"
    t = upheaval.results.read_run(out)[1].to_pandas()
    aktau = t[t.place == "Aktau"].set_index("tick")
    assert aktau.site_guards.loc[25:48].eq(10).all() and aktau.site_guards.loc[49:].eq(0).all()
    assert aktau.cops.nunique() == 1  # outsiders guard: the town's own police stay on duty


# -- evidence -------------------------------------------------------------------------
SEEDS = range(1, 21)
TWO_SITES = "name=north x=0.25 y=0.25; name=south x=0.75 y=0.75"


def held_trace(seed: int, timeline: tuple, steps: int) -> np.ndarray:
    """Per tick, which of the two sites the crowd holds (30×30, L = 0.65: Epstein's
    first outburst at once, then quiet and a second one)."""
    p = Params(width=30, height=30, legitimacy=0.65, cop_density=0.04, site_list=TWO_SITES)
    sim = upheaval.Simulation(Scenario(params=p, timeline=timeline), seed=seed)
    out = []
    for _ in range(steps):
        sim.step()
        out.append(sim.place.state["sites"]["held"].copy())
    return np.array(out)


def measure() -> dict:
    """Guards of 0, 2, 4 and 6 of the place's cops at one of two sites from tick 1
    (which one alternates with the seed), 40 ticks: in how many seeds each site was
    ever seized and how many ticks the crowd held it; and the 6 guards withdrawn at
    tick 4, during the first outburst: in how many seeds the site falls within 6
    ticks (4 … 9), against the same seeds with the guard kept."""
    doses = {}
    for guards in (0, 2, 4, 6):
        seized = {"guarded": 0, "unguarded": 0}
        held = {"guarded": 0, "unguarded": 0}
        for seed in SEEDS:
            g = seed % 2
            tl = (
                (ActionEvent(tick=1, action="guard", site=("north", "south")[g], count=guards),)
                if guards
                else ()
            )
            h = held_trace(seed, tl, 40)
            for key, k in (("guarded", g), ("unguarded", 1 - g)):
                seized[key] += int(h[:, k].any())
                held[key] += int(h[:, k].sum())
        doses[str(guards)] = {"seeds_seized": seized, "ticks_held": held}
    fell = {"withdrawn": 0, "kept": 0, "before_withdrawal": 0}
    for seed in SEEDS:
        g = seed % 2
        guard = ActionEvent(tick=1, action="guard", site=("north", "south")[g], count=6)
        unguard = ActionEvent(tick=4, action="unguard", site=("north", "south")[g])
        withdrawn = held_trace(seed, (guard, unguard), 9)[:, g]
        kept = held_trace(seed, (guard,), 9)[:, g]
        fell["before_withdrawal"] += int(withdrawn[:3].any())
        fell["withdrawn"] += int(withdrawn[3:].any())
        fell["kept"] += int(kept[3:].any())
    return {"seeds": len(SEEDS), "guards": doses, "withdrawal_at_tick_4": fell}


def test_guarded_sites_fall_less_and_a_withdrawn_guard_lets_its_site_fall():
    got = measure()
    assert got == json.loads(RESULTS.read_text("utf-8")), (
        "sites evidence changed; rerun `python tests/country/test_sites.py` if on purpose"
    )
    doses = got["guards"]
    # with no guard the two sites are alike; every guard holds its site longer
    none = doses["0"]["ticks_held"]
    assert abs(none["guarded"] - none["unguarded"]) <= 0.25 * max(none.values())
    held = [doses[g]["ticks_held"]["guarded"] for g in ("0", "2", "4", "6")]
    assert held == sorted(held, reverse=True) and held[-1] < held[0] / 4, held
    six = doses["6"]["seeds_seized"]
    assert six["guarded"] <= 2 and six["unguarded"] >= 18, six
    fell = got["withdrawal_at_tick_4"]
    assert fell["before_withdrawal"] == 0
    assert fell["withdrawn"] >= 15 and fell["kept"] <= 3, fell


if __name__ == "__main__":
    RESULTS.write_text(json.dumps(measure(), indent=1) + "\n", "utf-8")
    sys.stdout.write(RESULTS.read_text("utf-8"))
