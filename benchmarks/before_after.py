"""Two checkouts of upheaval side by side in one run: is a change faster or slower?

Each measurement runs in a fresh process of the checkout's own Python (its virtual
environment, its numba cache), through the public API only — ``Simulation``,
``step``, ``n_agents`` — so any two commits can be compared. The two checkouts
alternate, round after round, so that a machine whose load drifts (other jobs on
the two cores) burdens both alike; each row reports the median and range over the
rounds of CPU time per agent-step of ``sim.step(ticks)`` (the whole tick: kernel
and engine) and the ratio of the medians, after ÷ before (< 1: faster).

Workloads: ``mesa-example`` at 40×40, 200×200 and 1000×1000 (the settings of
``vs_mesa.py``), and run 2 at 200×200 with every mechanism on (the all-on arm of
``mechanisms_speed.py``, taken from each checkout's own copy of that script).

    git worktree add ../before <commit> && (cd ../before && python3 -m venv .venv \\
        && .venv/bin/pip install -e .)
    python benchmarks/before_after.py --before ../before --rounds 5

Appends a record under ``benchmarks/results/before_after/`` (every round, the
commits, the machine, the load average; ``_records.py``) unless ``--no-save``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from _records import begin, commit_of, write_record

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: name → (workload snippet setting ``sc``, warm-up ticks, timed ticks)
WORKLOADS = {
    "mesa-example 40x40": (
        "sc = upheaval.load('mesa-example').with_params(width=40, height=40)",
        20,
        400,
    ),
    "mesa-example 200x200": (
        "sc = upheaval.load('mesa-example').with_params(width=200, height=200)",
        5,
        40,
    ),
    "mesa-example 1000x1000": (
        "sc = upheaval.load('mesa-example').with_params(width=1000, height=1000)",
        2,
        4,
    ),
    "all mechanisms 200x200": (
        "import mechanisms_speed; _, sc = mechanisms_speed.scenarios(200)",
        2,
        40,
    ),
}

PROBE = """
import json, sys, time
sys.path.insert(0, 'benchmarks')
import upheaval
{setup}
sim = upheaval.Simulation(sc, seed=1)
sim.step({warmup})
n = sim.n_agents()
c0 = time.process_time()
sim.step({ticks})
cpu = time.process_time() - c0
print(json.dumps({{"ns_per_agent_step": cpu / ({ticks} * n) * 1e9, "agents": n}}))
"""


def python_of(tree: Path) -> str:
    exe = tree / ".venv" / "bin" / "python"
    return str(exe) if exe.exists() else sys.executable


def measure(tree: Path, workload: str) -> float:
    setup, warmup, ticks = WORKLOADS[workload]
    code = PROBE.format(setup=setup, warmup=warmup, ticks=ticks)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    env.pop("NUMBA_CACHE_DIR", None)  # each checkout its own cache, next to its code
    out = subprocess.run(
        [python_of(tree), "-c", code], cwd=tree, capture_output=True, text=True, env=env
    )
    if out.returncode != 0:
        raise SystemExit(f"{tree}: {workload} failed:\n{out.stderr[-2000:]}")
    return float(json.loads(out.stdout.strip().splitlines()[-1])["ns_per_agent_step"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="the other checkout")
    ap.add_argument("--after", type=Path, default=ROOT, help="default: this checkout")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", nargs="*", choices=sorted(WORKLOADS), help="some workloads")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)
    start = begin()
    names = args.only or list(WORKLOADS)
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    for tree in trees.values():  # compile both checkouts' kernels before timing
        measure(tree, "mesa-example 40x40")
    rounds: dict[str, dict[str, list[float]]] = {n: {"before": [], "after": []} for n in names}
    for r in range(args.rounds):
        for name in names:
            sides = ("before", "after") if r % 2 == 0 else ("after", "before")
            for side in sides:
                rounds[name][side].append(measure(trees[side], name))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    med = statistics.median
    print(f"before {commit_of(trees['before'])}, after {commit_of(trees['after'])}; ")
    print(f"{args.rounds} rounds, CPU ns per agent-step (median, range)\n")
    print("| workload | before | after | after ÷ before |")
    print("|---|---|---|---|")
    rows = []
    for name in names:
        b, a = rounds[name]["before"], rounds[name]["after"]
        ratio = med(a) / med(b)
        rows.append({"workload": name, "before": b, "after": a, "ratio_of_medians": ratio})
        print(
            f"| {name} | {med(b):.1f} ({min(b):.1f}–{max(b):.1f}) | "
            f"{med(a):.1f} ({min(a):.1f}–{max(a):.1f}) | {ratio:.3f} |"
        )
    if not args.no_save:
        settings = {
            "before": {"path": str(trees["before"]), "commit": commit_of(trees["before"])},
            "after": {"path": str(trees["after"]), "commit": commit_of(trees["after"])},
            "rounds": args.rounds,
            "unit": "CPU ns per agent-step of sim.step(ticks)",
        }
        path = write_record("before_after", start, settings, {"rows": rows})
        print(f"\nwrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
