"""The per-turn agent fields live interleaved in one record (model/state.py), however
the agents were made: initial placement, growth, a restored checkpoint or file."""

from __future__ import annotations

import numpy as np
import pytest

from upheaval import Checkpoint, Simulation
from upheaval.model.params import Params
from upheaval.model.state import HOT_RECORD, Agents, grow_agents, interleaved

SMALL = Params(width=12, height=12, citizen_vision=2.0, cop_vision=2.0, legitimacy=0.6)


def _one_record(a: Agents) -> bool:
    """Every per-turn field a view of the same HOT_RECORD array."""
    record = a.position.base
    return (
        record is not None
        and record.dtype == HOT_RECORD
        and all(getattr(a, name).base is record for name in HOT_RECORD.names)
    )


@pytest.mark.parametrize("variant", ["I", "II"])
def test_initial_and_grown_agents_share_one_record(variant):
    sim = Simulation(SMALL.replace(variant=variant), seed=2)
    assert _one_record(sim.place.agents)
    grown = grow_agents(sim.place.agents, sim.place.agents.kind.shape[0] + 7)
    assert _one_record(grown)
    n = sim.place.agents.kind.shape[0]
    for name in Agents._fields:
        assert np.array_equal(getattr(grown, name)[:n], getattr(sim.place.agents, name)[:n])


def test_restored_agents_share_one_record_and_step_on_identically(tmp_path):
    sim = Simulation(SMALL, seed=4)
    sim.step(3)
    path = sim.checkpoint().save(tmp_path / "cp.pkl")
    restored = Simulation.restore(Checkpoint.load(path))
    assert _one_record(restored.place.agents)
    sim.step(4)
    restored.step(4)
    assert sim.table().equals(restored.table())


def test_interleaved_copies_values_not_storage():
    sim = Simulation(SMALL, seed=5)
    plain = Agents(*(np.ascontiguousarray(x) for x in sim.place.agents))
    again = interleaved(plain)
    assert _one_record(again) and not _one_record(plain)
    for name in Agents._fields:
        assert np.array_equal(getattr(again, name), getattr(sim.place.agents, name))
    again.status[0] = 99
    assert sim.place.agents.status[0] != 99
