"""The classic copy of the step against the generic step, side by side in one process.

    python benchmarks/frozen_step.py                      # 200x200 and 1000x1000, 7 rounds
    python benchmarks/frozen_step.py --sides 1000 --rounds 9

A classic run (every mechanism off) calls a copy of the step in which the run's
flags are constants (``kernels.step_for``, issue 11 §4), compiled in a third of the
time. Both compute the same trajectory (the script checks the final statuses agree);
this measures whether they run at the same speed. For each side, simulations of
``mesa-example`` with the same seed are built, one stepping with ``step_for``'s copy
and one with ``kernels.step``, and, with ``--body``, a what-if: a copy in which only
the step's own body reads the flags as constants, the rules it calls left as they
are (``core/jit.freeze`` with its search for callees switched off). After warm-up,
rounds alternate between them and each times ``sim.step(ticks)`` in CPU time per
agent-step. Prints the medians, ranges and the ratio to the generic step (> 1:
slower) and appends a record under ``results/frozen_step/``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import upheaval
from _records import begin, write_record
from upheaval.core import jit
from upheaval.model import kernels

#: lattice side → (warm-up ticks, timed ticks a round)
TICKS = {40: (20, 400), 200: (5, 40), 1000: (2, 3), 2000: (1, 1)}


def measure(side: int, rounds: int, body: bool = False) -> dict[str, object]:
    sc = upheaval.load("mesa-example").with_params(width=side, height=side)
    warmup, ticks = TICKS[side]
    sims = {}
    arms = ("copy", "generic", "body") if body else ("copy", "generic")
    for arm in arms:
        sim = upheaval.Simulation(sc, seed=1)
        for place in sim.places:
            if arm == "generic":
                place.step_kernel = kernels.step
            elif arm == "body":
                place.step_kernel = _body_only(place.rules)
        sim.step(warmup)
        sims[arm] = sim
    times: dict[str, list[float]] = {arm: [] for arm in arms}
    for r in range(rounds):
        for arm in arms if r % 2 == 0 else arms[::-1]:
            sim = sims[arm]
            n = sim.n_agents()
            c0 = time.process_time()
            sim.step(ticks)
            times[arm].append((time.process_time() - c0) / (ticks * n) * 1e9)
    generic = sims["generic"].place.agents.status
    for arm in arms:
        if not (sims[arm].place.agents.status == generic).all():
            raise SystemExit(f"{side}x{side}: the {arm} step and the generic step diverged")
    med = statistics.median
    ratios = {arm: med(times[arm]) / med(times["generic"]) for arm in arms if arm != "generic"}
    return {
        "side": side,
        "ticks": ticks,
        **times,
        "ratio_of_medians": ratios["copy"],
        "ratios_to_generic": ratios,
    }


def _body_only(r):
    """The classic copy with only the step's own body frozen (what-if, --body)."""
    values = {f: False for f in kernels.MECHANISM_FLAGS}
    values.update({f: bool(getattr(r, f)) for f in kernels.CLASSIC_FLAGS})
    search = jit._callees_given
    jit._callees_given = lambda *args: {}
    try:
        return jit.freeze(kernels.step, values, tag="classicbody")
    finally:
        jit._callees_given = search


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sides", type=int, nargs="*", default=[200, 1000], choices=sorted(TICKS))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--body", action="store_true", help="add the body-only copy (what-if)")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)
    start = begin()
    rows = []
    print("| lattice | arm | CPU ns per agent-step (median, range) | ÷ generic |")
    print("|---|---|---|---|")
    med = statistics.median
    for side in args.sides:
        row = measure(side, args.rounds, args.body)
        rows.append(row)
        for arm, ratio in {**row["ratios_to_generic"], "generic": 1.0}.items():
            v = row[arm]
            print(
                f"| {side}x{side} | {arm} | {med(v):.1f} ({min(v):.1f}–{max(v):.1f}) | "
                f"{ratio:.3f} |",
                flush=True,
            )
    if not args.no_save:
        settings = {
            "scenario": "mesa-example",
            "rounds": args.rounds,
            "body": args.body,
            "unit": "CPU ns per agent-step of sim.step(ticks)",
        }
        path = write_record("frozen_step", start, settings, {"rows": rows})
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
