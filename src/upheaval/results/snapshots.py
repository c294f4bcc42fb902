"""Lattice snapshots: who stands on each site at a chosen tick.

A snapshot is derived from the agents' arrays only (the recorder never touches the
engine's state). Each site gets an *occupant code*:

====  ========  =====================================================
code  name      meaning
====  ========  =====================================================
0     empty     no agent on the site
1     quiet     a quiet citizen
2     active    an active citizen
3     jailed    a jailed citizen whose site this is
4     cop       a cop
====  ========  =====================================================

Where a rule set lets a site be shared (NetLogo: a released prisoner returns to its
site, a cop steps onto its arrestee's site), the code shows the most visible
occupant, in the order cop, active, quiet, jailed, and ``occupants`` keeps how many
agents are there. A jailed citizen keeps its site's position even where the rule set
takes it off the lattice (``jail.hold_site = false``), so it shows as ``jailed`` only
if nobody else stands there. ``group`` is the shown citizen's Model II group
(0 Blue, 1 Green), -1 for an empty site or a cop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from upheaval.core.codes import ACTIVE, COP, DEAD, JAILED

if TYPE_CHECKING:
    import pyarrow as pa

    from upheaval.engine.place import Place

EMPTY_SITE = 0
QUIET_SITE = 1
ACTIVE_SITE = 2
JAILED_SITE = 3
COP_SITE = 4

#: Occupant code → name, as stored in ``snapshots.parquet``.
OCCUPANT_CODES = {
    EMPTY_SITE: "empty",
    QUIET_SITE: "quiet",
    ACTIVE_SITE: "active",
    JAILED_SITE: "jailed",
    COP_SITE: "cop",
}

# Visibility rank of each code (higher wins a shared site), and its inverse.
_RANK = np.array([0, 2, 3, 1, 4], np.int64)  # indexed by code
_CODE_OF_RANK = np.array([EMPTY_SITE, JAILED_SITE, QUIET_SITE, ACTIVE_SITE, COP_SITE], np.uint8)
# Ranks are packed with the group as rank * _GROUPS + (group + 1), so that one
# maximum per site picks the occupant and keeps its group.
_GROUPS = 4


def lattice_snapshot(place: Place) -> dict[str, np.ndarray]:
    """Occupant codes, groups and occupant counts per site, each ``(height, width)``.

    Row ``y``, column ``x`` is site ``y * width + x``, the engine's flat index.
    """
    width, height = int(place.lattice.width), int(place.lattice.height)
    n_sites = width * height
    a = place.agents
    live = (a.status != DEAD) & (a.position >= 0)
    pos = a.position[live].astype(np.int64)
    status = a.status[live]
    is_cop = a.kind[live] == COP
    code = np.full(pos.shape, QUIET_SITE, np.int64)
    code[status == ACTIVE] = ACTIVE_SITE
    code[status == JAILED] = JAILED_SITE
    code[is_cop] = COP_SITE
    group = np.where(is_cop, -1, a.group[live].astype(np.int64))
    key = _RANK[code] * _GROUPS + (group + 1)
    best = np.zeros(n_sites, np.int64)
    np.maximum.at(best, pos, key)
    occupant = _CODE_OF_RANK[best // _GROUPS]
    site_group = (best % _GROUPS - 1).astype(np.int8)
    occupants = np.minimum(np.bincount(pos, minlength=n_sites), 255).astype(np.uint8)
    shape = (height, width)
    return {
        "occupant": occupant.reshape(shape),
        "group": site_group.reshape(shape),
        "occupants": occupants.reshape(shape),
    }


def snapshot_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            ("tick", pa.int64()),
            ("x", pa.int32()),
            ("y", pa.int32()),
            ("occupant", pa.uint8()),
            ("group", pa.int8()),
            ("occupants", pa.uint8()),
        ]
    )


def snapshot_table(tick: int, snap: dict[str, np.ndarray]) -> pa.Table:
    """One snapshot as rows (tick, x, y, occupant, group, occupants) in site order."""
    import pyarrow as pa

    height, width = snap["occupant"].shape
    ys, xs = np.divmod(np.arange(width * height, dtype=np.int32), np.int32(width))
    return pa.table(
        {
            "tick": np.full(width * height, tick, np.int64),
            "x": xs,
            "y": ys,
            "occupant": snap["occupant"].ravel(),
            "group": snap["group"].ravel(),
            "occupants": snap["occupants"].ravel(),
        },
        schema=snapshot_schema(),
    )


def snapshots_from_table(table: pa.Table, width: int, height: int) -> dict[int, dict]:
    """Tick → ``{"occupant", "group", "occupants"}`` arrays of shape (height, width)."""
    ticks = table.column("tick").to_numpy()
    out: dict[int, dict] = {}
    for t in np.unique(ticks):
        rows = table.filter(table.column("tick").to_numpy() == t).sort_by(
            [("y", "ascending"), ("x", "ascending")]
        )
        if rows.num_rows != width * height:
            raise ValueError(
                f"snapshot at tick {int(t)} has {rows.num_rows} sites, expected {width}×{height}"
            )
        out[int(t)] = {
            name: rows.column(name).to_numpy().reshape(height, width)
            for name in ("occupant", "group", "occupants")
        }
    return out
