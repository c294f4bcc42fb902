"""Memory per agent of Mesa's own Epstein civil-violence example; run inside the Mesa
virtual environment (``benchmarks/.venv-mesa``, see ``vs_mesa.py``) by
``benchmarks/country.py --mesa-memory``. Prints one JSON line.

Builds the model at each grid size in a fresh process and reports the growth of
the peak resident set (``ru_maxrss``) from before construction to after two
ticks, divided by the agents (citizens 0.7 and cops 0.074 of the cells, Mesa's
defaults); the slope between two sizes is the per-agent cost without the
interpreter's constant.
"""

from __future__ import annotations

import json
import resource
import sys


def measure(side: int) -> dict:
    from mesa.examples.advanced.epstein_civil_violence.model import EpsteinCivilViolence

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    model = EpsteinCivilViolence(width=side, height=side)
    for _ in range(2):
        model.step()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    agents = len(model.agents)
    return {"side": side, "agents": agents, "rss_growth": after - before}


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]))))
