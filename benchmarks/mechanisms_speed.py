"""Cost of the uprising's mechanisms: the classic step against the step with every
mechanism on at once, on the same grid and seed.

"All on": per-agent legitimacy feedback, a Beta hardship with a group, lethal force
(q = 0.05) with deterrence and backlash, security forces with minds (disarm ratio 8),
the information channel (actives and repression broadcast), an elite split (half the
initial force under a rival faction, a tenth of the ruler's cops passing to it at tick
1), provocateurs (one per 400 sites) feeding the framing, organised groups (one per
400 sites, 5 % of citizens members, quorum 0.3, striking), divided identities
(solidarity 0.5, so rule A walks the active sites' lists by group), and a guard unit
plus a patrol unit arriving at tick 1 (so rule C with force and posts runs
throughout). The classic arm is run 2's parameters at the same size.

Usage::

    python benchmarks/mechanisms_speed.py [--side 200] [--ticks 50] [--repeats 5]

Two measures, both CPU time per agent-step, each repeat recorded (``_records.py``:
a new file under ``benchmarks/results/mechanisms_speed/`` per run):

* **along each arm's own run**: ``Simulation.step`` (kernel, timeline, mechanism
  updates, record) on one thread after a warm-up that compiles; each repeat runs the
  classic arm and then the all-on arm, and their ratio is that repeat's ratio (the
  target is ≤ 2).
* **same state**: the dynamics taken out. Along the all-on run, each tick starts from
  one state; a copy of it takes one classic step (the classic rules compiled from run
  2's parameters, the kernel plus the per-tick tally), and the run itself takes its
  all-on step (kernel, timeline, broadcast, framing, groups' verdicts, legitimacy,
  record). The ratio of the summed CPU times is the code's cost of the mechanisms on
  identical states.

The time per agent-step depends on the run's dynamics as well as on the code: a
jailed citizen's turn costs almost nothing, so a run with fewer citizens in jail is
dearer per agent. That is why organised groups get 5 % of the citizens as members:
with 30 % the strikes take so many of the most aggrieved off the street that the
all-on run's uprising collapses (at 200², ticks 3-52: 2,500 jailed instead of 9,500)
and the first ratio reads 2.2, while a member's turn costs no more than rule A
(classic with 0.1 % members: 81 against 79 ns per agent-step). Those figures were
measured once during development and are not in a record.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import upheaval
from _records import begin, spread, write_record
from upheaval.engine.simulation import Simulation
from upheaval.model.kernels import compile_rules, make_signals, step_for, tally
from upheaval.model.state import interleaved
from upheaval.model.timeline import ActionEvent
from upheaval.scenario.schema import Scenario
from upheaval.world.grid import copy_lattice


def scenarios(side: int) -> tuple[Scenario, Scenario]:
    classic = upheaval.load("epstein2002-run2").with_params(width=side, height=side, steps=0)
    p = classic.params.replace(
        legitimacy_feedback="per_agent",
        hardship_distribution="beta",
        hardship_group_share=0.2,
        hardship_group_low=0.3,
        lethal_probability=0.05,
        lethal_deterrence=0.2,
        lethal_backlash=2.0,
        forces_minds=True,
        forces_disarm_ratio=8.0,
        information_enabled=True,
        information_repression_weight=1.0,
        elite_rival_share=0.5,
        elite_rival_loyalty=0.5,
        provocateurs_count=max(1, side * side // 400),
        organisation_groups=max(1, side * side // 400),
        organisation_member_share=0.05,
        organisation_quorum=0.3,
        identity_enabled=True,
        identity_solidarity=0.5,
    )
    n = max(1, side * side // 200)
    timeline = (
        ActionEvent(tick=1, action="reinforce", count=n, unit="guards", mode="guard"),
        ActionEvent(tick=1, action="reinforce", count=n, unit="patrol"),
        ActionEvent(tick=1, action="shift_command", to="rival", share=0.1),
    )
    return classic, Scenario(params=p, timeline=timeline)


def ns_per_agent_step(sc: Scenario, ticks: int, seed: int = 1) -> float:
    """CPU ns per agent-step of ``ticks`` ticks after two that compile and pass the
    tick-1 arrivals."""
    sim = Simulation(sc, seed=seed)
    sim.step(2)
    agents = sim.n_agents()
    t0 = time.process_time()
    sim.step(ticks)
    return (time.process_time() - t0) / (ticks * agents) * 1e9


def same_state_ratio(classic: Scenario, mech: Scenario, ticks: int, seed: int = 1):
    """ns per agent-step of a classic step and of the all-on step, both taken from
    each state of the all-on run (module docstring)."""
    sim = Simulation(mech, seed=seed)
    sim.step(2)
    rules = compile_rules(classic.params)
    signals = make_signals(classic.params)
    step = step_for(rules)  # the step the engine runs for the classic flags
    t_classic = t_mech = 0.0
    agent_steps = 0
    for k in range(ticks + 1):  # the first round compiles the classic step: not timed
        g = copy_lattice(sim.place.lattice)
        a = interleaved(sim.place.agents)  # a copy in the engine's own layout
        rng = sim.place.streams["dynamics"].copy()
        free, meta = sim.place.free_slots.copy(), sim.place.free_meta.copy()
        order = np.zeros_like(sim.place.order)
        events = np.zeros_like(sim.place.events)
        agents = sim.n_agents()
        t0 = time.process_time()
        step(
            g,
            a,
            rules,
            signals,
            rng,
            sim.place.now("legitimacy"),
            sim.place.now("max_jail_term"),
            order,
            free,
            meta,
            events,
        )
        tally(a)
        t1 = time.process_time()
        sim.step()
        t2 = time.process_time()
        if k > 0:
            t_classic += t1 - t0
            t_mech += t2 - t1
            agent_steps += agents
    return t_classic / agent_steps * 1e9, t_mech / agent_steps * 1e9


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--side", type=int, default=200)
    ap.add_argument("--ticks", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", type=Path, help="write the record here instead of the history")
    args = ap.parse_args(argv)
    start = begin()
    classic, mech = scenarios(args.side)
    ns_per_agent_step(classic, 2)  # compile both arms before timing
    ns_per_agent_step(mech, 2)
    own = []
    same = []
    for _ in range(args.repeats):
        c = ns_per_agent_step(classic, args.ticks)
        m = ns_per_agent_step(mech, args.ticks)
        own.append({"classic_ns": c, "mechanisms_ns": m, "ratio": m / c})
        sc, sm = same_state_ratio(classic, mech, args.ticks)
        same.append({"classic_ns": sc, "mechanisms_ns": sm, "ratio": sm / sc})
        print(
            f"own runs {c:.1f} / {m:.1f} ns = {m / c:.3f}; same state {sc:.1f} / {sm:.1f} ns "
            f"= {sm / sc:.3f}",
            flush=True,
        )
    mem_off = Simulation(classic, seed=1)
    results = {
        "own_runs": own,
        "same_state": same,
        "ratio": spread([r["ratio"] for r in own]),
        "same_state_ratio": spread([r["ratio"] for r in same]),
        "classic_bytes_per_agent": mem_off.nbytes() / mem_off.n_agents(),
    }
    settings = {"side": args.side, "ticks": args.ticks, "repeats": args.repeats, "seed": 1}
    path = write_record("mechanisms_speed", start, settings, results, out=args.json)
    print(json.dumps({k: results[k] for k in ("ratio", "same_state_ratio")}))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
