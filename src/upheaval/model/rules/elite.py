"""Mechanism 9: an elite split — factions that command shares of the forces (issue 3;
our design, model-spec §4; docs/odd.md §7.18).

With factions on, every cop answers to the ruler or to a rival faction (``faction``)
and weighs its loyalty as ℓ_eff = λ_f·ℓ, with λ_f the faction's loyalty to the ruler
(``elite.ruler_loyalty``, ``elite.rival_loyalty``; the timeline may set both), in
:func:`~upheaval.model.rules.defection.cop_mind`. Factions are drawn once
(:func:`draw_initial_factions`: one ``init`` uniform per cop of the initial force in
slot order, after the cops' minds: rival iff u < ``elite.rival_share``); every cop
added later answers to the ruler; the timeline action ``shift_command`` moves cops
between factions (:func:`shift_command`: round-half-to-even of share × their number,
drawn one at a time uniformly from the ascending list of the other faction's cops on
duty, ``events`` stream; no draw when the whole faction passes). Needs the cops'
minds (``security_forces.minds``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from upheaval.core.codes import COP, DEAD, FACTIONS, RIVAL, RULER
from upheaval.core.jit import kernel
from upheaval.core.rng import uniform
from upheaval.model.declare import Mechanism, ParameterError, Section, param, section
from upheaval.model.slots import take_drawn
from upheaval.model.timeline import ActionEvent, ActionSpec, Key, TimelineError, indexed

if TYPE_CHECKING:
    from upheaval.model.params import Params

ELITE = (
    "our design (model-spec §4: factions that command shares of the forces, each with its "
    "own loyalty; the Kazakh split of January 2022, brief.md; docs/odd.md §7.18)"
)


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


def elite_split(p: Params, timeline=()) -> bool:
    """Whether cops answer to factions: a rival share at the start, or a command
    shift on the timeline."""
    return p.elite.rival_share > 0 or any(
        isinstance(e, ActionEvent) and e.action == "shift_command" for e in timeline
    )


# -- the mechanism's declaration -------------------------------------------------------
@section("elite")
class EliteParams(Section):
    """Mechanism 9: an elite split."""

    rival_share: float = param(
        0.0,
        "Share of the initial force (unit 0) that answers to the rival faction rather "
        "than the ruler; each initial cop draws its faction. 0: one command (no draws). "
        "Needs security_forces.minds.",
        ELITE,
        kind="float",
        low=0.0,
        high=1.0,
        initial_only=True,
        name="elite_rival_share",
    )
    ruler_loyalty: float = param(
        1.0,
        "λ_ruler: a cop under the ruler's command weighs its loyalty as λ_ruler·ℓ.",
        ELITE,
        kind="float",
        low=0.0,
        high=1.0,
        timeline=True,
        name="elite_ruler_loyalty",
    )
    rival_loyalty: float = param(
        0.5,
        "λ_rival: a cop under the rival faction's command weighs its loyalty to the "
        "regime as λ_rival·ℓ (the faction's own loyalty to the ruler).",
        ELITE,
        kind="float",
        low=0.0,
        high=1.0,
        timeline=True,
        name="elite_rival_loyalty",
    )

    def validate(self, p: Params) -> None:
        if self.rival_share > 0 and not p.security_forces.minds:
            raise ParameterError(
                "elite.rival_share",
                "factions act through their cops' decisions: set security_forces.minds = true",
            )


class EliteSplit(Mechanism):
    """Factions commanding the forces (module docstring)."""

    name = "elite"
    section = EliteParams
    rule_fields = ("elite_on",)
    signal_fields = ("elite_loyalty",)
    actions: ClassVar[dict[str, ActionSpec]] = {
        "shift_command": ActionSpec(
            "`share` (0 < share ≤ 1, default 1) of the cops on duty under the other "
            'faction\'s command pass to faction `to` ("ruler" or "rival"); needs '
            "security_forces.minds",
            required={"to": Key("choice", choices=("ruler", "rival"))},
            optional={"share": Key("number", default=1.0, high=1.0, open_low=True)},
        )
    }

    def is_on(self, p: Params, timeline) -> bool:
        return elite_split(p, timeline)

    def agent_arrays(self, p: Params, timeline) -> tuple[str, ...]:
        return ("faction",) if elite_split(p, timeline) else ()

    def compile_rules(self, p: Params, timeline) -> dict[str, Any]:
        return {"elite_on": elite_split(p, timeline)}

    def make_signals(self, p: Params, timeline) -> dict[str, Any]:
        # (λ_ruler, λ_rival) in force, rewritten every tick (the timeline may set both)
        return {
            "elite_loyalty": np.array([p.elite.ruler_loyalty, p.elite.rival_loyalty], np.float64)
        }

    def check_timeline(self, p: Params, timeline) -> None:
        for n, e in indexed(timeline):
            if isinstance(e, ActionEvent) and e.action == "shift_command":
                if not p.security_forces.minds:
                    raise TimelineError(
                        n, "action", "'shift_command' needs security_forces.minds = true"
                    )

    def initialise(self, place, country) -> None:
        if place.params.elite.rival_share > 0:
            draw_initial_factions(
                place.agents, place.params.elite.rival_share, place.streams["init"]
            )

    def before_tick(self, place, country) -> None:
        place.signals.elite_loyalty[0] = place.now("elite_ruler_loyalty")
        place.signals.elite_loyalty[1] = place.now("elite_rival_loyalty")

    def act(self, event, place, country) -> None:
        a = place.agents
        to = FACTIONS[event.to]
        others = int(np.count_nonzero((a.kind == COP) & (a.status != DEAD) & (a.faction != to)))
        count = -1 if event.share >= 1.0 else round(event.share * others)
        shift_command(a, to, count, place.streams["events"])


MECHANISM = EliteSplit()
