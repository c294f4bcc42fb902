"""Run 1 (citizens stay put, cops move): claim E7, deceptive behaviour.

Epstein: aggrieved agents stay quiet while a cop is in sight and turn active as
soon as none is. We read the state at the end of every tick: for each free
citizen with G − T > 0 (who would be active were there no risk), whether a cop is
within its vision and whether it is active. Positions are end-of-tick, so a cop
that moved after the citizen's turn blurs the association a little; the
transition count below follows the same agents from one tick to the next.
"""

from __future__ import annotations

import numpy as np

import upheaval
from upheaval.analysis import counts_in_vision
from upheaval.analysis.perception import free_citizens
from upheaval.core.codes import ACTIVE

from .helpers import ALPHA, SEEDS, describe, paired, scenario, write_record

PRESET = "epstein2002-run1"


def deception(seed: int) -> dict:
    sim = upheaval.Simulation(scenario(PRESET), seed=seed)
    a, p = sim.place.agents, sim.params
    n = {"sight": 0, "sight_active": 0, "clear": 0, "clear_active": 0}
    trans = {"to_clear": 0, "to_clear_active": 0, "stay_sight": 0, "stay_sight_active": 0}
    quiet_in_sight = np.zeros(a.kind.shape[0], bool)
    active_in_clear = np.zeros(a.kind.shape[0], bool)
    prev_quiet_sight = np.zeros(a.kind.shape[0], bool)
    for _ in range(p.run.steps):
        sim.step()
        free = free_citizens(sim.place)
        aggrieved = free[a.hardship[free] * (1.0 - sim.legitimacy) - p.citizens.threshold > 0]
        sight = counts_in_vision(sim.place).cops[a.position[aggrieved]] > 0
        act = a.status[aggrieved] == ACTIVE
        n["sight"] += int(sight.sum())
        n["sight_active"] += int((sight & act).sum())
        n["clear"] += int((~sight).sum())
        n["clear_active"] += int((~sight & act).sum())
        was = prev_quiet_sight[aggrieved]
        trans["to_clear"] += int((was & ~sight).sum())
        trans["to_clear_active"] += int((was & ~sight & act).sum())
        trans["stay_sight"] += int((was & sight).sum())
        trans["stay_sight_active"] += int((was & sight & act).sum())
        quiet_in_sight[aggrieved[sight & ~act]] = True
        active_in_clear[aggrieved[~sight & act]] = True
        prev_quiet_sight[:] = False
        prev_quiet_sight[aggrieved[sight & ~act]] = True
    return {
        "active_rate_cop_in_sight": n["sight_active"] / n["sight"],
        "active_rate_no_cop_in_sight": n["clear_active"] / n["clear"],
        "quiet_in_sight_then_clear_active_rate": trans["to_clear_active"] / trans["to_clear"]
        if trans["to_clear"]
        else None,
        "quiet_in_sight_stays_in_sight_active_rate": trans["stay_sight_active"]
        / trans["stay_sight"]
        if trans["stay_sight"]
        else None,
        "deceptive_agents": int((quiet_in_sight & active_in_clear).sum()),
        "aggrieved_agent_ticks": n["sight"] + n["clear"],
    }


def test_E7_deceptive_behaviour():
    rows = [deception(s) | {"seed": s} for s in SEEDS]
    test = paired(
        [r["active_rate_cop_in_sight"] for r in rows],
        [r["active_rate_no_cop_in_sight"] for r in rows],
    )
    keys = [k for k in rows[0] if k != "seed"]
    summary = {k: describe(r[k] for r in rows) for k in keys}
    reproduced = test["p_value"] < ALPHA and test["b_greater"] == len(SEEDS)
    write_record(
        "E7",
        statement="deceptive behaviour: aggrieved agents go active when no cop is in sight",
        paper="agents quiet when cops are near turn active when none is in vision (Fig. 2-3)",
        settings=f"{PRESET} preset, {upheaval.load(PRESET).params.run.steps} ticks; free citizens "
        "with G − T > 0, end-of-tick state, cop in citizen vision (1.7, the 8 neighbours)",
        verdict="reproduced" if reproduced else "not reproduced",
        ours=f"active {100 * summary['active_rate_no_cop_in_sight']['mean']:.0f}% of the time "
        f"with no cop in sight vs {100 * summary['active_rate_cop_in_sight']['mean']:.0f}% "
        f"with one (higher in {test['b_greater']}/{len(SEEDS)} seeds, Wilcoxon p = "
        f"{test['p_value']:.2g}); quiet-in-sight agents whose cop left were active "
        f"{100 * summary['quiet_in_sight_then_clear_active_rate']['mean']:.0f}% of the "
        f"time at the next tick; {summary['deceptive_agents']['mean']:.1f} deceptive "
        "agents per run",
        measurements={"summary": summary, "no_cop_vs_cop": test, "per_seed": rows},
    )
    assert reproduced
    assert all(r["deceptive_agents"] > 0 for r in rows)
