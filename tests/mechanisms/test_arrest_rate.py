"""Evidence for ``cops.arrest_rate`` (docs/odd.md §7.3): the rate thins the arrests.

Parity with the reference twin is in tests/mechanisms/test_parity.py and
tests/country/test_engine.py; a rate of 1 draws nothing more (the golden runs).
"""

from __future__ import annotations

import warnings

import numpy as np

import upheaval
from upheaval.scenario.loading import apply_overrides


def _run(q: float, seed: int, steps: int = 200):
    sc = apply_overrides(
        upheaval.load("epstein2002-run1"), {"cops.arrest_rate": q, "run.steps": steps}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return upheaval.Simulation(sc, seed=seed).run().table()


def _arrests_per_active_tick(q: float) -> float:
    rates = []
    for seed in range(5):
        t = _run(q, seed)
        arrests = np.asarray(t.column("arrests"))[1:].sum()
        actives = np.asarray(t.column("active_blue"))[:-1].sum()
        rates.append(arrests / actives)
    return float(np.mean(rates))


def test_a_lower_rate_arrests_fewer_of_the_actives():
    # run 1, 5 seeds × 200 ticks: arrests per active citizen and tick fall with q
    # (measured 0.098, 0.056, 0.028, 0.015 for q = 1, 0.5, 0.2, 0.1); they fall less
    # than q itself, since a cop acts on one active whatever the crowd it sees
    rates = {q: _arrests_per_active_tick(q) for q in (1.0, 0.5, 0.2, 0.1)}
    assert rates[1.0] > rates[0.5] > rates[0.2] > rates[0.1] > 0, rates
    for q in (0.5, 0.2, 0.1):
        assert rates[q] / rates[1.0] >= q, rates


def test_a_rate_of_zero_arrests_nobody():
    t = _run(0.0, seed=3, steps=60)
    assert sum(t.column("arrests").to_pylist()) == 0
    assert max(t.column("active_blue").to_pylist()) > 0  # there were actives to arrest
