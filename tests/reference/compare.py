"""Reading the engine's state in the reference's terms, and stepping both side by side."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from reference.model import ReferenceModel
from upheaval.core.codes import ACTIVE, CITIZEN, COP, DEAD, JAILED, QUIET
from upheaval.engine.simulation import Simulation
from upheaval.model.timeline import ActionEvent, RampEvent, SetEvent
from upheaval.world.grid import decode_occupancy

KIND_NAMES = {CITIZEN: "citizen", COP: "cop"}
STATUS_NAMES = {QUIET: "quiet", ACTIVE: "active", JAILED: "jailed"}


def engine_snapshot(sim: Simulation) -> dict[int, tuple]:
    """Live agents in the reference's snapshot format (see ReferenceModel.snapshot)."""
    a = sim.place.agents
    w = int(sim.place.lattice.width)
    model2 = a.age.shape[0] > 0
    out = {}
    for i in np.flatnonzero(a.status != DEAD):
        i = int(i)
        pos = int(a.position[i])
        out[i] = (
            KIND_NAMES[int(a.kind[i])],
            STATUS_NAMES[int(a.status[i])],
            pos % w,
            pos // w,
            int(a.jail_left[i]),
            int(a.group[i]),
            int(a.age[i]) if model2 else 0,
            int(a.death_age[i]) if model2 else 0,
            float(a.hardship[i]),
            float(a.risk_aversion[i]),
        )
    return out


def comparable(snapshot: dict[int, tuple]) -> dict[int, tuple]:
    """Drop the citizen-only attributes of cops: a cop ignores them (the engine zeroes
    them when a reinforcement reuses a dead citizen's slot)."""
    return {k: (v if v[0] == "citizen" else v[:5]) for k, v in snapshot.items()}


def engine_site_counts(sim: Simulation) -> dict[tuple[int, int], tuple[int, int, int, int]]:
    """Per non-empty site: (cops, active, quiet, jailed) from the occupancy bytes; a
    saturated lane (3: three or more) is resolved by walking the site's agent list,
    as the engine does."""
    g, a = sim.place.lattice, sim.place.agents
    w = int(g.width)
    lanes = decode_occupancy(g)
    out = {}
    for s in np.flatnonzero(lanes.any(axis=1)):
        counts = [int(v) for v in lanes[s]]
        if 3 in counts:
            exact = [0, 0, 0, 0]
            j = int(g.head[s])
            while j != -1:
                if a.kind[j] == COP:
                    exact[0] += 1
                else:
                    exact[{ACTIVE: 1, QUIET: 2}.get(int(a.status[j]), 3)] += 1
                j = int(a.cell_next[j])
            assert [min(c, 3) for c in exact] == counts, f"site {s}: byte disagrees with list"
            counts = exact
        out[(int(s) % w, int(s) // w)] = tuple(counts)
    return out


def assert_same_state(sim: Simulation, ref: ReferenceModel, context: str = "") -> None:
    """Tallies, events, legitimacy, every live agent and every site agree exactly."""
    where = f"{context} tick {sim.tick}"
    assert sim.tick == ref.tick, where
    assert sim.place.history[-1] == ref.history[-1], f"{where}: tally row differs"
    eng, rf = comparable(engine_snapshot(sim)), comparable(ref.snapshot())
    if eng != rf:
        diff = {
            k: (eng.get(k), rf.get(k))
            for k in sorted(set(eng) | set(rf))
            if eng.get(k) != rf.get(k)
        }
        raise AssertionError(f"{where}: agents differ (slot: engine, reference): {diff}")
    assert engine_site_counts(sim) == ref.site_counts(), f"{where}: occupancy differs"
    assert sim.place.now("max_jail_term") == ref.max_jail_term, where
    assert sim.place.now("cop_density") == ref.cop_density, where


def run_side_by_side(scenario: Any, seed: int, ticks: int, context: str = "") -> ReferenceModel:
    """Step engine and reference ``ticks`` ticks, comparing the full state every tick."""
    sim = Simulation(scenario, seed=seed)
    ref = ReferenceModel(scenario, seed=seed)
    assert_same_state(sim, ref, context)
    for _ in range(ticks):
        sim.step()
        ref.step()
        assert_same_state(sim, ref, context)
    return ref


def event_totals(ref: ReferenceModel) -> dict[str, int]:
    """Events summed over a run (to check that a parity run exercised the rules)."""
    from reference.model import EVENT_NAMES

    return {c: sum(getattr(row, c) for row in ref.history) for c in EVENT_NAMES[:8]}


def shrink(scenario: Any, side: int = 15, time_scale: int = 5) -> Any:
    """A preset on a ``side``×``side`` torus (visions capped so they fit) with its
    timeline compressed ``time_scale``-fold, so a few tens of ticks reach it."""
    p = scenario.params
    cap = (side - 1) // 2
    p = p.replace(
        width=side,
        height=side,
        citizen_vision=min(p.citizens.vision, float(cap)),
        cop_vision=min(p.cops.vision, float(cap)),
    )
    if p.information.focal_x >= 0:  # the focal site keeps its place relative to the lattice
        p = p.replace(
            information_focal_x=p.information.focal_x * side // scenario.params.world.width,
            information_focal_y=p.information.focal_y * side // scenario.params.world.height,
        )
    events = []
    for e in scenario.timeline:
        if isinstance(e, SetEvent):
            events.append(dataclasses.replace(e, tick=max(1, round(e.tick / time_scale))))
        elif isinstance(e, RampEvent):
            start = max(1, round(e.start / time_scale))
            end = max(start, round(e.end / time_scale))
            events.append(dataclasses.replace(e, start=start, end=end))
        elif isinstance(e, ActionEvent):
            tick = max(1, round(e.tick / time_scale))
            area = getattr(e, "area", None)
            if area is not None:  # keep the area on the shrunk lattice
                x0, y0, x1, y1 = area
                area = (min(x0, side - 1), min(y0, side - 1), min(x1, side - 1), min(y1, side - 1))
                events.append(e.replace(tick=tick, area=area))
            else:
                events.append(e.replace(tick=tick))
        else:
            raise TypeError(f"unknown timeline event {e!r}")
    return dataclasses.replace(scenario, params=p, timeline=tuple(events))
