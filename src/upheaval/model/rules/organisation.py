"""Mechanism 8: organised groups and strikes (issue 3; our design, docs/odd.md §7.17).

In the classic model every citizen decides alone. Here a share of the citizens
(``organisation.member_share``) belong to one of ``organisation.groups`` organised
groups — the workers of one employer, a strike committee — that decide together:
a group acts when enough of its members are willing (a quorum, after Granovetter's
1978 thresholds applied to a committee rather than to a crowd, and Oliver & Marwell's
1988 organised collective action), and while it acts every member follows it.

Membership (``org`` = group + 1, 0 for a non-member): drawn at initialisation from
the ``init`` stream after every other initial draw — per live citizen in slot order
one ``uniform`` u, and for a member (u < member_share) one ``randint(groups)``.

A free member's turn (:func:`member_decide`, in place of rule A; no draw):

1. its *willingness*: rule A with its net risk scaled by ρ (``risk_factor``),
   willing ⇔ H(1 − L) − (ρ·R)·P·J_max^α > T, with P from the same scan as rule A
   (cops and actives within vision, the broadcast and fear added as there);
2. it adds itself to its group's tallies: free members, and willing members;
3. it does what its group does this tick: ``strike`` — quiet (off the street, not
   arrestable) and counted in the event ``striking``; ``protest`` — active; the
   group not acting — quiet (it follows its committee).

After all turns (engine, no draw) group g acts next tick iff free_g > 0 and
willing_g ≥ quorum · free_g (:func:`groups_acting`); at tick 1 no group acts. While
a timeline ``general_strike`` is in force (:func:`general_strike_at`) every group
strikes whatever its quorum. A strike hurts the regime: L falls by
λ_strike · striking / citizens each tick (:func:`strike_news`), the news path of
lethal force's backlash (model/rules/legitimacy.py), so it works with legitimacy
feedback off too.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from upheaval.core.codes import CITIZEN, DEAD
from upheaval.core.jit import hot_rule, kernel
from upheaval.core.rng import randint, uniform
from upheaval.model.rules.decision import set_free_status
from upheaval.model.rules.decision import willing as passes_rule_a
from upheaval.model.state import EV_STRIKING

#: What a group does this tick (``Rules.organisation_mode[group + 1]``).
IDLE = 0
STRIKE = 1
PROTEST = 2
ACTION_CODES = {"strike": STRIKE, "protest": PROTEST}


@kernel
def draw_membership(a, share, groups, rng):
    """Every live citizen in slot order: member iff uniform < share, then its group."""
    for i in range(a.kind.shape[0]):
        if a.kind[i] == CITIZEN and a.status[i] != DEAD:
            if uniform(rng) < share:
                a.org[i] = 1 + randint(rng, groups)
            else:
                a.org[i] = 0


@hot_rule
def member_decide(g, a, i, r, legitimacy, deterrence, fear, events):
    """The turn's decision of free member ``i`` (module docstring); True if active."""
    # rule A as any citizen weighs it (the same perception), its risk scaled by ρ
    ready = passes_rule_a(g, a, i, r, legitimacy, deterrence, fear, r.organisation_risk)
    group = a.org[i]
    r.organisation_free[group] += 1
    if ready:
        r.organisation_willing[group] += 1
    mode = r.organisation_mode[group]
    if mode == STRIKE:
        events[EV_STRIKING] += 1
    now_active = mode == PROTEST
    set_free_status(g, a, i, now_active)
    return now_active


def groups_acting(willing: np.ndarray, free: np.ndarray, quorum: float) -> np.ndarray:
    """int8 flags per group code: 1 iff free > 0 and willing ≥ quorum · free."""
    return ((free > 0) & (willing >= quorum * free)).astype(np.int8)


def group_modes(acting: np.ndarray, action: str, general_strike: bool) -> np.ndarray:
    """What each group does this tick: all strike during a general strike, else an
    acting group does ``action`` and the others are idle."""
    if general_strike:
        modes = np.full(acting.shape[0], STRIKE, np.int8)
    else:
        modes = np.where(acting == 1, ACTION_CODES[action], IDLE).astype(np.int8)
    modes[0] = IDLE  # code 0: non-members, who never reach member_decide
    return modes


def general_strike_at(timeline: Iterable, tick: int) -> bool:
    """Whether a ``general_strike`` action is in force at ``tick``: called at a tick
    ≤ ``tick`` and, if it has a duration, called fewer than ``ticks`` ticks before."""
    for e in timeline:
        if getattr(e, "action", None) != "general_strike" or e.tick > tick:
            continue
        if e.ticks < 0 or tick < e.tick + e.ticks:
            return True
    return False


def strike_news(impact: float, striking: int, citizens: int) -> float:
    """λ_strike · striking / N, the drop in L every citizen hears of (0 if N = 0)."""
    if citizens <= 0:
        return 0.0
    return impact * striking / citizens
