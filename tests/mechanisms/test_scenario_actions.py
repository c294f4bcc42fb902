"""Scenario files with mechanism actions: strict loading with errors naming the entry
and key, and the generated report current."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import upheaval
from upheaval.model.timeline import ActionEvent
from upheaval.scenario.loading import ScenarioError, apply_overrides, load_file

ROOT = Path(__file__).resolve().parents[2]
HEAD = '[scenario]\nextends = "epstein2002-run2"\n[legitimacy]\nfeedback = "global"\n'


def load_text(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(HEAD + text, "utf-8")
    return load_file(path)


def test_actions_load(tmp_path):
    sc = load_text(
        tmp_path,
        '[[timeline]]\ntick = 10\naction = "shock"\nfactor = 1.5\narea = [0, 0, 19, 39]\n'
        '[[timeline]]\ntick = 20\naction = "concession"\nlegitimacy = 0.1\n'
        '[[timeline]]\ntick = 30\naction = "reinforce"\ncount = 20\nunit = "army"\n'
        'mode = "guard"\n'
        '[[timeline]]\ntick = 40\naction = "withdraw"\nunit = "army"\n'
        "[[timeline]]\ntick = 12\nset = { 'lethal_force.probability' = 0.1 }\n",
    )
    assert sc.params.legitimacy.feedback == "global"
    assert sc.timeline[0] == ActionEvent(tick=10, action="shock", factor=1.5, area=(0, 0, 19, 39))
    assert sc.timeline[2].mode == "guard" and sc.timeline[3].count == -1
    sim = upheaval.Simulation(sc, seed=1)
    sim.step(45)
    cops = [row.cops for row in sim.place.history]
    assert cops[30] == cops[29] + 20 and cops[40] == cops[29]


@pytest.mark.parametrize(
    ("entry", "key", "reason"),
    [
        ('action = "riot"', "timeline[1].action", "expected one of"),
        ('action = "shock"', "timeline[1].factor", "missing"),
        ('action = "shock"\nfactor = 0', "timeline[1].factor", "must be > 0"),
        ('action = "shock"\nfactor = 2\nunit = "x"', "timeline[1].unit", "unknown key"),
        ('action = "shock"\nfactor = 2\narea = [0, 0, 50, 5]', "timeline[1].area", "inside"),
        ('action = "shock"\nfactor = 2\narea = [1, 2]', "timeline[1].area", "[x0, y0, x1, y1]"),
        ('action = "shock"\nfactor = 2\ntarget = "group"', "timeline[1].target", "group_share"),
        ('action = "rollback"\nshare = 1.5', "timeline[1].share", "≤ 1"),
        ('action = "concession"\nlegitimacy = 2', "timeline[1].legitimacy", "≤ 1"),
        ('action = "reinforce"\nunit = "a"', "timeline[1].count", "missing"),
        ('action = "reinforce"\ncount = 0\nunit = "a"', "timeline[1].count", "≥ 1"),
        ('action = "reinforce"\ncount = 3\nunit = "a"\nmode = "x"', "timeline[1].mode", "'guard'"),
        ('action = "withdraw"\nunit = "ghost"', "timeline[1].unit", "no unit 'ghost'"),
        ('action = "shock"\nfactor = 2\nset = { legitimacy = 0.5 }', "timeline[1].set", "own keys"),
        ('action = "shift_command"', "timeline[1].to", "missing"),
        ('action = "shift_command"\nto = "army"', "timeline[1].to", "'ruler'"),
        ('action = "shift_command"\nto = "rival"', "timeline[1].action", "minds = true"),
    ],
)
def test_bad_action_is_named(tmp_path, entry, key, reason):
    with pytest.raises(ScenarioError) as info:
        load_text(tmp_path, f"[[timeline]]\ntick = 5\n{entry}\n")
    err = info.value
    assert err.key == key, str(err)
    assert reason in err.reason, err.reason


def test_withdrawal_before_arrival_is_named(tmp_path):
    text = (
        '[[timeline]]\ntick = 30\naction = "reinforce"\ncount = 3\nunit = "a"\n'
        '[[timeline]]\ntick = 20\naction = "withdraw"\nunit = "a"\n'
    )
    with pytest.raises(ScenarioError) as info:
        load_text(tmp_path, text)
    assert info.value.key == "timeline[2].unit"


def test_override_shrinking_the_lattice_under_an_area_is_named(tmp_path):
    sc = load_text(
        tmp_path, '[[timeline]]\ntick = 5\naction = "shock"\nfactor = 2\narea = [0, 0, 30, 30]\n'
    )
    with pytest.raises(ScenarioError) as info:
        apply_overrides(sc, ["width=20"])
    assert info.value.key == "timeline[1].area"


def test_mechanisms_report_is_current():
    spec = importlib.util.spec_from_file_location(
        "mechanisms_report", ROOT / "scripts" / "mechanisms_report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, "run: python scripts/mechanisms_report.py"


def test_elite_split_loads_and_is_checked(tmp_path):
    sc = load_text(
        tmp_path,
        "[security_forces]\nminds = true\n[elite]\nrival_share = 0.4\nrival_loyalty = 0.2\n"
        '[[timeline]]\ntick = 8\naction = "shift_command"\nto = "ruler"\nshare = 0.5\n'
        "[[timeline]]\ntick = 9\nset = { 'elite.rival_loyalty' = 0.0 }\n",
    )
    assert sc.params.elite.rival_share == 0.4
    assert sc.timeline[0] == ActionEvent(tick=8, action="shift_command", to="ruler", share=0.5)
    with pytest.raises(ScenarioError) as info:
        load_text(tmp_path, "[elite]\nrival_share = 0.4\n")
    assert info.value.key == "elite.rival_share" and "minds" in info.value.reason
    with pytest.raises(ScenarioError) as info:
        load_text(tmp_path, "[security_forces]\nminds = true\n[elite]\nrival_loyalty = 1.5\n")
    assert info.value.key == "elite.rival_loyalty"


def test_provocateurs_load_and_are_checked(tmp_path):
    sc = load_text(tmp_path, "[provocateurs]\ncount = 5\nframing_lethal = 0.3\n")
    assert sc.params.provocateurs.count == 5 and sc.params.provocateurs.framing_lethal == 0.3
    for text, key, reason in (
        ("[provocateurs]\ncount = -1\n", "provocateurs.count", "≥ 0"),
        ("[provocateurs]\ncount = 2\nframing_decay = 1.5\n", "provocateurs.framing_decay", "≤ 1"),
        ('[model]\nvariant = "II"\n[provocateurs]\ncount = 2\n', "provocateurs.count", "Model II"),
        ("[provocateurs]\ncount = 5000\n", "provocateurs.count", "cannot fit"),
    ):
        with pytest.raises(ScenarioError) as info:
            load_text(tmp_path, text)
        assert info.value.key == key and reason in info.value.reason, str(info.value)


def test_focal_site_is_checked(tmp_path):
    sc = load_text(tmp_path, "[information]\nenabled = true\nfocal_x = 20\nfocal_y = 5\n")
    assert (sc.params.information.focal_x, sc.params.information.focal_y) == (20, 5)
    for text, reason in (
        ("[information]\nenabled = true\nfocal_x = 20\n", "both"),
        ("[information]\nenabled = true\nfocal_x = 40\nfocal_y = 5\n", "off the"),
        ("[information]\nfocal_x = 3\nfocal_y = 5\n", "information.enabled"),
    ):
        with pytest.raises(ScenarioError) as info:
            load_text(tmp_path, text)
        assert info.value.key == "information.focal_x" and reason in info.value.reason


CLOCK = "[run]\nstart = 2022-01-02T00:00:00Z\ntick_minutes = 60\n"


def test_timeline_entries_at_clock_times(tmp_path):
    sc = load_text(
        tmp_path,
        "[information]\nenabled = true\n"
        + CLOCK
        + '[[timeline]]\ntime = 2022-01-05T10:30:00Z\naction = "shutdown"\n'
        + "[[timeline]]\ntime = 2022-01-02T00:00:00Z\nset = { legitimacy = 0.7 }\n"
        + '[[timeline]]\ntime = "2022-01-02T02:00:00+01:00"\nset = { legitimacy = 0.6 }\n'
        + "[[timeline]]\nstart_time = 2022-01-03T00:59:59Z\nend_time = 2022-01-03T01:00:00Z\n"
        + "ramp = { legitimacy = 0.5 }\n"
        + '[[timeline]]\ntick = 200\naction = "restore"\n',
    )
    assert sc.params.run.start == "2022-01-02T00:00:00+00:00" and sc.params.run.tick_minutes == 60
    # 82.5 hours after the start falls in tick 83; the start itself is tick 1; 02:00+01:00
    # is 01:00 UTC, tick 2; a ramp over the last second of tick 25 into tick 26
    shutdown, first, second, ramp, restore = sc.timeline
    assert (shutdown.tick, first.tick, second.tick) == (83, 1, 2)
    assert (ramp.start, ramp.end) == (25, 26) and restore.tick == 200


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        (
            '[[timeline]]\ntime = 2022-01-05T10:30:00Z\naction = "concession"\nlegitimacy = 0.1\n',
            "timeline[1].time",
            "needs run.start",
        ),
        (
            CLOCK + "[[timeline]]\ntime = 2022-01-01T23:00:00Z\nset = { legitimacy = 0.7 }\n",
            "timeline[1].time",
            "before run.start",
        ),
        (
            CLOCK
            + "[[timeline]]\ntick = 3\ntime = 2022-01-03T00:00:00Z\nset = { legitimacy = 0.7 }\n",
            "timeline[1].time",
            "not both",
        ),
        (
            CLOCK + '[[timeline]]\ntime = "yesterday"\nset = { legitimacy = 0.7 }\n',
            "timeline[1].time",
            "ISO 8601",
        ),
        ('[run]\nstart = "soon"\n', "run.start", "ISO 8601"),
    ],
)
def test_bad_clock_times_are_named(tmp_path, text, key, reason):
    with pytest.raises(ScenarioError) as info:
        load_text(tmp_path, text)
    assert info.value.key == key and reason in info.value.reason, str(info.value)


def test_clock_cannot_move_under_a_timeline(tmp_path):
    sc = load_text(
        tmp_path, CLOCK + "[[timeline]]\ntime = 2022-01-03T00:00:00Z\nset = { legitimacy = 0.7 }\n"
    )
    assert sc.timeline[0].tick == 25
    with pytest.raises(ScenarioError) as info:
        apply_overrides(sc, ["run.tick_minutes=30"])
    assert info.value.key == "run.tick_minutes" and "in the file" in info.value.reason
    plain = apply_overrides(upheaval.load("epstein2002-run1"), ["run.start=2022-01-02T06:00:00"])
    assert plain.params.run.start == "2022-01-02T06:00:00+00:00"


def test_kz2022_almaty_dates_its_timeline_and_stays_quiet_alone():
    """kz2022-almaty, the place Almaty of kazakhstan-2022 alone (its file's header):
    one-hour ticks from 00:00 on 2 January Almaty time (18:00 UTC on 1 January), so
    the state of emergency of 4 January 19:30 UTC (events.csv) acts from tick 74, the
    blackout of 5 January 10:30 UTC in tick 89, the first CSTO aircraft (6 January
    16:06 UTC) in tick 119 and the order to shoot (7 January, noon Almaty) in tick 133.
    Its curfew keeps Almaty's clock. Alone, Almaty hears no news of the other places,
    which raised it in the country: its unrest stays a background of a few dozen
    actives (peak 0.23-0.28 % of the citizens over seeds 1-8), and its arrests fall
    once the emergency and the concessions act."""
    sc = upheaval.load("kz2022-almaty")
    at = {getattr(e, "action", None) or e.param: e.tick for e in sc.timeline[::-1]}
    assert (at["emergency"], at["shutdown"], at["reinforce"]) == (74, 89, 119)
    assert (at["concession"], at["lethal_probability"], at["restore"]) == (85, 133, 200)
    assert (at["withdraw"], at["lift_emergency"]) == (277, 409)
    sim = upheaval.Simulation(sc, seed=1).run(sc.params.run.steps)
    col = {c: sim.table().column(c).to_numpy() for c in sim.table().column_names}
    tick = col["tick"]
    # tick t starts at (t - 1) o'clock Almaty time (mod 24); the curfew is 23:00-07:00
    hour = (tick - 1) % 24
    curfew = (tick >= 74) & (tick < 409) & ((hour >= 23) | (hour < 7))
    np.testing.assert_array_equal(col["under_curfew"], curfew.astype(col["under_curfew"].dtype))
    cops = dict(zip(tick.tolist(), col["cops"].tolist(), strict=True))
    assert cops[119] - cops[118] == 10 and cops[277] - cops[276] == -10  # 1,015 troops at 1:100
    assert col["killed_by_cops"][tick < 133].sum() == 0
    legitimacy = dict(zip(tick.tolist(), col["legitimacy"].tolist(), strict=True))
    l0 = sc.params.citizens.legitimacy
    assert legitimacy[84] == l0 and legitimacy[85] == pytest.approx(l0 + 0.02)
    assert legitimacy[109] == pytest.approx(l0 + 0.04)  # two concessions
    active = col["active_blue"] + col["active_green"]
    citizens = sum(
        col[f"{s}_{g}"] for s in ("quiet", "active", "jailed") for g in ("blue", "green")
    )
    assert active.max() < 0.01 * citizens.min()
    arrests = col["arrests"]
    assert arrests[(tick >= 1) & (tick < 74)].mean() > 5 * arrests[tick >= 120].mean()


def test_synchronous_activation_is_a_named_choice_checked_against_turn_decisions(tmp_path):
    sc = load_text(tmp_path, '[citizens]\nactivation = "synchronous"\n')
    assert sc.params.citizens.activation == "synchronous"
    for text in ("[provocateurs]\ncount = 3\n", "[organisation]\ngroups = 2\n"):
        with pytest.raises(ScenarioError) as info:
            load_text(tmp_path, '[citizens]\nactivation = "synchronous"\n' + text)
        assert info.value.key == "citizens.activation" and "not yet" in info.value.reason
    with pytest.raises(ScenarioError) as info:
        load_text(tmp_path, '[citizens]\nactivation = "simultaneous"\n')
    assert info.value.key == "citizens.activation" and "'synchronous'" in info.value.reason
