"""Place: one lattice with its people and forces, stepped by the compiled kernels.

A place holds everything local: the lattice and its agents, the free-slot heap, its
random streams, the kernels' records (``rules``, read-only; ``signals``, the
per-tick exchange), the values in force of its place-scoped time-varying parameters
(``dynamic``: ``legitimacy``, ``cop_density``), each mechanism's local state
(``state[name]``) and its rows, one :class:`~upheaval.model.ticks.TickRow` a tick.
:class:`~upheaval.engine.simulation.Simulation` drives one place or many in lockstep
and holds what is national.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from upheaval.core.codes import CITIZEN, COP, DEAD
from upheaval.model.kernels import (
    compile_rules,
    free_citizens,
    make_signals,
    order_length,
    removes_agents,
    step_for,
    tally,
)
from upheaval.model.mechanisms import MECHANISMS
from upheaval.model.params import Params, parameters
from upheaval.model.rules.forces import add_cops, remove_cops
from upheaval.model.slots import free_heap, grow_heap
from upheaval.model.state import (
    EVENTS,
    Agents,
    agents_nbytes,
    grow_agents,
    interleaved,
    with_extras,
)
from upheaval.model.ticks import History, TickRow
from upheaval.world.grid import Lattice, copy_lattice, lattice_nbytes

from .population import populate

if TYPE_CHECKING:
    from upheaval.engine.simulation import Simulation
    from upheaval.model.timeline import TimelineEvent

#: Time-varying parameters each place holds its own value of (scope ``place``).
PLACE_DYNAMIC = tuple(p.name for p in parameters() if p.timeline and p.scope == "place")
# Parts of a row (Place._row_parts).
_VALUES, _COUNTS, _ZEROS = 0, 1, 2

#: Time-varying parameters the country holds one value of (scope ``country``).
COUNTRY_DYNAMIC = tuple(p.name for p in parameters() if p.timeline and p.scope == "country")


@dataclass
class PlaceState:
    """A place's full state at a tick (arrays copied): what a checkpoint holds of it."""

    name: str
    lattice: Lattice
    agents: Agents
    streams: dict[str, np.ndarray]
    free_slots: np.ndarray
    free_meta: np.ndarray
    dynamic: dict[str, float]
    state: dict[str, dict[str, Any]]
    history: History = field(default_factory=History)


def _copy_state(state: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in values.items()}
        for name, values in state.items()
    }


def agent_arrays(p: Params, timeline: tuple[TimelineEvent, ...]) -> tuple[str, ...]:
    """The optional agent arrays the mechanisms need in a run, in registry order."""
    return tuple(name for m in MECHANISMS for name in m.agent_arrays(p, timeline))


class Place:
    """One place of a run (module docstring). Built by the simulation: :meth:`new`
    draws a fresh population, :meth:`resume` continues from a :class:`PlaceState`."""

    def __init__(
        self,
        name: str,
        params: Params,
        timeline: tuple[TimelineEvent, ...],
        streams: dict[str, np.ndarray],
        country: Simulation,
    ):
        # What the parameters and timeline imply; no state yet.
        self.name = name
        #: the region of a country's place and its position among the places (set by
        #: the simulation)
        self.region = ""
        self.index = 0
        #: hours east of UTC of the place's local clock (a country's places table)
        self.utc_offset = 0.0
        self.params = params
        #: the timeline the place's rules were compiled from: in a country, its part of
        #: the timeline, whose ``country`` is the whole (the units' codes, guards …)
        self.timeline = timeline
        self.country = country
        self.streams = streams
        self.rules = compile_rules(params, timeline)
        #: the step kernel compiled for this place's flags (model/kernels.step_for)
        self.step_kernel = step_for(self.rules)
        self.signals = make_signals(params, timeline)
        #: the mechanisms acting in this run, whose per-tick hooks run (registry order)
        self.active = tuple(m for m in MECHANISMS if m.is_on(params, timeline))
        self._counted = tuple(
            getattr(self.signals, f"{m.name}_counts") for m in self.active if m.counters
        )
        # What each mechanism adds to a row, in column order: its values (asked for
        # every tick), then its counters (read if it is on, else zeros).
        parts: list[tuple[int, Any]] = []
        for m in MECHANISMS:
            if m.values:
                parts.append((_VALUES, m))
            if m.counters:
                if m in self.active:
                    parts.append((_COUNTS, getattr(self.signals, f"{m.name}_counts")))
                else:
                    parts.append((_ZEROS, (0,) * len(m.counters)))
        self._row_parts = tuple(parts)
        self._removes = removes_agents(params, timeline)
        self._arrays = agent_arrays(params, timeline)
        self.events = np.zeros(len(EVENTS), np.int64)
        self.history = History()

    # -- building ---------------------------------------------------------------------
    @classmethod
    def new(
        cls,
        name: str,
        params: Params,
        timeline: tuple[TimelineEvent, ...],
        streams: dict[str, np.ndarray],
        country: Simulation,
    ) -> Place:
        """A place with its population drawn afresh (``init`` stream: the population,
        then each mechanism's initial draws in registry order)."""
        place = cls(name, params, timeline, streams, country)
        place.lattice, agents, used = populate(params, streams["init"])
        place.agents = with_extras(agents, place._arrays)
        place.dynamic = {n: float(params.value(n)) for n in PLACE_DYNAMIC}
        place.state = {m.name: m.initial_state(params) for m in MECHANISMS}
        for m in MECHANISMS:
            m.initialise(place, country)
        cap = place.agents.kind.shape[0]
        place.free_slots, place.free_meta = free_heap(cap, used, full=place._removes)
        place.order = place._new_order(cap)
        return place

    @classmethod
    def resume(
        cls,
        saved: PlaceState,
        params: Params,
        timeline: tuple[TimelineEvent, ...],
        country: Simulation,
    ) -> Place:
        """A place continuing from ``saved``, under ``params`` and ``timeline`` (a
        variant's, when branching: arrays a mechanism it turns on needs are added and
        given their values at the branch)."""
        streams = {k: v.copy() for k, v in saved.streams.items()}
        place = cls(saved.name, params, timeline, streams, country)
        place.lattice = copy_lattice(saved.lattice)
        place.agents = interleaved(saved.agents)
        place.free_slots = saved.free_slots.copy()
        place.free_meta = saved.free_meta.copy()
        place.dynamic = dict(saved.dynamic)
        place.state = {m.name: m.initial_state(params) for m in MECHANISMS}
        place.state.update(_copy_state(saved.state))
        # a checkpoint written before histories were packed holds a list of rows
        place.history = (
            History(saved.history) if isinstance(saved.history, list) else (saved.history.copy())
        )
        place.order = place._new_order(place.agents.kind.shape[0])
        fresh = tuple(n for n in place._arrays if getattr(place.agents, n).shape[0] == 0)
        place.agents = with_extras(place.agents, place._arrays)
        for m in MECHANISMS:
            added = tuple(n for n in m.agent_arrays(params, timeline) if n in fresh)
            if added:
                m.arrays_added(place, added)
        if place._removes:
            place.heap_room(place.agents.kind.shape[0] - int(place.free_meta[0]))
        return place

    def save(self) -> PlaceState:
        """A deep copy of the place's state."""
        return PlaceState(
            name=self.name,
            lattice=copy_lattice(self.lattice),
            agents=Agents(*(x.copy() for x in self.agents)),
            streams={k: v.copy() for k, v in self.streams.items()},
            free_slots=self.free_slots.copy(),
            free_meta=self.free_meta.copy(),
            dynamic=dict(self.dynamic),
            state=_copy_state(self.state),
            history=self.history.copy(),
        )

    # -- values in force ----------------------------------------------------------------
    def now(self, name: str) -> float:
        """The value in force of a time-varying parameter (this place's own, or the
        country's)."""
        if name in self.dynamic:
            return self.dynamic[name]
        return self.country.dynamic[name]

    def set_dynamic(self, name: str, value: float) -> None:
        """Set a place-scoped time-varying parameter (timeline): cops are added or
        withdrawn to match ``cop_density``; mechanisms follow (``on_set``)."""
        if name == "cop_density":
            n_sites = self.params.n_sites
            wanted = int(round(value * n_sites))
            cops = self.set_cop_count(wanted)
            if cops != wanted:
                value = cops / n_sites  # the lattice had too few empty sites
        old = self.dynamic[name]
        for m in MECHANISMS:
            value = m.on_set(self, name, old, value)
        self.dynamic[name] = float(value)

    @property
    def row(self) -> TickRow:
        """The last recorded row (the state after the last tick)."""
        return self.history[-1]

    def area(self, area: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
        """An action's area, or the whole lattice."""
        if area is not None:
            return area
        return (0, 0, self.params.world.width - 1, self.params.world.height - 1)

    # -- stepping ---------------------------------------------------------------------
    def prepare_tick(self, country: Simulation) -> None:
        """Before the step: room for Model II's births, counters zeroed, and the
        mechanisms' signals for the tick."""
        self._make_room()
        for m in self.active:
            m.before_tick(self, country)

    def _make_room(self) -> None:
        if self.rules.model2:
            self.reserve(int(free_citizens(self.agents)))
        for counts in self._counted:
            counts[:] = 0

    def burn_in(self, country: Simulation, ticks: int) -> None:
        """Play ``ticks`` unrecorded ticks on the lattice alone (``run.burn_in``): the
        kernel's rules and signals as they stand at tick 0, no timeline and no
        mechanism hooks; afterwards the tick's counters are zero again."""
        for _ in range(ticks):
            self._make_room()
            self.step(country)
        self._make_room()
        self.events[:] = 0

    def step(self, country: Simulation) -> tuple[float, bool]:
        """Play one tick on the lattice; returns (seconds, whether the call compiled
        or loaded the kernel)."""
        step = self.step_kernel
        compiled = len(step.overloads)
        t0 = time.perf_counter()
        step(
            self.lattice,
            self.agents,
            self.rules,
            self.signals,
            self.streams["dynamics"],
            self.dynamic["legitimacy"],
            country.dynamic["max_jail_term"],
            self.order,
            self.free_slots,
            self.free_meta,
            self.events,
        )
        return time.perf_counter() - t0, len(step.overloads) > compiled

    def play(self, country: Simulation) -> tuple[float, bool]:
        """A tick of this place: :meth:`prepare_tick`, :meth:`step`, :meth:`record`;
        returns :meth:`step`'s. A country's places play it at once on the
        simulation's threads: each reads only its own state and the national state,
        which no place writes meanwhile (docs of the mechanisms' hooks,
        model/declare.py), so the results do not depend on the threads."""
        self.prepare_tick(country)
        stepped = self.step(country)
        self.record(country.tick, country)
        return stepped

    def record(self, tick: int, country: Simulation) -> TickRow:
        """Append the row of the state after ``tick`` (and the tick's counters)."""
        values: list[Any] = [tick, *tally(self.agents).tolist(), *self.events.tolist()]
        for kind, part in self._row_parts:
            if kind == _VALUES:
                values.extend(part.row_values(self, country))
            elif kind == _COUNTS:
                values.extend(part.tolist())
            else:
                values.extend(part)
        row = TickRow(*values)
        self.history.append(row)
        return row

    def finish_tick(self, country: Simulation) -> None:
        """After the row: the mechanisms' feedbacks for the next tick."""
        for m in self.active:
            m.after_tick(self, country)

    # -- forces and capacity ----------------------------------------------------------
    def cops_on_duty(self) -> int:
        a = self.agents
        return int(np.count_nonzero((a.kind == COP) & (a.status != DEAD)))

    def set_cop_count(self, target: int) -> int:
        """Add or withdraw cops to reach ``target``; returns the cops on duty after."""
        a = self.agents
        current = int(np.count_nonzero((a.kind == COP) & (a.status != DEAD)))
        rng = self.streams["events"]
        if target > current:
            self.reserve(target - current)
            added = add_cops(
                self.lattice,
                self.agents,
                target - current,
                self.rules,
                rng,
                self.free_slots,
                self.free_meta,
            )
            return current + int(added)
        if target < current:
            self.heap_room(current - target)
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

    def heap_room(self, n: int) -> None:
        """Make room on the free-slot heap for ``n`` more slots."""
        need = int(self.free_meta[0]) + n
        if self.free_slots.shape[0] < need:
            heap = np.zeros(max(need, self.agents.kind.shape[0]), np.int32)
            heap[: self.free_slots.shape[0]] = self.free_slots
            self.free_slots = heap

    def reserve(self, n: int) -> None:
        """Make sure at least ``n`` slots are free, growing the arrays if needed."""
        free = int(self.free_meta[0])
        if free >= n:
            return
        old = self.agents.kind.shape[0]
        new = max(old + (n - free), int(math.ceil(old * 1.5)))
        self.agents = grow_agents(self.agents, new)
        self.free_slots = grow_heap(self.free_slots, self.free_meta, old, new)
        self.order = self._new_order(new)

    def _new_order(self, capacity: int) -> np.ndarray:
        """The step's scratch: a slot each, and the tiled activation's tables."""
        w = self.params.world
        return np.zeros(order_length(capacity, w.width, w.height, w.activation_tile), np.int32)

    # -- inspection -------------------------------------------------------------------
    def n_agents(self) -> int:
        return int(np.count_nonzero(self.agents.status != DEAD))

    def n_citizens(self) -> int:
        a = self.agents
        return int(np.count_nonzero((a.kind == CITIZEN) & (a.status != DEAD)))

    def nbytes(self) -> int:
        """Bytes held by the state arrays (agents, lattice, scratch buffers)."""
        return (
            agents_nbytes(self.agents)
            + lattice_nbytes(self.lattice)
            + self.order.nbytes
            + self.free_slots.nbytes
        )
