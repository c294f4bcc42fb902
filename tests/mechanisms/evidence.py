"""Measurements behind the evidence tests of the issue-3 mechanisms (part A).

Each function runs one mechanism on and off (or early and late) over fixed seeds and
returns plain numbers; the tests assert the direction of the effect and write the
record to ``tests/mechanisms/results/*.json``, which ``scripts/mechanisms_report.py``
summarises into docs/mechanisms.md. Paired designs: the same seed runs both arms, so
until the mechanism first acts both arms are identical.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import upheaval
from upheaval.engine.simulation import Simulation
from upheaval.model.ticks import COLUMNS
from upheaval.model.timeline import ActionEvent, SetEvent
from upheaval.scenario.schema import Scenario

RESULTS = Path(__file__).resolve().parent / "results"
SEEDS = tuple(range(1, 21))
COL = {name: k for k, name in enumerate(COLUMNS)}


def base() -> Scenario:
    return upheaval.load("epstein2002-run2")


def run(sc: Scenario, seed: int, ticks: int) -> list[tuple]:
    sim = Simulation(sc, seed=seed)
    sim.step(ticks)
    return sim.place.history


def column(history: list[tuple], name: str) -> list[float]:
    return [row[COL[name]] for row in history]


def paired_effect(on: list[float], off: list[float]) -> dict[str, Any]:
    """Mean paired difference, its standard deviation, Cohen's d_z and the share of
    seeds where on > off."""
    diffs = [a - b for a, b in zip(on, off, strict=True)]
    mean = statistics.fmean(diffs)
    sd = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
    return {
        "n_seeds": len(diffs),
        "mean_on": statistics.fmean(on),
        "mean_off": statistics.fmean(off),
        "mean_difference": mean,
        "sd_difference": sd,
        "cohens_dz": mean / sd if sd > 0 else math.copysign(math.inf, mean) if mean else 0.0,
        "share_on_greater": sum(d > 0 for d in diffs) / len(diffs),
    }


def write(name: str, record: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


# -- 1. legitimacy that answers to events ------------------------------------------------
def legitimacy_feedback(seeds=SEEDS, ticks: int = 300) -> dict[str, Any]:
    """Global feedback (defaults) against the classic model on run 2.

    Measures the legitimacy deficit L0 − L averaged over the 50 ticks after the first
    large outburst (≥ 50 actives), and mean actives per tick with and without."""
    sc = base()
    on_sc = sc.with_params(legitimacy_feedback="global")
    l0 = sc.params.citizens.legitimacy
    deficits, end_deficits, act_on, act_off, first = [], [], [], [], []
    for seed in seeds:
        h_on = run(on_sc, seed, ticks)
        h_off = run(sc, seed, ticks)
        active = column(h_on, "active_blue")
        legit = column(h_on, "legitimacy")
        t0 = next((t for t, a in enumerate(active) if a >= 50), None)
        first.append(t0)
        window = legit[t0 + 1 : t0 + 51] if t0 is not None else [l0]
        deficits.append(l0 - statistics.fmean(window))
        end_deficits.append(l0 - legit[-1])
        act_on.append(statistics.fmean(active[1:]))
        act_off.append(statistics.fmean(column(h_off, "active_blue")[1:]))
    return {
        "scenario": "epstein2002-run2, legitimacy.feedback = global (defaults)",
        "ticks": ticks,
        "seeds": list(seeds),
        "first_outburst_tick": first,
        "legitimacy_deficit_after_outburst": {
            "mean": statistics.fmean(deficits),
            "min": min(deficits),
            "share_positive": sum(d > 0 for d in deficits) / len(deficits),
        },
        "legitimacy_deficit_at_end": {
            "mean": statistics.fmean(end_deficits),
            "share_positive": sum(d > 0 for d in end_deficits) / len(end_deficits),
        },
        "mean_actives": paired_effect(act_on, act_off),
    }


# -- 2. hardship shocks --------------------------------------------------------------------
def hardship_shock(seeds=SEEDS, ticks: int = 200) -> dict[str, Any]:
    """A hardship shock ×1.5 to all citizens at tick 50, rolled back fully at tick 120,
    against no shock; and a shock to a 20 % group only.

    Effects: mean actives in ticks 51-120 (shock vs none), in ticks 141-200 (after the
    rollback vs none), and ticks 51-120 for the group shock vs none."""
    sc = base()
    shock = (ActionEvent(tick=50, action="shock", factor=1.5),)
    rollback = (*shock, ActionEvent(tick=120, action="rollback", share=1.0))
    grp = sc.with_params(hardship_group_share=0.2)
    grp_shock = (ActionEvent(tick=50, action="shock", factor=1.5, target="group"),)
    during_on, during_off, after_on, after_off, g_on, g_off = [], [], [], [], [], []
    for seed in seeds:
        h_none = column(run(sc, seed, ticks), "active_blue")
        h_rb = column(
            run(Scenario(params=sc.params, timeline=rollback), seed, ticks), "active_blue"
        )
        during_on.append(statistics.fmean(h_rb[51:121]))
        during_off.append(statistics.fmean(h_none[51:121]))
        after_on.append(statistics.fmean(h_rb[141:]))
        after_off.append(statistics.fmean(h_none[141:]))
        gn = column(run(grp, seed, ticks), "active_blue")
        gs = column(
            run(Scenario(params=grp.params, timeline=grp_shock), seed, ticks), "active_blue"
        )
        g_on.append(statistics.fmean(gs[51:121]))
        g_off.append(statistics.fmean(gn[51:121]))
    return {
        "scenario": "epstein2002-run2; shock factor 1.5 at tick 50, rollback at tick 120",
        "ticks": ticks,
        "seeds": list(seeds),
        "actives_during_shock": paired_effect(during_on, during_off),
        "actives_after_rollback": paired_effect(after_on, after_off),
        "actives_during_group_shock": paired_effect(g_on, g_off),
    }


# -- 3. lethal force -------------------------------------------------------------------------
def lethal_force(seeds=SEEDS, ticks: int = 250, q: float = 0.05) -> dict[str, Any]:
    """Lethal force q on run 2 from tick 1.

    Deaths: killed_by_cops with q against none. Backlash: with deterrence off, mean
    actives in ticks 101-250 with backlash 20 against backlash 0. Deterrence: with
    backlash 0, mean actives with deterrence 0.5 against none."""
    sc = base()
    strong = sc.with_params(lethal_probability=q, lethal_backlash=20.0)
    none = sc.with_params(lethal_probability=q, lethal_backlash=0.0)
    feared = none.with_params(lethal_deterrence=0.5)
    deaths_on, deaths_off, bl_on, bl_off, dt_on, dt_off = [], [], [], [], [], []
    for seed in seeds:
        h_strong = run(strong, seed, ticks)
        h_none = run(none, seed, ticks)
        h_classic = run(sc, seed, ticks)
        h_feared = run(feared, seed, ticks)
        deaths_on.append(sum(column(h_none, "killed_by_cops")))
        deaths_off.append(sum(column(h_classic, "killed_by_cops")))
        bl_on.append(statistics.fmean(column(h_strong, "active_blue")[101:]))
        bl_off.append(statistics.fmean(column(h_none, "active_blue")[101:]))
        dt_on.append(statistics.fmean(column(h_feared, "active_blue")[1:]))
        dt_off.append(statistics.fmean(column(h_none, "active_blue")[1:]))
    return {
        "scenario": f"epstein2002-run2, lethal_force.probability = {q}",
        "ticks": ticks,
        "seeds": list(seeds),
        "deaths": paired_effect(deaths_on, deaths_off),
        "later_actives_backlash_20_vs_0": paired_effect(bl_on, bl_off),
        "actives_deterrence_0.5_vs_0": paired_effect(dt_on, dt_off),
    }


# -- 5. reinforcement: hysteresis -------------------------------------------------------------
#: One threshold for both directions: calm is broken on the first tick with at least this
#: share of the citizens active, and restored on the first tick with fewer.
UNREST_SHARE = 0.05


def _break_restore(active: list[int], n_cit: int, ticks: int) -> tuple[int, int | None]:
    line = UNREST_SHARE * n_cit
    brk = next((t - 50 for t in range(50, 150) if active[t] >= line), 100)
    res = next((t - 150 for t in range(150, ticks + 1) if active[t] < line), None)
    return brk, res


def reinforcement_hysteresis(seeds=SEEDS, ticks: int = 300) -> dict[str, Any]:
    """Run 2's society with L = 0.8 kept calm by 118 cops (cop_density 0.074); at
    tick 50 the cops fall to 16 (cop_density 0.01); at tick 150 an intervention unit
    of 102 patrols arrives, restoring the number.

    Break time: ticks from the removal to the first tick with ≥ 5 % of the citizens
    active; restore time: ticks from the arrival to the first tick with < 5 % active
    (never: the remaining ticks). One threshold both ways, so that a lag is not made
    by two thresholds. Hysteresis would be restore > break. Measured for
    the classic model and with global legitimacy feedback; plus the reinforcement's
    own effect: mean actives in ticks 151-300 with against without it."""
    sc = upheaval.load("epstein2002-run2").with_params(cop_density=0.074, legitimacy=0.8)
    removal = SetEvent(tick=50, param="cop_density", value=0.01)
    arrival = ActionEvent(tick=150, action="reinforce", count=102, unit="intervention")
    n_cit = round(sc.params.population.citizen_density * sc.params.n_sites)
    out: dict[str, Any] = {
        "scenario": "epstein2002-run2, L = 0.8, cops 118 → 16 at tick 50, +102 at tick 150",
        "ticks": ticks,
        "seeds": list(seeds),
    }
    for label, params in (
        ("classic", sc.params),
        ("legitimacy_feedback", sc.params.replace(legitimacy_feedback="global")),
    ):
        breaks, restores, with_r, without_r = [], [], [], []
        for seed in seeds:
            a = column(
                run(Scenario(params=params, timeline=(removal, arrival)), seed, ticks),
                "active_blue",
            )
            b = column(
                run(Scenario(params=params, timeline=(removal,)), seed, ticks), "active_blue"
            )
            brk, res = _break_restore(a, n_cit, ticks)
            breaks.append(brk)
            restores.append(res if res is not None else ticks - 150 + 1)
            with_r.append(statistics.fmean(a[151:]))
            without_r.append(statistics.fmean(b[151:]))
        diffs = [r - b for r, b in zip(restores, breaks, strict=True)]
        out[label] = {
            "break_ticks": breaks,
            "restore_ticks": restores,
            "restore_minus_break": paired_effect(restores, breaks),
            "share_restore_slower": sum(d > 0 for d in diffs) / len(diffs),
            "actives_after_arrival_with_vs_without": paired_effect(with_r, without_r),
        }
    return out


# -- 4. security forces with minds of their own ---------------------------------------------
def security_forces(seeds=SEEDS, ticks: int = 150) -> dict[str, Any]:
    """Run 2 with cops' minds on and legitimacy dropping at tick 50 from 0.82 to 0.6
    (defection arms) or 0.7 (disarming arms, a smaller crowd).

    Defection: disloyal local police (ℓ ~ U(0, 0.4)) against loyal (ℓ ~ U(0.9, 1)):
    defections and the peak of actives after the drop. Foreign troops: the disloyal
    range given to a foreign initial force against local police (defections).
    Disarming: loyal forces with disarm_ratio 8 and 32, and 200 (more actives than a
    cop's vision holds sites: never reachable): cops disarmed."""
    sc = base()
    drop = (SetEvent(tick=50, param="legitimacy", value=0.6),)
    mild = (SetEvent(tick=50, param="legitimacy", value=0.7),)
    minds = sc.params.replace(forces_minds=True)
    disloyal = minds.replace(
        forces_local_police_loyalty_low=0.0,
        forces_local_police_loyalty_high=0.4,
        forces_foreign_loyalty_low=0.0,
        forces_foreign_loyalty_high=0.4,
    )
    loyal = minds.replace(forces_local_police_loyalty_low=0.9, forces_local_police_loyalty_high=1.0)
    foreign = disloyal.replace(forces_initial_origin="foreign")
    ratios = (8.0, 32.0, 200.0)
    rec: dict[str, list[float]] = {
        k: [] for k in ("def_dis", "def_loy", "peak_dis", "peak_loy", "def_for", "aside_for")
    }
    disarmed: dict[float, list[int]] = {q: [] for q in ratios}
    killing: dict[str, list[int]] = {"disarmed": [], "killed": []}
    for seed in seeds:
        h_dis = run(Scenario(params=disloyal, timeline=drop), seed, ticks)
        h_loy = run(Scenario(params=loyal, timeline=drop), seed, ticks)
        h_for = run(Scenario(params=foreign, timeline=drop), seed, ticks)
        rec["def_dis"].append(sum(column(h_dis, "defected")))
        rec["def_loy"].append(sum(column(h_loy, "defected")))
        rec["peak_dis"].append(max(column(h_dis, "active_blue")[51:]))
        rec["peak_loy"].append(max(column(h_loy, "active_blue")[51:]))
        rec["def_for"].append(sum(column(h_for, "defected")))
        rec["aside_for"].append(sum(column(h_for, "stood_aside")))
        for q in ratios:
            h = run(
                Scenario(params=loyal.replace(forces_disarm_ratio=q), timeline=mild), seed, ticks
            )
            disarmed[q].append(sum(column(h, "disarmed")))
        deadly = loyal.replace(forces_disarm_ratio=8.0, forces_disarm_kill=0.5)
        h = run(Scenario(params=deadly, timeline=mild), seed, ticks)
        killing["disarmed"].append(sum(column(h, "disarmed")))
        killing["killed"].append(sum(column(h, "cops_killed")))
    return {
        "scenario": (
            "epstein2002-run2, security_forces.minds, legitimacy 0.82 → 0.6 "
            "(disarming: 0.7) at tick 50"
        ),
        "ticks": ticks,
        "seeds": list(seeds),
        "defections_disloyal_vs_loyal": paired_effect(rec["def_dis"], rec["def_loy"]),
        "peak_actives_disloyal_vs_loyal": paired_effect(rec["peak_dis"], rec["peak_loy"]),
        "defections_local_vs_foreign": paired_effect(rec["def_dis"], rec["def_for"]),
        "foreign_defections": rec["def_for"],
        "foreign_stood_aside": rec["aside_for"],
        "disarmed_by_ratio": {
            f"{q:g}": {
                "mean": statistics.fmean(disarmed[q]),
                "share_positive": sum(d > 0 for d in disarmed[q]) / len(disarmed[q]),
                "per_seed": disarmed[q],
            }
            for q in ratios
        },
        "cops_killed_at_disarm_kill_0.5": {
            "disarmed": sum(killing["disarmed"]),
            "killed": sum(killing["killed"]),
            "share_killed": sum(killing["killed"]) / max(1, sum(killing["disarmed"])),
        },
    }


# -- 6. provocateurs and framing -----------------------------------------------------------
def _ordinary_actives(sc: Scenario, seed: int, ticks: int) -> tuple[list[tuple], list[int]]:
    """History, and per tick the active citizens who are not provocateurs."""
    sim = Simulation(sc, seed=seed)
    ordinary = []
    for _ in range(ticks):
        sim.step()
        a = sim.place.agents
        mask = (a.kind == 0) & (a.status == 1)
        if a.role.shape[0]:
            mask &= a.role == 0
        ordinary.append(int(mask.sum()))
    return sim.place.history, ordinary


def provocateurs(seeds=SEEDS, ticks: int = 250, count: int = 10, q: float = 0.02) -> dict[str, Any]:
    """Run 2 under a standing lethal order q (docs/odd.md §7.16), paired by seed.

    Arms: no provocateurs; ``count`` provocateurs with the default framing; the same
    provocateurs with no bystander effect (β = 0). Measures: the lethal-force rate
    (killings per enforcement), enforcements per tick, the mean framing, and the
    mean number of ordinary (non-provocateur) actives per tick."""
    p0 = base().params.replace(lethal_probability=q)
    with_p = p0.replace(provocateurs_count=count)
    no_bystander = with_p.replace(provocateurs_framing_bystander=0.0)
    rec: dict[str, list[float]] = {
        k: []
        for k in (
            "rate_on",
            "rate_off",
            "enf_on",
            "enf_off",
            "ord_on",
            "ord_off",
            "ord_nb",
            "framing",
            "provocations",
        )
    }

    def rate(h: list[tuple]) -> float:
        kills = sum(column(h, "killed_by_cops"))
        return kills / max(1, kills + sum(column(h, "arrests")))

    def enforcements(h: list[tuple]) -> float:
        return (sum(column(h, "killed_by_cops")) + sum(column(h, "arrests"))) / ticks

    for seed in seeds:
        h_off, o_off = _ordinary_actives(Scenario(params=p0), seed, ticks)
        h_on, o_on = _ordinary_actives(Scenario(params=with_p), seed, ticks)
        _, o_nb = _ordinary_actives(Scenario(params=no_bystander), seed, ticks)
        rec["rate_on"].append(rate(h_on))
        rec["rate_off"].append(rate(h_off))
        rec["enf_on"].append(enforcements(h_on))
        rec["enf_off"].append(enforcements(h_off))
        rec["ord_on"].append(statistics.fmean(o_on))
        rec["ord_off"].append(statistics.fmean(o_off))
        rec["ord_nb"].append(statistics.fmean(o_nb))
        rec["framing"].append(statistics.fmean(column(h_on, "framing")))
        rec["provocations"].append(sum(column(h_on, "provocations")))
    return {
        "scenario": (
            f"epstein2002-run2, lethal_force.probability {q}; {count} provocateurs, framing "
            "defaults (rise 0.02, decay 0.95, lethal 0.2, arrest 0.5, bystander 0.5)"
        ),
        "ticks": ticks,
        "seeds": list(seeds),
        "lethal_rate_provocateurs_vs_none": paired_effect(rec["rate_on"], rec["rate_off"]),
        "enforcements_per_tick_provocateurs_vs_none": paired_effect(rec["enf_on"], rec["enf_off"]),
        "ordinary_actives_provocateurs_vs_none": paired_effect(rec["ord_on"], rec["ord_off"]),
        "ordinary_actives_bystander_effect_vs_none": paired_effect(rec["ord_on"], rec["ord_nb"]),
        "mean_framing": statistics.fmean(rec["framing"]),
        "provocations_per_run": statistics.fmean(rec["provocations"]),
    }


# -- 9. elite split ---------------------------------------------------------------------------
def elite_split(
    seeds=SEEDS, ticks: int = 150, drop_tick: int = 50, reclaim_tick: int = 100
) -> dict[str, Any]:
    """Run 2 with cops' minds on and legitimacy 0.82 → 0.6 at ``drop_tick``
    (docs/odd.md §7.18), paired by seed.

    Arms: one command (united); half the initial force under a rival faction whose
    loyalty to the ruler is λ_rival = 0.2 (split); the split, with the ruler taking
    command of the whole force at ``reclaim_tick`` (reclaimed). Measures: cops who
    break ranks (stood aside + defected) and the peak of actives between the drop and
    the reclaim (split vs united); cops breaking ranks after the reclaim (reclaimed
    vs split)."""
    sc = base()
    drop = SetEvent(tick=drop_tick, param="legitimacy", value=0.6)
    united = sc.params.replace(forces_minds=True)
    split = united.replace(elite_rival_share=0.5, elite_rival_loyalty=0.2)
    reclaim = ActionEvent(tick=reclaim_tick, action="shift_command", to="ruler")
    rec: dict[str, list[float]] = {
        k: [] for k in ("broke_split", "broke_united", "peak_split", "peak_united")
    }
    rec |= {"after_split": [], "after_reclaimed": [], "arrests_split": [], "arrests_united": []}

    def broke(h: list[tuple], lo: int, hi: int) -> int:
        return sum(column(h, "stood_aside")[lo:hi]) + sum(column(h, "defected")[lo:hi])

    for seed in seeds:
        h_u = run(Scenario(params=united, timeline=(drop,)), seed, ticks)
        h_s = run(Scenario(params=split, timeline=(drop,)), seed, ticks)
        h_r = run(Scenario(params=split, timeline=(drop, reclaim)), seed, ticks)
        window = (drop_tick + 1, reclaim_tick + 1)
        rec["broke_split"].append(broke(h_s, *window))
        rec["broke_united"].append(broke(h_u, *window))
        rec["peak_split"].append(max(column(h_s, "active_blue")[window[0] : window[1]]))
        rec["peak_united"].append(max(column(h_u, "active_blue")[window[0] : window[1]]))
        rec["arrests_split"].append(sum(column(h_s, "arrests")[window[0] : window[1]]))
        rec["arrests_united"].append(sum(column(h_u, "arrests")[window[0] : window[1]]))
        rec["after_split"].append(broke(h_s, reclaim_tick + 1, ticks + 1))
        rec["after_reclaimed"].append(broke(h_r, reclaim_tick + 1, ticks + 1))
    return {
        "scenario": (
            "epstein2002-run2, security_forces.minds, legitimacy 0.82 → 0.6 at tick "
            f"{drop_tick}; split: elite.rival_share 0.5, rival_loyalty 0.2; reclaimed: "
            f"shift_command to the ruler at tick {reclaim_tick}"
        ),
        "ticks": ticks,
        "seeds": list(seeds),
        "broke_ranks_split_vs_united": paired_effect(rec["broke_split"], rec["broke_united"]),
        "peak_actives_split_vs_united": paired_effect(rec["peak_split"], rec["peak_united"]),
        "arrests_split_vs_united": paired_effect(rec["arrests_split"], rec["arrests_united"]),
        "broke_ranks_after_reclaim_vs_split": paired_effect(
            rec["after_reclaimed"], rec["after_split"]
        ),
    }


# -- 7. information beyond sight -----------------------------------------------------------
def information_channel(
    seeds=SEEDS, ticks: int = 300, shutdown_tick: int = 100, repression_weight: float = 5.0
) -> dict[str, Any]:
    """The long-range channel on run 2 (docs/odd.md §7.15), paired by seed.

    * mobilising (w_A = 1): peak actives and outburst count against the classic model;
    * damping (w_A = 0, w_R = ``repression_weight``): peak and mean actives;
    * shutdown: the mobilising channel cut at ``shutdown_tick`` against left on; from
      that tick on, at every tick with ≥ 5 active sites, clusters per active site and
      the largest cluster's share (analysis/dispersion.py), averaged per run;
    * shutdown with a focal site: the same, with the channel pointing protesters to
      the lattice's centre (``information.focal_x/y``; Hassanpour's Tahrir Square).
    """
    from upheaval.analysis.dispersion import dispersion
    from upheaval.results.outbursts import outbursts

    sc = base()
    p = sc.params
    mobilising = p.replace(information_enabled=True, information_actives_weight=1.0)
    damping = p.replace(
        information_enabled=True,
        information_actives_weight=0.0,
        information_repression_weight=repression_weight,
    )
    cut = (ActionEvent(tick=shutdown_tick, action="shutdown"),)

    def actives(params: Any, seed: int) -> list[int]:
        return column(run(Scenario(params=params), seed, ticks), "active_blue")

    focal = mobilising.replace(
        information_focal_x=p.world.width // 2, information_focal_y=p.world.height // 2
    )

    def spread(timeline: tuple, seed: int, params: Any = mobilising) -> tuple[float, float, float]:
        sim = Simulation(Scenario(params=params, timeline=timeline), seed=seed)
        per_site, largest, after = [], [], []
        for _ in range(ticks):
            sim.step()
            if sim.tick < shutdown_tick:
                continue
            after.append(sim.place.history[-1].active_blue)
            d = dispersion(sim.place.agents, p.world.width, p.world.height)
            if d.active_sites >= 5:
                per_site.append(d.clusters / d.active_sites)
                largest.append(d.largest_share)
        return statistics.fmean(per_site), statistics.fmean(largest), statistics.fmean(after)

    rows: dict[str, list[float]] = {
        k: []
        for k in (
            "peak_off",
            "peak_on",
            "count_off",
            "count_on",
            "mean_off",
            "peak_damped",
            "mean_damped",
            "cps_online",
            "cps_shutdown",
            "largest_online",
            "largest_shutdown",
            "after_online",
            "after_shutdown",
            "cps_focal_online",
            "cps_focal_shutdown",
            "largest_focal_online",
            "largest_focal_shutdown",
        )
    }
    for seed in seeds:
        off, on, damped = actives(p, seed), actives(mobilising, seed), actives(damping, seed)
        rows["peak_off"].append(max(off))
        rows["peak_on"].append(max(on))
        rows["count_off"].append(outbursts(off).count)
        rows["count_on"].append(outbursts(on).count)
        rows["mean_off"].append(statistics.fmean(off))
        rows["peak_damped"].append(max(damped))
        rows["mean_damped"].append(statistics.fmean(damped))
        for arm, tl in (("online", ()), ("shutdown", cut)):
            cps, largest, after = spread(tl, seed)
            rows[f"cps_{arm}"].append(cps)
            rows[f"largest_{arm}"].append(largest)
            rows[f"after_{arm}"].append(after)
            cps, largest, _ = spread(tl, seed, focal)
            rows[f"cps_focal_{arm}"].append(cps)
            rows[f"largest_focal_{arm}"].append(largest)
    return {
        "scenario": "epstein2002-run2",
        "seeds": list(seeds),
        "ticks": ticks,
        "shutdown_tick": shutdown_tick,
        "repression_weight": repression_weight,
        "peak_mobilising": paired_effect(rows["peak_on"], rows["peak_off"]),
        "outbursts_mobilising": paired_effect(rows["count_on"], rows["count_off"]),
        "peak_damping": paired_effect(rows["peak_damped"], rows["peak_off"]),
        "mean_damping": paired_effect(rows["mean_damped"], rows["mean_off"]),
        "clusters_per_active_site_shutdown": paired_effect(
            rows["cps_shutdown"], rows["cps_online"]
        ),
        "largest_share_shutdown": paired_effect(rows["largest_shutdown"], rows["largest_online"]),
        "actives_after_shutdown": paired_effect(rows["after_shutdown"], rows["after_online"]),
        "focal_clusters_per_active_site_shutdown": paired_effect(
            rows["cps_focal_shutdown"], rows["cps_focal_online"]
        ),
        "focal_largest_share_shutdown": paired_effect(
            rows["largest_focal_shutdown"], rows["largest_focal_online"]
        ),
    }


# -- 8. organised groups and strikes ---------------------------------------------------------
def _organised_run(params: Any, seed: int, ticks: int, timeline: tuple = (), org=None):
    """One run; per tick the actives among members and non-members (by the ``org``
    array given, else the run's own), group-ticks acting and, per group and tick, the
    share of its free members active (None when none is active)."""
    import numpy as np

    from upheaval.core.codes import ACTIVE, JAILED

    sim = Simulation(Scenario(params=params, timeline=timeline), seed=seed)
    org = sim.place.agents.org.copy() if org is None else org
    groups = int(org.max())
    members = org > 0
    out = {"org": org, "member_active": [], "other_active": [], "acting": [], "sync": []}
    for _ in range(ticks):
        sim.step()
        a = sim.place.agents
        active = a.status[: org.shape[0]] == ACTIVE
        free = (a.status[: org.shape[0]] != JAILED) & (a.status[: org.shape[0]] != 3)
        out["member_active"].append(int(np.count_nonzero(active & members)))
        out["other_active"].append(int(np.count_nonzero(active & ~members)))
        if sim.place.rules.organisation_on:
            out["acting"].append(int(np.count_nonzero(sim.place.signals.organisation_mode[1:])))
        for g in range(1, groups + 1):
            in_g = (org == g) & free
            n_act = int(np.count_nonzero(in_g & active))
            if n_act:
                out["sync"].append(n_act / int(np.count_nonzero(in_g)))
    out["history"] = sim.place.history
    return out


def organisation_strikes(seeds=SEEDS, ticks: int = 300) -> dict[str, Any]:
    """Organised groups (docs/odd.md §7.17) on run 2: 10 groups, 30 % of citizens
    members, paired by seed against the same citizens without organisation (their
    membership draws come after every other draw, so both arms share the population).

    * synchrony (action protest, quorum 0.2, ρ = 1): over (group, tick) pairs with
      an active free member, the share of the group's free members active — the
      members in the organised run against the same citizens unorganised;
    * strikes hurt the regime (action strike, quorum 0.3, ρ = 0.5, λ_strike = 0.01):
      legitimacy at the end, and street mobilisation in ticks 151-300 — actives
      among non-members, and all actives — against no organisation;
    * a general strike at tick 100 for 50 ticks against none (same organisation):
      legitimacy at tick 150, non-members' actives in ticks 101-200, all actives in
      ticks 101-150;
    * quorum 0.4 against 0.2 (strike): group-ticks acting, strikers summed.
    """
    sc = base()
    p = sc.params
    org_p = p.replace(
        organisation_groups=10,
        organisation_member_share=0.3,
        organisation_risk_factor=0.5,
        organisation_strike_impact=0.01,
    )
    protest = org_p.replace(
        organisation_action="protest", organisation_quorum=0.2, organisation_risk_factor=1.0
    )
    strike = org_p.replace(organisation_quorum=0.3)
    general = (ActionEvent(tick=100, action="general_strike", ticks=50),)
    keys = (
        "sync_on",
        "sync_off",
        "legit_on",
        "legit_off",
        "others_on",
        "others_off",
        "all_on",
        "all_off",
        "gs_legit",
        "no_gs_legit",
        "gs_others",
        "no_gs_others",
        "gs_all",
        "no_gs_all",
        "acting_hi",
        "acting_lo",
        "striking_hi",
        "striking_lo",
    )
    rec: dict[str, list[float]] = {k: [] for k in keys}
    col_l, col_s = COL["legitimacy"], COL["striking"]
    for seed in seeds:
        on = _organised_run(protest, seed, ticks)
        off = _organised_run(p, seed, ticks, org=on["org"])
        rec["sync_on"].append(statistics.fmean(on["sync"]) if on["sync"] else 0.0)
        rec["sync_off"].append(statistics.fmean(off["sync"]) if off["sync"] else 0.0)
        s_on = _organised_run(strike, seed, ticks)
        s_off = _organised_run(p, seed, ticks, org=s_on["org"])
        rec["legit_on"].append(s_on["history"][-1][col_l])
        rec["legit_off"].append(s_off["history"][-1][col_l])
        rec["others_on"].append(statistics.fmean(s_on["other_active"][150:]))
        rec["others_off"].append(statistics.fmean(s_off["other_active"][150:]))
        rec["all_on"].append(statistics.fmean(column(s_on["history"], "active_blue")[151:]))
        rec["all_off"].append(statistics.fmean(column(s_off["history"], "active_blue")[151:]))
        gs = _organised_run(strike, seed, ticks, general)
        rec["gs_legit"].append(gs["history"][150][col_l])
        rec["no_gs_legit"].append(s_on["history"][150][col_l])
        rec["gs_others"].append(statistics.fmean(gs["other_active"][100:200]))
        rec["no_gs_others"].append(statistics.fmean(s_on["other_active"][100:200]))
        rec["gs_all"].append(statistics.fmean(column(gs["history"], "active_blue")[101:151]))
        rec["no_gs_all"].append(statistics.fmean(column(s_on["history"], "active_blue")[101:151]))
        for arm, q in (("hi", 0.4), ("lo", 0.2)):
            r = _organised_run(strike.replace(organisation_quorum=q), seed, ticks)
            rec[f"acting_{arm}"].append(sum(r["acting"]))
            rec[f"striking_{arm}"].append(sum(row[col_s] for row in r["history"]))
    return {
        "scenario": (
            "epstein2002-run2, organisation: 10 groups, member_share 0.3 "
            "(strike: quorum 0.3, ρ 0.5, λ_strike 0.01; protest: quorum 0.2, ρ 1)"
        ),
        "ticks": ticks,
        "seeds": list(seeds),
        "synchrony_members_protest_vs_unorganised": paired_effect(rec["sync_on"], rec["sync_off"]),
        "legitimacy_at_end_strikes_vs_none": paired_effect(rec["legit_on"], rec["legit_off"]),
        "later_non_member_actives_strikes_vs_none": paired_effect(
            rec["others_on"], rec["others_off"]
        ),
        "later_actives_strikes_vs_none": paired_effect(rec["all_on"], rec["all_off"]),
        "legitimacy_tick_150_general_strike_vs_none": paired_effect(
            rec["gs_legit"], rec["no_gs_legit"]
        ),
        "non_member_actives_101_200_general_strike_vs_none": paired_effect(
            rec["gs_others"], rec["no_gs_others"]
        ),
        "actives_101_150_general_strike_vs_none": paired_effect(rec["gs_all"], rec["no_gs_all"]),
        "group_ticks_acting_quorum_0.4_vs_0.2": paired_effect(rec["acting_hi"], rec["acting_lo"]),
        "striking_quorum_0.4_vs_0.2": paired_effect(rec["striking_hi"], rec["striking_lo"]),
    }


# -- 10. divided identities ---------------------------------------------------------------
def divided_identities(
    seeds=SEEDS,
    ticks: int = 300,
    low: float = 0.2,
    propaganda_start: int = 100,
    propaganda_end: int = 110,
    minority_share: float = 0.3,
) -> dict[str, Any]:
    """Identity tags on run 2 (docs/odd.md §7.19), paired by seed.

    * full solidarity (s = 1) against identities off: the merged histories (each status
      summed over the groups) are compared for exact equality;
    * division from the start (s = ``low``) against s = 1: peak and mean actives;
    * propaganda: s ramped 1 → ``low`` over ticks ``propaganda_start`` …
      ``propaganda_end`` against s = 1 throughout: mean and peak actives after the ramp;
    * a Green minority (blue_share = 1 − ``minority_share``): the minority's share of
      all active citizen-ticks with s = ``low`` against s = 1.
    """
    from upheaval.model.timeline import RampEvent

    sc = base()
    p = sc.params
    full = p.replace(identity_enabled=True)
    divided = full.replace(identity_solidarity=low)
    ramp = (
        RampEvent(
            start=propaganda_start, end=propaganda_end, param="identity_solidarity", value=low
        ),
    )
    minority = full.replace(blue_share=1.0 - minority_share)

    def actives(h: list[tuple]) -> list[int]:
        return [
            b + g for b, g in zip(column(h, "active_blue"), column(h, "active_green"), strict=True)
        ]

    def merged(h: list[tuple]) -> list[tuple]:
        out = []
        for row in h:
            r = dict(zip(COLUMNS, row, strict=True))
            statuses = tuple(
                r[f"{s}_blue"] + r[f"{s}_green"] for s in ("quiet", "active", "jailed")
            )
            rest = tuple(v for k, v in r.items() if not k.endswith(("_blue", "_green")))
            out.append(statuses + rest)
        return out

    def green_share(h: list[tuple]) -> float:
        green = sum(column(h, "active_green"))
        total = green + sum(column(h, "active_blue"))
        return green / total if total else 0.0

    after = propaganda_end + 1
    rows: dict[str, list[float]] = {
        k: []
        for k in (
            "peak_full",
            "peak_div",
            "mean_full",
            "mean_div",
            "after_mean_full",
            "after_mean_prop",
            "after_peak_full",
            "after_peak_prop",
            "green_full",
            "green_div",
        )
    }
    identical, untouched = [], []
    for seed in seeds:
        h_off = run(sc, seed, ticks)
        h_full = run(Scenario(params=full), seed, ticks)
        h_div = run(Scenario(params=divided), seed, ticks)
        h_prop = run(Scenario(params=full, timeline=ramp), seed, ticks)
        identical.append(merged(h_off) == merged(h_full))
        untouched.append(h_prop[:propaganda_start] == h_full[:propaganda_start])
        a_full, a_div, a_prop = actives(h_full), actives(h_div), actives(h_prop)
        rows["peak_full"].append(max(a_full))
        rows["peak_div"].append(max(a_div))
        rows["mean_full"].append(statistics.fmean(a_full[1:]))
        rows["mean_div"].append(statistics.fmean(a_div[1:]))
        rows["after_mean_full"].append(statistics.fmean(a_full[after:]))
        rows["after_mean_prop"].append(statistics.fmean(a_prop[after:]))
        rows["after_peak_full"].append(max(a_full[after:]))
        rows["after_peak_prop"].append(max(a_prop[after:]))
        rows["green_full"].append(green_share(run(Scenario(params=minority), seed, ticks)))
        rows["green_div"].append(
            green_share(
                run(Scenario(params=minority.replace(identity_solidarity=low)), seed, ticks)
            )
        )
    return {
        "scenario": f"epstein2002-run2, identity.enabled, solidarity 1 vs {low:g}",
        "ticks": ticks,
        "seeds": list(seeds),
        "low_solidarity": low,
        "propaganda_ticks": [propaganda_start, propaganda_end],
        "minority_share": minority_share,
        "full_solidarity_identical_to_off": identical,
        "identical_before_propaganda": untouched,
        "peak_actives_divided_vs_full": paired_effect(rows["peak_div"], rows["peak_full"]),
        "mean_actives_divided_vs_full": paired_effect(rows["mean_div"], rows["mean_full"]),
        "mean_actives_after_propaganda_vs_none": paired_effect(
            rows["after_mean_prop"], rows["after_mean_full"]
        ),
        "peak_actives_after_propaganda_vs_none": paired_effect(
            rows["after_peak_prop"], rows["after_peak_full"]
        ),
        "minority_share_of_actives_divided_vs_full": paired_effect(
            rows["green_div"], rows["green_full"]
        ),
    }
