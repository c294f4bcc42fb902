"""Random country timelines never break the books (Hypothesis, stateful; issue 9 §5).

A machine plays a country of three places (two with key sites) tick by tick; each
rule schedules one timeline action for the next tick — convoys sent between places,
guards posted and withdrawn (from the place's cops or brought from outside),
reinforcements and withdrawals of named units, shutdowns and restorations of the
news by region, states of emergency with curfews and their lifting, the order to
shoot — and plays it. After every tick:

* **people**: in every place, citizens alive + citizens killed by the police there
  + travellers who left it − travellers who arrived = the place's citizens at tick 0
  (no births in Model I); over the country, citizens alive + killed + travellers on
  their way = the citizens at tick 0 (activists travel in half the runs, docs/odd.md
  §12.5), and what the rows report as left, arrived and in transit agrees with the
  travellers on the way;
* **forces**: cops on duty + guards taken from the cops, summed over the places,
  + cops in transit = the forces at tick 0 + the unit members the timeline placed
  − those it withdrew (convoys, guards, blockades and emergencies move forces
  about but never make or lose one); what a place's row reports as sent, arrived
  and in transit agrees with the convoys;
* **units**: each named unit's members on duty, summed over the places, + its
  members in transit + its members guarding a site = those the timeline placed −
  those it withdrew (a unit sent by name, carried by the regime's calls — whichever
  units they may send —, or posted
  at a site and relieved keeps its code: codes are the country's); a guard naming a
  unit posts members of that unit only, an unguard brings members back (naming a
  unit, only that unit's, outsiders staying), and a whole unit withdrawn or sent
  away takes its guards at the place with it while a partial one leaves them;
* **the units table** (``Simulation.units_table()``) reports each unit's members on
  duty and on guard place by place as counted here, and its on duty + on guard + in
  transit summed over the places are the unit's books (the initial force's, with
  the named units', the forces');
* **minds**: with cops' minds on (half the runs; nobody breaks ranks here), every
  cop of the country — on duty, guarding a site or in a convoy — is known by its own
  record (H_c, loyalty, unit, faction, fear): a tick changes that multiset only by
  the cops a reinforcement placed (new minds) and those a withdrawal took (minds
  gone); sends, the regime's calls, guards and arrivals move minds about but never
  draw or lose one (a convoy carries its cops' records, docs/odd.md §12.2);
* **guards**: a site's guards are never negative, its own guards are the records
  its post holds, and the row's ``site_guards`` and ``sites_held`` are what the
  sites' state holds;
* **the places' own state** passes the single-lattice checks
  (tests/test_invariants.py:check_state).
"""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import upheaval
from country.helpers import country_scenario, sited_towns
from test_invariants import check_state
from upheaval.core.codes import CITIZEN, COP, DEAD
from upheaval.model.rules.forces import country_units
from upheaval.model.rules.sites import guards_at, guards_by_unit
from upheaval.model.rules.transport import in_transit, in_transit_by_unit
from upheaval.model.rules.travel import in_transit as travellers_on_the_way
from upheaval.model.timeline import ActionEvent, SetEvent, first_tick

TOWNS = sited_towns()
NAMES = TOWNS.names
REGIONS = ("North", "South")
SITES = {"Alpha": ("akimat", "airport"), "Gamma": ("statue",)}
FAR = 10**6  # switches the mechanisms on, without acting
UNITS = {"patrol": "patrol", "guards": "guard"}


class CountryTimeline(RuleBasedStateMachine):
    @initialize(
        legitimacy=st.sampled_from([0.6, 0.72, 0.85]),
        call_ratio=st.sampled_from([0.0, 0.5, 3.0]),
        blockade=st.sampled_from([0.0, 0.05, 0.3]),
        threads=st.sampled_from([1, 3]),
        travel=st.sampled_from([0.0, 0.05]),
        minds=st.booleans(),
        # which units the regime's calls may send (docs/odd.md §12.2)
        policy=st.sampled_from([("any", False), ("local", False), ("domestic", True)]),
        seed=st.integers(0, 2**32),
    )
    def start(self, legitimacy, call_ratio, blockade, threads, travel, minds, policy, seed):
        declared = (
            SetEvent(tick=FAR, param="lethal_probability", value=0.5),
            ActionEvent(tick=FAR, action="shutdown"),
            ActionEvent(tick=FAR, action="emergency"),
            *(
                # both units in every place from tick 1, so that there are members to
                # send by name and for the regime's calls to carry
                ActionEvent(tick=1, action="reinforce", count=3, unit=u, mode=m)
                for u, m in UNITS.items()
            ),
        )
        sc = country_scenario(
            TOWNS,
            declared,
            legitimacy=legitimacy,
            steps=200,
            start="2022-01-04T00:00",  # a clock, for the curfews' local hours
            tick_minutes=60.0,
            transport_enabled=True,
            transport_call_ratio=call_ratio,
            transport_policy_units=policy[0] if call_ratio > 0 else "any",
            transport_policy_spares_guards=policy[1] and call_ratio > 0,
            transport_blockade_share=blockade,
            information_enabled=True,
            information_elsewhere_weight=0.5,
            site_min_crowd=3,
            travel_enabled=travel > 0,
            travel_leave_probability=travel if travel > 0 else 0.01,
            # minds that never break ranks (D ≤ 1 − L < 1): the forces' books hold
            forces_minds=minds,
            forces_stand_aside_threshold=1.0 if minds else 0.1,
            forces_defect_threshold=1.0 if minds else 0.3,
        )
        self.sim = upheaval.Simulation(sc, seed=seed, threads=threads)
        self.citizens0 = {pl.name: pl.n_citizens() for pl in self.sim.places}
        self.killed = dict.fromkeys(NAMES, 0)
        self.sent = self.arrived = 0
        self.left = dict.fromkeys(NAMES, 0)  # travellers who left each place
        self.came = dict.fromkeys(NAMES, 0)  # and who arrived there
        self.minds: Counter = Counter()
        self._play()  # tick 1: the units arrive; the books open after it
        self.appeared = Counter()  # the tick-1 reinforcements' minds open the books
        self.forces = self._forces()
        self.units = {unit: self._unit_total(unit) for unit in UNITS}
        assert all(0 < n <= 3 * len(NAMES) for n in self.units.values()), self.units

    # -- playing ------------------------------------------------------------------
    def _place(self, name):
        return next(pl for pl in self.sim.places if pl.name == name)

    def _forces(self) -> int:
        own = sum(int(pl.state["sites"]["own_guards"].sum()) for pl in self._sited())
        return sum(pl.cops_on_duty() for pl in self.sim.places) + own + in_transit(self.sim)

    def _all_minds(self) -> Counter:
        """Every cop's record (H_c, loyalty, unit, faction, fear) in the country: on
        the lattices, at the posts and in the convoys."""
        found: Counter = Counter()
        for pl in self.sim.places:
            a = pl.agents
            cops = np.flatnonzero((a.kind == COP) & (a.status != DEAD))
            fear = a.fear[cops] if a.fear.shape[0] else np.zeros(cops.shape[0], np.float32)
            faction = a.faction[cops] if a.faction.shape[0] else np.zeros(cops.shape[0], np.int8)
            found.update(
                zip(
                    a.hardship[cops].tolist(),
                    a.risk_aversion[cops].tolist(),
                    a.unit[cops].tolist(),
                    faction.tolist(),
                    fear.tolist(),
                    strict=True,
                )
            )
        records = [pl.state["sites"]["posted"] for pl in self._sited()]
        records += [c[5] for c in self.sim.state["transport"]["convoys"]]
        for r in records:
            found.update(
                zip(
                    r["hardship"].tolist(),
                    r["risk_aversion"].tolist(),
                    r["unit"].tolist(),
                    r["faction"].tolist(),
                    r["fear"].tolist(),
                    strict=True,
                )
            )
        return found

    def _sited(self):
        return [pl for pl in self.sim.places if "sites" in pl.state]

    def _play(self, event=None) -> None:
        sim = self.sim
        if event is not None:
            # one more entry of the country's timeline, for the next tick; each
            # place's part of the timeline is made again from it
            sim._timeline = tuple(sorted([*sim._timeline, event], key=first_tick))
            sim._derived = {k: v for k, v in sim._derived.items() if k[0] != "timeline_of"}
        sim.step()
        now = self._all_minds()
        # minds that appeared or went this tick: the rules that may make or take cops
        # account for them (reinforce, withdraw); minds_balance wants the rest empty
        self.appeared = now - self.minds
        self.gone = self.minds - now
        self.minds = now
        for pl in sim.places:
            self.killed[pl.name] += pl.row.killed_by_cops
            self.sent += pl.row.forces_sent
            self.arrived += pl.row.forces_arrived
            self.left[pl.name] += pl.row.travellers_left
            self.came[pl.name] += pl.row.travellers_arrived

    def _members(self, place, unit) -> int:
        a = place.agents
        code = country_units(place.timeline)[unit]  # one code in every place
        return int(np.count_nonzero((a.kind == COP) & (a.status != DEAD) & (a.unit == code)))

    def _unit_total(self, unit) -> int:
        """The unit's members on duty anywhere, on the way, and guarding a site."""
        on_duty = sum(self._members(pl, unit) for pl in self.sim.places)
        guarding = sum(guards_by_unit(pl).get(unit, 0) for pl in self._sited())
        return on_duty + in_transit_by_unit(self.sim).get(unit, 0) + guarding

    # -- rules --------------------------------------------------------------------
    @rule(ticks=st.integers(1, 3))
    def step(self, ticks):
        for _ in range(ticks):
            self._play()

    @rule(source=st.sampled_from(NAMES), to=st.sampled_from(NAMES), count=st.integers(1, 40))
    def send(self, source, to, count):
        if source == to:
            return
        on_duty = self._place(source).cops_on_duty()
        self._play(
            ActionEvent(tick=self.sim.tick + 1, action="send", place=source, to=to, count=count)
        )
        assert self._place(source).row.forces_sent >= min(count, on_duty) or on_duty == 0

    @rule(
        where=st.sampled_from(sorted(SITES)),
        index=st.integers(0, 1),
        count=st.integers(1, 30),
        source=st.sampled_from(["cops", "new"]),
        unit=st.sampled_from(["", *sorted(UNITS)]),
        guard=st.booleans(),
    )
    def guard(self, where, index, count, source, unit, guard):
        site = SITES[where][index % len(SITES[where])]
        # outsiders belong to no unit: a guard names one only for the place's cops; an
        # unguard naming one relieves that unit's guards only
        named = bool(unit) and (source == "cops" or not guard)
        keys = {"source": source} if guard else {}
        if named:
            keys["unit"] = unit
        action = "guard" if guard else "unguard"
        place = self._place(where)
        before = guards_by_unit(place)
        outsiders = place.state["sites"]["new_guards"].copy()
        self._play(
            ActionEvent(
                tick=self.sim.tick + 1, action=action, place=where, site=site, count=count, **keys
            )
        )
        # The posts change only by the action (at the tick's start): a guard naming a
        # unit posts its members only, an unguard only brings guards back, and one
        # naming a unit only that unit's, outsiders staying. The units' totals, guards
        # included, are kept (units_balance).
        after = guards_by_unit(place)
        for name in set(before) | set(after):
            was, now = before.get(name, 0), after.get(name, 0)
            if named and name != unit:
                assert now == was, name
            elif not guard:
                assert now <= was, name
            else:
                assert now >= was, name
        if named and not guard:
            assert (place.state["sites"]["new_guards"] == outsiders).all()

    @rule(
        source=st.sampled_from(NAMES),
        to=st.sampled_from(NAMES),
        unit=st.sampled_from(sorted(UNITS)),
        count=st.one_of(st.none(), st.integers(1, 8)),
    )
    def send_unit(self, source, to, unit, count):
        if source == to:
            return
        place = self._place(source)
        before = self._members(place, unit)
        guards = guards_by_unit(place).get(unit, 0)
        sized = {} if count is None else {"count": count}
        self._play(
            ActionEvent(
                tick=self.sim.tick + 1, action="send", place=source, to=to, unit=unit, **sized
            )
        )
        # the send acts first; the policy may send more of the unit away, and only a
        # convoy arriving in the same tick could bring members back. The whole unit
        # (no count) takes its guards along; a count leaves them at their posts.
        leaving = before + guards if count is None else min(count, before)
        if place.row.forces_arrived == 0:
            assert self._members(place, unit) <= before - min(leaving, before)
        assert place.row.forces_sent >= leaving
        assert guards_by_unit(place).get(unit, 0) == (0 if count is None else guards)

    @rule(
        where=st.sampled_from(NAMES), unit=st.sampled_from(sorted(UNITS)), count=st.integers(1, 8)
    )
    def reinforce(self, where, unit, count):
        room = int(np.count_nonzero(self._place(where).lattice.head == -1)) - in_transit(self.sim)
        forces, members = self._forces(), self._unit_total(unit)
        self._play(
            ActionEvent(
                tick=self.sim.tick + 1,
                action="reinforce",
                place=where,
                count=count,
                unit=unit,
                mode=UNITS[unit],
            )
        )
        # The regime's policy may send some of the newcomers on in the same tick (they
        # keep their unit), and sending moves forces about without changing their sum:
        # the unit, anywhere or on the way, grew by who was placed, and so did the
        # forces. With more empty sites than newcomers and convoys that could take
        # them, everyone was placed.
        placed = self._forces() - forces
        assert self._unit_total(unit) - members == placed
        assert sum(self.appeared.values()) == placed and not self.gone
        self.appeared = Counter()
        if room >= count:
            assert placed == count
        assert 0 <= placed <= count
        self.forces += placed
        self.units[unit] += placed

    @rule(
        where=st.sampled_from(NAMES),
        unit=st.sampled_from(sorted(UNITS)),
        count=st.one_of(st.none(), st.integers(1, 5)),
    )
    def withdraw(self, where, unit, count):
        place = self._place(where)
        before = self._members(place, unit)
        guards = guards_by_unit(place).get(unit, 0)
        sized = {} if count is None else {"count": count}
        self._play(
            ActionEvent(tick=self.sim.tick + 1, action="withdraw", place=where, unit=unit, **sized)
        )
        # the withdrawal acts at the start of the tick, before the policy may send
        # more of the unit away or a convoy bring some; forces_balance checks the sum.
        # The whole unit (no count) leaves with its guards; a count draws on duty only.
        on_duty = before if count is None else min(count, before)
        if place.row.forces_arrived == 0:
            assert self._members(place, unit) <= before - on_duty
        gone = on_duty + (guards if count is None else 0)
        assert guards_by_unit(place).get(unit, 0) == guards - (gone - on_duty)
        self.forces -= gone
        self.units[unit] -= gone
        assert sum(self.gone.values()) == gone and not self.appeared
        assert all(m[2] == country_units(place.timeline)[unit] for m in self.gone)
        self.gone = Counter()

    @rule(
        where=st.sampled_from(sorted(SITES)),
        index=st.integers(0, 1),
        count=st.integers(1, 4),
        unit=st.sampled_from(sorted(UNITS)),
        to=st.sampled_from(NAMES),
        send=st.booleans(),
    )
    def guards_leave_with_their_unit(self, where, index, count, unit, to, send):
        """Some of a unit's members guard a site, and the next tick the whole unit is
        withdrawn or sent away from the place: the guards must leave with it (random
        guards and withdrawals alone rarely meet in one place)."""
        self.guard(where, index, count, "cops", unit, True)
        if send:
            self.send_unit(where, to, unit, None)
        else:
            self.withdraw(where, unit, None)

    @rule(region=st.sampled_from(("", *REGIONS)), online=st.booleans())
    def news(self, region, online):
        action = "restore" if online else "shutdown"
        self._play(ActionEvent(tick=self.sim.tick + 1, action=action, region=region))

    @rule(
        where=st.sampled_from(("", *NAMES)),
        curfew=st.one_of(st.none(), st.tuples(st.integers(0, 23), st.integers(0, 23))),
        lift=st.booleans(),
    )
    def emergency(self, where, curfew, lift):
        tick = self.sim.tick + 1
        if lift:
            e = ActionEvent(tick=tick, action="lift_emergency", place=where)
        elif curfew is None:
            e = ActionEvent(tick=tick, action="emergency", place=where)
        else:
            e = ActionEvent(
                tick=tick,
                action="emergency",
                place=where,
                curfew_from=float(curfew[0]),
                curfew_to=float(curfew[1]),
            )
        self._play(e)

    @rule(q=st.sampled_from([0.0, 0.1, 1.0]), where=st.sampled_from(("", *NAMES)))
    def order(self, q, where):
        self._play(
            SetEvent(tick=self.sim.tick + 1, param="lethal_probability", value=q, place=where)
        )

    # -- the books ----------------------------------------------------------------
    @invariant()
    def people_balance(self):
        for pl in self.sim.places:
            moved = self.left[pl.name] - self.came[pl.name]
            assert pl.n_citizens() + self.killed[pl.name] + moved == self.citizens0[pl.name]
            a = pl.agents
            assert not np.any((a.kind != CITIZEN) & (a.kind != COP) & (a.status != DEAD))

    @invariant()
    def travellers_balance(self):
        sim = self.sim
        on_the_way = travellers_on_the_way(sim)
        alive = sum(pl.n_citizens() for pl in sim.places)
        assert alive + sum(self.killed.values()) + on_the_way == sum(self.citizens0.values())
        assert sum(self.left.values()) - sum(self.came.values()) == on_the_way
        assert sum(pl.row.travellers_in_transit for pl in sim.places) == on_the_way
        if not sim.params.travel.enabled:
            assert sum(self.left.values()) == 0

    @invariant()
    def forces_balance(self):
        sim = self.sim
        assert sum(pl.row.cops_killed for pl in sim.places) == 0  # crowds kill no one here
        assert self._forces() == self.forces
        assert self.sent - self.arrived == in_transit(sim)
        assert sum(pl.row.forces_in_transit for pl in sim.places) == in_transit(sim)

    @invariant()
    def units_balance(self):
        for unit, members in self.units.items():
            assert self._unit_total(unit) == members, unit
        # the units table reports the same books, place by place
        df = self.sim.units_table().to_pandas().set_index(["place", "unit"])
        for pl in self.sim.places:
            for unit in UNITS:
                row = df.loc[(pl.name, unit)]
                assert row.on_duty == self._members(pl, unit)
                assert row.on_guard == guards_by_unit(pl).get(unit, 0)
        totals = df.groupby("unit")[["on_duty", "on_guard", "in_transit"]].sum().sum(axis=1)
        assert {u: totals[u] for u in UNITS} == self.units
        # and the units' history holds it as this tick's rows
        if self.sim.units_recorded:
            assert self.sim.units_history(first=self.sim.tick).equals(self.sim.units_table())
        assert totals[""] + sum(self.units.values()) == self.forces

    @invariant()
    def minds_balance(self):
        # no cop's record drawn anew or lost on the way (the rules that place or
        # withdraw cops have accounted for theirs)
        assert not self.appeared and not self.gone
        assert sum(self.minds.values()) == self.forces

    @invariant()
    def guards_balance(self):
        for pl in self._sited():
            s = pl.state["sites"]
            assert (s["own_guards"] >= 0).all() and (s["new_guards"] >= 0).all(), pl.name
            posted = np.bincount(s["posted"]["site"], minlength=len(s["own_guards"]))
            assert posted.tolist() == s["own_guards"].tolist(), pl.name
            assert pl.row.site_guards == guards_at(pl)
            assert pl.row.sites_held == int(s["held"].sum())
            assert (s["held_for"][~s["held"]] == 0).all()

    @invariant()
    def each_place_is_sound(self):
        for pl in self.sim.places:
            check_state(SimpleNamespace(place=pl, params=pl.params))


CountryTimeline.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
test_random_country_timelines_keep_the_books = CountryTimeline.TestCase
