"""Mechanism 10: divided identities (issue 3; docs/odd.md §7.19).

Kim & Hanneman (2011, JASSS 14(3) 1) give Epstein's citizens *tags* — observable
markers of ethnicity or language — and find that protest is weaker and shorter
when citizens tell "us" from "them". The form here is ours: with
``identity.enabled`` every Model I citizen carries one of two identities, Blue or
Green (Model II's ``group``, drawn Blue with probability ``groups.blue_share``), and
in rule A a citizen counts the actives of its own group in full and those of the
other group only as far as solidarity s (``identity.solidarity``) reaches:

    A = 1 + (own-group actives in vision) + ⌊s · (other-group actives in vision)⌋

Counts stay whole numbers, so every ratio rule stays exact integer arithmetic.
With s = 1 the rule is Epstein's; divisive propaganda (a timeline ``set`` or
``ramp`` of ``identity.solidarity``) lowers s, and every crowd of mixed identity
then looks smaller, and riskier, to each of its members. Cops see all actives
alike: arrests ignore identity.

Draws: at initialisation, after every other initial draw (population, hardship
group, cops' minds), one ``init`` uniform per live citizen in slot order: Blue iff
u < blue_share. A cop who leaves the force (security forces with minds) becomes a
Blue citizen, the group the force is taken to be recruited from. Nothing else draws:
the random-stream contract of the dynamics is unchanged, so a run with s = 1 is
bit-identical to the same run with identities off, but for the split of the tallies
by group.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from upheaval.core.codes import BLUE, CITIZEN, DEAD, GREEN
from upheaval.core.jit import kernel, rule
from upheaval.core.rng import uniform
from upheaval.model.declare import Mechanism, ParameterError, Section, param, section
from upheaval.model.rules.activation import cop_active_ratio
from upheaval.model.timeline import RampEvent, SetEvent, TimelineError, indexed
from upheaval.world.grid import count_actives_of_group

if TYPE_CHECKING:
    from upheaval.model.params import Params

IDENTITY = "our design after Kim & Hanneman 2011, JASSS 14(3) 1 (tags; docs/odd.md §7.19)"


@kernel
def draw_identities(a, blue_share, rng):
    """One uniform per live citizen in slot order: Blue iff u < blue_share."""
    for i in range(a.kind.shape[0]):
        if a.kind[i] == CITIZEN and a.status[i] != DEAD:
            a.group[i] = BLUE if uniform(rng) < blue_share else GREEN


@rule(python=True)
def solidary_actives(actives, other_group, solidarity):
    """The actives a citizen counts: its own group's in full, ⌊s · other group's⌋."""
    return actives - other_group + math.floor(solidarity * other_group)


@rule
def solidary_count(g, a, i, site, r, s, cops, actives):
    """The actives citizen ``i`` counts in rule A, given the ``cops`` and ``actives``
    it perceives (seen, plus any broadcast, which carries no identity and counts in
    full): the other group's seen actives n count ⌊s · n⌋.

    With n₀ the seen actives, the count lies between actives − n₀ + ⌊s · n₀⌋ (were
    every one the other group's) and ``actives`` (were none). Where the ratio rule
    gives the same C/A at both ends it gives it in between (every rule is monotone
    in A), so P and the decision do not depend on the split and the walk of the site
    lists is skipped: exact, and common, since few cops facing a crowd, or none at
    all, give the same rounded ratio (measured at 200×200 with every mechanism on:
    one decision in thirty walks).
    """
    solidarity = s.identity_solidarity[0]
    seen = actives - s.media[0] if r.media_on else actives
    low = actives - seen + math.floor(solidarity * seen)
    rule_code = r.ratio_rule
    if cop_active_ratio(cops, 1 + low, rule_code) == cop_active_ratio(cops, 1 + actives, rule_code):
        return actives
    other = count_actives_of_group(g, a, site, r.cit_span_dy, r.cit_span_half, 1 - a.group[i])
    return solidary_actives(actives, other, solidarity)


# -- the mechanism's declaration -------------------------------------------------------
@section("identity")
class IdentityParams(Section):
    """Mechanism 10: divided identities."""

    enabled: bool = param(
        False,
        "Model I citizens carry an identity tag, Blue or Green (groups.blue_share), drawn "
        "after every other initial draw; actives of the other group count toward A only "
        "as far as solidarity reaches. false: no tags (the classic model, no draws).",
        IDENTITY,
        kind="bool",
        initial_only=True,
        name="identity_enabled",
    )
    solidarity: float = param(
        1.0,
        "s: A = 1 + own-group actives in vision + ⌊s · other-group actives⌋. 1: full "
        "solidarity (identities make no difference); divisive propaganda is a timeline "
        "set or ramp that lowers it.",
        IDENTITY,
        kind="float",
        low=0.0,
        high=1.0,
        timeline=True,
        name="identity_solidarity",
    )

    def validate(self, p: Params) -> None:
        if self.enabled and p.model.variant == "II":
            # Model II's groups fight each other; solidarity between them is not its question.
            raise ParameterError(
                "identity.enabled",
                "identities are for Model I; Model II has its groups already (groups.blue_share)",
            )
        if self.enabled and not 0.0 < p.groups.blue_share < 1.0:
            raise ParameterError(
                "groups.blue_share",
                f"must lie strictly between 0 and 1 when identity.enabled (got "
                f"{p.groups.blue_share:g}: one group alone has no other group to be divided from)",
            )
        if not self.enabled and self.solidarity != 1.0:
            raise ParameterError(
                "identity.solidarity",
                f"is {self.solidarity:g} but identity.enabled is false: without identities "
                "solidarity has no effect; set identity.enabled = true",
            )


class Identity(Mechanism):
    """Divided identities and solidarity (module docstring)."""

    name = "identity"
    section = IdentityParams
    rule_fields = ("identity_on",)
    signal_fields = ("identity_solidarity",)

    def is_on(self, p: Params, timeline) -> bool:
        return p.identity.enabled

    def compile_rules(self, p: Params, timeline) -> dict[str, Any]:
        return {"identity_on": bool(p.identity.enabled)}

    def make_signals(self, p: Params, timeline) -> dict[str, Any]:
        # s in force, rewritten every tick (divisive propaganda is a timeline ramp)
        return {"identity_solidarity": np.array([p.identity.solidarity], np.float64)}

    def check_timeline(self, p: Params, timeline) -> None:
        for n, e in indexed(timeline):
            if isinstance(e, SetEvent | RampEvent) and e.param == "identity_solidarity":
                if not p.identity.enabled:
                    kind = "set" if isinstance(e, SetEvent) else "ramp"
                    raise TimelineError(
                        n, f"{kind}.identity.solidarity", "needs identity.enabled = true"
                    )

    def initialise(self, place, country) -> None:
        if place.params.identity.enabled:
            draw_identities(place.agents, place.params.groups.blue_share, place.streams["init"])

    def before_tick(self, place, country) -> None:
        place.signals.identity_solidarity[0] = place.now("identity_solidarity")


MECHANISM = Identity()
