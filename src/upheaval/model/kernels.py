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
from typing import TYPE_CHECKING

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
from upheaval.core.jit import freeze, hot_rule, kernel, prefetch, rule
from upheaval.core.rng import next_u64_of, randint, uniform, unit_of
from upheaval.model.mechanisms import MECHANISMS
from upheaval.model.rules.activation import RATIO_RULES
from upheaval.model.rules.arrest import enforce
from upheaval.model.rules.decision import set_free_status, willing
from upheaval.model.rules.defection import GONE, STAND_ASIDE, cop_mind
from upheaval.model.rules.jail import end_of_tick_countdown, serve_turn
from upheaval.model.rules.lethal import enforce_with_force
from upheaval.model.rules.movement import move, move_toward
from upheaval.model.rules.organisation import member_decide
from upheaval.model.rules.provocation import PROVOCATEUR, provoke
from upheaval.model.rules.reproduction import age_and_die, clone
from upheaval.model.rules.violence import kill_other_group
from upheaval.model.state import TALLY
from upheaval.model.timeline import as_timeline
from upheaval.world.grid import prefetch_neighbourhood
from upheaval.world.lattice import clone_neighbourhood, neighbourhood

if TYPE_CHECKING:
    from upheaval.model.params import Params

#: Prefetch distances in turns (measured best of 8/4, 16/8, 32/16, 64/24 at 2000×2000).
AGENT_AHEAD = 32
LATTICE_AHEAD = 16
#: Draws the shuffle looks ahead to prefetch the places they swap.
SHUFFLE_AHEAD = 32
#: Below this many sites the state stays in cache and prefetching only costs time.
PREFETCH_MIN_SITES = 250_000

#: The classic model's fields of :data:`Rules` (the mechanisms add theirs).
CLASSIC_RULES = (
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
    "tiled",
    "tile_side",
    # rule C runs as enforce_with_force (rules/lethal.py): a mechanism asks for it
    "force_on",
)

Rules = namedtuple("Rules", [*CLASSIC_RULES, *(f for m in MECHANISMS for f in m.rule_fields)])
Rules.__doc__ = """What the parameters and timeline of a run mean for the kernels: codes,
flags, neighbourhood tables, each mechanism's fields (model/mechanisms.py). Read-only:
nothing writes into it during a run."""

Signals = namedtuple(
    "Signals",
    [
        f
        for m in MECHANISMS
        for f in ((f"{m.name}_counts",) if m.counters else ()) + m.signal_fields
    ],
)
Signals.__doc__ = """What the engine and the kernels tell each other every tick, one
record per place: the values the mechanisms' ``before_tick`` hooks write for the tick
(the broadcast, the loyalties, the framing, the groups' modes …) and the counters and
tallies the kernels add up (``<mechanism>_counts``, int64, one per counter column,
zeroed by the engine before each tick)."""


def compile_rules(p: Params, timeline=()) -> Rules:
    """Translate validated parameters (and the timeline's mechanism needs) into the
    kernels' record."""
    timeline = as_timeline(timeline)
    cit = neighbourhood(p.world.vision_shape, p.citizens.vision)
    cop = neighbourhood(p.world.vision_shape, p.cops.vision)
    cl = clone_neighbourhood(p.groups.clone_neighbourhood)
    classic = {
        "model2": p.model.variant == "II",
        "cit_span_dy": cit.span_dy,
        "cit_span_half": cit.span_half,
        "cit_off_dx": cit.offset_dx,
        "cit_off_dy": cit.offset_dy,
        "cop_span_dy": cop.span_dy,
        "cop_span_half": cop.span_half,
        "cop_off_dx": cop.offset_dx,
        "cop_off_dy": cop.offset_dy,
        "clone_span_dy": cl.span_dy,
        "clone_span_half": cl.span_half,
        "threshold": float(p.citizens.threshold),
        "arrest_constant": float(p.citizens.arrest_constant),
        "ratio_rule": np.int64(RATIO_RULES[p.citizens.ratio_rule]),
        "includes_self": bool(p.citizens.active_count_includes_self),
        "deterrence_exponent": float(p.citizens.deterrence_exponent),
        "cit_move": bool(p.citizens.movement),
        "cit_move_first": p.citizens.turn_order == "move_then_act",
        "cop_move": bool(p.cops.movement),
        "cop_move_first": p.cops.turn_order == "move_then_act",
        "cop_to_arrestee": p.cops.after_arrest == "arrestee_site",
        "jail_inclusive": p.jail.term_range == "inclusive",
        "countdown_own": p.jail.countdown == "own_activation",
        "hold_site": bool(p.jail.hold_site),
        "clone_probability": float(p.groups.clone_probability),
        "max_age": np.int64(p.groups.max_age),
        "prefetch": p.n_sites >= PREFETCH_MIN_SITES,
        "synchronous": p.citizens.activation == "synchronous",
        "tiled": p.world.activation_tile > 0,
        "tile_side": np.int64(p.world.activation_tile),
        "force_on": any(m.replaces_rule_c(p, timeline) for m in MECHANISMS),
    }
    for m in MECHANISMS:
        fields = m.compile_rules(p, timeline)
        if set(fields) != set(m.rule_fields):
            raise RuntimeError(f"mechanism {m.name!r} compiled {sorted(fields)}")
        classic.update(fields)
    return Rules(**classic)


def make_signals(p: Params, timeline=()) -> Signals:
    """A place's fresh exchange record (see :data:`Signals`)."""
    timeline = as_timeline(timeline)
    fields = {}
    for m in MECHANISMS:
        if m.counters:
            fields[f"{m.name}_counts"] = np.zeros(len(m.counters), np.int64)
        made = m.make_signals(p, timeline)
        if set(made) != set(m.signal_fields):
            raise RuntimeError(f"mechanism {m.name!r} made signals {sorted(made)}")
        fields.update(made)
    return Signals(**fields)


def removes_agents(p: Params, timeline=()) -> bool:
    """Whether agents can leave the world inside the step kernel: Model II (killings,
    deaths) or a mechanism (lethal force, a disarmed foreign soldier)."""
    timeline = as_timeline(timeline)
    return p.model.variant == "II" or any(m.removes_agents(p, timeline) for m in MECHANISMS)


@rule(python=True)
def deterrence_factor(max_jail_term, exponent):
    """J_max^α, the optional deterrence term in net risk (1 when α = 0)."""
    if exponent == 0.0:
        return 1.0
    return max_jail_term**exponent


@hot_rule
def decide(g, a, i, r, s, legitimacy, deterrence, fear):
    """Rule A for free citizen ``i``; updates its status and lane. True if active
    (:func:`~upheaval.model.rules.decision.willing` with the citizen's own risk)."""
    risk_scale = s.emergency_risk[0] if r.emergency_on else 1.0
    now_active = willing(g, a, i, r, s, legitimacy, deterrence, fear, risk_scale)
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
def citizen_move(g, a, i, r, s, active, rng):
    """Rule M for citizen ``i``: to a random empty site in vision, or, while the
    information channel is online and names a focal site, an active one toward it."""
    lane = LANE_ACTIVE if active else LANE_QUIET
    if r.media_on and active and s.focal[0] == 1 and s.focal[1] >= 0:
        move_toward(g, a, i, lane, r.cit_off_dx, r.cit_off_dy, s.focal[1], s.focal[2])
    else:
        move(g, a, i, lane, r.cit_off_dx, r.cit_off_dy, r.cit_span_dy, r.cit_span_half, rng)


@hot_rule
def citizen_turn(g, a, i, r, s, legitimacy, max_jail_term, rng, free_slots, meta, events):
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
        citizen_move(g, a, i, r, s, a.status[i] == ACTIVE, rng)
    legitimacy, fear = own_outlook(a, i, r, legitimacy)
    if r.synchronous:  # decided with everyone at the start of the tick
        active = a.status[i] == ACTIVE
    elif r.provocateurs_on and a.role[i] == PROVOCATEUR:
        active = provoke(g, a, i, r, s)  # a provocateur obeys no committee
    elif r.organisation_on and a.org[i] > 0:
        active = member_decide(g, a, i, r, s, legitimacy, deterrence, fear)
    else:
        active = decide(g, a, i, r, s, legitimacy, deterrence, fear)
    if r.model2 and active:
        kill_other_group(g, a, i, r, rng, free_slots, meta, events)
    if r.cit_move and not r.cit_move_first:
        citizen_move(g, a, i, r, s, active, rng)


@hot_rule
def cop_turn(g, a, i, r, s, legitimacy, max_jail_term, rng, free_slots, meta, events):
    """One cop's turn (Epstein 2002): rule M (move to a random empty site within v*)
    and rule C (arrest a random active within v*) in the configured order. With
    mechanisms on, rule C may kill (lethal force), a guard never moves, and a cop with
    a mind may first be disarmed, defect (either ends its turn) or stand aside (no
    rule C this turn)."""
    aside = False
    if r.minds:
        verdict = cop_mind(g, a, i, r, s, legitimacy, rng, free_slots, meta)
        if verdict == GONE:
            return
        aside = verdict == STAND_ASIDE
    guard = r.force_on and a.unit.shape[0] > 0 and r.guard_units[a.unit[i]] == 1
    moves = r.cop_move and not guard
    if moves and r.cop_move_first:
        move(g, a, i, LANE_COP, r.cop_off_dx, r.cop_off_dy, r.cop_span_dy, r.cop_span_half, rng)
    if not aside and not r.force_on:
        enforce(g, a, i, r, max_jail_term, rng, events)
    elif not aside:
        j = enforce_with_force(g, a, i, r, s, max_jail_term, guard, rng, free_slots, meta, events)
        # framing: a harsher crackdown, one more enforcement with probability γ_arr·F
        crackdown = s.provocateurs_framing[1]
        if r.provocateurs_on and j >= 0 and crackdown > 0.0 and uniform(rng) < crackdown:
            enforce_with_force(g, a, i, r, s, max_jail_term, guard, rng, free_slots, meta, events)
    if moves and not r.cop_move_first:
        move(g, a, i, LANE_COP, r.cop_off_dx, r.cop_off_dy, r.cop_span_dy, r.cop_span_half, rng)


@rule
def synchronous_decisions(g, a, r, s, legitimacy, max_jail_term, scratch):
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
            scale = s.emergency_risk[0] if r.emergency_on else 1.0
            scratch[i] = 1 if willing(g, a, i, r, s, own, deterrence, fear, scale) else 0
    for i in range(n_slots):
        if scratch[i] >= 0:
            set_free_status(g, a, i, scratch[i] == 1)


@rule
def activation_order(g, a, r, order, rng):
    """The tick's order of turns in ``order[:n]``; returns ``n``, the live slots.

    Epstein's (2002) random-order asynchronous activation: the live slots in ascending
    order, Fisher–Yates shuffled, a fresh order every tick; with
    ``world.activation_tile`` > 0, the tiled variant (:func:`tiled_order`).
    """
    if r.tiled:
        return tiled_order(g, a, r.tile_side, order, rng)
    return shuffled_slots(a, order, rng, r.prefetch)


@rule
def shuffled_slots(a, order, rng, look_ahead):
    """Live slots in ascending order, Fisher–Yates shuffled; returns their number.

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


def tile_count(width: int, height: int, side: int) -> int:
    """Tiles of ``side`` × ``side`` sites covering a lattice (the last row and column
    of tiles cut short); 0 when tiled activation is off."""
    if side <= 0:
        return 0
    return ((width + side - 1) // side) * ((height + side - 1) // side)


def order_length(capacity: int, width: int, height: int, side: int) -> int:
    """Length of the step's ``order`` buffer: a slot each and, for the tiled variant,
    behind them its scratch (:func:`tiled_order`): where a slot's tile comes in the
    visiting order, where each tile comes in it, where each tile's turns begin, and a
    column's and a row's part of a tile number."""
    tiles = tile_count(width, height, side)
    if not tiles:
        return capacity
    return 2 * capacity + 2 * tiles + 1 + width + height


@rule
def tiled_order(g, a, side, order, rng):
    """Tiled random activation (``world.activation_tile``, a labelled variant): the
    tiles in a Fisher–Yates shuffled order (tiles numbered row by row), then within
    each tile, in that order, its live slots in ascending order, Fisher–Yates shuffled
    as :func:`shuffled_slots` shuffles all of them. An agent belongs to the tile of its
    site at the start of the tick (a jailed one, of the site it keeps). Returns the
    number of live slots.

    Why: on a lattice larger than the cache, random order over all agents makes every
    turn read a neighbourhood far from the last one. Turns grouped by tile read the same
    few rows of the lattice again and again (benchmarks/README, "one large place").
    With one tile, the draws and the order are :func:`shuffled_slots`'s.

    ``order`` holds :func:`order_length` entries, the scratch behind the slots. A
    slot's tile is found with one division (its row) and two table look-ups, and kept
    for the second pass: divisions were most of this function's time.
    """
    n_slots = a.status.shape[0]
    width = g.width
    across = (width + side - 1) // side
    tiles = across * ((g.height + side - 1) // side)
    visit = order[n_slots : 2 * n_slots]  # a slot's tile's place in the visiting order
    at = 2 * n_slots
    rank = order[at : at + tiles]
    start = order[at + tiles : at + 2 * tiles + 1]
    column_part = order[at + 2 * tiles + 1 : at + 2 * tiles + 1 + width]
    row_part = order[at + 2 * tiles + 1 + width : at + 2 * tiles + 1 + width + g.height]
    for x in range(width):
        column_part[x] = x // side
    for y in range(g.height):
        row_part[y] = (y // side) * across
    for t in range(tiles):  # the visiting order, then each tile's place in it
        rank[t] = t
    for k in range(tiles - 1, 0, -1):
        j = randint(rng, k + 1)
        t = rank[k]
        rank[k] = rank[j]
        rank[j] = t
    for q in range(tiles):
        start[rank[q]] = q
    for t in range(tiles):
        rank[t] = start[t]
    start[:] = 0
    n = 0
    for i in range(n_slots):  # a counting sort of the live slots by visiting order
        if a.status[i] != DEAD:
            p = max(a.position[i], 0)  # no live agent is without a site; kept in range
            y = p // width
            q = rank[row_part[y] + column_part[p - y * width]]
            visit[i] = q
            start[q + 1] += 1
            n += 1
    for q in range(tiles):
        start[q + 1] += start[q]
    for i in range(n_slots):  # each slot to its tile's next place; start[q] moves on
        if a.status[i] != DEAD:
            q = visit[i]
            order[start[q]] = i
            start[q] += 1
    for q in range(tiles, 0, -1):  # start[q] had moved to where tile q+1 begins
        start[q] = start[q - 1]
    start[0] = 0
    for q in range(tiles):
        lo = start[q]
        for k in range(start[q + 1] - 1, lo, -1):
            j = lo + randint(rng, k - lo + 1)
            t = order[k]
            order[k] = order[j]
            order[j] = t
    return n


@kernel
def step(g, a, r, s, rng, legitimacy, max_jail_term, order, free_slots, meta, events):
    """Advance the world by one tick (steps 2-4 above). ``events`` (the classic
    counters) is zeroed first; ``s`` is the place's :data:`Signals`."""
    events[:] = 0
    if r.synchronous:  # the order array is scratch until the shuffle fills it
        synchronous_decisions(g, a, r, s, legitimacy, max_jail_term, order)
    n = activation_order(g, a, r, order, rng)
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
            cop_turn(g, a, i, r, s, legitimacy, max_jail_term, rng, free_slots, meta, events)
        else:
            citizen_turn(g, a, i, r, s, legitimacy, max_jail_term, rng, free_slots, meta, events)
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


#: The switches of the mechanisms (the extensions of the classic model).
MECHANISM_FLAGS = (
    "force_on",
    "legit_per_agent",
    "fear_on",
    "minds",
    "elite_on",
    "provocateurs_on",
    "media_on",
    "organisation_on",
    "identity_on",
    "emergency_on",
)


#: The classic model's choices that a classic run's step also takes as constants.
CLASSIC_FLAGS = ("model2", "synchronous", "countdown_own", "tiled")


def step_for(r: Rules):
    """The step kernel for the flags of ``r``.

    A classic run (every switch of :data:`MECHANISM_FLAGS` off) gets a copy of
    :func:`step` in which those switches are the constant false and the
    :data:`CLASSIC_FLAGS` are the run's constants, so numba compiles only the
    classic model's paths: run 2's first run compiles in about a third of the time.
    Any other run gets :func:`step` itself, every path compiled once.

    Not one copy per set of mechanisms: each copy is a compile of its own, and the
    test suite on an empty numba cache then compiled dozens of them
    (benchmarks/README, cold start). The classic copies are at most sixteen.

    Call the copy only with a record whose flags are those of ``r``."""
    if any(getattr(r, f) for f in MECHANISM_FLAGS):
        return step
    values = dict.fromkeys(MECHANISM_FLAGS, False)
    values.update({f: bool(getattr(r, f)) for f in CLASSIC_FLAGS})
    tag = "classic" + "".join("1" if values[f] else "0" for f in CLASSIC_FLAGS)
    return freeze(step, values, tag=tag)
