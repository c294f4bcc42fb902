"""Simulation-based calibration of the kazakhstan-2022 fit, at an affordable cost.

    python scripts/kz2022_sbc.py            # the study: writes the JSON and the doc
    python scripts/kz2022_sbc.py --doc      # rewrite the doc from the JSON
    python scripts/kz2022_sbc.py --check    # exit 1 if the doc is out of step

Issue 10 §2 asks that credible intervals cover synthetic truths at their nominal rate
(≥ 100 truths, within ±5 points). Running the ABC-SMC of scripts/kz2022_calibration.py
once per truth would take ~12 min each, so this checks the inference that SMC
approximates, rejection ABC, on the same simulator, priors, statistics and distance
(:func:`kz2022_calibration.fit_problem`, :func:`upheaval.experiments.calibration.
scaled_distance`) — the standard design for a costly simulator (Talts et al. 2018;
../shared/docs/country-science.md):

1. **A reference table**: ``TABLE_RUNS`` parameter points drawn from the uniform
   priors (seed ``SEED``), one run each at 1:1000 to 7 January, their statistics (the
   onset hours of the 19 training places and log10 detentions). The distance divides
   each statistic by its standard deviation over the table (the calibration divides
   by it over its 50 runs of the prior: the same definition, better estimated).
2. **Leave-one-out SBC**: every successful run in turn is a synthetic truth; its
   posterior is the parameters of the ``k`` other runs nearest to it (rejection ABC,
   acceptance rate k / (N − 1)); the truth's rank among those ``k`` draws and whether
   the central 50 % and 90 % intervals cover it, per parameter
   (:mod:`upheaval.experiments.sbc`). Done for each ``k`` of ``ACCEPT``, so the doc
   can say how coverage depends on the acceptance rate; ``K_MAIN`` (the SMC's 50
   particles) is the headline.
3. **The observed data** through the same rejection posterior (k = ``K_MAIN``),
   beside the SMC's posterior of docs/kazakhstan_calibration.json.

Writes ``docs/kazakhstan_sbc.json`` (with the table itself, so that the SBC can be
recomputed from it without a run: tests/country/test_kz2022_sbc.py) and generates
``docs/kazakhstan_sbc.md`` from it. The table's runs are kept under ``--out``
(default ``kz2022-sbc/``); a second call resumes them. The same command gives the
same JSON, bit for bit, but for the ``timing`` and ``measured`` fields.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from upheaval.experiments.calibration import prior_scale, scaled_distance, simulate_points
from upheaval.experiments.designs import parse_factor
from upheaval.experiments.sbc import (
    LEVELS,
    central_interval,
    coverage,
    leave_one_out_rejection,
    nearest_draws,
    rank_uniformity,
    sbc_records,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from generated_doc import study_main  # noqa: E402
from kz2022_calibration import FIT_SCALE, fit_problem  # noqa: E402
from kz2022_preset import CALIBRATION_JSON, FITTED  # noqa: E402

SBC_JSON = ROOT / "docs" / "kazakhstan_sbc.json"
DOC = ROOT / "docs" / "kazakhstan_sbc.md"
#: Prior runs in the reference table: ~1 s of one core each at 1:1000, so ~700 fit
#: the issue's ~20 min on the 2-core machine with the rest of the study.
TABLE_RUNS = 700
#: Root of the table's parameter draws (spawn key 0) and of its runs' seeds (key 1).
SEED = 2022
#: Acceptance by the k nearest runs: 25 … 200 of the ~700 (3.6 % … 29 %); the SMC's
#: last tolerance accepts ~10 % of the prior's runs (the doc measures it).
ACCEPT = (25, 50, 75, 100, 200)
#: The headline k: the SMC's population size (scripts/kz2022_calibration.py).
K_MAIN = 50
#: The goal of issue 10: coverage within ±5 points of the nominal level.
TOLERANCE = 0.05
#: Bins of the ranks' χ² test (k + 1 possible ranks; ~70 truths a bin).
RANK_BINS = 10


#: The priors' bounds, as the calibration draws on them (an integer's cell included).
FITTED_BOUNDS = [parse_factor(f"{k}={lo}:{hi}").bounds() for k, (lo, hi, _) in FITTED.items()]


def table_theta(n: int, bounds: np.ndarray) -> np.ndarray:
    """The table's parameter points: uniform on the priors' bounds, seed SEED."""
    rng = np.random.default_rng(np.random.SeedSequence(SEED, spawn_key=(0,)))
    return rng.uniform(bounds[:, 0], bounds[:, 1], size=(n, len(bounds)))


def sbc_of(theta: np.ndarray, stats: np.ndarray, k: int) -> dict[str, Any]:
    """Leave-one-out rejection SBC of the table at ``k`` nearest: per-truth ranks and
    coverage (as lists, for the JSON) and their summary."""
    scale = prior_scale(stats)
    draws = leave_one_out_rejection(theta, stats, scale, k, seed=SEED)
    rec = sbc_records(theta, draws, LEVELS, seed=SEED)
    null = null_rows(stats)
    prior_width = np.array([hi - lo for lo, hi in FITTED_BOUNDS])
    return {
        "k": k,
        "acceptance": k / (len(theta) - 1),
        # mean interval width over the prior's width (bounds), per level and parameter
        "width_over_prior": {
            f"{a:g}": dict(zip(FITTED, (rec.mean_width(a) / prior_width).tolist(), strict=True))
            for a in LEVELS
        },
        "ranks": rec.ranks.tolist(),
        "covered": {f"{a:g}": rec.covered[a].astype(int).tolist() for a in LEVELS},
        "summary": summarise(rec.ranks, rec.covered, k, list(FITTED)),
        # the same, over the truths where something happened (not a null run)
        "summary_eventful": summarise(
            rec.ranks[~null], {a: c[~null] for a, c in rec.covered.items()}, k, list(FITTED)
        ),
    }


def null_rows(stats: np.ndarray) -> np.ndarray:
    """The rows whose statistics are the table's most common row (no place protests,
    nobody is detained), as a mask."""
    _, inverse, counts = np.unique(stats, axis=0, return_inverse=True, return_counts=True)
    return inverse.ravel() == np.argmax(counts)


def summarise(
    ranks: np.ndarray, covered: dict[float, np.ndarray], k: int, names: list[str]
) -> dict[str, Any]:
    """Coverage per parameter and level, and the ranks' χ² test, from the per-truth
    records (the test recomputes it from the stored records)."""
    ranks = np.asarray(ranks)
    out: dict[str, Any] = {}
    for j, name in enumerate(names):
        out[name] = {
            "coverage": {
                f"{a:g}": coverage(np.asarray(covered[a])[:, j], a, TOLERANCE).as_dict()
                for a in LEVELS
            },
            "ranks": rank_uniformity(ranks[:, j], k, RANK_BINS).as_dict(),
        }
    return out


def run_study(out: Path, workers: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    fp = fit_problem()
    bounds = np.array([f.bounds() for f in fp.factors], dtype=np.float64)
    theta_all = table_theta(TABLE_RUNS, bounds)

    def progress(done: int, failed: int, to_run: int) -> None:
        if (done + failed) % 50 == 0 or done + failed == to_run:
            print(f"table: {done + failed}/{to_run} runs ({failed} failed)", file=sys.stderr)

    stats_all = simulate_points(
        fp.scenario,
        fp.factors,
        theta_all,
        out / "table",
        fp.names,
        seed=np.random.SeedSequence(SEED, spawn_key=(1,)),
        steps=fp.steps,
        workers=workers,
        summary=fp.summary,
        settings={"study": "kz2022 SBC reference table"},
        on_progress=progress,
    )
    table_s = time.perf_counter() - t0
    ok = np.all(np.isfinite(stats_all), axis=1)
    theta, stats = theta_all[ok], stats_all[ok]
    studies = [sbc_of(theta, stats, k) for k in ACCEPT]

    # the observed data through the headline rejection posterior
    scale = prior_scale(stats)
    obs = np.array([fp.observed.statistics[n] for n in fp.names], dtype=np.float64)
    near = nearest_draws(stats, obs, scale, K_MAIN, rng=np.random.default_rng(SEED))
    d_obs = scaled_distance(stats, obs, scale)
    cal = json.loads(CALIBRATION_JSON.read_text("utf-8"))
    eps = [g["epsilon"] for g in cal["generations"][1:]]

    # The SMC's generation 0 again (its seeds: calibration.py's docstring): its median
    # distance must be the SMC's first tolerance if the simulator, statistics and
    # distance are still the ones the SMC ran; its scale puts the SMC's tolerances on
    # the table.
    s = cal["settings"]
    rng = np.random.default_rng(np.random.SeedSequence(s["seed"], spawn_key=(1, 0, 0)))
    theta0 = rng.uniform(bounds[:, 0], bounds[:, 1], size=(s["particles"], len(bounds)))
    stats0 = simulate_points(
        fp.scenario,
        fp.factors,
        theta0,
        out / "smc-generation-0",
        fp.names,
        seed=np.random.SeedSequence(s["seed"], spawn_key=(0, 0, 0)),
        steps=fp.steps,
        workers=workers,
        summary=fp.summary,
        settings={"generation": 0, "round": 0},
    )
    ok0 = np.all(np.isfinite(stats0), axis=1)
    scale0 = prior_scale(stats0[ok0])
    d0 = scaled_distance(stats0[ok0], obs, scale0)
    d_smc = scaled_distance(stats, obs, scale0)
    observed = {
        "k": K_MAIN,
        "distance_kth": float(np.sort(d_obs)[K_MAIN - 1]),
        "smc_epsilons": eps,
        "smc_generation0_median_distance": float(np.quantile(d0, cal["settings"]["quantile"])),
        "smc_scale": scale0.tolist(),
        # the share of the table the SMC's tolerances accept, on the SMC's own scale
        "share_within_smc_epsilon": [float(np.mean(d_smc <= e)) for e in eps],
        "parameters": {},
    }
    for j, (name, f) in enumerate(zip(FITTED, fp.factors, strict=True)):
        v = theta[near, j]
        smc = cal["posterior"]["parameters"][name]
        lo, hi = central_interval(v, 0.9)
        observed["parameters"][name] = {
            "median": float(np.median(v)),
            "lo": lo,
            "hi": hi,
            "smc": {k: smc[k] for k in ("median", "lo", "hi")},
            "kind": f.kind,
        }
    return {
        "preset": "kazakhstan-2022",
        "settings": {
            "table_runs": TABLE_RUNS,
            "seed": SEED,
            "accept": list(ACCEPT),
            "k_main": K_MAIN,
            "levels": list(LEVELS),
            "tolerance": TOLERANCE,
            "rank_bins": RANK_BINS,
            "fit_scale": FIT_SCALE,
            "fit_steps": fp.steps,
            "workers": workers,
            "statistics": list(fp.names),
            "parameters": list(FITTED),
            "priors": {k: [lo, hi] for k, (lo, hi, _) in FITTED.items()},
            "bounds": bounds.tolist(),
        },
        "failed_runs": int((~ok).sum()),
        # runs with the very same statistics as the most common row (no place ever
        # protests, nobody is detained): ties in the distance
        "null_runs": int(null_rows(stats).sum()),
        # the table, so that the SBC can be recomputed from it without a run
        "table": {"theta": theta.tolist(), "stats": stats.tolist()},
        "scale": scale.tolist(),
        "studies": studies,
        "observed": observed,
        "timing": {
            "table_wall_s": round(table_s, 1),
            "wall_s": round(time.perf_counter() - t0, 1),
        },
        "measured": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()),
    }


# -- the doc ---------------------------------------------------------------------------
def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def render_doc(doc: dict[str, Any]) -> str:
    s = doc["settings"]
    names = s["parameters"]
    studies = {st["k"]: st for st in doc["studies"]}
    main = studies[s["k_main"]]
    n = len(doc["table"]["theta"])
    L: list[str] = []
    w = L.append
    w("# Kazakhstan, January 2022: simulation-based calibration of the fit")
    w("")
    w("<!-- GENERATED by scripts/kz2022_sbc.py from docs/kazakhstan_sbc.json;")
    w("     do not edit (tests/country/test_kz2022_sbc.py keeps them in step). -->")
    w("")
    w(
        "Do the fit's credible intervals mean what they say? Issue 10 asks that, on "
        "synthetic truths (≥ 100), the intervals cover the true value at their nominal "
        f"rate within ±{100 * s['tolerance']:.0f} points. Measured {doc['measured']}; "
        f"reproduce: `python scripts/kz2022_sbc.py` ({doc['timing']['wall_s'] / 60:.1f} min "
        f"wall on {s['workers']} workers, of which the table's runs "
        f"{doc['timing']['table_wall_s'] / 60:.1f} min)."
    )
    w("")
    w("## What is checked, and what is not")
    w("")
    w(
        "**This is SBC of rejection ABC, not of the ABC-SMC itself.** Running the "
        "calibration (docs/kazakhstan_calibration.md: ABC-SMC, 50 particles × 5 "
        "generations, ~12 min) once per synthetic truth is beyond the budget. Instead, "
        f"one reference table of {s['table_runs']} runs drawn from the same uniform priors "
        f"(seed {s['seed']}), at the same scale (1:{s['fit_scale']:g}) and horizon "
        f"({s['fit_steps']} hourly ticks), summarised by the same {len(s['statistics'])} "
        "statistics (onset hours of the training places, log10 detentions by 7 January) "
        "and compared by the same distance (each statistic over its prior-predictive "
        "standard deviation, Euclidean): the code is the calibration's "
        "(`kz2022_calibration.fit_problem`, `calibration.simulate_points`, "
        "`calibration.scaled_distance`). "
        f"{doc['failed_runs']} runs failed; the {n} others are the table. "
        f"{doc['null_runs']} of them ({_pct(doc['null_runs'] / n)} %) have the very same "
        "statistics — no place protests before the horizon, nobody is detained — so "
        "that, for those truths, every one of the others is at distance 0: their "
        "posterior is k of them drawn at random (ties are broken at random, seeded), "
        "i.e. the prior given that nothing happens."
    )
    w("")
    w(
        "Each run of the table in turn is a synthetic truth: its statistics play the "
        "observed data, and its posterior is the parameters of the k *other* runs "
        "nearest to it (leave-one-out rejection ABC, acceptance rate k/(N − 1)). The "
        "truth's rank among those k draws (0…k) should be uniform, and the central 50 % "
        "and 90 % intervals should cover it in 50 % and 90 % of the truths. All "
        f"{n} runs are truths. The ABC-SMC's last population approximates the same ABC "
        "posterior (same statistics, same distance) at its last tolerance; how the "
        "table's coverage moves with the acceptance rate is what carries over to it "
        "(below, the SMC's tolerance is placed on that scale)."
    )
    w("")
    w(
        "Caveats: the truths share one table, so their coverages are not quite "
        "independent and the binomial standard error (SE = √(p̂(1 − p̂)/n)) is a little "
        "optimistic; the distance's scale is taken over the whole table, the truth's own "
        "run included (one of N). The jail term is a whole number of ticks in the model; "
        "the ranks use the continuous prior draw behind it (uniform within its integer "
        "cell, so calibrated draws stay calibrated), which avoids ties."
    )
    w("")
    w(
        f"## Coverage at k = {main['k']} nearest (acceptance "
        f"{_pct(main['acceptance'])} %, the SMC's population size)"
    )
    w("")
    w(
        "| parameter | prior | 50 % intervals: coverage ± 2 SE (%) | within 50 ± 5 | "
        "90 % intervals: coverage ± 2 SE (%) | within 90 ± 5 | ranks χ² "
        f"({s['rank_bins']} bins), p | 90 % width ÷ prior's |"
    )
    w("|---|---|---|---|---|---|---|---|")
    for name in names:
        e = main["summary"][name]
        cells = []
        for a in ("0.5", "0.9"):
            c = e["coverage"][a]
            verdict = "yes" if c["met"] else "**no**"
            if not c["conclusive"]:
                verdict += " (not conclusive at ± 2 SE)"
            cells += [f"{_pct(c['rate'])} ± {_pct(2 * c['se'])}", verdict]
        lo, hi = s["priors"][name]
        r = e["ranks"]
        w(
            f"| `{name}` | {lo:g}–{hi:g} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} "
            f"| {r['chi2']:.1f}, {r['p_value']:.2g} | {main['width_over_prior']['0.9'][name]:.2f} |"
        )
    w("")
    met = [
        (name, a)
        for name in names
        for a in ("0.5", "0.9")
        if main["summary"][name]["coverage"][a]["met"]
    ]
    w(
        f"Goal met (estimate within ±{100 * s['tolerance']:.0f} points) for {len(met)} of "
        f"{2 * len(names)} parameter-level pairs at k = {main['k']}."
    )
    w("")
    ev = main["summary_eventful"]
    n_ev = ev[names[0]]["coverage"]["0.5"]["truths"]
    w(
        f"The same over the {n_ev} truths where something happened (the null runs left "
        "out as truths, kept as draws):"
    )
    w("")
    w("| parameter | 50 %: coverage ± 2 SE (%) | within | 90 %: coverage ± 2 SE (%) | within |")
    w("|---|---|---|---|---|")
    for name in names:
        cells = []
        for a in ("0.5", "0.9"):
            c = ev[name]["coverage"][a]
            cells += [f"{_pct(c['rate'])} ± {_pct(2 * c['se'])}", "yes" if c["met"] else "**no**"]
        w(f"| `{name}` | {' | '.join(cells)} |")
    w("")
    w("Ranks of the truths among the k draws, counts per bin (uniform: equal counts):")
    w("")
    w("| parameter | counts, lowest rank bin first | expected per bin |")
    w("|---|---|---|")
    for name in names:
        r = main["summary"][name]["ranks"]
        exp = sorted(set(round(x, 1) for x in r["expected"]))
        w(
            f"| `{name}` | {' '.join(str(c) for c in r['counts'])} | "
            f"{' / '.join(f'{x:g}' for x in exp)} |"
        )
    w("")
    w(
        "Too many truths in the outer bins (a ∪ shape) means the intervals are too "
        "narrow; too few (a ∩) too wide; a slope, a biased posterior."
    )
    w("")
    w("## How coverage depends on the acceptance rate")
    w("")
    head = " | ".join(f"k = {k} ({_pct(studies[k]['acceptance'])} %)" for k in s["accept"])
    w(f"| parameter | level | {head} |")
    w("|---|---|" + "---|" * len(s["accept"]))
    for name in names:
        for a in ("0.5", "0.9"):
            cells = []
            for k in s["accept"]:
                c = studies[k]["summary"][name]["coverage"][a]
                mark = "" if c["met"] else " ✗"
                cells.append(f"{_pct(c['rate'])} ± {_pct(2 * c['se'])}{mark}")
            w(f"| `{name}` | {float(a):.0%} | {' | '.join(cells)} |")
    w("")
    w("✗: outside the goal of ±5 points.")
    w("")
    w("Mean width of the 90 % intervals over the prior's width (1: the data taught nothing):")
    w("")
    w(f"| parameter | {head} |")
    w("|---|" + "---|" * len(s["accept"]))
    for name in names:
        cells = [f"{studies[k]['width_over_prior']['0.9'][name]:.2f}" for k in s["accept"]]
        w(f"| `{name}` | {' | '.join(cells)} |")
    w("")
    w("Pairs within the goal, per k:")
    w("")
    w("| k | acceptance | pairs within ±5 points | rank tests with p < 0.01 |")
    w("|---|---|---|---|")
    for k in s["accept"]:
        st = studies[k]["summary"]
        ok = sum(st[nm]["coverage"][a]["met"] for nm in names for a in ("0.5", "0.9"))
        bad = sum(st[nm]["ranks"]["p_value"] < 0.01 for nm in names)
        w(
            f"| {k} | {_pct(studies[k]['acceptance'])} % | {ok} of {2 * len(names)} | "
            f"{bad} of {len(names)} |"
        )
    w("")
    o = doc["observed"]
    w("## The observed data through the same rejection posterior")
    w("")
    share = o["share_within_smc_epsilon"]
    n_tab = len(doc["table"]["theta"])
    eps0 = o["smc_epsilons"][0]
    same = abs(o["smc_generation0_median_distance"] - eps0) <= 1e-9 * eps0
    w(
        "The ABC-SMC's generation 0 run again with its own seeds: its median distance "
        f"to the observed data is {o['smc_generation0_median_distance']:.4f}, the SMC's "
        f"first tolerance was {eps0:.4f} — "
        + (
            "the same, so the simulator, statistics and distance checked here are the "
            "ones the SMC ran."
            if same
            else "**not the same**: the simulator or the statistics have changed since "
            "the SMC ran, and its posterior is of a different model than this table's."
        )
        + " On the SMC's scale (the standard deviations over those 50 runs), its "
        "tolerances ε₁…ε₄ = "
        + ", ".join(f"{e:.2f}" for e in o["smc_epsilons"])
        + " accept "
        + ", ".join(f"{_pct(x)} %" for x in share)
        + f" of the table's {n_tab} prior runs: the last, "
        f"{_pct(share[-1])} % (k ≈ {share[-1] * (n_tab - 1):.0f}), is the acceptance "
        "rate of rejection ABC whose posterior the SMC's approximates, and the one to "
        "read the table above at."
    )
    w("")
    w(
        f"The {o['k']} runs of the table nearest to what happened, against the "
        "ABC-SMC's posterior (docs/kazakhstan_calibration.json):"
    )
    w("")
    w(
        "| parameter | prior | rejection (k nearest): median, 90 % interval | "
        "ABC-SMC: median, 90 % interval |"
    )
    w("|---|---|---|---|")
    for name in names:
        v = o["parameters"][name]
        lo, hi = s["priors"][name]
        w(
            f"| `{name}` | {lo:g}–{hi:g} | {v['median']:.4g} ({v['lo']:.4g}–{v['hi']:.4g}) | "
            f"{v['smc']['median']:.4g} ({v['smc']['lo']:.4g}–{v['smc']['hi']:.4g}) |"
        )
    w("")
    w("## What this says")
    w("")
    for line in _reading(doc):
        w(line)
    w("")
    return "\n".join(L)


def _shape(ranks: dict[str, Any]) -> str:
    """What a rank histogram's departure from uniform looks like (Talts et al. fig. 3)."""
    c, e = np.array(ranks["counts"], float), np.array(ranks["expected"], float)
    n, h = c.sum(), len(c) // 2
    low = (c[:h].sum() - e[:h].sum()) / n  # share of truths in excess in the low half
    outer = (c[0] + c[-1] - e[0] - e[-1]) / n
    if abs(low) >= 0.05 and abs(low) >= abs(outer):
        return "truths rank low: draws too high" if low > 0 else "truths rank high: draws too low"
    if outer >= 0.03:
        return "∪: intervals too narrow"
    if outer <= -0.03:
        return "∩: intervals too wide"
    return "no simple shape: spikes in single bins"


def _reading(doc: dict[str, Any]) -> list[str]:
    """A few sentences on the result, each computed from the JSON."""
    s = doc["settings"]
    names = s["parameters"]
    levels = [f"{a:g}" for a in s["levels"]]
    studies = {st["k"]: st for st in doc["studies"]}
    ks = s["accept"]
    main = studies[s["k_main"]]
    out: list[str] = []

    def cov(k: int, n: str, a: str) -> dict[str, Any]:
        return studies[k]["summary"][n]["coverage"][a]

    missed = [(n, a) for n in names for a in levels if not cov(s["k_main"], n, a)["met"]]
    text = (
        f"* **At k = {s['k_main']}** (acceptance {_pct(main['acceptance'])} %): "
        f"{2 * len(names) - len(missed)} of {2 * len(names)} parameter-level pairs cover "
        f"within ±{100 * s['tolerance']:.0f} points of nominal"
    )
    if missed:
        text += "; the goal is **not met** for " + "; ".join(
            f"`{n}` at {float(a):.0%} ({_pct(cov(s['k_main'], n, a)['rate'])} %, "
            + ("too narrow" if cov(s["k_main"], n, a)["rate"] < float(a) else "too wide")
            + (
                ", but within 2 SE of the goal's edge"
                if not cov(s["k_main"], n, a)["conclusive"]
                else ""
            )
            + ")"
            for n, a in missed
        )
    out.append(text + ".")
    rates = [cov(k, n, a)["rate"] - float(a) for k in ks for n in names for a in levels]
    n_met = sum(cov(k, n, a)["met"] for k in ks for n in names for a in levels)
    out.append(
        f"* **Across acceptance rates** ({_pct(studies[ks[0]]['acceptance'])}–"
        f"{_pct(studies[ks[-1]]['acceptance'])} %), coverage minus nominal ranges from "
        f"{100 * min(rates):+.1f} to {100 * max(rates):+.1f} points; {n_met} of "
        f"{len(rates)} pairs are within the goal. Coverage hardly depends on the "
        "acceptance rate here; what grows with it is the intervals' width (table above): "
        "a wider tolerance gives a wider posterior that still covers."
    )
    bad = [
        (k, n, studies[k]["summary"][n]["ranks"]["p_value"])
        for k in ks
        for n in names
        if studies[k]["summary"][n]["ranks"]["p_value"] < 0.01
    ]
    out.append(
        f"* **Ranks**: {len(bad)} of {len(ks) * len(names)} χ² tests have p < 0.01"
        + (
            " ("
            + "; ".join(
                f"`{n}` at k = {k}, p = {p:.2g}, {_shape(studies[k]['summary'][n]['ranks'])}"
                for k, n, p in bad
            )
            + ")"
            if bad
            else ""
        )
        + f"; about {0.01 * len(ks) * len(names):.1f} would by chance if all were "
        "uniform, and the tests share one table, so they are not independent."
    )
    w90 = main["width_over_prior"]["0.9"]
    learned = [n for n in names if w90[n] < 0.8]
    flat = [n for n in names if w90[n] >= 0.8]
    out.append(
        "* **Coverage is not information.** A posterior equal to the prior is calibrated "
        f"too. At k = {s['k_main']} the 90 % intervals are on average "
        + ", ".join(f"{w90[n]:.2f} (`{n}`)" for n in names)
        + " of the prior's width (a uniform prior's own 90 % interval: 0.90). "
        + (
            "Narrowed well below the prior: " + ", ".join(f"`{n}`" for n in learned) + ". "
            if learned
            else "None is narrowed well below the prior. "
        )
        + (
            "For "
            + ", ".join(f"`{n}`" for n in flat)
            + " the onsets and detentions say little, and their calibrated coverage is "
            "mostly the prior's."
            if flat
            else ""
        )
    )
    o = doc["observed"]
    k_smc = o["share_within_smc_epsilon"][-1] * (len(doc["table"]["theta"]) - 1)
    near = min(ks, key=lambda k: abs(k - k_smc))
    out.append(
        "* **The SMC's posterior** uses the same simulator, statistics and distance "
        "(generation 0 reproduced above); its last tolerance corresponds to k ≈ "
        f"{k_smc:.0f} of this table: read the column k = {near}, the nearest computed. "
        "Its intervals are as trustworthy as that only in so far as "
        "its 50 particles and 5 generations reached the same ABC posterior: this study "
        "does not check the SMC's own moves, weights, or its small population."
    )
    return out


def dumps(doc: dict[str, Any]) -> str:
    """The JSON, indented, with each list of numbers on one line (a table row a line)."""
    text = json.dumps(doc, indent=1)
    flat = re.sub(
        r"\[\s*([-0-9.eE+,\s]+?)\s*\]", lambda m: "[" + re.sub(r"\s+", "", m.group(1)) + "]", text
    )
    return flat + "\n"


def main(argv: list[str] | None = None) -> int:
    return study_main(
        argv,
        __doc__.split("\n")[0],
        SBC_JSON,
        DOC,
        render_doc,
        run_study,
        "scripts/kz2022_sbc.py",
        "kz2022-sbc",
        dumps=dumps,
    )


if __name__ == "__main__":
    raise SystemExit(main())
