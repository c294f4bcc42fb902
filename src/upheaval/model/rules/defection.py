"""Mechanism 4: security forces with minds of their own (issue 3; our design, no
canonical published model; docs/odd.md §7.14).

Off unless ``security_forces.minds``; then every cop carries a hardship H_c (stored
in ``hardship``) and a loyalty ℓ (stored in ``risk_aversion``: for a cop who defects
it becomes the risk aversion it brings to rule A). Draws: at initialisation, after
every other initial draw, two ``init`` uniforms per cop in slot order (u₁ for H_c,
u₂ for ℓ); a cop added during the run (``reinforce`` or a ``cop_density`` change)
draws the same two uniforms from the ``events`` stream right after its site:

    H_c = float32(hardship_high · u₁)        ℓ = float32(lo + (hi − lo) · u₂)

with [lo, hi] the loyalty range of the cop's origin (``local_police``,
``national_guard`` or ``foreign``). The initial force (unit 0, and cops a
``cop_density`` change adds) has ``initial_origin``; every ``reinforce`` unit has
``reinforcement_origin``.

At the start of its turn a cop with a mind (no draw) — :func:`cop_mind`:

1. counts cops C (itself included) and actives A within its vision v*;
2. **disarmed** if ``disarm_ratio`` > 0, A > 0 and A ≥ disarm_ratio · C: with
   ``disarm_kill`` > 0 one ``dynamics`` uniform u is drawn and u < disarm_kill
   kills it (removed, counted in ``cops_killed``: deaths on the forces' side);
   otherwise a local (police, guard) cop becomes a quiet citizen on its site and a
   foreign soldier is removed from the world. Its turn ends; counted in
   ``disarmed``;
3. otherwise D = H_c(1 − L) − ℓ·P_c with P_c = 1 − exp(−k·C/(1 + A)): the cop's
   own grievance against the regime less its loyalty weighing the chance P_c that
   breaking ranks is seen and punished by fellow cops (the literal quotient, k the
   citizens' ``arrest_constant``; the crowd shields, fellow cops expose);
   D > T_d (``defect_threshold``) and not foreign: **defects**, becoming an active
   citizen on its site (turn ends; ``defected``); D > T_s
   (``stand_aside_threshold``): **stands aside** — makes no arrest this turn but
   moves as usual (``stood_aside``); else enforces as rule C.

L is the regime's legitimacy as the timeline sets it (the global value; under
per-agent feedback its anchor).

Elite split (mechanism 9, docs/odd.md §7.18; our design): with factions on, every
cop answers to the ruler or to a rival faction (``faction``), and weighs its loyalty
as ℓ_eff = λ_f·ℓ, with λ_f the faction's loyalty to the ruler (``elite.ruler_loyalty``,
``elite.rival_loyalty``; the timeline may set both). ℓ_eff replaces ℓ everywhere
above, the scan-skip test included. Factions are drawn once, :func:`draw_initial_factions`
(one ``init`` uniform per cop of the initial force in slot order, after the minds:
rival iff u < ``elite.rival_share``); every cop added later answers to the ruler;
the timeline action ``shift_command`` moves cops between factions
(:func:`shift_command`). When no citizen is active anywhere, A = 0 and
P_c ≥ 1 − exp(−k), so a cop with H_c(1 − L) − ℓ(1 − exp(−k)) ≤ T_s enforces without
the scan (exact: D only falls as P_c grows).
"""

from __future__ import annotations

import math

import numpy as np

from upheaval.core.codes import (
    ACTIVE,
    CITIZEN,
    COP,
    DEAD,
    LANE_ACTIVE,
    LANE_COP,
    LANE_QUIET,
    QUIET,
    RIVAL,
    RULER,
)
from upheaval.core.jit import hot_rule, kernel, rule
from upheaval.core.rng import uniform
from upheaval.model.slots import remove_agent, take_drawn
from upheaval.model.state import EV_COPS_KILLED, EV_DEFECTED, EV_DISARMED, EV_STOOD_ASIDE
from upheaval.world.grid import count_cops_actives, relane

LOCAL_POLICE = 0
NATIONAL_GUARD = 1
FOREIGN = 2
ORIGIN_CODES = {"local_police": LOCAL_POLICE, "national_guard": NATIONAL_GUARD, "foreign": FOREIGN}

#: Verdicts of :func:`cop_mind`.
ENFORCE = 0
STAND_ASIDE = 1
GONE = 2


@rule
def draw_mind(a, i, origin, r, rng):
    """H_c and ℓ of cop ``i`` of ``origin``: two uniforms (see the module docstring)."""
    a.hardship[i] = np.float32(r.cop_hardship_high * uniform(rng))
    lo = r.loyalty_low[origin]
    hi = r.loyalty_high[origin]
    a.risk_aversion[i] = np.float32(lo + (hi - lo) * uniform(rng))


@kernel
def draw_initial_minds(a, r, rng):
    """Every cop of the initial force, in slot order, draws its mind."""
    origin = r.unit_origin[0]
    for i in range(a.kind.shape[0]):
        if a.kind[i] == COP and a.status[i] != DEAD:
            draw_mind(a, i, origin, r, rng)


@kernel
def draw_initial_factions(a, rival_share, rng):
    """Every cop of the initial force, in slot order, draws its faction: rival iff
    u < ``rival_share``."""
    for i in range(a.kind.shape[0]):
        if a.kind[i] == COP and a.status[i] != DEAD:
            a.faction[i] = RIVAL if uniform(rng) < rival_share else RULER


@kernel(allocates=True)
def shift_command(a, to, count, rng):
    """``count`` cops on duty under the other faction pass to faction ``to``, each
    drawn uniformly from the ascending list of those left; all of them, without a
    draw, if ``count`` < 0. Returns how many passed."""
    members = np.empty(a.kind.shape[0], np.int32)
    n = 0
    for i in range(a.kind.shape[0]):
        if a.kind[i] == COP and a.status[i] != DEAD and a.faction[i] != to:
            members[n] = i
            n += 1
    if count < 0:
        for t in range(n):
            a.faction[members[t]] = to
        return n
    passed = 0
    for _ in range(min(count, n)):
        a.faction[take_drawn(members, n, rng)] = to
        n -= 1
        passed += 1
    return passed


@rule
def origin_of(a, i, r):
    if a.unit.shape[0] > 0:
        return r.unit_origin[a.unit[i]]
    return r.unit_origin[0]


@rule
def to_citizen(g, a, i, status, legitimacy):
    """Cop ``i`` leaves the force and stays on its site as a citizen of ``status``; its
    H_c and ℓ become its H and R."""
    a.kind[i] = CITIZEN
    a.status[i] = status
    relane(g, a, a.position[i], LANE_COP, LANE_ACTIVE if status == ACTIVE else LANE_QUIET)
    if a.legit.shape[0]:
        a.legit[i] = np.float32(legitimacy)
    if a.fear.shape[0]:
        a.fear[i] = 0.0
    if a.cohort.shape[0]:
        a.cohort[i] = 0
    if a.hardship0.shape[0]:
        a.hardship0[i] = a.hardship[i]
    if a.faction.shape[0]:
        a.faction[i] = RULER
    if a.org.shape[0]:
        a.org[i] = 0  # a defector joins no organised group


@hot_rule
def cop_mind(g, a, i, r, legitimacy, rng, free_slots, meta, events):
    """The security-forces decision of cop ``i`` (module docstring); returns ENFORCE,
    STAND_ASIDE or GONE (disarmed or defected: the turn ends)."""
    grievance = np.float64(a.hardship[i]) * (1.0 - legitimacy)
    loyalty = np.float64(a.risk_aversion[i])
    if r.elite_on:
        loyalty = r.elite_loyalty[a.faction[i]] * loyalty
    if g.active_total[0] == 0:
        p_min = 1.0 - math.exp(-r.arrest_constant)
        if grievance - loyalty * p_min <= r.stand_aside:
            return ENFORCE
    site = a.position[i]
    cops, actives = count_cops_actives(g, a, site, r.cop_span_dy, r.cop_span_half)
    origin = origin_of(a, i, r)
    if r.disarm_ratio > 0.0 and actives > 0 and actives >= r.disarm_ratio * cops:
        events[EV_DISARMED] += 1
        if r.disarm_kill > 0.0 and uniform(rng) < r.disarm_kill:
            events[EV_COPS_KILLED] += 1
            remove_agent(g, a, i, r.hold_site, free_slots, meta)
        elif origin == FOREIGN:
            remove_agent(g, a, i, r.hold_site, free_slots, meta)
        else:
            to_citizen(g, a, i, QUIET, legitimacy)
        return GONE
    p_c = 1.0 - math.exp(-r.arrest_constant * cops / (1.0 + actives))
    d = grievance - loyalty * p_c
    if d > r.defect and origin != FOREIGN:
        events[EV_DEFECTED] += 1
        to_citizen(g, a, i, ACTIVE, legitimacy)
        return GONE
    if d > r.stand_aside:
        events[EV_STOOD_ASIDE] += 1
        return STAND_ASIDE
    return ENFORCE
