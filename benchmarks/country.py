"""A country against one lattice of the same size, side by side, and its places on
one thread against two.

Usage::

    python benchmarks/country.py                       # 1:100, 504 one-hour ticks
    python benchmarks/country.py --scale 10 --ticks 48 # 1:10, two days
    python benchmarks/country.py --scale 100 --ticks 504 --repeats 3

A synthetic country of 36 places with 10 M people (Zipf-sized towns, as Kazakhstan's
36 listed towns hold about 10 M; random positions, a nearest-neighbour road
network), news between places, forces that travel and blockades on — every
coupling of docs/odd.md §12. Each arm runs in a fresh subprocess (so that its peak
memory is its own), single-threaded unless said otherwise, after a short warm-up
run that compiles the kernels:

* ``country``: the country, 1 thread;
* ``country-2threads``: the same, its places stepped on 2 threads;
* ``lattice``: one square lattice holding the country's agents, the same
  parameters, no coupling.

Printed and written (a dated JSON under ``benchmarks/results/country/``, never
over an earlier one): CPU ns per agent-step of each arm, the coupling overhead
(country ÷ lattice, target ≤ 1.2), the parallel speed-up (wall time of 1 thread ÷
2 threads, target ≥ 1.7 on 2 cores), and state bytes and peak-RSS bytes per agent
(target ≤ 40 B a agent plus a constant); with ``--slope-scale S2``, also the
slope of peak-RSS growth over agents between scales S and S2 (same places and
ticks, so the rows of the history, which grow with places × ticks, cancel out).
Absolute speeds vary 2× between machines
and with load: the ratios, measured in the same run, are what to compare.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "country"

ARM = r"""
import json, resource, sys, time
sys.path.insert(0, {here!r})
from country import build, lattice_like
import upheaval
kind, scale, ticks, seed, threads = {kind!r}, {scale!r}, {ticks!r}, {seed!r}, {threads!r}
people = {people!r}
t_build = time.perf_counter()
whole = build(scale, ticks, people=people)
sc = whole if kind == "country" else lattice_like(whole)
# compile (or load) the kernels on a small copy first: not timed
small = build(10_000.0, 3)
upheaval.Simulation(small if kind == "country" else lattice_like(small), seed=0).run()
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
sim = upheaval.Simulation(sc, seed=seed, threads=threads)
build_s = time.perf_counter() - t_build
agents = sim.n_agents()
c0, w0 = time.process_time(), time.perf_counter()
steps = 0
for _ in range(ticks):
    sim.step()
    steps += sum(p.row.quiet_blue + p.row.active_blue + p.row.jailed_blue + p.row.quiet_green
                 + p.row.active_green + p.row.jailed_green + p.row.cops for p in sim.places)
cpu, wall = time.process_time() - c0, time.perf_counter() - w0
print(json.dumps(dict(kind=kind, threads=threads, agents=agents, agent_steps=steps, cpu_s=cpu,
    build_s=build_s,
    wall_s=wall, state_bytes=sim.nbytes(), peak_rss=resource.getrusage(
    resource.RUSAGE_SELF).ru_maxrss * 1024, rss_before=rss0, places=len(sim.places))))
"""


def build(scale: float, ticks: int, places: int = 36, people: int = 10_000_000):
    """The synthetic country (module docstring) as a Scenario."""
    import numpy as np

    from upheaval.model.params import Params, validate_params
    from upheaval.scenario.country import Country, LinkSpec, PlaceSpec
    from upheaval.scenario.schema import Scenario

    rng = np.random.default_rng(2022)
    weights = 1.0 / np.arange(1, places + 1) ** 1.1
    pops = np.maximum(20_000, np.round(people * weights / weights.sum())).astype(int)
    xy = rng.uniform(0, 2000, size=(places, 2))  # km
    specs = tuple(
        PlaceSpec(f"T{i:02d}", f"R{i % 14:02d}", 40 + xy[i, 1] / 111, 50 + xy[i, 0] / 80, 5,
                  int(pops[i]), (("legitimacy", 0.7),) if i == 5 else ())
        for i in range(places)
    )  # fmt: skip
    links = []
    for i in range(1, places):  # each town to its nearest earlier town: a tree
        d = np.hypot(*(xy[:i] - xy[i]).T)
        j = int(np.argmin(d))
        links.append(
            LinkSpec(f"T{j:02d}", f"T{i:02d}", "road", float(d[j]) + 1, float(d[j]) / 70 + 0.5)
        )
    p = validate_params(
        Params(
            scale=scale,
            steps=ticks,
            legitimacy=0.82,
            information_enabled=True,
            information_actives_weight=0.0,
            information_elsewhere_weight=0.3,
            transport_enabled=True,
            transport_call_ratio=3.0,
            transport_blockade_share=0.2,
        )
    )
    return Scenario(name="synthetic country", params=p, country=Country(specs, tuple(links)))


def lattice_like(country_scenario):
    """One square lattice with as many sites as the country's places together."""
    import math

    import upheaval
    from upheaval.scenario.country import place_params
    from upheaval.scenario.schema import Scenario

    base = country_scenario.params
    sites = sum(place_params(base, s).n_sites for s in country_scenario.country.places)
    side = math.isqrt(sites)
    p = upheaval.model.params.validate_params(
        base.replace(width=side, height=side, transport_enabled=False, transport_call_ratio=0.0,
                     transport_blockade_share=0.0, information_enabled=False,
                     information_elsewhere_weight=0.0)
    )  # fmt: skip
    return Scenario(name="one lattice", params=p)


def arm(
    kind: str, scale: float, ticks: int, seed: int, threads: int, people: int = 10_000_000
) -> dict:
    code = ARM.format(here=str(HERE), kind=kind, scale=scale, ticks=ticks, seed=seed,
                      threads=threads, people=people)  # fmt: skip
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def mesa_memory(python: str, sides: tuple[int, ...] = (100, 300)) -> dict:
    """Mesa's bytes per agent (``_mesa_memory.py`` in Mesa's environment, one fresh
    process a size): the slope of peak-RSS growth over agents between the sizes."""
    points = []
    for side in sides:
        out = subprocess.run(
            [python, str(HERE / "_mesa_memory.py"), str(side)],
            capture_output=True,
            text=True,
            check=True,
        )
        points.append(json.loads(out.stdout.strip().splitlines()[-1]))
    (a, b) = points[0], points[-1]
    slope = (b["rss_growth"] - a["rss_growth"]) / (b["agents"] - a["agents"])
    return {"points": points, "bytes_per_agent": slope}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--mesa-memory",
        metavar="PYTHON",
        help="also measure Mesa's bytes per agent with this interpreter "
        "(benchmarks/.venv-mesa/bin/python)",
    )
    ap.add_argument("--scale", type=float, default=100.0, help="people per agent")
    ap.add_argument("--ticks", type=int, default=504, help="one-hour ticks (504: 3 weeks)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument(
        "--people",
        type=int,
        default=10_000_000,
        help="the country's population (19000000: Kazakhstan's whole population)",
    )
    ap.add_argument(
        "--slope-scale",
        type=float,
        default=None,
        help="also run the country (1 thread, seed 0) at this scale: peak-RSS bytes per "
        "agent as the slope between the two scales",
    )
    ap.add_argument("--json", type=Path, default=None, help="where to write the record")
    ap.add_argument(
        "--long",
        action="store_true",
        help="run only the country on 2 threads (the 1:1 three weeks): wall time, memory",
    )
    a = ap.parse_args(argv)
    if a.long:
        return _long(a, argv)
    runs = []
    for r in range(a.repeats):
        for kind, threads in (("country", 1), ("country", 2), ("lattice", 1)):
            res = arm(kind, a.scale, a.ticks, seed=r, threads=threads, people=a.people)
            res["repeat"] = r
            runs.append(res)
            print(
                f"{kind:8s} threads={threads} agents={res['agents']:,} "
                f"{1e9 * res['cpu_s'] / res['agent_steps']:.0f} CPU ns/agent-step, "
                f"wall {res['wall_s']:.1f} s, "
                f"state {res['state_bytes'] / res['agents']:.1f} B/agent, "
                f"peak RSS {res['peak_rss'] / 2**20:.0f} MiB",
                flush=True,
            )  # fmt: skip

    def med(kind: str, threads: int, f) -> float:
        return statistics.median(
            f(x) for x in runs if x["kind"] == kind and x["threads"] == threads
        )

    def ns(x):
        return 1e9 * x["cpu_s"] / x["agent_steps"]

    overhead = med("country", 1, ns) / med("lattice", 1, ns)
    speedup = med("country", 1, lambda x: x["wall_s"]) / med("country", 2, lambda x: x["wall_s"])
    per_agent_rss = med("country", 1, lambda x: (x["peak_rss"] - x["rss_before"]) / x["agents"])
    per_agent_state = med("country", 1, lambda x: x["state_bytes"] / x["agents"])
    summary = {
        "coupling_overhead": overhead,
        "coupling_overhead_target": 1.2,
        "parallel_speedup_2_threads": speedup,
        "parallel_speedup_target": 1.7,
        "state_bytes_per_agent": per_agent_state,
        "peak_rss_growth_bytes_per_agent": per_agent_rss,
        "bytes_per_agent_target": 40.0,
    }
    if a.slope_scale is not None:
        # RSS = constant + b × agents, at the same places and ticks: b is what an agent
        # costs; "per agent" above divides the constant (the rows, places × ticks) in too
        other = arm("country", a.slope_scale, a.ticks, seed=0, threads=1, people=a.people)
        other["repeat"] = 0
        runs.append({**other, "kind": "country-slope"})

        def growth(x):
            return x["peak_rss"] - x["rss_before"]

        # the median growth at S (a first run that compiles the kernels peaks before
        # it is measured, and reads 0); the agents are the same in every repeat
        agents = med("country", 1, lambda x: x["agents"])
        slope = (growth(other) - med("country", 1, growth)) / (other["agents"] - agents)
        summary["slope_scales"] = [a.scale, a.slope_scale]
        summary["peak_rss_slope_bytes_per_agent"] = slope
        print(
            f"peak-RSS growth slope between 1:{a.scale:g} ({agents:,.0f} agents) and "
            f"1:{a.slope_scale:g} ({other['agents']:,}): {slope:.1f} B/agent"
        )
    if a.mesa_memory:
        mesa = mesa_memory(a.mesa_memory)
        summary["mesa_bytes_per_agent"] = mesa["bytes_per_agent"]
        summary["mesa_gib_for_19M_agents"] = mesa["bytes_per_agent"] * 19e6 / 2**30
        print(
            f"Mesa: {mesa['bytes_per_agent']:.0f} B per agent "
            f"(19 M agents: {summary['mesa_gib_for_19M_agents']:.0f} GiB)"
        )
    met = {True: "met", False: "NOT met"}
    print(
        f"coupling overhead {overhead:.2f} (target ≤ 1.2: {met[overhead <= 1.2]}); "
        f"speed-up on 2 threads {speedup:.2f} (target ≥ 1.7: {met[speedup >= 1.7]}); "
        f"state {per_agent_state:.1f} B/agent, peak RSS growth {per_agent_rss:.1f} B/agent"
    )
    return _write_record(
        "country",
        a,
        argv,
        {
            "machine": platform.machine(),
            "runs": runs,
            "mesa_memory": mesa if a.mesa_memory else None,
            "summary": summary,
        },
    )
    return 0


def _long(a: argparse.Namespace, argv: list[str] | None) -> int:
    """``--long``: the country alone on 2 threads, for as many ticks as asked."""
    res = arm("country", a.scale, a.ticks, seed=0, threads=2, people=a.people)
    summary = {
        "wall_s": res["wall_s"],
        "wall_s_per_tick": res["wall_s"] / a.ticks,
        "build_s": res["build_s"],
        "agents": res["agents"],
        "state_bytes_per_agent": res["state_bytes"] / res["agents"],
        "peak_rss_bytes": res["peak_rss"],
        "peak_rss_growth_bytes_per_agent": (res["peak_rss"] - res["rss_before"]) / res["agents"],
    }
    print(
        f"{res['agents']:,} agents, {a.ticks} ticks on 2 threads: {res['wall_s']:.0f} s wall "
        f"({summary['wall_s_per_tick']:.2f} s a tick), peak RSS {res['peak_rss'] / 2**30:.2f} GiB"
    )
    return _write_record("country-long", a, argv, {"runs": [res], "summary": summary})
    return 0


def _write_record(
    kind: str, a: argparse.Namespace, argv: list[str] | None, parts: dict[str, Any]
) -> int:
    """Write a new record ``results/country/<kind>-<utc>.json`` (or ``--json``); an
    existing file is never overwritten."""
    utc = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    record = {
        "benchmark": kind,
        "utc": utc,
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
        ).stdout.strip(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        "command": "python benchmarks/country.py " + " ".join(argv or sys.argv[1:]),
        "scale": a.scale,
        "ticks": a.ticks,
        "people": a.people,
        **parts,
    }
    stamp = utc.replace(":", "").replace("+0000", "Z")
    path = a.json or RESULTS / f"{kind}-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise SystemExit(f"{path} exists; not overwritten")
    path.write_text(json.dumps(record, indent=1) + "\n", "utf-8")
    print(f"wrote {path}")
    return 0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    raise SystemExit(main())
