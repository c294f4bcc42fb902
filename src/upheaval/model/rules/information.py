"""Mechanism 7: information beyond sight — a long-range channel (issue 3; docs/odd.md §7.15).

In the classic model a citizen knows only what it sees within vision v. With the
channel on, it also hears a broadcast of the whole lattice at the end of the
previous tick (Makowsky & Rubin 2013: information technology lets citizens learn of
dissent far beyond their own neighbourhood). The form is ours: the broadcast is
turned into as-if-seen counts, what the citizen would see in a vision of its size
if the reported actives and arrests were spread evenly over the lattice,

    A_media = ⌊w_A · actives_{t−1} · |V| / sites⌋
    C_media = ⌊w_R · (arrests_{t−1} + killings_{t−1}) · |V| / sites⌋

with |V| the sites within citizen vision, and rule A uses C + C_media and
A = 1 + actives seen + A_media. w_A > 0 makes rebellion elsewhere lower perceived
risk (mobilising); w_R > 0 makes widely broadcast repression raise it (damping).
The counts are whole numbers so that every ratio rule stays exact integer
arithmetic. An internet shutdown (timeline action ``shutdown``; ``restore`` brings
it back) sets both to 0: citizens fall back on their own eyes (Hassanpour 2014).

Whether the channel is up at a tick is a function of the parameters and the
timeline alone (:func:`online_at`), so checkpoints carry no extra state. No random
draws: the random-stream contract is unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def online_at(initially_online: bool, timeline: Iterable, tick: int) -> bool:
    """Whether the channel is up at ``tick``: ``information.online`` as toggled by
    the last ``shutdown``/``restore`` action at a tick ≤ ``tick`` (file order among
    ties, as the timeline acts)."""
    online = bool(initially_online)
    for e in sorted(timeline, key=lambda e: getattr(e, "tick", getattr(e, "start", 0))):
        action = getattr(e, "action", None)
        if action not in ("shutdown", "restore") or e.tick > tick:
            continue
        online = action == "restore"
    return online


def as_if_seen(weight: float, count: int, vision_sites: int, sites: int) -> int:
    """⌊weight · count · |V| / sites⌋: a lattice-wide count as a citizen would see it
    within its vision were it spread evenly."""
    if weight <= 0.0 or count <= 0 or sites <= 0:
        return 0
    return int(math.floor(weight * count * vision_sites / sites))


def broadcast(
    online: bool,
    actives_weight: float,
    repression_weight: float,
    actives: int,
    repression: int,
    vision_sites: int,
    sites: int,
) -> tuple[int, int]:
    """(A_media, C_media) for the next tick; (0, 0) while the channel is down."""
    if not online:
        return 0, 0
    return (
        as_if_seen(actives_weight, actives, vision_sites, sites),
        as_if_seen(repression_weight, repression, vision_sites, sites),
    )
