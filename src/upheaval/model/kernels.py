"""The step: rules composed in the order of one tick (Epstein 2002, random-order
asynchronous activation).

One tick:

1. (engine) timeline events due at this tick are applied;
2. every agent alive at the start of the tick takes one turn, in an order drawn
   afresh by a Fisher–Yates shuffle of the live slots in ascending order; an agent
   killed earlier in the tick skips its turn;

   * citizen: if jailed, serve (own-activation countdown) or skip; if free,
     rule M and rule A in the configured order (Model II: an active citizen
     then kills, see :mod:`~upheaval.model.rules.violence`);
   * cop: rule M and rule C in the configured order;
3. end-of-tick jail countdown (if that rule is chosen);
4. Model II: ageing and death, then cloning.

Mechanisms (issue 3) hook in only where a flag of :class:`Rules` says they are on,
so the classic tick runs the same code and draws: rule C becomes
:func:`~upheaval.model.rules.lethal.enforce_with_force` (lethal force, per-agent
legitimacy, guard posts; one extra ``uniform`` per enforcement while the lethal
order is > 0; under the provocateurs' framing, one more ``uniform`` per enforcement
that found a suspect, for a second enforcement); rule A reads the citizen's own
legitimacy and fear, scales H by the framing, and counts the other identity
group's actives as ⌊s · n⌋ (:mod:`~upheaval.model.rules.identity`); a provocateur
skips rule A (:mod:`~upheaval.model.rules.provocation`); a member of an organised
group decides with its group (:func:`~upheaval.model.rules.organisation.member_decide`,
no draw); an active citizen drawn to the information channel's focal site moves
toward it without a draw; guards skip rule M; a cop weighs its loyalty by its
faction's (elite split). The per-tick legitimacy update, fear decay, the framing
and the groups' verdicts run after the step (engine/simulation.py).

Step 1 draws from the ``events`` stream (:mod:`~upheaval.model.rules.forces`);
steps 2-4 draw only from the ``dynamics`` stream, in the order above; this
order is the random-stream contract that the reference implementation
(``tests/reference``) follows to reproduce trajectories bit for bit.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from upheaval.core.codes import (
    ACTIVE,
    CITIZEN,
    COP,
    DEAD,
    JAILED,
    LANE_ACTIVE,
    LANE_COP,
    LANE_QUIET,
    QUIET,
)
from upheaval.core.jit import hot_rule, kernel, prefetch, rule
from upheaval.core.rng import next_u64_of, randint, uniform, unit_of
from upheaval.model.params import Params
from upheaval.model.rules.activation import RATIO_RULES
from upheaval.model.rules.arrest import enforce
from upheaval.model.rules.decision import set_free_status, willing
from upheaval.model.rules.defection import GONE, ORIGIN_CODES, STAND_ASIDE, cop_mind
from upheaval.model.rules.jail import end_of_tick_countdown, serve_turn
from upheaval.model.rules.lethal import enforce_with_force
from upheaval.model.rules.movement import move, move_toward
from upheaval.model.rules.organisation import member_decide
from upheaval.model.rules.provocation import PROVOCATEUR, provoke
from upheaval.model.rules.reproduction import age_and_die, clone
from upheaval.model.rules.violence import kill_other_group
from upheaval.model.state import TALLY
from upheaval.scenario.timeline import MAX_UNITS, unit_codes, unit_origins
from upheaval.world.grid import prefetch_neighbourhood
from upheaval.world.lattice import clone_neighbourhood, neighbourhood

#: Prefetch distances in turns (measured best of 8/4, 16/8, 32/16, 64/24 at 2000×2000).
AGENT_AHEAD = 32
LATTICE_AHEAD = 16
#: Draws the shuffle looks ahead to prefetch the places they swap.
SHUFFLE_AHEAD = 32
#: Below this many sites the state stays in cache and prefetching only costs time.
PREFETCH_MIN_SITES = 250_000

Rules = namedtuple(
    "Rules",
    [
        "model2",
        "cit_span_dy",
        "cit_span_half",
        "cit_off_dx",
        "cit_off_dy",
        "cop_span_dy",
        "cop_span_half",
        "cop_off_dx",
        "cop_off_dy",
        "clone_span_dy",
        "clone_span_half",
        "threshold",
        "arrest_constant",
        "ratio_rule",
        "includes_self",
        "deterrence_exponent",
        "cit_move",
        "cit_move_first",
        "cop_move",
        "cop_move_first",
        "cop_to_arrestee",
        "jail_inclusive",
        "countdown_own",
        "hold_site",
        "clone_probability",
        "max_age",
        "prefetch",
        "synchronous",
        # mechanisms (issue 3): flags, so that off costs one branch
        "legit_per_agent",
        "fear_on",
        "force_on",
        "seen_arrest",
        "seen_kill",
        "fear_rise",
        # mechanism 4 (security forces with minds): off costs one branch per cop turn
        "minds",
        "unit_origin",
        "loyalty_low",
        "loyalty_high",
        "cop_hardship_high",
        "stand_aside",
        "defect",
        "disarm_ratio",
        "disarm_kill",
        # mechanism 7 (information beyond sight): off costs one branch per scan;
        # ``media`` int64[2] = (A_media, C_media), rewritten by the engine every tick
        "media_on",
        "media",
        # ``focal`` int64[3] = (channel online now, x, y) of the focal site, or x = -1
        "focal",
        # mechanism 9 (elite split): ``elite_loyalty`` float64[2] = (λ_ruler, λ_rival),
        # rewritten by the engine every tick (the timeline may set both)
        "elite_on",
        "elite_loyalty",
        # mechanism 6 (provocateurs): ``provocateurs_framing`` float64[2] = (1 − β·F,
        # γ_arr·F), rewritten by the engine every tick from the framing F
        "provocateurs_on",
        "provocateurs_framing",
        # mechanism 8 (organised groups and strikes): off costs one branch per citizen
        # turn; per group code (0 = non-members) the mode of this tick and the tallies
        # of its turns, written by the engine and by member_decide
        "organisation_on",
        "organisation_risk",
        "organisation_mode",
        "organisation_willing",
        "organisation_free",
        # mechanism 10 (divided identities): off costs one branch per scan;
        # ``identity_solidarity`` float64[1] = s in force, rewritten by the engine every tick
        "identity_on",
        "identity_solidarity",
    ],
)
Rules.__doc__ = "Parameters as the kernels read them: codes, flags and neighbourhood tables."


def lethal_ever(p: Params, timeline=()) -> bool:
    """Whether a lethal-force order > 0 may be in force at some tick of the run: one
    given, or one the provocateurs' framing can bring about."""
    return (
        p.lethal_probability > 0
        or any(getattr(e, "param", None) == "lethal_probability" and e.value > 0 for e in timeline)
        or (p.provocateurs_count > 0 and p.provocateurs_framing_lethal > 0)
    )


def elite_split(p: Params, timeline=()) -> bool:
    """Whether cops answer to factions: a rival share at the start, or a command
    shift on the timeline."""
    return p.elite_rival_share > 0 or any(
        getattr(e, "action", None) == "shift_command" for e in timeline
    )


def has_guards(timeline=()) -> bool:
    return any(getattr(e, "action", None) == "reinforce" and e.mode == "guard" for e in timeline)


def compile_rules(p: Params, timeline=()) -> Rules:
    """Translate validated parameters (and the timeline's mechanism needs) into the
    kernels' record."""
    cit = neighbourhood(p.vision_shape, p.citizen_vision)
    cop = neighbourhood(p.vision_shape, p.cop_vision)
    cl = clone_neighbourhood(p.clone_neighbourhood)
    unit_origin = np.full(MAX_UNITS + 1, ORIGIN_CODES[p.forces_reinforcement_origin], np.int8)
    unit_origin[0] = ORIGIN_CODES[p.forces_initial_origin]
    codes = unit_codes(timeline)
    for name, origin in unit_origins(timeline).items():
        if origin:
            unit_origin[codes[name]] = ORIGIN_CODES[origin]
    # indexed by origin code (rules/defection.py: local police, national guard, foreign)
    loyalty_low = np.array(
        [
            p.forces_local_police_loyalty_low,
            p.forces_national_guard_loyalty_low,
            p.forces_foreign_loyalty_low,
        ],
        np.float64,
    )
    loyalty_high = np.array(
        [
            p.forces_local_police_loyalty_high,
            p.forces_national_guard_loyalty_high,
            p.forces_foreign_loyalty_high,
        ],
        np.float64,
    )
    lethal = lethal_ever(p, timeline)
    return Rules(
        model2=p.variant == "II",
        cit_span_dy=cit.span_dy,
        cit_span_half=cit.span_half,
        cit_off_dx=cit.offset_dx,
        cit_off_dy=cit.offset_dy,
        cop_span_dy=cop.span_dy,
        cop_span_half=cop.span_half,
        cop_off_dx=cop.offset_dx,
        cop_off_dy=cop.offset_dy,
        clone_span_dy=cl.span_dy,
        clone_span_half=cl.span_half,
        threshold=float(p.threshold),
        arrest_constant=float(p.arrest_constant),
        ratio_rule=np.int64(RATIO_RULES[p.ratio_rule]),
        includes_self=bool(p.active_count_includes_self),
        deterrence_exponent=float(p.deterrence_exponent),
        cit_move=bool(p.citizen_movement),
        cit_move_first=p.citizen_turn_order == "move_then_act",
        cop_move=bool(p.cop_movement),
        cop_move_first=p.cop_turn_order == "move_then_act",
        cop_to_arrestee=p.cop_after_arrest == "arrestee_site",
        jail_inclusive=p.jail_term_range == "inclusive",
        countdown_own=p.jail_countdown == "own_activation",
        hold_site=bool(p.jailed_hold_site),
        clone_probability=float(p.clone_probability),
        max_age=np.int64(p.max_age),
        prefetch=p.n_sites >= PREFETCH_MIN_SITES,
        synchronous=p.activation == "synchronous",
        legit_per_agent=p.legitimacy_feedback == "per_agent",
        fear_on=lethal and p.lethal_deterrence > 0,
        force_on=lethal
        or p.legitimacy_feedback == "per_agent"
        or has_guards(timeline)
        or p.provocateurs_count > 0,
        seen_arrest=float(p.legitimacy_seen_arrest)
        if p.legitimacy_feedback == "per_agent"
        else 0.0,
        seen_kill=float(p.legitimacy_seen_kill) if p.legitimacy_feedback == "per_agent" else 0.0,
        fear_rise=float(p.lethal_deterrence) if lethal else 0.0,
        minds=bool(p.forces_minds),
        unit_origin=unit_origin,
        loyalty_low=loyalty_low,
        loyalty_high=loyalty_high,
        cop_hardship_high=float(p.forces_hardship_high),
        stand_aside=float(p.forces_stand_aside_threshold),
        defect=float(p.forces_defect_threshold),
        disarm_ratio=float(p.forces_disarm_ratio),
        disarm_kill=float(p.forces_disarm_kill),
        media_on=bool(p.information_enabled),
        media=np.zeros(2, np.int64),
        focal=np.array([0, p.information_focal_x, p.information_focal_y], np.int64),
        elite_on=elite_split(p, timeline),
        elite_loyalty=np.array([p.elite_ruler_loyalty, p.elite_rival_loyalty], np.float64),
        provocateurs_on=p.provocateurs_count > 0,
        provocateurs_framing=np.array([1.0, 0.0], np.float64),
        organisation_on=p.organisation_groups > 0,
        organisation_risk=float(p.organisation_risk_factor),
        organisation_mode=np.zeros(p.organisation_groups + 1, np.int8),
        organisation_willing=np.zeros(p.organisation_groups + 1, np.int64),
        organisation_free=np.zeros(p.organisation_groups + 1, np.int64),
        identity_on=bool(p.identity_enabled),
        identity_solidarity=np.array([p.identity_solidarity], np.float64),
    )


@rule
def deterrence_factor(max_jail_term, exponent):
    """J_max^α, the optional deterrence term in net risk (1 when α = 0)."""
    if exponent == 0.0:
        return 1.0
    return max_jail_term**exponent


@hot_rule
def decide(g, a, i, r, legitimacy, deterrence, fear):
    """Rule A for free citizen ``i``; updates its status and lane. True if active
    (:func:`~upheaval.model.rules.decision.willing` with the citizen's own risk)."""
    now_active = willing(g, a, i, r, legitimacy, deterrence, fear, 1.0)
    set_free_status(g, a, i, now_active)
    return now_active


@hot_rule
def own_outlook(a, i, r, legitimacy):
    """The legitimacy citizen ``i`` grants (its own under per-agent feedback) and its
    fear (0 unless lethal-force deterrence is on)."""
    if r.legit_per_agent:
        legitimacy = np.float64(a.legit[i])
    fear = 0.0
    if r.fear_on:
        fear = np.float64(a.fear[i])
    return legitimacy, fear


@hot_rule
def citizen_move(g, a, i, r, active, rng):
    """Rule M for citizen ``i``: to a random empty site in vision, or, while the
    information channel is online and names a focal site, an active one toward it."""
    lane = LANE_ACTIVE if active else LANE_QUIET
    if r.media_on and active and r.focal[0] == 1 and r.focal[1] >= 0:
        move_toward(g, a, i, lane, r.cit_off_dx, r.cit_off_dy, r.focal[1], r.focal[2])
    else:
        move(g, a, i, lane, r.cit_off_dx, r.cit_off_dy, r.cit_span_dy, r.cit_span_half, rng)


@hot_rule
def citizen_turn(g, a, i, r, legitimacy, max_jail_term, rng, free_slots, meta, events):
    """One citizen's turn (Epstein 2002): rule M (move to a random empty site within
    v) and rule A (active iff G − N > T) in the configured order; in Model II an
    active citizen then kills. A jailed citizen only serves (own-activation countdown).
    """
    if a.status[i] == JAILED:
        if not r.countdown_own:
            return
        if serve_turn(g, a, i, r.hold_site, events):
            return
    deterrence = deterrence_factor(max_jail_term, r.deterrence_exponent)
    if r.cit_move and r.cit_move_first:
        citizen_move(g, a, i, r, a.status[i] == ACTIVE, rng)
    legitimacy, fear = own_outlook(a, i, r, legitimacy)
    if r.synchronous:  # decided with everyone at the start of the tick
        active = a.status[i] == ACTIVE
    elif r.provocateurs_on and a.role[i] == PROVOCATEUR:
        active = provoke(g, a, i, r, events)  # a provocateur obeys no committee
    elif r.organisation_on and a.org[i] > 0:
        active = member_decide(g, a, i, r, legitimacy, deterrence, fear, events)
    else:
        active = decide(g, a, i, r, legitimacy, deterrence, fear)
    if r.model2 and active:
        kill_other_group(g, a, i, r, rng, free_slots, meta, events)
    if r.cit_move and not r.cit_move_first:
        citizen_move(g, a, i, r, active, rng)


@hot_rule
def cop_turn(
    g, a, i, r, legitimacy, max_jail_term, lethal_p, guard_units, rng, free_slots, meta, events
):
    """One cop's turn (Epstein 2002): rule M (move to a random empty site within v*)
    and rule C (arrest a random active within v*) in the configured order. With
    mechanisms on, rule C may kill (lethal force), a guard never moves, and a cop with
    a mind may first be disarmed, defect (either ends its turn) or stand aside (no
    rule C this turn)."""
    aside = False
    if r.minds:
        verdict = cop_mind(g, a, i, r, legitimacy, rng, free_slots, meta, events)
        if verdict == GONE:
            return
        aside = verdict == STAND_ASIDE
    guard = r.force_on and a.unit.shape[0] > 0 and guard_units[a.unit[i]] == 1
    moves = r.cop_move and not guard
    if moves and r.cop_move_first:
        move(g, a, i, LANE_COP, r.cop_off_dx, r.cop_off_dy, r.cop_span_dy, r.cop_span_half, rng)
    if not aside and not r.force_on:
        enforce(g, a, i, r, max_jail_term, rng, events)
    elif not aside:
        j = enforce_with_force(
            g, a, i, r, max_jail_term, lethal_p, guard, rng, free_slots, meta, events
        )
        # framing: a harsher crackdown, one more enforcement with probability γ_arr·F
        crackdown = r.provocateurs_framing[1]
        if r.provocateurs_on and j >= 0 and crackdown > 0.0 and uniform(rng) < crackdown:
            enforce_with_force(
                g, a, i, r, max_jail_term, lethal_p, guard, rng, free_slots, meta, events
            )
    if moves and not r.cop_move_first:
        move(g, a, i, LANE_COP, r.cop_off_dx, r.cop_off_dy, r.cop_span_dy, r.cop_span_half, rng)


@rule
def synchronous_decisions(g, a, r, legitimacy, max_jail_term, scratch):
    """The synchronous variant of rule A (``citizens.activation = "synchronous"``):
    every free citizen decides against the lattice as the previous tick left it (all
    decisions taken, in slot order, before any is applied), then all statuses change
    at once. No draw."""
    deterrence = deterrence_factor(max_jail_term, r.deterrence_exponent)
    n_slots = a.status.shape[0]
    for i in range(n_slots):
        scratch[i] = -1
        if a.kind[i] == CITIZEN and (a.status[i] == QUIET or a.status[i] == ACTIVE):
            own, fear = own_outlook(a, i, r, legitimacy)
            scratch[i] = 1 if willing(g, a, i, r, own, deterrence, fear, 1.0) else 0
    for i in range(n_slots):
        if scratch[i] >= 0:
            set_free_status(g, a, i, scratch[i] == 1)


@rule
def activation_order(a, order, rng, look_ahead):
    """Live slots in ascending order, Fisher–Yates shuffled; returns their number.

    A fresh random order every tick: Epstein's (2002) random-order asynchronous
    activation.

    Each swap reads ``order`` at a random place: on a large world a cache miss a
    draw. With ``look_ahead``, a copy of the stream runs SHUFFLE_AHEAD draws ahead of
    it and the places those draws will pick are prefetched; the draws themselves, and
    so the order, are the same (2000×2000: ~7 → ~4 ns per slot, the whole function).
    """
    n = 0
    for i in range(a.status.shape[0]):
        if a.status[i] != DEAD:
            order[n] = i
            n += 1
    ahead = min(SHUFFLE_AHEAD, n - 1) if look_ahead else 0
    t0 = rng[0]
    t1 = rng[1]
    t2 = rng[2]
    t3 = rng[3]
    for d in range(ahead):  # draw d swaps slot n-1-d with one of 0 … n-1-d
        u, t0, t1, t2, t3 = next_u64_of(t0, t1, t2, t3)
        prefetch(order, np.int64(unit_of(u) * (n - d)))
    for k in range(n - 1, 0, -1):
        if ahead > 0 and k - ahead > 0:
            u, t0, t1, t2, t3 = next_u64_of(t0, t1, t2, t3)
            prefetch(order, np.int64(unit_of(u) * (k - ahead + 1)))
        j = randint(rng, k + 1)
        t = order[k]
        order[k] = order[j]
        order[j] = t
    return n


@kernel
def step(
    g, a, r, rng, legitimacy, max_jail_term, lethal_p, guard_units, order, free_slots, meta, events
):
    """Advance the world by one tick (steps 2-4 above). ``events`` is zeroed first.
    ``lethal_p`` is the lethal-force order in force, ``guard_units[u]`` 1 if unit u
    guards its posts."""
    events[:] = 0
    if r.synchronous:  # the order array is scratch until the shuffle fills it
        synchronous_decisions(g, a, r, legitimacy, max_jail_term, order)
    n = activation_order(a, order, rng, r.prefetch)
    for t in range(n):
        # Prefetch in two stages: the agent data of the turn AGENT_AHEAD ahead, and
        # the lattice around the agent LATTICE_AHEAD ahead (whose position is by
        # then in cache). Prefetches are hints: results do not depend on them. The
        # per-turn fields share one record (state.HOT_RECORD), position its first
        # byte and status its last: those two lines hold it all.
        if r.prefetch and t + AGENT_AHEAD < n:
            j = order[t + AGENT_AHEAD]
            prefetch(a.position, j)
            prefetch(a.status, j)
        if r.prefetch and t + LATTICE_AHEAD < n:
            j = order[t + LATTICE_AHEAD]
            prefetch_neighbourhood(g, a.position[j], r.cit_span_dy)
        i = order[t]
        if a.status[i] == DEAD:
            continue
        if a.kind[i] == COP:
            cop_turn(
                g,
                a,
                i,
                r,
                legitimacy,
                max_jail_term,
                lethal_p,
                guard_units,
                rng,
                free_slots,
                meta,
                events,
            )
        else:
            citizen_turn(g, a, i, r, legitimacy, max_jail_term, rng, free_slots, meta, events)
    n_slots = a.status.shape[0]
    if not r.countdown_own:
        end_of_tick_countdown(g, a, n_slots, r.hold_site, events)
    if r.model2:
        age_and_die(g, a, n_slots, r.hold_site, free_slots, meta, events)
        clone(g, a, r, n_slots, order, rng, free_slots, meta, events)


@kernel(allocates=True)
def tally(a):
    """Counts by group and status, and cops on duty (see state.TALLY)."""
    out = np.zeros(len(TALLY), np.int64)
    for i in range(a.status.shape[0]):
        s = a.status[i]
        if s == DEAD:
            continue
        if a.kind[i] == CITIZEN:
            out[3 * a.group[i] + s] += 1
        else:
            out[6] += 1
    return out


@kernel(allocates=True)
def free_citizens(a):
    """Number of free (quiet or active) citizens: an upper bound on births per tick."""
    n = 0
    for i in range(a.status.shape[0]):
        if a.kind[i] == CITIZEN and (a.status[i] == QUIET or a.status[i] == ACTIVE):
            n += 1
    return n
