"""Dated records of benchmark runs: every run appends one JSON file, none is overwritten.

Each benchmark script ends by calling :func:`write_record`, which writes
``benchmarks/results/<benchmark>/<UTC time>-<commit>.json`` (a new file each run; an
existing file is never replaced) holding what the script measured, every repeat
included, together with the facts needed to read it: the commit, whether ``src`` had
uncommitted changes, the machine (CPU model, CPU count, platform, Python) and the load
average at the start and the end of the run (this project's machine is shared by
several engineers: a load above 1 means another job competed for the cores).

``scripts/benchmarks_report.py`` builds the tables of ``README.md`` and
``benchmarks/README.md`` from these files, and ``tests/test_benchmark_docs.py`` fails
when the docs no longer match them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"


def loadavg() -> list[float]:
    """The 1-, 5- and 15-minute load averages (empty where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (else ``platform.processor()``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_state() -> dict[str, Any]:
    """The commit benchmarked and whether ``src`` differed from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=False
        ).stdout.strip()

    try:
        return {
            "commit": git("rev-parse", "HEAD") or "unknown",
            "src_dirty": bool(git("status", "--porcelain", "--", "src")),
        }
    except OSError:
        return {"commit": "unknown", "src_dirty": None}


def commit_of(tree: Path) -> str:
    """The short commit a checkout is at ("?" outside git)."""
    out = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or "?"


def machine() -> dict[str, Any]:
    """What the numbers were measured on (load averages are added by the record)."""
    return {
        "cpu_model": cpu_model(),
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        # the scheduling priority the benchmark ran at (10: it yielded to other jobs)
        "nice": os.nice(0) if hasattr(os, "nice") else None,
    }


def begin() -> dict[str, Any]:
    """Facts to take before a benchmark starts: the time and the load average."""
    return {
        "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "loadavg_start": loadavg(),
        "git": git_state(),  # the code measured: taken before the run, not after it
    }


def spread(values: list[float]) -> dict[str, float]:
    """Median, minimum, maximum and count of repeated measurements."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def write_record(
    benchmark: str,
    start: dict[str, Any],
    settings: dict[str, Any],
    results: dict[str, Any],
    *,
    out: Path | None = None,
    results_dir: Path = RESULTS,
) -> Path:
    """Write one run's record and return its path.

    ``start`` is what :func:`begin` returned before the run; ``settings`` the command's
    options; ``results`` what it measured, every repeat included. By default the file
    is new under ``results_dir/<benchmark>/``; ``out`` writes exactly there instead
    (for a run that is not meant to join the history).
    """
    git = start.get("git") or git_state()
    record = {
        "benchmark": benchmark,
        "created": start["started"],
        "finished": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git": git,
        "machine": {
            **machine(),
            "loadavg_start": start["loadavg_start"],
            "loadavg_end": loadavg(),
        },
        "settings": settings,
        "results": results,
    }
    text = json.dumps(record, indent=1, sort_keys=False) + "\n"
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        return out
    folder = results_dir / benchmark
    folder.mkdir(parents=True, exist_ok=True)
    stamp = start["started"].replace("-", "").replace(":", "")
    base = f"{stamp}-{git['commit'][:7]}"
    for k in range(1000):
        path = folder / (base + (f"_{k}" if k else "") + ".json")  # sorts after base
        try:
            with path.open("x") as fh:  # never replaces a record
                fh.write(text)
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"no free record name under {folder}")


def load_records(benchmark: str, results_dir: Path = RESULTS) -> list[dict[str, Any]]:
    """Every record of a benchmark, oldest first, each with its file name as ``_file``."""
    folder = results_dir / benchmark
    records = []
    for path in sorted(folder.glob("*.json")):
        rec = json.loads(path.read_text())
        rec["_file"] = f"benchmarks/results/{benchmark}/{path.name}"
        records.append(rec)
    records.sort(key=lambda r: (r["created"], r["_file"]))
    return records
