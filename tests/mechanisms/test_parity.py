"""Each mechanism of issue 3, part A, against the pure-Python reference: identical
trajectories tick by tick (tallies, events, every agent, every site, and the
mechanism arrays: per-agent legitimacy, fear, hardship group, pre-shock hardship,
unit), so the new random draws and the new arithmetic follow their documented
contract exactly."""

from __future__ import annotations

import numpy as np
import pytest

from reference.compare import run_side_by_side
from reference.model import ReferenceModel
from upheaval.engine.simulation import Simulation
from upheaval.model.params import Params
from upheaval.model.rules.forces import unit_codes
from upheaval.model.timeline import ActionEvent, RampEvent, SetEvent
from upheaval.scenario.schema import Scenario

BASE = Params(
    width=13,
    height=13,
    citizen_vision=2.0,
    cop_vision=2.0,
    legitimacy=0.6,
    cop_density=0.06,
    max_jail_term=4.0,
)

FIELDS = ("legit", "fear", "cohort", "hardship0", "unit", "faction", "role", "org")


def assert_same_mechanism_state(sim: Simulation, ref: ReferenceModel, where: str) -> None:
    a = sim.place.agents
    expected = ref.mechanism_snapshot()
    for k, name in enumerate(FIELDS):
        arr = getattr(a, name)
        if arr.shape[0] == 0:
            continue
        got = {int(i): arr[i].item() for i in np.flatnonzero(a.status != 3)}
        want = {slot: v[k] for slot, v in expected.items()}
        if name in ("legit", "fear", "hardship0", "cohort"):
            # cops carry no citizen state; the engine zeroes it
            cops = {int(i) for i in np.flatnonzero((a.kind == 1) & (a.status != 3))}
            got = {s: v for s, v in got.items() if s not in cops}
            want = {s: v for s, v in want.items() if s not in cops}
        assert got == want, f"{where}: {name} differs"


def side_by_side(sc: Scenario, seed: int, ticks: int) -> tuple[Simulation, ReferenceModel]:
    sim = Simulation(sc, seed=seed)
    ref = ReferenceModel(sc, seed=seed)
    for _ in range(ticks):
        sim.step()
        ref.step()
        assert sim.place.history[-1] == ref.history[-1], f"tick {sim.tick}: row differs"
        assert_same_mechanism_state(sim, ref, f"tick {sim.tick}")
    # and the full classic comparison (agents, sites) from a fresh pair
    run_side_by_side(sc, seed=seed, ticks=ticks)
    return sim, ref


CASES = {
    # run.burn_in: unrecorded ticks before tick 0, with no news and no hooks between them
    "burn-in": (BASE.replace(burn_in=7), ()),
    "burn-in, then feedback, lethal force and the channel": (
        BASE.replace(
            burn_in=5,
            legitimacy_feedback="global",
            lethal_probability=0.2,
            information_enabled=True,
            information_repression_weight=2.0,
        ),
        (ActionEvent(tick=6, action="shutdown"),),
    ),
    "global legitimacy": (BASE.replace(legitimacy_feedback="global"), ()),
    # the generic step (mechanisms on) with the tiled activation variant (§7.1)
    "tiled activation, lethal force and per-agent legitimacy": (
        BASE.replace(
            activation_tile=4,
            lethal_probability=0.3,
            legitimacy_feedback="per_agent",
            legitimacy_seen_arrest=0.01,
        ),
        (),
    ),
    "per-agent legitimacy": (
        BASE.replace(legitimacy_feedback="per_agent", legitimacy_seen_arrest=0.01),
        (
            RampEvent(start=3, end=6, param="legitimacy", value=0.4),
            ActionEvent(tick=8, action="concession", legitimacy=0.05),
        ),
    ),
    "global, concession and set": (
        BASE.replace(legitimacy_feedback="global", legitimacy_recovery=0.05),
        (
            ActionEvent(tick=5, action="concession", legitimacy=0.2),
            SetEvent(tick=10, param="legitimacy", value=0.5),
        ),
    ),
    "lethal force": (BASE.replace(lethal_probability=0.4), ()),
    "lethal order on and off, deterrence, per-agent": (
        BASE.replace(legitimacy_feedback="per_agent", lethal_deterrence=0.2),
        (
            SetEvent(tick=3, param="lethal_probability", value=0.5),
            SetEvent(tick=10, param="lethal_probability", value=0.0),
        ),
    ),
    "arrest rate below 1": (BASE.replace(arrest_rate=0.3), ()),
    "arrest rate by the timeline, with lethal force and the framing's crackdown": (
        BASE.replace(
            legitimacy=0.7,
            lethal_probability=0.2,
            provocateurs_count=4,
            provocateurs_framing_rise=0.2,
            provocateurs_framing_arrest=0.9,
        ),
        (
            SetEvent(tick=3, param="arrest_rate", value=0.2),
            RampEvent(start=8, end=12, param="arrest_rate", value=1.0),
        ),
    ),
    "lethal force, Model II": (BASE.replace(variant="II", lethal_probability=0.3, max_age=30), ()),
    "beta hardship with a group, shocks and rollback": (
        BASE.replace(
            hardship_distribution="beta",
            hardship_beta_a=2.0,
            hardship_beta_b=5.0,
            hardship_group_share=0.3,
            hardship_group_low=0.6,
            hardship_group_high=0.9,
            legitimacy=0.7,
        ),
        (
            ActionEvent(tick=3, action="shock", factor=1.8, target="group"),
            ActionEvent(tick=5, action="shock", factor=1.5, area=(0, 0, 6, 12)),
            ActionEvent(tick=9, action="rollback", share=0.5),
            ActionEvent(tick=12, action="rollback", target="group", area=(3, 3, 9, 9)),
        ),
    ),
    "uniform hardship range": (BASE.replace(hardship_low=0.2, hardship_high=0.9), ()),
    "reinforcement, guards and withdrawal": (
        BASE.replace(lethal_probability=0.2),
        (
            ActionEvent(
                tick=3, action="reinforce", count=6, unit="guard", mode="guard", area=(4, 4, 8, 8)
            ),
            ActionEvent(tick=4, action="reinforce", count=5, unit="army"),
            ActionEvent(tick=9, action="withdraw", unit="army", count=2),
            ActionEvent(tick=12, action="withdraw", unit="guard"),
            ActionEvent(tick=13, action="reinforce", count=3, unit="army", area=(0, 0, 2, 2)),
            SetEvent(tick=14, param="cop_density", value=0.02),
        ),
    ),
    "guards, Mesa rules": (
        BASE.replace(
            jailed_hold_site=True, cop_after_arrest="stay", cop_turn_order="act_then_move"
        ),
        (ActionEvent(tick=2, action="reinforce", count=4, unit="g", mode="guard"),),
    ),
    "cops' minds: stand aside, defect, disarm": (
        BASE.replace(
            legitimacy=0.3,
            cop_density=0.1,
            forces_minds=True,
            forces_local_police_loyalty_low=0.0,
            forces_local_police_loyalty_high=0.6,
            forces_stand_aside_threshold=0.05,
            forces_defect_threshold=0.25,
            forces_disarm_ratio=4.0,
            forces_disarm_kill=0.5,
        ),
        (RampEvent(start=4, end=8, param="legitimacy", value=0.1),),
    ),
    "cops' minds: foreign reinforcements, per-agent legitimacy, lethal force": (
        BASE.replace(
            legitimacy=0.4,
            legitimacy_feedback="per_agent",
            legitimacy_seen_arrest=0.02,
            lethal_probability=0.2,
            forces_minds=True,
            forces_reinforcement_origin="foreign",
            forces_foreign_loyalty_low=0.0,
            forces_foreign_loyalty_high=0.2,
            forces_stand_aside_threshold=0.0,
            forces_defect_threshold=0.1,
            forces_disarm_ratio=3.0,
        ),
        (
            ActionEvent(tick=2, action="reinforce", count=8, unit="un", area=(3, 3, 9, 9)),
            ActionEvent(tick=3, action="reinforce", count=3, unit="post", mode="guard"),
            SetEvent(tick=6, param="cop_density", value=0.12),
            ActionEvent(tick=11, action="withdraw", unit="un", count=2),
        ),
    ),
    "cops' minds: units of different origins (guard and foreign)": (
        BASE.replace(
            legitimacy=0.3,
            forces_minds=True,
            forces_national_guard_loyalty_low=0.0,
            forces_national_guard_loyalty_high=0.3,
            forces_foreign_loyalty_low=0.0,
            forces_foreign_loyalty_high=0.3,
            forces_stand_aside_threshold=0.02,
            forces_defect_threshold=0.05,
        ),
        (
            ActionEvent(tick=2, action="reinforce", count=6, unit="ng", origin="national_guard"),
            ActionEvent(tick=3, action="reinforce", count=6, unit="csto", origin="foreign"),
            ActionEvent(tick=7, action="reinforce", count=2, unit="csto", origin="foreign"),
        ),
    ),
    "information channel: actives and repression, shutdown and restore": (
        BASE.replace(
            legitimacy=0.55,
            information_enabled=True,
            information_actives_weight=3.0,
            information_repression_weight=25.0,
        ),
        (
            ActionEvent(tick=6, action="shutdown"),
            ActionEvent(tick=11, action="restore"),
        ),
    ),
    "information channel off at start, lethal force, literal ratio": (
        BASE.replace(
            ratio_rule="literal",
            lethal_probability=0.3,
            information_enabled=True,
            information_online=False,
            information_actives_weight=2.5,
            information_repression_weight=10.0,
        ),
        (ActionEvent(tick=4, action="restore"),),
    ),
    "elite split: rival faction, loyalties set and ramped, command shifts": (
        BASE.replace(
            legitimacy=0.3,
            cop_density=0.1,
            forces_minds=True,
            forces_local_police_loyalty_low=0.2,
            forces_local_police_loyalty_high=0.8,
            forces_stand_aside_threshold=0.05,
            forces_defect_threshold=0.2,
            elite_rival_share=0.5,
            elite_rival_loyalty=0.3,
        ),
        (
            SetEvent(tick=4, param="elite_rival_loyalty", value=0.0),
            ActionEvent(tick=6, action="shift_command", to="ruler", share=0.5),
            ActionEvent(tick=7, action="reinforce", count=4, unit="ng"),
            ActionEvent(tick=10, action="shift_command", to="rival"),
            RampEvent(start=11, end=13, param="elite_ruler_loyalty", value=0.2),
        ),
    ),
    "information channel with a focal site, shutdown and restore": (
        BASE.replace(
            legitimacy=0.6,
            information_enabled=True,
            information_actives_weight=2.0,
            information_focal_x=4,
            information_focal_y=9,
        ),
        (
            ActionEvent(tick=7, action="shutdown"),
            ActionEvent(tick=11, action="restore"),
        ),
    ),
    "focal site, move then act": (
        BASE.replace(
            legitimacy=0.6,
            citizen_turn_order="move_then_act",
            information_enabled=True,
            information_focal_x=0,
            information_focal_y=12,
        ),
        (),
    ),
    "provocateurs: framing, pretext for lethal force, crackdown, bystanders": (
        BASE.replace(
            legitimacy=0.7,
            provocateurs_count=6,
            provocateurs_framing_rise=0.1,
            provocateurs_framing_decay=0.8,
            provocateurs_framing_lethal=0.5,
            provocateurs_framing_arrest=0.9,
            provocateurs_framing_bystander=0.6,
        ),
        (),
    ),
    "provocateurs with a lethal order, per-agent legitimacy, guards": (
        BASE.replace(
            legitimacy=0.6,
            legitimacy_feedback="per_agent",
            legitimacy_seen_kill=0.05,
            lethal_probability=0.1,
            provocateurs_count=4,
            provocateurs_framing_rise=0.2,
            provocateurs_framing_lethal=0.0,
        ),
        (ActionEvent(tick=3, action="reinforce", count=4, unit="g", mode="guard"),),
    ),
    "elite split: a share of the force changes sides mid-run": (
        BASE.replace(
            legitimacy=0.35,
            forces_minds=True,
            forces_stand_aside_threshold=0.02,
            forces_defect_threshold=0.15,
            elite_rival_loyalty=0.1,
        ),
        (ActionEvent(tick=3, action="shift_command", to="rival", share=0.4),),
    ),
    "organised groups: strikes by quorum, strike impact, a general strike": (
        BASE.replace(
            legitimacy=0.75,
            organisation_groups=3,
            organisation_member_share=0.5,
            organisation_quorum=0.5,
            organisation_strike_impact=0.02,
        ),
        (ActionEvent(tick=9, action="general_strike", ticks=3),),
    ),
    "organised groups: protest, per-agent legitimacy, lethal force, minds, media": (
        BASE.replace(
            legitimacy=0.75,
            legitimacy_feedback="per_agent",
            legitimacy_seen_arrest=0.01,
            lethal_probability=0.2,
            forces_minds=True,
            forces_local_police_loyalty_low=0.0,
            forces_local_police_loyalty_high=0.4,
            information_enabled=True,
            information_actives_weight=2.0,
            organisation_groups=4,
            organisation_member_share=0.6,
            organisation_quorum=0.6,
            organisation_action="protest",
            organisation_risk_factor=1.0,
        ),
        (
            ActionEvent(tick=3, action="reinforce", count=4, unit="army"),
            ActionEvent(tick=12, action="general_strike"),
        ),
    ),
    "every mechanism at once: identities, members, provocateurs, factions, focal site": (
        BASE.replace(
            legitimacy=0.45,
            legitimacy_feedback="global",
            lethal_probability=0.05,
            lethal_deterrence=0.2,
            forces_minds=True,
            forces_local_police_loyalty_low=0.1,
            forces_local_police_loyalty_high=0.7,
            elite_rival_share=0.4,
            elite_rival_loyalty=0.3,
            information_enabled=True,
            information_actives_weight=1.5,
            information_focal_x=6,
            information_focal_y=6,
            provocateurs_count=5,
            provocateurs_framing_rise=0.1,
            organisation_groups=3,
            organisation_member_share=0.4,
            organisation_quorum=0.3,
            organisation_action="protest",
            organisation_risk_factor=0.6,
            identity_enabled=True,
            identity_solidarity=0.4,
            blue_share=0.6,
        ),
        (
            ActionEvent(tick=4, action="shock", factor=1.4),
            ActionEvent(tick=6, action="shutdown"),
            ActionEvent(tick=8, action="shift_command", to="ruler", share=0.5),
            ActionEvent(tick=9, action="general_strike", ticks=2),
            RampEvent(start=10, end=13, param="identity_solidarity", value=0.1),
            ActionEvent(tick=12, action="restore"),
        ),
    ),
    "synchronous activation with per-agent legitimacy, fear, identities and media": (
        BASE.replace(
            activation="synchronous",
            legitimacy=0.55,
            legitimacy_feedback="per_agent",
            legitimacy_seen_arrest=0.02,
            lethal_probability=0.2,
            lethal_deterrence=0.3,
            identity_enabled=True,
            identity_solidarity=0.5,
            information_enabled=True,
            information_actives_weight=1.5,
            forces_minds=True,
        ),
        (ActionEvent(tick=6, action="shutdown"),),
    ),
    "key sites: seizure, burning, guards of cops and outsiders, unguard, framing": (
        BASE.replace(
            legitimacy=0.55,
            site_list="name=akimat x=0.5 y=0.5; name=airport kind=airport x=0.1 y=0.8 radius=1",
            site_min_crowd=3,
            site_seize_ratio=1.5,
            site_burn_after=3.0,
            site_framing_rise=0.2,
            provocateurs_count=2,
            provocateurs_framing_lethal=0.3,
        ),
        (
            ActionEvent(tick=2, action="guard", site="akimat", count=3),
            ActionEvent(tick=3, action="guard", site="airport", count=4, source="new"),
            ActionEvent(tick=9, action="unguard", site="akimat", count=2),
            ActionEvent(tick=11, action="unguard", site="airport"),
        ),
    ),
    "key sites: guards of named units keep their unit, mind and faction": (
        BASE.replace(
            legitimacy=0.55,
            site_list="name=akimat x=0.5 y=0.5; name=airport kind=airport x=0.1 y=0.8 radius=1",
            site_min_crowd=3,
            site_seize_ratio=1.5,
            forces_minds=True,
            elite_rival_share=0.4,
            lethal_probability=0.1,
        ),
        (
            ActionEvent(
                tick=2, action="reinforce", count=6, unit="csto", mode="guard", origin="foreign"
            ),
            ActionEvent(tick=2, action="reinforce", count=5, unit="ng"),
            ActionEvent(tick=3, action="guard", site="akimat", count=4, unit="csto"),
            ActionEvent(tick=4, action="guard", site="airport", count=3),
            ActionEvent(tick=5, action="guard", site="akimat", count=2, source="new"),
            ActionEvent(tick=6, action="guard", site="akimat", count=2, unit="ng"),
            ActionEvent(tick=8, action="unguard", site="akimat", count=3),
            ActionEvent(tick=10, action="unguard", site="airport"),
            ActionEvent(tick=12, action="unguard", site="akimat"),
        ),
    ),
    "key sites: a unit's guards relieved by name, a unit withdrawn with its guards": (
        BASE.replace(
            legitimacy=0.55,
            site_list="name=akimat x=0.5 y=0.5; name=airport kind=airport x=0.1 y=0.8 radius=1",
            site_min_crowd=3,
            site_seize_ratio=1.5,
            forces_minds=True,
            elite_rival_share=0.4,
            lethal_probability=0.1,
        ),
        (
            ActionEvent(
                tick=2, action="reinforce", count=6, unit="csto", mode="guard", origin="foreign"
            ),
            ActionEvent(tick=2, action="reinforce", count=5, unit="ng"),
            ActionEvent(tick=3, action="guard", site="akimat", count=3, unit="ng"),
            ActionEvent(tick=3, action="guard", site="akimat", count=3, unit="csto"),
            ActionEvent(tick=3, action="guard", site="akimat", count=2, source="new"),
            ActionEvent(tick=4, action="guard", site="airport", count=2, unit="csto"),
            ActionEvent(tick=4, action="guard", site="airport", count=3),
            ActionEvent(tick=6, action="unguard", site="akimat", count=2, unit="csto"),
            ActionEvent(tick=8, action="withdraw", unit="csto"),
            ActionEvent(tick=10, action="unguard", site="akimat", unit="ng"),
            ActionEvent(tick=12, action="unguard", site="akimat"),
        ),
    ),
    "identities: solidarity ramped down and set back": (
        BASE.replace(
            legitimacy=0.5, identity_enabled=True, identity_solidarity=0.7, blue_share=0.4
        ),
        (
            RampEvent(start=4, end=8, param="identity_solidarity", value=0.1),
            SetEvent(tick=12, param="identity_solidarity", value=1.0),
        ),
    ),
    "identities with cops' minds, broadcast and NetLogo's self-count": (
        BASE.replace(
            legitimacy=0.4,
            active_count_includes_self=True,
            ratio_rule="round_half_even",
            identity_enabled=True,
            identity_solidarity=0.35,
            forces_minds=True,
            forces_local_police_loyalty_low=0.0,
            forces_local_police_loyalty_high=0.5,
            information_enabled=True,
            information_actives_weight=2.0,
        ),
        (ActionEvent(tick=3, action="reinforce", count=4, unit="ng"),),
    ),
}


@pytest.mark.parametrize("label", list(CASES))
@pytest.mark.parametrize("seed", [1, 7])
def test_mechanism_matches_reference(label, seed):
    params, timeline = CASES[label]
    side_by_side(Scenario(params=params, timeline=timeline), seed=seed, ticks=16)


def test_parity_runs_exercise_the_mechanisms():
    """The cases above do what they are named for (killings, shocks, units)."""
    params, timeline = CASES["reinforcement, guards and withdrawal"]
    sim = Simulation(Scenario(params=params, timeline=timeline), seed=1)
    counts = []
    for _ in range(14):
        sim.step()
        counts.append(sim.place.row.cops)
    base_cops = round(0.06 * 169)
    assert counts[2] == base_cops + 6 and counts[3] == base_cops + 11
    assert counts[8] == base_cops + 9 and counts[11] == base_cops + 3
    assert sum(r.killed_by_cops for r in sim.place.history) > 0
    params, timeline = CASES["beta hardship with a group, shocks and rollback"]
    sim = Simulation(Scenario(params=params, timeline=timeline), seed=1)
    h0 = sim.place.agents.hardship.copy()
    sim.step(3)
    group = sim.place.agents.cohort == 1
    assert (sim.place.agents.hardship[group] >= h0[group]).all()
    assert (sim.place.agents.hardship[group] > h0[group]).any()
    assert (sim.place.agents.hardship[~group] == h0[~group]).all()


@pytest.mark.parametrize(
    "label",
    [
        "per-agent legitimacy",
        "global, concession and set",
        "reinforcement, guards and withdrawal",
        "information channel: actives and repression, shutdown and restore",
        "elite split: rival faction, loyalties set and ramped, command shifts",
        "provocateurs: framing, pretext for lethal force, crackdown, bystanders",
        "organised groups: strikes by quorum, strike impact, a general strike",
        "organised groups: protest, per-agent legitimacy, lethal force, minds, media",
        "identities: solidarity ramped down and set back",
        "key sites: seizure, burning, guards of cops and outsiders, unguard, framing",
        "key sites: guards of named units keep their unit, mind and faction",
        "key sites: a unit's guards relieved by name, a unit withdrawn with its guards",
        "every mechanism at once: identities, members, provocateurs, factions, focal site",
    ],
)
def test_checkpoint_continues_bit_identically_with_mechanisms(label):
    params, timeline = CASES[label]
    sc = Scenario(params=params, timeline=timeline)
    straight = Simulation(sc, seed=3)
    straight.step(16)
    first = Simulation(sc, seed=3)
    first.step(7)
    resumed = Simulation.restore(first.checkpoint())
    resumed.step(9)
    assert resumed.place.history == straight.place.history
    for name, x, y in zip(
        straight.place.agents._fields, straight.place.agents, resumed.place.agents, strict=True
    ):
        assert np.array_equal(x, y), name


@pytest.mark.parametrize("seed", [1, 7])
def test_minds_parity_cases_exercise_every_verdict(seed):
    """The cops' minds cases stand aside, defect and disarm; foreign units never defect
    (no citizen ever carries a reinforcement unit's code)."""
    params, timeline = CASES["cops' minds: stand aside, defect, disarm"]
    sim = Simulation(Scenario(params=params, timeline=timeline), seed=seed)
    sim.step(16)
    verdicts = ("stood_aside", "defected", "disarmed")
    totals = np.array([[getattr(r, v) for v in verdicts] for r in sim.place.history]).sum(axis=0)
    assert (totals > 0).all(), totals
    killed = sum(r.cops_killed for r in sim.place.history)
    assert 0 < killed < totals[2]  # the crowd kills some of the cops it disarms
    params, timeline = CASES[
        "cops' minds: foreign reinforcements, per-agent legitimacy, lethal force"
    ]
    sim = Simulation(Scenario(params=params, timeline=timeline), seed=seed)
    for _ in range(16):
        sim.step()
        a = sim.place.agents
        assert not np.any((a.kind == 0) & (a.status != 3) & (a.unit > 0))
    history = sim.place.history
    assert sum(r.stood_aside for r in history) > 0 and sum(r.disarmed for r in history) > 0


def test_information_parity_case_broadcasts_and_shuts_down():
    """The information case hears both signals while online and nothing during the
    shutdown (ticks 6-10), and the broadcast changes the trajectory."""
    params, timeline = CASES["information channel: actives and repression, shutdown and restore"]
    sc = Scenario(params=params, timeline=timeline)
    sim = Simulation(sc, seed=1)
    media = []
    for _ in range(16):
        sim.step()
        media.append(tuple(int(v) for v in sim.place.signals.media))
    assert all(m == (0, 0) for m in media[5:10])
    online = media[:5] + media[10:]
    assert any(m[0] > 0 for m in online) and any(m[1] > 0 for m in online), media
    silent = Simulation(Scenario(params=params.replace(information_enabled=False)), seed=1)
    silent.step(16)
    assert silent.place.history != sim.place.history


def test_foreign_units_never_defect_while_others_do():
    """Per-unit origins: with equally low loyalty, national guards defect (a defector
    keeps its unit code as a citizen) and the foreign unit never does."""
    params, timeline = CASES["cops' minds: units of different origins (guard and foreign)"]
    sim = Simulation(Scenario(params=params, timeline=timeline), seed=1)
    sim.step(20)
    a = sim.place.agents
    codes = unit_codes(timeline)
    citizens = (a.kind == 0) & (a.status != 3)
    assert (citizens & (a.unit == codes["ng"])).any()
    assert not (citizens & (a.unit == codes["csto"])).any()


def test_elite_split_cases_move_command_and_change_verdicts():
    """The split case starts with both factions, moves half the rival's cops to the
    ruler at tick 6 and all of them to the rival at tick 10; cops the ruler calls in
    answer to the ruler; and the split changes what cops do."""
    params, timeline = CASES["elite split: rival faction, loyalties set and ramped, command shifts"]
    sim = Simulation(Scenario(params=params, timeline=timeline), seed=1)
    per_tick, called_in = [], []
    for _ in range(12):
        sim.step()
        a = sim.place.agents
        cops = (a.kind == 1) & (a.status != 3)
        ruler, rival = (int((cops & (a.faction == f)).sum()) for f in (0, 1))
        per_tick.append((ruler, rival))
        called_in.append(a.faction[cops & (a.unit == 1)].tolist())
    ruler5, rival5 = per_tick[4]
    assert rival5 > 0 and ruler5 > 0
    # the shift at tick 6 acts before any turn: the rival keeps round(half) fewer
    # cops, less any of its cops who defect or are disarmed during tick 6
    assert per_tick[5][1] <= rival5 - round(0.5 * rival5) < rival5
    assert called_in[6] and set(called_in[6]) == {0}  # the ruler's reinforcements
    assert per_tick[9][0] == 0 and per_tick[9][1] > 0
    united = Simulation(Scenario(params=params.replace(elite_rival_share=0.0)), seed=1)
    united.step(12)
    assert united.place.history != sim.place.history


@pytest.mark.parametrize("seed", [1, 7])
def test_organisation_parity_cases_exercise_quorum_and_general_strike(seed):
    """The organised-groups cases see groups start and stop acting by quorum, strike
    (counted), protest, and all strike during a general strike."""
    label = "organised groups: strikes by quorum, strike impact, a general strike"
    params, timeline = CASES[label]
    sim = Simulation(Scenario(params=params, timeline=timeline), seed=seed)
    modes, striking = [], []
    for _ in range(16):
        sim.step()
        modes.append(tuple(int(m) for m in sim.place.signals.organisation_mode[1:]))
        striking.append(sim.counts()["striking"])
    members = int(np.count_nonzero(sim.place.agents.org > 0))
    assert all(m == (1, 1, 1) for m in modes[8:11]), modes  # ticks 9-11: general strike
    assert modes[0] == (0, 0, 0)  # no group acts before it has decided once
    stops = [
        (t, g)
        for t in range(15)
        for g in range(3)
        if modes[t][g] == 1 and modes[t + 1][g] == 0 and not 7 <= t <= 10
    ]
    assert stops, modes  # a group that struck falls below its quorum and goes back
    assert max(striking[:8]) > 0 and max(striking) <= members
    label = "organised groups: protest, per-agent legitimacy, lethal force, minds, media"
    params, timeline = CASES[label]
    sim = Simulation(Scenario(params=params, timeline=timeline), seed=seed)
    protests = []
    for _ in range(16):
        sim.step()
        protests.append(int(np.count_nonzero(sim.place.signals.organisation_mode == 2)))
    assert max(protests[:11]) > 0 and protests[-1] == 0  # the general strike (tick 12 on)


def test_sites_parity_case_seizes_burns_retakes_and_guards():
    """The key sites case (seeds 1 and 7 of the parity runs) changes hands both ways,
    burns, keeps its guards' count and feeds the framing."""
    params, timeline = CASES[
        "key sites: seizure, burning, guards of cops and outsiders, unguard, framing"
    ]
    rows = []
    for seed in (1, 7):
        sim = Simulation(Scenario(params=params, timeline=timeline), seed=seed)
        sim.step(16)
        h = sim.place.history
        assert max(r.site_guards for r in h) == 7 and h[-1].site_guards == 1
        # 3 of the place's cops left for the akimat, and 2 came back
        assert h[1].cops - h[2].cops == 3 and h[9].cops - h[8].cops == 2
        rows += h
    assert sum(r.sites_seized for r in rows) > 0 and sum(r.sites_burned for r in rows) > 0
    assert sum(r.sites_retaken for r in rows) > 0
    assert min(r.control for r in rows) < 0.5
    assert max(r.framing for r in rows) > 0.5


def test_unit_guards_parity_case_posts_and_brings_back_whole_cops():
    """The named units' guards case posts only the unit named, relieves the first
    posted first (outsiders before them) and brings each back with its unit, mind
    and faction: the cop that left, not a new one of the initial force."""
    params, timeline = CASES["key sites: guards of named units keep their unit, mind and faction"]
    codes = unit_codes(timeline)
    kept = ["unit", "hardship", "risk_aversion", "faction"]
    for seed in (1, 7):
        sim = Simulation(Scenario(params=params, timeline=timeline), seed=seed)
        sim.step(3)
        st = sim.place.state["sites"]
        assert st["posted"]["unit"].tolist() == [codes["csto"]] * 4
        sim.step(3)
        akimat = st["posted"][st["posted"]["site"] == 0]
        assert akimat["unit"].tolist() == [codes["csto"]] * 4 + [codes["ng"]] * 2
        assert len(st["posted"]) == 9 and st["new_guards"][0] == 2
        first = akimat[0]
        sim.step(2)  # tick 8: the 2 outsiders leave, then the first posted comes back
        assert st["new_guards"][0] == 0 and st["own_guards"][0] == 5
        a = sim.place.agents
        on_duty = (a.kind == 1) & (a.status != 3)
        match = on_duty.copy()
        for name in kept:
            match &= getattr(a, name) == first[name]
        assert np.count_nonzero(match) == 1
        sim.step(4)
        assert len(st["posted"]) == 0 and sim.place.row.site_guards == 0


def test_unit_guards_parity_case_relieves_by_name_and_withdraws_whole_units():
    """The case relieving guards by unit relieves only the unit named (first posted
    first; outsiders stay) and its whole-unit withdraw takes the unit's guards off
    both posts with it: no member of the unit is left anywhere in the place."""
    label = "key sites: a unit's guards relieved by name, a unit withdrawn with its guards"
    params, timeline = CASES[label]
    codes = unit_codes(timeline)
    for seed in (1, 7):
        sim = Simulation(Scenario(params=params, timeline=timeline), seed=seed)
        sim.step(5)
        st = sim.place.state["sites"]
        akimat = st["posted"][st["posted"]["site"] == 0]
        assert akimat["unit"].tolist() == [codes["ng"]] * 3 + [codes["csto"]] * 3
        csto_first = akimat[3:5].copy()
        airport_csto = int(np.count_nonzero(st["posted"]["unit"] == codes["csto"])) - 3
        assert airport_csto >= 2  # the airport's 2 of csto, and any of its 3 drawn
        sim.step()  # tick 6: the akimat's first 2 csto guards come back, as they were
        akimat = st["posted"][st["posted"]["site"] == 0]
        assert akimat["unit"].tolist() == [codes["ng"]] * 3 + [codes["csto"]]
        assert st["new_guards"][0] == 2
        a = sim.place.agents
        on_duty = (a.kind == 1) & (a.status != 3)
        for record in csto_first:
            match = on_duty.copy()
            for name in ("unit", "hardship", "risk_aversion", "faction"):
                match &= getattr(a, name) == record[name]
            assert np.count_nonzero(match) == 1
        guards = sim.place.row.site_guards
        sim.step(2)  # tick 8: csto withdrawn, its 1 + airport_csto guards with it
        assert not (st["posted"]["unit"] == codes["csto"]).any()
        assert not ((a.unit == codes["csto"]) & (a.status != 3)).any()
        assert sim.place.row.site_guards == guards - 1 - airport_csto
        sim.step(2)  # tick 10: ng's 3 back; the outsiders stay
        assert st["own_guards"][0] == 0 and st["new_guards"][0] == 2
        sim.step(2)
        assert st["new_guards"][0] == 0
