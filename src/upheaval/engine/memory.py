"""Memory a run needs, checked before anything large is allocated.

Without the check, ``--set world.width=1000000 --set world.height=1000000`` asks
numpy for terabytes and dies with a traceback (or, with overcommit, is killed later
by the OOM killer). The estimate counts what initialisation allocates at its peak:

* the lattice: one occupancy byte and one int32 chain head per site;
* 'exact' placement's shuffle of every site (an int64 range and its int32 copy,
  alive together);
* the agents' arrays (the per-slot bytes of :func:`upheaval.model.state.empty_agents`,
  measured on a small instance, without mechanism extras), the activation order and
  the free-slot heap (int32 each), for every slot: round(density × sites) under
  'exact' placement, the same in expectation under 'bernoulli', two per site in
  Model II (room for births).

It is compared with the memory available now (``MemAvailable`` on Linux, within the
process's cgroup limit if it has one). It leaves out mechanism arrays and the
recorded history, which are small beside these at any size where the check matters.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from upheaval.model.params import Params
from upheaval.model.state import empty_agents


def _value(p: Params, location: str) -> Any:
    # By "section.key": the registry's address, which outlives attribute names.
    return p.value(location)


def estimated_bytes(p: Params) -> int:
    """Bytes initialisation allocates at its peak for parameters ``p`` (module docstring)."""
    sites = int(_value(p, "world.width")) * int(_value(p, "world.height"))
    model2 = _value(p, "model.variant") == "II"
    density = float(_value(p, "population.citizen_density")) + float(
        _value(p, "population.cop_density")
    )
    slots = 2 * sites if model2 else round(density * sites)
    probe = 64
    per_slot = sum(a.nbytes for a in empty_agents(probe, model2)) / probe + 4 + 4
    per_site = 1 + 4
    if _value(p, "population.placement") == "exact":
        per_site += 8 + 4
    return int(sites * per_site + slots * per_slot)


def available_bytes() -> int | None:
    """Memory this process can still get, or None where that is unknown."""
    avail = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    limit = _cgroup_room()
    return min(avail, limit) if limit is not None else avail


def _cgroup_room() -> int | None:
    """What the cgroup (v2) limit leaves, if the process has a limit."""
    base = Path("/sys/fs/cgroup")
    try:
        limit = (base / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((base / "memory.current").read_text().strip()))
    except (OSError, ValueError):
        return None


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    raise AssertionError("unreachable")


def check_memory(p: Params, where: str, places: tuple[Params, ...] = ()) -> None:
    """Raise :class:`upheaval.ScenarioError` if a run of ``p`` (or of a country whose
    places have the parameters ``places``) cannot fit in memory."""
    need = sum(estimated_bytes(q) for q in places) if places else estimated_bytes(p)
    room = available_bytes()
    if room is None or need <= room:
        return
    from upheaval.scenario.loading import ScenarioError

    if places:
        agents = sum(round(q.population.citizen_density * q.n_sites) for q in places)
        raise ScenarioError(
            where,
            "world.scale",
            f"a country of {len(places)} places and {agents:,} citizens needs about "
            f"{_size(need)} of memory to start, and {_size(room)} is available; raise "
            "world.scale (fewer people per agent)",
        )
    w, h = _value(p, "world.width"), _value(p, "world.height")
    raise ScenarioError(
        where,
        "world.width",
        f"a {w}×{h} lattice needs about {_size(need)} of memory to start, and "
        f"{_size(room)} is available; make the lattice smaller",
    )
