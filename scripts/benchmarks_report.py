"""Build the speed tables of README.md, benchmarks/README.md and docs/experiments.md
from the benchmark records.

Usage (from the repository root)::

    python scripts/benchmarks_report.py            # rewrite the generated blocks
    python scripts/benchmarks_report.py --check    # exit 1 if a block is out of date

Reads ``benchmarks/results/<benchmark>/*.json`` (one file per run, written by the
benchmark scripts through ``benchmarks/_records.py``) and replaces each block between
``<!-- BEGIN GENERATED: NAME -->`` and ``<!-- END GENERATED: NAME -->`` in the docs.
Every figure is a median with its range (minimum–maximum) over the repeats of one
recorded run, and names the record it comes from. A target counts as *met* only when
every recorded run with at least ``MIN_REPEATS`` repeats meets it (its median does);
otherwise it is *not met*, with the runs that met it.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _records import load_records  # noqa: E402

#: A run with fewer repeats is listed in the history but does not decide a verdict.
MIN_REPEATS = 5

#: The core issue's targets (§6); ratios are ours ÷ Mesa in agent-steps per wall second.
TARGET_RATIO = {(40, 40): 100.0, (200, 200): 300.0}
TARGET_APS = ((2000, 2000), 8e6)
TARGET_BYTES_PER_AGENT = 40.0
TARGET_MECHANISMS = 2.0
TARGET_SWEEP_SPEEDUP = 1.8

DOCS = {
    "README.md": ("perf_summary",),
    "benchmarks/README.md": (
        "vs_mesa_latest",
        "vs_mesa_targets",
        "vs_mesa_profile",
        "mechanisms_speed",
        "activation",
        "sweep_scale",
        "cold_start",
        "large_place",
    ),
    "docs/experiments.md": ("sweep_scale",),
}


# ----------------------------------------------------------------------------------------
# formatting
# ----------------------------------------------------------------------------------------
def rate(x: float) -> str:
    """Agent-steps per second: 8.49 M, 58.4 k."""
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.1f} k"


def times(x: float) -> str:
    """A ratio: 146× above 10, else two decimals."""
    return f"{x:.0f}×" if x >= 10 else f"{x:.2f}×"


def plain(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}"


def med_range(values: Iterable[float], fmt: Callable[[float], str]) -> str:
    """'median (min–max)' of repeated measurements; one value alone as itself."""
    v = [x for x in values if x is not None]
    if not v:
        return "—"
    if len(v) == 1:
        return fmt(v[0])
    return f"{fmt(statistics.median(v))} ({fmt(min(v))}–{fmt(max(v))})"


def load(record: dict[str, Any], key: str) -> str:
    values = record["machine"].get(key)
    return "not recorded" if not values else f"{values[0]:.1f}"


def commit(record: dict[str, Any]) -> str:
    c = (record.get("git") or {}).get("commit")
    if not c:
        return "not recorded"
    return c[:7] + (" (src modified)" if record["git"].get("src_dirty") else "")


def day(record: dict[str, Any]) -> str:
    return record["created"][:10]


def source(record: dict[str, Any]) -> str:
    """One line naming a record and the conditions of its run."""
    m = record["machine"]
    cpu = m.get("cpu_model") or "CPU model not recorded"
    nice = f", nice {m['nice']}" if m.get("nice") else ""
    return (
        f"Record `{record['_file']}`: {day(record)}, commit {commit(record)}, {cpu}, "
        f"{m.get('cpus')} cores shared with other engineers' jobs (load average "
        f"{load(record, 'loadavg_start')} at the start, {load(record, 'loadavg_end')} at the "
        f"end{nice})."
    )


def repeats(record: dict[str, Any]) -> int:
    return int(record["settings"].get("repeats") or 1)


def full(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs that decide verdicts: not --quick, at least MIN_REPEATS repeats."""
    return [r for r in records if not r["settings"].get("quick") and repeats(r) >= MIN_REPEATS]


# ----------------------------------------------------------------------------------------
# vs_mesa
# ----------------------------------------------------------------------------------------
def size_rows(record: dict[str, Any]) -> dict[tuple[int, int], dict[str, Any]]:
    return {(s["width"], s["height"]): s for s in record["results"]["sizes"]}


def paired(size: dict[str, Any], kind: str) -> list[float]:
    """Ours ÷ Mesa seed by seed (older records: from the per-seed rates)."""
    if "ratios" in size:
        return size["ratios"][kind]
    if "mesa" not in size or kind not in ("wall", "cpu"):
        return []
    key = "agent_steps_per_s" if kind == "wall" else "agent_steps_per_cpu_s"
    return [o / m for o, m in zip(size["ours"][key], size["mesa"][key], strict=True)]


def aps_target_values(record: dict[str, Any]) -> list[float] | None:
    s = size_rows(record).get(TARGET_APS[0])
    return None if s is None else s["ours"]["agent_steps_per_s"]


def target_checks(record: dict[str, Any]) -> list[tuple[str, float | None, bool | None]]:
    """(target, measured median, met) for each target in one run."""
    rows = size_rows(record)
    out: list[tuple[str, float | None, bool | None]] = []
    for size, want in TARGET_RATIO.items():
        v = paired(rows[size], "wall") if size in rows else []
        got = statistics.median(v) if v else None
        ok = None if got is None else got >= want
        out.append((f"≥ {want:g}× Mesa at {size[0]}×{size[1]}", got, ok))
    size, want = TARGET_APS
    v = aps_target_values(record)
    got = statistics.median(v) if v else None
    out.append(
        (
            f"≥ {want / 1e6:g} M agent-steps/s at {size[0]}×{size[1]}",
            got,
            None if got is None else got >= want,
        )
    )
    mem = record["results"].get("memory")
    got = None if not mem else mem["nbytes"] / mem["n_agents"]
    out.append(
        (
            f"≤ {TARGET_BYTES_PER_AGENT:g} B of state per agent",
            got,
            None if got is None else got <= TARGET_BYTES_PER_AGENT,
        )
    )
    return out


def verdicts(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Per target: 'met' when every full run meets it, else 'not met' and where it was."""
    runs = full(records)
    out = []
    for i, (name, _, _) in enumerate(target_checks(records[-1])):
        checks = [(r, target_checks(r)[i][2]) for r in runs]
        checks = [(r, ok) for r, ok in checks if ok is not None]
        if not checks:
            out.append((name, f"not measured in a run of ≥ {MIN_REPEATS} repeats"))
            continue
        met = [r for r, ok in checks if ok]
        if len(met) == len(checks):
            out.append((name, f"**met** in {len(met)} of {len(checks)} runs"))
        else:
            where = ", ".join(f"{day(r)} {commit(r)}" for r in met) or "none"
            out.append((name, f"**not met**: met in {len(met)} of {len(checks)} runs ({where})"))
    return out


def latest_full(records: list[dict[str, Any]], need: Callable[[dict], bool]) -> dict | None:
    found = [r for r in full(records) if need(r)]
    return found[-1] if found else None


def has_mesa(record: dict[str, Any]) -> bool:
    return any("mesa" in s for s in record["results"]["sizes"])


def vs_mesa_table(record: dict[str, Any]) -> list[str]:
    lines = [
        "| grid | agents | ours ÷ Mesa | ÷ Mesa without its DataCollector | ours ÷ Mesa, CPU time "
        "| ours (agent-steps/s) | Mesa (agent-steps/s) | Mesa's step in its DataCollector |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in record["results"]["sizes"]:
        mesa = s.get("mesa")
        agents = statistics.median(s["ours"]["n_agents"])
        share = mesa.get("collector_share") if mesa else None
        lines.append(
            f"| {s['width']}×{s['height']} | {agents:,.0f} "
            f"| {med_range(paired(s, 'wall'), times)} "
            f"| {med_range(paired(s, 'wall_no_collector'), times)} "
            f"| {med_range(paired(s, 'cpu'), times)} "
            f"| {med_range(s['ours']['agent_steps_per_s'], rate)} "
            f"| {med_range(mesa['agent_steps_per_s'], rate) if mesa else '—'} "
            f"| {med_range([100 * x for x in share], lambda x: f'{x:.0f} %') if share else '—'} |"
        )
    return lines


def block_vs_mesa_latest(records: dict[str, list]) -> list[str]:
    recs = records["vs_mesa"]
    r = latest_full(recs, has_mesa)
    if r is None:
        return [f"*No run of `vs_mesa.py` with Mesa and ≥ {MIN_REPEATS} repeats recorded.*"]
    n = repeats(r)
    lines = [
        f"Latest run with ≥ {MIN_REPEATS} repeats: medians and ranges (min–max) over {n} "
        "seeds; each ratio is taken seed by seed, ours and Mesa's on the same seed one "
        "after the other in the same run. Mesa "
        f"{r['results']['mesa_version']}, upheaval {r['results']['upheaval_version']}.",
        "",
        *vs_mesa_table(r),
        "",
        source(r),
    ]
    mem = r["results"].get("memory")
    if mem:
        lines += [
            "",
            f"Memory at {mem['width']}×{mem['height']} ({mem['n_agents']:,} agents, fresh "
            f"process): state {mem['nbytes'] / mem['n_agents']:.1f} B per agent; peak RSS "
            f"delta {mem['peak_rss_delta_bytes'] / mem['n_agents']:.1f} B per agent.",
        ]
    return lines


def block_vs_mesa_targets(records: dict[str, list]) -> list[str]:
    recs = [r for r in records["vs_mesa"] if not r["settings"].get("quick")]
    if not recs:
        return ["*No run recorded.*"]
    names = [name for name, _, _ in target_checks(recs[-1])]
    lines = [
        "Every recorded run (`--quick` runs left out); a cell is the run's median and "
        "whether it meets the target.",
        "",
        "| run | commit | repeats | load at start | " + " | ".join(names) + " |",
        "|---|---|---|---|" + "---|" * len(names),
    ]
    for r in recs:
        cells = []
        for name, got, ok in target_checks(r):
            if got is None:
                cells.append("not run")
                continue
            if "agent-steps" in name:
                shown = rate(got)
            else:
                shown = times(got) if "Mesa" in name else plain(got, 1)
            cells.append(f"{shown} {'met' if ok else 'not met'}")
        lines.append(
            f"| {day(r)} | {commit(r)} | {repeats(r)} | {load(r, 'loadavg_start')} | "
            + " | ".join(cells)
            + " |"
        )
    lines += [
        "",
        f"Verdicts over the runs with ≥ {MIN_REPEATS} repeats (a target is met only if every "
        "such run meets it):",
        "",
    ]
    lines += [f"* {name}: {verdict}" for name, verdict in verdicts(recs)]
    return lines


def block_vs_mesa_profile(records: dict[str, list]) -> list[str]:
    r = latest_full(records["vs_mesa"], lambda _: True)
    if r is None:
        return ["*No run recorded.*"]
    lines = [
        "Per tick, medians over the seeds of the run above (ours):",
        "",
        "| grid | wall | in the step kernel | outside it | kernel ns per agent-step "
        "| state B per agent |",
        "|---|---|---|---|---|---|",
    ]
    for s in r["results"]["sizes"]:
        o = s["ours"]
        runs = o["runs"]
        wall = [x["wall_per_tick_s"] * 1e3 for x in runs]
        kernel = [x["kernel_per_tick_s"] * 1e3 for x in runs]
        outside = [(x["wall_per_tick_s"] - x["kernel_per_tick_s"]) * 1e6 for x in runs]
        ns = [x["kernel_per_tick_s"] / x["n_agents"] * 1e9 for x in runs]
        lines.append(
            f"| {s['width']}×{s['height']} "
            f"| {med_range(wall, lambda v: f'{v:.3g} ms')} "
            f"| {med_range(kernel, lambda v: f'{v:.3g} ms')} "
            f"| {med_range(outside, lambda v: f'{v:.0f} µs')} "
            f"| {med_range(ns, lambda v: f'{v:.0f}')} "
            f"| {o['bytes_per_agent']:.2f} |"
        )
    return lines


# ----------------------------------------------------------------------------------------
# the other benchmarks
# ----------------------------------------------------------------------------------------
def block_mechanisms_speed(records: dict[str, list]) -> list[str]:
    r = latest_full(records["mechanisms_speed"], lambda _: True)
    if r is None:
        return [f"*No run with ≥ {MIN_REPEATS} repeats recorded.*"]
    res, st = r["results"], r["settings"]
    own, same = res["own_runs"], res["same_state"]
    ns = lambda v: f"{v:.1f}"  # noqa: E731
    return [
        f"`--side {st['side']} --ticks {st['ticks']} --repeats {st['repeats']}`: CPU ns per "
        f"agent-step, median (range) over {len(own)} repeats (target: all on ≤ "
        f"{TARGET_MECHANISMS:g}× the classic step).",
        "",
        "| measure | classic | all on | ratio |",
        "|---|---|---|---|",
        f"| each arm along its own run | {med_range([x['classic_ns'] for x in own], ns)} "
        f"| {med_range([x['mechanisms_ns'] for x in own], ns)} "
        f"| {med_range([x['ratio'] for x in own], times)} |",
        f"| both from the same states of the all-on run "
        f"| {med_range([x['classic_ns'] for x in same], ns)} "
        f"| {med_range([x['mechanisms_ns'] for x in same], ns)} "
        f"| {med_range([x['ratio'] for x in same], times)} |",
        "",
        source(r),
    ]


def block_activation(records: dict[str, list]) -> list[str]:
    r = latest_full(records["activation"], lambda _: True)
    if r is None:
        return [f"*No run with ≥ {MIN_REPEATS} repeats recorded.*"]
    st = r["settings"]
    lines = [
        f"`--sizes {st['sizes']} --ticks {st['ticks']} --repeats {st['repeats']}`: "
        "agent-steps per CPU second, median (range) over the seeds; the ratio seed by seed.",
        "",
        "| grid | random order | synchronous (variant) | synchronous ÷ random order |",
        "|---|---|---|---|",
    ]
    for s in r["results"]["sizes"]:
        lines.append(
            f"| {s['side']}×{s['side']} | {med_range(s['random_order'], rate)} "
            f"| {med_range(s['synchronous'], rate)} | {med_range(s['ratio'], times)} |"
        )
    return [*lines, "", source(r)]


def block_sweep_scale(records: dict[str, list]) -> list[str]:
    recs = records["sweep_scale"]
    r = latest_full(recs, lambda _: True)
    lines: list[str] = []
    if r is None:
        lines.append(f"*No run with ≥ {MIN_REPEATS} repeats recorded.*")
    else:
        st = r["settings"]
        reps = r["results"]["repeats"]
        speed = [x["speedup_2_over_1"] for x in reps]
        one = [x["throughput"][0] for x in reps]
        two = [x["throughput"][1] for x in reps]
        per = lambda v: f"{v:.1f}"  # noqa: E731
        ms = lambda v: f"{v:.1f} ms"  # noqa: E731
        lines += [
            f"`--runs {st['runs']} --steps {st['steps']} --repeats {st['repeats']}`: "
            f"{one[0]['runs']} runs of `epstein2002-run2` (40 × 40, {st['steps']} ticks) on 1 "
            "and then 2 local worker processes, in each repeat; median (range) over "
            f"{len(reps)} repeats.",
            "",
            "| workers | runs/s | run (wall) | overhead per run | busy |",
            "|---|---|---|---|---|",
        ]
        for w, rows in ((1, one), (2, two)):
            lines.append(
                f"| {w} | {med_range([x['runs_per_s'] for x in rows], per)} "
                f"| {med_range([1000 * x['run_s_mean'] for x in rows], ms)} "
                f"| {med_range([x['overhead_per_run_ms'] for x in rows], ms)} "
                f"| {med_range([100 * x['busy_share'] for x in rows], lambda v: f'{v:.0f} %')} |"
            )
        met = sum(x >= TARGET_SWEEP_SPEEDUP for x in speed)
        lines += [
            "",
            f"**Speed-up of 2 local workers over 1: {med_range(speed, times)}** (target ≥ "
            f"{TARGET_SWEEP_SPEEDUP:g}×: met in {met} of {len(speed)} repeats).",
            "",
            source(r),
        ]
        for o in r["results"].get("other_backends", []):
            lines.append(f"{o['backend']} (2 workers, once): {o['runs_per_s']:.1f} runs/s.")
    mem = [x for x in recs if x["results"].get("memory")]
    if mem:
        m = mem[-1]["results"]["memory"]
        lines += [
            "",
            f"Memory ({day(mem[-1])}, once): {m['runs']:,} short runs ({m['lattice']} lattice, "
            f"{m['steps']} ticks; 2 workers) in {m['wall_s']:.0f} s, peak resident memory "
            f"{m['driver_peak_rss_mib']:.0f} MiB in the driver and "
            f"{m['largest_worker_peak_rss_mib']:.0f} MiB in the largest worker: at most "
            f"{m['total_peak_mib_upper_bound']:.0f} MiB together. "
            f"Record `{mem[-1]['_file']}`.",
        ]
    old = [x for x in recs if x is not r]
    if old:
        lines += ["", "Earlier runs, fewer repeats:"]
        for x in old:
            reps = x["results"]["repeats"]
            lines.append(
                f"* {day(x)} (`{x['_file']}`, {len(reps)} repeat): speed-up "
                f"{med_range([y['speedup_2_over_1'] for y in reps], times)}"
            )
    return lines


def _cold_scenario(record: dict[str, Any]) -> str:
    """The command a cold-start record timed, less ``upheaval run``; records before
    issue 11 timed run 2 only, and did not say so."""
    settings = record.get("settings") or {}
    return " ".join(
        [settings.get("scenario", "epstein2002-run2")]
        + [f"--set {kv}" for kv in settings.get("sets", [])]
    )


def block_cold_start(records: dict[str, list]) -> list[str]:
    recs = records["cold_start"]
    if not recs:
        return ["*No run recorded.*"]
    lines = [
        "| run | commit | machine | scenario | repeats | first run (empty cache): wall | CPU "
        "| peak RSS | second run (warm): wall | CPU | load at start |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    s = lambda v: f"{v:.1f} s"  # noqa: E731
    mib = lambda v: f"{v:.0f} MiB"  # noqa: E731
    for r in recs:
        e = r["results"]["end_to_end"]
        lines.append(
            f"| {day(r)} | {commit(r)} | {_cpu(r)} | {_cold_scenario(r)} | {len(e)} "
            f"| {med_range([x['cold']['wall_s'] for x in e], s)} "
            f"| {med_range([x['cold']['cpu_s'] for x in e], s)} "
            f"| {med_range([x['cold']['peak_rss_mib'] for x in e], mib)} "
            f"| {med_range([x['warm']['wall_s'] for x in e], s)} "
            f"| {med_range([x['warm']['cpu_s'] for x in e], s)} "
            f"| {load(r, 'loadavg_start')} |"
        )
    paired = [r for r in recs if "before" in r["results"]]
    if paired:
        lines += [
            "",
            "Side by side (`--before`): another checkout's first run timed in the same run, "
            "cold runs alternating; the ratio of the medians, after ÷ before:",
            "",
            "| run | after | before | machine | repeats | first run, after: CPU | before: CPU "
            "| after ÷ before, CPU | wall |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in paired:
            e = r["results"]["end_to_end"]
            q = r["results"]["after_over_before"]
            lines.append(
                f"| {day(r)} | {commit(r)} | {r['results']['before']['commit']} | {_cpu(r)} "
                f"| {len(e)} | {med_range([x['cold']['cpu_s'] for x in e], s)} "
                f"| {med_range([x['before']['cold']['cpu_s'] for x in e], s)} "
                f"| {q['cpu_s']:.3f} | {q['wall_s']:.3f} |"
            )
    lines += ["", "Records: " + ", ".join(f"`{r['_file']}`" for r in recs) + "."]
    return lines


def _cpu(record: dict[str, Any]) -> str:
    return record["machine"].get("cpu_model") or "not recorded"


def ratios_by_run(records: list[dict[str, Any]]) -> list[str]:
    """Ours ÷ Mesa (wall; CPU time in brackets' place below) at each grid, one column a
    run: how the ratio moves with the machine's load."""
    runs = [r for r in full(records) if has_mesa(r)]
    grids = sorted({g for r in runs for g, s in size_rows(r).items() if "mesa" in s})
    head = " | ".join(f"{day(r)} {commit(r)}, load {load(r, 'loadavg_start')}" for r in runs)
    lines = [f"| ours ÷ Mesa (wall / CPU time) | {head} |", "|---|" + "---|" * len(runs)]
    for g in grids:
        cells = []
        for r in runs:
            s = size_rows(r).get(g)
            if s is None or "mesa" not in s:
                cells.append("—")
                continue
            wall = statistics.median(paired(s, "wall"))
            cpu = statistics.median(paired(s, "cpu"))
            cells.append(f"{times(wall)} / {times(cpu)}")
        lines.append(f"| {g[0]}×{g[1]} | " + " | ".join(cells) + " |")
    return lines


def block_perf_summary(records: dict[str, list]) -> list[str]:
    recs = records["vs_mesa"]
    r = latest_full(recs, has_mesa)
    lines: list[str] = []
    if r is None:
        lines.append("*No full run of `vs_mesa.py` recorded.*")
    else:
        lines += [
            f"Ours against Mesa's own example side by side, single core, median (range) over "
            f"{repeats(r)} seeds of the latest run; each ratio is taken seed by seed.",
            "",
            *vs_mesa_table(r),
            "",
            source(r),
            "",
            f"Every run with ≥ {MIN_REPEATS} repeats (medians). The ratios move with the "
            "load average: other engineers' jobs preempt and slow both engines, unevenly "
            "(Mesa's timed stretches last seconds, ours milliseconds), so read each with "
            "its load:",
            "",
            *ratios_by_run(recs),
        ]
    lines += [
        "",
        "Targets of the core issue, over every run recorded with ≥ "
        f"{MIN_REPEATS} repeats (`benchmarks/README.md` lists each run):",
        "",
    ]
    lines += [f"* {name}: {verdict}" for name, verdict in verdicts(recs)] if recs else []
    sweep = latest_full(records["sweep_scale"], lambda _: True)
    if sweep is not None:
        speed = [x["speedup_2_over_1"] for x in sweep["results"]["repeats"]]
        lines += [
            "",
            f"Sweeps: 2 local workers over 1, speed-up {med_range(speed, times)} over "
            f"{len(speed)} repeats ({day(sweep)}, `{sweep['_file']}`).",
        ]
    # a new user's first run: run 2 as shipped (records of other scenarios are listed
    # in benchmarks/README.md)
    cold = [r for r in records["cold_start"] if _cold_scenario(r) == "epstein2002-run2"]
    latest_cold = latest_full(cold, lambda _: True)
    if latest_cold is not None:
        cold, when = [latest_cold], f"at commit {commit(latest_cold)} ({day(latest_cold)})"
    else:
        when = "before the engine's restructuring (issue 8), the only runs recorded"
    if cold:
        e = [x for r in cold for x in r["results"]["end_to_end"]]
        s = lambda v: f"{v:.0f} s"  # noqa: E731
        mib = lambda v: f"{v:.0f} MiB"  # noqa: E731
        lines += [
            "",
            f"First run after an install (empty numba cache), {len(e)} runs {when}: "
            f"{med_range([x['cold']['cpu_s'] for x in e], s)} of CPU, "
            f"{med_range([x['cold']['wall_s'] for x in e], s)} wall on the shared machine, "
            f"peak memory {med_range([x['cold']['peak_rss_mib'] for x in e], mib)}; "
            f"the second run (warm cache): "
            f"{med_range([x['warm']['cpu_s'] for x in e], lambda v: f'{v:.1f} s')} of CPU.",
        ]
    return lines


#: Issue 9 §4: a 2000×2000 place at most 1.25× the cost per agent-step of 200×200.
TARGET_LARGE_PLACE = 1.25


def block_large_place(records: dict[str, list]) -> list[str]:
    recs = records["large_place"]
    if not recs:
        return ["*No run recorded.*"]
    ns = lambda v: f"{v:.1f} ns"  # noqa: E731
    lines = [
        "Every run recorded: CPU ns per agent-step, median (range) over the seeds; growth "
        "is the large lattice's median ÷ the small one's (target ≤ "
        f"{TARGET_LARGE_PLACE}).",
        "",
        "| run | commit | machine | load at start | seeds | tile | lattice | random order "
        "| tiled | tiled ÷ random order |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in recs:
        st, res = r["settings"], r["results"]
        for size in res["sizes"]:
            lines.append(
                f"| {day(r)} | {commit(r)} | {_cpu(r)} | {load(r, 'loadavg_start')} "
                f"| {st['repeats']} | {st['tile']} | {size['side']}×{size['side']} "
                f"| {med_range(size['random_order'], ns)} | {med_range(size['tiled'], ns)} "
                f"| {res['tiled_over_random'][str(size['side'])]:.2f} |"
            )
    lines += [
        "",
        "| run | commit | growth, random order | growth, tiled | tiled large ÷ random order "
        "small | state B per agent, random order / tiled (largest) |",
        "|---|---|---|---|---|---|",
    ]
    for r in recs:
        res = r["results"]
        g = res["growth"]
        largest = res["sizes"][-1].get("state_bytes_per_agent")
        mem = (
            f"{largest['random_order']:.1f} / {largest['tiled']:.1f}" if largest else "not recorded"
        )
        verdict = lambda x: "met" if x <= TARGET_LARGE_PLACE else "not met"  # noqa: E731
        lines.append(
            f"| {day(r)} | {commit(r)} | {g['random_order']:.2f} ({verdict(g['random_order'])}) "
            f"| {g['tiled']:.2f} ({verdict(g['tiled'])}) "
            f"| {res['tiled_large_over_random_small']:.2f} "
            f"({verdict(res['tiled_large_over_random_small'])}) | {mem} |"
        )
    lines += ["", "Records: " + ", ".join(f"`{r['_file']}`" for r in recs) + "."]
    return lines


BLOCKS: dict[str, Callable[[dict[str, list]], list[str]]] = {
    "perf_summary": block_perf_summary,
    "vs_mesa_latest": block_vs_mesa_latest,
    "vs_mesa_targets": block_vs_mesa_targets,
    "vs_mesa_profile": block_vs_mesa_profile,
    "mechanisms_speed": block_mechanisms_speed,
    "activation": block_activation,
    "sweep_scale": block_sweep_scale,
    "cold_start": block_cold_start,
    "large_place": block_large_place,
}

BENCHMARKS = (
    "vs_mesa",
    "mechanisms_speed",
    "activation",
    "sweep_scale",
    "cold_start",
    "large_place",
)


def all_records(results_dir: Path | None = None) -> dict[str, list]:
    kw = {} if results_dir is None else {"results_dir": results_dir}
    return {b: load_records(b, **kw) for b in BENCHMARKS}


def render_doc(text: str, names: Iterable[str], records: dict[str, list]) -> str:
    for name in names:
        pattern = re.compile(
            rf"(<!-- BEGIN GENERATED: {name} [^\n]*-->\n).*?(<!-- END GENERATED: {name} -->)",
            re.S,
        )
        if not pattern.search(text):
            raise SystemExit(f"no generated block {name!r} in the document")
        body = "\n".join(BLOCKS[name](records))
        text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a document is stale")
    ap.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    records = all_records(args.root / "benchmarks" / "results")
    stale = []
    for doc, names in DOCS.items():
        path = args.root / doc
        old = path.read_text("utf-8")
        new = render_doc(old, names, records)
        if new != old:
            stale.append(doc)
            if not args.check:
                path.write_text(new, "utf-8")
    if args.check:
        for doc in stale:
            print(f"{doc} is out of date: run python scripts/benchmarks_report.py", file=sys.stderr)
        return 1 if stale else 0
    print("benchmarks_report: " + (f"wrote {', '.join(stale)}" if stale else "all up to date"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
