"""Divided identities (mechanism 10, docs/odd.md §7.19): full solidarity changes
nothing but the split of the tallies, the parity cases exercise both groups and a
falling solidarity, and bad scenarios get one message naming the key."""

from __future__ import annotations

import numpy as np
import pytest

import upheaval
from mechanisms.test_parity import CASES
from upheaval.core.codes import CITIZEN, DEAD, GREEN
from upheaval.engine.simulation import Simulation
from upheaval.model.params import ParameterError, Params, validate_params
from upheaval.model.ticks import COLUMNS
from upheaval.model.timeline import SetEvent
from upheaval.scenario.loading import ScenarioError, apply_overrides, load_file
from upheaval.scenario.schema import Scenario

COL = {name: k for k, name in enumerate(COLUMNS)}
BY_STATUS = ("quiet", "active", "jailed")


def merged(history: list[tuple]) -> np.ndarray:
    """Rows with each status summed over the two groups (what identities leave alone)."""
    h = np.array(history, dtype=np.float64)
    summed = [h[:, COL[f"{s}_blue"]] + h[:, COL[f"{s}_green"]] for s in BY_STATUS]
    rest = [h[:, k] for name, k in COL.items() if not name.endswith(("_blue", "_green"))]
    return np.column_stack(summed + rest)


@pytest.mark.parametrize("seed", [1, 2])
def test_full_solidarity_is_the_classic_run(seed):
    """s = 1: the tags are drawn after every other initial draw and rule A counts every
    active, so the run is the classic one bit for bit, split by group."""
    sc = upheaval.load("epstein2002-run2")
    off = Simulation(sc, seed=seed)
    on = Simulation(sc.with_params(identity_enabled=True), seed=seed)
    off.step(150)
    on.step(150)
    assert np.array_equal(merged(off.place.history), merged(on.place.history))
    peak = max(r.active_blue for r in off.place.history)
    assert peak >= 50, "the comparison should span an outburst"
    for name, x, y in zip(off.place.agents._fields, off.place.agents, on.place.agents, strict=True):
        if name != "group":
            assert np.array_equal(x, y), name
    citizens = (on.place.agents.kind == CITIZEN) & (on.place.agents.status != DEAD)
    share_green = float(np.mean(on.place.agents.group[citizens] == GREEN))
    assert 0.45 < share_green < 0.55  # blue_share 0.5 over 1,120 citizens
    assert max(r.active_green for r in on.place.history) > 0


def test_lower_solidarity_changes_the_run_and_the_parity_cases_use_it():
    params, timeline = CASES["identities: solidarity ramped down and set back"]
    sim = Simulation(Scenario(params=params, timeline=timeline), seed=1)
    sim.step(16)
    h = np.array(sim.place.history)
    assert h[:, COL["active_blue"]].max() > 0 and h[:, COL["active_green"]].max() > 0
    assert sim.place.now("identity_solidarity") == 1.0
    full = Simulation(Scenario(params=params.replace(identity_solidarity=1.0)), seed=1)
    full.step(16)
    assert full.place.history != sim.place.history


def test_a_ramp_of_solidarity_takes_equal_steps():
    sc = upheaval.load("epstein2002-run2").with_params(identity_enabled=True, width=20, height=20)
    from upheaval.model.timeline import RampEvent

    tl = (RampEvent(start=5, end=8, param="identity_solidarity", value=0.2),)
    sim = Simulation(Scenario(params=sc.params, timeline=tl), seed=1)
    seen = []
    for _ in range(9):
        sim.step()
        seen.append(float(sim.place.signals.identity_solidarity[0]))
    assert seen[:4] == [1.0] * 4
    assert seen[4:] == pytest.approx([0.8, 0.6, 0.4, 0.2, 0.2])


# -- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "location", "reason"),
    [
        ({"identity_enabled": True, "variant": "II"}, "identity.enabled", "Model I"),
        ({"identity_enabled": True, "blue_share": 0.0}, "groups.blue_share", "strictly"),
        ({"identity_enabled": True, "blue_share": 1.0}, "groups.blue_share", "strictly"),
        ({"identity_solidarity": 0.5}, "identity.solidarity", "identity.enabled is false"),
        ({"identity_enabled": True, "identity_solidarity": 1.5}, "identity.solidarity", "≤ 1"),
        ({"identity_enabled": True, "identity_solidarity": -0.1}, "identity.solidarity", "≥ 0"),
        ({"identity_enabled": 1}, "identity.enabled", "true or false"),
    ],
)
def test_bad_parameters_are_named(changes, location, reason):
    with pytest.raises(ParameterError) as info:
        validate_params(Params().replace(**changes))
    assert info.value.location == location
    assert reason in info.value.reason, info.value.reason


HEAD = '[scenario]\nextends = "epstein2002-run2"\n'


def load_text(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(HEAD + text, "utf-8")
    return load_file(path)


def test_propaganda_loads_as_a_ramp_of_solidarity(tmp_path):
    sc = load_text(
        tmp_path,
        "[identity]\nenabled = true\n[groups]\nblue_share = 0.7\n"
        "[[timeline]]\nstart = 50\nend = 60\nramp = { 'identity.solidarity' = 0.2 }\n",
    )
    assert sc.params.identity.enabled and sc.params.groups.blue_share == 0.7
    assert sc.timeline[0].param == "identity_solidarity" and sc.timeline[0].value == 0.2


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        (
            "[[timeline]]\ntick = 5\nset = { 'identity.solidarity' = 0.5 }\n",
            "timeline[1].set.identity.solidarity",
            "needs identity.enabled = true",
        ),
        (
            "[[timeline]]\nstart = 5\nend = 9\nramp = { solidarity = 0.5 }\n",
            "timeline[1].ramp.identity.solidarity",
            "needs identity.enabled = true",
        ),
        (
            "[identity]\nenabled = true\n"
            "[[timeline]]\ntick = 5\nset = { 'identity.solidarity' = 2 }\n",
            "timeline[1].set.identity.solidarity",
            "≤ 1",
        ),
        ("[identity]\nenabled = true\nsolidarity = 'low'\n", "identity.solidarity", "a number"),
        ("[identity]\nenable = true\n", "identity.enable", "did you mean 'enabled'"),
        ('[identity]\nenabled = true\n[model]\nvariant = "II"\n', "identity.enabled", "Model I"),
    ],
)
def test_bad_scenarios_are_named(tmp_path, text, key, reason):
    with pytest.raises(ScenarioError) as info:
        load_text(tmp_path, text)
    assert info.value.key == key, str(info.value)
    assert reason in info.value.reason, info.value.reason


def test_override_switching_identities_off_under_propaganda_is_named(tmp_path):
    sc = load_text(
        tmp_path,
        "[identity]\nenabled = true\n[[timeline]]\ntick = 9\nset = { solidarity = 0.3 }\n",
    )
    with pytest.raises(ScenarioError) as info:
        apply_overrides(sc, ["identity.enabled=false"])
    assert info.value.key == "timeline[1].set.identity.solidarity"


def test_checkpoint_cannot_branch_into_identities():
    sc = Scenario(params=Params(width=12, height=12, citizen_vision=2.0, cop_vision=2.0))
    sim = Simulation(sc, seed=1)
    sim.step(3)
    variant = Scenario(params=sc.params.replace(identity_enabled=True))
    with pytest.raises(ValueError, match=r"identity\.enabled"):
        Simulation.restore(sim.checkpoint(), variant)


def test_checkpoint_branch_may_change_solidarity():
    """A branch that lowers s takes it from the next tick on, like any timeline value."""
    p = Params(width=12, height=12, citizen_vision=2.0, cop_vision=2.0, legitimacy=0.5).replace(
        identity_enabled=True
    )
    sim = Simulation(Scenario(params=p), seed=1)
    sim.step(3)
    branch = Simulation.restore(
        sim.checkpoint(), Scenario(params=p.replace(identity_solidarity=0.25))
    )
    branch.step(1)
    assert float(branch.place.signals.identity_solidarity[0]) == 0.25
    direct = Simulation(
        Scenario(params=p, timeline=(SetEvent(tick=4, param="identity_solidarity", value=0.25),)),
        seed=1,
    )
    direct.step(4)
    assert direct.place.history == branch.place.history
