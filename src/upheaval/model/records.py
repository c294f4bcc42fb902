"""An agent's own record while it is off its place's lattice: a cop guarding a key
site (rules/sites.py, docs/odd.md §12.4) or on its way to another place in a convoy
(rules/transport.py, §12.2), an activist travelling to another place
(rules/travel.py, §12.5).

Off the lattice an agent is no agent of it: its slot is freed (and may be reused),
so what makes it *that* agent — a cop's unit (and so its mode and origin), its mind
(H_c in ``hardship``, loyalty ℓ in ``risk_aversion``), its faction and fear; a
citizen's hardship, risk aversion, group, age, own legitimacy …; every per-agent
field the run keeps — is copied into a :data:`RECORD` as it leaves and written back
into a new slot when it joins a lattice again (:func:`rejoin`): nothing is drawn
for it but its cell, so a cop comes back, or arrives elsewhere, with its own mind
and not a new one, and a traveller with its own grievance. A field whose array the
run does not hold is kept as 0. Guards, convoys and travellers share this one way
of carrying an agent.
"""

from __future__ import annotations

import numpy as np

from upheaval.core.codes import ACTIVE, CITIZEN, COP, LANE_ACTIVE, LANE_COP, QUIET
from upheaval.core.jit import kernel
from upheaval.model.rules.forces import random_empty_site_in_area
from upheaval.model.slots import pop_free
from upheaval.model.state import OPTIONAL, Agents, empty_agents
from upheaval.world.grid import place as put_on_cell

#: The fields of a cop on the lattice that its record does not keep: where it stands
#: and what only an agent of the lattice has (it comes back a quiet cop).
ON_THE_LATTICE = ("kind", "status", "position", "jail_left", "cell_next")
#: The per-agent fields a cop keeps off the lattice: all the others, optional arrays
#: included.
KEPT = tuple(f for f in Agents._fields if f not in ON_THE_LATTICE)
_ALL = empty_agents(0, True, tuple(OPTIONAL))
#: One cop's record, its fields with the dtypes of their arrays (so kept bit for bit).
RECORD = np.dtype([(f, getattr(_ALL, f).dtype) for f in KEPT])


def records_of(a: Agents, slots: np.ndarray) -> np.ndarray:
    """The :data:`RECORD` of each agent in ``slots`` (just taken off the lattice: a
    removed agent's fields stay in its slot until the slot is reused), in order."""
    out = np.zeros(slots.shape[0], RECORD)
    for f in KEPT:
        column = getattr(a, f)
        if column.shape[0]:
            out[f] = column[slots]
    return out


def kept_fields(records: np.ndarray) -> np.ndarray:
    """The :data:`RECORD` part of records that hold more (a guard post's site)."""
    out = np.zeros(records.shape[0], RECORD)
    for f in KEPT:
        out[f] = records[f]
    return out


@kernel
def rejoin(g, a, kept, count, kind, status, lane, rng, free_slots, meta):
    """Put the first ``count`` agents of ``kept`` (an :class:`Agents` of their
    records) on the lattice as ``kind`` and ``status`` (in ``lane``), each on a
    uniformly drawn empty cell of the whole lattice drawn as
    :func:`~upheaval.model.rules.forces.add_cops` draws it, in the lowest free slot,
    with the fields it kept; returns how many found a cell (the first ones). Nothing
    else is drawn: a cop keeps its own mind."""
    placed = 0
    for k in range(count):
        c = random_empty_site_in_area(g, 0, 0, g.width - 1, g.height - 1, rng)
        if c < 0:
            break
        i = pop_free(free_slots, meta)
        a.kind[i] = kind
        a.status[i] = status
        a.jail_left[i] = 0
        a.hardship[i] = kept.hardship[k]
        a.risk_aversion[i] = kept.risk_aversion[k]
        a.group[i] = kept.group[k]
        if a.age.shape[0]:
            a.age[i] = kept.age[k]
            a.death_age[i] = kept.death_age[k]
        if a.legit.shape[0]:
            a.legit[i] = kept.legit[k]
        if a.fear.shape[0]:
            a.fear[i] = kept.fear[k]
        if a.cohort.shape[0]:
            a.cohort[i] = kept.cohort[k]
        if a.hardship0.shape[0]:
            a.hardship0[i] = kept.hardship0[k]
        if a.unit.shape[0]:
            a.unit[i] = kept.unit[k]
        if a.faction.shape[0]:
            a.faction[i] = kept.faction[k]
        if a.role.shape[0]:
            a.role[i] = kept.role[k]
        if a.org.shape[0]:
            a.org[i] = kept.org[k]
        a.cell_next[i] = -1
        put_on_cell(g, a, i, c, lane)
        placed += 1
    return placed


def place_cops(place, records: np.ndarray) -> int:
    """Put the cops of ``records`` (a :data:`RECORD` array, or one that holds its
    fields) on ``place``'s lattice, quiet, in order (:func:`rejoin`); returns how
    many found an empty cell (the first ones)."""
    return _place(place, records, COP, QUIET, LANE_COP)


def place_activists(place, records: np.ndarray) -> int:
    """Put the citizens of ``records`` on ``place``'s lattice, active, in order
    (:func:`rejoin`); returns how many found an empty cell (the first ones)."""
    return _place(place, records, CITIZEN, ACTIVE, LANE_ACTIVE)


def _place(place, records: np.ndarray, kind: int, status: int, lane: int) -> int:
    n = int(records.shape[0])
    place.reserve(n)
    agents = place.agents
    kept = Agents(
        **{
            f: np.ascontiguousarray(records[f])
            if f in KEPT
            else np.zeros(0, getattr(agents, f).dtype)
            for f in Agents._fields
        }
    )
    return int(
        rejoin(
            place.lattice,
            agents,
            kept,
            n,
            kind,
            status,
            lane,
            place.streams["events"],
            place.free_slots,
            place.free_meta,
        )
    )
