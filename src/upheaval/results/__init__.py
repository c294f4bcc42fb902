"""Results of runs: recording to disk (Parquet + manifest), reading back, outbursts.

Example::

    import upheaval
    from upheaval.results import read_run, read_snapshots, run_outbursts

    upheaval.run("epstein2002-run2", seed=1, out="runs/demo", snapshots=(0, 250, 500))
    manifest, table = read_run("runs/demo")     # dict, pyarrow.Table
    stats = run_outbursts(table)                # or run_outbursts("runs/demo")
    stats.summary()["waiting_time_mean"]
    grids = read_snapshots("runs/demo")[250]    # occupant, group, occupants: (height, width)
"""

from upheaval.results.outbursts import (
    DEFAULT_THRESHOLD,
    Outburst,
    OutburstStats,
    outbursts,
    run_outbursts,
)
from upheaval.results.recorder import (
    FIGURE,
    MANIFEST,
    SNAPSHOTS,
    TICKS,
    Recorder,
    RunDirectoryError,
    read_manifest,
    read_run,
    read_snapshots,
)
from upheaval.results.snapshots import OCCUPANT_CODES, lattice_snapshot

__all__ = [
    "DEFAULT_THRESHOLD",
    "FIGURE",
    "MANIFEST",
    "OCCUPANT_CODES",
    "SNAPSHOTS",
    "TICKS",
    "Outburst",
    "OutburstStats",
    "Recorder",
    "RunDirectoryError",
    "lattice_snapshot",
    "outbursts",
    "read_manifest",
    "read_run",
    "read_snapshots",
    "run_outbursts",
]
