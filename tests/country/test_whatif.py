"""``upheaval compare`` over a posterior, with a country's outcomes (issue 10 §3):
pairing of (draw, seed) across variants, resampling by weight, bad posterior files,
country outcomes on a hand-made table, timed variants, and the CLI end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from upheaval.experiments import SerialExecutor
from upheaval.experiments.compare import (
    BASELINE,
    VariantError,
    bootstrap_table,
    compare,
    make_variant,
    write_comparison,
)
from upheaval.experiments.posterior import (
    PosteriorError,
    load_posterior,
    resample_draws,
)
from upheaval.experiments.store import StoreError
from upheaval.model.ticks import COLUMNS, TickRow, tick_table
from upheaval.model.timeline import ActionEvent
from upheaval.results.places import COUNTRY_OUTCOMES, country_outcomes, people_totals

from .helpers import country_scenario, three_towns

STEPS = 12
ROOT = Path(__file__).resolve().parents[2]


def toy(**params):
    timeline = (
        ActionEvent(tick=2, action="shock", factor=2.0, target="all"),
        ActionEvent(tick=8, action="concession", legitimacy=0.05),
    )
    clock = {"start": "2022-01-01T00:00:00Z", "tick_minutes": 60.0, "steps": STEPS}
    return country_scenario(three_towns(), timeline, **clock, **params)


DRAWS = pd.DataFrame({"legitimacy": [0.6, 0.8, 0.7], "cop_density": [0.03, 0.05, 0.04]})


# -- country outcomes, by hand ------------------------------------------------------------


def _row(tick: int, **values: float) -> TickRow:
    values["tick"] = tick
    return TickRow(**{c: values.get(c, 1.0 if c == "control" else 0) for c in COLUMNS})


def test_country_outcomes_by_hand():
    """Two places, ticks 0–3, 30 minutes a tick, 10 people an agent."""
    rows, places = [], []
    # A: 100 citizens; 5 active (5 %) at ticks 1 and 2; control 0.4 at ticks 2 and 3
    # B: 50 citizens; 1 active (2 %) at tick 3; never lost
    a = [(0, 0, 1.0), (1, 5, 0.9), (2, 5, 0.4), (3, 0, 0.4)]
    b = [(0, 0, 1.0), (1, 0, 1.0), (2, 0, 1.0), (3, 1, 0.8)]
    for (t, act, ctl), (_, act_b, ctl_b) in zip(a, b, strict=True):
        rows.append(
            _row(
                t,
                quiet_blue=100 - act,
                active_blue=act,
                control=ctl,
                arrests=2 if t else 99,  # tick 0's counters are not counted
                killed_by_cops=1 if t == 2 else 0,
            )
        )
        places.append("A")
        rows.append(
            _row(
                t, quiet_blue=50 - act_b, active_blue=act_b, control=ctl_b, cops_killed=int(t == 3)
            )
        )
        places.append("B")
    rows = [r._replace(tick=i // 2) for i, r in enumerate(rows)]
    table = tick_table(rows, places)
    out = country_outcomes(table, 10.0, 30.0, ["A", "B"])
    assert list(out)[: len(COUNTRY_OUTCOMES)] == list(COUNTRY_OUTCOMES)
    assert out["deaths_civilians"] == 10.0  # one agent killed × 10 people
    assert out["deaths_forces"] == 10.0
    assert out["detained"] == 60.0  # 3 ticks × 2 arrests × 10; tick 0's 99 not counted
    assert out["unrest_hours"] == 1.5  # restless from tick 1 (A) to tick 3 (B): 3 × ½ h
    assert out["places_lost"] == 1.0  # A only
    assert out["place_hours_lost"] == 1.0  # A's 2 ticks below 0.5 × ½ h
    assert out["lost:A"] == 1.0 and out["lost:B"] == 0.0
    assert people_totals(table, 10.0, through_tick=1)["detained"] == 20.0
    with pytest.raises(ValueError, match="no place 'C'"):
        country_outcomes(table, 10.0, 30.0, ["C"])


# -- posterior files and resampling ------------------------------------------------------


def test_resampling_is_deterministic_and_follows_the_weights():
    post = pd.DataFrame({"legitimacy": [0.5, 0.6, 0.7], "weight": [0.0, 1.0, 3.0]})
    a = resample_draws(post, 4000, seed=7)
    assert a.equals(resample_draws(post, 4000, seed=7))
    assert not a.equals(resample_draws(post, 4000, seed=8))
    assert "weight" not in a and 0.5 not in set(a["legitimacy"])  # weight 0: never drawn
    share = (a["legitimacy"] == 0.7).mean()
    assert share == pytest.approx(0.75, abs=0.03)
    # no weights and no N: every row once, as given
    plain = post.drop(columns="weight")
    assert resample_draws(plain, None, 1).equals(plain)
    assert len(resample_draws(post, None, 1)) == 3


def test_calibration_json_is_read():
    doc = ROOT / "docs" / "kazakhstan_calibration.json"
    post = load_posterior(doc)
    particles = json.loads(doc.read_text("utf-8"))["posterior"]["particles"]
    assert len(post) == len(particles) and "weight" in post
    assert post["citizens.legitimacy"].iloc[0] == particles[0]["citizens.legitimacy"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("p.csv", "legitimacy,weight\n0.8,1\nabc,1\n", "column 'legitimacy', row 2"),
        ("p.csv", "frobnicate,weight\n0.8,1\n", "column 'frobnicate'"),
        ("p.csv", "legitimacy,weight\n0.8,-1\n", "column 'weight'"),
        ("p.csv", "legitimacy\n", "no particles"),
        ("p.json", '{"posterior": {}}', "no particle list"),
        ("p.json", "{not json", "cannot read"),
        ("p.txt", "x", "expected a .json, .csv or .parquet"),
    ],
)
def test_bad_posterior_files_are_named(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text, "utf-8")
    with pytest.raises(PosteriorError, match=message) as e:
        load_posterior(path)
    assert str(path) in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(PosteriorError, match="no such file"):
        load_posterior(tmp_path / "missing.csv")


# -- variants with a time ---------------------------------------------------------------


def test_timed_variants():
    sc = toy(organisation_groups=2)
    ec = make_variant(sc, "early-concession@2022-01-01T03:30").scenario
    (c,) = [e for e in ec.timeline if isinstance(e, ActionEvent) and e.action == "concession"]
    assert c.tick == 4  # ⌊3.5 h / 1 h⌋ + 1
    assert make_variant(sc, "early-concession@5").scenario.timeline[1].tick == 5
    with pytest.raises(VariantError, match="after tick 9"):
        make_variant(sc, "early-concession@9")
    gs = make_variant(sc, "general-strike@3").scenario
    assert [e.tick for e in gs.timeline if e.action == "general_strike"] == [3]
    # a built-in on top of overrides: the strike needs groups the toy lacks
    with pytest.raises(VariantError, match="no organised groups"):
        make_variant(toy(), "general-strike")
    v = make_variant(toy(), "general-strike@4:organisation.groups=3")
    assert v.name == "general-strike" and v.scenario.params.organisation.groups == 3
    assert "organisation.groups=3" in v.patch
    with pytest.raises(VariantError, match="only early-concession, general-strike"):
        make_variant(sc, "no-shutdown@3")
    with pytest.raises(VariantError, match=r"before run\.start"):
        make_variant(sc, "early-concession@2021-12-31T00:00Z")


# -- pairing over a posterior -------------------------------------------------------------


def test_compare_over_draws_is_paired(tmp_path):
    sc = toy()
    comp = compare(
        sc,
        ["same:jail.max_jail_term=" + str(sc.params.jail.max_jail_term), "harsh:cop_density=0.08"],
        tmp_path / "c",
        replicates=2,
        executor=SerialExecutor(),
        draws=DRAWS[["legitimacy"]],
        place_lost=["Alpha"],
    )
    assert comp.replicates == 6 and comp.names[-1] == "lost:Alpha"
    base, same = comp.outcomes[BASELINE], comp.outcomes["same"]
    assert np.array_equal(base, same)  # the same (draw, seed) pairs in every variant
    table = bootstrap_table(comp, resamples=200, level=0.9, seed=1)
    s = table[table.variant == "same"]
    assert (s["diff"] == 0).all() and (s["diff_lo"] == 0).all() and (s["diff_hi"] == 0).all()
    # the draws are the parameters: draw 0 (legitimacy 0.6) differs from draw 1 (0.8)
    from upheaval.experiments.store import query

    pts = query(
        tmp_path / "c" / "variants" / "harsh", "SELECT * FROM design ORDER BY point"
    ).to_pandas()
    assert list(pts["legitimacy"]) == [0.6, 0.8, 0.7]
    runs = query(
        tmp_path / "c" / "variants" / "harsh", "SELECT point, replicate, spawn_key FROM runs"
    ).to_pandas()
    base_runs = query(
        tmp_path / "c" / "variants" / BASELINE, "SELECT point, replicate, spawn_key FROM runs"
    ).to_pandas()
    key = ["point", "replicate"]
    assert (
        runs.sort_values(key)
        .reset_index(drop=True)
        .astype(str)
        .equals(base_runs.sort_values(key).reset_index(drop=True).astype(str))
    )
    assert len(runs) == 6
    # the draws are recorded, and a resumed comparison refuses other draws
    assert pd.read_parquet(tmp_path / "c" / "draws.parquet").equals(DRAWS[["legitimacy"]])
    paths = write_comparison(comp, table)
    r = pd.read_parquet(paths["runs"])
    assert list(r.columns[:4]) == ["variant", "replicate", "draw", "seed"]
    other = DRAWS[["legitimacy"]].assign(legitimacy=[0.6, 0.8, 0.75])
    with pytest.raises(StoreError, match="different comparison"):
        compare(
            sc,
            ["same:jail.max_jail_term=" + str(sc.params.jail.max_jail_term)],
            tmp_path / "c",
            replicates=2,
            executor=SerialExecutor(),
            draws=other,
            place_lost=["Alpha"],
        )


def test_a_country_of_one_place_gets_the_outcomes_of_a_country(tmp_path):
    """kz2022-almaty is a country of one place, whose tick table has no place column
    (one row a tick): it is compared by a country's outcomes, Almaty's by its name
    (the comparison had stopped: 'country outcomes need a country's tick table')."""
    import upheaval

    comp = compare(
        upheaval.load("kz2022-almaty"),
        ["no-shutdown"],
        tmp_path / "c",
        replicates=2,
        steps=3,
        executor=SerialExecutor(),
        place_lost=["Almaty"],
    )
    assert list(comp.names) == [*COUNTRY_OUTCOMES, "lost:Almaty"]
    assert comp.outcomes[BASELINE].shape == (2, len(comp.names))


def test_a_variant_the_draws_would_undo_is_refused(tmp_path):
    with pytest.raises(VariantError, match="legitimacy, which every draw sets"):
        compare(
            toy(),
            ["calm:legitimacy=0.95"],
            tmp_path,
            replicates=1,
            draws=DRAWS,
            executor=SerialExecutor(),
        )
    with pytest.raises(PosteriorError, match="column 'frobnicate'"):
        compare(toy(), ["x:legitimacy=0.9"], tmp_path, draws={"frobnicate": [1.0, 2.0]})
    with pytest.raises(ValueError, match="no place 'Delta'"):
        compare(toy(), ["x:legitimacy=0.9"], tmp_path, place_lost=["Delta"])


# -- the CLI end to end --------------------------------------------------------------------


def test_cli_compare_over_a_posterior(tmp_path):
    from typer.testing import CliRunner

    from upheaval.cli import app

    scenario = ROOT / "docs" / "examples" / "three-towns" / "three-towns.toml"
    post = tmp_path / "post.csv"
    post.write_text("citizens.legitimacy,weight\n0.6,1\n0.8,3\n", "utf-8")
    runner = CliRunner()
    base = ["compare", str(scenario), "--what-if", "harsh:cop_density=0.08", "-r", "1"]
    base += ["--set", "world.scale=1000", "-n", str(STEPS), "--workers", "1"]
    base += ["--no-figure", "--no-progress", "--place-lost", "Atyrau"]
    out = tmp_path / "c"
    r = runner.invoke(
        app, [*base, "--posterior", str(post), "--draws", "3", "--level", "0.9", "-o", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "lost:Atyrau" in r.output and "deaths_civilians" in r.output
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 6 and set(runs["draw"]) == {0, 1, 2}
    assert set(pd.read_parquet(out / "draws.parquet")["citizens.legitimacy"]) <= {0.6, 0.8}
    bad = tmp_path / "bad.csv"
    bad.write_text("citizens.legitimacy\nhigh\n", "utf-8")
    r = runner.invoke(app, [*base, "--posterior", str(bad), "-o", str(tmp_path / "d")])
    assert r.exit_code == 2 and "bad.csv" in r.output and "citizens.legitimacy" in r.output
    # one line of error (the steps cut the example's timeline short: a warning before it)
    errors = [line for line in r.output.strip().splitlines() if not line.startswith("warning")]
    assert len(errors) == 1
    r = runner.invoke(app, [*base, "--draws", "3", "-o", str(tmp_path / "e")])
    assert r.exit_code == 2 and "only with --posterior" in r.output


def test_a_single_lattice_keeps_its_outcomes_over_draws(tmp_path):
    import upheaval
    from upheaval.experiments.compare import OUTCOMES
    from upheaval.scenario.loading import apply_overrides

    sc = apply_overrides(upheaval.load("epstein2002-run2"), {"world.width": 20, "world.height": 20})
    comp = compare(
        sc,
        ["harsh:cop_density=0.08"],
        tmp_path,
        replicates=1,
        steps=STEPS,
        executor=SerialExecutor(),
        draws={"legitimacy": [0.6, 0.9]},
    )
    assert comp.names == OUTCOMES and comp.outcomes[BASELINE].shape == (2, len(OUTCOMES))
    # draw 0 (L = 0.6) has more unrest than draw 1 (L = 0.9): the draws reach the runs
    k = OUTCOMES.index("peak_active")
    assert comp.outcomes[BASELINE][0, k] > comp.outcomes[BASELINE][1, k]
    with pytest.raises(ValueError, match="no places"):
        compare(sc, ["harsh:cop_density=0.08"], tmp_path / "x", place_lost=["Almaty"])
