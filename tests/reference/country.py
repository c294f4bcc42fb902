"""The reference twin of a country: one :class:`ReferenceModel` per place, stepped in
lockstep, with the news between places computed here the plain way.

What it shares with the engine is only the scenario's data preparation
(``place_params``: a place's parameters and lattice size; ``place_timeline``: the
events that act there; ``place_seed``: its seed): the dynamics — the distances
along the links (Floyd–Warshall here, Dijkstra in the engine), the news kernel and
the news each place hears, the routes (every simple path tried here), the
blockades, the regime's calls for forces, the convoys and the units their cops
keep (one code a unit in every place), the activists who travel between places
with their own records — are written again from docs/odd.md §12.
"""

from __future__ import annotations

import dataclasses
import math
from itertools import accumulate
from types import SimpleNamespace
from typing import Any

import numpy as np

from reference.model import ACTIVE, CITIZEN, ReferenceModel
from upheaval.engine.simulation import place_seed
from upheaval.model.ticks import tick_table
from upheaval.model.timeline import first_tick
from upheaval.scenario.country import place_params, place_timeline


class ReferenceCountry:
    """A country's places as reference models (module docstring)."""

    def __init__(self, scenario: Any, seed: int):
        country = scenario.country
        params = scenario.params.replace(seed=int(seed))
        self.p = params
        root = np.random.SeedSequence(int(seed))
        timeline = sorted(scenario.timeline, key=first_tick)
        self.names = [spec.name for spec in country.places]
        self.models = []
        for i, spec in enumerate(country.places):
            sc = SimpleNamespace(
                params=place_params(params, spec), timeline=place_timeline(spec, timeline)
            )
            model = ReferenceModel(sc, seed=place_seed(root, i))
            model.utc_offset = spec.utc_offset
            model.on_send = lambda e, i=i: self._depart(i, self.names.index(e.to), e.count, e.unit)
            self.models.append(model)
        # One code for a named unit in every place, in order of first arrival over the
        # whole country; every place knows every unit's mode and origin (its members
        # may be sent anywhere).
        units: dict[str, int] = {}
        guards: set[int] = set()
        origins: dict[int, str] = {}
        for e in timeline:
            if getattr(e, "action", None) == "reinforce":
                code = units.setdefault(e.unit, len(units) + 1)
                if e.mode == "guard":
                    guards.add(code)
                if e.origin:
                    origins[code] = e.origin
        for model in self.models:
            model.units, model.guards, model.unit_origin = units, guards, origins
        self.distance = self._distances(country)
        # what each place keeps in mind of the news from elsewhere (actives, repression)
        self.memory = [[0.0, 0.0] for _ in self.models]
        self.links = list(country.links)
        # [count, destination, route, leg, hours left, its cops: copies of their Agent
        # records, in the order they will arrive]
        self.convoys: list[list] = []
        self.last_call = [-(10**9)] * len(self.models)
        self.blocked = [False] * len(self.links)
        self.blocked_history: list[tuple[bool, ...]] = []
        # [origin, destination, link, hours left (0: at the destination's edge), the
        # traveller's own fields]
        self.travellers: list[list] = []
        tr = params.transport
        self.hours = params.run.tick_minutes / 60 if params.run.tick_minutes > 0 else tr.tick_hours

    # -- forces that travel -----------------------------------------------------------
    def _route(self, a: int, b: int) -> list[int]:
        """The fastest route from a to b over every simple path (link indices); the
        tests' countries have no ties."""
        best: list[tuple[float, list[int]]] = []

        def walk(at: int, seen: set[int], path: list[int], hours: float) -> None:
            if at == b:
                best.append((hours, list(path)))
                return
            for k, link in enumerate(self.links):
                ends = (self.names.index(link.a), self.names.index(link.b))
                if at not in ends:
                    continue
                nxt = ends[1] if ends[0] == at else ends[0]
                if nxt in seen:
                    continue
                walk(nxt, seen | {nxt}, [*path, k], hours + link.travel_hours)

        walk(a, {a}, [], 0.0)
        best.sort(key=lambda hp: hp[0])
        assert len(best) < 2 or best[0][0] < best[1][0], "a tie between routes"
        return best[0][1]

    def _cops(self, i: int) -> int:
        return sum(1 for ag in self.models[i].agents if ag.kind == "cop" and ag.status != "dead")

    def _depart(
        self, source: int, destination: int, count: int, unit: str = "", policy: bool = False
    ) -> int:
        """Cops leave: ``count`` drawn among all on duty (all if count < 0), or, with a
        unit, its members — all in slot order if count < 0, else min(count, members)
        draws; every draw a randint of the ``events`` stream over those left. A whole
        unit (count < 0) takes its guards off the place's posts too, drawing nothing.
        For the regime's policy (``policy``) under a restriction that excludes some
        unit of the country, min(count, eligible) draws among the eligible cops."""
        model = self.models[source]
        rng = model.streams["events"]
        cops = [ag for ag in model.agents if ag.kind == "cop" and ag.status != "dead"]
        restricted = policy and self._restricted()
        if unit or restricted:
            if restricted:  # drawn among the eligible as a unit's members are
                cops = [ag for ag in cops if self._eligible(model, ag)]
            else:
                cops = [ag for ag in cops if ag.unit == model.units[unit]]
            leaving = list(cops) if count < 0 else []
            for _ in range(0 if count < 0 else min(count, len(cops))):
                leaving.append(cops.pop(rng.randint(len(cops))))
        else:
            n = len(cops) if count < 0 else min(count, len(cops))
            leaving = [cops.pop(rng.randint(len(cops))) for _ in range(n)]
        # each cop leaves with its own record (a copy: its slot may be reused), and
        # travels in the order it will arrive: by unit code, on duty in slot order
        # first, then the guards first posted first
        for ag in leaving:
            model._remove(ag)
        carried = [dataclasses.replace(ag) for ag in sorted(leaving, key=lambda ag: ag.slot)]
        if unit and count < 0:  # the whole unit goes: its guards leave their posts too
            carried.extend(model.relieve_unit(model.units[unit]))
        carried.sort(key=lambda ag: ag.unit)
        n = len(carried)
        if not n:
            return 0
        route = self._route(source, destination)
        self.convoys.append([n, destination, route, 0, self.links[route[0]].travel_hours, carried])
        model.transport["forces_sent"] += n
        return n

    # the units the regime's policy may send (transport.policy_units,
    # policy_spares_guards; docs/odd.md §12.2)
    def _eligible(self, model: Any, ag: Any) -> bool:
        tr = self.p.transport
        if tr.policy_units == "local" and ag.unit != 0:
            return False
        if tr.policy_units == "domestic" and model._origin(ag) == "foreign":
            return False
        return not (tr.policy_spares_guards and ag.unit in model.guards)

    def _restricted(self) -> bool:
        """Whether the choice excludes a unit of the country (else it is "any")."""
        model = self.models[0]
        codes = [0, *model.units.values()]
        return any(
            not self._eligible(model, SimpleNamespace(unit=code, kind="cop")) for code in codes
        )

    def _sendable(self, j: int, cops: list[int]) -> int:
        """A donor's cops at the end of the last tick (less any it sent this tick), less
        the cops on duty now that the policy may not send."""
        if not self._restricted():
            return cops[j]
        model = self.models[j]
        barred = sum(
            1
            for ag in model.agents
            if ag.kind == "cop" and ag.status != "dead" and not self._eligible(model, ag)
        )
        return cops[j] - barred

    def _arrive(self, dest: int, cops: list) -> list:
        """A convoy's cops join ``dest`` in the order they travel, each on a uniformly
        drawn empty site, the same cop it was (its mind, unit, faction: nothing is
        drawn for it but its site); returns those who found none, who wait."""
        model = self.models[dest]
        rng = model.streams["events"]
        for k, cop in enumerate(cops):
            site = model._random_empty_site_anywhere(rng)
            if site is None:
                return cops[k:]
            fields = dataclasses.asdict(cop)
            del fields["slot"]
            fields.update(kind="cop", status="quiet", site=site, jail_left=0)
            model._new_agent(**fields)
        return []

    def _transport(self) -> None:
        tr = self.p.transport
        if not tr.enabled:
            return
        last = [m.history[-1]._asdict() for m in self.models]

        def citizens(r):
            return sum(
                r[f"{s}_{g}"] for s in ("quiet", "active", "jailed") for g in ("blue", "green")
            )

        def actives(r):
            return r["active_blue"] + r["active_green"]

        # blockades, from the rows of the last tick
        self.blocked = [False] * len(self.links)
        if tr.blockade_share > 0:
            for k, link in enumerate(self.links):
                if link.mode == "air":
                    continue
                for end in (link.a, link.b):
                    r = last[self.names.index(end)]
                    if citizens(r) > 0 and actives(r) >= tr.blockade_share * citizens(r):
                        self.blocked[k] = True
                if self.blocked[k]:
                    for end in (link.a, link.b):
                        self.models[self.names.index(end)].transport["links_blocked"] += 1
        self.blocked_history.append(tuple(self.blocked))
        # the regime's calls
        if tr.call_ratio > 0:
            cops = [r["cops"] for r in last]
            acts = [actives(r) for r in last]

            def ratio(i):
                if cops[i] == 0:
                    return math.inf if acts[i] > 0 else 0.0
                return acts[i] / cops[i]

            tick = self.models[0].tick
            for i in range(len(self.models)):
                if ratio(i) <= tr.call_ratio or tick - self.last_call[i] < tr.cooldown:
                    continue
                donors = [
                    j
                    for j in range(len(self.models))
                    if j != i
                    and cops[j] >= 2
                    and ratio(j) <= tr.donor_ratio
                    and self._sendable(j, cops) >= 2
                ]
                if not donors:
                    continue
                donor = min(donors, key=lambda j: (ratio(j), j))
                self.last_call[i] = tick
                count = max(1, math.floor(tr.send_share * self._sendable(donor, cops)))
                n = self._depart(donor, i, count, policy=True)
                cops[donor] -= n
        # the convoys move
        still = []
        for count, dest, route, leg, left, cops in self.convoys:
            budget = self.hours
            while leg < len(route) and not self.blocked[route[leg]]:
                if left > budget:
                    left -= budget
                    break
                budget -= left
                leg += 1
                if leg < len(route):
                    left = self.links[route[leg]].travel_hours
            if leg == len(route):
                waiting = self._arrive(dest, cops)
                placed = count - len(waiting)
                self.models[dest].transport["forces_arrived"] += placed
                if waiting:
                    still.append([count - placed, dest, route, leg, 0.0, waiting])
                continue
            still.append([count, dest, route, leg, left, cops])
        self.convoys = still
        for count, dest, *_ in still:
            self.models[dest].transport["forces_in_transit"] += count

    # -- activists who travel (docs/odd.md §12.5) --------------------------------------
    #: what a traveller takes with it: everything of its own but its site and status
    CARRIED = (
        "hardship",
        "risk_aversion",
        "group",
        "age",
        "death_age",
        "legit",
        "fear",
        "cohort",
        "hardship0",
        "unit",
        "faction",
        "role",
        "org",
    )

    def _travel(self) -> None:
        tv = self.p.travel
        if not tv.enabled:
            return
        modes = {
            m for m, on in (("road", tv.by_road), ("rail", tv.by_rail), ("air", tv.by_air)) if on
        }
        blocked = self.blocked if self.p.transport.enabled else [False] * len(self.links)
        last = [m.history[-1]._asdict() for m in self.models]

        def active_share(r) -> float:
            people = sum(
                r[f"{s}_{g}"] for s in ("quiet", "active", "jailed") for g in ("blue", "green")
            )
            return (r["active_blue"] + r["active_green"]) / people if people > 0 else 0.0

        # departures, place by place: who leaves is drawn in slot order
        for i, model in enumerate(self.models):
            if tv.leave_probability <= 0.0 or model._emergency_now()[2]:
                continue  # nobody leaves during a curfew
            fastest: dict[int, int] = {}
            for k, link in enumerate(self.links):
                a, b = self.names.index(link.a), self.names.index(link.b)
                if link.mode not in modes or blocked[k] or i not in (a, b) or a == b:
                    continue
                j = b if a == i else a
                if j not in fastest or link.travel_hours < self.links[fastest[j]].travel_hours:
                    fastest[j] = k
            if not fastest:
                continue
            neighbours = sorted(fastest.items())
            n = len(neighbours)
            shares = [active_share(last[j]) for j, _ in neighbours]
            total, pull = sum(shares), tv.unrest_pull
            if total > 0.0 and model.online and pull > 0.0:
                weights = [(1.0 - pull) / n + pull * s / total for s in shares]
            else:
                weights = [1.0 / n] * n
            cumulative = list(accumulate(weights))
            rng = model.streams["events"]
            for ag in list(model.agents):
                if ag.kind != CITIZEN or ag.status != ACTIVE or ag.role or ag.org:
                    continue
                if rng.uniform() >= tv.leave_probability:
                    continue
                v, k = rng.uniform(), 0
                while k < n - 1 and v >= cumulative[k]:
                    k += 1
                j, link = neighbours[k]
                record = {f: getattr(ag, f) for f in self.CARRIED}
                model._remove(ag)
                self.travellers.append([i, j, link, self.links[link].travel_hours, record])
                model.travel["travellers_left"] += 1
        # the journeys, in the order they began
        still = []
        curfew: dict[int, bool] = {}
        for origin, dest, link, left, record in self.travellers:
            if left > 0.0:
                if blocked[link]:
                    still.append([origin, dest, link, left, record])
                    continue
                if left > self.hours:
                    still.append([origin, dest, link, left - self.hours, record])
                    continue
            model = self.models[dest]
            if dest not in curfew:
                curfew[dest] = bool(model._emergency_now()[2])
            site = (
                None if curfew[dest] else model._random_empty_site_anywhere(model.streams["events"])
            )
            if site is None:  # waits at the edge
                still.append([origin, dest, link, 0.0, record])
                continue
            model._new_agent(kind=CITIZEN, status=ACTIVE, site=site, **record)
            model.travel["travellers_arrived"] += 1
        self.travellers = still
        for _, dest, *_ in still:
            self.models[dest].travel["travellers_in_transit"] += 1

    def in_transit(self) -> int:
        return sum(c[0] for c in self.convoys)

    def in_transit_by_unit(self) -> dict[str, int]:
        """Cops on the way by unit name ("" the initial force)."""
        names = {code: name for name, code in self.models[0].units.items()} | {0: ""}
        out: dict[str, int] = {}
        for *_, cops in self.convoys:
            for cop in cops:
                out[names[cop.unit]] = out.get(names[cop.unit], 0) + 1
        return out

    def _distances(self, country: Any) -> list[list[float]]:
        n = len(self.names)
        d = [[0.0 if i == j else math.inf for j in range(n)] for i in range(n)]
        for link in country.links:
            i, j = self.names.index(link.a), self.names.index(link.b)
            d[i][j] = d[j][i] = min(d[i][j], link.distance_km)
        for k in range(n):
            for i in range(n):
                for j in range(n):
                    if d[i][k] + d[k][j] < d[i][j]:
                        d[i][j] = d[i][k] + d[k][j]
        return d

    def _news(self, i: int) -> tuple[int, int]:
        """What place i hears of the others (tick t − 1), as-if-seen counts."""
        info = self.p.information
        if not info.enabled or len(self.models) == 1:
            return (0, 0)
        if info.elsewhere_weight <= 0.0 and info.elsewhere_repression_weight <= 0.0:
            return (0, 0)
        m, lam = info.national_share, info.decay_km
        online = self.models[i].online
        out = []
        for k, (weight, which) in enumerate(
            (
                (info.elsewhere_weight, "actives"),
                (info.elsewhere_repression_weight, "repression"),
            )
        ):
            total = heard = 0.0
            for j, other in enumerate(self.models):
                if j == i:
                    continue
                d = self.distance[i][j]
                kappa = m + (1.0 - m) * (0.0 if math.isinf(d) else math.exp(-d / lam))
                last = other.history[-1]._asdict()
                if which == "actives":
                    count = last["active_blue"] + last["active_green"]
                else:
                    count = last["arrests"] + last["killed_by_cops"]
                total += kappa
                heard += kappa * (count / (other.width * other.height))
            news = 0.0 if total <= 0.0 or not online else heard / total
            # what the place keeps in mind: an exponential memory with a half-life
            if info.news_half_life <= 0.0:
                self.memory[i][k] = news
            else:
                alpha = 1.0 - 0.5 ** (self.hours / info.news_half_life)
                self.memory[i][k] = self.memory[i][k] + alpha * (news - self.memory[i][k])
            v = len(self.models[i].vision[CITIZEN])
            out.append(0 if weight <= 0.0 else math.floor(weight * v * self.memory[i][k]))
        return out[0], out[1]

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            for model in self.models:
                model.begin_tick()
            self._transport()
            self._travel()
            news = [self._news(i) for i in range(len(self.models))]
            for model, heard in zip(self.models, news, strict=True):
                model.elsewhere = heard
                model.play_tick()

    def table(self):
        """The tick table with a place column, as the engine's ``Simulation.table``."""
        rows = [r for m in self.models for r in m.history]
        names = [name for name, m in zip(self.names, self.models, strict=True) for _ in m.history]
        return tick_table(rows, names)
