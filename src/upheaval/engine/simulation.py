"""Simulation: one run of a scenario — its places in lockstep under one national state;
initialise, step, record, checkpoint."""

from __future__ import annotations

import dataclasses
import math
import os
import pickle
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from upheaval._version import __version__
from upheaval.core.codes import COP, DEAD
from upheaval.core.rng import seed_streams
from upheaval.model.kernels import compile_rules, step_for
from upheaval.model.mechanisms import MECHANISMS, owner_of_action
from upheaval.model.params import Params, parameters, validate_params
from upheaval.model.rules.forces import MAX_UNITS, unit_codes, units_on_duty_by
from upheaval.model.ticks import COLUMNS, FLOAT_COLUMNS, agents_in, tick_table
from upheaval.model.timeline import (
    ActionEvent,
    RampEvent,
    SetEvent,
    TimelineError,
    TimelineEvent,
    applies_to,
    check_country_timeline,
    check_timeline,
    first_tick,
    value_at,
)
from upheaval.scenario.country import Country, check_targets, place_params, place_timeline
from upheaval.scenario.schema import Scenario

from .memory import check_memory
from .place import COUNTRY_DYNAMIC, PLACE_DYNAMIC, Place, PlaceState, _copy_state

#: Checkpoint file format; bump when the state layout changes.
CHECKPOINT_FORMAT = "upheaval-checkpoint-6"


@dataclass
class Checkpoint:
    """The full state of a run at a tick: every place (arrays, random streams, rows),
    the national state and the timeline's progress.

    Restoring it and stepping gives bit-identical results to never having stopped.
    """

    scenario: Scenario
    tick: int
    places: list[PlaceState]
    dynamic: dict[str, float]
    state: dict[str, dict[str, Any]]
    ramp_origins: dict[tuple[RampEvent, str], float] = field(default_factory=dict)
    pending: dict[str, float] = field(default_factory=dict)

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
        except (AttributeError, ModuleNotFoundError, ImportError) as e:
            raise ValueError(
                f"{path}: a checkpoint of another upheaval version ({e}); this version "
                f"reads {CHECKPOINT_FORMAT!r}"
            ) from None
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
    """One run of a scenario: its places stepped in lockstep under one national state.

    >>> import upheaval
    >>> sim = upheaval.Simulation(upheaval.load("epstein2002-run2"), seed=1)
    >>> sim.step(10)
    >>> sim.tick
    10
    >>> sorted(sim.counts())[:3]
    ['active', 'active_blue', 'active_green']

    The national state: ``dynamic`` (the country-scoped time-varying parameters in
    force: ``max_jail_term``, ``lethal_probability``, the factions' loyalties,
    ``identity_solidarity``), ``state`` (each mechanism's national state, e.g. the
    regime's framing), the timeline and the tick. Each :class:`Place` holds its
    lattice, agents and rows (``sim.places``; ``sim.place`` when there is one).
    """

    def __init__(
        self,
        scenario: Scenario | Params,
        seed: int | np.random.SeedSequence | None = None,
        *,
        threads: int | None = None,
    ):
        if isinstance(scenario, Params):
            scenario = Scenario(params=scenario)
        if not isinstance(scenario, Scenario):
            raise TypeError(
                "Simulation needs a Scenario (e.g. upheaval.load('epstein2002-run2')) or "
                f"Params, got {type(scenario).__name__} {scenario!r}"
            )
        _check_whole("seed", seed, allow=(type(None), np.random.SeedSequence))
        if seed is not None and not isinstance(seed, np.random.SeedSequence):
            scenario = dataclasses.replace(
                scenario, params=validate_params(scenario.params.replace(seed=int(seed)))
            )
        t0 = time.perf_counter()
        self._prepare(scenario)
        # before anything large is allocated
        check_memory(
            self.params,
            scenario.source,
            tuple(p for _, _, p, _ in self._layout) if self.country is not None else (),
        )
        self.seed_sequence = (
            seed
            if isinstance(seed, np.random.SeedSequence)
            else np.random.SeedSequence(self.params.run.seed)
        )
        self.tick = 0
        self.dynamic = {n: float(self.params.value(n)) for n in COUNTRY_DYNAMIC}
        self.state = {m.name: m.initial_country_state(self.params) for m in MECHANISMS}
        self._ramp_origins = {}
        self._pending = {}
        if self.country is None:
            self.places = [
                Place.new("", self.params, self._timeline, seed_streams(self.seed_sequence), self)
            ]
        else:
            self.places = []
            for i, (name, region, params, timeline) in enumerate(self._layout):
                streams = seed_streams(place_seed(self.seed_sequence, i))
                place = Place.new(name, params, timeline, streams, self)
                place.region, place.index = region, i
                place.utc_offset = self.country.places[i].utc_offset
                self.places.append(place)
        self._pool = _thread_pool(threads, len(self.places))
        if self.params.run.burn_in > 0:
            self._map_places(lambda pl: pl.burn_in(self, self.params.run.burn_in))
        self.timings["init_s"] = time.perf_counter() - t0
        self._record()

    def _prepare(self, scenario: Scenario) -> None:
        """What the scenario implies, shared by a new run and a restored one."""
        self.scenario = scenario
        self.params = validate_params(scenario.params)
        #: the places and links (None: one lattice)
        self.country: Country | None = scenario.country
        self._timeline = tuple(sorted(scenario.timeline, key=first_tick))
        if self.country is None:
            for n, e in enumerate(scenario.timeline, start=1):
                if e.place or e.region:
                    raise TimelineError(n, "place", "a target needs a country (Scenario.country)")
                if (
                    isinstance(e, ActionEvent)
                    and owner_of_action(e.action).actions[e.action].needs_place
                ):
                    raise TimelineError(n, "action", f"{e.action!r} needs a country")
            check_timeline(self.params, scenario.timeline)
            check_country_timeline(self.params, scenario.timeline)
            self.distances = ((0.0,),)
            #: per place: (name, region, parameters, the timeline events acting there)
            self._layout = [("", "", self.params, self._timeline)]
        else:
            check_targets(self.country, self.params, scenario.timeline)
            #: shortest distances along the links between the places, km
            self.distances = tuple(tuple(row) for row in self.country.distances())
            self._layout = [
                (
                    spec.name,
                    spec.region,
                    validate_params(place_params(self.params, spec)),
                    place_timeline(spec, self._timeline),
                )
                for spec in self.country.places
            ]
        self._active = tuple(
            m for m in MECHANISMS if any(m.is_on(p, t) for _, _, p, t in self._layout)
        )
        self.timings = {"init_s": 0.0, "step_s": 0.0, "compile_s": 0.0, "compile_agent_steps": 0}
        self._derived: dict[Any, Any] = {}
        #: whether the forces by unit are recorded every tick (units_history)
        self._units_recorded = bool(unit_codes(self._timeline))

    # -- the places -------------------------------------------------------------------
    @property
    def place(self) -> Place:
        """The place of a one-place run."""
        if len(self.places) != 1:
            raise ValueError(f"this run has {len(self.places)} places; pick one of sim.places")
        return self.places[0]

    @property
    def timeline(self) -> tuple[TimelineEvent, ...]:
        """The timeline the run plays, in the order it acts."""
        return self._timeline

    def timeline_of(self, place: Place) -> tuple[TimelineEvent, ...]:
        """The events of the timeline that act in ``place``, in the order they act."""
        if self.country is None:
            return tuple(self._timeline)
        return self.derived(
            ("timeline_of", place.name),
            lambda: tuple(e for e in self._timeline if applies_to(e, place.name, place.region)),
        )

    def derived(self, key: Any, make: Callable[[], Any]) -> Any:
        """A value that follows from the scenario alone (a news kernel, a place's part
        of the timeline), made once per run by ``make`` and kept under ``key``; not
        checkpointed, since a restored run makes it again."""
        try:
            return self._derived[key]
        except KeyError:
            return self._derived.setdefault(key, make())

    # -- inspection -------------------------------------------------------------------
    @property
    def legitimacy(self) -> float:
        """The legitimacy in force (of the one place)."""
        return self.place.dynamic["legitimacy"]

    def counts(self) -> dict[str, Any]:
        """The last row (the state after the current tick), with totals over the
        groups: quiet, active, jailed, killed. In a country, counts are summed over the
        places and real values averaged over them, weighted by their citizens."""
        rows = [pl.row for pl in self.places]
        row: dict[str, Any] = {}
        for name in COLUMNS:
            if name in FLOAT_COLUMNS:
                weights = [
                    r.quiet_blue
                    + r.active_blue
                    + r.jailed_blue
                    + r.quiet_green
                    + r.active_green
                    + r.jailed_green
                    for r in rows
                ]
                total = sum(weights)
                values = [getattr(r, name) for r in rows]
                row[name] = (
                    sum(w * v for w, v in zip(weights, values, strict=True)) / total
                    if total and len(rows) > 1
                    else values[0]
                )
            elif name == "tick":
                row[name] = rows[0].tick
            else:
                row[name] = sum(getattr(r, name) for r in rows)
        row["quiet"] = row["quiet_blue"] + row["quiet_green"]
        row["active"] = row["active_blue"] + row["active_green"]
        row["jailed"] = row["jailed_blue"] + row["jailed_green"]
        row["killed"] = row["killed_blue"] + row["killed_green"]
        return row

    def nbytes(self) -> int:
        """Bytes held by the state arrays of every place."""
        return sum(pl.nbytes() for pl in self.places)

    def n_agents(self) -> int:
        return sum(pl.n_agents() for pl in self.places)

    # -- stepping ---------------------------------------------------------------------
    def step(self, n: int = 1) -> None:
        """Advance ``n`` ticks."""
        _check_whole("n", n)
        for _ in range(n):
            self.tick += 1
            self._apply_timeline()
            for m in self._active:
                m.before_country_tick(self)
            t0 = time.perf_counter()
            # Each place prepares, steps and records its row on the threads: the
            # Python of one place runs while another's kernel (nogil) steps, where a
            # serial loop before and after the step made two threads wait on it
            # (benchmarks/README.md, "A country"). So step_s includes the rows.
            stepped = self._map_places(lambda pl: pl.play(self))
            took = time.perf_counter() - t0
            # A tick that compiled a step kernel (or loaded it from numba's cache) is
            # counted apart, so that step_s (and speeds derived from it) is running time.
            if any(compiled for _, compiled in stepped):
                self.timings["compile_s"] += took
                # the agents that tick stepped (the row before this tick's): its speed
                # is not the kernel's
                self.timings["compile_agent_steps"] += sum(
                    agents_in(p.history[-2]) for p in self.places
                )
            else:
                self.timings["step_s"] += took
            for place in self.places:
                place.finish_tick(self)
            for m in self._active:
                m.after_country_tick(self)
            self._record_units()

    def run(
        self,
        steps: int | None = None,
        *,
        on_tick: Callable[[Simulation], None] | None = None,
    ) -> Simulation:
        """Advance ``steps`` ticks (default: the scenario's ``run.steps``)."""
        _check_whole("steps", steps, allow=(type(None),))
        steps = self.params.run.steps if steps is None else steps
        for _ in range(steps):
            self.step()
            if on_tick is not None:
                on_tick(self)
        return self

    def table(self):
        """The per-tick record as a pyarrow Table (``.to_pandas()``,
        ``polars.from_arrow``): one row a tick, or, in a country, one row a tick and
        place with a ``place`` column."""
        if len(self.places) == 1:
            return tick_table(self.place.history)
        rows = [r for pl in self.places for r in pl.history]
        names = [pl.name for pl in self.places for _ in range(len(pl.history))]
        return tick_table(rows, names)

    def links_table(self, *, first: int | None = None, last: int | None = None):
        """A country's links, one row a link and tick from tick 1 (``first``, ``last``:
        the ticks first … last only, both included): ``tick``, ``link``
        (its row in the links table, from 0), ``from``, ``to``, ``mode``,
        ``blocked`` (during that tick) and ``forces_on_link`` (cops travelling on it
        at the end of that tick's movement; only while the transport mechanism is
        on, else ``blocked`` is false and ``forces_on_link`` 0) and
        ``travellers_on_link`` (activists travelling on it then; 0 unless the travel
        mechanism is on)."""
        import pyarrow as pa

        if self.country is None:
            raise ValueError("a run of one lattice has no links")
        links = self.country.links
        st = self.state.get("transport") or {}
        history = st.get("links", ())
        on = st.get("on_links", ())
        travel = (self.state.get("travel") or {}).get("on_links", ())
        ticks = range(1, max(len(history), len(travel)) + 1)
        n = len(links)
        # a mechanism that is off leaves its columns at their quiet values
        history = history or ((False,) * n,) * len(ticks)
        on = on or ((0,) * n,) * len(ticks)
        travel = travel or ((0,) * n,) * len(ticks)
        lo = max(1, 1 if first is None else first)
        hi = min(len(ticks), len(ticks) if last is None else last)
        ticks = range(lo, max(lo, hi + 1))
        history, on, travel = (h[lo - 1 : hi] for h in (history, on, travel))
        return pa.table(
            {
                "tick": pa.array([t for t in ticks for _ in range(n)], pa.int64()),
                "link": pa.array([k for _ in ticks for k in range(n)], pa.int64()),
                "from": [link.a for _ in ticks for link in links],
                "to": [link.b for _ in ticks for link in links],
                "mode": [link.mode for _ in ticks for link in links],
                "blocked": pa.array([b for row in history for b in row], pa.bool_()),
                "forces_on_link": pa.array([f for row in on for f in row], pa.int64()),
                "travellers_on_link": pa.array([f for row in travel for f in row], pa.int64()),
            }
        )

    def units_table(self):
        """The security forces by unit now, after the current tick: one row a place
        and unit — the initial force (``unit`` "") and every named unit that has
        arrived by now, zeros included — with ``tick``, ``place`` (its name; "" for a
        run of one lattice), ``unit``, ``on_duty`` (its cops on the place's lattice),
        ``on_guard`` (its members guarding the place's key sites, docs/odd.md §12.4:
        ``site_guards`` less the outsiders, who belong to no unit) and ``in_transit``
        (its cops on their way to the place, §12.2). Summed over the places, a
        unit's three counts change only by its reinforcements, withdrawals, killings
        and defections. :meth:`units_history` has these rows for every tick."""
        return self._units_rows([(self.tick, *self._units_now())])

    @property
    def units_recorded(self) -> bool:
        """Whether the run records the forces by unit every tick (its timeline brings
        named units: :meth:`units_history`)."""
        return self._units_recorded

    def units_history(self, *, first: int | None = None, last: int | None = None):
        """:meth:`units_table` for every tick, from tick 0 (the initial state) to the
        current one, in tick order (then place, then unit): recorded only in a run
        whose timeline brings named units (a ``reinforce`` anywhere); a run without
        them records nothing, and its history is an empty table of the same
        columns. ``first``, ``last``: the ticks first … last only (both included).
        A checkpoint carries the history; a branch into a variant that brings the
        first named unit records from the tick it branched at."""
        history = (self.state.get("reinforcement") or {}).get("units", ())
        lo = -math.inf if first is None else first
        hi = math.inf if last is None else last
        return self._units_rows([h for h in history if lo <= h[0] <= hi])

    def _units_now(self) -> tuple[tuple[str, ...], np.ndarray]:
        """The unit names (the initial force "" first, then the units arrived by now
        in code order) and the forces by place and unit now: an int64 array places
        × units × (on_duty, on_guard, in_transit). Cheap enough to run every tick
        (:meth:`_record_units`): a few numpy calls a place."""
        from upheaval.model.rules.transport import convoy_units

        names, codes = self._units_by(self.tick)
        out = np.zeros((len(self.places), len(codes), 3), np.int64)
        for convoy in (self.state.get("transport") or {}).get("convoys", ()):
            for code, n in convoy_units(convoy[5]):
                out[convoy[1], codes.index(code), 2] += n
        width = MAX_UNITS + 1
        for k, pl in enumerate(self.places):
            a = pl.agents
            on = (a.kind == COP) & (a.status != DEAD)
            if a.unit.shape[0]:
                out[k, :, 0] = np.bincount(a.unit[on], minlength=width)[codes]
            else:  # without the unit array every cop is of the initial force
                out[k, 0, 0] = np.count_nonzero(on)
            # the place's own guards at its key sites (rules/sites.py: guards_by_unit;
            # outsiders belong to no unit)
            st = pl.state.get("sites")
            if st and st["posted"].shape[0]:
                out[k, :, 1] = np.bincount(st["posted"]["unit"], minlength=width)[codes]
        return names, out

    def _units_by(self, tick: int) -> tuple[tuple[str, ...], list[int]]:
        """The names and codes of the initial force and the units arrived by the end
        of ``tick`` (rules/forces.py: units_on_duty_by), made once a tick."""
        key = ("units_by", tick)
        if key not in self._derived:
            self._derived.pop(("units_by", tick - 1), None)

        def make() -> tuple[tuple[str, ...], list[int]]:
            by = {"": 0, **units_on_duty_by(self._timeline, tick)}
            return tuple(by), list(by.values())

        return self.derived(key, make)

    def _units_rows(self, ticks: list[tuple[int, tuple[str, ...], np.ndarray]]):
        """The units' table of ``ticks``, each (tick, unit names, counts)."""
        import pyarrow as pa

        names = [pl.name if self.country is not None else "" for pl in self.places]
        tick_col, place_col, unit_col = [], [], []
        for tick, units, c in ticks:
            tick_col.append(np.full(c.shape[0] * c.shape[1], tick, np.int64))
            place_col += [name for name in names for _ in units]
            unit_col += list(units) * len(names)
        c = np.concatenate([t[2].reshape(-1, 3) for t in ticks]) if ticks else np.zeros((0, 3))
        return pa.table(
            {
                "tick": pa.array(np.concatenate(tick_col) if ticks else [], pa.int64()),
                "place": pa.array(place_col, pa.string()),
                "unit": pa.array(unit_col, pa.string()),
                "on_duty": pa.array(c[:, 0], pa.int64()),
                "on_guard": pa.array(c[:, 1], pa.int64()),
                "in_transit": pa.array(c[:, 2], pa.int64()),
            }
        )

    def _record_units(self) -> None:
        """Add this tick's forces by place and unit to the units' history, in a run
        whose timeline brings named units (:meth:`units_history`)."""
        if self._units_recorded:
            st = self.state["reinforcement"]
            # a checkpoint written before the history existed holds none: it starts here
            st["units"] = (*st.get("units", ()), (self.tick, *self._units_now()))

    # -- internals --------------------------------------------------------------------
    def _map_places(self, play: Callable[[Place], Any]) -> list[Any]:
        # places are independent within a tick (each its own arrays and streams):
        # playing them at once, in any order, gives the same results
        if self._pool is None:
            return [play(place) for place in self.places]
        places = self.places
        results: list[Any] = [None] * len(places)
        # One task a thread, each taking the next place off one shared iterator
        # (whose next() is atomic under the GIL), biggest first so that the threads
        # end together: a future a place cost more of the GIL than a small place's
        # step at 1:100 (benchmarks/README.md, "A country").
        queue = iter(sorted(range(len(places)), key=lambda i: -places[i].agents.kind.shape[0]))

        def work() -> None:
            for i in queue:
                results[i] = play(places[i])

        for task in [self._pool.submit(work) for _ in range(self._pool._max_workers)]:
            task.result()
        return results

    def _record(self) -> None:
        for place in self.places:
            place.record(self.tick, self)
        self._record_units()

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
            if e.param in COUNTRY_DYNAMIC:
                self._play(e, "", self.dynamic[e.param], self._set_country_dynamic)
            else:
                for place in self.places:
                    if applies_to(e, place.name, place.region):
                        self._play(e, place.name, place.dynamic[e.param], place.set_dynamic)

    def _play(
        self,
        e: SetEvent | RampEvent,
        where: str,
        current: float,
        setter: Callable[[str, float], None],
    ) -> None:
        """One set or ramp at this tick, for one place or the country."""
        if isinstance(e, RampEvent) and self.tick == e.start:
            self._ramp_origins[(e, where)] = current
        before = self._ramp_origins.get((e, where), current)
        v = value_at(e, self.tick, before)
        if v is not None:
            setter(e.param, v)

    def _set_country_dynamic(self, name: str, value: float) -> None:
        if name == "max_jail_term" and math.isfinite(value):
            value = float(round(value))  # a ramp passes through whole terms only
        self.dynamic[name] = float(value)

    def _set_dynamic(self, name: str, value: float) -> None:
        if name in COUNTRY_DYNAMIC:
            self._set_country_dynamic(name, value)
        else:
            for place in self.places:
                place.set_dynamic(name, value)

    def _act(self, e: ActionEvent) -> None:
        """Apply a timeline action at the start of its tick (its mechanism's ``act``)."""
        owner = owner_of_action(e.action)
        for place in self.places:
            if applies_to(e, place.name, place.region):
                owner.act(e, place, self)

    # -- checkpoints ------------------------------------------------------------------
    def checkpoint(self) -> Checkpoint:
        """A deep copy of the full state, random streams included."""
        return Checkpoint(
            scenario=self.scenario,
            tick=self.tick,
            places=[pl.save() for pl in self.places],
            dynamic=dict(self.dynamic),
            state=_copy_state(self.state),
            ramp_origins=dict(self._ramp_origins),
            pending=dict(self._pending),
        )

    @classmethod
    def restore(
        cls, cp: Checkpoint, scenario: Scenario | None = None, *, threads: int | None = None
    ) -> Simulation:
        """A simulation continuing from ``cp``; pass ``scenario`` to branch into a variant
        (its parameters and timeline apply from the next tick on)."""
        sim = cls.__new__(cls)
        sim._prepare(scenario if scenario is not None else cp.scenario)
        _check_branch(cp.scenario.params, sim.params)
        if [s.name for s in cp.places] != [name for name, _, _, _ in sim._layout]:
            raise ValueError(
                "cannot branch a checkpoint into a scenario with other places: "
                f"{[s.name for s in cp.places]} vs {[n for n, _, _, _ in sim._layout]}"
            )
        if cp.scenario.country != sim.country:
            # a place's overrides are read like its parameters: initial values must agree
            for before, (_, _, after, _) in zip(
                _place_params(cp.scenario), sim._layout, strict=True
            ):
                _check_branch(before, after)
        _check_units(cp, sim)
        _check_travellers(cp, sim)
        sim.seed_sequence = np.random.SeedSequence(sim.params.run.seed)
        sim.tick = cp.tick
        sim.dynamic = dict(cp.dynamic)
        sim.state = {m.name: m.initial_country_state(sim.params) for m in MECHANISMS}
        sim.state.update(_copy_state(cp.state))
        sim._ramp_origins = dict(cp.ramp_origins)
        sim.places = []
        for i, (saved, (_, region, params, timeline)) in enumerate(
            zip(cp.places, sim._layout, strict=True)
        ):
            place = Place.resume(saved, params, timeline, sim)
            place.region, place.index = region, i
            if sim.country is not None:
                place.utc_offset = sim.country.places[i].utc_offset
            sim.places.append(place)
        sim._pool = _thread_pool(threads, len(sim.places))
        # A variant's own values of the time-varying parameters take over at the next
        # tick (before that tick's timeline events); unchanged ones carry on.
        old = cp.scenario.params
        sim._pending = dict(cp.pending)
        sim._pending.update(
            {
                name: float(sim.params.value(name))
                for name in (*PLACE_DYNAMIC, *COUNTRY_DYNAMIC)
                if sim.params.value(name) != old.value(name)
            }
        )
        return sim


def _check_units(cp: Checkpoint, sim: Simulation) -> None:
    """Refuse a variant whose past gives the units on duty other codes: their cops
    would carry another unit's mode and origin. Codes are the country's, one for a
    unit in every place (rules/forces.py, unit codes)."""
    had = units_on_duty_by(cp.scenario.timeline, cp.tick)
    has = units_on_duty_by(sim.scenario.timeline, cp.tick)
    if had != has:
        raise ValueError(
            f"cannot branch a checkpoint at tick {cp.tick} into a variant whose "
            "timeline numbers the units already on duty otherwise: "
            f"{had} before, {has} in the variant; keep the variant's reinforcements "
            "up to that tick as they were"
        )


def _check_travellers(cp: Checkpoint, sim: Simulation) -> None:
    """Refuse a variant that stops travel while activists are on their way: nobody
    would move them again, and they would be lost to every place (rules/travel.py)."""
    on_the_way = len((cp.state.get("travel") or {}).get("travellers", ()))
    if on_the_way and not sim.params.travel.enabled:
        raise ValueError(
            f"cannot branch a checkpoint at tick {cp.tick} into a variant with "
            f"travel.enabled = false: {on_the_way} travellers are on their way; keep "
            "travel on (travel.leave_probability = 0 stops new departures)"
        )


def _thread_pool(threads: int | None, places: int) -> ThreadPoolExecutor | None:
    """Threads to step a country's places on: ``threads`` (None: one a core, at
    most one a place); none for one place or one thread."""
    if threads is not None:
        _check_whole("threads", threads)
        if threads < 1:
            raise ValueError(f"threads must be ≥ 1, got {threads}")
    n = min(threads if threads is not None else os.cpu_count() or 1, places)
    return ThreadPoolExecutor(max_workers=n, thread_name_prefix="place") if n > 1 else None


def place_seed(root: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """The seed of a country's place ``index``: a child of the run's SeedSequence by
    place (spawn key ``(…, index)``), so each place has its own streams whatever the
    order or number of threads the places are stepped on."""
    return np.random.SeedSequence(
        root.entropy, spawn_key=(*root.spawn_key, index), pool_size=root.pool_size
    )


def step_kernels(scenario: Scenario) -> list[Any]:
    """The step kernels a run of ``scenario`` calls, one per kind of place among its
    places (model/kernels.step_for), without building anything large."""
    probe = Simulation.__new__(Simulation)
    probe._prepare(scenario)
    kernels: list[Any] = []
    for _, _, params, timeline in probe._layout:
        kernel = step_for(compile_rules(params, timeline))
        if kernel not in kernels:
            kernels.append(kernel)
    return kernels


def _place_params(scenario: Scenario) -> list[Params]:
    if scenario.country is None:
        return [scenario.params]
    return [place_params(scenario.params, s) for s in scenario.country.places]


def _check_branch(old: Params, new: Params) -> None:
    """Refuse a variant that changes what only the initial population reads: those
    values are drawn or laid out at tick 0 and a branch would silently ignore them."""
    changed = [
        p.location
        for p in parameters()
        if p.initial_only and old.value(p.name) != new.value(p.name)
    ]
    if changed:
        raise ValueError(
            f"cannot branch a checkpoint into a variant that changes {', '.join(changed)}: "
            "these are read only when the population is built; start a new run instead"
        )


__all__ = ["Checkpoint", "Simulation", "place_seed", "step_kernels"]
