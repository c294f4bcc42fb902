"""Peak resident memory of one upheaval run, measured in a fresh process.

Invoked by ``vs_mesa.py`` as ``python _upheaval_memory.py WIDTH HEIGHT SEED TICKS``.
The baseline is the resident set after importing upheaval and compiling (or loading
from cache) the kernels on a tiny grid; the high-water mark is then reset
(``/proc/self/clear_refs`` ← 5) and freed heap returned to the OS (``malloc_trim``) so
that compiling does not count, and the peak is read after building the simulation and
stepping it. Prints one JSON object on stdout.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time

os.environ["NUMBA_NUM_THREADS"] = "1"


def _status_kib() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0])
    return out


def _reset_high_water_mark() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _release_free_heap() -> bool:
    """Return freed heap pages to the OS (glibc ``malloc_trim``).

    Compiling the kernels frees a lot of heap that stays resident; without trimming,
    the run's arrays reuse those pages and the delta undercounts them.
    """
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


def main() -> None:
    width, height, seed, ticks = (int(x) for x in sys.argv[1:5])
    import upheaval

    base = upheaval.load("mesa-example")
    upheaval.Simulation(upheaval.apply_overrides(base, {"width": 20, "height": 20}), seed=0).step(2)
    scenario = upheaval.apply_overrides(base, {"width": width, "height": height})
    gc.collect()
    trimmed = _release_free_heap()
    baseline = _status_kib()["VmRSS"] * 1024
    hwm_reset = _reset_high_water_mark()

    t0 = time.perf_counter()
    sim = upheaval.Simulation(scenario, seed=seed)
    sim.step(ticks)
    elapsed = time.perf_counter() - t0
    status = _status_kib()
    peak = status["VmHWM"] * 1024
    json.dump(
        {
            "width": width,
            "height": height,
            "ticks": ticks,
            "n_agents": sim.n_agents(),
            "nbytes": sim.nbytes(),
            "baseline_rss_bytes": baseline,
            "peak_rss_bytes": peak,
            "peak_rss_delta_bytes": peak - baseline,
            "hwm_reset": hwm_reset,
            "malloc_trimmed": trimmed,
            "ru_maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "elapsed_s": elapsed,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
