"""Parameter recovery of the ABC-SMC calibration, rerun and recorded; docs/calibration.md's
recovery tables generated from the record.

Usage (from the repository root)::

    python scripts/calibration_study.py --rerun            # rerun every study (~20-40 min
                                                           # on 2 shared cores), write the
                                                           # record and the doc
    python scripts/calibration_study.py --rerun --only sbc # one study
    python scripts/calibration_study.py                    # the doc from the record
    python scripts/calibration_study.py --check            # exit 1 if the doc is stale

The record is ``docs/calibration_results.json``; the doc's tables sit between
``<!-- BEGIN GENERATED: NAME -->`` and ``<!-- END GENERATED: NAME -->`` markers.

Studies (all on ``epstein2002-run2``; priors legitimacy U(0.7, 0.9), cop density
U(0.02, 0.08); "observed" data are runs of the model at a known truth):

* ``small`` — the default-suite setting (20 × 20 lattice, 100 ticks, threshold 14, 100
  particles, 4 generations) at an off-centre truth, for several observed seeds.
* ``larger`` — the full 40 × 40 lattice, 200 ticks, threshold 50, 200 particles, 5
  generations, at the same off-centre truth, for several observed seeds.
* ``sbc`` — simulation-based calibration (Talts et al. 2018, arXiv:1804.06788): truths
  drawn from the prior, each with its own observed run, calibrated with a small budget;
  the share of 90 % intervals that cover their truth, and the rank of each truth among
  its posterior draws.

``tests/experiments/test_calibration.py`` asserts the same properties on a smaller
budget (default suite) and runs the SBC itself (slow suite).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "docs" / "calibration_results.json"
DOC = ROOT / "docs" / "calibration.md"

PRIOR = {"legitimacy": (0.7, 0.9), "cop_density": (0.02, 0.08)}
#: Off-centre truths: a posterior that learned nothing (the prior) has its mean at the
#: centre, 0.8 and 0.05, and would cover these only with its tails.
TRUTH = {"legitimacy": 0.74, "cop_density": 0.065}

SMALL = {"size": 20, "steps": 100, "threshold": 14, "particles": 100, "generations": 4}
LARGER = {"size": 40, "steps": 200, "threshold": 50, "particles": 200, "generations": 5}
SBC = {"size": 20, "steps": 100, "threshold": 14, "particles": 60, "generations": 3}
OBSERVED_SEEDS = (12345, 2, 3)
SBC_TRUTHS = 24


def scenario(size: int):
    import upheaval

    return upheaval.apply_overrides(
        upheaval.load("epstein2002-run2"), {"world.width": size, "world.height": size}
    )


def observe(truth: dict[str, float], seed: int, size: int, steps: int, threshold: int):
    """The statistics of one run of the model at ``truth``: the "observed" data."""
    from upheaval.engine.simulation import Simulation
    from upheaval.experiments.summary_stats import STATISTICS, Observed, run_statistics
    from upheaval.scenario.loading import apply_overrides

    sim = Simulation(apply_overrides(scenario(size), truth), seed=seed).run(steps)
    stats = run_statistics(sim.table(), threshold)
    return Observed(f"truth-seed{seed}", "run", stats, tuple(STATISTICS))


def recover(
    truth: dict[str, float],
    obs_seed: int,
    settings: dict[str, int],
    *,
    seed: int = 7,
    workers: int = 1,
    out: Path | None = None,
) -> dict[str, Any]:
    """Calibrate against one observed run at ``truth`` and summarise the posterior."""
    from upheaval.experiments import SerialExecutor, parse_factor
    from upheaval.experiments.calibration import calibrate

    obs = observe(truth, obs_seed, settings["size"], settings["steps"], settings["threshold"])
    factors = [parse_factor(f"{k}={lo}:{hi}") for k, (lo, hi) in PRIOR.items()]
    tmp = Path(tempfile.mkdtemp(prefix="calib-study-")) if out is None else out
    t0 = time.perf_counter()
    try:
        res = calibrate(
            scenario(settings["size"]),
            obs,
            factors,
            tmp,
            particles=settings["particles"],
            generations=settings["generations"],
            steps=settings["steps"],
            seed=seed,
            executor=SerialExecutor() if workers == 1 else None,
            workers=workers,
            threshold=settings["threshold"],
        )
    finally:
        if out is None:
            shutil.rmtree(tmp, ignore_errors=True)
    return summarise(res, truth, obs_seed, time.perf_counter() - t0)


def summarise(res, truth: dict[str, float], obs_seed: int, seconds: float) -> dict[str, Any]:
    """Per parameter: truth, posterior mean, sd, 90 % interval, its width against the
    prior's 90 % width, coverage and the truth's rank among the posterior's particles."""
    table = res.summary_table().set_index("parameter")
    post = res.posterior
    values = res.values(post)
    params = {}
    for name, t in truth.items():
        lo, hi = PRIOR[name]
        q5, q95 = res.credible_interval(name, 0.9)
        row = table.loc[name]
        params[name] = {
            "truth": t,
            "mean": float(row["mean"]),
            "sd": float(row["sd"]),
            "prior_sd": (hi - lo) / np.sqrt(12),
            "q5": float(q5),
            "q95": float(q95),
            "width_vs_prior": float((q95 - q5) / (0.9 * (hi - lo))),
            "covered": bool(q5 <= t <= q95),
            # weighted share of posterior particles below the truth: uniform over
            # truths drawn from the prior when the posterior is calibrated
            "rank": float(np.sum(post.weights[values[name] < t])),
        }
    return {
        "observed_seed": obs_seed,
        "params": params,
        "area_vs_prior": area_vs_prior(res),
        "generations": [
            {
                "epsilon": None if not np.isfinite(p.epsilon) else float(p.epsilon),
                "simulations": int(p.simulations),
                "accepted": len(p.weights),
                "ess": float(p.ess),
            }
            for p in res.populations
        ],
        "runs": int(sum(p.simulations for p in res.populations)),
        "seconds": round(seconds, 1),
    }


def area_vs_prior(res) -> float:
    """sqrt(det Σ_posterior / det Σ_prior): the posterior's spread over the parameters
    jointly, against the prior's (1: it learned nothing). Legitimacy and cop density
    trade off along a ridge, so the joint spread falls further than either marginal."""
    post = res.posterior
    values = res.values(post)
    x = np.column_stack([values[name] for name in PRIOR])
    cov = np.cov(x, rowvar=False, aweights=post.weights)
    prior = np.diag([(hi - lo) ** 2 / 12 for lo, hi in PRIOR.values()])
    return float(np.sqrt(np.linalg.det(cov) / np.linalg.det(prior)))


def sbc_truths(n: int, seed: int = 2026) -> list[dict[str, float]]:
    """Truths drawn from the prior (a fixed stream, so the study is repeatable)."""
    rng = np.random.default_rng(seed)
    return [{k: float(rng.uniform(lo, hi)) for k, (lo, hi) in PRIOR.items()} for _ in range(n)]


def sbc(n: int = SBC_TRUTHS, settings: dict[str, int] = SBC) -> dict[str, Any]:
    """Simulation-based calibration: each truth from the prior, its own observed run
    (seed 1000 + i) and calibration (seed 100 + i)."""
    runs = []
    for i, truth in enumerate(sbc_truths(n)):
        r = recover(truth, 1000 + i, settings, seed=100 + i)
        runs.append(r)
        cov = {k: v["covered"] for k, v in r["params"].items()}
        print(f"sbc {i + 1}/{n}: {truth} covered {cov} in {r['seconds']} s", flush=True)
    return {"settings": settings, "truths": n, "runs": runs, **sbc_summary(runs)}


def sbc_summary(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"coverage_90": {}, "mean_width_vs_prior": {}, "ranks": {}}
    out["mean_area_vs_prior"] = statistics.fmean(r["area_vs_prior"] for r in runs)
    for name in PRIOR:
        covered = [r["params"][name]["covered"] for r in runs]
        out["coverage_90"][name] = sum(covered) / len(covered)
        out["mean_width_vs_prior"][name] = statistics.fmean(
            r["params"][name]["width_vs_prior"] for r in runs
        )
        out["ranks"][name] = [r["params"][name]["rank"] for r in runs]
    return out


# ----------------------------------------------------------------------------------------
# the document
# ----------------------------------------------------------------------------------------
def _num(x: float, name: str) -> str:
    return f"{x:.3f}" if name == "legitimacy" else f"{x:.4f}"


def recovery_table(study: dict[str, Any]) -> list[str]:
    lines = [
        "| observed seed | parameter | truth | posterior mean | sd (prior sd) | 90 % interval "
        "| width ÷ prior's 90 % width | covers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in study["runs"]:
        for name, p in r["params"].items():
            lines.append(
                f"| {r['observed_seed']} | {name} | {_num(p['truth'], name)} "
                f"| {_num(p['mean'], name)} | {_num(p['sd'], name)} ({_num(p['prior_sd'], name)}) "
                f"| {_num(p['q5'], name)} … {_num(p['q95'], name)} "
                f"| {p['width_vs_prior']:.2f} | {'yes' if p['covered'] else '**no**'} |"
            )
    runs = [r["runs"] for r in study["runs"]]
    secs = [r["seconds"] for r in study["runs"]]
    lines += [
        "",
        f"{len(runs)} calibrations, {min(runs):,}–{max(runs):,} runs each, "
        f"{min(secs):.0f}–{max(secs):.0f} s each on {study['workers']} worker(s) of the "
        "shared 2-core machine. The posterior's joint spread against the prior's, "
        "sqrt(det Σ_post / det Σ_prior) (1: learned nothing): "
        + ", ".join(f"{r['area_vs_prior']:.2f}" for r in study["runs"])
        + ".",
    ]
    return lines


def generations_table(run: dict[str, Any]) -> list[str]:
    lines = ["| generation | ε | runs | accepted | ESS |", "|---|---|---|---|---|"]
    for g, p in enumerate(run["generations"]):
        eps = "∞" if p["epsilon"] is None else f"{p['epsilon']:.3f}"
        lines.append(f"| {g} | {eps} | {p['simulations']:,} | {p['accepted']} | {p['ess']:.1f} |")
    return lines


def _study_block(s: dict[str, Any]) -> list[str]:
    first = generations_table(s["runs"][0])
    return [*recovery_table(s), "", "Generations of the first calibration:", "", *first]


def block_small(rec: dict[str, Any]) -> list[str]:
    return _study_block(rec["small"])


def block_larger(rec: dict[str, Any]) -> list[str]:
    return _study_block(rec["larger"])


def block_sbc(rec: dict[str, Any]) -> list[str]:
    s = rec["sbc"]
    st = s["settings"]
    lines = [
        f"{s['truths']} truths drawn from the prior; each: its own observed run, "
        f"{st['size']} × {st['size']} lattice, {st['steps']} ticks, threshold "
        f"{st['threshold']}, {st['particles']} particles, {st['generations']} generations.",
        "",
        "| parameter | 90 % intervals covering their truth | mean width ÷ prior's 90 % width "
        "| ranks of the truth (deciles: counts) |",
        "|---|---|---|---|",
    ]
    for name in PRIOR:
        ranks = s["ranks"][name]
        deciles = np.histogram(ranks, bins=10, range=(0.0, 1.0))[0]
        covered = round(s["coverage_90"][name] * s["truths"])
        lines.append(
            f"| {name} | {covered} of {s['truths']} ({s['coverage_90'][name]:.0%}) "
            f"| {s['mean_width_vs_prior'][name]:.2f} | {' '.join(map(str, deciles))} |"
        )
    lines += [
        "",
        f"Mean joint spread of the posteriors against the prior's: "
        f"{s['mean_area_vs_prior']:.2f} (1: learned nothing).",
    ]
    return lines


BLOCKS = {
    "calibration_small": block_small,
    "calibration_larger": block_larger,
    "calibration_sbc": block_sbc,
}


def render(text: str, rec: dict[str, Any]) -> str:
    for name, block in BLOCKS.items():
        key = name.removeprefix("calibration_")
        body = "\n".join(block(rec)) if key in rec else "*Not measured yet.*"
        pattern = re.compile(
            rf"(<!-- BEGIN GENERATED: {name} [^\n]*-->\n).*?(<!-- END GENERATED: {name} -->)", re.S
        )
        if not pattern.search(text):
            raise SystemExit(f"docs/calibration.md: no generated block {name!r}")
        text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rerun", action="store_true", help="rerun the studies, rewrite the record")
    ap.add_argument("--only", nargs="*", choices=("small", "larger", "sbc"), help="with --rerun")
    ap.add_argument("--workers", type=int, default=2, help="for the larger study (default 2)")
    ap.add_argument("--check", action="store_true", help="exit 1 if the doc is stale")
    ap.add_argument("--record", type=Path, default=RECORD)
    ap.add_argument("--doc", type=Path, default=DOC)
    args = ap.parse_args(argv)
    rec = json.loads(args.record.read_text()) if args.record.is_file() else {}
    if args.rerun:
        import upheaval

        rec["command"] = "python scripts/calibration_study.py --rerun"
        rec["upheaval_version"] = upheaval.__version__
        rec["prior"] = PRIOR
        for study in args.only or ("small", "larger", "sbc"):
            t0 = time.perf_counter()
            if study == "sbc":
                rec["sbc"] = sbc()
            else:
                settings = SMALL if study == "small" else LARGER
                workers = 1 if study == "small" else args.workers
                runs = []
                for s in OBSERVED_SEEDS:
                    runs.append(recover(TRUTH, s, settings, workers=workers))
                    print(f"{study} seed {s}: {runs[-1]['params']}", flush=True)
                rec[study] = {
                    "settings": settings,
                    "truth": TRUTH,
                    "workers": workers,
                    "runs": runs,
                }
            rec[study]["wall_s"] = round(time.perf_counter() - t0, 1)
            rec[study]["date"] = time.strftime("%Y-%m-%d", time.gmtime())
            args.record.write_text(json.dumps(rec, indent=1) + "\n")
    old = args.doc.read_text("utf-8")
    new = render(old, rec)
    if args.check:
        if new != old:
            print(f"{args.doc} is stale: run python scripts/calibration_study.py", file=sys.stderr)
            return 1
        return 0
    args.doc.write_text(new, "utf-8")
    print(f"wrote {args.doc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
