"""Simulation: one run of a scenario — initialise, step, record, checkpoint."""

from __future__ import annotations

import math
import os
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from upheaval._version import __version__
from upheaval.model.kernels import (
    compile_rules,
    elite_split,
    free_citizens,
    lethal_ever,
    step,
    tally,
)
from upheaval.model.params import Params, parameter_fields, validate_params
from upheaval.model.rng import seed_streams
from upheaval.model.rules import (
    hardship,
    identity,
    information,
    legitimacy,
    organisation,
    provocation,
)
from upheaval.model.rules.defection import (
    draw_initial_factions,
    draw_initial_minds,
    shift_command,
)
from upheaval.model.rules.forces import add_cops, reinforce, remove_cops, withdraw_unit
from upheaval.model.slots import free_heap, grow_heap
from upheaval.model.state import (
    CITIZEN,
    COP,
    DEAD,
    EV_KILLED_BY_COPS,
    EV_PROVOCATIONS,
    EV_STRIKING,
    EVENTS,
    FACTIONS,
    MECH_EVENTS,
    TALLY,
    Agents,
    Lattice,
    agents_nbytes,
    copy_lattice,
    grow_agents,
    interleaved,
    lattice_nbytes,
    with_extras,
)
from upheaval.scenario.schema import Scenario
from upheaval.scenario.timeline import (
    MAX_UNITS,
    ActionEvent,
    RampEvent,
    SetEvent,
    check_actions,
    first_tick,
    unit_codes,
    value_at,
)

from .memory import check_memory
from .population import populate

#: Checkpoint file format; bump when the state layout changes.
CHECKPOINT_FORMAT = "upheaval-checkpoint-2"

#: Columns of one recorded tick, in order.
#: The mechanisms' counters (state.MECH_EVENTS) come after the classic ones, then the
#: regime's framing (provocateurs, mechanism 6) and ``legitimacy``, which stays last so
#: that readers of ``row[-1]`` keep working.
COLUMNS = ("tick", *TALLY, *EVENTS, *MECH_EVENTS, "framing", "legitimacy")
#: Columns holding real numbers (every other column is a whole count).
FLOAT_COLUMNS = ("framing", "legitimacy")


@dataclass
class Checkpoint:
    """The full state of a run at a tick: arrays, random streams, dynamic values.

    Restoring it and stepping gives bit-identical results to never having stopped.
    """

    scenario: Scenario
    tick: int
    lattice: Lattice
    agents: Agents
    streams: dict[str, np.ndarray]
    free_slots: np.ndarray
    free_meta: np.ndarray
    dynamic: dict[str, float]
    ramp_origins: dict[RampEvent, float]
    history: list[tuple] = field(default_factory=list)
    pending: dict[str, float] = field(default_factory=dict)
    anchor: float | None = None
    framing: float = 0.0
    #: organised groups (mechanism 8): int8 per group code, 1 if it acts next tick
    organisation: np.ndarray | None = None

    def save(self, path: str | Path) -> Path:
        """Write the checkpoint to one file (written whole, then renamed into place)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as f:
            pickle.dump((CHECKPOINT_FORMAT, __version__, self), f, protocol=5)
        os.replace(tmp, path)
        return path

    @staticmethod
    def load(path: str | Path) -> Checkpoint:
        """Read a checkpoint written by :meth:`save` (only load files you trust: the
        format is Python's pickle)."""
        path = Path(path)
        try:
            with path.open("rb") as f:
                fmt, version, cp = pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError) as e:
            raise ValueError(f"{path}: not an upheaval checkpoint ({e})") from None
        if fmt != CHECKPOINT_FORMAT or not isinstance(cp, Checkpoint):
            raise ValueError(
                f"{path}: checkpoint format {fmt!r} (written by upheaval {version}); "
                f"this version reads {CHECKPOINT_FORMAT!r}"
            )
        return cp


def _check_whole(name: str, value: object, allow: tuple[type, ...] = ()) -> None:
    """A count or seed must be a whole number ≥ 0 (numpy integers too, bools not)."""
    if isinstance(value, allow):
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be a whole number, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be ≥ 0, got {value}")


class Simulation:
    """One run of a scenario.

    >>> import upheaval
    >>> sim = upheaval.Simulation(upheaval.load("epstein2002-run2"), seed=1)
    >>> sim.step(10)
    >>> sim.tick
    10
    >>> sorted(sim.counts())[:3]
    ['active', 'arrests', 'cops']
    """

    def __init__(
        self, scenario: Scenario | Params, seed: int | np.random.SeedSequence | None = None
    ):
        if isinstance(scenario, Params):
            scenario = Scenario(params=scenario)
        if not isinstance(scenario, Scenario):
            raise TypeError(
                "Simulation needs a Scenario (e.g. upheaval.load('epstein2002-run2')) or "
                f"Params, got {type(scenario).__name__} {scenario!r}"
            )
        _check_whole("seed", seed, allow=(type(None), np.random.SeedSequence))
        p = validate_params(scenario.params)
        if seed is not None and not isinstance(seed, np.random.SeedSequence):
            p = validate_params(p.replace(seed=int(seed)))
            scenario = Scenario(
                name=scenario.name,
                description=scenario.description,
                params=p,
                timeline=scenario.timeline,
                source=scenario.source,
            )
        self.scenario = scenario
        self.params = p
        self.seed_sequence = (
            seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(p.seed)
        )
        self.streams = seed_streams(self.seed_sequence)
        check_actions(p, scenario.timeline)
        check_memory(p, scenario.source)  # before anything large is allocated
        self.rules = compile_rules(p, scenario.timeline)
        t0 = time.perf_counter()
        self.lattice, self.agents, used = populate(p, self.streams["init"])
        self._init_mechanism_state()
        cap = self.agents.kind.shape[0]
        self.free_slots, self.free_meta = free_heap(cap, used, full=self._kernel_removes())
        self.order = np.zeros(cap, np.int32)
        self.events = np.zeros(len(EVENTS) + len(MECH_EVENTS), np.int64)
        self.tick = 0
        self.dynamic = {
            "legitimacy": float(p.legitimacy),
            "max_jail_term": float(p.max_jail_term),
            "cop_density": float(p.cop_density),
            "lethal_probability": float(p.lethal_probability),
            "elite_ruler_loyalty": float(p.elite_ruler_loyalty),
            "elite_rival_loyalty": float(p.elite_rival_loyalty),
            "identity_solidarity": float(p.identity_solidarity),
        }
        self._anchor = float(p.legitimacy)
        self.framing = 0.0
        self._setup_mechanisms()
        self._org_acting = np.zeros(p.organisation_groups + 1, np.int8)  # none at tick 1
        self._ramp_origins: dict[RampEvent, float] = {}
        self._pending: dict[str, float] = {}
        self._timeline = sorted(scenario.timeline, key=first_tick)
        self.history: list[tuple] = []
        self.timings = {
            "init_s": time.perf_counter() - t0,
            "step_s": 0.0,
            "compile_s": 0.0,
            "compile_agent_steps": 0,
        }
        self._record()

    def _kernel_removes(self) -> bool:
        """Whether agents can leave the world inside the step kernel, which then needs
        room on the free-slot heap for every slot: Model II (killings, deaths), lethal
        force, or a disarmed foreign soldier. Otherwise slots are freed only by timeline
        withdrawals (see _set_cop_count), so the heap starts with just the unused slots
        and grows on demand — 4 bytes an agent saved at the benchmark's scale."""
        p = self.params
        return bool(
            self.rules.model2
            or lethal_ever(p, self.scenario.timeline)
            or (p.forces_minds and p.forces_disarm_ratio > 0)
        )

    # -- mechanisms (issue 3) ---------------------------------------------------------
    def _extras_needed(self) -> tuple[str, ...]:
        p, tl = self.params, self.scenario.timeline
        actions = {e.action for e in tl if isinstance(e, ActionEvent)}
        need = []
        if p.legitimacy_feedback == "per_agent":
            need.append("legit")
        if self.rules.fear_on:
            need.append("fear")
        if p.hardship_group_share > 0:
            need.append("cohort")
        if "rollback" in actions:
            need.append("hardship0")
        if "reinforce" in actions:
            need.append("unit")
        if elite_split(p, tl):
            need.append("faction")
        if p.provocateurs_count > 0:
            need.append("role")
        if p.organisation_groups > 0:
            need.append("org")
        return tuple(need)

    def _init_mechanism_state(self) -> None:
        """Allocate the per-agent arrays the mechanisms need and set their tick-0 values
        (hardship shaping draws from the ``init`` stream after the population)."""
        p = self.params
        self.agents = with_extras(self.agents, self._extras_needed())
        a = self.agents
        if hardship.needs_shaping(p):
            hardship.shape_hardship(p, a, self.streams["init"])
        if p.forces_minds:
            draw_initial_minds(a, self.rules, self.streams["init"])
        if p.elite_rival_share > 0:
            draw_initial_factions(a, p.elite_rival_share, self.streams["init"])
        if p.provocateurs_count > 0:
            provocation.draw_provocateurs(a, p.provocateurs_count, self.streams["init"])
        if p.organisation_groups > 0:
            organisation.draw_membership(
                a, p.organisation_member_share, p.organisation_groups, self.streams["init"]
            )
        if p.identity_enabled:
            identity.draw_identities(a, p.blue_share, self.streams["init"])
        citizens = (a.kind == CITIZEN) & (a.status != DEAD)
        if a.legit.shape[0]:
            a.legit[citizens] = np.float32(p.legitimacy)
        if a.hardship0.shape[0]:
            a.hardship0[citizens] = a.hardship[citizens]

    def _setup_mechanisms(self) -> None:
        """Values the mechanisms derive from parameters and timeline (not state)."""
        p, tl = self.params, self.scenario.timeline
        self._units = unit_codes(tl)
        self.guard_units = np.zeros(MAX_UNITS + 1, np.int8)
        for e in tl:
            if isinstance(e, ActionEvent) and e.action == "reinforce" and e.mode == "guard":
                self.guard_units[self._units[e.unit]] = 1
        self._lethal = lethal_ever(p, tl)
        self._strikes_hurt = p.organisation_groups > 0 and p.organisation_strike_impact > 0
        self._legit_dynamic = (
            p.legitimacy_feedback != "off"
            or (self._lethal and p.lethal_backlash > 0)
            or self._strikes_hurt
        )

    def _update_legitimacy(self) -> None:
        """After the tick: legitimacy feedback (rules/legitimacy.py) and fear decay."""
        p = self.params
        if self._legit_dynamic:
            row = self.history[-1]
            citizens = sum(row[1:7])
            arrests = int(self.events[0])
            killings = int(self.events[EV_KILLED_BY_COPS])
            on = p.legitimacy_feedback != "off"
            drop = legitimacy.news(
                p.legitimacy_arrest_impact if on else 0.0,
                p.lethal_backlash if self._lethal else 0.0,
                arrests,
                killings,
                citizens,
            )
            if self._strikes_hurt:
                drop += organisation.strike_news(
                    p.organisation_strike_impact, int(self.events[EV_STRIKING]), citizens
                )
            recovery = p.legitimacy_recovery if on else 0.0
            if p.legitimacy_feedback == "per_agent":
                legitimacy.update_agent_legitimacy(
                    self.agents, self.dynamic["legitimacy"], recovery, drop
                )
            else:
                self.dynamic["legitimacy"] = legitimacy.next_global_legitimacy(
                    self.dynamic["legitimacy"], self._anchor, recovery, drop
                )
        if self.rules.fear_on:
            legitimacy.decay_fear(self.agents, p.lethal_fear_decay)

    def _before_tick(self) -> float:
        """Write the tick's time-varying mechanism values into the kernels' record;
        returns the lethal-force order in force (raised by the framing)."""
        p, r = self.params, self.rules
        if r.media_on:
            self._broadcast()
        lethal_p = self.dynamic["lethal_probability"]
        if r.provocateurs_on:
            r.provocateurs_framing[0] = 1.0 - p.provocateurs_framing_bystander * self.framing
            r.provocateurs_framing[1] = p.provocateurs_framing_arrest * self.framing
            lethal_p = provocation.framed_lethal_probability(
                lethal_p, p.provocateurs_framing_lethal, self.framing
            )
        if r.elite_on:
            r.elite_loyalty[0] = self.dynamic["elite_ruler_loyalty"]
            r.elite_loyalty[1] = self.dynamic["elite_rival_loyalty"]
        if r.organisation_on:
            self._organise()
        if r.identity_on:
            r.identity_solidarity[0] = self.dynamic["identity_solidarity"]
        return lethal_p

    def _after_tick(self) -> None:
        """After the tick's row is recorded: legitimacy and fear, the framing the
        tick's provocations feed, and the organised groups' verdicts for the next."""
        p, r = self.params, self.rules
        self._update_legitimacy()
        if r.provocateurs_on:
            self.framing = provocation.next_framing(
                self.framing,
                p.provocateurs_framing_decay,
                p.provocateurs_framing_rise,
                int(self.events[EV_PROVOCATIONS]),
            )
        if r.organisation_on:
            self._org_acting = organisation.groups_acting(
                r.organisation_willing, r.organisation_free, p.organisation_quorum
            )

    def _broadcast(self) -> None:
        """Before the tick: what the information channel reports of the previous tick's
        row (rules/information.py), as as-if-seen counts for rule A."""
        p, row = self.params, self.history[-1]
        online = information.online_at(p.information_online, self._timeline, self.tick)
        self.rules.focal[0] = int(online)
        self.rules.media[0], self.rules.media[1] = information.broadcast(
            online,
            p.information_actives_weight,
            p.information_repression_weight,
            row[COLUMNS.index("active_blue")] + row[COLUMNS.index("active_green")],
            row[COLUMNS.index("arrests")] + row[COLUMNS.index("killed_by_cops")],
            int(self.rules.cit_off_dx.shape[0]),
            p.n_sites,
        )

    def _organise(self) -> None:
        """Before the tick: what each organised group does (its verdict of the last
        tick, or a general strike in force; rules/organisation.py); tallies zeroed."""
        r = self.rules
        strike = organisation.general_strike_at(self._timeline, self.tick)
        r.organisation_mode[:] = organisation.group_modes(
            self._org_acting, self.params.organisation_action, strike
        )
        r.organisation_willing[:] = 0
        r.organisation_free[:] = 0

    def _area(self, e: ActionEvent) -> tuple[int, int, int, int]:
        if e.area is not None:
            return e.area
        return (0, 0, self.params.width - 1, self.params.height - 1)

    def _act(self, e: ActionEvent) -> None:
        """Apply one timeline action (scenario/timeline.py)."""
        a, w = self.agents, self.params.width
        if e.action == "shock":
            hardship.shock(a, w, e.factor, e.target == "group", *self._area(e))
        elif e.action == "rollback":
            hardship.rollback(a, w, e.share, e.target == "group", *self._area(e))
        elif e.action == "concession":
            if self.params.legitimacy_feedback == "per_agent":
                legitimacy.shift_agent_legitimacy(a, e.legitimacy)
            else:
                value = self.dynamic["legitimacy"] + e.legitimacy
                self.dynamic["legitimacy"] = min(1.0, max(0.0, value))
        elif e.action == "reinforce":
            self._reserve(e.count)
            reinforce(
                self.lattice,
                self.agents,
                e.count,
                self._units[e.unit],
                *self._area(e),
                self.rules,
                self.streams["events"],
                self.free_slots,
                self.free_meta,
            )
        elif e.action == "shift_command":
            to = FACTIONS[e.to]
            others = int(np.count_nonzero((a.kind == COP) & (a.status != DEAD) & (a.faction != to)))
            count = -1 if e.share >= 1.0 else round(e.share * others)
            shift_command(a, to, count, self.streams["events"])
        elif e.action == "withdraw":
            code = self._units[e.unit]
            a = self.agents
            self._heap_room(int(np.count_nonzero((a.unit == code) & (a.status != DEAD))))
            withdraw_unit(
                self.lattice,
                self.agents,
                code,
                e.count,
                self.rules.hold_site,
                self.streams["events"],
                self.free_slots,
                self.free_meta,
            )

    # -- inspection -------------------------------------------------------------------
    @property
    def legitimacy(self) -> float:
        return self.dynamic["legitimacy"]

    def counts(self) -> dict[str, int]:
        """Counts at the current tick: quiet, active, jailed, cops, per group, events."""
        row = dict(zip(COLUMNS, self.history[-1], strict=True))
        row["quiet"] = row["quiet_blue"] + row["quiet_green"]
        row["active"] = row["active_blue"] + row["active_green"]
        row["jailed"] = row["jailed_blue"] + row["jailed_green"]
        row["killed"] = row["killed_blue"] + row["killed_green"]
        return row

    def nbytes(self) -> int:
        """Bytes held by the state arrays (agents, lattice, scratch buffers)."""
        return (
            agents_nbytes(self.agents)
            + lattice_nbytes(self.lattice)
            + self.order.nbytes
            + self.free_slots.nbytes
        )

    def n_agents(self) -> int:
        return int(np.count_nonzero(self.agents.status != DEAD))

    # -- stepping ---------------------------------------------------------------------
    def step(self, n: int = 1) -> None:
        """Advance ``n`` ticks."""
        _check_whole("n", n)
        for _ in range(n):
            self.tick += 1
            self._apply_timeline()
            self._ensure_capacity()
            lethal_p = self._before_tick()
            compiled = len(step.overloads)
            t0 = time.perf_counter()
            step(
                self.lattice,
                self.agents,
                self.rules,
                self.streams["dynamics"],
                self.dynamic["legitimacy"],
                self.dynamic["max_jail_term"],
                lethal_p,
                self.guard_units,
                self.order,
                self.free_slots,
                self.free_meta,
                self.events,
            )
            # A call that compiled the kernel (or loaded it from numba's cache) is
            # counted apart, so that step_s (and speeds derived from it) is running time.
            took = time.perf_counter() - t0
            if len(step.overloads) > compiled:
                self.timings["compile_s"] += took
                # the agents that tick stepped: its speed is not the kernel's
                self.timings["compile_agent_steps"] += sum(self.history[-1][1 : 1 + len(TALLY)])
            else:
                self.timings["step_s"] += took
            self._record()
            self._after_tick()

    def run(
        self,
        steps: int | None = None,
        *,
        on_tick: Callable[[Simulation], None] | None = None,
    ) -> Simulation:
        """Advance ``steps`` ticks (default: the scenario's ``run.steps``)."""
        _check_whole("steps", steps, allow=(type(None),))
        steps = self.params.steps if steps is None else steps
        for _ in range(steps):
            self.step()
            if on_tick is not None:
                on_tick(self)
        return self

    def table(self):
        """The per-tick record as a pyarrow Table (``.to_pandas()``, ``polars.from_arrow``)."""
        import pyarrow as pa

        cols = list(zip(*self.history, strict=True))
        arrays = {}
        for name, values in zip(COLUMNS, cols, strict=True):
            dtype = pa.float64() if name in FLOAT_COLUMNS else pa.int64()
            arrays[name] = pa.array(values, type=dtype)
        return pa.table(arrays)

    # -- internals --------------------------------------------------------------------
    def _record(self) -> None:
        t = tally(self.agents)
        if self.params.legitimacy_feedback == "per_agent":
            shown = legitimacy.mean_citizen_legitimacy(self.agents)
        else:
            shown = self.dynamic["legitimacy"]
        self.history.append(
            (
                self.tick,
                *map(int, t),
                *map(int, self.events),
                self.framing,
                shown,
            )
        )

    def _apply_timeline(self) -> None:
        pending, self._pending = self._pending, {}
        for name, v in pending.items():
            self._set_dynamic(name, v)
        for e in self._timeline:
            if first_tick(e) > self.tick:
                break
            if isinstance(e, ActionEvent):
                if e.tick == self.tick:
                    self._act(e)
                continue
            if isinstance(e, RampEvent) and self.tick == e.start:
                self._ramp_origins[e] = self.dynamic[e.param]
            before = self._ramp_origins.get(e, self.dynamic[e.param])
            v = value_at(e, self.tick, before)
            if v is not None:
                self._set_dynamic(e.param, v)

    def _set_dynamic(self, name: str, value: float) -> None:
        if name == "max_jail_term" and math.isfinite(value):
            value = float(round(value))  # a ramp passes through whole terms only
        if name == "legitimacy":
            if self.params.legitimacy_feedback == "per_agent":
                legitimacy.shift_agent_legitimacy(self.agents, value - self.dynamic[name])
            self._anchor = float(value)
        if name == "cop_density":
            cops = self._set_cop_count(int(round(value * self.params.n_sites)))
            if cops != int(round(value * self.params.n_sites)):
                value = cops / self.params.n_sites  # the lattice had too few empty sites
        self.dynamic[name] = float(value)

    def _set_cop_count(self, target: int) -> int:
        """Add or withdraw cops to reach ``target``; returns the cops on duty after."""
        a = self.agents
        current = int(np.count_nonzero((a.kind == COP) & (a.status != DEAD)))
        rng = self.streams["events"]
        if target > current:
            self._reserve(target - current)
            return current + int(
                add_cops(
                    self.lattice,
                    self.agents,
                    target - current,
                    self.rules,
                    rng,
                    self.free_slots,
                    self.free_meta,
                )
            )
        if target < current:
            self._heap_room(current - target)
            remove_cops(
                self.lattice,
                self.agents,
                current - target,
                self.rules.hold_site,
                rng,
                self.free_slots,
                self.free_meta,
            )
        return target

    def _heap_room(self, n: int) -> None:
        """Make room on the free-slot heap for ``n`` more slots."""
        need = int(self.free_meta[0]) + n
        if self.free_slots.shape[0] < need:
            heap = np.zeros(max(need, self.agents.kind.shape[0]), np.int32)
            heap[: self.free_slots.shape[0]] = self.free_slots
            self.free_slots = heap

    def _ensure_capacity(self) -> None:
        if self.rules.model2:
            self._reserve(int(free_citizens(self.agents)))

    def _reserve(self, n: int) -> None:
        """Make sure at least ``n`` slots are free, growing the arrays if needed."""
        free = int(self.free_meta[0])
        if free >= n:
            return
        old = self.agents.kind.shape[0]
        new = max(old + (n - free), int(math.ceil(old * 1.5)))
        self.agents = grow_agents(self.agents, new)
        self.free_slots = grow_heap(self.free_slots, self.free_meta, old, new)
        self.order = np.zeros(new, np.int32)

    # -- checkpoints ------------------------------------------------------------------
    def checkpoint(self) -> Checkpoint:
        """A deep copy of the full state, random streams included."""
        return Checkpoint(
            scenario=self.scenario,
            tick=self.tick,
            lattice=copy_lattice(self.lattice),
            agents=Agents(*(x.copy() for x in self.agents)),
            streams={k: v.copy() for k, v in self.streams.items()},
            free_slots=self.free_slots.copy(),
            free_meta=self.free_meta.copy(),
            dynamic=dict(self.dynamic),
            ramp_origins=dict(self._ramp_origins),
            history=list(self.history),
            pending=dict(self._pending),
            anchor=self._anchor,
            framing=self.framing,
            organisation=self._org_acting.copy(),
        )

    @classmethod
    def restore(cls, cp: Checkpoint, scenario: Scenario | None = None) -> Simulation:
        """A simulation continuing from ``cp``; pass ``scenario`` to branch into a variant
        (its parameters and timeline apply from the next tick on)."""
        sim = cls.__new__(cls)
        sc = scenario if scenario is not None else cp.scenario
        sim.scenario = sc
        sim.params = validate_params(sc.params)
        sim.seed_sequence = np.random.SeedSequence(sim.params.seed)
        sim.rules = compile_rules(sim.params, sc.timeline)
        sim.lattice = copy_lattice(cp.lattice)
        sim.agents = interleaved(cp.agents)
        sim.streams = {k: v.copy() for k, v in cp.streams.items()}
        sim.free_slots = cp.free_slots.copy()
        sim.free_meta = cp.free_meta.copy()
        sim.order = np.zeros(sim.agents.kind.shape[0], np.int32)
        sim.events = np.zeros(len(EVENTS) + len(MECH_EVENTS), np.int64)
        sim.tick = cp.tick
        sim.dynamic = dict(cp.dynamic)
        for name in (
            "lethal_probability",
            "elite_ruler_loyalty",
            "elite_rival_loyalty",
            "identity_solidarity",
        ):
            sim.dynamic.setdefault(name, float(getattr(sim.params, name)))
        sim._anchor = cp.anchor if cp.anchor is not None else sim.dynamic["legitimacy"]
        sim.framing = cp.framing
        sim._setup_mechanisms()
        _check_branch(cp.scenario.params, sim.params)
        groups = sim.params.organisation_groups
        if cp.organisation is not None and cp.organisation.shape[0] == groups + 1:
            sim._org_acting = cp.organisation.copy()
        else:
            sim._org_acting = np.zeros(groups + 1, np.int8)
        fresh = [n for n in sim._extras_needed() if getattr(sim.agents, n).shape[0] == 0]
        sim.agents = with_extras(sim.agents, sim._extras_needed())
        citizens = (sim.agents.kind == CITIZEN) & (sim.agents.status != DEAD)
        if "legit" in fresh:  # per-agent legitimacy starts from the global value
            sim.agents.legit[citizens] = np.float32(sim.dynamic["legitimacy"])
        if "hardship0" in fresh:  # rollbacks return to the hardship at the branch
            sim.agents.hardship0[citizens] = sim.agents.hardship[citizens]
        if sim._kernel_removes() and sim.free_slots.shape[0] < sim.agents.kind.shape[0]:
            heap = np.zeros(sim.agents.kind.shape[0], np.int32)
            heap[: sim.free_slots.shape[0]] = sim.free_slots
            sim.free_slots = heap
        sim._ramp_origins = dict(cp.ramp_origins)
        # A variant's own values of the time-varying parameters take over at the next
        # tick (before that tick's timeline events); unchanged ones carry on.
        sim._pending = dict(cp.pending)
        sim._pending.update(
            {
                name: float(getattr(sim.params, name))
                for name in sim.dynamic
                if getattr(sim.params, name) != getattr(cp.scenario.params, name)
            }
        )
        sim._timeline = sorted(sc.timeline, key=first_tick)
        sim.history = list(cp.history)
        sim.timings = {"init_s": 0.0, "step_s": 0.0, "compile_s": 0.0, "compile_agent_steps": 0}
        return sim


#: Parameters read only when the population is built: a branch cannot change them.
INITIAL_ONLY = (
    "variant",
    "width",
    "height",
    "placement",
    "citizen_density",
    "blue_share",
    "hardship_distribution",
    "hardship_low",
    "hardship_high",
    "hardship_beta_a",
    "hardship_beta_b",
    "hardship_group_share",
    "hardship_group_low",
    "hardship_group_high",
    "forces_minds",
    "forces_hardship_high",
    "forces_initial_origin",
    "forces_local_police_loyalty_low",
    "forces_local_police_loyalty_high",
    "forces_national_guard_loyalty_low",
    "forces_national_guard_loyalty_high",
    "forces_foreign_loyalty_low",
    "forces_foreign_loyalty_high",
    "elite_rival_share",
    "provocateurs_count",
    "organisation_groups",
    "organisation_member_share",
    "identity_enabled",
)


def _check_branch(old: Params, new: Params) -> None:
    """Refuse a variant that changes what only the initial population reads: those
    values are drawn or laid out at tick 0 and a branch would silently ignore them."""
    changed = [n for n in INITIAL_ONLY if getattr(old, n) != getattr(new, n)]
    if changed:
        fields = {f.name: f for f in parameter_fields()}
        keys = ", ".join(
            f"{fields[n].metadata['section']}.{fields[n].metadata['key']}" for n in changed
        )
        raise ValueError(
            f"cannot branch a checkpoint into a variant that changes {keys}: these are "
            "read only when the population is built; start a new run instead"
        )


__all__ = ["COLUMNS", "FLOAT_COLUMNS", "INITIAL_ONLY", "Checkpoint", "SetEvent", "Simulation"]
