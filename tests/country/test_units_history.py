"""The security forces by unit over time (docs/odd.md §12.2, outputs): the units'
history a run records every tick when its timeline brings named units, what it adds
up to, its checkpoints, and a run without units recording nothing."""

from __future__ import annotations

import numpy as np
import pytest

import upheaval
from country.helpers import country_scenario, three_towns
from upheaval.engine.simulation import Checkpoint
from upheaval.model.timeline import ActionEvent

COLUMNS = ["tick", "place", "unit", "on_duty", "on_guard", "in_transit"]

#: A foreign unit reinforces Alpha, part of it is sent to Gamma (600 km by rail: on
#: the way for some ticks), then some of it is withdrawn at Alpha, and the rest of
#: Gamma's members all at once.
TIMELINE = (
    ActionEvent(tick=2, action="reinforce", place="Alpha", count=8, unit="csto", origin="foreign"),
    ActionEvent(tick=4, action="send", place="Alpha", to="Gamma", unit="csto", count=5),
    ActionEvent(tick=6, action="send", place="Beta", to="Alpha", count=3),
    ActionEvent(tick=9, action="withdraw", place="Alpha", unit="csto", count=2),
    ActionEvent(tick=25, action="withdraw", place="Gamma", unit="csto"),
)


def _scenario(timeline=TIMELINE, **params):
    base = dict(legitimacy=0.8, steps=30, transport_enabled=True)
    base.update(params)
    return country_scenario(three_towns(), timeline, **base)


@pytest.fixture(scope="module")
def run():
    return upheaval.Simulation(_scenario(), seed=3).run()


def test_the_history_has_a_row_a_tick_place_and_unit_and_ends_at_the_units_table(run):
    h = run.units_history()
    assert h.column_names == COLUMNS
    df = h.to_pandas()
    assert sorted(set(df.tick)) == list(range(31))
    # the named unit has a row in every place from the tick it arrived, zeros included
    assert set(df[df.unit == "csto"].tick) == set(range(2, 31))
    assert (df.groupby("tick").size() == [3 if t < 2 else 6 for t in range(31)]).all()
    assert h.filter(np.asarray(h.column("tick")) == run.tick).equals(run.units_table())
    assert run.units_history(first=run.tick).equals(run.units_table())
    assert run.units_history(first=4, last=5).to_pandas().tick.unique().tolist() == [4, 5]


def test_each_tick_of_the_history_is_what_the_units_table_said_then():
    sim = upheaval.Simulation(_scenario(), seed=3)
    tables = [sim.units_table()]
    for _ in range(30):
        sim.step()
        tables.append(sim.units_table())
    for t, table in enumerate(tables):
        assert sim.units_history(first=t, last=t).equals(table), t


def test_a_units_total_changes_only_by_its_reinforcements_and_withdrawals(run):
    df = run.units_history().to_pandas()
    csto = df[df.unit == "csto"].groupby("tick")[["on_duty", "on_guard", "in_transit"]].sum()
    total = csto.sum(axis=1)
    # the timeline: +8 at tick 2, −2 at tick 9, Gamma's members all gone at tick 25
    changes = {int(t): int(d) for t, d in total.diff().dropna().items() if d}
    killed = sum(run.table().to_pandas().cops_killed)  # crowds kill no cops here
    assert killed == 0
    assert total.loc[2] == 8
    assert changes == {9: -2, 25: -total.loc[24] + total.loc[25]}
    assert total.loc[25] == total.loc[24] - 5  # Gamma's five members, arrived by then
    # the send moved members between places: in transit on the way to Gamma, then there
    assert csto.in_transit.loc[4] == 5 and csto.in_transit.loc[5:].min() == 0
    gamma = df[(df.unit == "csto") & (df.place == "Gamma")].set_index("tick")
    assert gamma.in_transit.loc[4] == 5 and gamma.on_duty.loc[24] == 5
    # the initial force's total moves by the send of any cops not at all
    force = df[df.unit == ""].groupby("tick")[["on_duty", "on_guard", "in_transit"]].sum()
    assert force.sum(axis=1).nunique() == 1
    assert df[(df.unit == "") & (df.tick == 6)].in_transit.sum() == 3


def test_a_checkpoint_carries_the_history_bit_for_bit(tmp_path):
    straight = upheaval.Simulation(_scenario(), seed=3, threads=1).run()
    sim = upheaval.Simulation(_scenario(), seed=3, threads=2)
    sim.step(5)  # members of csto on their way to Gamma
    assert sim.units_table().to_pandas().in_transit.sum() > 0
    path = sim.checkpoint().save(tmp_path / "units.ckpt")
    sim.step(3)  # the checkpoint's history is not the live run's
    resumed = upheaval.Simulation.restore(Checkpoint.load(path), threads=3)
    assert resumed.units_history().equals(straight.units_history(last=5))
    resumed.run(30 - resumed.tick)
    assert resumed.units_history().equals(straight.units_history())
    assert resumed.table().equals(straight.table())


def test_a_run_without_named_units_records_no_history():
    timeline = (ActionEvent(tick=2, action="send", place="Alpha", to="Beta", count=4),)
    sim = upheaval.Simulation(_scenario(timeline), seed=1)
    assert not sim._units_recorded
    sim.run(10)
    assert sim.state["reinforcement"]["units"] == ()
    h = sim.units_history()
    assert h.num_rows == 0 and h.schema.equals(sim.units_table().schema)
    assert sim.units_table().num_rows == 3  # the table of now still counts the force
