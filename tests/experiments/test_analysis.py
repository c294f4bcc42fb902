"""Sensitivity indices on a function with known indices; PRIM on a known box; EMA export."""

from __future__ import annotations

import math

import numpy as np
import pytest
from SALib.test_functions import Ishigami

from upheaval.experiments import SerialExecutor, designs, run_sweep
from upheaval.experiments.designs import Factor, parse_factor
from upheaval.experiments.discovery import discover, prim, to_ema
from upheaval.experiments.sensitivity import (
    SensitivityError,
    analyse_sweep,
    morris_indices,
    sobol_indices,
)

PI = math.pi


def _ishigami_analytic(a=7.0, b=0.1):
    v = a**2 / 8 + b * PI**4 / 5 + b**2 * PI**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * PI**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * PI**8 * (1 / 18 - 1 / 50)
    return {"S1": [v1 / v, v2 / v, 0.0], "ST": [(v1 + v13) / v, v2 / v, v13 / v]}


def test_sobol_indices_of_ishigami_match_the_analytical_values():
    factors = [Factor(name=f"x{i}", kind="float", low=-PI, high=PI) for i in (1, 2, 3)]
    d = designs.sobol(factors, samples=2048, seed=1)
    X = np.column_stack([d.points[f"x{i}"] for i in (1, 2, 3)])
    Y = Ishigami.evaluate(X)
    t = sobol_indices(d.problem(), Y, output="ishigami", resamples=200)
    want = _ishigami_analytic()
    for idx in ("S1", "ST"):
        rows = t[t["index"] == idx]
        got = rows["value"].to_numpy()
        conf = rows["conf"].to_numpy()
        assert got == pytest.approx(want[idx], abs=0.04), idx
        assert np.all(conf > 0) and np.all(conf < 0.1)
    s2 = t[(t["index"] == "S2") & (t["parameter"] == "x1×x3")]["value"].iloc[0]
    assert s2 == pytest.approx(_ishigami_analytic()["ST"][2], abs=0.06)


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_sobol_confidence_intervals_are_the_same_on_every_call(seed):
    # SALib reads a seed of 0 as "no seed"; the intervals (bootstrap) must still be
    # reproducible for seed 0, the default of `upheaval sensitivity`.
    factors = [Factor(name=f"x{i}", kind="float", low=-PI, high=PI) for i in (1, 2, 3)]
    d = designs.sobol(factors, samples=64, seed=1)
    X = np.column_stack([d.points[f"x{i}"] for i in (1, 2, 3)])
    Y = Ishigami.evaluate(X)
    np.random.seed(99)  # SALib's unseeded path draws from numpy's global generator
    first = sobol_indices(d.problem(), Y, resamples=50, seed=seed)
    second = sobol_indices(d.problem(), Y, resamples=50, seed=seed)
    assert first.equals(second)
    other = sobol_indices(d.problem(), Y, resamples=50, seed=seed + 1)
    assert not np.array_equal(first["conf"].to_numpy(), other["conf"].to_numpy())


def test_morris_effects_of_a_linear_function():
    # y = 3 x1 − x2 (+ 0 x3): every elementary effect of x1 is 3× that of x2, with no
    # spread; x3 has none.
    factors = [Factor(name=f"x{i}", kind="float", low=0.0, high=2.0) for i in (1, 2, 3)]
    d = designs.morris(factors, samples=20, seed=2, levels=4)
    Y = 3 * d.samples[:, 0] - d.samples[:, 1]
    t = morris_indices(d.problem(), d.samples, Y, levels=4, resamples=200)
    mu_star = t[t["index"] == "mu_star"].set_index("parameter")["value"]
    mu = t[t["index"] == "mu"].set_index("parameter")["value"]
    sigma = t[t["index"] == "sigma"].set_index("parameter")["value"]
    assert mu_star["x1"] == pytest.approx(3 * mu_star["x2"])
    assert mu["x2"] == pytest.approx(-mu_star["x2"])
    assert mu_star["x3"] == 0.0
    assert sigma.to_numpy() == pytest.approx([0, 0, 0], abs=1e-9)


def test_sobol_rejects_missing_and_constant_outputs():
    problem = {"num_vars": 1, "names": ["a"], "bounds": [[0, 1]]}
    with pytest.raises(SensitivityError, match="no value"):
        sobol_indices(problem, np.array([1.0, np.nan, 2.0, 3.0]))
    with pytest.raises(SensitivityError, match="constant"):
        sobol_indices(problem, np.ones(8), second_order=False)


def test_prim_finds_a_known_box():
    rng = np.random.default_rng(0)
    n = 4000
    X = {"a": rng.uniform(0, 1, n), "b": rng.uniform(0, 10, n), "noise": rng.uniform(-1, 1, n)}
    inside = (X["a"] > 0.6) & (X["b"] < 3.0)
    y = inside | (rng.uniform(size=n) < 0.02)  # a few stray runs of interest outside
    box = prim(X, y, threshold=0.9)
    assert set(box.restricted) == {"a", "b"}
    assert box.limits["a"][0] == pytest.approx(0.6, abs=0.05)
    assert box.limits["b"][1] == pytest.approx(3.0, abs=0.3)
    assert box.density >= 0.9 and box.coverage >= 0.8
    assert box.trajectory[0]["mass"] == 1.0
    assert np.all(np.diff([t["mass"] for t in box.trajectory]) < 0)
    assert box.contains(X).sum() == pytest.approx(box.mass * n)


def test_prim_rejects_bad_input():
    with pytest.raises(ValueError, match="nothing to find"):
        prim({"a": np.arange(5.0)}, np.zeros(5, bool))
    with pytest.raises(ValueError, match="must match"):
        prim({"a": np.arange(5.0)}, np.ones(4, bool))


def test_sweep_analysis_discovery_and_ema_export(tmp_path, small_scenario):
    fs = [parse_factor("legitimacy=0.5:0.95"), parse_factor("threshold=0:0.2")]
    d = designs.sobol(fs, samples=8, second_order=False, replicates=1)
    out = tmp_path / "s"
    run_sweep(small_scenario, d, out, steps=20, executor=SerialExecutor(), keep_ticks=True)
    t = analyse_sweep(out, ["peak_active", "arrests"], resamples=100)
    assert set(t["output"]) == {"peak_active", "arrests"}
    st = t[(t["output"] == "peak_active") & (t["index"] == "ST")].set_index("parameter")
    # legitimacy moves grievance over its whole range; it dominates peak actives
    assert st.loc["legitimacy", "value"] > st.loc["threshold", "value"]
    experiments, outcomes = to_ema(out)
    assert len(experiments) == d.n_runs
    assert {"legitimacy", "threshold", "scenario", "policy", "model"} <= set(experiments.columns)
    assert outcomes["peak_active"].shape == (d.n_runs,)
    assert outcomes["active"].shape == (d.n_runs, 21)
    assert np.array_equal(outcomes["active"].max(axis=1), outcomes["peak_active"])
    box = discover(out, "peak_active", above=float(np.median(outcomes["peak_active"])))
    assert "legitimacy" in box.restricted
    assert box.limits["legitimacy"][1] < 0.95  # uprisings need low legitimacy
    with pytest.raises(SensitivityError, match="no summary column"):
        analyse_sweep(out, ["peak"])
    grid_out = tmp_path / "g"
    run_sweep(
        small_scenario, designs.grid(fs, levels=2), grid_out, steps=5, executor=SerialExecutor()
    )
    with pytest.raises(SensitivityError, match="need --design sobol or morris"):
        analyse_sweep(grid_out)
