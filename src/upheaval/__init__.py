"""upheaval: agent-based simulation of civil unrest and the state's response.

Public API::

    import upheaval
    sc = upheaval.load("epstein2002-run2")            # a preset or a .toml file
    sc = upheaval.apply_overrides(sc, {"legitimacy": 0.8})
    sim = upheaval.Simulation(sc, seed=7).run(500)
    table = sim.table()                               # pyarrow.Table, one row per tick
    sim = upheaval.run("epstein2002-run2", seed=7, out="runs/demo")  # recorded to disk
    manifest, table = upheaval.results.read_run("runs/demo")
"""

from upheaval._version import __version__
from upheaval.engine.simulation import Checkpoint, Simulation
from upheaval.model.params import Params
from upheaval.results.runner import run
from upheaval.scenario.loading import (
    ScenarioError,
    apply_overrides,
    load,
    load_file,
    load_preset,
    preset_names,
)
from upheaval.scenario.schema import Scenario

__all__ = [
    "Checkpoint",
    "Params",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "__version__",
    "apply_overrides",
    "load",
    "load_file",
    "load_preset",
    "preset_names",
    "run",
]
