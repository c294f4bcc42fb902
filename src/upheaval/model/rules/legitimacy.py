"""Mechanism 1: legitimacy that answers to events (issue 3; model-spec §4).

Repression lowers legitimacy, which may never return to its old level (Lemos, Lopes &
Coelho 2016). The form is ours:

    L′ = clamp₀¹( L + λ_rec·(L0 − L) − (λ_arr·arrests + λ_kill·killings) / N )

once per tick after all turns, with L0 the anchor (``citizens.legitimacy`` as the
timeline sets it), arrests and killings by the police of the tick, and N the
citizens alive at its end (no news term when N = 0). Under ``legitimacy.feedback =
"global"`` one L follows this; under ``"per_agent"`` every citizen's own L_i does
(stored as float32: L_i′ = float32(clamp(L_i + λ_rec·(L0 − L_i) − news))), and in
addition each arrest or killing lowers by ``seen_arrest_impact`` /
``seen_kill_impact`` the L_i of every free citizen within citizen vision of the
site where it happened (:func:`witness`, at the moment it happens). With feedback
off, λ_rec = λ_arr = 0, and killings still lower the global L by
``lethal_force.backlash`` if lethal force is ever ordered.

No random draws: the random-stream contract is unchanged.
"""

from __future__ import annotations

import numpy as np

from upheaval.core.codes import ACTIVE, CITIZEN, DEAD, QUIET
from upheaval.core.jit import kernel, rule
from upheaval.world.grid import wrap_site


@rule
def witness(g, a, site, off_dx, off_dy, legit_drop, fear_rise, skip):
    """Every free citizen within vision of ``site`` but ``skip`` (the arrestee) sees an
    event: its L_i falls by ``legit_drop`` (floor 0) and its fear rises by
    ``fear_rise`` (cap 1); a zero amount leaves its array untouched (it may be empty)."""
    x = site % g.width
    y = site // g.width
    for k in range(off_dx.shape[0]):
        c = wrap_site(g, x, y, off_dx[k], off_dy[k])
        j = g.head[c]
        while j != -1:
            free = a.status[j] == QUIET or a.status[j] == ACTIVE
            if j != skip and a.kind[j] == CITIZEN and free:
                if legit_drop > 0.0:
                    a.legit[j] = np.float32(max(0.0, np.float64(a.legit[j]) - legit_drop))
                if fear_rise > 0.0:
                    a.fear[j] = np.float32(min(1.0, np.float64(a.fear[j]) + fear_rise))
            j = a.cell_next[j]


def news(
    arrest_impact: float, backlash: float, arrests: int, killings: int, citizens: int
) -> float:
    """(λ_arr·arrests + λ_kill·killings) / N, the drop every citizen hears of."""
    if citizens <= 0:
        return 0.0
    return (arrest_impact * arrests + backlash * killings) / citizens


def next_global_legitimacy(legitimacy: float, anchor: float, recovery: float, drop: float) -> float:
    """L′ = clamp₀¹(L + λ_rec·(L0 − L) − news)."""
    value = legitimacy + recovery * (anchor - legitimacy) - drop
    return min(1.0, max(0.0, value))


@kernel
def update_agent_legitimacy(a, anchor, recovery, drop):
    """The per-agent form of :func:`next_global_legitimacy`, for every live citizen."""
    for i in range(a.kind.shape[0]):
        if a.kind[i] == CITIZEN and a.status[i] != DEAD:
            v = np.float64(a.legit[i])
            v = v + recovery * (anchor - v) - drop
            a.legit[i] = np.float32(min(1.0, max(0.0, v)))


@kernel
def shift_agent_legitimacy(a, delta):
    """Add ``delta`` to every live citizen's L_i, clamped to [0, 1] (a timeline change
    of the anchor or a concession)."""
    for i in range(a.kind.shape[0]):
        if a.kind[i] == CITIZEN and a.status[i] != DEAD:
            v = np.float64(a.legit[i]) + delta
            a.legit[i] = np.float32(min(1.0, max(0.0, v)))


@kernel
def decay_fear(a, decay):
    """fear ← float32(fear × decay) for every slot, once per tick after all turns."""
    for i in range(a.fear.shape[0]):
        a.fear[i] = np.float32(np.float64(a.fear[i]) * decay)


def mean_citizen_legitimacy(a) -> float:
    """Mean L_i over live citizens in slot order (numpy's float64 mean); L0-less 0 if none."""
    alive = (a.kind == CITIZEN) & (a.status != DEAD)
    if not alive.any():
        return 0.0
    return float(np.mean(a.legit[alive].astype(np.float64)))
