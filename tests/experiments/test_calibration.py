"""ABC-SMC calibration: parameter recovery, determinism, observed data, the CLI."""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

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

SIZE, STEPS, THRESHOLD = 20, 100, 14  # 280 citizens; an outburst is 5 % of them


def _study():
    path = Path(__file__).resolve().parents[2] / "scripts" / "calibration_study.py"
    spec = importlib.util.spec_from_file_location("calibration_study", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


study = _study()
#: Off-centre truths (the priors' centres are 0.8 and 0.05): a posterior that learned
#: nothing is centred on the wrong values and as wide as the prior.
TRUE = study.TRUTH
PRIOR = study.PRIOR
RECORD = json.loads(study.RECORD.read_text()) if study.RECORD.is_file() else {}
#: How much narrower than the prior's a 90 % interval must be, and how much smaller the
#: joint spread (sqrt(det Σ_post / det Σ_prior)); 1 is a posterior that learned nothing.
MAX_WIDTH = {"legitimacy": 0.85, "cop_density": 0.75}
MAX_AREA = 0.6


def small_run2():
    return study.scenario(SIZE)


@pytest.fixture(scope="module")
def recovery(tmp_path_factory):
    s = study.SMALL
    obs = study.observe(TRUE, study.OBSERVED_SEEDS[0], s["size"], s["steps"], s["threshold"])
    factors = [parse_factor(f"{k}={lo}:{hi}") for k, (lo, hi) in PRIOR.items()]
    out = tmp_path_factory.mktemp("abc")
    res = calibrate(
        small_run2(),
        obs,
        factors,
        out,
        particles=s["particles"],
        generations=s["generations"],
        steps=s["steps"],
        seed=7,
        executor=SerialExecutor(),
        threshold=s["threshold"],
    )
    return res


def assert_learned(summary: dict) -> None:
    """Covers the off-centre truths with intervals and a joint spread well below the
    prior's: fails on a posterior that learned nothing."""
    for name, p in summary["params"].items():
        assert p["covered"], (name, p)
        assert p["width_vs_prior"] < MAX_WIDTH[name], (name, p["width_vs_prior"])
        assert p["sd"] < p["prior_sd"], (name, p)
    assert summary["area_vs_prior"] < MAX_AREA, summary["area_vs_prior"]


def test_recovery_covers_off_centre_truths_and_narrows_the_prior(recovery):
    res = recovery
    assert len(res.populations) == 4
    summary = study.summarise(res, TRUE, study.OBSERVED_SEEDS[0], 0.0)
    assert_learned(summary)
    # cop density is pulled from the prior's centre towards its truth
    cop = summary["params"]["cop_density"]
    assert abs(cop["mean"] - TRUE["cop_density"]) < abs(0.05 - TRUE["cop_density"]) / 2
    eps = [p.epsilon for p in res.populations]
    assert eps[0] == np.inf and all(a > b for a, b in itertools.pairwise(eps))
    for p in res.populations:
        assert np.isclose(p.weights.sum(), 1.0)
        assert 1 <= p.ess <= len(p.weights)
        assert np.all(p.distances[1:] >= 0)
        if p.generation:
            assert np.all(p.distances <= p.epsilon)


def test_the_prior_itself_fails_the_recovery_check():
    # The check above is not vacuous: the prior, as a posterior, fails it.
    prior = {
        "params": {
            name: {
                "covered": True,
                "width_vs_prior": 1.0,
                "sd": (hi - lo) / np.sqrt(12),
                "prior_sd": (hi - lo) / np.sqrt(12),
            }
            for name, (lo, hi) in PRIOR.items()
        },
        "area_vs_prior": 1.0,
    }
    with pytest.raises(AssertionError):
        assert_learned(prior)


def test_recorded_recovery_is_this_calibration(recovery):
    # docs/calibration.md's first table comes from the record; the same calibration
    # rerun here (same seeds) gives the same posterior, so the doc cannot drift from it.
    assert RECORD.get("small"), "run: python scripts/calibration_study.py --rerun"
    recorded = RECORD["small"]["runs"][0]
    assert recorded["observed_seed"] == study.OBSERVED_SEEDS[0]
    got = study.summarise(recovery, TRUE, study.OBSERVED_SEEDS[0], 0.0)
    for name, p in got["params"].items():
        for key in ("mean", "sd", "q5", "q95"):
            assert p[key] == pytest.approx(recorded["params"][name][key], rel=1e-9), (name, key)
    assert got["runs"] == recorded["runs"]


def test_calibration_doc_matches_its_record():
    assert study.main(["--check"]) == 0, "run: python scripts/calibration_study.py"


@pytest.mark.slow
@pytest.mark.parametrize("obs_seed", study.OBSERVED_SEEDS[1:])
def test_recovery_for_other_observed_seeds(obs_seed):
    got = study.recover(TRUE, obs_seed, study.SMALL)
    assert_learned(got)
    recorded = next(r for r in RECORD["small"]["runs"] if r["observed_seed"] == obs_seed)
    for name in PRIOR:  # the same calibration as docs/calibration.md's record
        for key in ("mean", "sd", "q5", "q95"):
            want = recorded["params"][name][key]
            assert got["params"][name][key] == pytest.approx(want, rel=1e-9), (name, key)


@pytest.mark.slow
def test_simulation_based_calibration_coverage():
    """SBC over truths from the prior: the 90 % intervals cover their truths as often as
    a calibrated posterior's would (binomial, 1 % two-sided), and are narrower than the
    prior's on average (the prior alone would pass the coverage)."""
    from scipy.stats import binom

    result = study.sbc(study.SBC_TRUTHS, study.SBC)
    n = result["truths"]
    assert n >= 20
    lo, hi = binom.ppf(0.005, n, 0.9), binom.ppf(0.995, n, 0.9)
    for name in PRIOR:
        covered = round(result["coverage_90"][name] * n)
        assert lo <= covered <= hi, (name, covered, (lo, hi))
        assert result["mean_width_vs_prior"][name] < MAX_WIDTH[name], name
    assert result["mean_area_vs_prior"] < MAX_AREA
    # the same study as docs/calibration.md's record
    assert result["coverage_90"] == RECORD["sbc"]["coverage_90"]


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
