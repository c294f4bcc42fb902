"""Outcome distributions of Mesa's own Epstein example, pinned for the Mesa twin test.

Runs inside Mesa's virtual environment (it must not import upheaval)::

    benchmarks/.venv-mesa/bin/python tests/mesa_twin/record_mesa.py > \\
        tests/mesa_twin/mesa_outcomes.json

(``benchmarks/vs_mesa.py`` creates ``benchmarks/.venv-mesa`` with Mesa on first use;
any of its runs with Mesa does.) For each seed, ``EpsteinCivilViolence`` on its default
40 × 40 grid with ``EpsteinScenario(rng=seed, max_jail_term=30, legitimacy=0.82,
cop_density=0.04)`` (Epstein's run-2 values; every other parameter Mesa's default) runs
``TICKS`` ticks; per seed it records the mean of
the example's own counts (``model.ACTIVE``, ``model.ARRESTED`` after each step) over
ticks 1 … TICKS, the peak of actives and the ticks with at least OUTBURST actives.
At the example's own defaults (1000-tick terms, 0.074 cops a cell) there are no
outbursts to compare; with run 2's values prisoners come back and runs have repeated
outbursts in both models.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys

SEEDS = tuple(range(1, 21))
TICKS = 200
MAX_JAIL_TERM = 30
LEGITIMACY = 0.82
COP_DENSITY = 0.04
OUTBURST = 50  # actives on a tick


def main() -> None:
    import mesa
    from mesa.examples.advanced.epstein_civil_violence import model as ecv

    runs = []
    for seed in SEEDS:
        m = ecv.EpsteinCivilViolence(
            scenario=ecv.EpsteinScenario(
                rng=seed,
                max_jail_term=MAX_JAIL_TERM,
                legitimacy=LEGITIMACY,
                cop_density=COP_DENSITY,
            )
        )
        active, jailed = [], []
        for _ in range(TICKS):
            m.step()
            active.append(int(m.ACTIVE))
            jailed.append(int(m.ARRESTED))
        runs.append(
            {
                "seed": seed,
                "mean_active": statistics.fmean(active),
                "mean_jailed": statistics.fmean(jailed),
                "peak_active": max(active),
                "outburst_ticks": sum(a >= OUTBURST for a in active),
            }
        )
        print(f"seed {seed}: {runs[-1]}", file=sys.stderr, flush=True)
    json.dump(
        {
            "command": "benchmarks/.venv-mesa/bin/python tests/mesa_twin/record_mesa.py",
            "mesa_version": mesa.__version__,
            "python": platform.python_version(),
            "model": "mesa.examples.advanced.epstein_civil_violence.model.EpsteinCivilViolence",
            "width": 40,
            "height": 40,
            "ticks": TICKS,
            "max_jail_term": MAX_JAIL_TERM,
            "legitimacy": LEGITIMACY,
            "cop_density": COP_DENSITY,
            "outburst_threshold": OUTBURST,
            "runs": runs,
        },
        sys.stdout,
        indent=1,
    )
    print(file=sys.stdout)


if __name__ == "__main__":
    main()
