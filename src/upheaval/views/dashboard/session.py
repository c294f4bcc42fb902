"""One page's run: a simulation (and its what-if variant) stepped in a worker thread.

The page sends commands (start, run, pause, step, reset, speed, draw every N, branch,
close) and the worker sends back frames. A frame is one binary message::

    uint32 LE   n, the length of the JSON header
    n bytes     the header (UTF-8 JSON)
    ...         the lattices, one byte a site, at the offsets the header gives

The header: ``tick``; ``variants``, one per simulation shown side by side (``A``,
then ``B`` after a branch), each with ``rows`` (every tick since the last frame, as
lists in the order of :data:`~upheaval.model.ticks.COLUMNS`, so the chart misses no
tick whatever "draw every N" is; a country's rows are the nation's,
:func:`~upheaval.model.ticks.national_rows`) and ``places`` — a list of places, each
with its name, size, counts (quiet, active, jailed, cops, ``links_blocked``,
``forces_in_transit``, whether past its onset, ``units``: ``[[name, members],
…]`` of the named units with members there, on duty or on guard, in a run that
records them) and, for the place being shown (the
``place`` command; a country's first place at the start), ``lattice``: ``[offset,
length]`` of its palette indices (:mod:`.frames`). A one-place run has one place; a
country lists all of them (the page's map draws them), and ``links``: per link of
the country, ``[forces on it, activists travelling on it]`` at the tick (empty when
neither travels). The ``started`` message gives
a country's places (name, region, lat, lon, population) and links (from, to, mode).
``server_ms`` gives the server's time for the frame: the ticks stepped since the last
frame and the frame built.

Flow control: the page acknowledges each frame once drawn, and the worker keeps at
most :data:`FRAMES_IN_FLIGHT` unacknowledged, so a slow page slows its own run and
never fills the server's memory. The worker is a thread: the compiled tick holds
Python's GIL while it runs, so pages share the CPU a tick at a time (a tick of the
largest lattice the cap allows takes tens of milliseconds), and no page waits for
another's run to finish.
"""

from __future__ import annotations

import json
import logging
import queue
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from upheaval.engine.simulation import Simulation
from upheaval.model.ticks import COLUMNS, FLOAT_COLUMNS, national_rows
from upheaval.scenario.loading import ScenarioError
from upheaval.scenario.schema import Scenario

from .form import WHERE, Limits, scenario_from_form
from .frames import lattice_indices, legend

_log = logging.getLogger("upheaval.dashboard")

#: Frames sent and not yet acknowledged by the page, at most.
FRAMES_IN_FLIGHT = 2

Send = Callable[[bytes | dict[str, Any]], None]


class RunSlots:
    """The server's count of runs going at once, capped at ``limit``."""

    def __init__(self, limit: int):
        self.limit = limit
        self.taken = 0
        self._lock = threading.Lock()

    def claim(self) -> bool:
        with self._lock:
            if self.taken >= self.limit:
                return False
            self.taken += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.taken = max(0, self.taken - 1)


@dataclass
class _Variant:
    name: str
    sim: Simulation
    sent: int = 0  # rows of its history already sent
    onset: set[str] = field(default_factory=set)  # places past their onset so far


@dataclass
class _State:
    running: bool = False
    ticks_per_second: float = 0.0  # 0: as fast as the page draws
    draw_every: int = 1
    place: str = ""  # the place whose lattice frames carry
    variants: list[_Variant] = field(default_factory=list)


def _timeline_marks(sc: Scenario) -> list[dict[str, Any]]:
    from upheaval.model.timeline import ActionEvent, RampEvent, SetEvent

    marks = []
    for e in sc.timeline:
        if isinstance(e, SetEvent):
            marks.append({"tick": e.tick, "label": f"{e.param} = {e.value:g}"})
        elif isinstance(e, RampEvent):
            marks.append(
                {"tick": e.start, "end": e.end, "label": f"{e.param} → {e.value:g} (ramp)"}
            )
        elif isinstance(e, ActionEvent):
            marks.append({"tick": e.tick, "label": e.action})
    return marks


def _places(sim: Simulation) -> list[dict[str, Any]]:
    """The places of a run for the map and the picker: name, region, lat, lon,
    population (a one-place run: its name, with no position)."""
    if sim.country is None:
        return [{"name": p.name} for p in sim.places]
    return [
        {
            "name": s.name,
            "region": s.region,
            "lat": s.lat,
            "lon": s.lon,
            "population": s.population,
        }
        for s in sim.country.places
    ]


def _units_here(sim: Simulation) -> dict[str, list[list[Any]]]:
    """Place → [[unit, members there (on duty + on guard)], …] of the named units
    with members there now, in a run that records them (Simulation.units_history)."""
    if not sim.units_recorded:
        return {}
    out: dict[str, list[list[Any]]] = {}
    for r in sim.units_history(first=sim.tick).to_pylist():
        n = r["on_duty"] + r["on_guard"]
        if r["unit"] and n:
            out.setdefault(r["place"], []).append([r["unit"], n])
    return out


def _links_now(sim: Simulation) -> list[list[int]]:
    """Per link, [forces on it, activists travelling on it] at the current tick;
    empty for one lattice, or a country where neither travels."""
    p = sim.params
    if sim.country is None or not (p.transport.enabled or p.travel.enabled) or sim.tick < 1:
        return []
    now = sim.links_table(first=sim.tick, last=sim.tick)
    return [
        [int(f), int(t)]
        for f, t in zip(
            now.column("forces_on_link").to_pylist(),
            now.column("travellers_on_link").to_pylist(),
            strict=True,
        )
    ]


def _links(sim: Simulation) -> list[dict[str, Any]]:
    """A country's links (from, to, mode), for the map."""
    if sim.country is None:
        return []
    return [{"from": k.a, "to": k.b, "mode": k.mode} for k in sim.country.links]


def _past_onset(row: Any) -> bool:
    """Whether a place's row has at least :data:`~upheaval.results.places.ONSET_SHARE`
    of its citizens active (its onset, as ``upheaval map`` marks it)."""
    from upheaval.results.places import ONSET_SHARE

    citizens = sum(
        getattr(row, f"{s}_{g}") for s in ("quiet", "active", "jailed") for g in ("blue", "green")
    )
    return citizens > 0 and (row.active_blue + row.active_green) >= ONSET_SHARE * citizens


def _new_rows(sim: Simulation, sent: int) -> tuple[list[list[Any]], int]:
    """The rows of a run's ticks after the first ``sent`` (as lists in the order of
    :data:`~upheaval.model.ticks.COLUMNS`) and the ticks recorded: a place's own
    rows, or a country's national rows (:func:`~upheaval.model.ticks.national_rows`,
    the sum :func:`~upheaval.model.ticks.national` makes of a table)."""
    if sim.country is None:
        history = sim.places[0].history
        return [list(r) for r in history[sent:]], len(history)
    n = min(len(p.history) for p in sim.places)
    rows = [r for p in sim.places for r in p.history[sent:n]]
    return [list(r) for r in national_rows(rows)], n


def encode_frame(header: dict[str, Any], blobs: list[bytes]) -> bytes:
    """One frame message (module docstring): header length, header, lattices."""
    head = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<I", len(head)) + head + b"".join(blobs)


class RunSession:
    """One page's run (module docstring). ``send`` is called from the worker thread
    with a frame (bytes) or a message (dict); it must not block."""

    def __init__(self, limits: Limits, send: Send, slots: RunSlots):
        self.limits = limits
        self._send = send
        self._slots = slots
        self.holds_slot = False
        self._commands: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._acks = threading.Condition()
        self._in_flight = 0
        self._closed = threading.Event()
        self.state = _State()
        self._step_s = 0.0  # seconds stepped since the last frame
        self.scenario: Scenario | None = None
        self.seed = 0
        self._thread = threading.Thread(target=self._loop, name="upheaval-run", daemon=True)
        self._thread.start()

    # -- from the server's event loop ---------------------------------------------------
    def command(self, op: str, arg: Any = None) -> None:
        """Queue a command for the worker."""
        if op == "ack":
            with self._acks:
                self._in_flight = max(0, self._in_flight - 1)
                self._acks.notify_all()
            return
        self._commands.put((op, arg))

    def close(self) -> None:
        """Stop the run (the page went away); the worker ends at its next tick."""
        self._closed.set()
        self._commands.put(("close", None))
        with self._acks:
            self._acks.notify_all()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def model2(self) -> bool:
        """Whether the run is Epstein's Model II (its figure draws the two groups)."""
        return self.scenario is not None and self.scenario.params.model.variant == "II"

    def table(self, variant: int = 0):
        """The tick table of a variant so far (for a download)."""
        v = self.state.variants
        if not v or variant >= len(v):
            return None
        sim = v[variant].sim
        # History is only appended to; a copy of each list is a consistent prefix.
        from upheaval.model.ticks import tick_table

        histories = [list(p.history) for p in sim.places]
        if sim.country is None:
            return tick_table(histories[0])
        n = min(len(h) for h in histories)  # the ticks every place has recorded
        rows = [r for h in histories for r in h[:n]]
        names = [p.name for p in sim.places for _ in range(n)]
        return tick_table(rows, names)

    # -- the worker --------------------------------------------------------------------
    def _loop(self) -> None:
        try:
            while not self._closed.is_set():
                st = self.state
                try:
                    try:
                        op, arg = self._commands.get(block=not st.running)
                    except queue.Empty:
                        self._advance()
                        continue
                    self._handle(op, arg)
                except Exception as e:  # a bug reaches the page; the page may go on
                    _log.exception("dashboard run failed")
                    st.running = False
                    self._send({"type": "error", "key": "", "message": f"internal error: {e!r}"})
                    self._status()
        finally:
            self.state.variants = []
            if self.holds_slot:
                self.holds_slot = False
                self._slots.release()

    def _handle(self, op: str, arg: Any) -> None:
        st = self.state
        if op == "close":
            return
        if op == "start":
            self._start(arg)
        elif op == "run":
            if self._ready():
                st.running = True
                self._status()
        elif op == "pause":
            st.running = False
            self._status()
        elif op == "step":
            if self._ready():
                st.running = False
                n = arg if isinstance(arg, int) and not isinstance(arg, bool) and arg > 0 else 1
                self._advance(n, force_frame=True)
        elif op == "reset":
            if self.scenario is not None:
                st.running = False
                self._new_run(self.scenario, self.seed)
        elif op == "speed":
            if isinstance(arg, int | float) and not isinstance(arg, bool) and arg >= 0:
                st.ticks_per_second = float(arg)
        elif op == "draw_every":
            if isinstance(arg, int) and not isinstance(arg, bool) and arg >= 1:
                st.draw_every = arg
        elif op == "branch":
            self._branch(arg)
        elif op == "unbranch":
            del st.variants[1:]
            self._status()
        elif op == "place":
            if isinstance(arg, str):
                st.place = arg
                if st.variants and not st.running:
                    self._frame()  # paused: show the place's lattice now
        else:
            self._send({"type": "error", "key": "", "message": f"unknown command {op!r}"})

    def _ready(self) -> bool:
        if not self.state.variants:
            self._send({"type": "error", "key": "", "message": "start a run first"})
            return False
        return True

    def _error(self, e: Exception) -> None:
        if isinstance(e, ScenarioError):
            self._send({"type": "error", "key": e.key, "message": e.reason, "where": e.where})
        else:
            self._send({"type": "error", "key": "", "message": str(e)})

    def _read(self, form: Any) -> tuple[Scenario, int] | None:
        try:
            sc = scenario_from_form(form)
            self.limits.check_scenario(sc)
        except ScenarioError as e:
            self._error(e)
            return None
        return sc, sc.params.run.seed

    def _start(self, form: Any) -> None:
        read = self._read(form)
        if read is None:
            return
        if not self.holds_slot:
            if not self._slots.claim():
                self._send(
                    {
                        "type": "error",
                        "key": "",
                        "message": f"the server is running its cap of {self.limits.max_runs} "
                        "runs at once (upheaval serve --max-runs); close a page or wait",
                    }
                )
                return
            self.holds_slot = True
        self.state.running = False
        self._new_run(*read)

    def _new_run(self, sc: Scenario, seed: int) -> None:
        self.scenario, self.seed = sc, seed
        try:
            sim = Simulation(sc, seed=seed)
        except (ValueError, MemoryError) as e:
            self._error(e)
            return
        self.state.variants = [_Variant("A", sim)]
        if self.state.place not in {p.name for p in sim.places}:
            self.state.place = sim.places[0].name
        from upheaval.model.rules.forces import unit_codes

        self._send(
            {
                "type": "started",
                "scenario": sc.name,
                "seed": seed,
                "steps": sc.params.run.steps,
                "columns": list(COLUMNS),
                "float_columns": list(FLOAT_COLUMNS),
                "timeline": _timeline_marks(sc),
                "legend": legend(sim.places[0], unit_codes(sc.timeline)),
                "places": _places(sim),
                "links": _links(sim),
                "place": self.state.place,
            }
        )
        self._frame()

    def _branch(self, form: Any) -> None:
        st = self.state
        if not self._ready():
            return
        read = self._read(form)
        if read is None:
            return
        sc, _ = read
        a = st.variants[0]
        try:
            b = Simulation.restore(a.sim.checkpoint(), sc)
        except (ValueError, ScenarioError) as e:
            self._error(ScenarioError(WHERE, "", str(e)) if isinstance(e, ValueError) else e)
            return
        # B shares A's past: its rows up to the branch are sent with it, for its chart.
        st.variants[1:] = [_Variant("B", b, sent=0)]
        self._send(
            {
                "type": "branched",
                "tick": a.sim.tick,
                "scenario": sc.name,
                "timeline": _timeline_marks(sc),
            }
        )
        self._frame()

    def _status(self) -> None:
        v = self.state.variants
        self._send(
            {
                "type": "status",
                "running": self.state.running,
                "tick": v[0].sim.tick if v else None,
                "variants": [x.name for x in v],
            }
        )

    def _advance(self, n: int | None = None, force_frame: bool = False) -> None:
        """Step every variant by one tick (``n`` ticks for a step command), pace to the
        speed, and send a frame every ``draw_every`` ticks."""
        st = self.state
        steps = self.scenario.params.run.steps if self.scenario else 0
        t0 = time.perf_counter()
        todo = n if n is not None else 1
        stepped = 0
        for _ in range(todo):
            if st.variants[0].sim.tick >= steps:
                break
            for v in st.variants:
                v.sim.step()
            stepped += 1
        # the ticks since the last frame all count towards the next one's server time
        self._step_s += time.perf_counter() - t0
        tick = st.variants[0].sim.tick
        finished = tick >= steps
        if finished and st.running:
            st.running = False
        due = force_frame or finished or tick % st.draw_every == 0
        if due and (stepped or force_frame):
            self._frame()
        if finished:
            self._status()
            self._send({"type": "finished", "tick": tick})
        if st.running and st.ticks_per_second > 0:
            wait = 1.0 / st.ticks_per_second - (time.perf_counter() - t0)
            if wait > 0:
                self._closed.wait(wait)

    def _frame(self) -> None:
        """Send one frame, after waiting for room (flow control)."""
        with self._acks:
            while self._in_flight >= FRAMES_IN_FLIGHT and not self._closed.is_set():
                self._acks.wait(0.5)
                if not self._commands.empty():
                    break  # a command (pause, close) goes first; the frame follows
            if self._closed.is_set():
                return
        r0 = time.perf_counter()
        st = self.state
        variants, blobs, offset, sent = [], [], 0, []
        for v in st.variants:
            rows, n = _new_rows(v.sim, v.sent)
            sent.append(n)
            units = _units_here(v.sim)
            places = []
            for p in v.sim.places:
                if v.sim.country is not None and p.name not in v.onset:
                    if any(_past_onset(r) for r in p.history[v.sent : n]):
                        v.onset.add(p.name)
                row = p.row
                entry: dict[str, Any] = {
                    "name": p.name,
                    "width": int(p.lattice.width),
                    "height": int(p.lattice.height),
                    "quiet": row.quiet_blue + row.quiet_green,
                    "active": row.active_blue + row.active_green,
                    "jailed": row.jailed_blue + row.jailed_green,
                    "cops": row.cops,
                    "links_blocked": row.links_blocked,
                    "forces_in_transit": row.forces_in_transit,
                    "onset": p.name in v.onset,
                    "units": units.get(p.name, []),
                }
                if p.name == st.place or len(v.sim.places) == 1:
                    blob = lattice_indices(p).tobytes()
                    entry["lattice"] = [offset, len(blob)]
                    blobs.append(blob)
                    offset += len(blob)
                places.append(entry)
            variants.append(
                {
                    "name": v.name,
                    "tick": v.sim.tick,
                    "rows": rows,
                    "places": places,
                    "links": _links_now(v.sim),
                }
            )
        build_s = time.perf_counter() - r0
        step_s, self._step_s = self._step_s, 0.0
        header = {
            "type": "frame",
            "tick": st.variants[0].sim.tick,
            "running": st.running,
            "variants": variants,
            # the server's work for this frame: the ticks stepped and the frame built
            # (not the wait for the page's acknowledgement)
            "server_ms": {
                "step": round(step_s * 1000, 3),
                "frame": round(build_s * 1000, 3),
                "total": round((step_s + build_s) * 1000, 3),
            },
        }
        message = encode_frame(header, blobs)
        # Only a frame built whole counts: its rows as sent, one more frame in flight.
        for v, n in zip(st.variants, sent, strict=True):
            v.sent = n
        with self._acks:
            self._in_flight += 1
        self._send(message)


__all__ = ["FRAMES_IN_FLIGHT", "RunSession", "RunSlots", "encode_frame"]
