"""Mechanism 2: hardship heterogeneity, groups and shocks (issue 3; model-spec §4).

Initial hardship. The population draws one uniform u per citizen (stored as float32
in ``hardship``, engine/population.py); this module then maps it, so no draw of the
classic contract moves:

* ``hardship.distribution = "uniform"``: H = float32(low + (high − low)·u) (skipped,
  H = u exactly, at the paper's [0, 1]);
* ``"beta"``: H = float32(I⁻¹(beta_a, beta_b; u)), the Beta quantile
  (``scipy.special.betaincinv``);
* a hardship group (``hardship.group_share`` > 0): after all other initial draws,
  one more uniform per citizen from the ``init`` stream in slot order; a citizen is
  in the group iff it is < group_share, and then H = float32(group_low +
  (group_high − group_low)·u) from its own u instead.

Shocks and rollbacks (timeline actions, no draws): a shock multiplies H by a factor
(capped at 1) for the citizens targeted (all or the group, optionally only those
whose site lies in an area; jailed citizens count at the site they were taken
from); a rollback moves H toward its value before any shock (``hardship0``) by a
share: H = float32(H + share·(H0 − H)).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from scipy.special import betaincinv

from upheaval.core.codes import CITIZEN, DEAD
from upheaval.core.jit import kernel, rule
from upheaval.core.rng import uniform
from upheaval.model.declare import (
    EPSTEIN,
    OURS,
    Mechanism,
    ParameterError,
    Section,
    param,
    section,
)
from upheaval.model.timeline import ActionEvent, ActionSpec, Key, TimelineError, indexed

if TYPE_CHECKING:
    from upheaval.model.params import Params


def needs_shaping(p: Params) -> bool:
    """Whether initial hardship differs from the paper's U(0, 1)."""
    h = p.hardship
    return h.distribution != "uniform" or (h.low, h.high) != (0.0, 1.0) or h.group_share > 0


@kernel
def draw_group(a, share, rng):
    """One uniform per live citizen in slot order: cohort 1 iff u < share."""
    for i in range(a.kind.shape[0]):
        if a.kind[i] == CITIZEN and a.status[i] != DEAD:
            a.cohort[i] = 1 if uniform(rng) < share else 0


def shape_hardship(p: Params, a, rng: np.ndarray) -> None:
    """Map each citizen's stored uniform to its hardship (see the module docstring)."""
    hp = p.hardship
    citizens = (a.kind == CITIZEN) & (a.status != DEAD)
    u = a.hardship[citizens].astype(np.float64)
    if hp.distribution == "beta":
        h = betaincinv(hp.beta_a, hp.beta_b, u)
    elif (hp.low, hp.high) != (0.0, 1.0):
        h = hp.low + (hp.high - hp.low) * u
    else:
        h = u
    if hp.group_share > 0:
        draw_group(a, hp.group_share, rng)
        in_group = a.cohort[citizens] == 1
        lo, hi = hp.group_low, hp.group_high
        h = np.where(in_group, lo + (hi - lo) * u, h)
    a.hardship[citizens] = h.astype(np.float32)


@rule
def _targeted(a, i, width, group_only, x0, y0, x1, y1):
    """Whether citizen ``i`` is hit by a shock or rollback with this target and area."""
    if a.kind[i] != CITIZEN or a.status[i] == DEAD:
        return False
    if group_only and a.cohort[i] != 1:
        return False
    x = a.position[i] % width
    y = a.position[i] // width
    return x0 <= x <= x1 and y0 <= y <= y1


@kernel
def shock(a, width, factor, group_only, x0, y0, x1, y1):
    """H ← float32(min(1, H·factor)) for the targeted citizens; returns how many."""
    n = 0
    for i in range(a.kind.shape[0]):
        if _targeted(a, i, width, group_only, x0, y0, x1, y1):
            a.hardship[i] = np.float32(min(1.0, np.float64(a.hardship[i]) * factor))
            n += 1
    return n


@kernel
def rollback(a, width, share, group_only, x0, y0, x1, y1):
    """H ← float32(H + share·(H0 − H)) for the targeted citizens; returns how many."""
    n = 0
    for i in range(a.kind.shape[0]):
        if _targeted(a, i, width, group_only, x0, y0, x1, y1):
            h = np.float64(a.hardship[i])
            a.hardship[i] = np.float32(h + share * (np.float64(a.hardship0[i]) - h))
            n += 1
    return n


# -- the mechanism's declaration -------------------------------------------------------
@section("hardship")
class HardshipParams(Section):
    """Mechanism 2: the distribution of hardship, and a group with its own."""

    distribution: str = param(
        "uniform",
        "Distribution of H: 'uniform' on [low, high] (U(0, 1) is the paper's), or 'beta' "
        "with shapes beta_a, beta_b; both are quantile transforms of the one uniform drawn "
        "per citizen, so no extra draw.",
        EPSTEIN,
        kind="choice",
        choices=("uniform", "beta"),
        scope="place",
        initial_only=True,
        name="hardship_distribution",
    )
    low: float = param(
        0.0,
        "Lower end of uniform H.",
        EPSTEIN,
        kind="float",
        low=0.0,
        high=1.0,
        scope="place",
        initial_only=True,
        name="hardship_low",
    )
    high: float = param(
        1.0,
        "Upper end of uniform H.",
        EPSTEIN,
        kind="float",
        low=0.0,
        high=1.0,
        scope="place",
        initial_only=True,
        name="hardship_high",
    )
    beta_a: float = param(
        2.0,
        "Beta shape a of H.",
        OURS,
        kind="float",
        low=0.01,
        high=1000.0,
        scope="place",
        initial_only=True,
        name="hardship_beta_a",
    )
    beta_b: float = param(
        2.0,
        "Beta shape b of H.",
        OURS,
        kind="float",
        low=0.01,
        high=1000.0,
        scope="place",
        initial_only=True,
        name="hardship_beta_b",
    )
    group_share: float = param(
        0.0,
        "Share of citizens in a group with its own hardship (e.g. oil workers), drawn "
        "one uniform per citizen from the init stream after all other attributes; 0: no group.",
        OURS,
        kind="float",
        low=0.0,
        high=1.0,
        scope="place",
        initial_only=True,
        name="hardship_group_share",
    )
    group_low: float = param(
        0.0,
        "The group's H is uniform on [group_low, group_high] (same uniform as H).",
        OURS,
        kind="float",
        low=0.0,
        high=1.0,
        scope="place",
        initial_only=True,
        name="hardship_group_low",
    )
    group_high: float = param(
        1.0,
        "Upper end of the group's uniform H.",
        OURS,
        kind="float",
        low=0.0,
        high=1.0,
        scope="place",
        initial_only=True,
        name="hardship_group_high",
    )

    def validate(self, p: Params) -> None:
        if self.low > self.high:
            raise ParameterError("hardship.low", f"low {self.low:g} exceeds high {self.high:g}")
        if self.group_low > self.group_high:
            raise ParameterError(
                "hardship.group_low",
                f"group_low {self.group_low:g} exceeds group_high {self.group_high:g}",
            )


_TARGETING = {
    "target": Key("choice", default="all", choices=("all", "group")),
    "area": Key("area"),
}


class Hardship(Mechanism):
    """Hardship heterogeneity, groups, shocks and rollbacks (module docstring)."""

    name = "hardship"
    section = HardshipParams
    actions: ClassVar[dict[str, ActionSpec]] = {
        "shock": ActionSpec(
            "`factor` > 0 multiplies the hardship of the targeted citizens (capped at 1); "
            '`target` is "all" (default) or "group" (the hardship group), and an optional '
            "`area = [x0, y0, x1, y1]` (inclusive site bounds) narrows it to the citizens "
            "whose site lies inside",
            required={"factor": Key("number", low=0.0, high=100.0, open_low=True)},
            optional=_TARGETING,
        ),
        "rollback": ActionSpec(
            "moves the targeted citizens' hardship back toward its value before any shock "
            "by `share` (0 < share ≤ 1, default 1: all the way); same targeting as shock",
            optional={"share": Key("number", default=1.0, high=1.0, open_low=True), **_TARGETING},
        ),
    }

    def is_on(self, p: Params, timeline) -> bool:
        return needs_shaping(p)

    def agent_arrays(self, p: Params, timeline) -> tuple[str, ...]:
        need = ()
        if p.hardship.group_share > 0:
            need += ("cohort",)
        if any(isinstance(e, ActionEvent) and e.action == "rollback" for e in timeline):
            need += ("hardship0",)
        return need

    def check_timeline(self, p: Params, timeline) -> None:
        for n, e in indexed(timeline):
            if isinstance(e, ActionEvent) and e.action in self.actions:
                if e.target == "group" and p.hardship.group_share <= 0:
                    raise TimelineError(n, "target", "'group' needs hardship.group_share > 0")

    def initialise(self, place, country) -> None:
        a = place.agents
        if needs_shaping(place.params):
            shape_hardship(place.params, a, place.streams["init"])
        if a.hardship0.shape[0]:
            citizens = (a.kind == CITIZEN) & (a.status != DEAD)
            a.hardship0[citizens] = a.hardship[citizens]

    def arrays_added(self, place, names: tuple[str, ...]) -> None:
        if "hardship0" in names:  # rollbacks return to the hardship at the branch
            a = place.agents
            citizens = (a.kind == CITIZEN) & (a.status != DEAD)
            a.hardship0[citizens] = a.hardship[citizens]

    def act(self, event, place, country) -> Any:
        a, w = place.agents, place.params.world.width
        group = event.target == "group"
        if event.action == "shock":
            return shock(a, w, event.factor, group, *place.area(event.area))
        return rollback(a, w, event.share, group, *place.area(event.area))


MECHANISM = Hardship()
