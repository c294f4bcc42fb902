"""Evidence for the news between places (docs/odd.md §12.1), over 20 seeds.

A chain of six towns 150 km apart along one road; the first has low legitimacy and
breaks out at once, the others (L = 0.86) rarely break out on their own. With
news that decays with distance (m = 0, λ = 150 km) the breakout travels along the
road: the order of onsets follows the distance from the first town. With national
news only (m = 1, the control) every town hears the same and the order is
arbitrary. A shutdown of the eastern half delays the breakout there.

The measured numbers are in ``results/news.json`` (``python tests/country/test_news.py``
rewrites it); the test recomputes them and requires the same values, bit for bit,
and the effects.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from scipy.stats import spearmanr

import upheaval
from upheaval.model.params import Params, validate_params
from upheaval.model.timeline import ActionEvent
from upheaval.results.places import onset_ticks
from upheaval.scenario.country import Country, LinkSpec, PlaceSpec
from upheaval.scenario.schema import Scenario

RESULTS = Path(__file__).parent / "results" / "news.json"
SEEDS = range(20)
STEPS = 100
TOWNS = 6
EAST = tuple(f"P{i}" for i in range(TOWNS // 2, TOWNS))


def chain() -> Country:
    places = tuple(
        PlaceSpec(
            f"P{i}",
            "West" if i < TOWNS // 2 else "East",
            45.0,
            60.0 + 2 * i,
            5,
            3000,
            (("legitimacy", 0.6),) if i == 0 else (),
        )
        for i in range(TOWNS)
    )
    links = tuple(LinkSpec(f"P{i}", f"P{i + 1}", "road", 150.0, 3.0) for i in range(TOWNS - 1))
    return Country(places, links, "chain of towns")


def onsets(national_share: float, seed: int, shutdown_east: bool = False) -> list[int]:
    """Onset tick of each town after the first (STEPS + 1: never)."""
    p = validate_params(
        Params(
            scale=10.0,
            min_side=15,
            steps=STEPS,
            legitimacy=0.86,
            information_enabled=True,
            information_actives_weight=0.0,
            information_elsewhere_weight=0.3,
            information_national_share=national_share,
            information_decay_km=150.0,
        )
    )
    tl = (ActionEvent(tick=1, action="shutdown", region="East"),) if shutdown_east else ()
    sim = upheaval.Simulation(Scenario(params=p, timeline=tl, country=chain()), seed=seed)
    on = onset_ticks(sim.run().table())
    return [STEPS + 1 if on[f"P{i}"] is None else on[f"P{i}"] for i in range(1, TOWNS)]


def rho(ticks: list[int]) -> float:
    """Spearman's ρ of onset tick against distance; 0 when every onset ties (no
    order at all)."""
    if len(set(ticks)) == 1:
        return 0.0
    r = spearmanr(range(1, TOWNS), ticks).statistic
    return 0.0 if math.isnan(r) else float(r)


def measure() -> dict:
    decay = [onsets(0.0, s) for s in SEEDS]
    national = [onsets(1.0, s) for s in SEEDS]
    cut = [onsets(0.0, s, shutdown_east=True) for s in SEEDS]
    east = slice(TOWNS // 2 - 1, TOWNS - 1)

    def mean(xs):
        return sum(xs) / len(xs)

    return {
        "seeds": len(SEEDS),
        "steps": STEPS,
        "rho_decay": [rho(t) for t in decay],
        "rho_national": [rho(t) for t in national],
        "mean_rho_decay": mean([rho(t) for t in decay]),
        "mean_rho_national": mean([rho(t) for t in national]),
        "east_onset_open": [mean(t[east]) for t in decay],
        "east_onset_shutdown": [mean(t[east]) for t in cut],
        "east_never_open": sum(x == STEPS + 1 for t in decay for x in t[east]),
        "east_never_shutdown": sum(x == STEPS + 1 for t in cut for x in t[east]),
    }


def test_news_evidence_matches_the_record_and_shows_the_effects():
    got = measure()
    assert got == json.loads(RESULTS.read_text("utf-8")), (
        "news evidence changed; rerun `python tests/country/test_news.py` if on purpose"
    )
    # distance decay: onsets follow distance; the control (national news only) not
    assert got["mean_rho_decay"] >= 0.7
    assert abs(got["mean_rho_national"]) <= 0.3
    assert got["mean_rho_decay"] - got["mean_rho_national"] >= 0.5
    # a regional shutdown delays the breakout in that region in most seeds
    later = sum(
        cut > open_
        for cut, open_ in zip(got["east_onset_shutdown"], got["east_onset_open"], strict=True)
    )
    assert later >= 16, later
    assert got["east_never_shutdown"] > got["east_never_open"]


if __name__ == "__main__":
    RESULTS.write_text(json.dumps(measure(), indent=1) + "\n", "utf-8")
    sys.stdout.write(RESULTS.read_text("utf-8"))
