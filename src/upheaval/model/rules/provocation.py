"""Mechanism 6: provocateurs and the regime's framing (issue 3; our design after
model-spec §4 — no published model has state-planted provocateurs; docs/odd.md §7.16).

A few citizens are **provocateurs** (``Agents.role`` = 1): drawn once at the start,
``provocateurs.count`` of the citizens, each uniformly among those not yet drawn
(:func:`draw_provocateurs`: one ``init`` ``randint(n)`` per provocateur into the
ascending list of the n citizens left, after every other initial draw). A free
provocateur skips rule A: it is always active (always violent), whatever its
grievance and risk (:func:`provoke`). Its violence counts as a **provocation** when
the regime sees it — at least one cop within the provocateur's (citizen) vision at
its turn — counted in the history column ``provocations``. Provocateurs are
otherwise citizens: they move, are arrested, serve and return.

The regime turns provocations into a **framing** F ∈ [0, 1] of the protest as
"terrorism" (brief.md: "terrorists", "bandits"), updated after each tick:

    F′ = min(1, δ_F·F + ρ_F·provocations)          (framing_decay, framing_rise)

and F, in force from the next tick, acts three ways:

* lethal force: the order in force q becomes q_F = min(1, q + γ_kill·F)
  (``framing_lethal``): the pretext for shooting (:func:`framed_lethal_probability`);
* arrests: after each enforcement a cop enforces once more this turn with
  probability γ_arr·F (``framing_arrest``; one ``dynamics`` uniform per
  enforcement while γ_arr·F > 0) — a harsher crackdown;
* bystanders: an ordinary citizen's grievance is H(1 − L)·(1 − β·F)
  (``framing_bystander``): the protest framed as terrorism loses sympathy.

With no provocateurs F stays 0 and nothing changes: the classic draws and
arithmetic are untouched.
"""

from __future__ import annotations

import numpy as np

from upheaval.core.codes import ACTIVE, CITIZEN, DEAD, LANE_ACTIVE, LANE_QUIET
from upheaval.core.jit import hot_rule, kernel
from upheaval.model.slots import take_drawn
from upheaval.model.state import EV_PROVOCATIONS
from upheaval.world.grid import count_cops_actives, relane

#: ``Agents.role`` of a provocateur (0: an ordinary citizen).
PROVOCATEUR = 1


@kernel(allocates=True)
def draw_provocateurs(a, count, rng):
    """``count`` citizens become provocateurs, each drawn uniformly among the citizens
    not yet drawn (ascending slot order); returns how many."""
    members = np.empty(a.kind.shape[0], np.int32)
    n = 0
    for i in range(a.kind.shape[0]):
        if a.kind[i] == CITIZEN and a.status[i] != DEAD:
            members[n] = i
            n += 1
    drawn = 0
    for _ in range(min(count, n)):
        a.role[take_drawn(members, n, rng)] = PROVOCATEUR
        n -= 1
        drawn += 1
    return drawn


@hot_rule
def provoke(g, a, i, r, events):
    """Free provocateur ``i`` is active whatever rule A would say; a cop within its
    vision sees the violence (a provocation). Returns True (it is active)."""
    site = a.position[i]
    if a.status[i] != ACTIVE:
        a.status[i] = ACTIVE
        relane(g, a, site, LANE_QUIET, LANE_ACTIVE)
    cops, _ = count_cops_actives(g, a, site, r.cit_span_dy, r.cit_span_half)
    if cops > 0:
        events[EV_PROVOCATIONS] += 1
    return True


def next_framing(framing: float, decay: float, rise: float, provocations: int) -> float:
    """F′ = min(1, δ_F·F + ρ_F·provocations)."""
    return min(1.0, decay * framing + rise * provocations)


def framed_lethal_probability(order: float, gain: float, framing: float) -> float:
    """q_F = min(1, q + γ_kill·F): the lethal order in force under the framing."""
    if framing <= 0.0 or gain <= 0.0:
        return order
    return min(1.0, order + gain * framing)
