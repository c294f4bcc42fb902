"""The command line as a user meets it: runs, listings, summaries, mistakes, Ctrl-C.

Most tests drive the typer app in-process with CliRunner; the entry point installed
by ``pip install -e .`` is exercised in real subprocesses, including a run stopped
by a real SIGINT (and SIGTERM) whose results must still be complete and readable.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import upheaval
from upheaval.cli import app
from upheaval.results import MANIFEST, TICKS, read_manifest, read_run, read_snapshots, run_outbursts

RUN2 = "epstein2002-run2"
ENTRY_POINT = Path(sys.executable).with_name("upheaval")

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args))


def _one_line_error(result, *needles: str) -> str:
    """The run failed as a user mistake: exit 2, one line on stderr naming the problem."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# -- run ----------------------------------------------------------------------------------


def test_run_writes_results_equal_to_the_api(tmp_path):
    out = tmp_path / "run"
    r = _invoke("run", RUN2, "--steps", "40", "--seed", "3", "--out", str(out), "--no-progress")
    assert r.exit_code == 0, r.output
    assert f"wrote {out}: 41 ticks" in r.stdout
    m, table = read_run(out)
    expected = upheaval.Simulation(upheaval.load(RUN2), seed=3).run(40).table()
    assert table.equals(expected)
    assert m["seed"] == 3 and m["status"] == "complete"
    assert (out / "timeseries.png").stat().st_size > 10_000


def test_run_default_out_set_and_snapshots(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = _invoke(
        "run",
        RUN2,
        "-n",
        "30",
        "--set",
        "legitimacy=0.9",
        "--set",
        "jail.max_jail_term=12",
        "--set",
        "seed=5",
        "--snapshot-every",
        "10",
        "--no-figure",
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "runs" / f"{RUN2}-seed5"
    m = read_manifest(out)
    assert m["parameters"]["citizens.legitimacy"] == 0.9
    assert m["parameters"]["jail.max_jail_term"] == 12.0
    assert m["seed"] == 5
    assert m["snapshot_ticks"] == [0, 10, 20, 30]
    assert sorted(read_snapshots(out)) == [0, 10, 20, 30]
    assert not (out / "timeseries.png").exists()
    sc = upheaval.apply_overrides(
        upheaval.load(RUN2), {"legitimacy": 0.9, "jail.max_jail_term": 12}
    )
    assert read_run(out)[1].equals(upheaval.Simulation(sc, seed=5).run(30).table())

    r = _invoke("run", RUN2, "-n", "20", "--snapshots", "15, 5", "--out", "listed")
    assert r.exit_code == 0, r.output
    assert read_manifest(tmp_path / "listed")["snapshot_ticks"] == [5, 15]


def test_run_scenario_file_and_overwrite_only_with_force(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(
        '[scenario]\nname = "my riot"\nextends = "epstein2002-run2"\n'
        "[citizens]\nlegitimacy = 0.75\n[run]\nsteps = 15\nseed = 8\n"
    )
    out = tmp_path / "out"
    r = _invoke("run", str(f), "--out", str(out), "--no-progress")
    assert r.exit_code == 0, r.output
    m = read_manifest(out)
    assert m["scenario"] == {
        "name": "my riot",
        "description": upheaval.load(RUN2).description,
        "source": str(f),
    }
    assert m["ticks"]["last"] == 15 and m["seed"] == 8

    again = _invoke("run", str(f), "--out", str(out), "-n", "5")
    _one_line_error(again, str(out), "not empty", "--force")
    assert read_manifest(out)["ticks"]["last"] == 15  # untouched
    forced = _invoke("run", str(f), "--out", str(out), "-n", "5", "--force", "--no-progress")
    assert forced.exit_code == 0, forced.output
    assert read_manifest(out)["ticks"]["last"] == 5


# -- mistakes: one line, exit 2 --------------------------------------------------------------


def test_unknown_preset(tmp_path):
    line = _one_line_error(_invoke("run", "epstein2002-run22", "--out", str(tmp_path / "x")))
    assert "epstein2002-run22" in line and "no such preset" in line
    assert not (tmp_path / "x").exists()


def test_unknown_key_in_scenario_file_names_file_and_key(tmp_path):
    f = tmp_path / "typo.toml"
    f.write_text("[citizens]\nlegitimacyy = 0.5\n")
    _one_line_error(_invoke("run", str(f)), str(f), "citizens.legitimacyy", "unknown key")


def test_missing_scenario_file(tmp_path):
    _one_line_error(_invoke("run", str(tmp_path / "gone.toml")), "gone.toml", "no such file")


@pytest.mark.parametrize(
    ("override", "needles"),
    [
        # The key is named as the user wrote it.
        ("legitimacy=1.5", ("--set: legitimacy:", "must be ≤ 1, got 1.5")),
        ("citizens.legitimacy=-0.1", ("--set: citizens.legitimacy:", "must be ≥ 0")),
        ("citizen_density=0.99", ("--set", "population.citizen_density", "exceeds 1")),
        ("legitimacyy=0.5", ("--set", "legitimacyy", "unknown parameter")),
        ("legitimacy", ("--set", "legitimacy", "expected key=value")),
        ("ratio_rule=ceil", ("--set: ratio_rule:", "'floor'", "got 'ceil'")),
    ],
)
def test_bad_set(tmp_path, override, needles):
    _one_line_error(_invoke("run", RUN2, "--set", override, "--out", str(tmp_path / "x")), *needles)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--steps", "-4"], ("--steps", "run.steps", "≥ 0")),
        (["--seed", "-1"], ("--seed", "run.seed", "≥ 0")),
        (["--snapshots", "1,x"], ("--snapshots", "'x'")),
        (["-n", "10", "--snapshots", "11"], ("--snapshots", "tick 11 is after the last tick 10")),
        (["--snapshots", "1", "--snapshot-every", "2"], ("not both",)),
        (["--snapshot-every", "0"], ("--snapshot-every", "≥ 1")),
    ],
)
def test_bad_options(tmp_path, args, needles):
    _one_line_error(_invoke("run", RUN2, *args, "--out", str(tmp_path / "x")), *needles)


def test_show_mistakes(tmp_path):
    _one_line_error(_invoke("show", str(tmp_path / "nowhere")), "nowhere", "no such directory")
    _one_line_error(_invoke("show", str(tmp_path)), str(tmp_path), "not a run directory")


# -- presets and show -----------------------------------------------------------------------


def test_presets_lists_names_and_descriptions():
    r = _invoke("presets")
    assert r.exit_code == 0
    lines = r.stdout.strip().splitlines()
    assert len(lines) == len(upheaval.preset_names())
    for name, line in zip(upheaval.preset_names(), lines, strict=True):
        assert line.startswith(name)
        assert line.endswith(upheaval.load_preset(name).description)


def test_show_summarises_the_run(tmp_path):
    out = tmp_path / "run"
    upheaval.run(RUN2, steps=150, seed=1, out=out)
    r = _invoke("show", str(out))
    assert r.exit_code == 0, r.output
    _, table = read_run(out)
    last = table.slice(table.num_rows - 1).to_pylist()[0]
    active = table.column("active_blue").to_numpy()
    stats = run_outbursts(table).summary()
    text = r.stdout
    assert f"scenario     {RUN2} (preset {RUN2})" in text
    assert "seed         1\n" in text
    assert "ticks        0 … 150 (151 rows)" in text
    assert (
        f"final        quiet {last['quiet_blue']}, active {last['active_blue']}, "
        f"jailed {last['jailed_blue']}, cops {last['cops']}"
    ) in text
    assert f"peak active  {active.max()} at tick {int(np.argmax(active))}" in text
    assert stats["outbursts"] >= 1
    assert f"outbursts    {stats['outbursts']} ({stats['complete_outbursts']} complete)" in text
    assert f"peak       max {stats['peak_max']:,}" in text


def test_show_model2_reports_groups_and_killings(tmp_path):
    out = tmp_path / "run"
    upheaval.run("epstein2002-run7", steps=40, seed=1, out=out)
    r = _invoke("show", str(out), "--threshold", "100")
    assert r.exit_code == 0, r.output
    _, table = read_run(out)
    for g in ("blue", "green"):
        killed = int(table.column(f"killed_{g}").to_numpy().sum())
        assert f"killed in all {killed}" in r.stdout
    assert "above 100 actives" in r.stdout


# -- the installed entry point, in real processes ----------------------------------------------


def test_entry_point_presets_subprocess():
    assert ENTRY_POINT.exists(), f"{ENTRY_POINT} missing: run `pip install -e .`"
    p = subprocess.run([str(ENTRY_POINT), "presets"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[0] == upheaval.preset_names()[0]
    bad = subprocess.run(
        [str(ENTRY_POINT), "run", "no-such-preset"], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: preset 'no-such-preset': no such preset; see `upheaval presets`"
    ]


def _wait_for_ticks(out: Path, proc: subprocess.Popen, ticks: int, timeout: float) -> int:
    """Poll the manifest that the running process rewrites at every flush."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            count = json.loads((out / MANIFEST).read_text())["ticks"]["count"]
        except (FileNotFoundError, json.JSONDecodeError):
            count = 0
        if count >= ticks:
            return count
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"the run wrote fewer than {ticks} ticks in {timeout} s")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_a_real_run_with_every_tick_on_disk(tmp_path, signum, code):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            str(ENTRY_POINT),
            "run",
            RUN2,
            "--steps",
            "1000000",
            "--seed",
            "6",
            "--out",
            str(out),
            "--flush-every",
            "40",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        flushed = _wait_for_ticks(out, proc, 120, timeout=180)
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    m, table = read_run(out)  # readable: the writer was closed cleanly
    assert m["status"] == "interrupted"
    assert m["reason"] == ("KeyboardInterrupt" if signum == signal.SIGINT else "Terminated")
    last = m["last_tick"]
    assert last >= flushed - 1
    assert f"interrupted at tick {last}" in stderr
    # Every tick up to the last one, exactly as an uninterrupted run computes them.
    assert table.column("tick").to_pylist() == list(range(last + 1))
    assert m["ticks"]["count"] == last + 1
    expected = upheaval.Simulation(upheaval.load(RUN2), seed=6).run(last).table()
    assert table.equals(expected)
    assert (out / TICKS).exists() and (out / "timeseries.png").exists()


# -- a damaged run directory ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", 5),
        ("status", "done"),
        ("seed", "seven"),
        ("seed", 1.5),
        ("variant", None),
        ("scenario", []),
        ("scenario", {"name": "x"}),
        ("ticks", {"count": "many"}),
        ("last_tick", "end"),
        ("parameters", {"world.width": "wide", "world.height": 40}),
        ("agent_steps_per_second", "fast"),
        ("files", None),
    ],
)
def test_show_a_manifest_with_wrong_field_types(tmp_path, field, value):
    out = tmp_path / "run"
    upheaval.run(RUN2, steps=3, out=out)
    m = json.loads((out / MANIFEST).read_text())
    m[field] = value
    (out / MANIFEST).write_text(json.dumps(m))
    name = field if not isinstance(value, dict) else None
    line = _one_line_error(_invoke("show", str(out)), str(out / MANIFEST), "field")
    assert (name or field) in line


def test_show_ticks_that_are_not_a_runs(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "run"
    upheaval.run(RUN2, steps=3, out=out)
    pq.write_table(pa.table({"tick": [0, 1]}), out / TICKS)
    _one_line_error(_invoke("show", str(out)), str(out / TICKS), "no column")


def test_the_same_parameter_set_twice_is_refused(tmp_path):
    r = _invoke("run", RUN2, "--set", "legitimacy=0.7", "--set", "citizens.legitimacy=0.8",
                "--out", str(tmp_path / "r"))  # fmt: skip
    _one_line_error(r, "--set", "citizens.legitimacy", "given twice", "'legitimacy'")
    r = _invoke("run", RUN2, "--set", "legitimacy=0.7", "--set", "legitimacy=0.7",
                "--out", str(tmp_path / "r"))  # fmt: skip
    _one_line_error(r, "--set: legitimacy: given twice; give it once")
    assert not (tmp_path / "r").exists()
