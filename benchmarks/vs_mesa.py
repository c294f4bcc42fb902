"""upheaval against Mesa's own Epstein civil-violence example, side by side.

Usage::

    python benchmarks/vs_mesa.py                  # full run (~5-10 min on 2 cores)
    python benchmarks/vs_mesa.py --quick          # smoke check: small grids, few ticks
    python benchmarks/vs_mesa.py --skip-mesa      # upheaval only
    python benchmarks/vs_mesa.py --sizes 40,200x100 --repeats 5 --json out.json

Mesa (the newest release that installs here) lives in its own virtual environment,
``benchmarks/.venv-mesa``, created on first use with a Python >= 3.12 if one can be
found (pyenv, PATH), else with the running interpreter. Its model
(``mesa.examples.advanced.epstein_civil_violence.model.EpsteinCivilViolence``) runs in a
subprocess (``_mesa_timing.py``) that prints JSON; ours (the ``mesa-example`` preset,
which makes every one of Mesa's rule choices) runs in this interpreter, single-threaded.

Throughput is agent-steps per second: agents (citizens + cops, jailed included, as Mesa
steps them all) × timed ticks / wall seconds of those ticks. Compile time (ours),
import time (Mesa's), construction and a few warm-up ticks are excluded; each size runs
``--repeats`` times with different seeds and the median is reported.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _records import begin, write_record

# Single core, for us and for anything Mesa's numpy might spawn; set before numba loads.
for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MESA_VENV = HERE / ".venv-mesa"
MESA_REQUIREMENT = "mesa[network]"  # 3.x imports networkx at package import time

DEFAULT_SIZES = "40,100,200,1000,2000"
DEFAULT_MESA_SIZES = "40,100,200"
QUICK_SIZES = "40,100"

#: Targets of the core issue (§6). Ratios are ours ÷ Mesa in agent-steps per second.
TARGET_RATIO = {(40, 40): 100.0, (200, 200): 300.0}
TARGET_APS = ((2000, 2000), 8e6)
TARGET_BYTES_PER_AGENT = 40.0

# Mesa's example (and our preset): citizens 0.7 + cops 0.074 of the cells.
AGENTS_PER_CELL = 0.774


# --------------------------------------------------------------------------------------
# sizes and schedules
# --------------------------------------------------------------------------------------
def parse_sizes(text: str) -> list[tuple[int, int]]:
    """'40,100x50' → [(40, 40), (100, 50)]."""
    sizes = []
    for item in text.split(","):
        item = item.strip().lower()
        if not item:
            continue
        try:
            w, _, h = item.partition("x")
            size = (int(w), int(h or w))
        except ValueError:
            raise SystemExit(f"--sizes: {item!r} is not N or WxH") from None
        if min(size) < 3:
            raise SystemExit(f"--sizes: {item!r} is too small (at least 3x3)")
        sizes.append(size)
    if not sizes:
        raise SystemExit("--sizes: no size given")
    return sizes


def schedule(width: int, height: int, quick: bool) -> tuple[int, int]:
    """(warm-up ticks, timed ticks) for a grid: about 2e5 timed agent-steps, 3 to 50 ticks.

    The same schedule serves both engines at a size, so both time the same stretch of
    the dynamics. Mesa needs ~2 s a tick at 200×200 on this machine; that bounds it.
    """
    agents = width * height * AGENTS_PER_CELL
    if quick:
        return 1, max(2, min(10, round(2e4 / agents)))
    ticks = max(3, min(50, round(2e5 / agents)))
    return (5 if ticks >= 25 else 2), ticks


# --------------------------------------------------------------------------------------
# Mesa's virtual environment
# --------------------------------------------------------------------------------------
def _python_version(exe: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [exe, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.split()
        return int(out[0]), int(out[1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def find_python_for_mesa() -> str:
    """An interpreter for Mesa's venv: the running one if >= 3.12 (newest Mesa needs
    3.12), else a 3.12/3.13 from pyenv or PATH, else the running one (pip then picks the
    newest Mesa that supports it)."""
    if sys.version_info >= (3, 12):
        return sys.executable
    candidates: list[str] = []
    if shutil.which("pyenv"):
        for version in ("3.12", "3.13"):
            try:
                prefix = subprocess.run(
                    ["pyenv", "prefix", version],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=True,
                ).stdout.strip()
                candidates.append(str(Path(prefix.splitlines()[0]) / "bin" / "python"))
            except (OSError, subprocess.SubprocessError, IndexError):
                pass
    for name in ("python3.12", "python3.13"):
        if found := shutil.which(name):
            candidates.append(found)
    root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(glob.glob(f"{root}/versions/3.1[23].*/bin/python"))
    for exe in candidates:
        version = _python_version(exe)
        if version is not None and version >= (3, 12) and "/shims/" not in exe:
            return exe
    return sys.executable


def _mesa_version(python: Path) -> str | None:
    probe = (
        "import mesa, mesa.examples.advanced.epstein_civil_violence.model; print(mesa.__version__)"
    )
    res = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    return res.stdout.strip() if res.returncode == 0 else None


def ensure_mesa(upgrade: bool) -> Path:
    """The venv's Python with Mesa importable; create and install on first use."""
    python = MESA_VENV / "bin" / "python"
    if not python.exists():
        base = find_python_for_mesa()
        print(f"creating {MESA_VENV.relative_to(REPO)} with {base}", flush=True)
        subprocess.run([base, "-m", "venv", str(MESA_VENV)], check=True)
        upgrade = True
    if upgrade or _mesa_version(python) is None:
        print(f"installing {MESA_REQUIREMENT} (newest that installs) …", flush=True)
        res = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--upgrade", MESA_REQUIREMENT],
            capture_output=True,
            text=True,
        )
        if res.returncode != 0:
            raise SystemExit(f"installing Mesa into {MESA_VENV} failed:\n{res.stderr}")
    if _mesa_version(python) is None:
        res = subprocess.run(
            [str(python), "-c", "import mesa.examples.advanced.epstein_civil_violence.model"],
            capture_output=True,
            text=True,
        )
        raise SystemExit(f"Mesa's example does not import in {MESA_VENV}:\n{res.stderr}")
    return python


def run_mesa(
    python: Path, width: int, height: int, warmup: int, ticks: int, seeds: list[int]
) -> dict:
    cmd = [
        str(python),
        str(HERE / "_mesa_timing.py"),
        f"--width={width}",
        f"--height={height}",
        f"--warmup={warmup}",
        f"--ticks={ticks}",
        "--seeds",
        *map(str, seeds),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"Mesa timing at {width}x{height} failed:\n{res.stderr}")
    raw = json.loads(res.stdout)
    runs = raw["runs"]
    aps = [r["n_agents"] * ticks / sum(r["tick_s"]) for r in runs]
    aps_cpu = [r["n_agents"] * ticks / r["cpu_s"] for r in runs]
    # The same ticks less the time inside the example's DataCollector.collect.
    aps_no_dc = [r["n_agents"] * ticks / (sum(r["tick_s"]) - sum(r["collect_s"])) for r in runs]
    aps_cpu_no_dc = [r["n_agents"] * ticks / (r["cpu_s"] - r["collect_cpu_s"]) for r in runs]
    return {
        "version": raw["mesa_version"],
        "python": raw["python"],
        "constructor": raw["constructor"],
        "import_s": raw["import_s"],
        "seeds": [r["seed"] for r in runs],
        "n_agents": [r["n_agents"] for r in runs],
        "init_s": [r["init_s"] for r in runs],
        "tick_s": [r["tick_s"] for r in runs],
        "collect_s": [r["collect_s"] for r in runs],
        "cpu_s": [r["cpu_s"] for r in runs],
        "collect_cpu_s": [r["collect_cpu_s"] for r in runs],
        "collector_share": [sum(r["collect_s"]) / sum(r["tick_s"]) for r in runs],
        "active_at_end": [r.get("active_at_end") for r in runs],
        "jailed_at_end": [r.get("jailed_at_end") for r in runs],
        "wall_per_tick_s": [sum(r["tick_s"]) / ticks for r in runs],
        "agent_steps_per_s": aps,
        "agent_steps_per_s_median": statistics.median(aps),
        "agent_steps_per_cpu_s": aps_cpu,
        "agent_steps_per_cpu_s_median": statistics.median(aps_cpu),
        "agent_steps_per_s_no_collector": aps_no_dc,
        "agent_steps_per_cpu_s_no_collector": aps_cpu_no_dc,
    }


def paired_ratios(ours: dict, mesa: dict) -> dict:
    """Ours ÷ Mesa seed by seed (the same seed, one after the other, in one run): wall,
    CPU, and both against Mesa without its DataCollector."""

    def ratio(a: list[float], b: list[float]) -> list[float]:
        return [x / y for x, y in zip(a, b, strict=True)]

    return {
        "wall": ratio(ours["agent_steps_per_s"], mesa["agent_steps_per_s"]),
        "cpu": ratio(ours["agent_steps_per_cpu_s"], mesa["agent_steps_per_cpu_s"]),
        "wall_no_collector": ratio(
            ours["agent_steps_per_s"], mesa["agent_steps_per_s_no_collector"]
        ),
        "cpu_no_collector": ratio(
            ours["agent_steps_per_cpu_s"], mesa["agent_steps_per_cpu_s_no_collector"]
        ),
    }


# --------------------------------------------------------------------------------------
# upheaval
# --------------------------------------------------------------------------------------
def scenario_for(width: int, height: int, **overrides):
    import upheaval

    return upheaval.apply_overrides(
        upheaval.load("mesa-example"), {"width": width, "height": height, **overrides}
    )


def warm_up_ours() -> float:
    """Compile (or load from numba's cache) every kernel on a tiny grid."""
    import upheaval

    t0 = time.perf_counter()
    upheaval.Simulation(scenario_for(20, 20), seed=0).step(3)
    return time.perf_counter() - t0


def _tally_seconds(sim) -> float | None:
    """Seconds of one per-tick record tally (internal; for the profile only)."""
    try:
        from upheaval.model.kernels import tally
    except ImportError:
        return None
    tally(sim.place.agents)
    t0 = time.perf_counter()
    for _ in range(3):
        tally(sim.place.agents)
    return (time.perf_counter() - t0) / 3


def run_ours(
    width: int, height: int, warmup: int, ticks: int, seeds: list[int], **overrides
) -> dict:
    import upheaval

    scenario = scenario_for(width, height, **overrides)
    runs = []
    for seed in seeds:
        t0 = time.perf_counter()
        sim = upheaval.Simulation(scenario, seed=seed)
        init_s = time.perf_counter() - t0
        sim.step(warmup)
        n = sim.n_agents()
        kernel0 = sim.timings["step_s"]
        c0 = time.process_time()
        t0 = time.perf_counter()
        sim.step(ticks)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        kernel = sim.timings["step_s"] - kernel0
        if sim.n_agents() != n:
            raise RuntimeError(f"agent count changed during timing: {n} → {sim.n_agents()}")
        runs.append(
            {
                "seed": seed,
                "n_agents": n,
                "init_s": init_s,
                "wall_per_tick_s": wall / ticks,
                "cpu_per_tick_s": cpu / ticks,
                "kernel_per_tick_s": kernel / ticks,
                "tally_s": _tally_seconds(sim),
                "nbytes": sim.nbytes(),
                "active_at_end": sim.counts()["active"],
                "jailed_at_end": sim.counts()["jailed"],
            }
        )
        del sim
    aps = [r["n_agents"] / r["wall_per_tick_s"] for r in runs]
    aps_cpu = [r["n_agents"] / r["cpu_per_tick_s"] for r in runs]
    mid = statistics.median
    wall = mid(r["wall_per_tick_s"] for r in runs)
    kernel = mid(r["kernel_per_tick_s"] for r in runs)
    n_med = mid(r["n_agents"] for r in runs)
    tallies = [r["tally_s"] for r in runs if r["tally_s"] is not None]
    return {
        "runs": runs,
        "n_agents": [r["n_agents"] for r in runs],
        "agent_steps_per_s": aps,
        "agent_steps_per_s_median": mid(aps),
        "agent_steps_per_cpu_s": aps_cpu,
        "agent_steps_per_cpu_s_median": mid(aps_cpu),
        "wall_per_tick_s_median": wall,
        "kernel_per_tick_s_median": kernel,
        "outside_kernel_per_tick_s_median": mid(
            r["wall_per_tick_s"] - r["kernel_per_tick_s"] for r in runs
        ),
        "tally_per_tick_s_median": mid(tallies) if tallies else None,
        "kernel_ns_per_agent_step": kernel / n_med * 1e9,
        "bytes_per_agent": mid(r["nbytes"] / r["n_agents"] for r in runs),
        "init_s_median": mid(r["init_s"] for r in runs),
    }


def measure_memory(width: int, height: int, seed: int, ticks: int) -> dict:
    """Peak RSS delta of one run, in a fresh interpreter (see ``_upheaval_memory.py``)."""
    res = subprocess.run(
        [
            sys.executable,
            str(HERE / "_upheaval_memory.py"),
            *map(str, (width, height, seed, ticks)),
        ],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        raise SystemExit(f"memory probe at {width}x{height} failed:\n{res.stderr}")
    out = json.loads(res.stdout)
    out["nbytes_per_agent"] = out["nbytes"] / out["n_agents"]
    out["peak_rss_delta_per_agent"] = out["peak_rss_delta_bytes"] / out["n_agents"]
    return out


def von_neumann_cells(radius: float) -> int:
    """Cells in a von Neumann diamond of integer radius r, own cell included."""
    r = int(radius)
    return 2 * r * (r + 1) + 1


def vision_sweep(size: tuple[int, int], visions: list[int], seeds: list[int]) -> dict:
    """Kernel ns per agent-step against neighbourhood size at one grid size.

    Fits ns = fixed + per_cell × cells; the per-cell slope is the cost of scanning the
    neighbourhood, the intercept everything else an agent does in a turn. Vision also
    changes the dynamics (how many go active), so read it as a rough split.
    """
    w, h = size
    warmup, ticks = schedule(w, h, quick=False)
    rows = []
    for v in visions:
        r = run_ours(w, h, warmup, ticks, seeds, **{"citizens.vision": v, "cops.vision": v})
        rows.append(
            {
                "vision": v,
                "cells": von_neumann_cells(v),
                "kernel_ns_per_agent_step": r["kernel_ns_per_agent_step"],
                "agent_steps_per_s_median": r["agent_steps_per_s_median"],
            }
        )
    xs = [r["cells"] for r in rows]
    ys = [r["kernel_ns_per_agent_step"] for r in rows]
    fit = None
    if len(set(xs)) >= 2:
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
            (x - mx) ** 2 for x in xs
        )
        fit = {"fixed_ns": my - slope * mx, "per_cell_ns": slope}
    # Rule M's share at vision 7: the same run with nobody moving.
    still = run_ours(
        w, h, warmup, ticks, seeds, **{"citizens.movement": False, "cops.movement": False}
    )
    return {
        "width": w,
        "height": h,
        "ticks": ticks,
        "seeds": seeds,
        "rows": rows,
        "fit": fit,
        "vision7_no_movement_ns_per_agent_step": still["kernel_ns_per_agent_step"],
    }


# --------------------------------------------------------------------------------------
# reporting
# --------------------------------------------------------------------------------------
def _fmt_rate(x: float | None) -> str:
    if x is None:
        return "—"
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    return f"{x / 1e3:.1f} k"


def _verdict(ok: bool | None) -> str:
    return "not run" if ok is None else ("PASS" if ok else "FAIL")


def evaluate_targets(sizes: list[dict], memory: dict | None) -> list[dict]:
    by_size = {(s["width"], s["height"]): s for s in sizes}
    targets = []
    for size, want in TARGET_RATIO.items():
        s = by_size.get(size)
        got = s.get("ratio") if s else None
        got_cpu = s.get("ratio_cpu") if s else None
        targets.append(
            {
                "name": f"ours/Mesa at {size[0]}x{size[1]}",
                "target": f">= {want:g}x",
                "measured": None if got is None else round(got, 2),
                "measured_cpu": None if got_cpu is None else round(got_cpu, 2),
                "pass": None if got is None else got >= want,
                "pass_cpu": None if got_cpu is None else got_cpu >= want,
            }
        )
    size, want = TARGET_APS
    s = by_size.get(size)
    got = s["ours"]["agent_steps_per_s_median"] if s else None
    targets.append(
        {
            "name": f"ours at {size[0]}x{size[1]} (2.8 M citizens, vision 7)",
            "target": f">= {want / 1e6:g} M agent-steps/s",
            "measured": got,
            "measured_cpu": s["ours"]["agent_steps_per_cpu_s_median"] if s else None,
            "pass": None if got is None else got >= want,
            "pass_cpu": None if s is None else s["ours"]["agent_steps_per_cpu_s_median"] >= want,
        }
    )
    largest = max(sizes, key=lambda s: s["width"] * s["height"])
    got = largest["ours"]["bytes_per_agent"]
    targets.append(
        {
            "name": f"state bytes per agent at {largest['width']}x{largest['height']}",
            "target": f"<= {TARGET_BYTES_PER_AGENT:g}",
            "measured": round(got, 2),
            "pass": got <= TARGET_BYTES_PER_AGENT,
        }
    )
    return targets


def print_report(record: dict) -> None:
    m = record["machine"]
    result = record["results"]
    print()
    print(
        f"upheaval {result['upheaval_version']} ({record['git']['commit'][:7]}) vs "
        f"Mesa {result.get('mesa_version') or '(skipped)'} — {m['cpu_model']}, {m['cpus']} CPUs, "
        f"NUMBA_NUM_THREADS={result['numba_threads']}, load {m['loadavg_start']} → "
        f"{m['loadavg_end']}"
    )
    print(f"median of {record['settings']['repeats']} repeats; agent-steps/s (M = 1e6, k = 1e3)")
    print()
    head = (
        f"{'grid':>11} {'agents':>9} {'ticks':>7} {'ours':>10} {'Mesa':>10} {'ratio':>8} "
        f"| {'ours/cpu':>10} {'Mesa/cpu':>10} {'ratio':>8} | {'kernel':>7} {'ns/ag-step':>10} "
        f"{'B/agent':>8}"
    )
    print(head)
    print("-" * len(head))
    for s in result["sizes"]:
        o = s["ours"]
        mesa = s.get("mesa") or {}
        ratio = f"{s['ratio']:.1f}x" if s.get("ratio") else "—"
        ratio_cpu = f"{s['ratio_cpu']:.1f}x" if s.get("ratio_cpu") else "—"
        share = o["kernel_per_tick_s_median"] / o["wall_per_tick_s_median"]
        print(
            f"{s['width']:>5}x{s['height']:<5} {statistics.median(o['n_agents']):>9.0f} "
            f"{s['warmup']:>2}+{s['ticks']:<4} {_fmt_rate(o['agent_steps_per_s_median']):>10} "
            f"{_fmt_rate(mesa.get('agent_steps_per_s_median')):>10} {ratio:>8} "
            f"| {_fmt_rate(o['agent_steps_per_cpu_s_median']):>10} "
            f"{_fmt_rate(mesa.get('agent_steps_per_cpu_s_median')):>10} {ratio_cpu:>8} "
            f"| {share:>7.1%} {o['kernel_ns_per_agent_step']:>10.0f} {o['bytes_per_agent']:>8.2f}"
        )
    print(
        "  agent-steps per wall second, then per CPU second of the process (less sensitive\n"
        "  to other load on a shared machine); ticks = warm-up + timed; kernel = share of\n"
        "  wall time inside the numba step kernel; ns/ag-step = kernel time per agent-step"
    )

    print()
    print("where the time goes (ours, per tick, medians)")
    head = f"{'grid':>11} {'wall':>10} {'kernel':>10} {'outside':>10} {'of which tally':>15}"
    print(head)
    print("-" * len(head))
    for s in result["sizes"]:
        o = s["ours"]
        tally = o["tally_per_tick_s_median"]
        print(
            f"{s['width']:>5}x{s['height']:<5} {o['wall_per_tick_s_median'] * 1e3:>8.3f}ms "
            f"{o['kernel_per_tick_s_median'] * 1e3:>8.3f}ms "
            f"{o['outside_kernel_per_tick_s_median'] * 1e3:>8.3f}ms "
            f"{'—' if tally is None else f'{tally * 1e3:.3f}ms':>15}"
        )
    for sweep in result.get("vision_sweeps", []):
        print()
        print(f"kernel cost against neighbourhood size at {sweep['width']}x{sweep['height']}")
        for r in sweep["rows"]:
            print(
                f"  vision {r['vision']:>2} ({r['cells']:>3} cells): "
                f"{r['kernel_ns_per_agent_step']:>7.0f} ns/agent-step, "
                f"{_fmt_rate(r['agent_steps_per_s_median'])} agent-steps/s"
            )
        if sweep["fit"]:
            f = sweep["fit"]
            print(
                f"  fit: {f['fixed_ns']:.0f} ns fixed + {f['per_cell_ns']:.2f} ns per "
                "neighbourhood cell"
            )
        print(
            f"  vision  7 with movement off: "
            f"{sweep['vision7_no_movement_ns_per_agent_step']:>7.0f} ns/agent-step"
        )

    mem = result.get("memory")
    if mem:
        print()
        print(
            f"memory at {mem['width']}x{mem['height']} ({mem['n_agents']} agents, fresh process): "
            f"state {mem['nbytes'] / 2**20:.1f} MiB = {mem['nbytes_per_agent']:.2f} B/agent; "
            f"peak RSS delta {mem['peak_rss_delta_bytes'] / 2**20:.1f} MiB = "
            f"{mem['peak_rss_delta_per_agent']:.2f} B/agent "
            f"(baseline {mem['baseline_rss_bytes'] / 2**20:.0f} MiB after import + compile)"
        )

    print()
    print("targets")
    for t in result["targets"]:
        shown = _fmt_measured(t["measured"])
        verdict = _verdict(t["pass"])
        if t.get("measured_cpu") is not None:
            shown += f"; per CPU second {_fmt_measured(t['measured_cpu'])}"
            verdict += f" (cpu {_verdict(t['pass_cpu'])})"
        print(f"  {verdict:<18} {t['name']}: {shown} (target {t['target']})")
    print(
        "  first verdict: wall-clock rates, as the targets are stated; (cpu …): the same\n"
        "  on CPU time, which other processes on a shared machine distort less"
    )


def _fmt_measured(x: float | None) -> str:
    if x is None:
        return "—"
    if x > 1e5:
        return f"{x / 1e6:.2f} M"
    return f"{x:g}"


# --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(
        description="upheaval vs Mesa's epstein_civil_violence example: agent-steps/s."
    )
    ap.add_argument("--quick", action="store_true", help="small grids, few ticks, one repeat")
    ap.add_argument("--skip-mesa", action="store_true", help="time upheaval only")
    ap.add_argument("--sizes", help=f"grids for upheaval, N or WxH (default {DEFAULT_SIZES})")
    ap.add_argument(
        "--mesa-sizes",
        default=DEFAULT_MESA_SIZES,
        help=f"of those, the grids Mesa runs too (default {DEFAULT_MESA_SIZES})",
    )
    ap.add_argument("--repeats", type=int, help="seeds per size (default 5; --quick: 1)")
    ap.add_argument("--seed", type=int, default=1, help="first seed (default 1)")
    ap.add_argument("--no-profile", action="store_true", help="skip the vision sweep")
    ap.add_argument("--no-memory", action="store_true", help="skip the fresh-process RSS probe")
    ap.add_argument("--upgrade-mesa", action="store_true", help="pip install --upgrade Mesa")
    ap.add_argument(
        "--json",
        type=Path,
        help="write the record here instead of a new file under benchmarks/results/vs_mesa/",
    )
    args = ap.parse_args(argv)

    sizes = parse_sizes(args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES))
    mesa_sizes = set(parse_sizes(args.mesa_sizes))
    repeats = args.repeats or (1 if args.quick else 5)
    if repeats < 1:
        raise SystemExit("--repeats: must be at least 1")
    seeds = [args.seed + i for i in range(repeats)]

    start = begin()
    mesa_python = None
    if not args.skip_mesa and any(s in mesa_sizes for s in sizes):
        mesa_python = ensure_mesa(args.upgrade_mesa)

    import numba
    import numpy

    import upheaval

    compile_s = warm_up_ours()
    print(f"upheaval kernels ready in {compile_s:.1f} s (compile or cache load; not timed)")

    results = []
    mesa_version = None
    for w, h in sizes:
        warmup, ticks = schedule(w, h, args.quick)
        row: dict = {"width": w, "height": h, "warmup": warmup, "ticks": ticks}
        print(f"{w}x{h}: upheaval {warmup}+{ticks} ticks × {repeats} …", end="", flush=True)
        row["ours"] = run_ours(w, h, warmup, ticks, seeds)
        print(f" {_fmt_rate(row['ours']['agent_steps_per_s_median'])}", end="", flush=True)
        if mesa_python is not None and (w, h) in mesa_sizes:
            print(" | Mesa …", end="", flush=True)
            row["mesa"] = run_mesa(mesa_python, w, h, warmup, ticks, seeds)
            mesa_version = row["mesa"]["version"]
            row["ratios"] = paired_ratios(row["ours"], row["mesa"])
            row["ratio"] = statistics.median(row["ratios"]["wall"])
            row["ratio_cpu"] = statistics.median(row["ratios"]["cpu"])
            print(
                f" {_fmt_rate(row['mesa']['agent_steps_per_s_median'])}, ratio {row['ratio']:.1f}x",
                end="",
            )
        print(flush=True)
        results.append(row)

    memory = None
    if not args.no_memory:
        w, h = max(sizes, key=lambda s: s[0] * s[1])
        print(f"memory probe at {w}x{h} in a fresh process …", flush=True)
        memory = measure_memory(w, h, args.seed, 2)

    sweeps = []
    if not args.no_profile:
        # One seed on the large grid: it is there to show cache effects, not to rank.
        plan = (
            [((40, 40), seeds)] if args.quick else [((200, 200), seeds), ((1000, 1000), seeds[:1])]
        )
        for size, sweep_seeds in plan:
            print(f"vision sweep at {size[0]}x{size[1]} …", flush=True)
            sweeps.append(vision_sweep(size, [1, 2, 4, 7], sweep_seeds))

    result = {
        "upheaval_version": upheaval.__version__,
        "mesa_version": mesa_version,
        "numba": numba.__version__,
        "numpy": numpy.__version__,
        "numba_threads": numba.get_num_threads(),
        "compile_or_cache_load_s": compile_s,
        "sizes": results,
        "memory": memory,
        "vision_sweeps": sweeps,
    }
    result["targets"] = evaluate_targets(results, memory)
    settings = {
        "argv": list(argv) if argv is not None else sys.argv[1:],
        "quick": args.quick,
        "repeats": repeats,
        "seeds": seeds,
        "preset": "mesa-example",
        "agent_steps": "agents (citizens + cops, jailed included) x timed ticks",
        "ratio": "median over seeds of ours / Mesa for the same seed",
    }
    path = write_record("vs_mesa", start, settings, result, out=args.json)
    print_report(json.loads(path.read_text()))
    print(f"\nwrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return result


if __name__ == "__main__":
    main()
