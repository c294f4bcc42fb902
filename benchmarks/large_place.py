"""One large place: does the cost per agent-step stay flat as the lattice grows?

    python benchmarks/large_place.py                     # 200x200 and 2000x2000, 3 seeds
    python benchmarks/large_place.py --sides 200 1000 2000 --tile 32 --repeats 5

Issue 9 §4 asks that a 2000×2000 lattice cost at most 1.25× the CPU time per
agent-step of a 200×200 one. With Epstein's random order over all agents, every turn
reads a neighbourhood far from the last one, and once the lattice outgrows the cache
each is a trip to memory. The labelled variant ``world.activation_tile`` groups the
turns by tile (docs/odd.md §7.1), so consecutive turns read the same rows.

Both arms run ``mesa-example`` (as ``vs_mesa.py``: vision 7, 70 % citizens, 7.4 %
cops) at each side, seed by seed: the paper's random order and tiles of ``--tile``
sites. Each arm's simulation is built, stepped through a warm-up, then timed for a
few ticks in CPU time (``time.process_time``) per agent-step; the two arms alternate
which goes first. Prints, per arm, the medians and ranges and the large ÷ small
ratio, and the tiled ÷ random ratio at each side; appends a record under
``results/large_place/``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import upheaval
from _records import begin, spread, write_record

#: side → (warm-up ticks, timed ticks): about 10^7 timed agent-steps at 2000×2000
TICKS = {200: (5, 40), 1000: (2, 4), 2000: (1, 3)}


def cost(side: int, tile: int, seed: int) -> tuple[float, float]:
    """CPU ns per agent-step of ``mesa-example`` at ``side``² (tile 0: random order),
    and the bytes of state per agent (``Simulation.nbytes``: agents, lattice, the
    step's scratch)."""
    sc = upheaval.apply_overrides(
        upheaval.load("mesa-example"),
        {"world.width": side, "world.height": side, "world.activation_tile": tile},
    )
    warmup, ticks = TICKS[side]
    sim = upheaval.Simulation(sc, seed=seed)
    sim.step(warmup)
    agents = sim.n_agents()
    t0 = time.process_time()
    sim.step(ticks)
    return (time.process_time() - t0) / (agents * ticks) * 1e9, sim.nbytes() / agents


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sides", type=int, nargs="+", default=[200, 2000], choices=sorted(TICKS))
    ap.add_argument("--tile", type=int, default=32, help="tile side of the tiled arm")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path, help="write the record here instead of the history")
    args = ap.parse_args(argv)
    start = begin()
    arms = {"random_order": 0, "tiled": args.tile}
    for tile in arms.values():  # compile both before timing
        cost(200, tile, 1)
    results: dict[int, dict[str, list[float]]] = {}
    state: dict[int, dict[str, float]] = {}
    for side in args.sides:
        results[side] = {arm: [] for arm in arms}
        state[side] = {}
        for k, seed in enumerate(range(1, args.repeats + 1)):
            order = list(arms) if k % 2 == 0 else list(arms)[::-1]
            for arm in order:
                ns, nbytes = cost(side, arms[arm], seed)
                results[side][arm].append(ns)
                state[side][arm] = nbytes
        print(
            f"{side}x{side}: "
            + ", ".join(
                f"{arm} {statistics.median(v):.1f} ns ({state[side][arm]:.1f} B of state an agent)"
                for arm, v in results[side].items()
            ),
            flush=True,
        )
    small, large = min(args.sides), max(args.sides)
    med = {s: {a: statistics.median(v) for a, v in r.items()} for s, r in results.items()}
    growth = {a: med[large][a] / med[small][a] for a in arms}
    tiled_over_random = {s: med[s]["tiled"] / med[s]["random_order"] for s in args.sides}
    print(f"\nCPU ns per agent-step, {large}x{large} ÷ {small}x{small} (target ≤ 1.25):")
    for arm, g in growth.items():
        print(f"  {arm}: {g:.2f}")
    print(
        f"  tiled at {large}x{large} ÷ random order at {small}x{small}: "
        f"{med[large]['tiled'] / med[small]['random_order']:.2f}"
    )
    print(
        "tiled ÷ random order: " + ", ".join(f"{s}: {q:.2f}" for s, q in tiled_over_random.items())
    )
    settings = {"sides": args.sides, "tile": args.tile, "repeats": args.repeats, "ticks": TICKS}
    out = {
        "sizes": [
            {
                "side": s,
                **{arm: v for arm, v in results[s].items()},
                **{f"{arm}_spread": spread(v) for arm, v in results[s].items()},
                "state_bytes_per_agent": state[s],
            }
            for s in args.sides
        ],
        "growth": growth,
        "tiled_large_over_random_small": med[large]["tiled"] / med[small]["random_order"],
        "tiled_over_random": {str(s): q for s, q in tiled_over_random.items()},
    }
    path = write_record("large_place", start, settings, out, out=args.json)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
