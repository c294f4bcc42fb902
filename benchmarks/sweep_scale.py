"""Sweep throughput and memory at scale (issue 4, §6).

Runs the same sweep — ``--runs`` runs of epstein2002-run2 (40×40), ``--steps`` ticks
each, ten legitimacy levels × replicates — on 1 and on 2 local worker processes, on
a local Dask cluster (2 worker processes) and on local Ray (2 CPUs), and prints
runs per second, the speed-up of 2 workers over 1 and the overhead per run: the
wall time the workers spent on anything but simulating (start-up, pickling,
Parquet writes, scheduling), ``(wall × workers − Σ run time) / runs``.

Then a sweep of ``--memory-runs`` short runs (``--memory-steps`` ticks on a 20×20
lattice) on 2 workers, reporting the peak resident memory of the driver and of
the largest worker (``getrusage``), which must stay below 2 GiB together.

    python benchmarks/sweep_scale.py                     # the full measurement
    python benchmarks/sweep_scale.py --runs 40 --steps 50 --memory-runs 2000  # smoke

The 1- and 2-worker sweeps run ``--repeats`` times (default 5), one after the other
within each repeat, and the speed-up is given per repeat (median and range); Dask and
Ray run once. Every run appends a record under ``benchmarks/results/sweep_scale/``
(``_records.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import upheaval
from _records import begin, spread, write_record
from upheaval.experiments import designs, run_sweep
from upheaval.experiments.designs import parse_factor
from upheaval.experiments.runner import dask_executor, ray_executor
from upheaval.experiments.store import read_status


def _design(runs: int) -> designs.Design:
    levels = 10 if runs >= 10 else 1
    return designs.grid(
        [parse_factor("legitimacy=0.78:0.86")], levels=levels, replicates=max(1, runs // levels)
    )


def _measure(name: str, workers: int, runs: int, steps: int, root: Path, backend: str) -> dict:
    sc = upheaval.load("epstein2002-run2")
    d = _design(runs)
    out = root / name
    t0 = time.perf_counter()
    if backend == "local":
        report = run_sweep(sc, d, out, steps=steps, seed=1, workers=workers)
    else:
        ctx = dask_executor if backend == "dask" else ray_executor
        address = None if backend == "dask" else "local"
        if backend == "dask":
            from distributed import LocalCluster

            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            address = cluster.scheduler_address
        try:
            with ctx(address) as executor:
                t0 = time.perf_counter()  # cluster start-up is not part of the sweep
                report = run_sweep(
                    sc, d, out, steps=steps, seed=1, executor=executor, workers=workers
                )
        finally:
            if backend == "dask":
                cluster.close()
    wall = time.perf_counter() - t0
    status = read_status(out)
    sim = sum(float(e.get("seconds", 0.0)) for e in status.values())
    cpu = sum(float(e.get("cpu_seconds", 0.0)) for e in status.values())
    if not report.complete or report.failed:
        errors = {e.get("error") for e in status.values() if e.get("status") == "failed"}
        raise RuntimeError(f"{name}: {report.failed} runs failed: {sorted(map(str, errors))[:3]}")
    return {
        "backend": name,
        "workers": workers,
        "runs": d.n_runs,
        "steps": steps,
        "wall_s": round(wall, 2),
        "runs_per_s": round(d.n_runs / wall, 2),
        "run_s_mean": round(sim / d.n_runs, 4),
        "run_cpu_s_mean": round(cpu / d.n_runs, 4),
        "busy_share": round(sim / (wall * workers), 3),
        "load_average_after": round(os.getloadavg()[0], 2),
        "overhead_per_run_ms": round(1000 * (wall * workers - sim) / d.n_runs, 2),
    }


def _memory(runs: int, steps: int, root: Path) -> dict:
    sc = upheaval.apply_overrides(upheaval.load("epstein2002-run2"), {"width": 20, "height": 20})
    d = designs.grid([parse_factor("legitimacy=0.6:0.9")], levels=10, replicates=runs // 10)
    t0 = time.perf_counter()
    report = run_sweep(sc, d, root / "memory", steps=steps, seed=1, workers=2)
    wall = time.perf_counter() - t0
    assert report.complete, report
    # ru_maxrss is in KiB on Linux. The workers are the forkserver's children, not
    # ours, so each reports its own peak in the status log.
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = max(
        float(e.get("worker_peak_rss_mib", 0.0)) for e in read_status(root / "memory").values()
    )
    return {
        "runs": d.n_runs,
        "steps": steps,
        "lattice": "20x20",
        "wall_s": round(wall, 1),
        "runs_per_s": round(d.n_runs / wall, 1),
        "driver_peak_rss_mib": round(parent, 1),
        "largest_worker_peak_rss_mib": round(child, 1),
        "total_peak_mib_upper_bound": round(parent + 2 * child, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=5, help="1- and 2-worker pairs (default 5)")
    ap.add_argument("--memory-runs", type=int, default=100_000)
    ap.add_argument("--memory-steps", type=int, default=10)
    ap.add_argument("--skip", nargs="*", default=[], help="backends to skip: dask ray memory")
    ap.add_argument("--json", type=Path, help="write the record here instead of the history")
    ap.add_argument("--memory-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="sweep-scale-"))
    if args.memory_only:
        try:
            print(json.dumps(_memory(args.memory_runs, args.memory_steps, root)))
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return 0
    start = begin()
    results: dict = {}

    def show(r: dict) -> None:
        print(
            f"{r['backend']:>6} × {r['workers']}: {r['runs']} runs × {r['steps']} ticks in "
            f"{r['wall_s']:.1f} s = {r['runs_per_s']:.2f} runs/s; mean run "
            f"{1000 * r['run_s_mean']:.1f} ms wall, {1000 * r['run_cpu_s_mean']:.1f} ms CPU; "
            f"overhead {r['overhead_per_run_ms']:.1f} ms/run; workers busy "
            f"{100 * r['busy_share']:.0f} %; load average {r['load_average_after']:.1f}",
            flush=True,
        )

    try:
        repeats = []
        for k in range(args.repeats):
            one = _measure("local", 1, args.runs, args.steps, root / f"1-{k}", "local")
            two = _measure("local", 2, args.runs, args.steps, root / f"2-{k}", "local")
            show(one)
            show(two)
            speedup = two["runs_per_s"] / one["runs_per_s"]
            repeats.append({"throughput": [one, two], "speedup_2_over_1": speedup})
            print(f"repeat {k + 1}: speed-up, 2 local workers over 1: {speedup:.2f}×", flush=True)
        results["repeats"] = repeats
        results["speedup_2_over_1"] = spread([r["speedup_2_over_1"] for r in repeats])
        others = []
        for backend in ("dask", "ray"):
            if backend in args.skip:
                continue
            try:
                r = _measure(backend, 2, args.runs, args.steps, root / backend, backend)
            except (ImportError, RuntimeError) as e:
                print(f"{backend}: not measured ({e})", flush=True)
                continue
            show(r)
            others.append(r)
        results["other_backends"] = others
        if "memory" not in args.skip:
            # A fresh process, so that the peak memory is this sweep's alone (not the
            # Dask or Ray processes' above).
            cmd = [sys.executable, __file__, "--memory-only"]
            cmd += [
                "--memory-runs",
                str(args.memory_runs),
                "--memory-steps",
                str(args.memory_steps),
            ]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            m = json.loads(done.stdout.strip().splitlines()[-1])
            results["memory"] = m
            print(
                f"memory: {m['runs']} runs × {m['steps']} ticks in {m['wall_s']:.0f} s "
                f"({m['runs_per_s']:.0f} runs/s); peak RSS driver {m['driver_peak_rss_mib']:.0f} "
                f"MiB, largest worker {m['largest_worker_peak_rss_mib']:.0f} MiB"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    settings = {
        "runs": args.runs,
        "steps": args.steps,
        "repeats": args.repeats,
        "memory_runs": args.memory_runs,
        "memory_steps": args.memory_steps,
        "skip": args.skip,
    }
    path = write_record("sweep_scale", start, settings, results, out=args.json)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
