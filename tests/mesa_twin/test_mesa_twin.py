"""The `mesa-example` preset against Mesa's own model: outcome distributions.

Mesa's outcomes are pinned in ``mesa_outcomes.json``, recorded from Mesa's example by
the command stored in it (``record_mesa.py``, run in Mesa's own virtual environment);
this test runs ours on the same setting and seeds' count and compares the per-seed
mean actives and mean jailed over ticks 1 … 200 (Mann–Whitney U, two-sided). The two
engines draw their random numbers differently, so runs are compared as distributions,
not seed by seed. The setting (Epstein's run-2 legitimacy, cop density and jail terms
with every other choice Mesa's) has repeated outbursts in both.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from scipy.stats import mannwhitneyu

import upheaval
from upheaval.engine.simulation import Simulation

PINS = json.loads((Path(__file__).parent / "mesa_outcomes.json").read_text())
#: A drift this test must catch: the distributions differ at this level.
ALPHA = 0.01


def ours(**changes: float) -> list[dict[str, float]]:
    over = {
        "world.width": PINS["width"],
        "world.height": PINS["height"],
        "citizens.legitimacy": PINS["legitimacy"],
        "population.cop_density": PINS["cop_density"],
        "jail.max_jail_term": PINS["max_jail_term"],
        **changes,
    }
    sc = upheaval.apply_overrides(upheaval.load("mesa-example"), over)
    out = []
    for seed in range(1, len(PINS["runs"]) + 1):
        t = Simulation(sc, seed=seed).run(PINS["ticks"]).table().to_pydict()
        active = [a + b for a, b in zip(t["active_blue"], t["active_green"], strict=True)][1:]
        jailed = [a + b for a, b in zip(t["jailed_blue"], t["jailed_green"], strict=True)][1:]
        out.append(
            {
                "mean_active": statistics.fmean(active),
                "mean_jailed": statistics.fmean(jailed),
                "outburst_ticks": sum(a >= PINS["outburst_threshold"] for a in active),
            }
        )
    return out


def p_values(runs: list[dict[str, float]]) -> dict[str, float]:
    return {
        key: mannwhitneyu(
            [r[key] for r in runs], [r[key] for r in PINS["runs"]], alternative="two-sided"
        ).pvalue
        for key in ("mean_active", "mean_jailed")
    }


@pytest.fixture(scope="module")
def twin():
    return ours()


def test_the_pinned_setting_has_outbursts_in_both():
    assert len(PINS["runs"]) >= 20
    with_outbursts = sum(r["outburst_ticks"] > 0 for r in PINS["runs"])
    assert with_outbursts >= 0.75 * len(PINS["runs"]), "Mesa's runs must have outbursts"


@pytest.mark.slow
def test_mesa_example_matches_mesa_outcomes(twin):
    assert sum(r["outburst_ticks"] > 0 for r in twin) >= 0.75 * len(twin)
    p = p_values(twin)
    assert min(p.values()) > ALPHA, p


@pytest.mark.slow
def test_the_comparison_catches_a_drifted_twin():
    # One of Mesa's rule choices replaced by NetLogo's (C/A floored instead of rounded
    # half to even) must be visible. The comparison has limits: measured when this
    # test was written, jail terms of 40 instead of 30 gave p = 0.013 (actives), and
    # counting the agent itself in A, or jailed citizens leaving their site, were not
    # distinguishable from Mesa at all on these two means over 20 seeds.
    p = p_values(ours(**{"citizens.ratio_rule": "floor"}))
    assert min(p.values()) < ALPHA, p
