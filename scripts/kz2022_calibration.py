"""Calibrate kazakhstan-2022 to what happened, and score it on what the fit did not see.

    python scripts/kz2022_calibration.py            # the study: ABC-SMC, posterior
                                                    # predictive, finer-scale check;
                                                    # writes the JSON and the doc
    python scripts/kz2022_calibration.py --doc      # rewrite the doc from the JSON
    python scripts/kz2022_calibration.py --check    # exit 1 if the doc is out of step

The study (issue 10 §2), one command, resumable (ABC's rounds are kept under
``--out``, default ``kz2022-calibration/``, and a second call resumes them):

1. **Fit.** ABC-SMC (:func:`upheaval.experiments.calibrate`) of the parameters in
   ``scripts/kz2022_preset.py``'s ``FITTED`` (uniform priors there), at ``FIT_SCALE``
   people per agent, on the first-protest hours of the *training* places: the places
   with an observed onset, less every third in the observed order (the *held-out*
   places). A run's statistic for a place is its onset hour (first tick with
   ``ONSET_SHARE`` of its citizens active), a place that never starts counting at the
   horizon (right-censored); and the detentions by 7 January (log10 of people,
   agents × scale), so that the model's repression has the right size.
2. **Posterior predictive.** ``PREDICTIVE_DRAWS`` particles drawn from the last
   population by weight, one run each to ``PREDICT_UNTIL_UTC``: onsets of every place
   (scored separately on training and held-out places, against the no-model baselines
   of :mod:`upheaval.experiments.scoring`), deaths by side and detentions (scaled to
   people; the fit saw only 7 January's detentions, not 12 January's, nor any death)
   against the observed ones, and whether order
   is restored by the 11 January checkpoint.
3. **A finer scale.** The posterior medians at ``FINE_SCALE`` over ``FINE_SEEDS``
   seeds, scored the same way.

Writes ``docs/kazakhstan_calibration.json`` and generates
``docs/kazakhstan_calibration.md`` from it; ``scripts/kz2022_preset.py`` then takes
the posterior medians into the preset. tests/country/test_kz2022_calibration.py
checks that the doc, the JSON and the preset are in step without running anything.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

import upheaval
from upheaval.experiments.calibration import calibrate, weighted_quantile
from upheaval.experiments.designs import Factor, parse_factor
from upheaval.experiments.scoring import (
    Observations,
    Scores,
    baselines,
    ensemble_from_tables,
    parse_utc,
    score_ensemble,
)
from upheaval.experiments.summary_stats import Observed
from upheaval.model.ticks import national
from upheaval.results.places import ONSET_SHARE, people_totals
from upheaval.scenario.loading import apply_overrides

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from generated_doc import study_main  # noqa: E402
from kz2022_preset import CALIBRATION_JSON, FITTED  # noqa: E402

PRESET = "kazakhstan-2022"
OBSERVED = ROOT / "src" / "upheaval" / "scenario" / "presets" / PRESET / "observed.json"
DOC = ROOT / "docs" / "kazakhstan_calibration.md"
#: People per agent while fitting: 1:1000 runs the 36 places in ~2 s.
FIT_SCALE = 1000.0
#: The fit's runs end here: the end of 7 January (local), two days after the last
#: observed first protest (91 h), the day of the first large detention count.
FIT_UNTIL_UTC = "2022-01-07T18:00Z"
#: Detentions by then (observed.json: 3,811 on 7 January, events.csv line 85, high).
DETAINED_BY_FIT = 3811.0
#: The predictive runs end here: the detentions of 12 January.
PREDICT_UNTIL_UTC = "2022-01-12T18:00Z"
#: When order counts as restored: Tokayev's "critical phase has passed" (events.csv).
ORDER_UTC = "2022-01-11T05:48Z"
#: ABC-SMC's settings (module docstring).
PARTICLES = 50
GENERATIONS = 5
QUANTILE = 0.5
SEED = 2022
#: Every HOLD_OUT_EVERY-th place in the observed order (from the second) is held out.
HOLD_OUT_EVERY = 3
PREDICTIVE_DRAWS = 40
FINE_SCALE = 100.0
FINE_SEEDS = 5


def _hours(a: str, b: str) -> float:
    return (parse_utc(b) - parse_utc(a)).total_seconds() / 3600


def split_places(obs: Observations) -> tuple[list[str], list[str]]:
    """(training, held-out) places: those with an observed onset, in observed order;
    every HOLD_OUT_EVERY-th from the second is held out, so that both early and late
    places are predicted."""
    done = sorted(obs.protested(), key=lambda p: (obs.onset_hours[p], p))
    held = [p for i, p in enumerate(done) if i % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1]
    return [p for p in done if p not in held], held


def subset(obs: Observations, places: list[str]) -> Observations:
    """The onsets of ``places`` only (populations and coordinates of every place, which
    the baselines read: distance from the first place)."""
    keep = set(places)
    return Observations(
        obs.start,
        {p: t for p, t in obs.onset_hours.items() if p in keep},
        {p: v for p, v in obs.protest.items() if p in keep},
        obs.population,
        obs.coords,
    )


def scenario(scale: float, until_utc: str, values: dict[str, float] | None = None):
    sc = upheaval.load(PRESET)
    p = sc.params
    steps = int(round(_hours(str(p.run.start).replace("+00:00", "Z"), until_utc)))
    over: dict[str, Any] = {"world.scale": scale, "run.steps": steps}
    over.update(values or {})
    return apply_overrides(sc, over), steps


def totals(table, scale: float, run_start: datetime, tick_minutes: float) -> dict[str, Any]:
    """National outcomes of one run, in people (agents × scale)."""
    nat = national(table)
    col = {c: nat.column(c).to_numpy() for c in nat.column_names}
    h = tick_minutes / 60
    order_tick = int((parse_utc(ORDER_UTC) - run_start).total_seconds() / 3600 / h)
    k = min(order_tick, len(col["tick"]) - 1)
    # order restored: no place has its onset share of citizens active at the checkpoint
    names = table.column("place").to_pylist()
    ticks = table.column("tick").to_numpy()
    at = ticks == col["tick"][k]
    cit = sum(
        table.column(f"{a}_{g}").to_numpy()[at]
        for a in ("quiet", "active", "jailed")
        for g in ("blue", "green")
    )
    act = (table.column("active_blue").to_numpy() + table.column("active_green").to_numpy())[at]
    restless = [
        n for n, a, c in zip(np.array(names)[at], act, cit, strict=True) if a >= ONSET_SHARE * c
    ]
    # deaths and detentions in people: the one definition upheaval compare uses too
    return {
        **people_totals(table, scale),
        "detained_by_order": people_totals(table, scale, through_tick=int(col["tick"][k]))[
            "detained"
        ],
        "order_restored": not restless,
        "restless_at_order": sorted(str(n) for n in restless),
    }


def _scores(s: Scores) -> dict[str, Any]:
    d = s.as_dict()
    return {
        k: d[k]
        for k in ("name", "replicates", "median_abs_error", "mean_crps", "spearman", "coverage")
    }


@dataclass(frozen=True)
class FitProblem:
    """What the fit compares (step 1 of the module docstring), shared with the
    simulation-based calibration of scripts/kz2022_sbc.py so that both see the same
    simulator, priors, statistics and observed values."""

    scenario: Any  # the preset at FIT_SCALE, run to FIT_UNTIL_UTC
    steps: int
    run_start: datetime
    training: list[str]
    held_out: list[str]
    names: tuple[str, ...]  # the compared statistics, in order
    observed: Observed
    factors: tuple[Factor, ...]  # FITTED's uniform priors
    summary: Callable[[Any], dict[str, float]]  # a run's tick table → statistics


def fit_problem() -> FitProblem:
    obs = Observations.load(OBSERVED)
    train, held = split_places(obs)
    sc, steps = scenario(FIT_SCALE, FIT_UNTIL_UTC)
    p = sc.params
    run_start = parse_utc(str(p.run.start).replace("+00:00", "Z"))
    horizon = obs.start

    def summary(table) -> dict[str, float]:
        ens = ensemble_from_tables([table], horizon, run_start, p.run.tick_minutes, steps)
        out = {f"onset:{place}": float(ens.members(place)[0]) for place in ens.onsets}
        detained = totals(table, FIT_SCALE, run_start, p.run.tick_minutes)["detained"]
        # counts spread over orders of magnitude: compared on a log scale
        out["log10_detained"] = float(np.log10(1.0 + detained))
        return out

    names = [f"onset:{place}" for place in train] + ["log10_detained"]
    observed = Observed(
        str(OBSERVED.relative_to(ROOT)),
        "events",
        {
            **{f"onset:{place}": float(obs.onset_hours[place]) for place in train},
            "log10_detained": float(np.log10(1.0 + DETAINED_BY_FIT)),
        },
        tuple(names),
        notes="first-protest hours of the training places; detentions by 7 January",
    )
    factors = tuple(parse_factor(f"{k}={lo}:{hi}") for k, (lo, hi, _) in FITTED.items())
    return FitProblem(sc, steps, run_start, train, held, tuple(names), observed, factors, summary)


def run_study(out: Path, workers: int) -> dict[str, Any]:
    t_start = time.perf_counter()
    cpu0 = time.process_time()
    obs = Observations.load(OBSERVED)
    fp = fit_problem()
    train, held, sc, steps = fp.training, fp.held_out, fp.scenario, fp.steps
    p = sc.params
    run_start = fp.run_start
    names, observed, factors, summary = list(fp.names), fp.observed, list(fp.factors), fp.summary

    def progress(done: int, failed: int, to_run: int, label: str) -> None:
        if done + failed == to_run:
            print(f"{label}: {done} runs, {failed} failed", file=sys.stderr)

    result = calibrate(
        sc,
        observed,
        factors,
        out,
        statistics=names,
        particles=PARTICLES,
        generations=GENERATIONS,
        quantile=QUANTILE,
        seed=SEED,
        workers=workers,
        summary=summary,
        on_progress=progress,
        on_generation=lambda pop: print(
            f"generation {pop.generation}: eps {pop.epsilon:.1f}, ess {pop.ess:.1f}",
            file=sys.stderr,
        ),
    )
    fit_seconds = time.perf_counter() - t_start
    post = result.posterior
    keys = list(FITTED)
    values = result.values(post)

    def quantile(f, q: float) -> float:
        v = weighted_quantile(np.asarray(values[f.name], float), post.weights, q)
        return float(round(v)) if f.kind == "int" else v  # a jail term is whole ticks

    posterior = {
        k: {
            "median": quantile(f, 0.5),
            "lo": quantile(f, 0.05),
            "hi": quantile(f, 0.95),
            "prior": [FITTED[k][0], FITTED[k][1]],
        }
        for k, f in zip(keys, factors, strict=True)
    }

    # -- the posterior predictive: particles by weight, one run each, to 12 January
    rng = np.random.default_rng(np.random.SeedSequence(SEED, spawn_key=(7,)))
    picks = rng.choice(len(post.weights), size=PREDICTIVE_DRAWS, p=post.weights)
    seeds = np.random.SeedSequence(SEED, spawn_key=(8,)).spawn(PREDICTIVE_DRAWS)
    tables, outcomes = [], []
    for n, (i, ss) in enumerate(zip(picks, seeds, strict=True)):
        theta = {
            k: float(np.asarray(values[f.name], float)[i])
            for k, f in zip(keys, factors, strict=True)
        }
        psc, psteps = scenario(FIT_SCALE, PREDICT_UNTIL_UTC, theta)
        table = upheaval.Simulation(psc, seed=ss).run().table()
        tables.append(table)
        outcomes.append(
            {"particle": int(i), **totals(table, FIT_SCALE, run_start, p.run.tick_minutes)}
        )
        print(f"predictive {n + 1}/{PREDICTIVE_DRAWS}", file=sys.stderr)
    ens = ensemble_from_tables(tables, obs.start, run_start, p.run.tick_minutes, psteps)

    # -- a finer scale: the posterior medians, FINE_SEEDS seeds
    median = {k: posterior[k]["median"] for k in keys}
    fsc, fsteps = scenario(FINE_SCALE, PREDICT_UNTIL_UTC, median)
    fine_tables, fine_outcomes = [], []
    for s in range(1, FINE_SEEDS + 1):
        table = upheaval.Simulation(fsc, seed=s).run().table()
        fine_tables.append(table)
        fine_outcomes.append(
            {"seed": s, **totals(table, FINE_SCALE, run_start, p.run.tick_minutes)}
        )
        print(f"fine scale seed {s}/{FINE_SEEDS}", file=sys.stderr)
    fine = ensemble_from_tables(fine_tables, obs.start, run_start, p.run.tick_minutes, fsteps)

    return {
        "preset": PRESET,
        "settings": {
            "fit_scale": FIT_SCALE,
            "fit_until_utc": FIT_UNTIL_UTC,
            "fit_steps": steps,
            "predict_until_utc": PREDICT_UNTIL_UTC,
            "order_utc": ORDER_UTC,
            "particles": PARTICLES,
            "generations": GENERATIONS,
            "quantile": QUANTILE,
            "seed": SEED,
            "workers": workers,
            "predictive_draws": PREDICTIVE_DRAWS,
            "fine_scale": FINE_SCALE,
            "fine_seeds": FINE_SEEDS,
            "onset_share": ONSET_SHARE,
            "priors": {
                k: {"low": lo, "high": hi, "why": why} for k, (lo, hi, why) in FITTED.items()
            },
        },
        "training": train,
        "held_out": held,
        "generations": [
            {
                "generation": pop.generation,
                "epsilon": None if not np.isfinite(pop.epsilon) else float(pop.epsilon),
                "simulations": int(pop.simulations),
                "ess": float(pop.ess),
            }
            for pop in result.populations
        ],
        "posterior": {
            "parameters": posterior,
            "particles": [
                {
                    "weight": float(w),
                    **{
                        k: float(np.asarray(values[f.name], float)[j])
                        for k, f in zip(keys, factors, strict=True)
                    },
                }
                for j, w in enumerate(post.weights)
            ],
        },
        "predictive": {
            "onsets": ens.onsets,
            "horizon_hours": ens.horizon_hours,
            "outcomes": outcomes,
        },
        "fine": {
            "onsets": fine.onsets,
            "horizon_hours": fine.horizon_hours,
            "outcomes": fine_outcomes,
        },
        "timing": {
            "fit_wall_s": round(fit_seconds, 1),
            "wall_s": round(time.perf_counter() - t_start, 1),
            "main_process_cpu_s": round(time.process_time() - cpu0, 1),
        },
        "measured": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()),
    }


# -- scores, recomputed from the stored onsets (so --check needs no runs) ---------------
#: Observed national outcomes the fit did not see (observed.json's national part):
#: deaths by 15 January (official, of them 19 security) and detentions by 12 January.
DEATHS_OBSERVED = (225.0, 238.0)  # 15 Jan, final (Dec 2022)
SECURITY_DEATHS_OBSERVED = 19.0
DETAINED_OBSERVED = (10_000.0, 12_000.0)  # 12 Jan, the CONFLICT range


def _ensemble(part: dict[str, Any]):
    from upheaval.experiments.scoring import Ensemble

    return Ensemble({k: list(v) for k, v in part["onsets"].items()}, part["horizon_hours"])


def _band(values: list[float]) -> dict[str, float]:
    v = np.asarray(values, float)
    return {
        "median": float(np.median(v)),
        "lo": float(np.quantile(v, 0.05)),
        "hi": float(np.quantile(v, 0.95)),
    }


def _inside(band: dict[str, float], observed: tuple[float, float]) -> bool:
    return band["lo"] <= observed[1] and observed[0] <= band["hi"]


def scores_of(doc: dict[str, Any]) -> dict[str, Any]:
    obs = Observations.load(OBSERVED)
    out: dict[str, Any] = {}
    for part in ("predictive", "fine"):
        ens = _ensemble(doc[part])
        entry: dict[str, Any] = {}
        for which in ("training", "held_out"):
            o = subset(obs, doc[which])
            model = score_ensemble(ens, o)
            entry[which] = {
                "model": _scores(model),
                "places": [
                    {k: r[k] for k in ("place", "observed", "median", "low", "high", "covered")}
                    for r in model.as_dict()["places"]
                ],
                "baselines": [_scores(b) for b in baselines(o)] if which == "held_out" else [],
            }
        outcomes = doc[part]["outcomes"]
        deaths = [r["killed_by_forces"] + r["forces_killed"] for r in outcomes]
        security = [r["forces_killed"] for r in outcomes]
        detained = [r["detained"] for r in outcomes]
        entry["deaths"] = {**_band(deaths), "inside": _inside(_band(deaths), DEATHS_OBSERVED)}
        entry["security_deaths"] = {
            **_band(security),
            "inside": _inside(_band(security), (SECURITY_DEATHS_OBSERVED,) * 2),
        }
        entry["detained"] = {
            **_band(detained),
            "inside": _inside(_band(detained), DETAINED_OBSERVED),
        }
        entry["order_restored_share"] = float(np.mean([r["order_restored"] for r in outcomes]))
        out[part] = entry
    return out


def _f(x: Any, d: int = 1) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    return f"{x:,.{d}f}"


def render_doc(doc: dict[str, Any]) -> str:
    sc = scores_of(doc)
    s = doc["settings"]
    L: list[str] = []
    w = L.append
    w("# Kazakhstan, January 2022: the calibration")
    w("")
    w("<!-- GENERATED by scripts/kz2022_calibration.py from docs/kazakhstan_calibration.json;")
    w("     do not edit (tests/country/test_kz2022_calibration.py keeps them in step). -->")
    w("")
    w(
        f"Measured {doc['measured']}: ABC-SMC with {s['particles']} particles and "
        f"{s['generations']} generations (quantile {s['quantile']}, seed {s['seed']}) at "
        f"1:{s['fit_scale']:g}, runs to {s['fit_until_utc']}, on the first-protest hours of "
        f"{len(doc['training'])} training places and the detentions by 7 January "
        f"({DETAINED_BY_FIT:,.0f}, log10); {len(doc['held_out'])} places held out "
        f"(every {HOLD_OUT_EVERY}rd in the observed order): {', '.join(doc['held_out'])}. "
        f"The fit took {doc['timing']['fit_wall_s'] / 60:.1f} min wall on {s['workers']} "
        f"workers, the whole study {doc['timing']['wall_s'] / 60:.1f} min. Reproduce: "
        "`python scripts/kz2022_calibration.py`."
    )
    w("")
    w(
        "Whether intervals from these statistics and this distance cover the truth at "
        "their nominal rate: docs/kazakhstan_sbc.md (simulation-based calibration of "
        "rejection ABC on a reference table of prior runs, `python scripts/kz2022_sbc.py`)."
    )
    w("")
    w("## What is fitted, and what it came to")
    w("")
    w(
        "| parameter | prior (uniform) | why that range | posterior median | "
        "90 % credible interval |"
    )
    w("|---|---|---|---|---|")
    for k, v in doc["posterior"]["parameters"].items():
        why = s["priors"][k]["why"]
        w(
            f"| `{k}` | {v['prior'][0]:g}–{v['prior'][1]:g} | {why} | {v['median']:.4g} | "
            f"{v['lo']:.4g}–{v['hi']:.4g} |"
        )
    w("")
    w("| generation | tolerance ε (scaled distance) | simulations | ESS |")
    w("|---|---|---|---|")
    for g in doc["generations"]:
        w(f"| {g['generation']} | {_f(g['epsilon'], 2)} | {g['simulations']} | {g['ess']:.1f} |")
    w("")
    for part, title in (
        (
            "predictive",
            f"Posterior predictive at 1:{s['fit_scale']:g} ({s['predictive_draws']} draws)",
        ),
        ("fine", f"Posterior medians at 1:{s['fine_scale']:g} ({s['fine_seeds']} seeds)"),
    ):
        e = sc[part]
        w(f"## {title}")
        w("")
        w("| onsets of | median abs. error (h) | mean CRPS (h) | Spearman ρ | 90 % coverage |")
        w("|---|---|---|---|---|")
        for which in ("training", "held_out"):
            m = e[which]["model"]
            w(
                f"| {which.replace('_', '-')} places (model) | {_f(m['median_abs_error'])} | "
                f"{_f(m['mean_crps'])} | {_f(m['spearman'], 2)} | {_f(m['coverage'], 2)} |"
            )
        for b in e["held_out"]["baselines"]:
            w(
                f"| held-out places: {b['name']} | {_f(b['median_abs_error'])} | "
                f"{_f(b['mean_crps'])} | {_f(b['spearman'], 2)} | — |"
            )
        w("")
        w("| outcome (people) | observed | model median | 90 % band | observed inside |")
        w("|---|---|---|---|---|")
        for key, label, o in (
            ("deaths", "deaths, both sides", "225 (15 Jan) – 238 (final)"),
            ("security_deaths", "deaths among the forces", "19"),
            ("detained", "detentions by 12 Jan", "10,000–12,000"),
        ):
            b = e[key]
            w(
                f"| {label} | {o} | {_f(b['median'], 0)} | {_f(b['lo'], 0)}–{_f(b['hi'], 0)} | "
                f"{_f(b['inside'])} |"
            )
        w("")
        w(
            f"Order restored at {s['order_utc']} (no place with ≥ {s['onset_share']:.0%} of its "
            f"citizens active): {e['order_restored_share']:.0%} of the runs."
        )
        w("")
    held = sc["predictive"]["held_out"]
    w("## Held-out places, one by one (posterior predictive)")
    w("")
    w("| place | observed (h) | model median (h) | 90 % interval (h) | inside |")
    w("|---|---|---|---|---|")
    for r in held["places"]:
        w(
            f"| {r['place']} | {_f(r['observed'])} | {_f(r['median'])} | "
            f"{_f(r['low'])}–{_f(r['high'])} | {_f(r['covered'])} |"
        )
    w("")
    w("## Against the goals of issue 10")
    w("")
    m = held["model"]
    best = min(
        (b for b in held["baselines"] if b["mean_crps"] is not None), key=lambda b: b["mean_crps"]
    )
    goals = [
        ("held-out Spearman ρ ≥ 0.6", _f(m["spearman"], 2), (m["spearman"] or -1) >= 0.6),
        (
            "≥ 80 % of held-out places inside their 90 % interval",
            _f(m["coverage"], 2),
            (m["coverage"] or 0) >= 0.8,
        ),
        (
            "beats every baseline on held-out CRPS",
            f"{_f(m['mean_crps'])} h vs best baseline {_f(best['mean_crps'])} h ({best['name']})",
            all(m["mean_crps"] < b["mean_crps"] for b in held["baselines"]),
        ),
        ("deaths inside their band", "", sc["predictive"]["deaths"]["inside"]),
        ("detentions inside their band", "", sc["predictive"]["detained"]["inside"]),
        (
            "order restored by 11 Jan in ≥ 70 % of runs",
            f"{sc['predictive']['order_restored_share']:.0%}",
            sc["predictive"]["order_restored_share"] >= 0.7,
        ),
    ]
    w("| goal | measured | met |")
    w("|---|---|---|")
    for g, v, ok in goals:
        w(f"| {g} | {v} | {'yes' if ok else '**no**'} |")
    w("")
    widths = [r["high"] - r["low"] for r in held["places"]]
    seen = [r["observed"] for r in held["places"]]
    d = sc["predictive"]["deaths"]
    w(
        f"A goal met by a wide interval says little: the held-out places' 90 % intervals "
        f"are {np.median(widths):.0f} h wide (median; the observed onsets span "
        f"{max(seen) - min(seen):.0f} h), and the deaths' band runs from "
        f"{d['lo']:,.0f} to {d['hi']:,.0f}."
    )
    w("")
    return "\n".join(L)


def main(argv: list[str] | None = None) -> int:
    return study_main(
        argv,
        __doc__.split("\n")[0],
        CALIBRATION_JSON,
        DOC,
        render_doc,
        run_study,
        "scripts/kz2022_calibration.py",
        "kz2022-calibration",
    )


if __name__ == "__main__":
    raise SystemExit(main())
