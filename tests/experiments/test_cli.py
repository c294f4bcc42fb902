"""`upheaval sweep`, `query` and `sensitivity` from the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from upheaval.cli import app
from upheaval.experiments import read_runs

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
