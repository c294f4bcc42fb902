"""The runner and the store: seeds, bit-identity across executors, failures, resume."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

import upheaval
from upheaval.experiments import (
    SerialExecutor,
    connect,
    designs,
    local_executor,
    query,
    read_runs,
    run_seed,
    run_sweep,
    summarise,
)
from upheaval.experiments.designs import parse_factor
from upheaval.experiments.store import STATUS, StoreError, read_status

STEPS = 30


def test_run_seed_is_root_spawn_for_point_then_replicate():
    root = np.random.SeedSequence(1234)
    via_spawn = root.spawn(5)[3].spawn(4)[2]
    direct = run_seed(np.random.SeedSequence(1234), 3, 2)
    assert direct.spawn_key == via_spawn.spawn_key == (3, 2)
    assert np.array_equal(direct.generate_state(8), via_spawn.generate_state(8))


def test_serial_sweep_matches_direct_simulations(tmp_path, small_scenario, small_design):
    report = run_sweep(
        small_scenario, small_design, tmp_path / "s", steps=STEPS, seed=7, executor=SerialExecutor()
    )
    assert report.complete and report.done == small_design.n_runs and report.failed == 0
    runs = read_runs(tmp_path / "s").to_pylist()
    assert [(r["point"], r["replicate"]) for r in runs] == [
        (p, r) for p in range(small_design.n_points) for r in range(3)
    ]
    for row in (runs[0], runs[13], runs[-1]):
        sc = upheaval.apply_overrides(small_scenario, small_design.point(row["point"]))
        seed = run_seed(np.random.SeedSequence(7), row["point"], row["replicate"])
        sim = upheaval.Simulation(sc, seed=seed).run(STEPS)
        expected = summarise(sim.table())
        assert {k: row[k] for k in expected} == expected
        assert row["spawn_key"] == [row["point"], row["replicate"]]
        assert row["legitimacy"] == small_design.point(row["point"])["legitimacy"]
    # replicates differ (their own streams), the design's values are recorded
    assert len({(r["peak_active"], r["mean_active"]) for r in runs}) > len(runs) // 2


def _sorted_table(out):
    return read_runs(out)


def test_bit_identical_across_executors_workers_and_batching(
    tmp_path, small_scenario, small_design
):
    serial = run_sweep(
        small_scenario,
        small_design,
        tmp_path / "serial",
        steps=STEPS,
        seed=3,
        executor=SerialExecutor(),
        batch_size=5,
    )
    one = run_sweep(small_scenario, small_design, tmp_path / "one", steps=STEPS, seed=3, workers=1)
    two = run_sweep(
        small_scenario, small_design, tmp_path / "two", steps=STEPS, seed=3, workers=2, batch_size=2
    )
    assert serial.complete and one.complete and two.complete
    a, b, c = (_sorted_table(tmp_path / n) for n in ("serial", "one", "two"))
    assert a.num_rows == small_design.n_runs
    assert a.equals(b) and a.equals(c)
    other = run_sweep(
        small_scenario,
        small_design,
        tmp_path / "seed4",
        steps=STEPS,
        seed=4,
        executor=SerialExecutor(),
    )
    assert other.complete and not a.equals(_sorted_table(tmp_path / "seed4"))


def test_dask_executor_gives_the_same_results(tmp_path, small_scenario, small_design):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        run_sweep(
            small_scenario,
            small_design,
            tmp_path / "dask",
            steps=STEPS,
            seed=3,
            executor=client.get_executor(pure=False),
            workers=2,
        )
    run_sweep(
        small_scenario,
        small_design,
        tmp_path / "serial",
        steps=STEPS,
        seed=3,
        executor=SerialExecutor(),
    )
    assert _sorted_table(tmp_path / "dask").equals(_sorted_table(tmp_path / "serial"))


@pytest.mark.slow
def test_ray_executor_gives_the_same_results(tmp_path, small_scenario, small_design):
    # Not skipped without Ray: the slow suite is run after `pip install -e ".[slow]"`,
    # which installs it, so a missing Ray is a broken setup, not a reason to pass.
    try:
        import ray  # noqa: F401
    except ImportError:
        pytest.fail('Ray is not installed: the slow suite needs pip install -e ".[slow]"')
    from upheaval.experiments import ray_executor

    with ray_executor("local") as ex:
        run_sweep(small_scenario, small_design, tmp_path / "ray", steps=STEPS, seed=3, executor=ex)
    run_sweep(
        small_scenario,
        small_design,
        tmp_path / "serial",
        steps=STEPS,
        seed=3,
        executor=SerialExecutor(),
    )
    assert _sorted_table(tmp_path / "ray").equals(_sorted_table(tmp_path / "serial"))


def test_failed_runs_are_logged_and_the_sweep_completes(tmp_path, small_scenario):
    matrix = tmp_path / "m.csv"
    matrix.write_text("legitimacy,width\n0.8,20\n1.5,20\n0.7,20\n0.8,20.5\n")
    d = designs.make_design("matrix", matrix=matrix, replicates=2)
    report = run_sweep(
        small_scenario, d, tmp_path / "s", steps=STEPS, executor=SerialExecutor(), batch_size=3
    )
    assert (report.done, report.failed, report.total) == (4, 4, 8)
    failed = query(
        tmp_path / "s", "SELECT point, replicate, error FROM failed ORDER BY 1, 2"
    ).to_pylist()
    assert [(f["point"], f["replicate"]) for f in failed] == [(1, 0), (1, 1), (3, 0), (3, 1)]
    assert failed[0]["error"] == ("ScenarioError: design point 1: legitimacy: must be ≤ 1, got 1.5")
    assert failed[2]["error"].startswith(
        "ScenarioError: design point 3: width: expected an integer"
    )
    assert sorted(
        query(tmp_path / "s", "SELECT DISTINCT point FROM runs").column(0).to_pylist()
    ) == [0, 2]
    # resuming skips failed runs by default; --retry-failed runs them again (and they fail again)
    again = run_sweep(small_scenario, d, tmp_path / "s", steps=STEPS, executor=SerialExecutor())
    assert (again.done, again.failed, again.already) == (0, 0, 4)
    retry = run_sweep(
        small_scenario, d, tmp_path / "s", steps=STEPS, executor=SerialExecutor(), retry_failed=True
    )
    assert (retry.done, retry.failed) == (0, 4)


def test_a_sweep_with_no_finished_run_still_has_its_columns(tmp_path, small_scenario):
    matrix = tmp_path / "m.csv"
    matrix.write_text("legitimacy\n1.5\n")
    d = designs.make_design("matrix", matrix=matrix)
    report = run_sweep(small_scenario, d, tmp_path / "s", steps=STEPS, executor=SerialExecutor())
    assert (report.done, report.failed) == (0, 1)
    t = query(tmp_path / "s", "SELECT point, legitimacy, peak_active FROM runs")
    assert t.num_rows == 0 and t.column_names == ["point", "legitimacy", "peak_active"]


def test_an_exception_in_the_worker_is_a_failed_run(tmp_path, small_scenario, monkeypatch):
    from upheaval.experiments import runner

    calls = {"n": 0}
    real = runner.summarise

    def flaky(history, threshold):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("injected")
        return real(history, threshold)

    monkeypatch.setattr(runner, "summarise", flaky)
    d = designs.grid([parse_factor("legitimacy=0.7:0.8")], levels=2, replicates=2)
    report = run_sweep(
        small_scenario, d, tmp_path / "s", steps=STEPS, executor=SerialExecutor(), batch_size=4
    )
    assert (report.done, report.failed) == (3, 1)
    status = read_status(tmp_path / "s")
    assert status[(0, 1)]["error"] == "RuntimeError: injected"


def test_resume_runs_only_missing_runs_and_ignores_unlogged_parts(
    tmp_path, small_scenario, small_design
):
    out = tmp_path / "s"
    full = run_sweep(
        small_scenario, small_design, tmp_path / "full", steps=STEPS, executor=SerialExecutor()
    )
    assert full.complete
    run_sweep(
        small_scenario, small_design, out, steps=STEPS, executor=SerialExecutor(), batch_size=4
    )
    # Simulate a kill: drop the log's last 10 lines (parts written, never logged) and
    # leave a torn half line at the end.
    lines = (out / STATUS).read_text().splitlines(keepends=True)
    (out / STATUS).write_text("".join(lines[:-10]) + lines[-10][:25])
    assert query(out, "SELECT count(*) FROM runs").column(0)[0].as_py() == len(lines) - 10
    report = run_sweep(
        small_scenario, small_design, out, steps=STEPS, executor=SerialExecutor(), batch_size=4
    )
    assert (report.already, report.done) == (len(lines) - 10, 10)
    table = read_runs(out)
    assert table.equals(read_runs(tmp_path / "full"))
    keys = list(
        zip(table.column("point").to_pylist(), table.column("replicate").to_pylist(), strict=True)
    )
    assert len(keys) == len(set(keys)) == small_design.n_runs
    # the orphaned parts of the "killed" attempt were deleted on resume
    logged = {e["part"] for e in read_status(out).values()}
    assert {f"summaries/{p.name}" for p in (out / "summaries").iterdir()} == logged


def test_store_refuses_a_different_sweep_and_keeps_a_manifest(
    tmp_path, small_scenario, small_design
):
    out = tmp_path / "s"
    run_sweep(small_scenario, small_design, out, steps=STEPS, seed=5, executor=SerialExecutor())
    m = json.loads((out / "manifest.json").read_text())
    assert m["seed_entropy"] == "5" and m["steps"] == STEPS
    assert m["design"]["kind"] == "grid" and m["design"]["replicates"] == 3
    assert m["scenario"]["parameters"]["world.width"] == 20
    assert {"upheaval", "numpy", "numba"} <= set(m["versions"])
    with pytest.raises(StoreError, match="seed_entropy differs"):
        run_sweep(small_scenario, small_design, out, steps=STEPS, seed=6, executor=SerialExecutor())
    with pytest.raises(StoreError, match="steps differs"):
        run_sweep(
            small_scenario, small_design, out, steps=STEPS + 1, seed=5, executor=SerialExecutor()
        )
    forced = run_sweep(
        small_scenario,
        small_design,
        out,
        steps=STEPS,
        seed=6,
        executor=SerialExecutor(),
        force=True,
    )
    assert forced.done == small_design.n_runs


def test_duckdb_views_and_ticks(tmp_path, small_scenario):
    d = designs.grid([parse_factor("legitimacy=0.6:0.9")], levels=2, replicates=2)
    out = tmp_path / "s"
    run_sweep(
        small_scenario,
        d,
        out,
        steps=STEPS,
        executor=SerialExecutor(),
        keep_ticks=True,
        batch_size=3,
    )
    con = connect(out)
    n_ticks = con.execute("SELECT count(*) FROM ticks").fetchone()[0]
    assert n_ticks == 4 * (STEPS + 1)
    # the summaries agree with the ticks they were computed from
    got = con.execute(
        "SELECT r.point, r.replicate, r.peak_active, max(t.active_blue + t.active_green) "
        "FROM runs r JOIN ticks t USING (point, replicate) GROUP BY ALL ORDER BY 1, 2"
    ).fetchall()
    assert len(got) == 4 and all(row[2] == row[3] for row in got)
    by_leg = con.execute(
        "SELECT legitimacy, count(*) FROM runs JOIN design USING (point, legitimacy) "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert by_leg == [(0.6, 2), (0.9, 2)]
    con.close()
    ticks = pq.read_table(next((out / "ticks").iterdir()))
    assert {"point", "replicate", "tick", "arrests"} <= set(ticks.column_names)
    with pytest.raises(StoreError, match="not a sweep directory"):
        connect(tmp_path)


def test_local_executor_does_not_change_the_global_start_method():
    import multiprocessing

    before = multiprocessing.get_start_method(allow_none=True)
    ex = local_executor(1)
    assert ex.submit(sum, [1, 2]).result() == 3
    ex.shutdown()
    assert multiprocessing.get_start_method(allow_none=True) == before


@pytest.mark.parametrize("preset", ["epstein2002-run3", "epstein2002-run7"])
def test_timelines_and_model_ii_run_in_sweeps(tmp_path, preset):
    # run 3 ramps legitimacy down through its timeline; run 7 is Model II (killings)
    sc = upheaval.apply_overrides(upheaval.load(preset), {"width": 20, "height": 20})
    d = designs.grid([parse_factor("threshold=0.05,0.1")], replicates=2)
    run_sweep(sc, d, tmp_path / "s", steps=60, seed=2, executor=SerialExecutor())
    rows = read_runs(tmp_path / "s").to_pylist()
    assert len(rows) == 4
    for row in rows:
        point_sc = upheaval.apply_overrides(sc, d.point(row["point"]))
        seed = run_seed(np.random.SeedSequence(2), row["point"], row["replicate"])
        sim = upheaval.Simulation(point_sc, seed=seed).run(60)
        expected = summarise(sim.table())
        assert {k: row[k] for k in expected} == expected
        assert row["final_legitimacy"] == sim.legitimacy
    if preset == "epstein2002-run3":
        assert all(r["final_legitimacy"] < sc.params.citizens.legitimacy for r in rows)
    else:
        assert sum(r["killed_blue"] + r["killed_green"] for r in rows) > 0
