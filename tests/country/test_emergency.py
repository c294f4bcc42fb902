"""States of emergency and curfews (docs/odd.md §12.3): the reference twin bit for
bit, local curfew hours, validation, and the effect over 20 seeds (recorded in
``results/emergency.json``; ``python tests/country/test_emergency.py`` rewrites it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import upheaval
from country.helpers import country_scenario, three_towns
from reference.country import ReferenceCountry
from upheaval.model.rules.emergency import in_curfew, local_hour
from upheaval.model.timeline import ActionEvent, SetEvent
from upheaval.scenario.loading import ScenarioError

CLOCK = dict(start="2022-01-04T00:00:00Z", tick_minutes=60.0)
RESULTS = Path(__file__).parent / "results" / "emergency.json"
SEEDS = range(20)


def _timeline():
    return (
        ActionEvent(tick=6, action="emergency", region="North", curfew_from=23.0, curfew_to=7.0),
        ActionEvent(tick=10, action="emergency", place="Gamma"),
        SetEvent(tick=12, param="legitimacy", value=0.6, place="Beta"),
        ActionEvent(tick=30, action="lift_emergency", region="North"),
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_reference_twin_with_emergencies_and_curfews(seed):
    sc = country_scenario(three_towns(), _timeline(), legitimacy=0.72, steps=40, **CLOCK)
    sim = upheaval.Simulation(sc, seed=seed).run()
    twin = ReferenceCountry(sc, seed)
    twin.step(40)
    got, want = sim.table(), twin.table()
    for name in got.column_names:
        assert got.column(name).to_pylist() == want.column(name).to_pylist(), name
    t = got.to_pandas().set_index(["tick", "place"])
    # Alpha and Beta (UTC+6): curfew 23-07 local = 17-01 UTC, ticks start at 00 UTC
    alpha = t.xs("Alpha", level="place")
    assert alpha.loc[5, "under_emergency"] == 0 and alpha.loc[6, "under_emergency"] == 1
    curfew_ticks = alpha.index[alpha.under_curfew == 1].tolist()
    assert curfew_ticks == [*range(18, 26)]  # tick k starts at (k-1):00 UTC
    assert alpha.loc[30, "under_emergency"] == 0
    gamma = t.xs("Gamma", level="place")
    assert gamma.loc[10:40, "under_emergency"].eq(1).all() and gamma.under_curfew.sum() == 0


def test_local_hours():
    assert local_hour("2022-01-04T00:00:00+00:00", 60.0, 1, 6.0) == 6.0
    assert local_hour("2022-01-04T00:00:00+00:00", 60.0, 20, 5.0) == 0.0
    assert in_curfew(23.5, 23, 7) and in_curfew(3, 23, 7) and not in_curfew(7, 23, 7)
    assert in_curfew(12, 10, 14) and not in_curfew(14, 10, 14) and not in_curfew(5, 5, 5)


def test_emergency_mistakes(tmp_path):
    path = tmp_path / "e.toml"
    base = '[[timeline]]\ntick = 3\naction = "emergency"\n'
    path.write_text(base + "curfew_from = 22\n")
    with pytest.raises(ScenarioError, match="give curfew_from and curfew_to"):
        upheaval.load(path)
    path.write_text(base + "curfew_from = 22\ncurfew_to = 6\n")
    with pytest.raises(ScenarioError, match="a curfew needs a clock"):
        upheaval.load(path)
    path.write_text(
        "[run]\nstart = 2022-01-01T00:00:00Z\ntick_minutes = 60\n"
        + base
        + "curfew_from = 22.5\ncurfew_to = 6\n"
    )
    with pytest.raises(ScenarioError, match="whole hours"):
        upheaval.load(path)


def curfew_effect(seed: int, curfew: bool) -> tuple[float, float]:
    """Mean street actives in the curfew's hours and outside them, ticks 25-120."""
    tl = (
        ActionEvent(
            tick=24,
            action="emergency",
            **({"curfew_from": 20.0, "curfew_to": 6.0} if curfew else {}),
        ),
    )
    sc = country_scenario(three_towns(), tl, legitimacy=0.7, steps=120, **CLOCK)
    t = upheaval.Simulation(sc, seed=seed).run().table().to_pandas()
    t = t[t.tick >= 25]
    # Alpha's local hour at the start of tick k: (k - 1 + 6) mod 24
    hour = (t.tick - 1 + 6) % 24
    night = (hour >= 20) | (hour < 6)
    active = t.active_blue + t.active_green
    return float(active[night].mean()), float(active[~night].mean())


def measure() -> dict:
    curfew = [curfew_effect(s, True) for s in SEEDS]
    plain = [curfew_effect(s, False) for s in SEEDS]
    return {
        "seeds": len(SEEDS),
        "night_curfew": [c[0] for c in curfew],
        "night_no_curfew": [p[0] for p in plain],
        "day_curfew": [c[1] for c in curfew],
        "day_no_curfew": [p[1] for p in plain],
    }


def test_a_curfew_lowers_street_actives_in_its_hours():
    got = measure()
    assert got == json.loads(RESULTS.read_text("utf-8")), (
        "curfew evidence changed; rerun `python tests/country/test_emergency.py` if on purpose"
    )
    n = got["seeds"]
    night = sum(got["night_curfew"]) / n, sum(got["night_no_curfew"]) / n
    lower = sum(c < p for c, p in zip(got["night_curfew"], got["night_no_curfew"], strict=True))
    # in its hours the curfew lowers street actives on average, and in most seeds
    assert night[0] < 0.85 * night[1], night
    assert lower > n // 2, lower
    # what it displaces: the day's actives rise (docs/odd.md §12.3 records it)
    day = sum(got["day_curfew"]) / n, sum(got["day_no_curfew"]) / n
    assert day[0] > day[1], day


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    RESULTS.write_text(json.dumps(measure(), indent=1) + "\n", "utf-8")
    sys.stdout.write(RESULTS.read_text("utf-8")[:400])
