"""The synchronous variant of rule A against the paper's random-order activation.

Both arms run the ``mesa-example`` preset (as ``vs_mesa.py``) on the same grid and
seeds, one with ``citizens.activation = "random_order"`` (Epstein 2002, the default
whose speed ``vs_mesa.py`` reports) and one with ``"synchronous"`` (every free
citizen's rule A at the start of the tick, then moves and arrests in random order;
docs/odd.md §7.1). Agent-steps per CPU second of the timed ticks (after a warm-up
that compiles), median of ``--repeats`` seeds, and their ratio. The two variants
differ in dynamics as well as in code (synchronous runs calm down sooner on run 2),
so the ratio is the cost of the variant *with* its dynamics.

Usage::

    python benchmarks/activation.py [--sizes 40,200,1000] [--ticks 20] [--repeats 5]

Every repeat is recorded: a new file under ``benchmarks/results/activation/`` per run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import upheaval
from _records import begin, spread, write_record
from upheaval.engine.simulation import Simulation


def rate(side: int, activation: str, seed: int, ticks: int) -> float:
    sc = upheaval.apply_overrides(
        upheaval.load("mesa-example"),
        {"world.width": side, "world.height": side, "citizens.activation": activation},
    )
    sim = Simulation(sc, seed=seed)
    sim.step(2)
    agents = sim.n_agents()
    t0 = time.process_time()
    sim.step(ticks)
    return agents * ticks / (time.process_time() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="40,200,1000")
    ap.add_argument("--ticks", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", type=Path, help="write the record here instead of the history")
    args = ap.parse_args(argv)
    start = begin()
    rate(20, "random_order", 1, 2)  # compile both variants before timing
    rate(20, "synchronous", 1, 2)
    rows = []
    print(f"{'grid':>10} {'random order':>14} {'synchronous':>14} {'ratio':>7}")
    for side in (int(s) for s in args.sizes.split(",")):
        seeds = list(range(1, args.repeats + 1))
        a, b = [], []
        for s in seeds:  # the two arms side by side, seed by seed
            a.append(rate(side, "random_order", s, args.ticks))
            b.append(rate(side, "synchronous", s, args.ticks))
        ratios = [y / x for x, y in zip(a, b, strict=True)]
        rows.append(
            {
                "side": side,
                "seeds": seeds,
                "random_order": a,
                "synchronous": b,
                "ratio": ratios,
                "ratio_spread": spread(ratios),
            }
        )
        ma, mb = statistics.median(a), statistics.median(b)
        print(
            f"{side:>6}x{side:<3} {ma / 1e6:>12.2f} M {mb / 1e6:>12.2f} M "
            f"{statistics.median(ratios):>7.2f}"
        )
    print("agent-steps per CPU second (synchronous: the labelled variant, not the paper's)")
    settings = {"sizes": args.sizes, "ticks": args.ticks, "repeats": args.repeats}
    path = write_record("activation", start, settings, {"sizes": rows}, out=args.json)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
