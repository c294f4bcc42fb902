"""Activists who travel between places (docs/odd.md §12.5): the reference twin bit
for bit, records carried whole, nobody made or lost, determinism over threads and
checkpoints, curfews and blockades respected, off by default, and the effect on a
quiet town linked to one in revolt over 20 seeds (recorded in
``results/travel.json``; ``python tests/country/test_travel.py`` rewrites it)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import upheaval
from country.helpers import country_scenario, three_towns, with_params
from reference.country import ReferenceCountry
from upheaval.core.codes import CITIZEN, DEAD
from upheaval.engine.simulation import Checkpoint
from upheaval.model.records import KEPT
from upheaval.model.rules.travel import in_transit
from upheaval.model.timeline import ActionEvent, SetEvent
from upheaval.scenario.country import Country, LinkSpec, PlaceSpec

RESULTS = Path(__file__).parent / "results" / "travel.json"
TRAVEL = dict(travel_enabled=True, travel_leave_probability=0.05)
BASE = dict(legitimacy=0.62, steps=40)
COLUMNS = ("travellers_left", "travellers_arrived", "travellers_in_transit")


def _compare(sim, twin) -> None:
    got, want = sim.table(), twin.table()
    for name in got.column_names:
        assert got.column(name).to_pylist() == want.column(name).to_pylist(), name


def _restless(timeline=(), **params):
    """Three towns at a legitimacy at which Beta and Gamma break out (Alpha, at 0.7 in
    the places table, is calmer)."""
    return country_scenario(three_towns(), timeline, **{**BASE, **TRAVEL, **params})


@pytest.mark.parametrize("seed", [1, 2])
def test_reference_twin_with_travellers_blockades_and_curfews(seed):
    tl = (
        ActionEvent(tick=3, action="send", place="Alpha", to="Gamma", count=6),
        ActionEvent(tick=10, action="shutdown", place="Beta"),
        ActionEvent(tick=14, action="emergency", place="Gamma", curfew_from=20.0, curfew_to=6.0),
        SetEvent(tick=20, param="legitimacy", value=0.85, place="Beta"),
        # a shock and its rollback in Beta only: every place keeps the hardship before
        # shocks, so that travellers into Beta bring theirs
        ActionEvent(tick=5, action="shock", place="Beta", factor=1.5),
        ActionEvent(tick=25, action="rollback", place="Beta", share=0.5),
    )
    sc = _restless(
        tl,
        start="2022-01-04T00:00",
        tick_minutes=120.0,
        transport_enabled=True,
        transport_blockade_share=0.15,
        information_enabled=True,
        information_elsewhere_weight=0.5,
        travel_by_air=True,
    )
    sim = upheaval.Simulation(sc, seed=seed).run()
    twin = ReferenceCountry(sc, seed)
    twin.step(40)
    _compare(sim, twin)
    assert in_transit(sim) == len(twin.travellers)
    table = sim.table()
    assert sum(table.column("travellers_left").to_pylist()) > 20
    assert sum(table.column("travellers_arrived").to_pylist()) > 10
    assert sum(table.column("links_blocked").to_pylist()) > 0
    assert sum(table.column("under_curfew").to_pylist()) > 0


# -- the books: nothing made, lost or redrawn -----------------------------------------
#: fields a citizen keeps unchanged through a run without shocks (its legitimacy and
#: fear move with what it sees)
FIXED = ("hardship", "risk_aversion", "group", "cohort", "hardship0")


def _citizens(sim, fields, only=None) -> Counter:
    """The multiset of the citizens' ``fields`` (zeros where an array is not kept), on
    the lattices (only place ``only`` if given, only actives then) and, without
    ``only``, on the way."""
    out: Counter = Counter()
    for pl in sim.places:
        if only is not None and pl.index != only:
            continue
        a = pl.agents
        live = (a.kind == CITIZEN) & (a.status != DEAD)
        if only is not None:
            live &= a.status == 1  # ACTIVE
        for i in np.flatnonzero(live):
            out[tuple(_field(a, f, i) for f in fields)] += 1
    if only is None:
        for *_, record in sim.state["travel"]["travellers"]:
            out[_carried(record, fields)] += 1
    return out


def _carried(record, fields) -> tuple[float, ...]:
    """A traveller's ``fields`` as its record (model/records.py, one row) holds them."""
    return tuple(float(record[f][0]) for f in fields)


def _field(a, name, i) -> float:
    arr = getattr(a, name)
    return float(arr[i]) if arr.shape[0] else 0.0


def test_travellers_carry_their_own_records_and_nobody_is_made_or_lost():
    sc = _restless(
        legitimacy_feedback="per_agent",
        hardship_group_share=0.3,
        identity_enabled=True,
        lethal_deterrence=0.5,
    )
    sim = upheaval.Simulation(sc, seed=3, threads=1)
    people = _citizens(sim, FIXED)
    left = arrived = 0
    for _ in range(40):
        # what each place's actives carry at the end of the tick, to find the
        # travellers who leave at the start of the next among them
        before = [_citizens(sim, KEPT, only=i) for i in range(len(sim.places))]
        n_before = len(sim.state["travel"]["travellers"])
        sim.step()
        rows = [pl.row for pl in sim.places]
        gone = sum(r.travellers_left for r in rows)
        left += gone
        arrived += sum(r.travellers_arrived for r in rows)
        # no link is shorter than a tick: this tick's leavers are the last on the way
        travellers = sim.state["travel"]["travellers"]
        assert len(travellers) == n_before + gone - sum(r.travellers_arrived for r in rows)
        for origin, _, _, _, record in travellers[len(travellers) - gone :]:
            key = _carried(record, KEPT)
            assert before[origin][key] > 0, "a traveller's record was redrawn"
            before[origin][key] -= 1
        assert sum(r.killed_by_cops for r in rows) == 0  # lethal force is off
        assert _citizens(sim, FIXED) == people
        assert arrived <= left and left - arrived == in_transit(sim)
        assert sum(r.travellers_in_transit for r in rows) == in_transit(sim)
    assert left > 30 and arrived > 20


def test_places_must_keep_the_same_records():
    towns = three_towns()
    beta = towns.places[1]
    odd = beta.__class__(*[*dataclass_values(beta)[:-1], (("hardship_group_share", 0.3),)])
    country = Country(places=(towns.places[0], odd, towns.places[2]), links=towns.links)
    sim = upheaval.Simulation(country_scenario(country, **TRAVEL), seed=1)
    with pytest.raises(ValueError, match="same per-agent arrays"):
        sim.step()


def dataclass_values(obj) -> list:
    import dataclasses

    return [getattr(obj, f.name) for f in dataclasses.fields(obj)]


# -- determinism ------------------------------------------------------------------------
def test_threads_and_checkpoints_do_not_change_a_run(tmp_path):
    sc = _restless(transport_enabled=True, transport_blockade_share=0.2)
    one = upheaval.Simulation(sc, seed=5, threads=1).run().table()
    many = upheaval.Simulation(sc, seed=5, threads=3).run().table()
    assert one.equals(many)
    sim = upheaval.Simulation(sc, seed=5, threads=3)
    sim.step(12)
    while in_transit(sim) == 0:  # checkpoint with travellers on the way
        sim.step()
    path = sim.checkpoint().save(tmp_path / "travel.ckpt")
    resumed = upheaval.Simulation.restore(Checkpoint.load(path), threads=2)
    assert in_transit(resumed) == in_transit(sim) > 0
    resumed.run(40 - resumed.tick)
    assert resumed.table().equals(one)
    assert resumed.links_table().equals(upheaval.Simulation(sc, seed=5).run().links_table())


# -- what stops them --------------------------------------------------------------------
def test_nobody_leaves_or_enters_a_place_under_curfew():
    tl = (ActionEvent(tick=2, action="emergency", place="Beta", curfew_from=18.0, curfew_to=6.0),)
    sc = _restless(tl, start="2022-01-04T00:00", tick_minutes=60.0, steps=48)
    t = upheaval.Simulation(sc, seed=2).run().table().to_pandas()
    beta = t[t.place == "Beta"]
    curfew = beta.under_curfew == 1
    assert curfew.sum() >= 20
    assert (beta.travellers_left[curfew] == 0).all() and (
        beta.travellers_arrived[curfew] == 0
    ).all()
    assert beta.travellers_left[~curfew].sum() > 0 and beta.travellers_arrived[~curfew].sum() > 0
    # those on their way to Beta wait at its edge meanwhile
    assert beta.travellers_in_transit[curfew].max() > 0


def test_a_blocked_link_stops_travellers_as_it_stops_convoys():
    sc = _restless(transport_enabled=True, transport_blockade_share=0.1)
    sim = upheaval.Simulation(sc, seed=1)
    held = 0
    for _ in range(40):
        # a traveller is known by its record (its bytes: a one-row array)
        was = {rec.tobytes(): left for _, _, _, left, rec in sim.state["travel"]["travellers"]}
        sim.step()
        blocked = sim.state["transport"]["blocked"]
        for _, _, link, left, rec in sim.state["travel"]["travellers"]:
            if blocked[link] and left > 0 and rec.tobytes() in was:
                assert left == was[rec.tobytes()], "a traveller moved on a blocked link"
                held += 1
        # Alpha and Gamma have one link each: blocked, nobody leaves them
        for i, link in ((0, 0), (2, 1)):
            if blocked[link]:
                assert sim.places[i].row.travellers_left == 0
    assert held > 0


def test_air_links_only_if_allowed():
    towns = three_towns()
    country = Country(
        places=towns.places,
        links=(*towns.links, LinkSpec("Alpha", "Gamma", "air", 700.0, 2.0)),
    )
    for by_air in (False, True):
        sc = country_scenario(country, legitimacy=0.62, steps=30, travel_by_air=by_air, **TRAVEL)
        sim = upheaval.Simulation(sc, seed=1)
        on_air = 0
        for _ in range(30):
            sim.step()
            on_air += sim.links_table().column("travellers_on_link").to_pylist()[-1]
        assert (on_air > 0) == by_air


# -- off by default -------------------------------------------------------------------
def test_off_by_default_and_a_zero_probability_changes_nothing():
    sc = _restless(information_enabled=True, information_elsewhere_weight=0.5)
    off = with_params(sc, travel_enabled=False)
    assert off.params.travel.enabled is False
    assert upheaval.load("epstein2002-run1").params.travel.enabled is False
    quiet = with_params(sc, travel_leave_probability=0.0)
    want = upheaval.Simulation(off, seed=7).run().table()
    got = upheaval.Simulation(quiet, seed=7).run().table()
    assert got.equals(want)
    for name in COLUMNS:
        assert set(want.column(name).to_pylist()) == {0}
    assert upheaval.Simulation(sc, seed=7).run().table() != want  # the control


# -- the effect: a quiet town linked to one in revolt -----------------------------------
STEPS = 60


def red_and_calm() -> Country:
    """A town in revolt (L = 0.6) and a calmer one (L = 0.83, where Epstein's model
    breaks out in some seeds and not others), three hours apart by road."""
    return Country(
        places=(
            PlaceSpec("Red", "R", 43.2, 76.9, 6, 3000, (("legitimacy", 0.6),)),
            PlaceSpec("Calm", "C", 43.3, 77.5, 6, 3000, (("legitimacy", 0.83),)),
        ),
        links=(LinkSpec("Red", "Calm", "road", 80.0, 3.0),),
        source="red and calm",
    )


def effect_run(seed: int, travel: bool) -> dict:
    sc = country_scenario(
        red_and_calm(), steps=STEPS, travel_enabled=travel, travel_leave_probability=0.02
    )
    sim = upheaval.Simulation(sc, seed=seed, threads=1)
    left = arrived = 0
    for _ in range(STEPS):
        sim.step()
        left += sum(pl.row.travellers_left for pl in sim.places)
        arrived += sum(pl.row.travellers_arrived for pl in sim.places)
        # travellers never exceed those who left: the rest are on their way
        assert arrived <= left and left - arrived == in_transit(sim)
    t = sim.table().to_pandas()
    calm = t[t.place == "Calm"].set_index("tick")
    citizens = calm.quiet_blue + calm.active_blue + calm.jailed_blue
    active = calm.active_blue
    came = calm.travellers_arrived.cumsum()
    onset = calm.index[active >= 0.02 * citizens]
    # an outburst of the town itself: more actives than every traveller it ever received
    outburst = calm.index[(active >= 0.1 * citizens) & (active > came)]
    return {
        "onset": int(onset[0]) if len(onset) else None,
        "outburst": int(outburst[0]) if len(outburst) else None,
        "peak": int(active.max()),
        "arrived": int(calm.travellers_arrived.sum()),
    }


def effect() -> dict:
    seeds = range(20)
    return {
        "seeds": len(seeds),
        "steps": STEPS,
        "off": [effect_run(s, False) for s in seeds],
        "on": [effect_run(s, True) for s in seeds],
    }


def test_travellers_bring_a_quiet_town_to_onset_earlier_and_more_often():
    got = effect()
    assert got == json.loads(RESULTS.read_text("utf-8")), (
        "travel evidence changed; rerun `python tests/country/test_travel.py` if on purpose"
    )
    off, on = got["off"], got["on"]
    assert all(r["arrived"] == 0 for r in off) and all(r["arrived"] > 0 for r in on)

    def count(runs, key):
        return sum(r[key] is not None for r in runs)

    def mean_tick(runs, key):  # censored at the end of the run
        return sum(r[key] or STEPS + 1 for r in runs) / len(runs)

    assert count(on, "onset") >= count(off, "onset") + 5, (count(on, "onset"), count(off, "onset"))
    assert mean_tick(on, "onset") < mean_tick(off, "onset") - 10
    # not only the travellers' own bodies: the town's own citizens rise more often
    assert count(on, "outburst") > count(off, "outburst")


if __name__ == "__main__":
    RESULTS.write_text(json.dumps(effect(), indent=1) + "\n", "utf-8")
    print(f"wrote {RESULTS}", file=sys.stderr)


def test_a_full_destination_keeps_its_travellers_waiting_at_its_edge():
    """Full has no empty site (citizens and cops fill every one): travellers on their
    way to it wait at its edge, counted in transit, and none is lost."""
    country = Country(
        places=(
            PlaceSpec("Red", "R", 43.2, 76.9, 6, 3000, (("legitimacy", 0.6),)),
            PlaceSpec(
                "Full", "F", 43.3, 77.5, 6, 2000, (("citizen_density", 0.96), ("legitimacy", 0.9))
            ),
        ),
        links=(LinkSpec("Red", "Full", "road", 80.0, 2.0),),
        source="red and full",
    )
    sc = country_scenario(country, steps=30, **TRAVEL)
    sim = upheaval.Simulation(sc, seed=1)
    full = sim.places[1]
    assert int(np.count_nonzero(full.lattice.occupancy == 0)) == 0
    citizens = full.n_citizens()
    sim.run()
    t = sim.table().to_pandas()
    red, fullrow = t[t.place == "Red"], t[t.place == "Full"]
    assert fullrow.travellers_arrived.sum() == 0 and full.n_citizens() == citizens
    assert fullrow.travellers_in_transit.iloc[-1] == red.travellers_left.sum() > 0
    waiting = [left for _, _, _, left, _ in sim.state["travel"]["travellers"]]
    assert waiting.count(0.0) > 0  # at the edge, not on the road


def test_a_scenario_file_switches_it_on(tmp_path):
    """docs/places.md: a `[travel]` table in the worked example's scenario file."""
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "three-towns"
    for name in ("places.csv", "links.csv"):
        (tmp_path / name).write_text((example / name).read_text("utf-8"), "utf-8")
    text = (example / "three-towns.toml").read_text("utf-8")
    (tmp_path / "off.toml").write_text(text, "utf-8")
    travel = "\n[travel]\nenabled = true\nleave_probability = 0.05\nby_air = false\n"
    (tmp_path / "on.toml").write_text(text.replace("\n[run]", travel + "\n[run]"), "utf-8")
    off, on = upheaval.load(tmp_path / "off.toml"), upheaval.load(tmp_path / "on.toml")
    assert not off.params.travel.enabled
    assert on.params.travel.enabled and on.params.travel.leave_probability == 0.05
    t = upheaval.Simulation(on, seed=1).run(30).table()
    assert sum(t.column("travellers_left").to_pylist()) > 0


def test_a_branch_may_stop_departures_but_not_the_travellers_on_their_way():
    sc = _restless()
    sim = upheaval.Simulation(sc, seed=5)
    sim.step(12)
    while in_transit(sim) == 0:
        sim.step()
    cp = sim.checkpoint()
    with pytest.raises(ValueError, match="travellers are on their way"):
        upheaval.Simulation.restore(cp, with_params(sc, travel_enabled=False))
    # no more departures: those on the way still arrive, and the books still close
    branch = upheaval.Simulation.restore(cp, with_params(sc, travel_leave_probability=0.0))
    waiting = in_transit(branch)
    branch.run(15)
    t = branch.table().to_pandas()
    later = t[t.tick > cp.tick]
    assert later.travellers_left.sum() == 0
    assert later.travellers_arrived.sum() == waiting and in_transit(branch) == 0


def test_the_kazakhstan_preset_runs_with_travel_and_keeps_its_books():
    """Its timeline shocks and rolls back hardship in some places only: every place
    keeps the hardship before shocks, so that travellers' records fit everywhere."""
    sc = with_params(upheaval.load("kazakhstan-2022"), travel_enabled=True)
    sim = upheaval.Simulation(sc, seed=1, threads=2)
    people = sum(pl.n_citizens() for pl in sim.places)
    killed = 0
    for _ in range(72):
        sim.step()
        killed += sum(pl.row.killed_by_cops for pl in sim.places)
        assert sum(pl.n_citizens() for pl in sim.places) + killed + in_transit(sim) == people
    left = sum(sim.table().column("travellers_left").to_pylist())
    assert left > 50, left


def test_show_counts_the_travellers_of_each_place(tmp_path):
    """`upheaval show` adds a travellers block to a country's places when anyone
    travelled, with each place's totals from the tick table."""
    from typer.testing import CliRunner

    from upheaval.cli import app

    sim = upheaval.run(_restless(), seed=1, out=tmp_path / "run")
    shown = CliRunner().invoke(app, ["show", str(tmp_path / "run")])
    assert shown.exit_code == 0, shown.output
    table = sim.table()
    places = table.column("place").to_pylist()
    lines = shown.output.splitlines()
    head = lines.index(next(line for line in lines if line.startswith("travellers ")))
    left = sum(table.column("travellers_left").to_pylist())
    assert lines[head].startswith(f"travellers   {left} left a place")
    for name in dict.fromkeys(places):
        rows = [i for i, p in enumerate(places) if p == name]
        want = [
            sum(table.column(c)[i].as_py() for i in rows)
            for c in ("travellers_left", "travellers_arrived")
        ] + [table.column("travellers_in_transit")[rows[-1]].as_py()]
        row = next(line for line in lines[head + 2 :] if line.split()[0] == name)
        assert [int(x) for x in row.split()[1:]] == want


def test_show_has_no_travellers_block_without_travel(tmp_path):
    from typer.testing import CliRunner

    from upheaval.cli import app

    upheaval.run(country_scenario(three_towns(), (), **BASE), seed=1, out=tmp_path / "run")
    shown = CliRunner().invoke(app, ["show", str(tmp_path / "run")])
    assert shown.exit_code == 0, shown.output
    assert not any(line.startswith("travellers ") for line in shown.output.splitlines())
    assert "places       3" in shown.output
