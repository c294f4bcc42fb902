"""The state of a run: struct-of-arrays agents on a lattice, plus random streams.

Agents live in fixed-capacity arrays indexed by *slot*; a removed agent's slot is
marked ``DEAD`` and kept on a free list for reuse (Model II births, cop
reinforcements). Per agent this costs 21 bytes (Model I), per site 5 bytes.

The fields a turn reads (position, hardship, risk aversion, list link, jail term,
kind, status) are interleaved in one 20-byte record per slot (``HOT_RECORD``), and
the :class:`Agents` arrays of those fields are strided views of its columns: random
activation visits slots in random order, and on a large world one record is one
cache miss where seven separate arrays were up to seven (2000×2000: 150 → 140 ns per
agent-step). Code that copies the arrays gets contiguous ones; :func:`interleaved`
puts them back into a record.

The lattice keeps, per site, one occupancy byte (a 2-bit count of each kind of
occupant: cops, active, quiet, jailed-holding-the-site) and the head of a linked list
of the agents there. Counts rather than a single owner let a site be shared where a
rule set allows it (NetLogo: a released prisoner returns to its site, a cop steps
onto its arrestee's site); see :mod:`upheaval.world.grid`.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from upheaval.core.codes import DEAD

Agents = namedtuple(
    "Agents",
    [
        "kind",  # int8: CITIZEN or COP
        "status",  # int8: QUIET, ACTIVE, JAILED or DEAD
        "position",  # int32: flat site index y*width + x (kept while jailed off-lattice)
        "hardship",  # float32: H ~ U(0, 1); a cop's H_c when cops have minds (else 0)
        "risk_aversion",  # float32: R ~ U(0, 1); a cop's loyalty ℓ when cops have minds
        "jail_left",  # int16: remaining jail term, FOREVER for life
        "cell_next",  # int32: next agent on the same site, -1 at the end
        "group",  # int8: Model II group or Model I identity tag (BLUE/GREEN); else all BLUE
        "age",  # int16: Model II age in ticks (empty array in Model I)
        "death_age",  # int16: Model II age at death (empty array in Model I)
        # Mechanism state, each an empty array unless its mechanism is on (OPTIONAL):
        "legit",  # float32: per-agent legitimacy L_i (legitimacy.feedback = per_agent)
        "fear",  # float32: fear from killings seen (lethal_force.deterrence > 0)
        "cohort",  # int8: 1 for the hardship group (hardship.group_share > 0)
        "hardship0",  # float32: hardship before any shock (timeline rollbacks)
        "unit",  # int8: reinforcement unit, 0 for the initial force (timeline reinforcements)
        "faction",  # int8: a cop's commanding faction, RULER or RIVAL (elite split)
        "role",  # int8: 1 for a provocateur (provocateurs.count > 0)
        "org",  # int16: organised group + 1, 0 for a non-member (organisation.groups > 0)
    ],
)
Agents.__doc__ = "All agents, struct of arrays, indexed by slot."

#: Names of the per-tick tallies returned by the kernels' ``tally``.
TALLY = (
    "quiet_blue",
    "active_blue",
    "jailed_blue",
    "quiet_green",
    "active_green",
    "jailed_green",
    "cops",
)

#: Names of the per-tick event counters written by the step kernel.
EVENTS = (
    "arrests",
    "killed_blue",
    "killed_green",
    "born_blue",
    "born_green",
    "died_blue",
    "died_green",
    "released",
)


#: Per-agent arrays that exist only while a mechanism needs them (else size 0), so the
#: classic model keeps its memory per agent.
OPTIONAL = {
    "legit": np.float32,
    "fear": np.float32,
    "cohort": np.int8,
    "hardship0": np.float32,
    "unit": np.int8,
    "faction": np.int8,
    "role": np.int8,
    "org": np.int16,
}

#: One slot's fields on the per-turn path, in one record (4-byte fields first, so all
#: stay aligned at 20 bytes a record).
HOT_RECORD = np.dtype(
    [
        ("position", np.int32),
        ("hardship", np.float32),
        ("risk_aversion", np.float32),
        ("cell_next", np.int32),
        ("jail_left", np.int16),
        ("kind", np.int8),
        ("status", np.int8),
    ]
)


def _hot_record(capacity: int) -> np.ndarray:
    rec = np.zeros(capacity, HOT_RECORD)
    rec["status"] = DEAD
    rec["position"] = -1
    rec["cell_next"] = -1
    return rec


def empty_agents(capacity: int, model2: bool, extras: tuple[str, ...] = ()) -> Agents:
    """Allocate agent arrays with every slot free; ``extras`` names the OPTIONAL arrays
    to allocate in full."""
    n2 = capacity if model2 else 0
    opt = {
        name: np.zeros(capacity if name in extras else 0, dtype) for name, dtype in OPTIONAL.items()
    }
    rec = _hot_record(capacity)
    return Agents(
        **{name: rec[name] for name in HOT_RECORD.names},
        group=np.zeros(capacity, np.int8),
        age=np.zeros(n2, np.int16),
        death_age=np.zeros(n2, np.int16),
        **opt,
    )


def interleaved(a: Agents) -> Agents:
    """A copy of ``a`` whose per-turn fields are views of one fresh record (see the
    module docstring); the other arrays are copied as they are."""
    rec = np.empty(a.kind.shape[0], HOT_RECORD)
    for name in HOT_RECORD.names:
        rec[name] = getattr(a, name)
    return Agents(
        *(rec[f] if f in HOT_RECORD.names else getattr(a, f).copy() for f in Agents._fields)
    )


def extras_of(a: Agents) -> tuple[str, ...]:
    """The OPTIONAL arrays that ``a`` holds in full."""
    return tuple(name for name in OPTIONAL if getattr(a, name).shape[0] > 0)


def with_extras(a: Agents, extras: tuple[str, ...]) -> Agents:
    """``a`` with the named OPTIONAL arrays allocated (zeros) where they are empty."""
    n = a.kind.shape[0]
    changes = {
        name: np.zeros(n, OPTIONAL[name]) for name in extras if getattr(a, name).shape[0] == 0
    }
    return a._replace(**changes) if changes else a


def grow_agents(a: Agents, capacity: int) -> Agents:
    """A copy of ``a`` with room for ``capacity`` slots; new slots are free."""
    old = a.kind.shape[0]
    if capacity <= old:
        return a
    new = empty_agents(capacity, a.age.shape[0] > 0, extras_of(a))
    for name in Agents._fields:
        src = getattr(a, name)
        if src.shape[0]:
            getattr(new, name)[:old] = src
    return new


def agents_nbytes(a: Agents) -> int:
    return sum(getattr(a, f).nbytes for f in Agents._fields)
