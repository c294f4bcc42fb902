"""Checkpoint and restore: the full state, random streams included."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

import upheaval
from reference.compare import shrink
from upheaval import Checkpoint, Simulation
from upheaval.core.codes import DEAD
from upheaval.model.params import Params
from upheaval.model.state import Agents
from upheaval.model.timeline import ActionEvent, SetEvent
from upheaval.scenario.schema import Scenario

SMALL = Params(
    width=20, height=20, citizen_vision=3.0, cop_vision=3.0, legitimacy=0.65, max_jail_term=8.0
)

CASES = {
    "model-I": Scenario(params=SMALL),
    "model-II": Scenario(params=SMALL.replace(variant="II", legitimacy=0.8, cop_density=0.02)),
    "mesa-like": Scenario(
        params=SMALL.replace(
            jailed_hold_site=True, cop_after_arrest="stay", jail_countdown="own_activation"
        )
    ),
    # The checkpoint falls inside a legitimacy ramp / a cop-removal ramp.
    "run3-ramp": shrink(upheaval.load("epstein2002-run3"), side=20),
    "run5-cops": shrink(upheaval.load("epstein2002-run5"), side=20),
}


def state_arrays(sim: Simulation) -> dict[str, np.ndarray]:
    out = {f"agents.{n}": getattr(sim.place.agents, n).copy() for n in Agents._fields}
    out["occupancy"] = sim.place.lattice.occupancy.copy()
    out["head"] = sim.place.lattice.head.copy()
    out.update({f"stream.{k}": v.copy() for k, v in sim.place.streams.items()})
    return out


def assert_same_run(a: Simulation, b: Simulation) -> None:
    assert a.tick == b.tick
    assert a.place.history == b.place.history
    assert a.dynamic == b.dynamic
    sa, sb = state_arrays(a), state_arrays(b)
    for k in sa:
        assert np.array_equal(sa[k], sb[k]), k


@pytest.mark.parametrize("case", CASES)
def test_restore_continues_bit_identically(case):
    sc = CASES[case]
    whole = Simulation(sc, seed=21)
    whole.step(30)
    part = Simulation(sc, seed=21)
    part.step(13)
    cp = part.checkpoint()
    part.step(17)
    resumed = Simulation.restore(cp)
    resumed.step(17)
    assert_same_run(whole, part)
    assert_same_run(whole, resumed)


def test_checkpoint_is_a_deep_copy():
    sim = Simulation(CASES["model-II"], seed=3)
    sim.step(10)
    cp = sim.checkpoint()
    frozen = state_arrays(Simulation.restore(cp))
    history = list(cp.places[0].history)
    sim.step(10)
    sim.place.agents.status[:] = 0
    sim.place.lattice.occupancy[:] = 0
    sim.place.streams["dynamics"][:] = 1
    again = Simulation.restore(cp)
    for k, v in state_arrays(again).items():
        assert np.array_equal(v, frozen[k]), k
    assert cp.places[0].history == history and cp.tick == 10
    # Two branches restored from one checkpoint do not share state either.
    a, b = Simulation.restore(cp), Simulation.restore(cp)
    a.step(5)
    b.step(5)
    assert_same_run(a, b)


def test_branch_into_a_variant_via_the_timeline():
    sc = CASES["model-I"]
    sim = Simulation(sc, seed=5)
    sim.step(10)
    cp = sim.checkpoint()
    variant = dataclasses.replace(sc, timeline=(SetEvent(tick=11, param="legitimacy", value=0.3),))
    base, branch = Simulation.restore(cp), Simulation.restore(cp, variant)
    base.step(10)
    branch.step(10)
    assert branch.place.history[:11] == base.place.history[:11]
    assert branch.legitimacy == 0.3 and base.legitimacy == SMALL.citizens.legitimacy
    after = slice(11, None)
    assert sum(r.active_blue for r in branch.place.history[after]) > sum(
        r.active_blue for r in base.place.history[after]
    )


def test_branch_into_a_variant_rule():
    """A restored run takes the variant's rules from the next tick on."""
    sc = CASES["model-I"]
    sim = Simulation(sc, seed=5)
    sim.step(10)
    cp = sim.checkpoint()
    variant = sc.with_params(cop_after_arrest="stay", ratio_rule="literal")
    base, branch = Simulation.restore(cp), Simulation.restore(cp, variant)
    base.step(10)
    branch.step(10)
    assert branch.place.history[:11] == base.place.history[:11]
    assert branch.place.history[11:] != base.place.history[11:]


def test_branch_into_a_variant_with_other_legitimacy_params():
    sc = CASES["model-I"]
    sim = Simulation(sc, seed=5)
    sim.step(10)
    cp = sim.checkpoint()
    branch = Simulation.restore(cp, sc.with_params(legitimacy=0.3, cop_density=0.1))
    assert branch.legitimacy == sim.legitimacy  # nothing changes before the next tick
    branch.step(1)
    assert branch.legitimacy == 0.3
    assert branch.counts()["cops"] == round(0.1 * sc.params.n_sites)
    same = Simulation.restore(cp, sc)
    same.step(1)
    sim.step(1)
    assert same.place.history == sim.place.history


def test_checkpoint_file_round_trip_continues_bit_identically(tmp_path):
    sc = upheaval.load("epstein2002-run5")  # mid-ramp of cop withdrawal at tick 60
    sim = Simulation(sc, seed=9)
    sim.step(60)
    path = sim.checkpoint().save(tmp_path / "run5-t60.ckpt")
    sim.step(40)
    restored = Simulation.restore(Checkpoint.load(path))
    restored.step(40)
    assert restored.place.history == sim.place.history
    assert np.array_equal(restored.place.agents.position, sim.place.agents.position)


def test_loading_a_file_that_is_not_a_checkpoint_says_so(tmp_path):
    bad = tmp_path / "x.ckpt"
    bad.write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="not an upheaval checkpoint"):
        Checkpoint.load(bad)


def _free_slots_consistent(sim):
    free = sim.place.free_slots[: int(sim.place.free_meta[0])]
    dead = np.flatnonzero(sim.place.agents.status == 3)
    assert len(set(free.tolist())) == free.size
    assert sorted(free.tolist()) == dead.tolist()


def test_branch_into_lethal_force_has_room_for_the_dead():
    """A classic run keeps a small free-slot heap; a branch where the police kill must
    grow it before the kernel frees slots (this once overran the heap)."""
    sc = upheaval.load("epstein2002-run2")
    sim = Simulation(sc, seed=3)
    sim.step(20)
    branch = Simulation.restore(sim.checkpoint(), sc.with_params(lethal_probability=0.5))
    branch.step(30)
    killed = sum(
        dict(zip(branch.table().column_names, row, strict=True))["killed_by_cops"]
        for row in branch.place.history
    )
    assert killed > 0
    _free_slots_consistent(branch)


def test_branch_into_per_agent_legitimacy_starts_from_the_global_value():
    sc = upheaval.load("epstein2002-run2")
    sim = Simulation(sc, seed=3)
    sim.step(10)
    branch = Simulation.restore(sim.checkpoint(), sc.with_params(legitimacy_feedback="per_agent"))
    a = branch.place.agents
    citizens = (a.kind == 0) & (a.status != 3)
    assert np.all(a.legit[citizens] == np.float32(sc.params.citizens.legitimacy))


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"hardship_distribution": "beta"}, "hardship.distribution"),
        ({"forces_minds": True}, "security_forces.minds"),
        ({"width": 30}, "world.width"),
    ],
)
def test_branch_cannot_change_what_only_the_initial_population_reads(change, key):
    sc = upheaval.load("epstein2002-run2")
    sim = Simulation(sc, seed=3)
    sim.step(2)
    with pytest.raises(ValueError, match=key):
        Simulation.restore(sim.checkpoint(), sc.with_params(**change))


def test_branch_that_would_relabel_units_on_duty_is_refused():
    """Unit codes follow the order units first arrive; a variant whose past brings
    another unit first would give the cops on duty another unit's mode and origin,
    so restore refuses it by name. A variant that only adds later units is fine."""

    def arrive(tick, unit, mode="patrol"):
        return ActionEvent(tick=tick, action="reinforce", count=3, unit=unit, mode=mode)

    sc = dataclasses.replace(
        CASES["model-I"], timeline=(arrive(2, "police"), arrive(5, "army", "guard"))
    )
    sim = Simulation(sc, seed=3)
    sim.step(6)
    cp = sim.checkpoint()
    earlier = dataclasses.replace(sc, timeline=(arrive(1, "army", "guard"), *sc.timeline))
    relabelled = r"units already on duty otherwise: \{'police': 1, 'army': 2\} before"
    with pytest.raises(ValueError, match=relabelled):
        Simulation.restore(cp, earlier)
    later = dataclasses.replace(sc, timeline=(*sc.timeline, arrive(8, "csto", "guard")))
    branch = Simulation.restore(cp, later)
    branch.step(3)
    a = branch.place.agents
    assert np.count_nonzero((a.unit == 3) & (a.status != DEAD)) == 3


def test_guards_keep_their_unit_through_a_checkpoint_file(tmp_path):
    """A checkpoint taken while a unit's cops guard a site holds their records; the
    restored run relieves them as the straight run does, bit for bit."""
    timeline = (
        ActionEvent(tick=1, action="reinforce", count=6, unit="csto", mode="guard"),
        ActionEvent(tick=3, action="guard", site="akimat", count=4, unit="csto"),
        ActionEvent(tick=4, action="guard", site="akimat", count=3),
        ActionEvent(tick=8, action="unguard", site="akimat", count=5),
    )
    sc = Scenario(
        params=SMALL.replace(site_list="name=akimat x=0.5 y=0.5", forces_minds=True),
        timeline=timeline,
    )
    straight = Simulation(sc, seed=5)
    straight.step(12)
    part = Simulation(sc, seed=5)
    part.step(6)
    posted = part.place.state["sites"]["posted"]
    assert posted["unit"].tolist()[:4] == [1] * 4 and len(posted) == 7
    path = part.checkpoint().save(tmp_path / "guards.ckpt")
    resumed = Simulation.restore(Checkpoint.load(path))
    resumed.step(6)
    assert_same_run(straight, resumed)
    for key, value in straight.place.state["sites"].items():
        assert np.array_equal(value, resumed.place.state["sites"][key]), key
    assert len(resumed.place.state["sites"]["posted"]) == 2
    # the forces by unit, tick by tick, guards included, come through too
    history = resumed.units_history()
    assert history.equals(straight.units_history())
    assert history.to_pandas().query("unit == 'csto'").on_guard.max() == 4


def test_a_checkpoint_of_the_format_before_guards_kept_their_unit_is_refused(tmp_path):
    """Format 4 had no guard records: its own guards would come back as no one."""
    sim = Simulation(CASES["model-I"], seed=1)
    sim.step(1)
    path = tmp_path / "old.ckpt"
    path.write_bytes(pickle.dumps(("upheaval-checkpoint-4", "0", sim.checkpoint())))
    with pytest.raises(ValueError, match="checkpoint format 'upheaval-checkpoint-4'"):
        Checkpoint.load(path)


def test_a_checkpoint_of_the_format_before_convoys_carried_their_cops_is_refused(tmp_path):
    """Format 5's convoys held counts per unit, not their cops' records: its cops
    in transit would arrive as no one."""
    sim = Simulation(CASES["model-I"], seed=1)
    sim.step(1)
    path = tmp_path / "old.ckpt"
    path.write_bytes(pickle.dumps(("upheaval-checkpoint-5", "0", sim.checkpoint())))
    with pytest.raises(
        ValueError,
        match=r"checkpoint format 'upheaval-checkpoint-5'.*reads 'upheaval-checkpoint-6'",
    ):
        Checkpoint.load(path)
