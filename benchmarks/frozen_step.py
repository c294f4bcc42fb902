"""The classic copy of the step against the generic step, side by side in one process.

    python benchmarks/frozen_step.py                      # 200x200 and 1000x1000, 7 rounds
    python benchmarks/frozen_step.py --sides 1000 --rounds 9

A classic run (every mechanism off) calls a copy of the step in which the run's
flags are constants (``kernels.step_for``, issue 11 §4), compiled in a third of the
time. Both compute the same trajectory (the script checks the final statuses agree);
this measures whether they run at the same speed. For each side, two simulations of
``mesa-example`` with the same seed are built, one stepping with ``step_for``'s copy
and one with ``kernels.step``; after warm-up, rounds alternate between them and each
times ``sim.step(ticks)`` in CPU time per agent-step. Prints the medians, ranges and
the ratio copy ÷ generic (> 1: the copy is slower) and appends a record under
``results/frozen_step/``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import upheaval
from _records import begin, write_record
from upheaval.model import kernels

#: lattice side → (warm-up ticks, timed ticks a round)
TICKS = {40: (20, 400), 200: (5, 40), 1000: (2, 3), 2000: (1, 1)}


def measure(side: int, rounds: int) -> dict[str, object]:
    sc = upheaval.load("mesa-example").with_params(width=side, height=side)
    warmup, ticks = TICKS[side]
    sims = {}
    for arm in ("copy", "generic"):
        sim = upheaval.Simulation(sc, seed=1)
        if arm == "generic":
            for place in sim.places:
                place.step_kernel = kernels.step
        sim.step(warmup)
        sims[arm] = sim
    times: dict[str, list[float]] = {"copy": [], "generic": []}
    for r in range(rounds):
        order = ("copy", "generic") if r % 2 == 0 else ("generic", "copy")
        for arm in order:
            sim = sims[arm]
            n = sim.n_agents()
            c0 = time.process_time()
            sim.step(ticks)
            times[arm].append((time.process_time() - c0) / (ticks * n) * 1e9)
    same = bool((sims["copy"].place.agents.status == sims["generic"].place.agents.status).all())
    if not same:
        raise SystemExit(f"{side}x{side}: the copy and the generic step diverged")
    ratio = statistics.median(times["copy"]) / statistics.median(times["generic"])
    return {"side": side, "ticks": ticks, **times, "ratio_of_medians": ratio}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sides", type=int, nargs="*", default=[200, 1000], choices=sorted(TICKS))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)
    start = begin()
    rows = []
    print("| lattice | copy (ns/agent-step) | generic | copy ÷ generic |")
    print("|---|---|---|---|")
    for side in args.sides:
        row = measure(side, args.rounds)
        rows.append(row)
        c, g = row["copy"], row["generic"]
        med = statistics.median
        print(
            f"| {side}x{side} | {med(c):.1f} ({min(c):.1f}–{max(c):.1f}) | "
            f"{med(g):.1f} ({min(g):.1f}–{max(g):.1f}) | {row['ratio_of_medians']:.3f} |",
            flush=True,
        )
    if not args.no_save:
        settings = {
            "scenario": "mesa-example",
            "rounds": args.rounds,
            "unit": "CPU ns per agent-step of sim.step(ticks)",
        }
        path = write_record("frozen_step", start, settings, {"rows": rows})
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
