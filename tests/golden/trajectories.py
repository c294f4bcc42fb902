"""Golden trajectories: checksums of the tick tables of fixed runs, pinned in
``trajectories.json`` so that a refactoring of the engine is *checked* to give the
same trajectories, not assumed to.

Each case is a scenario (a built-in preset by name, or a TOML file under ``cases/``,
kept here so that later changes to the presets do not move the pins), a seed and a
number of ticks. Its checksum is SHA-256 over the pinned columns, taken **by name**
(so new columns do not move it): for each column, its name, then its values as
little-endian int64 (counts) or float64 (``framing``, ``legitimacy``).

Regenerate only deliberately, when a change is *meant* to move trajectories, and say
so in the commit message::

    python -m tests.golden.trajectories --regenerate
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PINS = HERE / "trajectories.json"

#: The columns pinned, as they stood when the pins were first written.
COLUMNS = (
    "tick",
    "quiet_blue",
    "active_blue",
    "jailed_blue",
    "quiet_green",
    "active_green",
    "jailed_green",
    "cops",
    "arrests",
    "killed_blue",
    "killed_green",
    "born_blue",
    "born_green",
    "died_blue",
    "died_green",
    "released",
    "killed_by_cops",
    "stood_aside",
    "defected",
    "disarmed",
    "provocations",
    "striking",
    "cops_killed",
    "framing",
    "legitimacy",
)
FLOATS = ("framing", "legitimacy")

#: name -> (scenario: preset name or cases/ file, seed, ticks)
CASES: dict[str, tuple[str, int, int]] = {
    **{f"epstein2002-run{k}": (f"epstein2002-run{k}", 3, 200) for k in range(1, 9)},
    "netlogo-rebellion": ("netlogo-rebellion", 3, 200),
    "mesa-example": ("mesa-example", 3, 200),
    "everything": ("cases/everything.toml", 3, 200),
    "legitimacy-lethal": ("cases/legitimacy_lethal.toml", 5, 120),
    "hardship-forces": ("cases/hardship_forces.toml", 5, 120),
    "information-groups": ("cases/information_groups.toml", 5, 120),
    "synchronous": ("cases/synchronous.toml", 5, 120),
}


def scenario_of(source: str):
    import upheaval

    return upheaval.load(HERE / source if source.startswith("cases/") else source)


def checksum(table) -> str:
    """SHA-256 over the pinned columns of a tick table (a pyarrow Table), by name."""
    h = hashlib.sha256()
    for name in COLUMNS:
        values = table.column(name).to_numpy()
        dtype = "<f8" if name in FLOATS else "<i8"
        h.update(name.encode())
        h.update(np.ascontiguousarray(values, dtype=dtype).tobytes())
    return h.hexdigest()


def run_case(name: str) -> str:
    import upheaval

    source, seed, ticks = CASES[name]
    sim = upheaval.Simulation(scenario_of(source), seed=seed)
    sim.run(ticks)
    return checksum(sim.table())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regenerate", action="store_true", help="rewrite trajectories.json")
    args = ap.parse_args(argv)
    got = {name: run_case(name) for name in CASES}
    if args.regenerate:
        PINS.write_text(json.dumps(got, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {len(got)} pins to {PINS}")
        return 0
    pinned = json.loads(PINS.read_text("utf-8"))
    bad = [n for n in CASES if pinned.get(n) != got[n]]
    for n in bad:
        print(f"{n}: {got[n]} != pinned {pinned.get(n)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
