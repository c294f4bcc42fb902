"""The Python API's answers to a caller's mistakes: clear TypeError/ValueError (or
ScenarioError) naming the argument, never a silent wrong run or a numpy traceback."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import upheaval
from upheaval.cli import app
from upheaval.engine.memory import available_bytes, estimated_bytes

RUN2 = "epstein2002-run2"


@pytest.fixture(scope="module")
def sc():
    return upheaval.apply_overrides(upheaval.load(RUN2), {"width": 16, "height": 16})


def test_simulation_needs_a_scenario_not_a_name():
    with pytest.raises(TypeError, match=r"needs a Scenario .*upheaval\.load"):
        upheaval.Simulation(RUN2)


@pytest.mark.parametrize("seed", [1.5, "7", True, [1]])
def test_seed_must_be_whole(sc, seed):
    with pytest.raises(TypeError, match="seed must be a whole number"):
        upheaval.Simulation(sc, seed=seed)


def test_seed_may_be_a_numpy_integer_or_a_seed_sequence(sc):
    a = upheaval.Simulation(sc, seed=np.int64(3)).run(5).table()
    assert a.equals(upheaval.Simulation(sc, seed=3).run(5).table())
    upheaval.Simulation(sc, seed=np.random.SeedSequence(3)).run(1)


def test_negative_seed(sc):
    with pytest.raises(ValueError, match="seed must be ≥ 0"):
        upheaval.Simulation(sc, seed=-1)


@pytest.mark.parametrize("call", ["step", "run"])
def test_negative_or_fractional_tick_counts(sc, call):
    sim = upheaval.Simulation(sc, seed=1)
    with pytest.raises(ValueError, match="must be ≥ 0, got -5"):
        getattr(sim, call)(-5)
    with pytest.raises(TypeError, match=r"must be a whole number, got float 2\.5"):
        getattr(sim, call)(2.5)
    assert sim.tick == 0  # nothing ran
    getattr(sim, call)(0)
    assert sim.tick == 0


def test_upheaval_run_negative_steps():
    with pytest.raises(ValueError, match="steps must be ≥ 0"):
        upheaval.run(RUN2, steps=-5)


def test_a_lattice_too_large_for_memory_is_refused_before_allocating():
    big = upheaval.apply_overrides(upheaval.load(RUN2), {"width": 1_000_000, "height": 1_000_000})
    need = estimated_bytes(big.params)
    assert need > 10 * 2**40  # terabytes: no machine running these tests has them
    with pytest.raises(upheaval.ScenarioError, match=r"1000000×1000000 lattice needs about"):
        upheaval.Simulation(big)
    for progress in ("--no-progress", "--progress"):  # the bar leaves nothing behind
        r = CliRunner().invoke(
            app,
            ["run", RUN2, "--set", "world.width=1000000", "--set", "world.height=1000000",
             progress],
        )  # fmt: skip
        assert r.exit_code == 2, r.output
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "world.width" in lines[0] and "TiB" in lines[0], r.stderr
        assert "available" in lines[0]


def test_the_estimate_is_close_to_what_a_run_holds(sc):
    # The estimate counts the state plus the transient shuffle; the state's own bytes
    # (Simulation.nbytes) must be of the same size, and less.
    big = upheaval.apply_overrides(upheaval.load(RUN2), {"width": 200, "height": 200})
    sim = upheaval.Simulation(big, seed=1)
    est = estimated_bytes(big.params)
    assert sim.nbytes() < est < 3 * sim.nbytes()
    assert available_bytes() is None or available_bytes() > 0
