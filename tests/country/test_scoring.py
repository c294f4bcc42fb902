"""The onset scores of upheaval.experiments.scoring against hand-computed values,
and `upheaval score`'s one-line errors."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from upheaval.cli import app
from upheaval.experiments.scoring import (
    Ensemble,
    Observations,
    ScoringError,
    baselines,
    crps_ensemble,
    ensemble_from_tables,
    score,
    score_ensemble,
    spearman_rho,
)

START = "2022-01-01T18:00Z"


def brute_crps(y: float, x: np.ndarray) -> float:
    return float(np.mean(np.abs(x - y)) - 0.5 * np.mean(np.abs(x[:, None] - x[None, :])))


def test_crps_of_known_ensembles():
    # {1, 2, 3} at 2: E|X − y| = 2/3, E|X − X′| = 8/9 → 2/3 − 4/9 = 2/9
    assert crps_ensemble(2.0, [1.0, 2.0, 3.0]) == pytest.approx(2 / 9)
    # one member: the absolute error
    assert crps_ensemble(5.0, [2.0]) == pytest.approx(3.0)
    # a point mass away from y: the distance
    assert crps_ensemble(1.0, [0.0, 0.0]) == pytest.approx(1.0)
    # {0, 10} at 0: 5 − ½·5 = 2.5
    assert crps_ensemble(0.0, [10.0, 0.0]) == pytest.approx(2.5)


def test_crps_equals_the_double_sum_and_the_normal_closed_form():
    rng = np.random.default_rng(3)
    for m in (2, 5, 31):
        x = rng.normal(size=m) * 10
        assert crps_ensemble(1.7, x) == pytest.approx(brute_crps(1.7, x), rel=1e-12)
    # a large N(0, 1) ensemble → the closed form at y = 0: 2φ(0) − 1/√π
    x = np.sort(rng.normal(size=20000))
    exact = 2 / math.sqrt(2 * math.pi) - 1 / math.sqrt(math.pi)
    assert crps_ensemble(0.0, x) == pytest.approx(exact, abs=0.01)


def test_crps_refuses_empty_or_nan():
    with pytest.raises(ScoringError):
        crps_ensemble(1.0, [])
    with pytest.raises(ScoringError):
        crps_ensemble(1.0, [np.nan, 1.0])


def test_spearman_by_hand():
    assert spearman_rho([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman_rho([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ties: ranks (1, 2, 3) vs (1.5, 1.5, 3): cov 1.5 / √(2 · 1.5) = 0.866
    assert spearman_rho([1, 2, 3], [1, 1, 2]) == pytest.approx(1.5 / math.sqrt(3))
    assert math.isnan(spearman_rho([1, 2, 3], [5, 5, 5]))


def obs3() -> Observations:
    return Observations.from_dict(
        {
            "run_start_utc": START,
            "places": {
                "A": {
                    "protest": "yes",
                    "first_protest_utc": "2022-01-02T04:00Z",
                    "population": 1000,
                    "lat": 43.0,
                    "lon": 52.0,
                },
                "B": {
                    "protest": "yes",
                    "first_protest_utc": "2022-01-02T08:00Z",
                    "population": 5000,
                    "lat": 43.0,
                    "lon": 60.0,
                },
                "C": {
                    "protest": "yes",
                    "first_protest_utc": "2022-01-02T18:00Z",
                    "population": 3000,
                    "lat": 43.0,
                    "lon": 56.0,
                },
                "D": {
                    "protest": "unknown",
                    "first_protest_utc": None,
                    "population": 100,
                    "lat": 50.0,
                    "lon": 52.0,
                },
            },
        }
    )


def test_score_by_hand():
    obs = obs3()  # observed hours: A 10, B 14, C 24
    assert obs.onset_hours == {"A": 10.0, "B": 14.0, "C": 24.0, "D": None}
    fc = {
        "A": np.array([8.0, 10.0, 12.0]),  # median 10, error 0
        "B": np.array([20.0, 20.0, 20.0]),  # median 20, error +6, not covered
        "C": np.array([10.0, 20.0, 30.0]),  # median 20, error −4, covered
        "D": np.array([5.0, 5.0, 5.0]),
    }
    s = score("m", fc, obs, {"A": 1.0, "B": 1.0, "C": 0.0, "D": 1.0})
    rows = {r.place: r for r in s.places}
    assert [rows[p].error for p in "ABC"] == [0.0, 6.0, -4.0]
    assert s.median_abs_error == 4.0
    assert rows["A"].crps == pytest.approx(crps_ensemble(10.0, fc["A"]))
    assert s.mean_crps == pytest.approx(
        np.mean([crps_ensemble(y, fc[p]) for p, y in (("A", 10), ("B", 14), ("C", 24))])
    )
    assert [rows[p].covered for p in "ABC"] == [True, False, True]
    assert s.coverage == pytest.approx(2 / 3)
    # medians 10, 20, 20 vs observed 10, 14, 24: ranks (1, 2.5, 2.5) vs (1, 2, 3)
    assert s.spearman == pytest.approx(spearman_rho([10, 14, 24], [10, 20, 20]))
    assert s.hits == {
        "hit": 2,
        "miss": 1,
        "false_alarm": 0,
        "quiet": 0,
        "unknown_protest": 1,
        "unknown_quiet": 0,
    }


def table(rows: list[tuple[int, str, int, int]]) -> pa.Table:
    """A minimal tick table: tick, place, quiet and active (blue); the rest 0."""
    cols: dict[str, list] = {"tick": [], "place": []}
    names = [
        "quiet_blue",
        "active_blue",
        "jailed_blue",
        "quiet_green",
        "active_green",
        "jailed_green",
        "cops",
        "arrests",
        "killed_by_cops",
        "cops_killed",
    ]
    for n in names:
        cols[n] = []
    for tick, place, quiet, active in rows:
        cols["tick"].append(tick)
        cols["place"].append(place)
        for n in names:
            cols[n].append({"quiet_blue": quiet, "active_blue": active}.get(n, 0))
    return pa.table(cols)


def test_ensemble_from_tick_tables_and_censoring():
    t1 = table(
        [
            (0, "A", 100, 0),
            (0, "B", 100, 0),
            (1, "A", 97, 3),
            (1, "B", 100, 0),
            (2, "A", 90, 10),
            (2, "B", 99, 1),
        ]
    )  # A onset tick 1 (3 % ≥ 2 %); B none
    t2 = table(
        [
            (0, "A", 100, 0),
            (0, "B", 100, 0),
            (1, "A", 100, 0),
            (1, "B", 100, 0),
            (2, "A", 98, 2),
            (2, "B", 95, 5),
        ]
    )  # A tick 2; B tick 2
    start = datetime(2022, 1, 1, 18, tzinfo=UTC)
    run_start = datetime(2022, 1, 1, 20, tzinfo=UTC)  # 2 h later: onsets shift by 2
    ens = ensemble_from_tables([t1, t2], start, run_start, 60, steps=2)
    assert ens.onsets == {"A": [3.0, 4.0], "B": [None, 4.0]}
    assert ens.horizon_hours == 4.0
    assert list(ens.members("B")) == [4.0, 4.0]
    assert ens.onset_share("B") == 0.5


def test_baselines_by_hand():
    obs = obs3()
    b = {s.name: s for s in baselines(obs, origin="A")}
    med = b["null: median observed onset"]  # 14 for every place
    assert med.median_abs_error == 4.0  # |14−10|, 0, |14−24|=10 → median 4
    assert med.mean_crps == pytest.approx((4 + 0 + 10) / 3)
    assert med.coverage is None  # a point forecast has no interval
    dist = b["order by distance from A"]  # A (0 km), C, B, D: times 10, 14, 24, 24
    rows = {r.place: r.median for r in dist.places}
    assert rows == {"A": 10.0, "C": 14.0, "B": 24.0, "D": 24.0}
    assert dist.spearman == pytest.approx(0.5)
    pop = b["order by population"]  # B, C, A, D
    assert {r.place: r.median for r in pop.places} == {"B": 10.0, "C": 14.0, "A": 24.0, "D": 24.0}
    at_once = b["null: all on 4 Jan noon (UTC+6)"]  # 4 Jan 06:00Z = 60 h
    assert {r.median for r in at_once.places} == {60.0}


def test_score_ensemble_uses_censored_members():
    obs = obs3()
    ens = Ensemble(
        {"A": [10.0, None], "B": [14.0, 14.0], "C": [24.0, 24.0], "D": [None, None]},
        horizon_hours=50.0,
    )
    s = score_ensemble(ens, obs)
    a = next(r for r in s.places if r.place == "A")
    assert a.crps == pytest.approx(crps_ensemble(10.0, [10.0, 50.0]))
    assert a.onset_share == 0.5
    assert s.hits["miss"] == 0 and s.hits["unknown_quiet"] == 1


def test_cli_score_bad_inputs_are_one_line(tmp_path):
    r = CliRunner().invoke(app, ["score", str(tmp_path / "nope")])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        f"error: {tmp_path / 'nope'}: not a run directory (manifest.json missing)"
    ]
    bad = tmp_path / "observed.json"
    bad.write_text('{"run_start_utc": 1,\n oops}', "utf-8")
    r = CliRunner().invoke(app, ["score", str(tmp_path), "--observed", str(bad)])
    assert r.exit_code == 2
    assert r.output.strip().startswith(f"error: {bad}: line 2, column 2:")


def test_cli_scores_run_directories(tmp_path):
    """Two short runs of the worked three-town example, against an observed.json
    of those towns: the table prints and the JSON has the model and baselines."""
    from pathlib import Path

    ex = (
        Path(__file__).resolve().parents[2]
        / "docs"
        / "examples"
        / "three-towns"
        / "three-towns.toml"
    )
    runner = CliRunner()
    for seed in (1, 2):
        r = runner.invoke(
            app,
            [
                "run",
                str(ex),
                "--steps",
                "6",
                "--seed",
                str(seed),
                "--out",
                str(tmp_path / f"s{seed}"),
                "--no-figure",
                "--no-progress",
            ],
        )
        assert r.exit_code == 0, r.output
    obs = {
        "run_start_utc": "2022-01-02T00:00Z",
        "places": {
            "Zhanaozen": {
                "protest": "yes",
                "first_protest_utc": "2022-01-02T07:00Z",
                "population": 150000,
                "lat": 43.34,
                "lon": 52.86,
            },
            "Aktau": {
                "protest": "yes",
                "first_protest_utc": "2022-01-02T19:58Z",
                "population": 180000,
                "lat": 43.65,
                "lon": 51.16,
            },
            "Atyrau": {
                "protest": "yes",
                "first_protest_utc": "2022-01-04T09:03Z",
                "population": 300000,
                "lat": 47.11,
                "lon": 51.92,
            },
        },
    }
    (tmp_path / "obs.json").write_text(json.dumps(obs), "utf-8")
    out = tmp_path / "scores.json"
    r = runner.invoke(
        app,
        [
            "score",
            str(tmp_path / "s1"),
            str(tmp_path / "s2"),
            "--observed",
            str(tmp_path / "obs.json"),
            "--json",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "2 replicates" in r.output and "order by distance from Zhanaozen" in r.output
    doc = json.loads(out.read_text("utf-8"))
    assert doc["model"]["replicates"] == 2 and len(doc["baselines"]) == 4
    # docs/places.md: Zhanaozen's onset is tick 1 (seed 1) → 1 h after the start;
    # observed 7 h → error −6 if both seeds agree
    zh = next(p for p in doc["model"]["places"] if p["place"] == "Zhanaozen")
    assert zh["observed"] == 7.0 and zh["median"] <= 2.0


def test_cli_score_refuses_a_one_lattice_run(tmp_path):
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "run",
            "epstein2002-run1",
            "--steps",
            "2",
            "--out",
            str(tmp_path / "one"),
            "--no-figure",
            "--no-progress",
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["score", str(tmp_path / "one")])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        f"error: {tmp_path / 'one'}: not a country run (manifest.json has no country)"
    ]
