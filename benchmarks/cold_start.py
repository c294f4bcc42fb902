"""Cold start: the first `upheaval run` after an install, and where its time goes.

    python benchmarks/cold_start.py                  # end to end + breakdown (~3 min)
    python benchmarks/cold_start.py --repeats 3      # three cold/warm pairs
    python benchmarks/cold_start.py --no-breakdown   # only the end-to-end timings
    python benchmarks/cold_start.py --variants generic,no-inline,opt0   # what-ifs
    python benchmarks/cold_start.py --scenario kz2022-almaty            # another scenario
    python benchmarks/cold_start.py --scenario kazakhstan-2022 --set run.steps=24
    python benchmarks/cold_start.py --before ../before --repeats 3 --no-breakdown

``--before CHECKOUT`` times another checkout's first run in the same run, cold runs
alternating between the two (this one first in even repeats), each in a fresh process
with its own empty cache and with ``PYTHONPATH`` at that checkout's ``src``, and prints
after ÷ before. Absolute compile times differ about 2× between the machines we are given
(an AMD EPYC measured run 2's first run at 24 s of CPU where an Intel Xeon took 12.5 s,
the same commit), so a target is read as the ratio to the build it improves, both
measured side by side.

End to end: `upheaval run epstein2002-run2 --no-progress` (or ``--scenario``, with
``--set`` overrides) in a fresh process with a
fresh, empty numba cache (``NUMBA_CACHE_DIR`` pointing at a new temporary directory,
so nothing compiled earlier is reused), timed by wall clock, with the child's peak
resident memory from ``wait4``; then the same command again with that cache (warm).
This is exactly what a new user's first and second runs do.

Breakdown: a fresh process with a fresh cache, numba's event hooks installed
(``numba:compile`` per compiled function, ``numba:run_pass`` per compiler pass,
``numba:llvm_lock`` while LLVM works), which times ``import upheaval``, building the
Simulation, its first tick and the others, and then what a second scenario
(kz2022-almaty, mechanisms on: the generic step; epstein2002-run7, Model II) still
compiles with the first one's kernels in memory. Times are exclusive: a function's own
compile time, without the callees numba compiled while typing it.

Variants (``--variants``) repeat the breakdown with one compilation setting changed,
to measure what it costs, and the speed of the kernels it gives (agent-steps per
second of run 2 on 200×200, 40 ticks after 5 of warm-up):

* ``generic`` — one step kernel for every run, every path compiled and switched by
  the run's flags at run time (as before issue 11; ``model/kernels.step`` called
  where the engine calls ``step_for(rules)``);
* ``no-inline`` — the per-turn rules compiled as ordinary calls instead of inlined
  by numba (``inline="always"`` dropped from ``numba.njit`` before upheaval is
  imported, so ``jit.hot_rule`` is ``jit.rule``; the code is not changed);
* ``opt0`` … ``opt2`` — LLVM's optimisation level (``NUMBA_OPT``; numba's default is 3).

Every run appends a record under ``benchmarks/results/cold_start/`` (``_records.py``;
``--json FILE`` writes there instead).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _records import begin, commit_of, write_record

HERE = Path(__file__).resolve().parent
SCENARIO = "epstein2002-run2"
STEP = "upheaval.model.kernels.step"  # and its specialisations, step__flags…


def _entry_point() -> list[str]:
    exe = Path(sys.executable).with_name("upheaval")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "upheaval.cli"]


def _timed(cmd: list[str], env: dict[str, str], cwd: str) -> dict[str, float]:
    """Wall time and peak RSS of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out}\n{err}")
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mib": round(usage.ru_maxrss / (1 << 20 if sys.platform == "darwin" else 1024)),
    }


def _cold_warm(scenario: str, sets: list[str], checkout: Path | None = None) -> dict[str, object]:
    """One first run (empty cache) and one second run, of this checkout or another."""
    with tempfile.TemporaryDirectory(prefix="upheaval-cold-") as tmp:
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba-cache")}
        if checkout is None:
            cmd = _entry_point()
        else:  # its own source, this interpreter and its dependencies
            env["PYTHONPATH"] = str(checkout / "src")
            cmd = [sys.executable, "-c", "from upheaval.cli import app; app()"]
        cmd = [*cmd, "run", scenario, "--no-progress"]
        cmd += [a for kv in sets for a in ("--set", kv)]
        cold = _timed([*cmd, "--out", "cold"], env, tmp)
        warm = _timed([*cmd, "--out", "warm"], env, tmp)
        cache = sum(f.stat().st_size for f in (Path(tmp) / "numba-cache").rglob("*"))
    return {"cold": cold, "warm": warm, "cache_mib": round(cache / 2**20)}


def end_to_end(
    repeats: int, scenario: str, sets: list[str], before: Path | None = None
) -> list[dict[str, object]]:
    rows = []
    for i in range(repeats):
        row: dict[str, object] = {"repeat": i}
        arms = ("after", "before") if i % 2 == 0 else ("before", "after")
        for arm in arms if before is not None else ("after",):
            got = _cold_warm(scenario, sets, before if arm == "before" else None)
            if arm == "after":
                row.update(got)
            else:
                row["before"] = got
            print(f"repeat {i} {arm}: cold {got['cold']}, warm {got['warm']}", flush=True)
        rows.append(row)
    return rows


def _ratios(rows: list[dict[str, object]]) -> dict[str, float]:
    """after ÷ before of the medians of the cold runs' CPU and wall times."""
    out = {}
    for key in ("cpu_s", "wall_s"):
        after = statistics.median(r["cold"][key] for r in rows)
        before = statistics.median(r["before"]["cold"][key] for r in rows)
        out[key] = round(after / before, 3)
    return out


# -- the breakdown, in a child process ------------------------------------------------------


def _child(variant: str, scenario: str, sets: list[str]) -> None:
    """Runs in a fresh process whose NUMBA_CACHE_DIR is empty; prints JSON."""
    from numba.core import event

    if variant == "no-inline":
        import numba

        real_njit = numba.njit

        def njit(*args, **kwargs):
            kwargs.pop("inline", None)  # hot_rule's inline="always"
            return real_njit(*args, **kwargs)

        # before upheaval (whose model/jit.py takes njit from numba) is imported
        numba.njit = njit

    spans: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    stack: dict[str, list[tuple[float, str]]] = defaultdict(list)

    class Spans(event.Listener):
        def __init__(self, kind: str):
            self.kind = kind

        def _name(self, ev: event.Event) -> str:
            data = ev.data or {}
            if self.kind == "numba:compile":
                d = data["dispatcher"]
                return f"{d.py_func.__module__}.{d.py_func.__qualname__}"
            if self.kind == "numba:run_pass":
                return data["name"].split(" [")[0]
            return self.kind

        def on_start(self, ev: event.Event) -> None:
            stack[self.kind].append((time.perf_counter(), self._name(ev)))

        def on_end(self, ev: event.Event) -> None:
            t0, name = stack[self.kind].pop()
            spans[self.kind].append((t0, time.perf_counter(), name))

    for kind in ("numba:compile", "numba:run_pass", "numba:llvm_lock"):
        event.register(kind, Spans(kind))

    def exclusive(kind: str, since: float) -> dict[str, float]:
        """Time per name, less the time of same-kind spans nested inside it."""
        items = sorted((s for s in spans[kind] if s[0] >= since), key=lambda s: (s[0], -s[1]))
        own: dict[str, float] = defaultdict(float)
        open_: list[list] = []  # [start, end, name, nested]
        for t0, t1, name in items:
            while open_ and open_[-1][1] <= t0:
                done = open_.pop()
                own[done[2]] += done[1] - done[0] - done[3]
            if open_:
                open_[-1][3] += t1 - t0
            open_.append([t0, t1, name, 0.0])
        for done in open_:
            own[done[2]] += done[1] - done[0] - done[3]
        return dict(sorted(own.items(), key=lambda kv: -kv[1]))

    def total(kind: str, since: float) -> float:
        """Wall time covered by spans of ``kind`` (outermost only)."""
        t, end = 0.0, -1.0
        for t0, t1, _ in sorted(s for s in spans[kind] if s[0] >= since):
            if t0 >= end:
                t += t1 - t0
                end = t1
            elif t1 > end:
                t += t1 - end
                end = t1
        return t

    out: dict[str, object] = {}
    t = time.perf_counter()
    import upheaval

    out["import_s"] = time.perf_counter() - t
    from upheaval.results.recorder import parameters_by_location

    if variant == "generic":
        # every run calls the one step, all paths compiled (before issue 11)
        import upheaval.engine.place
        from upheaval.model.kernels import step

        upheaval.engine.place.step_for = lambda rules: step
    sc = upheaval.apply_overrides(upheaval.load(scenario), sets)
    run = parameters_by_location(sc.params)
    t0 = time.perf_counter()
    sim = upheaval.Simulation(sc, seed=run["run.seed"])
    out["init_s"] = time.perf_counter() - t0
    t, c = time.perf_counter(), time.process_time()
    sim.step()
    out["first_tick_s"] = time.perf_counter() - t
    # CPU time beside wall time: on a shared machine the gap is other processes
    out["first_tick_cpu_s"] = time.process_time() - c
    t = time.perf_counter()
    sim.run(run["run.steps"] - 1)
    out["other_ticks_s"] = time.perf_counter() - t
    out["variant"] = variant
    out["compile_s"] = total("numba:compile", t0)
    out["llvm_s"] = total("numba:llvm_lock", t0)
    out["functions_compiled"] = len(spans["numba:compile"])
    out["by_function_s"] = {k: round(v, 2) for k, v in exclusive("numba:compile", t0).items()}
    out["by_pass_s"] = {k: round(v, 2) for k, v in exclusive("numba:run_pass", t0).items()}

    later = {}
    for name in ("kz2022-almaty", "epstein2002-run7"):
        mark = time.perf_counter()
        n0 = len(spans["numba:compile"])
        other = upheaval.load(name)
        upheaval.Simulation(other, seed=1).run(2)
        later[name] = {
            "wall_s": round(time.perf_counter() - mark, 2),
            "compile_s": round(total("numba:compile", mark), 2),
            "functions_compiled": len(spans["numba:compile"]) - n0,
            "by_function_s": {
                k: round(v, 2) for k, v in list(exclusive("numba:compile", mark).items())[:8]
            },
        }
    out["then"] = later

    step = sim.places[0].step_kernel
    out["step_llvm_ir_lines"] = sum(len(ir.splitlines()) for ir in step.inspect_llvm().values())
    if sc.country is None:  # a country's places keep their own sizes
        big = upheaval.apply_overrides(sc, {"width": 200, "height": 200})
        sim = upheaval.Simulation(big, seed=1).run(5)
        agents = sim.n_agents()
        t = time.perf_counter()
        sim.run(40)
        out["speed_200x200_agent_steps_per_s"] = round(agents * 40 / (time.perf_counter() - t))
    print(json.dumps(out))


def breakdown(scenario: str, sets: list[str], variant: str = "default") -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="upheaval-cold-") as tmp:
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba-cache")}
        if variant.startswith("opt"):
            env["NUMBA_OPT"] = variant[3:]
        p = subprocess.run(
            [sys.executable, __file__, "--child", variant, "--scenario", scenario]
            + [a for kv in sets for a in ("--set", kv)],
            env=env,
            capture_output=True,
            text=True,
        )
    if p.returncode != 0:
        raise SystemExit(p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--no-breakdown", action="store_true")
    ap.add_argument(
        "--variants", default="", help="comma-separated: generic, no-inline, opt0..opt2"
    )
    ap.add_argument("--scenario", default=SCENARIO, help=f"preset or file (default {SCENARIO})")
    ap.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override, as upheaval run"
    )
    ap.add_argument("--child", metavar="VARIANT", help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help="write the record here instead of the history")
    ap.add_argument(
        "--before", type=Path, help="another checkout whose first run to time alongside"
    )
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.scenario, args.set)
        return
    start = begin()
    before = args.before.resolve() if args.before else None
    if before is not None and not (before / "src" / "upheaval").is_dir():
        raise SystemExit(f"--before {args.before}: no src/upheaval there")
    rows = end_to_end(args.repeats, args.scenario, args.set, before)
    result: dict[str, object] = {"end_to_end": rows}
    if before is not None:
        result["before"] = {"path": str(before), "commit": commit_of(before)}
        result["after_over_before"] = _ratios(rows)
        print(f"first run, after ÷ before (medians): {result['after_over_before']}")
    if not args.no_breakdown:
        b = breakdown(args.scenario, args.set)
        result["breakdown"] = b
        print(
            f"import {b['import_s']:.1f} s, init {b['init_s']:.1f} s, first tick "
            f"{b['first_tick_s']:.1f} s (CPU {b['first_tick_cpu_s']:.1f} s), "
            f"other ticks {b['other_ticks_s']:.1f} s; "
            f"compiling {b['compile_s']:.1f} s ({b['functions_compiled']} functions), "
            f"LLVM {b['llvm_s']:.1f} s"
        )
        for name, s in list(b["by_function_s"].items())[:12]:
            print(f"  {s:6.2f} s  {name}")
        print("passes:", ", ".join(f"{k} {v}" for k, v in list(b["by_pass_s"].items())[:8]))
        print("then:", json.dumps(b["then"]))
        if "speed_200x200_agent_steps_per_s" in b:
            print(f"speed {b['speed_200x200_agent_steps_per_s']:,} agent-steps/s at 200x200")
    variants = {}
    for v in filter(None, args.variants.split(",")):
        b = breakdown(args.scenario, args.set, v)
        variants[v] = b
        step_s = sum(t for f, t in b["by_function_s"].items() if f.startswith(STEP))
        print(
            f"{v}: first tick {b['first_tick_s']:.1f} s (CPU {b['first_tick_cpu_s']:.1f} s), "
            f"compiling {b['compile_s']:.1f} s, "
            f"LLVM {b['llvm_s']:.1f} s, step {step_s:.1f} s; "
            f"speed {b.get('speed_200x200_agent_steps_per_s', 0):,} agent-steps/s",
            flush=True,
        )
    if variants:
        result["variants"] = variants
    settings = {
        "command": " ".join(
            ["upheaval run", args.scenario, "--no-progress"]
            + [f"--set {kv}" for kv in args.set]
            + ["(fresh NUMBA_CACHE_DIR)"]
        ),
        "scenario": args.scenario,
        "sets": args.set,
        "repeats": args.repeats,
        "breakdown": not args.no_breakdown,
        "variants": args.variants,
        "before": str(before) if before else None,
    }
    path = write_record("cold_start", start, settings, result, out=args.json)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
