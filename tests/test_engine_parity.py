"""The numba engine against the pure-Python reference (tests/reference): identical
trajectories, tick by tick, on small grids.

The random-stream contract (model/rng.py, model/kernels.py, engine/population.py)
fixes every draw, so the comparison is exact: the per-tick tally row, every live
agent's kind, status, site, jail term, group, age and attributes, and each site's
occupancy lanes must be equal at every tick. No statistical test is needed.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import upheaval
from reference.compare import event_totals, run_side_by_side, shrink
from upheaval.model.params import ParameterError, Params, validate_params
from upheaval.model.timeline import RampEvent, SetEvent
from upheaval.scenario.schema import Scenario

#: The reference twin steps one lattice: country presets (kazakhstan-2022 and
#: kz2022-almaty, its place Almaty alone) are checked place by place against
#: one-lattice runs in tests/country/test_engine.py.
PRESETS = [n for n in upheaval.preset_names() if upheaval.load(n).country is None]

#: Every rule choice in Params, with the values it may take.
RULE_CHOICES = {
    "vision_shape": ("euclidean", "von_neumann", "moore"),
    "ratio_rule": ("literal", "floor", "round_half_even", "round_half_up"),
    "active_count_includes_self": (False, True),
    "citizen_movement": (True, False),
    "cop_movement": (True, False),
    "citizen_turn_order": ("move_then_act", "act_then_move"),
    "cop_turn_order": ("move_then_act", "act_then_move"),
    "cop_after_arrest": ("arrestee_site", "stay"),
    "jail_term_range": ("exclusive", "inclusive"),
    "jail_countdown": ("end_of_tick", "own_activation"),
    "jailed_hold_site": (False, True),
    "placement": ("exact", "bernoulli"),
    "variant": ("I", "II"),
    "clone_neighbourhood": ("moore", "von_neumann"),
    "activation": ("random_order", "synchronous"),
    # tiled activation (a labelled variant): 4 and 5 leave ragged tiles at the edges
    "activation_tile": (0, 4, 5),
}

#: A base with enough grievance that every rule fires within a few ticks.
BASE = Params(
    width=13,
    height=13,
    citizen_vision=2.0,
    cop_vision=2.0,
    legitimacy=0.6,
    cop_density=0.06,
    max_jail_term=4.0,
    max_age=30,
    clone_probability=0.1,
)


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_matches_reference(preset):
    sc = shrink(upheaval.load(preset))
    run_side_by_side(sc, seed=11, ticks=30, context=preset)


@pytest.mark.parametrize("preset", PRESETS)
def test_aggrieved_preset_matches_reference(preset):
    """The preset with legitimacy lowered so that arrests, jail and releases happen."""
    sc = shrink(upheaval.load(preset))
    sc = sc.with_params(legitimacy=max(0.0, sc.params.citizens.legitimacy - 0.25))
    ref = run_side_by_side(sc, seed=5, ticks=30, context=preset)
    totals = event_totals(ref)
    if sc.params.population.cop_density > 0:
        assert totals["arrests"] > 0, "the run should exercise rule C"
    if sc.params.model.variant == "II":
        assert totals["killed_blue"] + totals["killed_green"] > 0
        assert totals["born_blue"] + totals["born_green"] > 0


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, value) for name, values in RULE_CHOICES.items() for value in values[1:]],
)
@pytest.mark.parametrize("seed", [1, 2])
def test_each_rule_choice_matches_reference(name, value, seed):
    p = BASE.replace(**{name: value})
    ref = run_side_by_side(Scenario(params=p), seed=seed, ticks=20, context=f"{name}={value}")
    assert event_totals(ref)["arrests"] > 0


@pytest.mark.parametrize(
    ("label", "changes"),
    [
        ("jail term 0 only", {"max_jail_term": 0.0}),
        ("jail term 0 inclusive", {"max_jail_term": 0.0, "jail_term_range": "inclusive"}),
        ("jail term 1 own activation", {"max_jail_term": 1.0, "jail_countdown": "own_activation"}),
        ("life terms", {"max_jail_term": math.inf}),
        ("life terms, deterrence", {"max_jail_term": math.inf, "deterrence_exponent": 0.5}),
        ("deterrence", {"deterrence_exponent": 1.0, "max_jail_term": 3.0}),
        ("full lattice", {"citizen_density": 0.9, "cop_density": 0.1}),
        ("no cops", {"cop_density": 0.0}),
        ("no citizens", {"citizen_density": 0.0}),
        ("nobody", {"citizen_density": 0.0, "cop_density": 0.0}),
        ("vision 0", {"citizen_vision": 0.0, "cop_vision": 0.0}),
        ("wide vision", {"citizen_vision": 6.0, "cop_vision": 6.0}),
        ("Mesa-like", {"jailed_hold_site": True, "cop_after_arrest": "stay"}),
        ("negative threshold", {"threshold": -0.05}),
        (
            "Model II, own activation, hold",
            {"variant": "II", "jail_countdown": "own_activation", "jailed_hold_site": True},
        ),
        ("Model II, short lives", {"variant": "II", "max_age": 3, "clone_probability": 0.5}),
        ("Model II, all Blue", {"variant": "II", "blue_share": 1.0}),
    ],
)
def test_edge_cases_match_reference(label, changes):
    run_side_by_side(Scenario(params=BASE.replace(**changes)), seed=3, ticks=15, context=label)


#: A timeline touching all three timeline parameters, with cops withdrawn to none and
#: then reinforced (slot reuse), a ramp and a life-term switch.
TIMELINE = (
    RampEvent(start=2, end=8, param="legitimacy", value=0.3),
    SetEvent(tick=4, param="cop_density", value=0.0),
    RampEvent(start=6, end=12, param="cop_density", value=0.12),
    SetEvent(tick=9, param="max_jail_term", value=math.inf),
    SetEvent(tick=14, param="max_jail_term", value=2.0),
    SetEvent(tick=16, param="legitimacy", value=0.9),
)


@pytest.mark.parametrize("variant", ["I", "II"])
@pytest.mark.parametrize("countdown", ["end_of_tick", "own_activation"])
def test_timeline_matches_reference(variant, countdown):
    p = BASE.replace(variant=variant, jail_countdown=countdown)
    ref = run_side_by_side(Scenario(params=p, timeline=TIMELINE), seed=8, ticks=20)
    cops = [row.cops for row in ref.history]
    assert cops[4] == 0 and cops[12] == round(0.12 * p.n_sites)


def test_reinforcements_on_a_full_lattice_match_reference():
    """More cops asked for than there are empty sites: the engine places what fits."""
    p = BASE.replace(citizen_density=0.95, cop_density=0.0, citizen_movement=False)
    tl = (SetEvent(tick=2, param="cop_density", value=0.3),)
    ref = run_side_by_side(Scenario(params=p, timeline=tl), seed=4, ticks=5)
    assert ref.history[2].cops == p.n_sites - round(0.95 * p.n_sites)


@st.composite
def rule_sets(draw):
    changes = {name: draw(st.sampled_from(values)) for name, values in RULE_CHOICES.items()}
    side = draw(st.integers(7, 12))
    changes.update(
        width=side,
        height=draw(st.integers(7, 12)),
        citizen_vision=draw(st.sampled_from([1.0, 1.5, 1.7, 2.0, 3.0])),
        cop_vision=draw(st.sampled_from([1.0, 1.7, 2.0, 3.0])),
        legitimacy=draw(st.sampled_from([0.5, 0.7, 0.9])),
        citizen_density=draw(st.sampled_from([0.5, 0.7, 0.8])),
        cop_density=draw(st.sampled_from([0.0, 0.04, 0.1])),
        max_jail_term=draw(st.sampled_from([0.0, 1.0, 3.0, 15.0, math.inf])),
        deterrence_exponent=draw(st.sampled_from([0.0, 0.5])),
        max_age=draw(st.sampled_from([5, 40])),
    )
    timeline = TIMELINE if draw(st.booleans()) else ()
    return changes, timeline, draw(st.integers(0, 2**32))


def _scenario(changes, timeline):
    p = Params().replace(**changes)
    try:
        validate_params(p)
    except ParameterError:
        return None
    return Scenario(params=p, timeline=timeline)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(rule_sets())
def test_random_rule_combinations_match_reference(case):
    changes, timeline, seed = case
    sc = _scenario(changes, timeline)
    if sc is not None:
        run_side_by_side(sc, seed=seed, ticks=18, context=str(changes))


@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESETS)
def test_presets_match_reference_long(preset):
    sc = shrink(upheaval.load(preset), side=20, time_scale=3)
    for seed in range(5):
        run_side_by_side(sc, seed=seed, ticks=60, context=preset)


@pytest.mark.slow
def test_many_random_rule_combinations_match_reference():
    rng = random.Random(2024)
    done = 0
    while done < 300:
        changes = {name: rng.choice(values) for name, values in RULE_CHOICES.items()}
        changes.update(
            width=rng.randint(9, 18),
            height=rng.randint(9, 18),
            citizen_vision=rng.choice([1.0, 1.5, 1.7, 2.0, 3.0, 4.0]),
            cop_vision=rng.choice([1.0, 1.7, 2.0, 3.0, 4.0]),
            legitimacy=rng.choice([0.5, 0.7, 0.8, 0.9]),
            citizen_density=rng.choice([0.5, 0.7, 0.8]),
            cop_density=rng.choice([0.0, 0.04, 0.1]),
            max_jail_term=rng.choice([0.0, 1.0, 3.0, 15.0, math.inf]),
            deterrence_exponent=rng.choice([0.0, 0.0, 0.5]),
            max_age=rng.choice([5, 20, 200]),
            clone_probability=rng.choice([0.05, 0.2]),
        )
        sc = _scenario(changes, TIMELINE if rng.random() < 0.5 else ())
        if sc is None:
            continue
        run_side_by_side(sc, seed=rng.randint(0, 10**9), ticks=40, context=str(changes))
        done += 1
