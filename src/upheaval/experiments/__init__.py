"""Experiments at scale: ensembles, sweeps, sensitivity analysis, scenario discovery.

Example::

    import upheaval
    from upheaval.experiments import designs, run_sweep, query

    sc = upheaval.load("epstein2002-run2")
    d = designs.latin_hypercube(
        [designs.parse_factor("legitimacy=0.6:0.9"), designs.parse_factor("cop_density=0.02:0.08")],
        samples=64,
        replicates=5,
    )
    report = run_sweep(sc, d, "sweeps/lhs", steps=500)     # all local cores
    query("sweeps/lhs", "SELECT legitimacy, avg(peak_active) FROM runs GROUP BY 1")

The store layout and its guarantees are in :mod:`upheaval.experiments.store`; the
seeding and the executors in :mod:`upheaval.experiments.runner`. Heavy imports
(SALib, DuckDB, Dask, Ray) happen inside the functions that need them.
"""

from upheaval.experiments import designs
from upheaval.experiments.designs import Design, DesignError, Factor, make_design, parse_factor
from upheaval.experiments.runner import (
    RayExecutor,
    SerialExecutor,
    SweepReport,
    dask_executor,
    local_executor,
    ray_executor,
    run_seed,
    run_sweep,
)
from upheaval.experiments.store import StoreError, connect, query, read_manifest, read_runs
from upheaval.experiments.summaries import METRICS, summarise

__all__ = [
    "METRICS",
    "Design",
    "DesignError",
    "Factor",
    "RayExecutor",
    "SerialExecutor",
    "StoreError",
    "SweepReport",
    "connect",
    "dask_executor",
    "designs",
    "local_executor",
    "make_design",
    "parse_factor",
    "query",
    "ray_executor",
    "read_manifest",
    "read_runs",
    "run_seed",
    "run_sweep",
    "summarise",
]
