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

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from upheaval.core.codes import ACTIVE, CITIZEN, DEAD, QUIET
from upheaval.core.jit import kernel, rule
from upheaval.model.declare import OURS, Mechanism, Section, param, section
from upheaval.model.timeline import ActionSpec, Key
from upheaval.world.grid import wrap_site

if TYPE_CHECKING:
    from upheaval.model.params import Params

LEMOS = "Lemos, Lopes & Coelho 2016, Int. J. Intelligent Systems 31(2); form ours (model-spec §4)"


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


# -- the mechanism's declaration -------------------------------------------------------
@section("legitimacy")
class LegitimacyParams(Section):
    """Mechanism 1: legitimacy that answers to events."""

    feedback: str = param(
        "off",
        "'off': L only changes by the timeline (the classic model); 'global': one L that "
        "falls with the arrests and killings of each tick and recovers toward its anchor; "
        "'per_agent': every citizen has its own L, which also falls with each arrest or "
        "killing it sees.",
        LEMOS,
        kind="choice",
        choices=("off", "global", "per_agent"),
        name="legitimacy_feedback",
    )
    recovery: float = param(
        0.01,
        "λ_rec: share of the gap to the anchor L0 (citizens.legitimacy as the timeline "
        "sets it) that L recovers each tick.",
        LEMOS,
        kind="float",
        low=0.0,
        high=1.0,
        name="legitimacy_recovery",
    )
    arrest_impact: float = param(
        0.1,
        "λ_arr: L falls by λ_arr × arrests / citizens each tick (arrests heard of by all).",
        LEMOS,
        kind="float",
        low=0.0,
        high=1000.0,
        name="legitimacy_arrest_impact",
    )
    seen_arrest_impact: float = param(
        0.001,
        "per_agent only: a citizen's L falls by this much for each arrest within its vision.",
        OURS,
        kind="float",
        low=0.0,
        high=1.0,
        name="legitimacy_seen_arrest",
    )
    seen_kill_impact: float = param(
        0.02,
        "per_agent only: a citizen's L falls by this much for each killing by the police "
        "within its vision.",
        OURS,
        kind="float",
        low=0.0,
        high=1.0,
        name="legitimacy_seen_kill",
    )


def citizens_in(row) -> int:
    """Citizens alive at the end of the tick (free or jailed, both groups)."""
    return (
        row.quiet_blue
        + row.active_blue
        + row.jailed_blue
        + row.quiet_green
        + row.active_green
        + row.jailed_green
    )


class LegitimacyFeedback(Mechanism):
    """Legitimacy that answers to events (see the module docstring). It also shows the
    legitimacy in force in the tick table's ``legitimacy`` column (the citizens' mean
    under per-agent feedback), and handles concessions."""

    name = "legitimacy"
    section = LegitimacyParams
    values = ("legitimacy",)
    rule_fields = ("legit_per_agent", "seen_arrest", "seen_kill", "legitimacy_dynamic")
    actions: ClassVar[dict[str, ActionSpec]] = {
        "concession": ActionSpec(
            "adds `legitimacy` (−1 … 1) to the legitimacy in force (every citizen's, "
            "under per-agent legitimacy), clamped to [0, 1]; under legitimacy feedback "
            "the anchor it recovers toward is unchanged",
            required={"legitimacy": Key("number", low=-1.0, high=1.0)},
        )
    }

    def dynamic(self, p: Params, timeline) -> bool:
        """Whether L moves after each tick: feedback on, or news of killings (lethal
        force's backlash) or of strikes (organisation's strike impact) that lower it."""
        from upheaval.model.rules.lethal import lethal_ever

        return (
            p.legitimacy.feedback != "off"
            or (lethal_ever(p, timeline) and p.lethal_force.backlash > 0)
            or (p.organisation.groups > 0 and p.organisation.strike_impact > 0)
        )

    def is_on(self, p: Params, timeline) -> bool:
        return self.dynamic(p, timeline)

    def agent_arrays(self, p: Params, timeline) -> tuple[str, ...]:
        return ("legit",) if p.legitimacy.feedback == "per_agent" else ()

    def replaces_rule_c(self, p: Params, timeline) -> bool:
        return p.legitimacy.feedback == "per_agent"

    def compile_rules(self, p: Params, timeline) -> dict[str, Any]:
        per_agent = p.legitimacy.feedback == "per_agent"
        return {
            "legit_per_agent": per_agent,
            "seen_arrest": float(p.legitimacy.seen_arrest_impact) if per_agent else 0.0,
            "seen_kill": float(p.legitimacy.seen_kill_impact) if per_agent else 0.0,
            "legitimacy_dynamic": self.dynamic(p, timeline),
        }

    def initial_state(self, p: Params) -> dict[str, Any]:
        # the anchor L0 that L recovers toward: citizens.legitimacy as the timeline sets it
        return {"anchor": float(p.citizens.legitimacy)}

    def initialise(self, place, country) -> None:
        a = place.agents
        if a.legit.shape[0]:
            citizens = (a.kind == CITIZEN) & (a.status != DEAD)
            a.legit[citizens] = np.float32(place.params.citizens.legitimacy)

    def arrays_added(self, place, names: tuple[str, ...]) -> None:
        if "legit" in names:  # per-agent legitimacy starts from the value in force
            a = place.agents
            citizens = (a.kind == CITIZEN) & (a.status != DEAD)
            a.legit[citizens] = np.float32(place.dynamic["legitimacy"])

    def on_set(self, place, name: str, old: float, new: float) -> float:
        if name == "legitimacy":
            if place.rules.legit_per_agent:
                shift_agent_legitimacy(place.agents, new - old)
            place.state[self.name]["anchor"] = float(new)
        return new

    def act(self, event, place, country) -> None:
        if place.rules.legit_per_agent:
            shift_agent_legitimacy(place.agents, event.legitimacy)
        else:
            value = place.dynamic["legitimacy"] + event.legitimacy
            place.dynamic["legitimacy"] = min(1.0, max(0.0, value))

    def after_tick(self, place, country) -> None:
        p, r, row = place.params, place.rules, place.row
        citizens = citizens_in(row)
        on = p.legitimacy.feedback != "off"
        drop = news(
            p.legitimacy.arrest_impact if on else 0.0,
            p.lethal_force.backlash if r.lethal_ever else 0.0,
            row.arrests,
            row.killed_by_cops,
            citizens,
        )
        if r.strikes_hurt:
            from upheaval.model.rules.organisation import strike_news

            drop += strike_news(p.organisation.strike_impact, row.striking, citizens)
        recovery = p.legitimacy.recovery if on else 0.0
        if r.legit_per_agent:
            update_agent_legitimacy(place.agents, place.dynamic["legitimacy"], recovery, drop)
        else:
            place.dynamic["legitimacy"] = next_global_legitimacy(
                place.dynamic["legitimacy"], place.state[self.name]["anchor"], recovery, drop
            )

    def row_values(self, place, country) -> tuple[float, ...]:
        if place.rules.legit_per_agent:
            return (mean_citizen_legitimacy(place.agents),)
        return (place.dynamic["legitimacy"],)


MECHANISM = LegitimacyFeedback()
