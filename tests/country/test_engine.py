"""The engine with many places: parity with one lattice, the reference twin,
determinism and checkpoints, targets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import upheaval
from country.helpers import country_scenario, three_towns, with_params
from reference.country import ReferenceCountry
from upheaval.engine.simulation import place_seed
from upheaval.model.rules.transport import in_transit_by_unit
from upheaval.model.timeline import ActionEvent, RampEvent, SetEvent
from upheaval.scenario.country import place_params

NEWS = dict(
    information_enabled=True,
    information_actives_weight=0.5,
    information_elsewhere_weight=3.0,
    information_elsewhere_repression_weight=2.0,
    information_national_share=0.2,
    information_decay_km=150.0,
)


def test_uncoupled_places_equal_one_lattice_runs():
    # Coupling off: each place is exactly the one-lattice engine on its parameters,
    # seeded with the place's SeedSequence.
    sc = country_scenario(three_towns(), legitimacy=0.75, steps=40)
    sim = upheaval.Simulation(sc, seed=5).run()
    table = sim.table()
    root = np.random.SeedSequence(5)
    for i, spec in enumerate(sc.country.places):
        alone = upheaval.Simulation(place_params(sc.params, spec), seed=place_seed(root, i))
        alone.run(40)
        mine = table.filter(table.column("place").to_numpy(zero_copy_only=False) == spec.name)
        assert mine.drop_columns(["place"]).equals(alone.table()), spec.name
    # and the places differ from each other (their own streams and sizes)
    sizes = [pl.params.world.width for pl in sim.places]
    assert sizes == [24, 15, 15]


def _timeline():
    return (
        ActionEvent(tick=12, action="shutdown", place="Beta"),
        ActionEvent(tick=30, action="restore", place="Beta"),
        RampEvent(start=20, end=29, param="legitimacy", value=0.55, region="South"),
        SetEvent(tick=35, param="max_jail_term", value=12.0),
        SetEvent(tick=25, param="cop_density", value=0.02, place="Alpha"),
    )


@pytest.mark.parametrize(
    ("seed", "half_life", "burn_in"), [(1, 0.0, 0), (2, 0.0, 0), (3, 6.0, 0), (4, 6.0, 9)]
)
def test_reference_twin_country_bit_for_bit(seed, half_life, burn_in):
    # half_life > 0: the news a place remembers (and forgets while Beta is cut off);
    # burn_in > 0: every place plays unrecorded ticks before tick 0
    sc = country_scenario(
        three_towns(),
        _timeline(),
        legitimacy=0.72,
        steps=45,
        information_news_half_life=half_life,
        burn_in=burn_in,
        **NEWS,
    )
    sim = upheaval.Simulation(sc, seed=seed).run()
    twin = ReferenceCountry(sc, seed)
    twin.step(45)
    got, want = sim.table(), twin.table()
    assert got.column_names == want.column_names
    for name in got.column_names:
        assert got.column(name).to_pylist() == want.column(name).to_pylist(), name
    # the news and the targets acted: something broke out, and Gamma's legitimacy fell
    assert sum(got.column("active_blue").to_pylist()) > 0
    gamma = next(pl for pl in sim.places if pl.name == "Gamma")
    alpha = next(pl for pl in sim.places if pl.name == "Alpha")
    assert gamma.dynamic["legitimacy"] == pytest.approx(0.55)
    assert alpha.dynamic["legitimacy"] == pytest.approx(0.7)


@pytest.mark.parametrize("seed", [1, 2])
def test_reference_twin_with_an_arrest_rate_by_place(seed):
    # cops.arrest_rate is place-scoped: a timeline lowers it in one place and ramps it
    # in a region; the twin draws whether each cop acts exactly as the engine does
    timeline = (
        SetEvent(tick=4, param="arrest_rate", value=0.1, place="Alpha"),
        RampEvent(start=10, end=20, param="arrest_rate", value=0.5, region="South"),
        SetEvent(tick=30, param="arrest_rate", value=1.0),
    )
    sc = country_scenario(three_towns(), timeline, legitimacy=0.72, steps=40, **NEWS)
    sim = upheaval.Simulation(sc, seed=seed).run()
    twin = ReferenceCountry(sc, seed)
    twin.step(40)
    got, want = sim.table(), twin.table()
    for name in got.column_names:
        assert got.column(name).to_pylist() == want.column(name).to_pylist(), name
    alpha = next(pl for pl in sim.places if pl.name == "Alpha")
    assert alpha.dynamic["arrest_rate"] == 1.0
    # the rate acted: the same seed without it gives other rows
    plain = country_scenario(three_towns(), legitimacy=0.72, steps=40, **NEWS)
    assert not upheaval.Simulation(plain, seed=seed).run().table().equals(got)


def test_news_changes_the_run():
    # The coupling is not a no-op: the same seed with news off gives other rows.
    sc = country_scenario(three_towns(), legitimacy=0.72, steps=40, **NEWS)
    on = upheaval.Simulation(sc, seed=3).run().table()
    off = upheaval.Simulation(with_params(sc, information_elsewhere_weight=0.0), seed=3)
    off = off.run().table()
    assert not on.equals(off)


def test_news_memory_delays_and_prolongs_what_is_heard():
    # A half-life makes the news build up: the same seed gives other rows, and the
    # memory a place holds is a float state between 0 and the densities heard.
    sc = country_scenario(three_towns(), legitimacy=0.72, steps=40, **NEWS)
    now = upheaval.Simulation(sc, seed=3).run()
    slow = upheaval.Simulation(with_params(sc, information_news_half_life=12.0), seed=3).run()
    assert not now.table().equals(slow.table())
    for pl in slow.places:
        heard = pl.state["information"]["heard"]
        assert heard.shape == (2,) and np.all(heard >= 0.0) and np.all(heard <= 1.0)
    assert any(pl.state["information"]["heard"][0] > 0 for pl in slow.places)


@pytest.mark.parametrize("half_life", [0.0, 9.0])
def test_country_is_deterministic_and_restores_bit_identically(half_life):
    sc = country_scenario(
        three_towns(),
        _timeline(),
        legitimacy=0.72,
        steps=50,
        information_news_half_life=half_life,
        **NEWS,
    )
    whole = upheaval.Simulation(sc, seed=9).run()
    again = upheaval.Simulation(sc, seed=9).run()
    assert whole.table().equals(again.table())
    half = upheaval.Simulation(sc, seed=9)
    half.run(22)
    cp = half.checkpoint()
    resumed = upheaval.Simulation.restore(cp)
    resumed.run(28)
    assert resumed.table().equals(whole.table())
    assert [p.name for p in cp.places] == ["Alpha", "Beta", "Gamma"]


def test_checkpoint_file_round_trip(tmp_path):
    sc = country_scenario(three_towns(), _timeline(), legitimacy=0.72, steps=30, **NEWS)
    sim = upheaval.Simulation(sc, seed=4)
    sim.run(15)
    path = sim.checkpoint().save(tmp_path / "cp.pkl")
    resumed = upheaval.Simulation.restore(upheaval.Checkpoint.load(path))
    resumed.run(15)
    sim.run(15)
    assert resumed.table().equals(sim.table())


def _units_on_the_move():
    """Units arrive in two places and are sent on by name, with the regime's calls."""
    return (
        ActionEvent(tick=2, action="reinforce", place="Gamma", count=5, unit="ng"),
        ActionEvent(tick=3, action="reinforce", place="Alpha", count=8, unit="csto", mode="guard"),
        ActionEvent(tick=5, action="send", place="Alpha", to="Gamma", unit="csto", count=6),
        ActionEvent(tick=6, action="send", place="Gamma", to="Alpha", unit="ng"),
        ActionEvent(tick=20, action="withdraw", place="Gamma", unit="csto"),
    )


@pytest.mark.parametrize("threads", [1, 3])
def test_units_in_transit_restore_bit_identically(tmp_path, threads):
    # the checkpoint at tick 8 holds both units on the rail between Beta and Gamma
    sc = country_scenario(
        three_towns(),
        _units_on_the_move(),
        legitimacy=0.72,
        steps=30,
        transport_enabled=True,
        transport_call_ratio=2.0,
        forces_minds=True,
    )
    whole = upheaval.Simulation(sc, seed=6, threads=threads).run()
    half = upheaval.Simulation(sc, seed=6, threads=threads)
    half.run(8)
    assert in_transit_by_unit(half)["csto"] == 6 and in_transit_by_unit(half)["ng"] == 5
    cp = half.checkpoint()
    path = cp.save(tmp_path / "units.ckpt")
    for restored in (cp, upheaval.Checkpoint.load(path)):
        resumed = upheaval.Simulation.restore(restored, threads=threads)
        assert in_transit_by_unit(resumed) == in_transit_by_unit(half)
        resumed.run(22)
        assert resumed.table().equals(whole.table())
        for a, b in zip(resumed.places, whole.places, strict=True):
            assert np.array_equal(a.agents.unit, b.agents.unit), a.name
    half.run(22)  # the checkpoint was a copy: the run it came from goes on the same
    assert half.table().equals(whole.table())


def test_branch_that_renumbers_a_country_s_units_is_refused():
    # codes are the country's: a variant whose past brings a unit to Beta before the
    # others would renumber the units on duty in Alpha and Gamma too
    sc = country_scenario(three_towns(), _units_on_the_move(), steps=30, transport_enabled=True)
    cp = upheaval.Simulation(sc, seed=2).run(8).checkpoint()
    first = ActionEvent(tick=1, action="reinforce", place="Beta", count=2, unit="omon")
    variant = dataclasses.replace(sc, timeline=(first, *sc.timeline))
    with pytest.raises(ValueError, match=r"\{'ng': 1, 'csto': 2\} before"):
        upheaval.Simulation.restore(cp, variant)
    later = ActionEvent(tick=9, action="reinforce", place="Beta", count=2, unit="omon")
    branch = upheaval.Simulation.restore(
        cp, dataclasses.replace(sc, timeline=(*sc.timeline, later))
    )
    branch.step()
    assert branch.places[1].agents.unit.max() == 3


def test_branch_into_other_places_is_refused():
    sc = country_scenario(three_towns(), steps=10)
    cp = upheaval.Simulation(sc, seed=1).run(5).checkpoint()
    other = country_scenario(
        three_towns().__class__(places=three_towns().places[:2], links=three_towns().links[:1]),
        steps=10,
    )
    with pytest.raises(ValueError, match="other places"):
        upheaval.Simulation.restore(cp, other)


def test_targets_act_only_where_they_point():
    tl = (
        SetEvent(tick=3, param="legitimacy", value=0.4, region="North"),
        SetEvent(tick=4, param="cop_density", value=0.0, place="Gamma"),
    )
    sim = upheaval.Simulation(country_scenario(three_towns(), tl, steps=5), seed=2).run()
    by = {pl.name: pl for pl in sim.places}
    assert by["Alpha"].dynamic["legitimacy"] == 0.4
    assert by["Beta"].dynamic["legitimacy"] == 0.4
    assert by["Gamma"].dynamic["legitimacy"] == 0.82
    assert by["Gamma"].row.cops == 0
    assert by["Alpha"].row.cops > 0 and by["Beta"].row.cops > 0


def test_country_table_and_counts():
    sc = country_scenario(three_towns(), steps=6)
    sim = upheaval.Simulation(sc, seed=1).run()
    table = sim.table()
    assert table.column_names[:2] == ["tick", "place"]
    assert table.num_rows == 3 * 7
    last = [pl.row for pl in sim.places]
    assert sim.counts()["cops"] == sum(r.cops for r in last)
    national = upheaval.model.ticks.national(table)
    assert national.num_rows == 7
    assert national.column("quiet_blue").to_pylist()[-1] == sum(r.quiet_blue for r in last)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_threads_do_not_change_the_results(threads):
    sc = country_scenario(three_towns(), _timeline(), legitimacy=0.72, steps=30, **NEWS)
    serial = upheaval.Simulation(sc, seed=6, threads=1).run().table()
    parallel = upheaval.Simulation(sc, seed=6, threads=threads).run().table()
    assert parallel.equals(serial)
    with pytest.raises(ValueError, match="threads must be"):
        upheaval.Simulation(sc, seed=6, threads=0)


def test_burn_in_leaves_the_all_quiet_start():
    # Without a burn-in tick 0 is the initial placement: nobody active or jailed. With
    # one, tick 0 is what the places became (someone has been arrested), the run stays
    # deterministic, and burn_in = 0 is exactly the classic start.
    sc = country_scenario(three_towns(), legitimacy=0.7, steps=5)
    plain = upheaval.Simulation(sc, seed=2).run().table()
    start = [r for r in plain.to_pylist() if r["tick"] == 0]
    assert all(r["jailed_blue"] + r["active_blue"] == 0 for r in start)
    spun = with_params(sc, burn_in=30)
    a = upheaval.Simulation(spun, seed=2).run().table()
    b = upheaval.Simulation(spun, seed=2, threads=1).run().table()
    assert a.equals(b)
    first = [r for r in a.to_pylist() if r["tick"] == 0]
    assert sum(r["jailed_blue"] + r["jailed_green"] for r in first) > 0
    # the burn-in's own events are not counted in tick 0
    assert all(r["arrests"] == 0 and r["released"] == 0 for r in first)
    ticks = a.column("tick").to_pylist()
    assert ticks.count(0) == 3 and max(ticks) == 5
