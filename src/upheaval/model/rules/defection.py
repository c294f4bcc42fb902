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
from typing import TYPE_CHECKING

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
    RULER,
)
from upheaval.core.jit import hot_rule, kernel, rule
from upheaval.core.rng import uniform
from upheaval.model.declare import Mechanism, ParameterError, Section, param, section
from upheaval.model.slots import remove_agent
from upheaval.world.grid import count_cops_actives, relane

if TYPE_CHECKING:
    from upheaval.model.params import Params

LOCAL_POLICE = 0
NATIONAL_GUARD = 1
FOREIGN = 2
ORIGIN_CODES = {"local_police": LOCAL_POLICE, "national_guard": NATIONAL_GUARD, "foreign": FOREIGN}
ORIGINS = tuple(ORIGIN_CODES)

FORCES = "our design (security forces with minds of their own; docs/odd.md §7.14)"

#: Indices of the counters in ``Signals.security_forces_counts``.
STOOD_ASIDE = 0
DEFECTED = 1
DISARMED = 2
COPS_KILLED = 3

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
def cop_mind(g, a, i, r, s, legitimacy, rng, free_slots, meta):
    """The security-forces decision of cop ``i`` (module docstring); returns ENFORCE,
    STAND_ASIDE or GONE (disarmed or defected: the turn ends)."""
    grievance = np.float64(a.hardship[i]) * (1.0 - legitimacy)
    loyalty = np.float64(a.risk_aversion[i])
    if r.elite_on:
        loyalty = s.elite_loyalty[a.faction[i]] * loyalty
    if g.active_total[0] == 0:
        p_min = 1.0 - math.exp(-r.arrest_constant)
        if grievance - loyalty * p_min <= r.stand_aside:
            return ENFORCE
    site = a.position[i]
    cops, actives = count_cops_actives(g, a, site, r.cop_span_dy, r.cop_span_half)
    origin = origin_of(a, i, r)
    if r.disarm_ratio > 0.0 and actives > 0 and actives >= r.disarm_ratio * cops:
        s.security_forces_counts[DISARMED] += 1
        if r.disarm_kill > 0.0 and uniform(rng) < r.disarm_kill:
            s.security_forces_counts[COPS_KILLED] += 1
            remove_agent(g, a, i, r.hold_site, free_slots, meta)
        elif origin == FOREIGN:
            remove_agent(g, a, i, r.hold_site, free_slots, meta)
        else:
            to_citizen(g, a, i, QUIET, legitimacy)
        return GONE
    p_c = 1.0 - math.exp(-r.arrest_constant * cops / (1.0 + actives))
    d = grievance - loyalty * p_c
    if d > r.defect and origin != FOREIGN:
        s.security_forces_counts[DEFECTED] += 1
        to_citizen(g, a, i, ACTIVE, legitimacy)
        return GONE
    if d > r.stand_aside:
        s.security_forces_counts[STOOD_ASIDE] += 1
        return STAND_ASIDE
    return ENFORCE


# -- the mechanism's declaration -------------------------------------------------------
@section("security_forces")
class SecurityForcesParams(Section):
    """Mechanism 4: security forces with minds of their own."""

    minds: bool = param(
        False,
        "Cops have hardship and loyalty and decide each turn to enforce, stand aside or "
        "defect, and may be disarmed by a crowd. false: the classic cop (no draws).",
        FORCES,
        kind="bool",
        initial_only=True,
        name="forces_minds",
    )
    initial_origin: str = param(
        "local_police",
        "Origin of the initial force (unit 0): its loyalty distribution; foreign troops "
        "never defect.",
        FORCES,
        kind="choice",
        choices=ORIGINS,
        initial_only=True,
        name="forces_initial_origin",
    )
    reinforcement_origin: str = param(
        "national_guard",
        "Origin of every unit a timeline `reinforce` brings (cops a cop_density change "
        "adds join the initial force).",
        FORCES,
        kind="choice",
        choices=ORIGINS,
        name="forces_reinforcement_origin",
    )
    hardship_high: float = param(
        1.0,
        "A cop's hardship H_c ~ U(0, hardship_high).",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
        initial_only=True,
        name="forces_hardship_high",
    )
    local_police_loyalty_low: float = param(
        0.3,
        "Loyalty ℓ of local police ~ U(low, high): lower end.",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
        initial_only=True,
        name="forces_local_police_loyalty_low",
    )
    local_police_loyalty_high: float = param(
        0.9,
        "Loyalty ℓ of local police ~ U(low, high): upper end.",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
        initial_only=True,
        name="forces_local_police_loyalty_high",
    )
    national_guard_loyalty_low: float = param(
        0.5,
        "Loyalty ℓ of national guard units ~ U(low, high): lower end.",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
        initial_only=True,
        name="forces_national_guard_loyalty_low",
    )
    national_guard_loyalty_high: float = param(
        1.0,
        "Loyalty ℓ of national guard units ~ U(low, high): upper end.",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
        initial_only=True,
        name="forces_national_guard_loyalty_high",
    )
    foreign_loyalty_low: float = param(
        0.7,
        "Loyalty ℓ of foreign troops ~ U(low, high): lower end (they may stand aside, "
        "never defect).",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
        initial_only=True,
        name="forces_foreign_loyalty_low",
    )
    foreign_loyalty_high: float = param(
        1.0,
        "Loyalty ℓ of foreign troops ~ U(low, high): upper end.",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
        initial_only=True,
        name="forces_foreign_loyalty_high",
    )
    stand_aside_threshold: float = param(
        0.1,
        "T_s: a cop stands aside (makes no arrest this turn) iff H_c(1 − L) − ℓ·P_c > T_s.",
        FORCES,
        kind="float",
        low=-1.0,
        high=1.0,
        name="forces_stand_aside_threshold",
    )
    defect_threshold: float = param(
        0.3,
        "T_d ≥ T_s: a cop defects (becomes an active citizen on its site) iff "
        "H_c(1 − L) − ℓ·P_c > T_d; foreign troops never do.",
        FORCES,
        kind="float",
        low=-1.0,
        high=1.0,
        name="forces_defect_threshold",
    )
    disarm_ratio: float = param(
        0.0,
        "A cop is disarmed when the actives within its vision number ≥ disarm_ratio × "
        "the cops there (itself included); 0: never.",
        FORCES,
        kind="float",
        low=0.0,
        high=1000.0,
        name="forces_disarm_ratio",
    )
    disarm_kill: float = param(
        0.0,
        "Chance that a cop disarmed by a crowd is killed (removed from the world, counted "
        "in cops_killed) rather than let go; one draw per disarming when > 0.",
        FORCES,
        kind="float",
        low=0.0,
        high=1.0,
        name="forces_disarm_kill",
    )

    def validate(self, p: Params) -> None:
        for origin in ORIGINS:
            lo = getattr(self, f"{origin}_loyalty_low")
            hi = getattr(self, f"{origin}_loyalty_high")
            if lo > hi:
                raise ParameterError(
                    f"security_forces.{origin}_loyalty_low",
                    f"{origin}_loyalty_low {lo:g} exceeds {origin}_loyalty_high {hi:g}",
                )
        if self.defect_threshold < self.stand_aside_threshold:
            raise ParameterError(
                "security_forces.defect_threshold",
                f"defect_threshold {self.defect_threshold:g} is below stand_aside_threshold "
                f"{self.stand_aside_threshold:g} (a cop that would defect would first stand "
                "aside)",
            )
        if p.model.variant == "II" and self.minds:
            # Defectors become citizens, which in Model II would need a group and an age.
            raise ParameterError(
                "security_forces.minds", "Model II does not yet support cops' minds"
            )


class SecurityForces(Mechanism):
    """Cops who enforce, stand aside, defect or are disarmed (module docstring)."""

    name = "security_forces"
    section = SecurityForcesParams
    counters = ("stood_aside", "defected", "disarmed", "cops_killed")
    rule_fields = (
        "minds",
        "loyalty_low",
        "loyalty_high",
        "cop_hardship_high",
        "stand_aside",
        "defect",
        "disarm_ratio",
        "disarm_kill",
    )

    def is_on(self, p: Params, timeline) -> bool:
        return p.security_forces.minds

    def removes_agents(self, p: Params, timeline) -> bool:
        return p.security_forces.minds and p.security_forces.disarm_ratio > 0

    def compile_rules(self, p: Params, timeline) -> dict:
        f = p.security_forces
        # indexed by origin code: local police, national guard, foreign (ORIGINS)
        low = (f.local_police_loyalty_low, f.national_guard_loyalty_low, f.foreign_loyalty_low)
        high = (f.local_police_loyalty_high, f.national_guard_loyalty_high, f.foreign_loyalty_high)
        return {
            "minds": bool(f.minds),
            "loyalty_low": np.array(low, np.float64),
            "loyalty_high": np.array(high, np.float64),
            "cop_hardship_high": float(f.hardship_high),
            "stand_aside": float(f.stand_aside_threshold),
            "defect": float(f.defect_threshold),
            "disarm_ratio": float(f.disarm_ratio),
            "disarm_kill": float(f.disarm_kill),
        }

    def initialise(self, place, country) -> None:
        if place.params.security_forces.minds:
            draw_initial_minds(place.agents, place.rules, place.streams["init"])


MECHANISM = SecurityForces()
