"""Recording runs to disk and reading them back; outburst statistics.

The Parquet file must hold exactly what ``Simulation.table()`` holds, streamed in row
groups; an interrupted run must leave every finished tick readable and a manifest
saying where it stopped. Outburst statistics are checked on hand-built series whose
answers are worked out by hand in the comments.
"""

from __future__ import annotations

import json
import os
import signal

import numba
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import upheaval
from upheaval.core.codes import ACTIVE, COP, DEAD, JAILED
from upheaval.model.params import parameters
from upheaval.model.state import TALLY
from upheaval.model.ticks import COLUMNS
from upheaval.results import (
    MANIFEST,
    SNAPSHOTS,
    TICKS,
    Recorder,
    RunDirectoryError,
    lattice_snapshot,
    outbursts,
    read_manifest,
    read_run,
    read_snapshots,
    run_outbursts,
)
from upheaval.results.runner import TimelineWarning
from upheaval.results.snapshots import (
    ACTIVE_SITE,
    COP_SITE,
    EMPTY_SITE,
    JAILED_SITE,
    QUIET_SITE,
)

RUN2 = "epstein2002-run2"


def _live_agents(table: pa.Table) -> np.ndarray:
    return np.sum([table.column(c).to_numpy() for c in TALLY], axis=0)


# -- Parquet and manifest ------------------------------------------------------------------


def test_parquet_equals_simulation_table_in_row_groups(tmp_path):
    out = tmp_path / "nested" / "run"  # parents are created
    sim = upheaval.run(RUN2, steps=120, seed=4, out=out, flush_every=25)
    expected = sim.table()
    manifest, table = read_run(out)
    assert table.schema == expected.schema
    assert table.column_names == list(COLUMNS)
    assert table.equals(expected)
    assert table.column("tick").to_pylist() == list(range(121))
    # Streamed: 121 rows in groups of 25, the last one holding what was left at close.
    meta = pq.ParquetFile(out / TICKS).metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sizes == [25, 25, 25, 25, 21]
    assert manifest["status"] == "complete"


def test_manifest_records_what_ran(tmp_path):
    out = tmp_path / "run"
    sim = upheaval.run(
        RUN2, steps=60, seed=11, out=out, overrides={"legitimacy": 0.8, "jail.max_jail_term": 40}
    )
    m = json.loads((out / MANIFEST).read_text())
    assert m["status"] == "complete" and m["reason"] is None
    assert m["last_tick"] == 60
    assert m["ticks"] == {"first": 0, "last": 60, "count": 61}
    assert m["scenario"]["name"] == RUN2
    assert m["scenario"]["source"] == f"preset {RUN2}"
    assert m["seed"] == 11 and m["parameters"]["run.seed"] == 11
    assert m["steps_requested"] == 60
    assert m["variant"] == "I"
    # Every parameter, by section.key, with the run's values.
    locations = [f.location for f in parameters()]
    assert list(m["parameters"]) == locations
    for f, loc in zip(parameters(), locations, strict=True):
        assert m["parameters"][loc] == sim.params.value(f.name), loc
    assert m["parameters"]["citizens.legitimacy"] == 0.8
    assert m["parameters"]["jail.max_jail_term"] == 40.0
    assert m["columns"] == list(COLUMNS)
    assert m["versions"]["upheaval"] == upheaval.__version__
    assert m["versions"]["numba"] == numba.__version__
    assert m["versions"]["numpy"] == np.__version__
    assert m["versions"]["pyarrow"] == pa.__version__
    t = m["timings"]
    assert t["init_s"] > 0 and t["steps_s"] > 0
    assert t["wall_s"] >= t["init_s"] + t["steps_s"]
    # Run 2 has no births or deaths: 1,120 citizens and 64 cops play each of 60 ticks.
    assert m["agent_steps"] == 60 * (1120 + 64)
    assert m["agent_steps_per_second"] == pytest.approx(m["agent_steps"] / t["steps_s"])
    assert m["agents"] == 1184
    assert m["state_bytes"] == sim.nbytes()
    assert m["state_bytes_per_agent"] == pytest.approx(sim.nbytes() / 1184)
    assert m["files"] == {"ticks": TICKS, "snapshots": None}
    assert m["timeline"] == []


def test_manifest_timeline_and_infinite_jail_term(tmp_path):
    # Run 3: a legitimacy ramp and J_max = inf, which JSON cannot hold as a number.
    # (Three ticks end before the ramp begins, which the run says.)
    with pytest.warns(TimelineWarning, match=r"timeline\[1\] \(ramp legitimacy at tick 51\)"):
        upheaval.run("epstein2002-run3", steps=3, out=tmp_path / "r3")
    m = read_manifest(tmp_path / "r3")
    assert m["parameters"]["jail.max_jail_term"] == "inf"
    sc = upheaval.load("epstein2002-run3")
    assert len(m["timeline"]) == len(sc.timeline) >= 1
    ramp = m["timeline"][0]
    ev = sc.timeline[0]
    assert ramp == {
        "kind": "ramp",
        "start": ev.start,
        "end": ev.end,
        "parameter": "citizens.legitimacy",
        "value": ev.value,
    }


def test_model2_columns_and_agent_steps(tmp_path):
    # Model II: births and killings change the number of live agents tick by tick.
    sim = upheaval.run("epstein2002-run7", steps=30, seed=2, out=tmp_path / "r7")
    m, table = read_run(tmp_path / "r7")
    assert table.equals(sim.table())
    killed = table.column("killed_blue").to_numpy() + table.column("killed_green").to_numpy()
    assert killed.sum() > 0
    live = _live_agents(table)
    assert len(set(live.tolist())) > 1
    assert m["agent_steps"] == int(live[:-1].sum())
    assert m["variant"] == "II"


def test_same_seed_same_bytes_of_results(tmp_path):
    a = upheaval.run(RUN2, steps=40, seed=9, out=tmp_path / "a")
    upheaval.run(RUN2, steps=40, seed=9, out=tmp_path / "b")
    ta, tb = read_run(tmp_path / "a")[1], read_run(tmp_path / "b")[1]
    assert ta.equals(tb) and ta.equals(a.table())
    upheaval.run(RUN2, steps=40, seed=10, out=tmp_path / "c")
    assert not ta.equals(read_run(tmp_path / "c")[1])


# -- interruption -------------------------------------------------------------------------


def _interrupt_at(tick: int, exc: BaseException, seen: list):
    def on_tick(sim):
        seen.append(sim)
        if sim.tick == tick:
            raise exc

    return on_tick


def test_keyboard_interrupt_keeps_every_finished_tick(tmp_path):
    out = tmp_path / "run"
    seen: list = []
    with pytest.raises(KeyboardInterrupt):
        upheaval.run(
            RUN2,
            steps=500,
            seed=5,
            out=out,
            flush_every=10,
            on_tick=_interrupt_at(37, KeyboardInterrupt(), seen),
        )
    sim = seen[-1]
    manifest, table = read_run(out)
    assert manifest["status"] == "interrupted"
    assert manifest["reason"] == "KeyboardInterrupt"
    # Ticks 31-37 were still in memory (flushes at 10, 20, 30): all of them are on disk.
    assert manifest["last_tick"] == 37
    assert table.column("tick").to_pylist() == list(range(38))
    assert table.equals(sim.table())
    assert manifest["finished_utc"] is not None


def test_exception_marks_manifest_interrupted_with_reason(tmp_path):
    out = tmp_path / "run"
    seen: list = []
    with pytest.raises(RuntimeError, match="boom"):
        upheaval.run(
            RUN2,
            steps=100,
            out=out,
            flush_every=1000,
            on_tick=_interrupt_at(12, RuntimeError("boom"), seen),
        )
    manifest, table = read_run(out)
    assert manifest["status"] == "interrupted"
    assert manifest["reason"] == "RuntimeError: boom"
    assert table.num_rows == 13 and table.equals(seen[-1].table())


def test_ctrl_c_during_a_row_group_write_is_held_until_it_is_written(tmp_path):
    # A real SIGINT sent from inside the Parquet write: it must take effect only once
    # the row group is written and counted, so that closing does not write it again.
    sim = upheaval.Simulation(upheaval.load(RUN2), seed=1)
    rec = Recorder(tmp_path / "run", sim, flush_every=5)
    real_write = rec._ticks.write
    sent = []

    def write_then_ctrl_c(*args, **kwargs):
        real_write(*args, **kwargs)
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)

    rec._ticks.write = write_then_ctrl_c
    with pytest.raises(KeyboardInterrupt), rec:
        sim.run(20, on_tick=rec.on_tick)
    assert sent and sim.tick == 4
    m, table = read_run(tmp_path / "run")
    assert table.column("tick").to_pylist() == [0, 1, 2, 3, 4]
    assert m["status"] == "interrupted" and m["last_tick"] == 4


def test_unclosed_recorder_reads_as_far_as_its_last_flush(tmp_path):
    sim = upheaval.Simulation(upheaval.load(RUN2), seed=1)
    rec = Recorder(tmp_path / "run", sim, flush_every=5)
    sim.run(12, on_tick=rec.on_tick)
    m = read_manifest(tmp_path / "run")
    assert m["status"] == "running"
    assert m["last_tick"] == 9  # flushed at 5 rows (0-4) and 10 rows (5-9)
    # Readable while it goes (or after a kill): every flushed tick, from the parts.
    _, table = read_run(tmp_path / "run")
    assert table.column("tick").to_pylist() == list(range(10))
    assert sorted(p.name for p in (tmp_path / "run" / "ticks").iterdir()) == [
        "part-000000.parquet",
        "part-000001.parquet",
    ]
    rec.close()
    assert not (tmp_path / "run" / "ticks").exists()  # merged into ticks.parquet
    m, table = read_run(tmp_path / "run")
    assert m["status"] == "complete" and table.num_rows == 13


def test_recorder_picks_up_history_of_a_stepped_simulation(tmp_path):
    sim = upheaval.Simulation(upheaval.load(RUN2), seed=1)
    sim.step(7)
    with Recorder(tmp_path / "run", sim) as rec:
        sim.run(5, on_tick=rec.on_tick)
    m, table = read_run(tmp_path / "run")
    assert table.equals(sim.table()) and table.num_rows == 13
    # Agent-steps count only the ticks the recorder saw being played.
    assert m["agent_steps"] == 5 * 1184


# -- run directories ----------------------------------------------------------------------


def test_refuses_non_empty_directory_and_overwrites_only_runs(tmp_path):
    out = tmp_path / "run"
    upheaval.run(RUN2, steps=5, out=out)
    with pytest.raises(RunDirectoryError, match="not empty"):
        upheaval.run(RUN2, steps=5, out=out)
    upheaval.run(RUN2, steps=8, seed=3, out=out, overwrite=True)
    m, table = read_run(out)
    assert table.num_rows == 9 and m["seed"] == 3

    other = tmp_path / "home"
    other.mkdir()
    (other / "thesis.tex").write_text("precious")
    with pytest.raises(RunDirectoryError, match=r"thesis\.tex"):
        upheaval.run(RUN2, steps=5, out=other, overwrite=True)
    assert (other / "thesis.tex").read_text() == "precious"
    assert not (other / MANIFEST).exists()


def test_read_run_errors_name_the_directory(tmp_path):
    with pytest.raises(RunDirectoryError, match="no such directory"):
        read_run(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunDirectoryError, match=r"empty: not a run directory \(no manifest.json\)"):
        read_run(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / MANIFEST).write_text("{not json")
    with pytest.raises(RunDirectoryError, match="cannot read the manifest"):
        read_run(tmp_path / "bad")


# -- snapshots ----------------------------------------------------------------------------


def _reference_snapshot(sim) -> dict[str, np.ndarray]:
    """Agent by agent, the documented rule: cop > active > quiet > jailed."""
    w, h = int(sim.place.lattice.width), int(sim.place.lattice.height)
    rank = {COP_SITE: 4, ACTIVE_SITE: 3, QUIET_SITE: 2, JAILED_SITE: 1}
    occupant = np.zeros((h, w), np.uint8)
    group = np.full((h, w), -1, np.int8)
    occupants = np.zeros((h, w), np.uint8)
    a = sim.place.agents
    for i in range(a.kind.shape[0]):
        if a.status[i] == DEAD:
            continue
        y, x = divmod(int(a.position[i]), w)
        if a.kind[i] == COP:
            code, g = COP_SITE, -1
        else:
            code = {ACTIVE: ACTIVE_SITE, JAILED: JAILED_SITE}.get(int(a.status[i]), QUIET_SITE)
            g = int(a.group[i])
        occupants[y, x] += 1
        here = int(occupant[y, x])
        if here == EMPTY_SITE or (rank[code], g) > (rank[here], int(group[y, x])):
            occupant[y, x], group[y, x] = code, g
    return {"occupant": occupant, "group": group, "occupants": occupants}


@pytest.mark.parametrize("preset", [RUN2, "epstein2002-run8"])
def test_snapshots_match_agents_and_read_back(tmp_path, preset):
    # The reference is taken from the running simulation at tick 25, and from a fresh
    # simulation with the same seed for tick 0 (on_tick only sees ticks ≥ 1).
    taken: dict[int, dict] = {}

    def keep(sim):
        if sim.tick == 25:
            taken[25] = _reference_snapshot(sim)

    sim0 = upheaval.Simulation(upheaval.load(preset), seed=3)
    taken[0] = _reference_snapshot(sim0)
    upheaval.run(preset, steps=30, seed=3, out=tmp_path / "run", snapshots=(25, 0), on_tick=keep)
    snaps = read_snapshots(tmp_path / "run")
    assert sorted(snaps) == [0, 25]
    assert read_manifest(tmp_path / "run")["files"]["snapshots"] == SNAPSHOTS
    for t, ref in taken.items():
        for name in ("occupant", "group", "occupants"):
            np.testing.assert_array_equal(snaps[t][name], ref[name], err_msg=f"{name} @ {t}")
    # The tick-0 lattice holds exactly the initial population, one agent per site.
    s0 = snaps[0]
    assert int(s0["occupants"].sum()) == sim0.n_agents()
    assert s0["occupants"].max() == 1
    assert np.count_nonzero(s0["occupant"] == COP_SITE) == sim0.counts()["cops"]
    if preset == "epstein2002-run8":  # Model II: both groups present at the start
        assert set(np.unique(s0["group"]).tolist()) == {-1, 0, 1}


def test_lattice_snapshot_shared_site_shows_most_visible():
    # Build a shared site by hand: put a quiet citizen onto a cop's site.
    sim = upheaval.Simulation(upheaval.load(RUN2), seed=1)
    a = sim.place.agents
    cop = int(np.flatnonzero((a.kind == COP) & (a.status != DEAD))[0])
    citizen = int(np.flatnonzero((a.kind == 0) & (a.status != DEAD))[0])
    a.position[citizen] = a.position[cop]
    snap = lattice_snapshot(sim.place)
    y, x = divmod(int(a.position[cop]), int(sim.place.lattice.width))
    assert snap["occupant"][y, x] == COP_SITE
    assert snap["group"][y, x] == -1
    assert snap["occupants"][y, x] == 2


# -- outburst statistics ------------------------------------------------------------------


def test_outbursts_exactly_fifty_never_starts_one():
    s = outbursts([0, 50, 50, 50, 10])
    assert s.count == 0
    assert s.summary()["outbursts"] == 0 and s.summary()["peak_max"] is None


def test_outbursts_known_answers():
    #        tick: 0   1   2   3   4  5  6   7   8   9
    series = [10, 51, 50, 60, 49, 0, 0, 70, 80, 20]
    # Outburst 1 starts at 1 (51 > 50), stays through 50 (not below 50), ends at 4 (49).
    # Outburst 2 starts at 7, ends at 9. Waiting time 7 - 4 = 3.
    s = outbursts(series)
    assert s.count == 2 and len(s.complete) == 2
    o1, o2 = s.outbursts
    assert (o1.start, o1.end, o1.duration, o1.peak, o1.total_activation) == (1, 4, 3, 60, 161)
    assert (o2.start, o2.end, o2.duration, o2.peak, o2.total_activation) == (7, 9, 2, 80, 150)
    assert s.waiting_times.tolist() == [3]
    summ = s.summary()
    assert summ["total_activation_mean"] == 155.5
    assert summ["total_activation_sd"] == pytest.approx(np.std([161, 150], ddof=1))
    assert summ["duration_mean"] == 2.5 and summ["waiting_time_sd"] is None


def test_outbursts_run_ending_mid_outburst():
    s = outbursts([0, 60, 20, 0, 100, 120], ticks=[10, 11, 12, 13, 14, 15])
    assert s.count == 2
    first, last = s.outbursts
    assert (first.start, first.end, first.complete) == (11, 12, True)
    assert (last.start, last.end, last.complete, last.peak) == (14, 16, False, 120)
    # The unfinished outburst counts for peaks but not for durations or activations.
    assert s.peaks.tolist() == [60, 120]
    assert s.durations.tolist() == [1]
    assert s.total_activations.tolist() == [60]
    assert s.waiting_times.tolist() == [2]
    only_open = outbursts([0, 99, 99])
    assert only_open.count == 1 and only_open.waiting_times.size == 0
    assert only_open.summary()["duration_mean"] is None


def test_outbursts_none_in_a_calm_run():
    s = outbursts(np.zeros(200, np.int64))
    assert s.count == 0
    assert s.summary() == {
        "threshold": 50,
        "outbursts": 0,
        "complete_outbursts": 0,
        "peak_max": None,
        "peak_mean": None,
        "duration_mean": None,
        "duration_sd": None,
        "total_activation_mean": None,
        "total_activation_sd": None,
        "waiting_time_mean": None,
        "waiting_time_sd": None,
        "first_start": None,
    }


def test_run_outbursts_sums_groups_and_reads_all_sources(tmp_path):
    # Actives split across the two groups: only their sum (20, 60, 80, 40, 0) crosses
    # the threshold; it begins at tick 1 and ends at tick 3 (40 < 50).
    table = pa.table(
        {
            "tick": [0, 1, 2, 3, 4],
            "active_blue": [10, 30, 40, 30, 0],
            "active_green": [10, 30, 40, 10, 0],
        }
    )
    s = run_outbursts(table)
    assert [(o.start, o.end, o.peak, o.total_activation) for o in s.outbursts] == [
        (1, 3, 80, 60 + 80)
    ]
    assert run_outbursts(table, threshold=70).outbursts[0].start == 2

    sim = upheaval.run(RUN2, steps=150, seed=1, out=tmp_path / "run")
    from_dir = run_outbursts(tmp_path / "run")
    from_str = run_outbursts(str(tmp_path / "run"))
    from_sim = run_outbursts(sim)
    active = sim.table().column("active_blue").to_numpy()
    assert from_dir == from_sim == from_str == outbursts(active)
    assert from_dir.count >= 1  # run 2 erupts within 150 ticks at seed 1
    with pytest.raises(TypeError, match="run directory, a per-tick table or a Simulation"):
        run_outbursts(42)


def test_manifest_records_timeline_actions():
    from upheaval.model.timeline import ActionEvent
    from upheaval.results.recorder import timeline_entries

    entries = timeline_entries([ActionEvent(tick=3, action="shock", factor=2.0, area=(0, 0, 9, 9))])
    assert entries == [
        {
            "kind": "action",
            "tick": 3,
            "action": "shock",
            # every key the action takes, defaults included
            "factor": 2.0,
            "target": "all",
            "area": (0, 0, 9, 9),
        }
    ]


def test_speed_excludes_the_call_that_compiles(tmp_path):
    """In a fresh process the first step compiles (or loads) the kernel: its time is
    counted in compile_s with its agent-steps, and the manifest's speed is that of
    the ticks after it."""
    import json
    import subprocess
    import sys

    run_dir = str(tmp_path / "run")
    code = (
        "import json, upheaval\n"
        f"sim = upheaval.run('epstein2002-run2', steps=5, seed=1, out={run_dir!r})\n"
        "print(json.dumps(sim.timings))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    timings = json.loads(out.strip().splitlines()[-1])
    assert timings["compile_s"] > 0 and timings["compile_agent_steps"] == 1120 + 64
    m = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert m["timings"]["compile_s"] == timings["compile_s"]
    assert m["agent_steps_per_second"] == (m["agent_steps"] - 1184) / m["timings"]["steps_s"]


# -- runs recorded by an older upheaval ----------------------------------------------
LATER = (
    "framing",
    "control",
    "sites_declared",
    "sites_held",
    "sites_seized",
    "sites_retaken",
    "sites_burned",
    "site_guards",
    "under_emergency",
    "under_curfew",
)


@pytest.mark.parametrize("country", [False, True])
def test_a_run_recorded_before_later_mechanisms_reads_as_it_would_have(tmp_path, country):
    """A run directory from before the sites, emergencies and framing columns existed
    reads with those columns as the run had them: counters 0, framing 0 and a
    place's control its streets alone — exactly what this version records for the
    same run, since nothing of those mechanisms is on in it."""
    from country.helpers import country_scenario, three_towns

    sc = (
        country_scenario(three_towns(), legitimacy=0.7, steps=25)
        if country
        else upheaval.load("epstein2002-run2").with_params(width=20, height=20)
    )
    out = tmp_path / "run"
    upheaval.run(sc, steps=25, seed=3, out=str(out))
    _, now = read_run(out)
    assert now.to_pandas().control.lt(1).any()  # the streets were not all quiet
    old = now.drop_columns(list(LATER))
    (out / "ticks.parquet").unlink()
    pq.write_table(old, out / "ticks.parquet")
    _, back = read_run(out)
    assert back.equals(now)
    # what is not a later mechanism's column is still refused, by name
    pq.write_table(old.drop_columns(["arrests"]), out / "ticks.parquet")
    with pytest.raises(RunDirectoryError, match="no column 'arrests'"):
        read_run(out)
