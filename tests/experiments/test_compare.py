"""Counterfactual comparisons: variants, common random numbers, paired intervals."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import upheaval
from upheaval.engine.simulation import Simulation
from upheaval.experiments import SerialExecutor
from upheaval.experiments.compare import (
    BASELINE,
    OUTCOMES,
    VariantError,
    bootstrap_table,
    compare,
    make_variant,
    write_comparison,
)
from upheaval.model.timeline import ActionEvent
from upheaval.scenario.loading import apply_overrides, scenario_from_dict

STEPS = 60


def small(**sets):
    sc = upheaval.load("epstein2002-run2")
    return apply_overrides(sc, {"world.width": 20, "world.height": 20, **sets})


def with_timeline(sc):
    entries = [
        {"tick": 20, "action": "reinforce", "count": 10, "unit": "csto"},
        {"tick": 40, "action": "withdraw", "unit": "csto"},
        {"tick": 30, "action": "concession", "legitimacy": 0.05},
        {"tick": 10, "set": {"lethal_force.probability": 0.1}},
    ]
    return scenario_from_dict({"timeline": entries}, "test", base=sc)


def test_builtin_variants_patch_the_timeline():
    sc = with_timeline(small())
    ni = make_variant(sc, "no-intervention").scenario
    assert not any(
        isinstance(e, ActionEvent) and e.action in ("reinforce", "withdraw") for e in ni.timeline
    )
    assert len(ni.timeline) == len(sc.timeline) - 2
    nl = make_variant(sc, "no-lethal-force").scenario
    assert nl.params.lethal_force.probability == 0
    assert not any(getattr(e, "param", "") == "lethal_probability" for e in nl.timeline)
    ec = make_variant(sc, "early-concession").scenario
    (c,) = [e for e in ec.timeline if isinstance(e, ActionEvent) and e.action == "concession"]
    assert c.tick == 15
    user = make_variant(sc, "strong:legitimacy=0.9,cop_density=0.06")
    assert user.name == "strong" and user.scenario.params.citizens.legitimacy == 0.9


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no-shutdown", "no internet shutdown"),
        ("no-provocateurs", "no provocateurs"),
        ("nope", "unknown variant"),
        ("no-intervention", "no reinforce action"),
        ("early-concession", "no concession action"),
        ("no-lethal-force", "already 0"),
        ("x:legitimacy=2", "legitimacy"),
        ("x:legitimacy", "expected name:key=value"),
    ],
)
def test_bad_variants_are_named(spec, message):
    with pytest.raises(VariantError, match=message):
        make_variant(small(), spec)


def test_lethal_force_raises_deaths_paired(tmp_path):
    sc = small(**{"lethal_force.probability": 0.2, "legitimacy": 0.7})
    comp = compare(
        sc,
        ["no-lethal-force", "more-cops:cop_density=0.08"],
        tmp_path,
        replicates=6,
        steps=STEPS,
        executor=SerialExecutor(),
        threshold=14,
    )
    assert set(comp.outcomes) == {BASELINE, "no-lethal-force", "more-cops"}
    base, nolethal = comp.outcomes[BASELINE], comp.outcomes["no-lethal-force"]
    k = OUTCOMES.index("deaths")
    assert np.all(nolethal[:, k] == 0) and np.all(base[:, k] > 0)
    table = bootstrap_table(comp, resamples=500, seed=1)
    row = table[(table.variant == "no-lethal-force") & (table.outcome == "deaths")].iloc[0]
    assert row["diff"] == pytest.approx(-base[:, k].mean())
    assert row["diff_lo"] <= row["diff"] <= row["diff_hi"] < 0
    b = table[(table.variant == BASELINE)]
    assert b["diff"].isna().all() and (b["lo"] <= b["mean"]).all() and (b["mean"] <= b["hi"]).all()
    # Common random numbers: the baseline's replicate r is the same run whatever else is compared.
    again = compare(
        sc,
        ["no-lethal-force"],
        tmp_path / "again",
        replicates=6,
        steps=STEPS,
        executor=SerialExecutor(),
        threshold=14,
    )
    assert np.array_equal(again.outcomes[BASELINE], base)
    paths = write_comparison(comp, table)
    import pandas as pd

    runs = pd.read_parquet(paths["runs"])
    assert len(runs) == 18 and set(OUTCOMES) <= set(runs)


def test_cli_compare_smoke_and_errors(tmp_path):
    from typer.testing import CliRunner

    from upheaval.cli import app

    runner = CliRunner()
    base = [
        "compare",
        "epstein2002-run2",
        "--set",
        "world.width=16",
        "--set",
        "world.height=16",
        "-n",
        "20",
        "-r",
        "3",
        "--workers",
        "1",
    ]
    out = tmp_path / "c"
    r = runner.invoke(app, [*base, "--what-if", "cops:cop_density=0.08", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "cops" in r.output and "diff" in r.output
    for name in ("compare.csv", "compare.parquet", "runs.parquet", "compare.png"):
        assert (out / name).is_file(), name
    r = runner.invoke(app, [*base, "--what-if", "frobnicate", "--out", str(tmp_path / "d")])
    assert r.exit_code == 2 and "unknown variant" in r.output
    assert len(r.output.strip().splitlines()) == 1
    r = runner.invoke(app, [*base, "--what-if", "no-shutdown", "--out", str(tmp_path / "e")])
    assert r.exit_code == 2 and "internet shutdown" in r.output


def test_no_shutdown_and_no_provocateurs_variants_remove_their_mechanism():
    sc = small(
        **{"information.enabled": True, "provocateurs.count": 3, "lethal_force.probability": 0.1}
    )
    sc = dataclasses.replace(
        sc,
        timeline=(
            ActionEvent(tick=5, action="shutdown"),
            ActionEvent(tick=9, action="restore"),
            ActionEvent(tick=12, action="shutdown"),
        ),
    )
    ns = make_variant(sc, "no-shutdown")
    assert ns.scenario.timeline == () and ns.scenario.params.information.online
    assert "3 shutdown/restore" in ns.patch
    offline = small(**{"information.enabled": True, "information.online": False})
    assert make_variant(offline, "no-shutdown").scenario.params.information.online
    npv = make_variant(sc, "no-provocateurs").scenario
    assert npv.params.provocateurs.count == 0 and npv.timeline == sc.timeline
    # the variants change the runs: the channel stays up, no provocation is counted
    a, b = Simulation(sc, seed=2), Simulation(npv, seed=2)
    a.step(15)
    b.step(15)
    assert sum(a.table().column("provocations").to_pylist()) > 0
    assert sum(b.table().column("provocations").to_pylist()) == 0


def test_cli_compare_on_dask_gives_the_runs_of_the_local_pool(tmp_path):
    """--dask local runs the same replicates as --workers (common random numbers do not
    depend on the executor); --dask with --workers is refused, for calibrate too."""
    pytest.importorskip("distributed")
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from upheaval.cli import app

    runner = CliRunner()
    base = ["compare", "epstein2002-run2", "--set", "world.width=16", "--set"]
    base += ["world.height=16", "-n", "15", "-r", "2", "--what-if", "cops:cop_density=0.08"]
    r = runner.invoke(app, [*base, "--workers", "1", "--out", str(tmp_path / "local")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, [*base, "--dask", "local", "--out", str(tmp_path / "dask")])
    assert r.exit_code == 0, r.output

    def runs(name):
        t = pq.read_table(tmp_path / name / "runs.parquet").to_pandas()
        return t.sort_values(list(t.columns[:2])).reset_index(drop=True)

    assert runs("local").equals(runs("dask"))
    r = runner.invoke(app, [*base, "--workers", "1", "--dask", "local", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "at most one" in r.output
    r = runner.invoke(
        app,
        [
            "calibrate",
            "epstein2002-run2",
            "--observed",
            str(tmp_path / "nowhere"),
            "-p",
            "legitimacy=0.7:0.9",
            "--out",
            str(tmp_path / "cal"),
            "--workers",
            "1",
            "--ray",
            "local",
        ],
    )
    assert r.exit_code == 2 and "at most one" in r.output
