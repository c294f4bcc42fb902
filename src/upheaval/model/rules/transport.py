"""Forces that travel between the places of a country, and blockades (docs/odd.md
§12.2).

Cops leave a place's lattice, travel along the links of the fastest route (by
``travel_hours``) and join the lattice of the place they were sent to when the
route's travel time has elapsed. They are sent

* by the timeline: ``{ action = "send", place = "Aktau", to = "Zhanaozen", count =
  50 }`` moves 50 cops (or as many as are on duty; all of them without ``count``) at
  the start of that tick, and with ``unit = "…"`` members of that named unit only;
* by the regime's policy (``transport.call_ratio`` > 0): at the start of each tick,
  every place (in the order of the places table) whose actives per cop at the
  end of the last tick exceed ``call_ratio``, and that has not called within
  ``cooldown`` ticks, calls for help; the donor is the place, reachable by the
  links, with the fewest actives per cop (ties: the first in the table), if that
  is at most ``donor_ratio`` and it has at least two cops; it sends
  max(1, ⌊``send_share`` · its cops⌋). ``policy_units`` chooses whom it may send:
  ``"any"`` cop on duty (the default), ``"domestic"`` (none of a foreign unit) or
  ``"local"`` (the initial force only), and ``policy_spares_guards`` spares guard
  units' members. Under a choice that excludes a unit of the country
  (:func:`policy_units`) the donor's cops are its eligible ones — its cops at the
  end of the last tick less the excluded on duty at the call — a place with fewer
  than two is no donor (the next calmest qualifies instead), and they are drawn
  among the eligible as a partial ``withdraw`` draws a unit's members
  (rules/forces.py:withdraw_units).

Leaving cops are drawn uniformly among the place's cops on duty and arriving
ones placed on uniformly drawn empty sites, both from the place's ``events``
stream, exactly as a ``cop_density`` change draws them (rules/forces.py). Each keeps
its **unit** (rules/forces.py: the initial force is unit 0; a named unit has one
code in every place of the country): a guard unit's members guard where they
arrive, a foreign unit keeps its origin and so its loyalty range. A convoy carries
each of its cops' **records** (model/records.py: unit, mind — H_c and loyalty —,
faction, fear and every other per-agent field, the record a guard at its post
keeps too), and on arrival places the same cop, drawing only its site (as a
``reinforce`` of the whole lattice draws one), never a new mind: a loyal unit
arrives as loyal as it left, a rival's cop still answers to the rival. Cops
arrive unit by unit in ascending code (within a unit, those taken on duty in slot
order, then its guards first posted first), the order in which convoys placed
them when they carried counts only, so a run without cops' minds draws exactly
what it drew then (a convoy of the initial force, what a ``cop_density`` change
would). Under ``policy_units = "any"`` without ``policy_spares_guards`` the regime's
policy sends cops drawn among all on duty, whatever their unit (its draws are those
it had before units travelled; a guard drawn leaves its post).
``{ action = "send", place = "Almaty", to = "Aktau", unit = "csto", count = 5 }``
sends 5 members of a named unit, drawn uniformly among those on duty there (all of
them, in slot order and without a draw, when ``count`` is left out), as ``withdraw``
draws them; without ``count`` the unit leaves the place whole, its members guarding
the place's key sites with it (relieved without a draw, as a whole ``withdraw``
takes them: rules/sites.py), while a ``send`` with ``count`` leaves guards at their
posts. A convoy advances ``tick_hours`` a tick
(``run.tick_minutes`` / 60 when the run has a clock) along its current link; the
surplus carries over to the next link. A convoy that finds too few empty sites
waits at its destination with the rest. None are created or lost on the way:
cops on duty + in transit change only by arrests' opposite (killings), the
timeline's reinforcements and withdrawals, and a unit's members on duty + in transit
only by its reinforcements, withdrawals, killings and defections.

**Blockades.** A road or rail link is blocked during a tick if, at the end of the
last tick, at least ``blockade_share`` of the citizens of either place it joins
were active (protesters on the line: the rail blockades of January 2022); air
links are not blocked. A convoy whose current link is blocked does not advance
(it waits, and is delayed by as much). ``links_blocked`` counts, per place and
tick, the blocked links that end there; ``Simulation.links_table()`` has one row a
link and tick.

Columns (per place and tick): ``forces_sent`` (cops that left), ``forces_arrived``,
``forces_in_transit`` (on their way to the place, at the start of the tick after
the movement) and ``links_blocked``. No draws besides the departures' and
arrivals': the random-stream contract of each place is that of a ``cop_density``
change at the same tick, less the minds (an arriving cop keeps its own).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from upheaval.core.codes import COP, DEAD
from upheaval.model.declare import Mechanism, ParameterError, Section, param, section
from upheaval.model.records import place_cops, records_of
from upheaval.model.rules.defection import FOREIGN
from upheaval.model.rules.forces import (
    country_units,
    on_duty_of,
    unarrived,
    withdraw_members,
    withdraw_of_units,
)
from upheaval.model.rules.legitimacy import citizens_in
from upheaval.model.rules.sites import relieve_unit
from upheaval.model.timeline import (
    ActionEvent,
    ActionSpec,
    Key,
    TimelineError,
    indexed,
)

if TYPE_CHECKING:
    from upheaval.model.params import Params

TRANSPORT = (
    "our design (docs/odd.md §12.2), after the rail blockades and troop movements of "
    "January 2022 in Kazakhstan (docs/brief.md)"
)
SENT, ARRIVED, IN_TRANSIT, BLOCKED = range(4)
#: The choices of ``transport.policy_units``.
POLICY_UNITS = ("any", "domestic", "local")


@section("transport")
class TransportParams(Section):
    """Forces that travel between places, and blockades."""

    enabled: bool = param(
        False,
        "Forces travel between the places of a country (timeline `send`, the regime's "
        "policy) and protesters block links. false: every place keeps its own forces.",
        TRANSPORT,
        kind="bool",
        name="transport_enabled",
    )
    tick_hours: float = param(
        1.0,
        "Hours a tick lasts for travel, when the run has no clock (run.tick_minutes = 0); "
        "with a clock, run.tick_minutes / 60.",
        TRANSPORT,
        kind="float",
        low=0.001,
        high=8760.0,
        name="transport_tick_hours",
    )
    call_ratio: float = param(
        0.0,
        "Actives per cop at a place above which the regime sends it forces from the "
        "calmest place it can reach. 0: no automatic policy (the timeline's `send` only).",
        TRANSPORT,
        kind="float",
        low=0.0,
        high=1e6,
        name="transport_call_ratio",
    )
    donor_ratio: float = param(
        0.5,
        "A place gives forces only if its actives per cop are at most this.",
        TRANSPORT,
        kind="float",
        low=0.0,
        high=1e6,
        name="transport_donor_ratio",
    )
    send_share: float = param(
        0.25,
        "Share of the donor's cops on duty sent on a call (at least one).",
        TRANSPORT,
        kind="float",
        low=0.0,
        high=1.0,
        name="transport_send_share",
    )
    policy_units: str = param(
        "any",
        "Which cops the regime's policy may send from a donor: any on duty, whatever "
        "their unit; domestic (none of a unit whose origin is foreign, e.g. a contingent "
        "sent to guard state buildings); local (only the place's initial force, unit 0: "
        "named units stay where they were sent).",
        TRANSPORT,
        kind="choice",
        choices=POLICY_UNITS,
        name="transport_policy_units",
    )
    policy_spares_guards: bool = param(
        False,
        "The regime's policy never sends members of guard units (reinforce mode = "
        '"guard"), who stay at their posts; false: a guard drawn leaves its post.',
        TRANSPORT,
        kind="bool",
        name="transport_policy_spares_guards",
    )
    cooldown: int = param(
        24,
        "Ticks after a call before the same place may call again.",
        TRANSPORT,
        kind="int",
        low=1,
        high=10**9,
        name="transport_cooldown",
    )
    blockade_share: float = param(
        0.0,
        "Share of a place's citizens active at which the road and rail links ending "
        "there are blocked. 0: no blockades.",
        TRANSPORT,
        kind="float",
        low=0.0,
        high=1.0,
        name="transport_blockade_share",
    )

    def validate(self, p: Params) -> None:
        if not self.enabled and (self.call_ratio > 0 or self.blockade_share > 0):
            raise ParameterError(
                "transport.call_ratio" if self.call_ratio > 0 else "transport.blockade_share",
                "needs transport.enabled = true",
            )
        if self.call_ratio == 0 and (self.policy_units != "any" or self.policy_spares_guards):
            raise ParameterError(
                "transport.policy_units"
                if self.policy_units != "any"
                else "transport.policy_spares_guards",
                "chooses what the regime's policy sends: needs transport.call_ratio > 0",
            )


def hours_per_tick(p: Params) -> float:
    """The hours a convoy travels a tick."""
    return p.run.tick_minutes / 60.0 if p.run.tick_minutes > 0 else p.transport.tick_hours


class Transport(Mechanism):
    """Forces that travel, and blockades (module docstring)."""

    name = "transport"
    section = TransportParams
    counters = ("forces_sent", "forces_arrived", "forces_in_transit", "links_blocked")
    actions: ClassVar[dict[str, ActionSpec]] = {
        "send": ActionSpec(
            "moves `count` cops of the place (`place = …`; as many as are on duty if "
            "fewer, all of them if `count` is left out) to the place `to`, along the "
            "fastest route; they arrive when its travel time has elapsed, each keeping "
            "its unit; with `unit` (a name), members of that unit only — all of them "
            "without `count`, its guards at the place's key sites included (relieved "
            "first) (needs transport.enabled)",
            required={"to": Key("place", default="")},
            optional={"count": Key("count", default=-1), "unit": Key("name", default="")},
            needs_place=True,
        ),
    }

    def is_on(self, p: Params, timeline) -> bool:
        return p.transport.enabled

    def check_timeline(self, p: Params, timeline) -> None:
        for n, e in indexed(timeline):
            if isinstance(e, ActionEvent) and e.action == "send":
                if not p.transport.enabled:
                    raise TimelineError(n, "action", "'send' needs transport.enabled = true")
                if e.place and e.to == e.place:
                    raise TimelineError(n, "to", f"{e.to!r} is where the forces are")

    def check_country_timeline(self, p: Params, timeline) -> None:
        # a unit may be sent from anywhere it could be by then: it must have arrived
        # somewhere in the country (its members may have travelled since)
        for n, e in unarrived(timeline, "send"):
            if e.unit:  # a send without a unit sends any cops
                raise TimelineError(
                    n, "unit", f"no unit {e.unit!r} has arrived anywhere by tick {e.tick}"
                )

    def initial_country_state(self, p: Params) -> dict[str, Any]:
        # convoys: tuple of (count, destination, route links, leg, hours left on the
        # leg, its cops' records: a model/records.py RECORD array of count rows, in
        # the order they will arrive)
        # links, on_links: per tick, each link's blocked flag and the cops on it
        return {
            "convoys": (),
            "counts": None,
            "last_call": None,
            "blocked": None,
            "links": (),
            "on_links": (),
        }

    # -- the state --------------------------------------------------------------------
    def _state(self, country) -> dict[str, Any]:
        st = country.state[self.name]
        if st["counts"] is None:
            n = len(country.places)
            n_links = len(country.country.links) if country.country is not None else 0
            st["counts"] = np.zeros((n, 4), np.int64)
            st["last_call"] = np.full(n, -(10**9), np.int64)
            st["blocked"] = np.zeros(n_links, np.bool_)
        return st

    def _depart(
        self,
        country,
        source: int,
        destination: int,
        count: int,
        unit: int | None = None,
        eligible: np.ndarray | None = None,
    ) -> int:
        """``count`` cops (all on duty if count < 0 or fewer are) leave ``source`` for
        ``destination``: drawn among all on duty, or members of ``unit`` only, or (the
        regime's policy, ``count`` ≥ 0) among those of the units ``eligible`` marks."""
        place = country.places[source]
        on_duty = place.cops_on_duty()
        if eligible is not None:
            # drawn as a partial withdraw draws a unit's members (rules/forces.py)
            records = _cops_leaving(place, lambda: withdraw_of_units(place, eligible, count))
        elif unit is None:
            n = on_duty if count < 0 else min(count, on_duty)
            if n <= 0:
                return 0
            records = _cops_leaving(place, lambda: place.set_cop_count(on_duty - n))
        else:
            records = _cops_leaving(place, lambda: withdraw_members(place, unit, count))
            if count < 0:
                # the whole unit leaves: its guards at the place's key sites go with
                # it, records and all (rules/sites.py:relieve_unit; nothing drawn), as
                # a withdraw takes them
                records = np.concatenate((records, relieve_unit(place, unit)))
        n = int(records.shape[0])
        if n <= 0:
            return 0
        # the order they will arrive in: unit by unit in ascending code (stable: on
        # duty in slot order, then guards first posted first), as the convoys placed
        # them when they carried counts only, so a place's draws are unchanged
        records = records[np.argsort(records["unit"], kind="stable")]
        st = self._state(country)
        route = country.country.route(source, destination)
        first = country.country.links[route[0]].travel_hours
        st["convoys"] = (*st["convoys"], (n, destination, route, 0, first, records))
        st["counts"][source, SENT] += n
        return n

    # -- timeline ---------------------------------------------------------------------
    def act(self, event, place, country) -> None:
        code = country_units(place.timeline)[event.unit] if event.unit else None
        self._depart(country, place.index, country.country.index(event.to), event.count, code)

    # -- each tick --------------------------------------------------------------------
    def before_country_tick(self, country) -> None:
        if country.country is None:
            return
        st = self._state(country)
        p = country.params.transport
        rows = [pl.row for pl in country.places]
        self._blockades(country, st, rows, p.blockade_share)
        if p.call_ratio > 0:
            self._policy(country, st, rows)
        self._move(country, st)

    def _blockades(self, country, st, rows, share: float) -> None:
        blocked = st["blocked"]
        blocked[:] = False
        if share > 0:
            hot = [
                (r.active_blue + r.active_green) >= share * citizens_in(r) and citizens_in(r) > 0
                for r in rows
            ]
            c = country.country
            for k, link in enumerate(c.links):
                if link.mode == "air":
                    continue
                a, b = c.index(link.a), c.index(link.b)
                if hot[a] or hot[b]:
                    blocked[k] = True
                    st["counts"][a, BLOCKED] += 1
                    st["counts"][b, BLOCKED] += 1
        st["links"] = (*st["links"], tuple(bool(x) for x in blocked))

    def _policy(self, country, st, rows) -> None:
        p = country.params.transport
        cops = [int(r.cops) for r in rows]
        actives = [r.active_blue + r.active_green for r in rows]
        eligible = policy_units(country)
        excluded = None if eligible is None else 1 - eligible

        def ratio(i: int) -> float:
            if cops[i] == 0:
                return math.inf if actives[i] > 0 else 0.0
            return actives[i] / cops[i]

        def sendable(j: int) -> int:
            # the donor's cops at the end of the last tick (less those it sent this
            # tick), less the ones the policy may not send, on duty now
            if excluded is None:
                return cops[j]
            return cops[j] - on_duty_of(country.places[j], excluded)

        c = country.country
        for i in range(len(rows)):
            if ratio(i) <= p.call_ratio or country.tick - st["last_call"][i] < p.cooldown:
                continue
            donor, best = -1, math.inf
            for j in range(len(rows)):
                if j == i or cops[j] < 2 or ratio(j) > p.donor_ratio or sendable(j) < 2:
                    continue
                try:
                    c.route(j, i)
                except ValueError:
                    continue
                if ratio(j) < best:
                    donor, best = j, ratio(j)
            if donor < 0:
                continue
            st["last_call"][i] = country.tick
            count = max(1, math.floor(p.send_share * sendable(donor)))
            n = self._depart(country, donor, i, count, eligible=eligible)
            cops[donor] -= n

    def _move(self, country, st) -> None:
        c = country.country
        step = hours_per_tick(country.params)
        moving = []
        for count, dest, route, leg, left, cops in st["convoys"]:
            budget = step
            while leg < len(route):
                if st["blocked"][route[leg]]:
                    break  # waits at the blockade; this tick's travel is lost
                if left > budget:
                    left -= budget
                    break
                budget -= left  # the surplus goes on along the next link
                leg += 1
                if leg < len(route):
                    left = c.links[route[leg]].travel_hours
            if leg == len(route):
                placed = place_cops(country.places[dest], cops)
                st["counts"][dest, ARRIVED] += placed
                if placed < count:  # too few empty sites: the rest waits there
                    moving.append((count - placed, dest, route, leg, 0.0, cops[placed:]))
                continue
            moving.append((count, dest, route, leg, left, cops))
        st["convoys"] = tuple(moving)
        on_link = [0] * len(c.links)
        for count, dest, route, leg, _, _ in moving:
            st["counts"][dest, IN_TRANSIT] += count
            if leg < len(route):
                on_link[route[leg]] += count
        st["on_links"] = (*st["on_links"], tuple(on_link))

    def before_tick(self, place, country) -> None:
        if country.country is None:
            return
        place.signals.transport_counts[:] = self._state(country)["counts"][place.index]

    def after_country_tick(self, country) -> None:
        if country.country is not None:
            self._state(country)["counts"][:] = 0


def policy_units(country) -> np.ndarray | None:
    """The units the regime's policy may send (a :func:`~upheaval.model.rules.forces.
    withdraw_units` mask: ``mask[code] = 1``), or None when it may send any cop on duty —
    ``transport.policy_units = "any"`` without ``policy_spares_guards``, or a choice
    that excludes none of the country's units (its draws are then those of "any")."""
    p = country.params.transport
    if p.policy_units == "any" and not p.policy_spares_guards:
        return None
    # every place's rules know every unit of the country (rules/forces.py)
    r = country.places[0].rules
    codes = np.arange(len(country_units(country.places[0].timeline)) + 1)
    mask = np.zeros(r.unit_origin.shape[0], np.int8)
    mask[codes] = 1
    if p.policy_units == "local":
        mask[1:] = 0
    elif p.policy_units == "domestic":
        mask[r.unit_origin == FOREIGN] = 0
    if p.policy_spares_guards:
        mask[r.guard_units == 1] = 0
    return None if mask[codes].all() else mask


def _cops_leaving(place, leave: Callable[[], Any]) -> np.ndarray:
    """Call ``leave`` (which takes cops off the place) and return the records of the
    cops it took (model/records.py), in slot order."""
    a = place.agents
    was_on_duty = (a.kind == COP) & (a.status != DEAD)
    leave()
    a = place.agents  # removing grows no agent array: the slots are the same
    return records_of(a, np.flatnonzero(was_on_duty & (a.status == DEAD)))


def convoy_units(cops: np.ndarray) -> tuple[tuple[int, int], ...]:
    """A convoy's cops per unit, ((code, count), …) by code."""
    counts = np.bincount(cops["unit"].astype(np.int64), minlength=1)
    return tuple((code, int(k)) for code, k in enumerate(counts) if k)


def in_transit(country) -> int:
    """Cops on their way between places now."""
    st = country.state.get("transport")
    if not st:
        return 0
    return sum(c[0] for c in st["convoys"])


def in_transit_by_unit(country) -> dict[str, int]:
    """Cops on their way between places now, by unit name ("" for the initial force);
    units with none on the way are left out."""
    st = country.state.get("transport")
    # the codes the places were compiled with (their timeline's country)
    names = {code: name for name, code in country_units(country.places[0].timeline).items()}
    names[0] = ""
    out: dict[str, int] = {}
    for convoy in st["convoys"] if st else ():
        for code, n in convoy_units(convoy[5]):
            out[names[code]] = out.get(names[code], 0) + n
    return out


MECHANISM = Transport()
