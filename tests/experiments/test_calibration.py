"""ABC-SMC calibration: parameter recovery, determinism, observed data, the CLI."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import upheaval
from upheaval.engine.simulation import Simulation
from upheaval.experiments import SerialExecutor, parse_factor
from upheaval.experiments.calibration import (
    CalibrationError,
    calibrate,
    weighted_quantile,
    write_result,
)
from upheaval.experiments.summary_stats import (
    STATISTICS,
    Observed,
    ObservedError,
    events_statistics,
    load_observed,
    run_statistics,
)
from upheaval.scenario.loading import apply_overrides

SIZE, STEPS, THRESHOLD = 20, 100, 14  # 280 citizens; an outburst is 5 % of them
TRUE = {"legitimacy": 0.8, "cop_density": 0.04}
PRIOR = {"legitimacy": (0.7, 0.9), "cop_density": (0.02, 0.08)}


def small_run2():
    return apply_overrides(
        upheaval.load("epstein2002-run2"), {"world.width": SIZE, "world.height": SIZE}
    )


@pytest.fixture(scope="module")
def recovery(tmp_path_factory):
    sc = small_run2()
    sim = Simulation(apply_overrides(sc, TRUE), seed=12345).run(STEPS)
    obs = Observed("truth", "run", run_statistics(sim.table(), THRESHOLD), tuple(STATISTICS))
    factors = [parse_factor(f"{k}={lo}:{hi}") for k, (lo, hi) in PRIOR.items()]
    out = tmp_path_factory.mktemp("abc")
    res = calibrate(
        sc,
        obs,
        factors,
        out,
        particles=100,
        generations=4,
        steps=STEPS,
        seed=7,
        executor=SerialExecutor(),
        threshold=THRESHOLD,
    )
    return res


def test_recovery_covers_true_values_and_narrows_the_prior(recovery):
    res = recovery
    assert len(res.populations) == 4
    for name, truth in TRUE.items():
        lo, hi = res.credible_interval(name, 0.9)
        assert lo <= truth <= hi, (name, lo, hi)
        plo, phi = PRIOR[name]
        prior_sd = (phi - plo) / np.sqrt(12)
        row = res.summary_table().set_index("parameter").loc[name]
        assert row["sd"] < prior_sd, (name, row["sd"], prior_sd)
    # cop density is well identified by arrests and jailed counts
    row = res.summary_table().set_index("parameter").loc["cop_density"]
    assert row["sd"] < 0.6 * (0.06 / np.sqrt(12))
    eps = [p.epsilon for p in res.populations]
    assert eps[0] == np.inf and all(a > b for a, b in itertools.pairwise(eps))
    for p in res.populations:
        assert np.isclose(p.weights.sum(), 1.0)
        assert 1 <= p.ess <= len(p.weights)
        assert np.all(p.distances[1:] >= 0)
        if p.generation:
            assert np.all(p.distances <= p.epsilon)


def test_result_tables_are_written(recovery):
    paths = write_result(recovery)
    import pandas as pd

    parts = pd.read_parquet(paths["particles"])
    assert set(parts["generation"]) == {0, 1, 2, 3}
    assert {"legitimacy", "cop_density", "weight", "distance", "stat_arrests"} <= set(parts)
    post = pd.read_csv(paths["posterior"])
    assert list(post["parameter"]) == ["legitimacy", "cop_density"]
    assert {"mean", "q5", "q95", "ess"} <= set(post)
    gens = pd.read_csv(paths["generations"])
    assert (gens["simulations"] >= gens["accepted"]).all()


def test_same_seed_same_posterior_and_resume(tmp_path):
    sc = small_run2()
    obs = Observed(
        "x",
        "run",
        run_statistics(Simulation(sc, seed=1).run(30).table(), THRESHOLD),
        tuple(STATISTICS),
    )
    f = [parse_factor("legitimacy=0.7:0.9")]
    kw = dict(
        particles=10,
        generations=2,
        steps=30,
        seed=3,
        executor=SerialExecutor(),
        threshold=THRESHOLD,
    )
    a = calibrate(sc, obs, f, tmp_path / "a", **kw)
    b = calibrate(sc, obs, f, tmp_path / "b", **kw)
    again = calibrate(sc, obs, f, tmp_path / "a", **kw)  # resumes: every round is on disk
    for x in (b, again):
        assert np.array_equal(a.posterior.theta, x.posterior.theta)
        assert np.array_equal(a.posterior.weights, x.posterior.weights)
    with pytest.raises(CalibrationError, match="different calibration"):
        calibrate(sc, obs, f, tmp_path / "a", **{**kw, "particles": 12})


def test_weighted_quantile():
    v = np.array([3.0, 1.0, 2.0])
    assert weighted_quantile(v, np.ones(3), 0.5) == 2.0
    assert weighted_quantile(v, np.array([0.0, 0.0, 1.0]), 0.5) == 2.0


def test_run_statistics_by_hand():
    from upheaval.model.ticks import COLUMNS, TickRow, tick_table

    rows = []
    actives = [0, 5, 20, 30, 10, 25, 0]
    for t, a in enumerate(actives):
        r = dict.fromkeys(COLUMNS, 0)
        r.update(tick=t, active_blue=a, arrests=1 if t else 0, killed_by_cops=2 if t == 3 else 0)
        r.update(cops_killed=1 if t == 4 else 0)  # deaths are counted on both sides
        rows.append(TickRow(**r))
    s = run_statistics(tick_table(rows), threshold=20)
    assert s["peak_active"] == 30 and s["peak_tick"] == 3
    assert s["unrest_onset"] == 2 and s["unrest_duration"] == 4  # ticks 2…5
    assert s["peak_after_onset"] == 1 and s["deaths"] == 3 and s["arrests"] == 6
    quiet = run_statistics(tick_table(rows), threshold=100)
    assert quiet["unrest_onset"] == 7 and quiet["unrest_duration"] == 0


def test_kz2022_events_mapping():
    path = "/work/shared/data/kz2022/events.csv"
    import os

    if not os.path.exists(path):
        pytest.skip("kz2022 dataset not present")
    obs = events_statistics(path, tick_days=0.5)
    assert obs.kind == "events" and obs.comparable == ("unrest_duration", "peak_after_onset")
    assert "deaths" not in obs.statistics  # the file has no fatalities column
    # Unrest events run from 2 Jan; the busiest day is 5 Jan: 3 days after, 6 ticks.
    assert obs.statistics["peak_after_onset"] == 6.0
    assert obs.statistics["unrest_duration"] > 0


def test_events_csv_with_fatalities_and_errors(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text(
        "date,location,event_type,fatalities\n2022-01-02,A,Protests,0\n2022-01-03,A,Riots,2\n"
        "2022-01-03,B,Riots,1\n2022-01-05,A,Protests,0\n2022-01-06,A,Strategic developments,4\n"
    )
    obs = load_observed(p)
    assert obs.statistics == {"unrest_duration": 4.0, "peak_after_onset": 1.0, "deaths": 7.0}
    bad = tmp_path / "bad.csv"
    bad.write_text("day,event_type\n2022-01-02,protest\n")
    with pytest.raises(ObservedError, match="no column 'date'"):
        load_observed(bad)
    bad.write_text("date,event_type,fatalities\n2022-01-02,protest,many\n")
    with pytest.raises(ObservedError, match="column 'fatalities'"):
        load_observed(bad)
    with pytest.raises(ObservedError, match="no such file"):
        load_observed(tmp_path / "missing.csv")


def test_cli_calibrate_smoke_and_errors(tmp_path):
    from typer.testing import CliRunner

    from upheaval.cli import app

    runner = CliRunner()
    small = ["--set", "world.width=16", "--set", "world.height=16"]
    run_dir = tmp_path / "obs"
    r = runner.invoke(app, ["run", "epstein2002-run2", *small, "-n", "30", "--out", str(run_dir)])
    assert r.exit_code == 0, r.output
    out = tmp_path / "cal"
    args = [
        "calibrate",
        "epstein2002-run2",
        *small,
        "--observed",
        str(run_dir),
        "-p",
        "legitimacy=0.7:0.9",
        "--particles",
        "8",
        "--generations",
        "2",
        "-n",
        "30",
        "--threshold",
        "9",
        "--workers",
        "1",
        "--out",
        str(out),
    ]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    for name in ("posterior.csv", "particles.parquet", "generations.csv", "posterior.png"):
        assert (out / name).is_file(), name
    assert "legitimacy" in (out / "posterior.csv").read_text()

    bad = tmp_path / "bad.csv"
    bad.write_text("when,event_type\n2022-01-01,protest\n")
    r = runner.invoke(app, [*args[:6], "--observed", str(bad), *args[8:]])
    assert r.exit_code == 2
    assert "no column 'date'" in r.output and len(r.output.strip().splitlines()) == 1
    r = runner.invoke(app, [*args, "--stat", "nonsense", "--force"])
    assert r.exit_code == 2 and "unknown statistic 'nonsense'" in r.output
