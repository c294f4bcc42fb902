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

from typing import TYPE_CHECKING, Any

import numpy as np

from upheaval.core.codes import ACTIVE, CITIZEN, DEAD, LANE_ACTIVE, LANE_QUIET
from upheaval.core.jit import hot_rule, kernel
from upheaval.model.declare import Mechanism, ParameterError, Section, param, section
from upheaval.model.slots import take_drawn
from upheaval.world.grid import count_cops_actives, relane

if TYPE_CHECKING:
    from upheaval.model.params import Params

PROVOCATEURS = (
    "our design after model-spec §4 (no published model has state-planted "
    "provocateurs; docs/odd.md §7.16)"
)

#: Index of the counter in ``Signals.provocateurs_counts``.
PROVOCATIONS = 0

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
def provoke(g, a, i, r, s):
    """Free provocateur ``i`` is active whatever rule A would say; a cop within its
    vision sees the violence (a provocation). Returns True (it is active)."""
    site = a.position[i]
    if a.status[i] != ACTIVE:
        a.status[i] = ACTIVE
        relane(g, a, site, LANE_QUIET, LANE_ACTIVE)
    cops, _ = count_cops_actives(g, a, site, r.cit_span_dy, r.cit_span_half)
    if cops > 0:
        s.provocateurs_counts[PROVOCATIONS] += 1
    return True


def next_framing(framing: float, decay: float, rise: float, provocations: int) -> float:
    """F′ = min(1, δ_F·F + ρ_F·provocations)."""
    return min(1.0, decay * framing + rise * provocations)


def framed_lethal_probability(order: float, gain: float, framing: float) -> float:
    """q_F = min(1, q + γ_kill·F): the lethal order in force under the framing."""
    if framing <= 0.0 or gain <= 0.0:
        return order
    return min(1.0, order + gain * framing)


# -- the mechanism's declaration -------------------------------------------------------
@section("provocateurs")
class ProvocateursParams(Section):
    """Mechanism 6: provocateurs and the regime's framing."""

    count: int = param(
        0,
        "Citizens drawn at the start to be provocateurs: always active (violent) when "
        "free. 0: none (no draws, no framing).",
        PROVOCATEURS,
        kind="int",
        low=0,
        high=10**9,
        scope="place",
        initial_only=True,
        name="provocateurs_count",
    )
    framing_rise: float = param(
        0.02,
        "ρ_F: the regime's 'terrorist' framing F rises by ρ_F per provocation (a "
        "provocateur's violence with a cop in its vision) each tick.",
        PROVOCATEURS,
        kind="float",
        low=0.0,
        high=1.0,
        name="provocateurs_framing_rise",
    )
    framing_decay: float = param(
        0.95,
        "δ_F: the framing is multiplied by δ_F each tick before new provocations add to it.",
        PROVOCATEURS,
        kind="float",
        low=0.0,
        high=1.0,
        name="provocateurs_framing_decay",
    )
    framing_lethal: float = param(
        0.2,
        "γ_kill: the lethal-force order in force q becomes min(1, q + γ_kill·F).",
        PROVOCATEURS,
        kind="float",
        low=0.0,
        high=1.0,
        name="provocateurs_framing_lethal",
    )
    framing_arrest: float = param(
        0.5,
        "γ_arr: after each enforcement a cop enforces once more this turn with "
        "probability γ_arr·F.",
        PROVOCATEURS,
        kind="float",
        low=0.0,
        high=1.0,
        name="provocateurs_framing_arrest",
    )
    framing_bystander: float = param(
        0.5,
        "β: an ordinary citizen's grievance is H(1 − L)(1 − β·F): the framed protest "
        "loses bystanders' sympathy.",
        PROVOCATEURS,
        kind="float",
        low=0.0,
        high=1.0,
        name="provocateurs_framing_bystander",
    )

    def validate(self, p: Params) -> None:
        if self.count > 0 and p.model.variant == "II":
            raise ParameterError("provocateurs.count", "Model II does not yet support provocateurs")
        if self.count > p.n_sites:
            raise ParameterError(
                "provocateurs.count", f"{self.count} provocateurs cannot fit on {p.n_sites} sites"
            )


class Provocateurs(Mechanism):
    """Provocateurs and the framing their violence feeds (module docstring). The
    framing is national: the provocations of every place add to it."""

    name = "provocateurs"
    section = ProvocateursParams
    counters = ("provocations",)
    values = ("framing",)
    rule_fields = ("provocateurs_on",)
    signal_fields = ("provocateurs_framing",)

    def is_on(self, p: Params, timeline) -> bool:
        return p.provocateurs.count > 0

    def agent_arrays(self, p: Params, timeline) -> tuple[str, ...]:
        return ("role",) if p.provocateurs.count > 0 else ()

    def replaces_rule_c(self, p: Params, timeline) -> bool:
        return p.provocateurs.count > 0

    def compile_rules(self, p: Params, timeline) -> dict[str, Any]:
        return {"provocateurs_on": p.provocateurs.count > 0}

    def make_signals(self, p: Params, timeline) -> dict[str, Any]:
        # (1 − β·F, γ_arr·F), rewritten every tick from the framing F
        return {"provocateurs_framing": np.array([1.0, 0.0], np.float64)}

    def initial_country_state(self, p: Params) -> dict[str, Any]:
        return {"framing": 0.0}

    def initialise(self, place, country) -> None:
        if place.params.provocateurs.count > 0:
            draw_provocateurs(place.agents, place.params.provocateurs.count, place.streams["init"])

    def before_tick(self, place, country) -> None:
        pv, s = place.params.provocateurs, place.signals
        framing = country.state[self.name]["framing"]
        s.provocateurs_framing[0] = 1.0 - pv.framing_bystander * framing
        s.provocateurs_framing[1] = pv.framing_arrest * framing
        s.lethal_force_order[0] = framed_lethal_probability(
            place.now("lethal_probability"), pv.framing_lethal, framing
        )

    def after_country_tick(self, country) -> None:
        pv = country.params.provocateurs
        state = country.state[self.name]
        provocations = sum(place.row.provocations for place in country.places)
        state["framing"] = next_framing(
            state["framing"], pv.framing_decay, pv.framing_rise, provocations
        )

    def row_values(self, place, country) -> tuple[float, ...]:
        return (country.state[self.name]["framing"],)


MECHANISM = Provocateurs()
