"""Random timelines of mechanism events never break the conservation invariants
(Hypothesis, stateful): each rule schedules one event for the next tick and plays
it; after every tick the state is checked (statuses, jail terms, occupancy lanes,
site lists, tally: tests/test_invariants.py:check_state) and the books balance —
citizens alive + killed by the police = citizens at the start (Model I), cops on
duty = initial + placed − withdrawn, every unit cop of a withdrawn unit gone,
guards never moved, hardship and legitimacy in [0, 1], solidarity in [0, 1] and
identities fixed for life."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from test_invariants import check_state
from upheaval.core.codes import CITIZEN, COP, DEAD
from upheaval.engine.simulation import Simulation
from upheaval.model.params import Params
from upheaval.model.rules.forces import unit_codes
from upheaval.model.timeline import ActionEvent, RampEvent, SetEvent, first_tick
from upheaval.scenario.schema import Scenario

SIDE = 12
FAR = 10**6  # declares the units (codes, modes) without acting within the run
UNITS = {"patrol": "patrol", "guards": "guard"}
areas = st.one_of(
    st.none(),
    st.tuples(st.integers(0, SIDE - 1), st.integers(0, SIDE - 1)).flatmap(
        lambda xy: st.tuples(
            st.just(xy[0]),
            st.just(xy[1]),
            st.integers(xy[0], SIDE - 1),
            st.integers(xy[1], SIDE - 1),
        )
    ),
)


class MechanismTimeline(RuleBasedStateMachine):
    @initialize(
        feedback=st.sampled_from(["off", "global", "per_agent"]),
        hold=st.booleans(),
        seed=st.integers(0, 2**32),
        org_action=st.sampled_from(["strike", "protest"]),
    )
    def start(self, feedback, hold, seed, org_action):
        p = Params(
            width=SIDE,
            height=SIDE,
            citizen_vision=2.0,
            cop_vision=2.0,
            legitimacy=0.6,
            cop_density=0.05,
            max_jail_term=5.0,
            legitimacy_feedback=feedback,
            hardship_group_share=0.3,
            lethal_deterrence=0.3,
            jailed_hold_site=hold,
            organisation_groups=3,
            organisation_member_share=0.4,
            organisation_quorum=0.3,
            organisation_action=org_action,
            organisation_strike_impact=0.05,
            identity_enabled=True,
            blue_share=0.6,
            provocateurs_count=2,
            provocateurs_framing_rise=0.2,
            information_enabled=True,
            information_focal_x=SIDE // 2,
            information_focal_y=SIDE // 2,
        )
        timeline = [
            SetEvent(tick=FAR, param="lethal_probability", value=0.5),
            *(
                ActionEvent(tick=FAR, action="reinforce", count=1, unit=u, mode=m)
                for u, m in UNITS.items()
            ),
            ActionEvent(tick=FAR, action="rollback"),
        ]
        self.sim = Simulation(Scenario(params=p, timeline=tuple(timeline)), seed=seed)
        a = self.sim.place.agents
        self.citizens0 = int(np.count_nonzero((a.kind == CITIZEN) & (a.status != DEAD)))
        self.cops = int(np.count_nonzero((a.kind == COP) & (a.status != DEAD)))
        self.killed = 0
        self.guard_sites: dict[int, int] = {}
        self.groups0 = a.group.copy()
        self.citizen0 = (a.kind == CITIZEN) & (a.status != DEAD)

    def _play(self, event=None):
        sim = self.sim
        if event is not None:
            sim._timeline = sorted([*sim._timeline, event], key=first_tick)
        before_cops = self._on_duty()
        sim.step()
        self.killed += sim.counts()["killed_by_cops"]
        return before_cops

    def _on_duty(self, unit=None):
        a = self.sim.place.agents
        mask = (a.kind == COP) & (a.status != DEAD)
        if unit is not None:
            mask &= a.unit == unit_codes(self.sim.place.timeline)[unit]
        return int(np.count_nonzero(mask))

    @rule(online=st.booleans())
    def internet(self, online):
        """Shutdowns and restores (the channel, with its focal site)."""
        self._play(ActionEvent(tick=self.sim.tick + 1, action="restore" if online else "shutdown"))
        assert self.sim.place.signals.focal[0] == int(online)

    @rule(ticks=st.integers(1, 3))
    def step(self, ticks):
        for _ in range(ticks):
            self._play()

    @rule(factor=st.floats(0.2, 3.0), group=st.booleans(), area=areas)
    def shock(self, factor, group, area):
        self._play(
            ActionEvent(
                tick=self.sim.tick + 1,
                action="shock",
                factor=factor,
                target="group" if group else "all",
                area=area,
            )
        )

    @rule(share=st.floats(0.01, 1.0), area=areas)
    def rollback(self, share, area):
        self._play(ActionEvent(tick=self.sim.tick + 1, action="rollback", share=share, area=area))

    @rule(delta=st.floats(-0.5, 0.5))
    def concession(self, delta):
        self._play(ActionEvent(tick=self.sim.tick + 1, action="concession", legitimacy=delta))

    @rule(q=st.sampled_from([0.0, 0.2, 1.0]))
    def order(self, q):
        self._play(SetEvent(tick=self.sim.tick + 1, param="lethal_probability", value=q))

    @rule(unit=st.sampled_from(sorted(UNITS)), count=st.integers(1, 8), area=areas)
    def reinforce(self, unit, count, area):
        e = ActionEvent(
            tick=self.sim.tick + 1,
            action="reinforce",
            count=count,
            unit=unit,
            mode=UNITS[unit],
            area=area,
        )
        a0 = self.sim.place.agents
        old_cops = set(np.flatnonzero((a0.kind == COP) & (a0.status != DEAD)).tolist())
        self._play(e)
        a = self.sim.place.agents
        new = [
            i
            for i in np.flatnonzero((a.kind == COP) & (a.status != DEAD)).tolist()
            if i not in old_cops
        ]
        assert len(new) <= count
        for i in new:
            assert a.unit[i] == unit_codes(self.sim.place.timeline)[unit]
            x, y = int(a.position[i]) % SIDE, int(a.position[i]) // SIDE
            if area is not None and UNITS[unit] == "guard":
                assert area[0] <= x <= area[2] and area[1] <= y <= area[3]
            if UNITS[unit] == "guard":
                self.guard_sites[i] = int(a.position[i])
        self.cops += len(new)

    @rule(unit=st.sampled_from(sorted(UNITS)), count=st.one_of(st.none(), st.integers(1, 5)))
    def withdraw(self, unit, count):
        if unit not in unit_codes(self.sim.place.timeline):
            return
        members = self._on_duty(unit)
        e = ActionEvent(
            tick=self.sim.tick + 1,
            action="withdraw",
            unit=unit,
            count=-1 if count is None else count,
        )
        self._play(e)
        gone = members if count is None else min(count, members)
        self.cops -= gone
        if count is None:
            assert self._on_duty(unit) == 0
        a = self.sim.place.agents
        self.guard_sites = {
            i: s for i, s in self.guard_sites.items() if a.status[i] != DEAD and a.kind[i] == COP
        }

    @rule(ticks=st.one_of(st.just(-1), st.integers(1, 4)))
    def general_strike(self, ticks):
        self._play(ActionEvent(tick=self.sim.tick + 1, action="general_strike", ticks=ticks))
        a = self.sim.place.agents
        # a provocateur obeys no committee: members who are provocateurs stay violent
        members = (a.org > 0) & (a.kind == CITIZEN) & (a.role == 0)
        assert not np.any(members & (a.status == 1)), "a striker is on the street"
        assert self.sim.counts()["striking"] <= int(np.count_nonzero(members & (a.status == 0)))

    @rule(s=st.floats(0.0, 1.0), ramp=st.integers(0, 3))
    def propaganda(self, s, ramp):
        """Divisive propaganda: solidarity set (ramp 0) or ramped over a few ticks."""
        if ramp == 0:
            self._play(SetEvent(tick=self.sim.tick + 1, param="identity_solidarity", value=s))
            return
        start = self.sim.tick + 1
        e = RampEvent(start=start, end=start + ramp, param="identity_solidarity", value=s)
        self._play(e)
        for _ in range(ramp):
            self._play()
        # before + (s − before)·k/k: the target up to the rounding of that product
        assert abs(self.sim.place.now("identity_solidarity") - s) <= 1e-12

    @invariant()
    def books_balance(self):
        sim = self.sim
        check_state(sim)
        a = sim.place.agents
        alive = int(np.count_nonzero((a.kind == CITIZEN) & (a.status != DEAD)))
        assert alive + self.killed == self.citizens0
        assert self._on_duty() == self.cops
        for i, site in self.guard_sites.items():
            assert a.position[i] == site, "a guard left its post"
        live = a.status != DEAD
        assert np.all((a.hardship[live] >= 0) & (a.hardship[live] <= 1))
        if a.legit.shape[0]:
            assert np.all((a.legit[live] >= 0) & (a.legit[live] <= 1))
        assert 0.0 <= sim.place.now("legitimacy") <= 1.0
        assert np.all((a.fear >= 0) & (a.fear <= 1))
        # a member belongs to one of the groups; cops belong to none
        assert np.all((a.org[live] >= 0) & (a.org[live] <= 3))
        assert not np.any(a.org[live & (a.kind == COP)])
        assert 0.0 <= sim.place.now("identity_solidarity") <= 1.0
        # identities are fixed for life: a citizen of tick 0 still alive keeps its group
        n0 = self.citizen0.shape[0]  # reinforcements may have grown the arrays
        still = self.citizen0 & (a.status[:n0] != DEAD) & (a.kind[:n0] == CITIZEN)
        assert np.array_equal(a.group[:n0][still], self.groups0[still])
        assert set(np.unique(a.group[live & (a.kind == CITIZEN)]).tolist()) <= {0, 1}


MechanismTimeline.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
test_random_timelines_keep_the_books = MechanismTimeline.TestCase
