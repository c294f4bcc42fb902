"""Mechanism 7: information beyond sight — a long-range channel (issue 3; docs/odd.md §7.15).

In the classic model a citizen knows only what it sees within vision v. With the
channel on, it also hears a broadcast of the whole lattice at the end of the
previous tick (Makowsky & Rubin 2013: information technology lets citizens learn of
dissent far beyond their own neighbourhood). The form is ours: the broadcast is
turned into as-if-seen counts, what the citizen would see in a vision of its size
if the reported actives and arrests were spread evenly over the lattice,

    A_media = ⌊w_A · actives_{t−1} · |V| / sites⌋
    C_media = ⌊w_R · (arrests_{t−1} + killings_{t−1}) · |V| / sites⌋

with |V| the sites within citizen vision, and rule A uses C + C_media and
A = 1 + actives seen + A_media. w_A > 0 makes rebellion elsewhere lower perceived
risk (mobilising); w_R > 0 makes widely broadcast repression raise it (damping).
The counts are whole numbers so that every ratio rule stays exact integer
arithmetic. An internet shutdown (timeline action ``shutdown``; ``restore`` brings
it back) sets both to 0: citizens fall back on their own eyes (Hassanpour 2014).

**News across a country** (docs/odd.md §7.20). In a country of many places, a
citizen of place i also hears of the unrest and repression of the *other* places,
weighted by a kernel that mixes national media with news that decays with distance
along the links (Bonnasse-Gahot et al. 2018: distance-decaying contagion drove the
2005 French riots although national media reached everywhere; Myers 2000: contagion
along media markets):

    κ_ij = m + (1 − m) · exp(−d_ij / λ)      (j ≠ i; d_ij: shortest path in km)
    a_j  = actives_j / sites_j,  r_j = (arrests_j + killings_j) / sites_j   (tick t−1)
    A_elsewhere = ⌊w_E · |V| · Σ_j κ_ij a_j / Σ_j κ_ij⌋
    C_elsewhere = ⌊w_E^R · |V| · Σ_j κ_ij r_j / Σ_j κ_ij⌋

— as if the weighted density of actives (of repression) elsewhere stood within the
citizen's vision. They add to A_media and C_media. Places no link path joins get
only the national share m. A place whose channel is down (a ``shutdown``, for the
whole country or, with ``place``/``region``, only there) hears neither its own
broadcast nor the news from elsewhere.

Whether the channel is up at a tick is a function of the parameters and the
place's timeline alone (:func:`online_at`), so checkpoints carry no extra state. No
random draws: the random-stream contract is unchanged.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from upheaval.core.jit import kernel
from upheaval.model.declare import Mechanism, ParameterError, Section, param, section
from upheaval.model.rules.transport import hours_per_tick
from upheaval.model.timeline import ActionEvent, ActionSpec, TimelineError, first_tick, indexed

if TYPE_CHECKING:
    from upheaval.model.params import Params

INFORMATION = (
    "our design after Makowsky & Rubin 2013, PLoS ONE 8(11) and Hassanpour 2014, "
    "Political Communication 31(1) (docs/odd.md §7.15)"
)


def online_at(initially_online: bool, timeline: Iterable, tick: int) -> bool:
    """Whether the channel is up at ``tick``: ``information.online`` as toggled by
    the last ``shutdown``/``restore`` action at a tick ≤ ``tick`` (file order among
    ties, as the timeline acts)."""
    online = bool(initially_online)
    for e in sorted(timeline, key=first_tick):
        if not isinstance(e, ActionEvent) or e.action not in ("shutdown", "restore"):
            continue
        if e.tick > tick:
            continue
        online = e.action == "restore"
    return online


def as_if_seen(weight: float, count: int, vision_sites: int, sites: int) -> int:
    """⌊weight · count · |V| / sites⌋: a lattice-wide count as a citizen would see it
    within its vision were it spread evenly."""
    if weight <= 0.0 or count <= 0 or sites <= 0:
        return 0
    return int(math.floor(weight * count * vision_sites / sites))


def broadcast(
    online: bool,
    actives_weight: float,
    repression_weight: float,
    actives: int,
    repression: int,
    vision_sites: int,
    sites: int,
) -> tuple[int, int]:
    """(A_media, C_media) for the next tick; (0, 0) while the channel is down."""
    if not online:
        return 0, 0
    return (
        as_if_seen(actives_weight, actives, vision_sites, sites),
        as_if_seen(repression_weight, repression, vision_sites, sites),
    )


@functools.lru_cache(maxsize=8)
def news_kernel(
    distances: tuple[tuple[float, ...], ...], national_share: float, decay_km: float
) -> tuple[tuple[float, ...], ...]:
    """κ_ij = m + (1 − m)·exp(−d_ij/λ) for j ≠ i, 0 on the diagonal (module
    docstring); ``distances`` in km, ``inf`` where no path joins two places."""
    n = len(distances)
    rows = []
    for i in range(n):
        row = []
        for j in range(n):
            if i == j:
                row.append(0.0)
                continue
            d = distances[i][j]
            near = 0.0 if math.isinf(d) else math.exp(-d / decay_km)
            row.append(national_share + (1.0 - national_share) * near)
        rows.append(tuple(row))
    return tuple(rows)


@kernel(allocates=True)
def heard_densities(kernel_matrix, densities):
    """Σ_j κ_ij x_j / Σ_j κ_ij for every place i: the kernel-weighted density of the
    other places (0 where no place is heard). Summed in order of j, the diagonal
    (κ_ii = 0) included, which adds +0.0: the sums of the place-by-place loop this
    replaces, bit for bit (no fast-math, so no reassociation)."""
    n = densities.shape[0]
    out = np.zeros(n, np.float64)
    for i in range(n):
        total = 0.0
        heard = 0.0
        for j in range(n):
            total += kernel_matrix[i, j]
            heard += kernel_matrix[i, j] * densities[j]
        out[i] = 0.0 if total <= 0.0 else heard / total
    return out


def remembered(memory: float, news: float, half_life_hours: float, tick_hours: float) -> float:
    """The news a place keeps in mind: memory + α·(news − memory), α = 1 − 2^(−Δt/h)
    for a half-life of h hours and ticks of Δt hours; h = 0: only this tick's news."""
    if half_life_hours <= 0.0:
        return news
    alpha = 1.0 - 0.5 ** (tick_hours / half_life_hours)
    return memory + alpha * (news - memory)


def elsewhere(weight: float, density: float, v: int) -> int:
    """⌊w · |V| · density⌋: a density of actives (of repression) heard of elsewhere,
    as if seen within a vision of ``v`` sites."""
    if weight <= 0.0:
        return 0
    return int(math.floor(weight * v * density))


# -- the mechanism's declaration -------------------------------------------------------
@section("information")
class InformationParams(Section):
    """Mechanism 7: information beyond sight."""

    enabled: bool = param(
        False,
        "A long-range channel (media, the internet) tells every citizen the lattice-wide "
        "actives and repression of the previous tick, as if seen within its vision. "
        "false: citizens know only what they see (the classic model).",
        INFORMATION,
        kind="bool",
        name="information_enabled",
    )
    online: bool = param(
        True,
        "Whether the channel is up at tick 0; timeline actions shutdown and restore "
        "switch it off and on.",
        INFORMATION,
        kind="bool",
        name="information_online",
    )
    actives_weight: float = param(
        1.0,
        "w_A: a citizen adds ⌊w_A · actives · |V| / sites⌋ to the actives it sees "
        "(mobilising: rebellion elsewhere lowers perceived risk).",
        INFORMATION,
        kind="float",
        low=0.0,
        high=100.0,
        name="information_actives_weight",
    )
    repression_weight: float = param(
        0.0,
        "w_R: a citizen adds ⌊w_R · (arrests + killings) · |V| / sites⌋ to the cops it "
        "sees (damping: broadcast repression raises perceived risk).",
        INFORMATION,
        kind="float",
        low=0.0,
        high=1000.0,
        name="information_repression_weight",
    )
    elsewhere_weight: float = param(
        0.0,
        "w_E: in a country, a citizen adds ⌊w_E · |V| · (kernel-weighted density of "
        "actives in the other places)⌋ to the actives it sees. 0: places do not hear of "
        "each other.",
        INFORMATION,
        kind="float",
        low=0.0,
        high=1000.0,
        name="information_elsewhere_weight",
    )
    elsewhere_repression_weight: float = param(
        0.0,
        "w_E^R: in a country, a citizen adds ⌊w_E^R · |V| · (kernel-weighted density of "
        "arrests and killings in the other places)⌋ to the cops it sees.",
        INFORMATION,
        kind="float",
        low=0.0,
        high=10000.0,
        name="information_elsewhere_repression_weight",
    )
    national_share: float = param(
        0.5,
        "m: the share of news from another place that reaches every place alike "
        "(national media); the rest decays with distance along the links, "
        "exp(−d/decay_km). 1: no distance decay.",
        INFORMATION,
        kind="float",
        low=0.0,
        high=1.0,
        name="information_national_share",
    )
    decay_km: float = param(
        300.0,
        "λ: the distance, in km along the links, over which news from another place "
        "falls by a factor e (the distance-decaying term).",
        INFORMATION,
        kind="float",
        low=1.0,
        high=1e6,
        name="information_decay_km",
    )
    news_half_life: float = param(
        0.0,
        "h: the half-life, in hours, of what a place keeps in mind of the news from "
        "elsewhere: each tick it moves a share 1 − 2^(−Δt/h) of the way to the news "
        "of the tick (Δt: hours a tick lasts). 0: only the last tick's news counts.",
        "our design (docs/odd.md §12.1): news of a distant uprising builds up over "
        "hours and days rather than at once (Myers 2000, American Journal of Sociology "
        "106(1): diffusion of riots through media over days)",
        kind="float",
        low=0.0,
        high=10000.0,
        name="information_news_half_life",
    )
    focal_x: int = param(
        -1,
        "x of a focal site (a central square) the channel points protesters to: while "
        "it is online an active citizen's rule M goes to the empty site in vision "
        "nearest to it. -1: no focal site.",
        INFORMATION,
        kind="int",
        low=-1,
        high=1_000_000,
        scope="place",
        name="information_focal_x",
    )
    focal_y: int = param(
        -1,
        "y of the focal site; -1 (with focal_x = -1): none.",
        INFORMATION,
        kind="int",
        low=-1,
        high=1_000_000,
        scope="place",
        name="information_focal_y",
    )

    def validate(self, p: Params) -> None:
        if (self.focal_x < 0) != (self.focal_y < 0):
            raise ParameterError(
                "information.focal_x", "give both focal_x and focal_y, or neither (-1)"
            )
        if self.focal_x >= p.world.width or self.focal_y >= p.world.height:
            raise ParameterError(
                "information.focal_x",
                f"focal site ({self.focal_x}, {self.focal_y}) is off the "
                f"{p.world.width}×{p.world.height} lattice",
            )
        if self.focal_x >= 0 and not self.enabled:
            raise ParameterError(
                "information.focal_x", "a focal site needs information.enabled = true"
            )


class Information(Mechanism):
    """The long-range information channel and its shutdowns (module docstring)."""

    name = "information"
    section = InformationParams
    rule_fields = ("media_on",)
    signal_fields = ("media", "focal")
    actions: ClassVar[dict[str, ActionSpec]] = {
        "shutdown": ActionSpec(
            "the long-range information channel goes down (an internet shutdown; needs "
            "information.enabled)"
        ),
        "restore": ActionSpec("the channel comes back (needs information.enabled)"),
    }

    def is_on(self, p: Params, timeline) -> bool:
        return p.information.enabled

    def initial_state(self, p: Params) -> dict[str, Any]:
        # the news from elsewhere a place keeps in mind: (actives, repression) densities
        return {"heard": np.zeros(2, np.float64)}

    def compile_rules(self, p: Params, timeline) -> dict[str, Any]:
        return {"media_on": bool(p.information.enabled)}

    def make_signals(self, p: Params, timeline) -> dict[str, Any]:
        i = p.information
        return {
            # (A_media, C_media), rewritten every tick
            "media": np.zeros(2, np.int64),
            # (channel online now, x, y) of the focal site, or x = -1
            "focal": np.array([0, i.focal_x, i.focal_y], np.int64),
        }

    def check_timeline(self, p: Params, timeline) -> None:
        for n, e in indexed(timeline):
            if isinstance(e, ActionEvent) and e.action in self.actions:
                if not p.information.enabled:
                    raise TimelineError(
                        n, "action", f"{e.action!r} needs information.enabled = true"
                    )

    def before_tick(self, place, country) -> None:
        p, row, s = place.params, place.row, place.signals
        online = online_at(p.information.online, country.timeline_of(place), country.tick)
        s.focal[0] = int(online)
        v = int(place.rules.cit_off_dx.shape[0])
        s.media[0], s.media[1] = broadcast(
            online,
            p.information.actives_weight,
            p.information.repression_weight,
            row.active_blue + row.active_green,
            row.arrests + row.killed_by_cops,
            v,
            p.n_sites,
        )
        i = p.information
        if len(country.places) > 1 and (
            i.elsewhere_weight > 0 or i.elsewhere_repression_weight > 0
        ):
            # A place cut off hears nothing, and what it remembers fades meanwhile.
            memory = place.state["information"]["heard"]
            heard = country.derived(("news_heard",), lambda: [None])[0]
            for which, weight in ((0, i.elsewhere_weight), (1, i.elsewhere_repression_weight)):
                news = float(heard[which, place.index]) if online else 0.0
                memory[which] = remembered(memory[which], news, i.news_half_life, hours_per_tick(p))
                if online:
                    s.media[which] += elsewhere(weight, memory[which], v)

    def before_country_tick(self, country) -> None:
        """The news each place hears of the others' last tick — actives (0) and
        repression (1) per site — for every place at once: ``before_tick`` runs on
        the places' threads, while other places write their rows."""
        if len(country.places) < 2:
            return
        p = country.params.information
        kernel_matrix = country.derived(
            ("news_kernel", p.national_share, p.decay_km),
            lambda: np.array(news_kernel(country.distances, p.national_share, p.decay_km)),
        )
        rows = [other.row for other in country.places]
        sites = np.array([other.params.n_sites for other in country.places], np.int64)
        counts = np.array(
            [
                [r.active_blue + r.active_green for r in rows],
                [r.arrests + r.killed_by_cops for r in rows],
            ],
            np.int64,
        )
        # a scratch of this tick, remade every tick (so not checkpointed); int / int
        # divides as Python's true division does (both exact doubles)
        country.derived(("news_heard",), lambda: [None])[0] = np.stack(
            [heard_densities(kernel_matrix, counts[k] / sites) for k in (0, 1)]
        )


MECHANISM = Information()
