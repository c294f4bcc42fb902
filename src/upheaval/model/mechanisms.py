"""The mechanisms of the uprising, in order: the one list the engine reads.

Each entry is the :class:`~upheaval.model.declare.Mechanism` a module of
``model/rules/`` declares. The order is part of the random-stream contract: the
mechanisms' initial draws (``init`` stream) are taken in this order — the hardship
group, the cops' minds, their factions, the provocateurs, the organised groups'
members, the identities — and every per-tick hook runs in it. Adding a mechanism is
one module and one line here (docs/contributing.md).
"""

from __future__ import annotations

from upheaval.model.declare import Mechanism
from upheaval.model.rules import (
    arrest,
    defection,
    elite,
    emergency,
    forces,
    hardship,
    identity,
    information,
    legitimacy,
    lethal,
    organisation,
    provocation,
    sites,
    transport,
    travel,
)

MECHANISMS: tuple[Mechanism, ...] = (
    legitimacy.MECHANISM,  # 1. legitimacy that answers to events
    hardship.MECHANISM,  # 2. hardship heterogeneity, groups and shocks
    lethal.MECHANISM,  # 3. lethal force
    defection.MECHANISM,  # 4. security forces with minds of their own
    forces.MECHANISM,  # 5. reinforcement and intervention
    elite.MECHANISM,  # 9. an elite split (its draws follow the cops' minds)
    provocation.MECHANISM,  # 6. provocateurs and framing
    information.MECHANISM,  # 7. information beyond sight, and shutdowns
    organisation.MECHANISM,  # 8. organised groups and strikes
    identity.MECHANISM,  # 10. divided identities
    transport.MECHANISM,  # 11. forces that travel between places, and blockades
    emergency.MECHANISM,  # 12. states of emergency and curfews
    sites.MECHANISM,  # 13. key sites, seized and guarded; a place's control
    travel.MECHANISM,  # 14. activists who travel between places
    arrest.MECHANISM,  # 15. the arrest rate of rule C (draws nothing at 1)
)

_names = [m.name for m in MECHANISMS]
if len(set(_names)) != len(_names):
    raise RuntimeError(f"two mechanisms share a name: {_names}")


def mechanism(name: str) -> Mechanism:
    """The mechanism of that name."""
    for m in MECHANISMS:
        if m.name == name:
            return m
    raise KeyError(name)


def action_specs() -> dict:
    """Every timeline action: name → its ActionSpec, in registry order."""
    out: dict = {}
    for m in MECHANISMS:
        for name, spec in m.actions.items():
            if name in out:
                raise RuntimeError(f"two mechanisms declare the action {name!r}")
            out[name] = spec
    return out


def owner_of_action(action: str) -> Mechanism:
    """The mechanism that declares ``action``."""
    for m in MECHANISMS:
        if action in m.actions:
            return m
    raise KeyError(action)


def counter_columns() -> tuple[str, ...]:
    """Every mechanism's per-tick counters, in registry order."""
    return tuple(c for m in MECHANISMS for c in m.counters)
