"""Activists who travel between the places of a country (docs/odd.md §12.5).

Off by default (``travel.enabled``). While on, at the start of every tick, after the
timeline and after the forces' convoys and blockades of the tick
(:mod:`~upheaval.model.rules.transport`), each place in the order of the places table
lets some of its **active citizens** go to a neighbouring place:

* **who may leave**: an active citizen (status ACTIVE) who is neither a provocateur
  (the regime's agent, placed in its town) nor a member of an organised group (who
  acts with its local committee, §7.17); jailed and quiet citizens stay;
* **where to**: the places joined to it by a link of a mode travellers use
  (``travel.by_road``, ``travel.by_rail``, ``travel.by_air``) that is not blocked
  during the tick (§12.2), each reached by its fastest such link (ties: the first in
  the links table), in the order of the places table. A place's weight is
  w_j = (1 − β)/K + β · s_j / Σ_k s_k, with K the open neighbours, s_j the share of
  j's citizens active at the end of the last tick and β = ``travel.unrest_pull``:
  part of the activists go where the unrest is (Baudains et al. 2013: London's
  rioters went to areas rioted in the last day), the rest anywhere they can. Where
  no neighbour has any unrest (Σ s = 0), or the place's news channel is down (a
  ``shutdown``, §7.15/§12.1: they cannot hear where the unrest is), w_j = 1/K;
* **when not**: nobody leaves a place during its curfew hours (§12.3), and nobody
  leaves over a blocked link; a state of emergency outside its curfew hours, or a
  shutdown, does not stop them (the one acts on rule A, the other on the choice);
* **the draws**, from the place's ``events`` stream: for each candidate in slot order
  one ``uniform`` u, leaving iff u < p (``travel.leave_probability``), and for each
  who leaves one more ``uniform`` v, the destination the first j with
  v < Σ_{k ≤ j} w_k (the last if none). A place with no open link, under curfew, or
  p = 0 draws nothing.

A traveller leaves its place's lattice (its site vacated, its slot freed) and takes
its own record with it — hardship, risk aversion, group (identity), age and age at
death (Model II), and whichever per-agent arrays the run keeps (own legitimacy, fear,
hardship cohort, hardship before shocks, …): nothing is redrawn. It travels the link's
``travel_hours``, ``tick_hours`` a tick (``run.tick_minutes`` / 60 with a clock),
exactly as a convoy does: one leaving at the start of tick t over a link of h hours
arrives at the start of tick t + ⌈h / hours per tick⌉ − 1 and plays that tick. While
its link is blocked it waits (its journey is delayed by as much). It arrives, active,
on a uniformly drawn empty site of the whole destination lattice, drawn from the
destination's ``events`` stream as a ``cop_density`` rise draws one (rules/forces.py),
taking the lowest free slot (the arrays grow if none is free). A traveller that finds
the destination under curfew, or no empty site, waits at its edge and tries again the
next tick. Travellers arrive in the order they left (the places' order, then slot
order), after every place's departures of the tick.

Nobody is created or lost on the way: citizens on the lattices plus travellers equal
the citizens at tick 0 less those killed (Model I). A traveller's record must fit
wherever it goes: every place keeps the per-agent arrays that any place's part of
the timeline calls for (a rollback, a unit, a lethal order elsewhere), and a
country whose places' own parameters call for different ones (an override of
``hardship_group_share`` in one place) is refused.

Columns (per place and tick): ``travellers_left`` (left the place),
``travellers_arrived`` (placed on its lattice) and ``travellers_in_transit`` (on their
way to it after the tick's movement, waiting at its edge included).
``Simulation.links_table()`` has ``travellers_on_link``. A checkpoint carries the
travellers and their records (model/records.py: the one record a guard at its post
and a cop in a convoy keep too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from upheaval.core.codes import ACTIVE, CITIZEN
from upheaval.core.jit import kernel
from upheaval.core.rng import uniform
from upheaval.model.declare import Mechanism, ParameterError, Section, param, section
from upheaval.model.records import place_activists, records_of
from upheaval.model.rules.emergency import MECHANISM as EMERGENCY
from upheaval.model.rules.information import online_at
from upheaval.model.rules.legitimacy import citizens_in
from upheaval.model.rules.transport import hours_per_tick
from upheaval.model.slots import remove_agent
from upheaval.model.state import extras_of
from upheaval.model.timeline import country_timeline

if TYPE_CHECKING:
    from upheaval.model.params import Params

TRAVEL = (
    "our design (docs/odd.md §12.5), a channel of diffusion besides the news: a cadre of "
    "activists mattered in the 1960 sit-ins, though ties between cities showed little "
    "effect (Andrews & Biggs 2006, ASR 71(5)); London's rioters went where rioting had "
    "been (Baudains et al. 2013, Criminology 51(2)); the values are ours, to calibrate"
)
LEFT, ARRIVED, IN_TRANSIT = range(3)


@section("travel")
class TravelParams(Section):
    """Activists who travel between places."""

    enabled: bool = param(
        False,
        "Active citizens travel between the places of a country along the links. "
        "false: every place keeps its own people.",
        TRAVEL,
        kind="bool",
        name="travel_enabled",
    )
    leave_probability: float = param(
        0.01,
        "Per-tick probability that an active citizen who may travel leaves for a "
        "neighbouring place (about 1 in 100 an hour: a few a day of a crowd of "
        "hundreds).",
        TRAVEL,
        kind="float",
        low=0.0,
        high=1.0,
        name="travel_leave_probability",
    )
    unrest_pull: float = param(
        0.5,
        "β: the share of the destination choice that follows the neighbours' active "
        "shares at the end of the last tick; the rest is uniform among the open "
        "neighbours. 0: uniform.",
        TRAVEL,
        kind="float",
        low=0.0,
        high=1.0,
        name="travel_unrest_pull",
    )
    by_road: bool = param(
        True,
        "Travellers use road links.",
        TRAVEL,
        kind="bool",
        name="travel_by_road",
    )
    by_rail: bool = param(
        True,
        "Travellers use rail links.",
        TRAVEL,
        kind="bool",
        name="travel_by_rail",
    )
    by_air: bool = param(
        False,
        "Travellers use air links (off: a ticket, an identity check and an airport the "
        "authorities hold are not how protesters reach the next town).",
        TRAVEL,
        kind="bool",
        name="travel_by_air",
    )

    def validate(self, p: Params) -> None:
        if self.enabled and not (self.by_road or self.by_rail or self.by_air):
            raise ParameterError("travel.by_road", "travellers need at least one mode of link")


def modes_of(p: Params) -> tuple[str, ...]:
    """The link modes travellers use."""
    t = p.travel
    return tuple(m for m, on in (("road", t.by_road), ("rail", t.by_rail), ("air", t.by_air)) if on)


# -- kernels ---------------------------------------------------------------------------
@kernel
def choose_travellers(a, leave_probability, cumulative, rng, slots, destinations):
    """Draw who leaves (module docstring), in slot order: their slots and the index
    of each one's destination among the neighbours; returns how many."""
    n = 0
    for i in range(a.kind.shape[0]):
        if a.kind[i] != CITIZEN or a.status[i] != ACTIVE:
            continue
        if a.role.shape[0] and a.role[i] != 0:
            continue  # a provocateur stays where the regime placed it
        if a.org.shape[0] and a.org[i] != 0:
            continue  # a member acts with its local committee
        if uniform(rng) >= leave_probability:
            continue
        v = uniform(rng)
        k = 0
        while k < cumulative.shape[0] - 1 and v >= cumulative[k]:
            k += 1
        slots[n] = i
        destinations[n] = k
        n += 1
    return n


@kernel
def leave(g, a, slots, n, hold_site, free_slots, meta):
    """Take the travellers ``slots[:n]`` off the lattice (their slots go free)."""
    for k in range(n):
        remove_agent(g, a, slots[k], hold_site, free_slots, meta)


# -- the mechanism ---------------------------------------------------------------------
class Travel(Mechanism):
    """Activists who travel between places (module docstring)."""

    name = "travel"
    section = TravelParams
    counters = ("travellers_left", "travellers_arrived", "travellers_in_transit")

    def is_on(self, p: Params, timeline) -> bool:
        return p.travel.enabled

    def agent_arrays(self, p: Params, timeline) -> tuple[str, ...]:
        # A traveller's record must fit wherever it goes: every place keeps the
        # per-agent arrays that any place's part of the timeline calls for (a rollback,
        # a unit, a lethal order elsewhere). The arrays a place's own parameters call
        # for (an override) cannot be known here: _check_records refuses those.
        if not p.travel.enabled:
            return ()
        from upheaval.model.mechanisms import MECHANISMS  # the registry imports us

        whole = country_timeline(timeline)
        return tuple(
            dict.fromkeys(n for m in MECHANISMS if m is not self for n in m.agent_arrays(p, whole))
        )

    def arrays_added(self, place, names: tuple[str, ...]) -> None:
        # A branch turned travel on: arrays another place's timeline calls for were
        # added here; their owners give them their values at the branch, as they do
        # for their own (e.g. hardship before shocks: the hardship now).
        from upheaval.model.mechanisms import MECHANISMS

        whole = country_timeline(place.timeline)
        for m in MECHANISMS:
            if m is self:
                continue
            own = m.agent_arrays(place.params, place.timeline)
            theirs = tuple(
                n for n in m.agent_arrays(place.params, whole) if n in names and n not in own
            )
            if theirs:
                m.arrays_added(place, theirs)

    def initial_country_state(self, p: Params) -> dict[str, Any]:
        # travellers: tuple of (origin, destination, link, hours left on it — 0 once
        # at the destination's edge —, its record: a model/records.py RECORD array of
        # one row), in the order they left; on_links: per tick, the travellers on each link
        return {"travellers": (), "counts": None, "on_links": ()}

    def _state(self, country) -> dict[str, Any]:
        st = country.state[self.name]
        if st["counts"] is None:
            st["counts"] = np.zeros((len(country.places), 3), np.int64)
        return st

    def before_country_tick(self, country) -> None:
        if country.country is None:
            return
        country.derived(("travel_records",), lambda: _check_records(country))
        st = self._state(country)
        blocked = _blocked(country)
        for i in range(len(country.places)):
            self._depart(country, st, i, blocked)
        self._move(country, st, blocked)

    def _depart(self, country, st, i: int, blocked) -> None:
        p = country.params.travel
        place_ = country.places[i]
        if p.leave_probability <= 0.0 or EMERGENCY.factor(place_, country)[2]:
            return  # nobody leaves during a curfew
        neighbours = _open_neighbours(country, i, blocked)
        if not neighbours:
            return
        cumulative = _cumulative(country, place_, [j for j, _ in neighbours], p.unrest_pull)
        a = place_.agents
        # room for every active citizen, not every slot: a large place's arrays are big
        most = int(np.count_nonzero((a.kind == CITIZEN) & (a.status == ACTIVE)))
        if most == 0:
            return  # no candidate: the kernel would draw nothing either
        slots = np.empty(most, np.int32)
        dest = np.empty(most, np.int64)
        n = int(
            choose_travellers(
                place_.agents,
                p.leave_probability,
                cumulative,
                place_.streams["events"],
                slots,
                dest,
            )
        )
        if n == 0:
            return
        # each takes its own record (model/records.py), read before its slot goes free
        records = records_of(place_.agents, slots[:n])
        place_.heap_room(n)
        leave(
            place_.lattice,
            place_.agents,
            slots,
            n,
            place_.rules.hold_site,
            place_.free_slots,
            place_.free_meta,
        )
        links = country.country.links
        leaving = []
        for k in range(n):
            j, link = neighbours[int(dest[k])]
            leaving.append((i, j, link, float(links[link].travel_hours), records[k : k + 1]))
        st["travellers"] = (*st["travellers"], *leaving)
        st["counts"][i, LEFT] += n

    def _move(self, country, st, blocked) -> None:
        step = hours_per_tick(country.params)
        moving = []
        curfew: dict[int, bool] = {}
        for origin, dest, link, left, record in st["travellers"]:
            if left > 0.0:
                if blocked[link]:
                    moving.append((origin, dest, link, left, record))
                    continue  # waits at the blockade; this tick's travel is lost
                if left > step:
                    moving.append((origin, dest, link, left - step, record))
                    continue
            # at the destination: it enters unless the place is under curfew or full
            if dest not in curfew:
                curfew[dest] = EMERGENCY.factor(country.places[dest], country)[2]
            if curfew[dest] or not _enter(country.places[dest], record):
                moving.append((origin, dest, link, 0.0, record))
                continue
            st["counts"][dest, ARRIVED] += 1
        st["travellers"] = tuple(moving)
        on_link = [0] * len(country.country.links)
        for _, dest, link, left, _ in moving:
            st["counts"][dest, IN_TRANSIT] += 1
            if left > 0.0:
                on_link[link] += 1
        st["on_links"] = (*st["on_links"], tuple(on_link))

    def before_tick(self, place, country) -> None:
        if country.country is None:
            return
        place.signals.travel_counts[:] = self._state(country)["counts"][place.index]

    def after_country_tick(self, country) -> None:
        if country.country is not None:
            self._state(country)["counts"][:] = 0


def _blocked(country) -> np.ndarray:
    """Which links are blocked this tick (the forces' blockades, §12.2; none without
    the transport mechanism)."""
    st = country.state.get("transport")
    n = len(country.country.links)
    if country.params.transport.enabled and st and st["blocked"] is not None:
        return st["blocked"]
    return np.zeros(n, np.bool_)


def _open_neighbours(country, i: int, blocked) -> list[tuple[int, int]]:
    """(place, link) for each place joined to ``i`` by an open link of a mode
    travellers use, by its fastest such link (ties: the first in the table), in the
    order of the places table."""
    links = country.derived(("travel_links", i), lambda: _links_of(country, i))
    best: dict[int, tuple[int, float]] = {}
    for j, k, hours in links:
        if not blocked[k] and (j not in best or hours < best[j][1]):
            best[j] = (k, hours)
    return [(j, k) for j, (k, _) in sorted(best.items())]


def _links_of(country, i: int) -> tuple[tuple[int, int, float], ...]:
    """(other end, link, travel hours) of the links of a mode travellers use that end
    at place ``i``, in table order: the scenario's, made once a run."""
    c = country.country
    modes = modes_of(country.params)
    out = []
    for k, link in enumerate(c.links):
        a, b = c.index(link.a), c.index(link.b)
        if link.mode in modes and i in (a, b) and a != b:
            out.append((b if a == i else a, k, link.travel_hours))
    return tuple(out)


def _cumulative(country, origin, neighbours: list[int], pull: float) -> np.ndarray:
    """The cumulative weights of the neighbours (module docstring)."""
    k = len(neighbours)
    shares = []
    for j in neighbours:
        row = country.places[j].row
        people = citizens_in(row)
        shares.append((row.active_blue + row.active_green) / people if people > 0 else 0.0)
    total = sum(shares)
    online = online_at(origin.params.information.online, country.timeline_of(origin), country.tick)
    if total > 0.0 and online and pull > 0.0:
        weights = [(1.0 - pull) / k + pull * s / total for s in shares]
    else:
        weights = [1.0 / k] * k
    return np.cumsum(np.array(weights, np.float64))


def _enter(place_, record: np.ndarray) -> bool:
    """Place a traveller on ``place_``'s lattice, active; False if it has no empty
    site."""
    return place_activists(place_, record) == 1


def _check_records(country) -> bool:
    """Refuse a country whose places keep different per-agent arrays (their own
    parameters call for different ones: Travel.agent_arrays evens out what the
    timeline calls for): a traveller's record must fit wherever it goes."""
    kept = {pl.name: (extras_of(pl.agents), pl.agents.age.shape[0] > 0) for pl in country.places}
    first = next(iter(kept.values()))
    for name, k in kept.items():
        if k != first:
            raise ValueError(
                "travel needs every place to keep the same per-agent arrays (a "
                f"traveller's record must fit wherever it goes): {country.places[0].name} "
                f"keeps {first}, {name} keeps {k}; give the places the same values of "
                "the parameters that switch them"
            )
    return True


def in_transit(country) -> int:
    """Travellers on their way between places now."""
    st = country.state.get("travel")
    return len(st["travellers"]) if st else 0


MECHANISM = Travel()
