"""Progress that tells the truth: a first run says it is compiling the engine, and
sweep, compare and calibrate all show a bar over their runs (views/progress.py)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from rich.console import Console
from typer.testing import CliRunner

import upheaval
from upheaval.cli import app
from upheaval.views import progress
from upheaval.views.progress import COMPILING, STARTING, RunsProgress, progress_bar

RUN2 = "epstein2002-run2"
TINY = ["--set", "width=16", "--set", "height=16", "--steps", "3"]


def _terminal(monkeypatch) -> io.StringIO:
    buf = io.StringIO()
    monkeypatch.setattr(
        progress, "_console", lambda: Console(file=buf, force_terminal=True, width=120)
    )
    return buf


@pytest.mark.parametrize(("cached", "says"), [(False, COMPILING), (True, STARTING)])
def test_the_spinner_says_why_the_bar_waits(monkeypatch, cached, says):
    buf = _terminal(monkeypatch)
    monkeypatch.setattr(progress, "engine_cached", lambda scenario: cached)
    sc = upheaval.apply_overrides(upheaval.load(RUN2), {"width": 16, "height": 16})
    with progress_bar(3, "run2", scenario=sc) as advance:
        assert says in buf.getvalue()  # drawn at once, before anything is built
        upheaval.Simulation(sc, seed=1).run(3, on_tick=advance)
    last_frame = buf.getvalue().rsplit("\x1b[2K", 1)[-1]
    assert "3/3" in buf.getvalue() and says not in last_frame  # gone after the first tick


def _cached_in(cache_dir: str) -> str:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    code = (
        "import upheaval; from upheaval.views.progress import engine_cached; "
        f"print(engine_cached(upheaval.load({RUN2!r})))"
    )
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_engine_cached_tells_a_fresh_cache_from_a_warm_one(tmp_path):
    assert _cached_in(str(tmp_path / "empty")) == "False"
    upheaval.Simulation(upheaval.load(RUN2), seed=1).step()  # this session's cache is warm
    assert _cached_in(os.environ["NUMBA_CACHE_DIR"]) == "True"


def test_runs_progress_draws_nothing_before_its_first_update(monkeypatch):
    buf = _terminal(monkeypatch)
    with RunsProgress("sweep"):
        pass
    assert buf.getvalue() == ""
    with RunsProgress("sweep") as bar:
        bar.update(1, 0, 4)
        bar.update(2, 1, 4, label="next")
    assert "sweep" in buf.getvalue() and "next" in buf.getvalue()


@pytest.mark.parametrize("command", ["sweep", "compare", "calibrate"])
def test_every_experiment_command_shows_a_bar(tmp_path, command):
    obs = tmp_path / "obs"
    upheaval.run(RUN2, steps=3, out=obs, overrides={"width": 16, "height": 16})
    args = {
        "sweep": ["sweep", RUN2, "-p", "legitimacy=0.6:0.9", "--samples", "2"],
        "compare": ["compare", RUN2, "--what-if", "x:cop_density=0.08", "-r", "2",
                    "--no-figure", "--resamples", "10"],
        "calibrate": ["calibrate", RUN2, "--observed", str(obs), "-p", "legitimacy=0.6:0.9",
                      "--particles", "2", "--generations", "1", "--no-figure"],
    }[command]  # fmt: skip
    r = CliRunner().invoke(app, [*args, *TINY, "--workers", "1", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert "runs · failed 0" in r.stderr, r.stderr
    r = CliRunner().invoke(
        app, [*args, *TINY, "--workers", "1", "--out", str(tmp_path / "p"), "--no-progress"]
    )
    assert r.exit_code == 0 and "runs · failed" not in r.stderr
