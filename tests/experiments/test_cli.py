"""`upheaval sweep`, `query` and `sensitivity` from the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import upheaval
from upheaval.cli import app
from upheaval.experiments import read_runs
from upheaval.results.runner import TimelineWarning

runner = CliRunner()
SMALL = ["--set", "width=20", "--set", "height=20", "--steps", "20", "--no-progress"]


def test_sweep_query_sensitivity(tmp_path):
    out = tmp_path / "s"
    args = ["sweep", "epstein2002-run2", "--design", "sobol", "-p", "legitimacy=0.5:0.95"]
    args += ["-p", "cop_density=0.02:0.08", "-N", "8", "--no-second-order", "--out", str(out)]
    r = runner.invoke(app, [*args, *SMALL, "--workers", "1"])
    assert r.exit_code == 0, r.output
    assert "32/32 runs done" in r.output
    assert read_runs(out).num_rows == 32

    r = runner.invoke(app, ["query", str(out), "SELECT count(*) AS n FROM runs", "-f", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output.strip()) == {"n": 32}
    r = runner.invoke(
        app,
        ["query", str(out), "SELECT point, peak_active FROM runs ORDER BY 1 LIMIT 2", "-f", "csv"],
    )
    assert r.output.splitlines()[0] == "point,peak_active" and len(r.output.splitlines()) == 3
    r = runner.invoke(app, ["query", str(out), "SELECT nope FROM runs"])
    assert r.exit_code == 2 and "nope" in r.output

    r = runner.invoke(app, ["sensitivity", str(out), "-y", "peak_active", "--resamples", "100"])
    assert r.exit_code == 0, r.output
    assert (out / "sensitivity.csv").stat().st_size > 0
    assert (out / "sensitivity.png").read_bytes()[:4] == b"\x89PNG"
    assert "legitimacy" in r.output and "ST" in r.output

    # the same command again resumes and has nothing left to do
    r = runner.invoke(app, [*args, *SMALL, "--workers", "1"])
    assert r.exit_code == 0 and "(0 now, 32 before)" in r.output


def test_user_mistakes_exit_2_with_one_line(tmp_path):
    cases = [
        (["sweep", "epstein2002-run2", "-p", "legitimcy=0:1"], "did you mean"),
        (["sweep", "epstein2002-run2", "-d", "lhs", "-p", "legitimacy=0.5:0.9"], "--samples"),
        (["sweep", "nosuch", "-p", "legitimacy=0.5:0.9"], "no such preset"),
        (["sweep", "epstein2002-run2", "-p", "legitimacy=0.5:0.9", "--workers", "0"], "--workers"),
        (["query", str(tmp_path), "SELECT 1"], "not a sweep directory"),
        (["sensitivity", str(tmp_path)], "not a sweep directory"),
    ]
    for args, needle in cases:
        r = runner.invoke(
            app, [*args, "--out", str(tmp_path / "x")] if args[0] == "sweep" else args
        )
        assert r.exit_code == 2, (args, r.output)
        assert needle in r.output, (args, r.output)


def _one_line(r, *needles):
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_a_parameter_given_by_param_and_set_is_refused(tmp_path):
    base = ["epstein2002-run2", "--out", str(tmp_path / "x"), "--steps", "2"]
    r = runner.invoke(
        app, ["sweep", *base, "-p", "legitimacy=0.6:0.9", "--set", "citizens.legitimacy=0.8"]
    )
    _one_line(r, "--set", "citizens.legitimacy", "--param")
    matrix = tmp_path / "m.csv"
    matrix.write_text("legitimacy\n0.7\n0.8\n")
    r = runner.invoke(
        app, ["sweep", *base, "-d", "matrix", "--matrix", str(matrix), "--set", "legitimacy=0.8"]
    )
    _one_line(r, "--set", "legitimacy", str(matrix))
    r = runner.invoke(
        app,
        ["calibrate", *base, "--observed", str(tmp_path), "-p", "cop_density=0.02:0.05",
         "--set", "cop_density=0.03"],
    )  # fmt: skip
    _one_line(r, "--set", "cop_density", "--param")
    assert not (tmp_path / "x").exists()


def test_timeline_after_the_last_tick_is_a_warning(tmp_path):
    f = tmp_path / "late.toml"
    f.write_text(
        '[scenario]\nextends = "epstein2002-run2"\n[world]\nwidth = 16\nheight = 16\n'
        "[[timeline]]\ntick = 2\nset = { legitimacy = 0.7 }\n"
        '[[timeline]]\ntick = 600\naction = "shock"\nfactor = 1.5\n'
    )
    r = runner.invoke(
        app, ["run", str(f), "--steps", "5", "--out", str(tmp_path / "r"), "--no-progress"]
    )
    assert r.exit_code == 0, r.output
    warnings = [x for x in r.stderr.splitlines() if x.startswith("warning:")]
    assert warnings == [
        f"warning: {f}: timeline[2] (shock at tick 600) comes after the last tick 5; "
        "it never happens"
    ]
    r = runner.invoke(
        app,
        ["sweep", str(f), "-p", "legitimacy=0.6:0.9", "--samples", "1", "--steps", "5",
         "--out", str(tmp_path / "s"), "--no-progress", "--workers", "1"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "timeline[2] (shock at tick 600)" in r.stderr
    with pytest.warns(TimelineWarning, match=r"timeline\[2\]"):
        upheaval.run(str(f), steps=5)


def test_calibrate_warns_when_the_observed_run_differs(tmp_path):
    obs = tmp_path / "obs"
    upheaval.run("epstein2002-run2", steps=6, out=obs, overrides={"width": 16, "height": 16})
    r = runner.invoke(
        app,
        ["calibrate", "epstein2002-run2", "--observed", str(obs), "-p", "legitimacy=0.6:0.9",
         "--set", "width=18", "--set", "height=18", "--steps", "4", "--particles", "2",
         "--generations", "1", "--workers", "1", "--out", str(tmp_path / "c"), "--no-figure"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    warnings = [x for x in r.stderr.splitlines() if x.startswith("warning:")]
    assert len(warnings) == 2, r.stderr
    assert "16×16 lattice, but the runs are 18×18" in warnings[0]
    assert "6 ticks, but the runs have 4" in warnings[1]
