"""Calibration by approximate Bayesian computation, sequential Monte Carlo (ABC-SMC).

A small implementation over the sweep runner (Toni et al. 2009, J. R. Soc.
Interface 6:187; Beaumont et al. 2009, Biometrika 96:983):

* priors are uniform on each ``--param key=low:high`` (integers on
  ``[low − ½, high + ½]``, rounded when run, as in :mod:`designs`);
* generation 0 draws ``particles`` points from the prior and accepts them all;
* generation t ≥ 1 has tolerance ε_t = the ``quantile`` of generation t − 1's
  distances; candidates are drawn from generation t − 1 by weight and moved by a
  Gaussian kernel with covariance twice the weighted covariance of that
  population (Beaumont et al.), redrawn until inside the prior's support, and
  simulated in rounds until ``particles`` are accepted (d ≤ ε_t), the first ones in
  proposal order;
* a particle's weight is prior(θ) / Σ_j w_j K(θ | θ_j), normalised; the effective
  sample size is 1 / Σ w²;
* the distance is Euclidean over the chosen statistics (:mod:`summary_stats`),
  each divided by its standard deviation over generation 0 (the prior
  predictive spread; 1 where that is 0), fixed for
  the whole calibration so that tolerances of generations are comparable.

Each round of simulations is one sweep (``DIR/gen-GG/round-RR``, with its ticks)
run by :func:`upheaval.experiments.run_sweep`, on any executor. Seeds: round
``(g, r)`` has the root ``SeedSequence(entropy, spawn_key=(0, g, r))`` and its
proposals are drawn from ``SeedSequence(entropy, spawn_key=(1, g, r))``, so a
calibration is bit-identical for a given seed whatever the executor or worker
count, and running it again resumes from the rounds already on disk.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from upheaval.experiments.designs import Design, Factor
from upheaval.experiments.runner import run_sweep
from upheaval.experiments.summary_stats import (
    SUMMARY_VERSION,
    Observed,
    check_statistics,
    sweep_statistics,
)
from upheaval.results import directories
from upheaval.results.outbursts import DEFAULT_THRESHOLD
from upheaval.scenario.schema import Scenario

#: calibration.json's ``format``: marks the directory as a calibration.
FORMAT = "upheaval-calibration/1"


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    # whole or not at all: a half-written marker would make the directory unusable
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=1), "utf-8")
    os.replace(tmp, path)


class CalibrationError(ValueError):
    """A bad calibration setting: ``where`` names the flag, ``reason`` what is wrong."""

    def __init__(self, where: str, reason: str):
        self.where, self.reason = where, reason
        super().__init__(f"{where}: {reason}")


@dataclass
class Population:
    """One generation's accepted particles."""

    generation: int
    theta: np.ndarray  # particles × parameters, continuous values on the prior's bounds
    weights: np.ndarray  # normalised
    distances: np.ndarray
    epsilon: float
    simulations: int  # runs this generation made
    stats: np.ndarray  # particles × statistics

    @property
    def ess(self) -> float:
        """Effective sample size 1 / Σ w² (weights normalised)."""
        return float(1.0 / np.sum(self.weights**2))


@dataclass
class CalibrationResult:
    """What :func:`calibrate` found: every generation and the posterior summary."""

    out: Path
    factors: tuple[Factor, ...]
    statistics: tuple[str, ...]
    observed: dict[str, float]
    scale: np.ndarray
    populations: list[Population] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def posterior(self) -> Population:
        return self.populations[-1]

    def values(self, pop: Population) -> dict[str, np.ndarray]:
        """A population's particles as model values (integers rounded)."""
        return {
            f.name: np.asarray(f.from_unit(pop.theta[:, j])) for j, f in enumerate(self.factors)
        }

    def particles_table(self):
        """Every generation's particles: generation, particle, parameters, weight, distance."""
        import pandas as pd

        frames = []
        for pop in self.populations:
            d: dict[str, Any] = {
                "generation": pop.generation,
                "particle": np.arange(len(pop.weights)),
            }
            d.update(self.values(pop))
            d["weight"] = pop.weights
            d["distance"] = pop.distances
            d["epsilon"] = pop.epsilon
            for k, s in enumerate(self.statistics):
                d[f"stat_{s}"] = pop.stats[:, k]
            frames.append(pd.DataFrame(d))
        return pd.concat(frames, ignore_index=True)

    def summary_table(self, level: float = 0.9):
        """Posterior mean, sd, median and the central ``level`` credible interval."""
        import pandas as pd

        pop = self.posterior
        lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
        rows = []
        for name, v in self.values(pop).items():
            v = v.astype(np.float64)
            mean = float(np.sum(pop.weights * v))
            rows.append(
                {
                    "parameter": name,
                    "mean": mean,
                    "sd": float(np.sqrt(np.sum(pop.weights * (v - mean) ** 2))),
                    "median": weighted_quantile(v, pop.weights, 0.5),
                    f"q{lo_q * 100:g}": weighted_quantile(v, pop.weights, lo_q),
                    f"q{hi_q * 100:g}": weighted_quantile(v, pop.weights, hi_q),
                    "generation": pop.generation,
                    "ess": pop.ess,
                }
            )
        return pd.DataFrame(rows)

    def generations_table(self):
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "generation": p.generation,
                    "epsilon": p.epsilon,
                    "accepted": len(p.weights),
                    "simulations": p.simulations,
                    "acceptance": len(p.weights) / max(1, p.simulations),
                    "ess": p.ess,
                }
                for p in self.populations
            ]
        )

    def credible_interval(self, name: str, level: float = 0.9) -> tuple[float, float]:
        pop = self.posterior
        v = self.values(pop)[name].astype(np.float64)
        return (
            weighted_quantile(v, pop.weights, (1 - level) / 2),
            weighted_quantile(v, pop.weights, 1 - (1 - level) / 2),
        )


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of a weighted sample (inverse of the weighted empirical CDF,
    interpolated between the mid-points of each value's weight)."""
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, np.float64)[order], np.asarray(weights, np.float64)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / np.sum(w)
    return float(np.interp(q, cdf, v))


def _gaussian_kernel(diff: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Gaussian density of ``diff`` (… × d) with covariance ``cov``."""
    d = cov.shape[0]
    chol = np.linalg.cholesky(cov)
    z = np.linalg.solve(chol, diff.reshape(-1, d).T).T
    log_det = 2.0 * np.sum(np.log(np.diag(chol)))
    dens = np.exp(-0.5 * np.sum(z**2, axis=1) - 0.5 * (d * math.log(2 * math.pi) + log_det))
    return dens.reshape(diff.shape[:-1])


def _kernel_cov(pop: Population, bounds: np.ndarray) -> np.ndarray:
    """Twice the population's weighted covariance (Beaumont et al. 2009), kept positive
    definite: a collapsed dimension gets a floor of (1e-6 × its prior width)²."""
    mean = pop.weights @ pop.theta
    c = pop.theta - mean
    cov = 2.0 * (c * pop.weights[:, None]).T @ c
    floor = (1e-6 * (bounds[:, 1] - bounds[:, 0])) ** 2
    return cov + np.diag(floor)


def calibrate(
    scenario: Scenario,
    observed: Observed,
    factors: Sequence[Factor],
    out: str | Path,
    *,
    statistics: Sequence[str] | None = None,
    particles: int = 100,
    generations: int = 4,
    quantile: float = 0.5,
    steps: int | None = None,
    seed: int | None = None,
    executor: cf.Executor | None = None,
    workers: int | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    max_rounds: int = 20,
    force: bool = False,
    on_generation: Callable[[Population], None] | None = None,
    on_progress: Callable[[int, int, int, str], None] | None = None,
    summary: Callable[[Any], dict[str, float]] | None = None,
) -> CalibrationResult:
    """Calibrate ``factors`` of ``scenario`` to ``observed`` by ABC-SMC (module docstring).

    Writes ``out/gen-GG/round-RR`` sweeps and ``out/calibration.json``; returns a
    :class:`CalibrationResult` (write its tables with :func:`write_result`).
    ``on_progress(done, failed, to_run, label)`` follows each round's runs (label:
    "generation G, round R"). ``summary`` replaces the statistics of
    :mod:`summary_stats` by the caller's own (a run's tick table → name → value; e.g.
    per-place onsets of a country, :mod:`upheaval.experiments.scoring`): then
    ``statistics`` names which of its values are compared, and ``observed`` must hold
    each of them.
    """
    factors = tuple(factors)
    if not factors:
        raise CalibrationError("--param", "give at least one parameter to calibrate")
    for f in factors:
        if not f.is_range:
            raise CalibrationError("--param", f"{f.name}: calibration needs a range low:high")
    if summary is None:
        names = check_statistics(
            tuple(statistics) if statistics else default_statistics(observed),
            observed.comparable,
        )
    else:
        names = tuple(statistics or ())
        if not names:
            raise CalibrationError("--stat", "a summary function needs the statistics' names")
        missing = [n for n in names if n not in observed.statistics]
        if missing:
            raise CalibrationError("--stat", f"{missing[0]!r} is not in the observed data")
    if particles < 2:
        raise CalibrationError("--particles", f"must be ≥ 2, got {particles}")
    if generations < 1:
        raise CalibrationError("--generations", f"must be ≥ 1, got {generations}")
    if not 0 < quantile < 1:
        raise CalibrationError("--quantile", f"must lie in (0, 1), got {quantile}")
    if max_rounds < 1:
        raise CalibrationError("--max-rounds", f"must be ≥ 1, got {max_rounds}")
    out, _ = directories.claim(
        Path(out).resolve(),
        directories.CALIBRATION,
        overwrite=force,
        error=CalibrationError,
        resume=True,
        overwrite_hint="force=True",
    )
    entropy = scenario.params.run.seed if seed is None else int(seed)
    bounds = np.array([f.bounds() for f in factors], dtype=np.float64)
    obs = np.array([observed.statistics[s] for s in names], dtype=np.float64)
    settings = {
        "summary_version": SUMMARY_VERSION,
        "statistics": list(names),
        "observed": {
            "source": observed.source,
            "kind": observed.kind,
            "values": dict(zip(names, obs.tolist(), strict=True)),
        },
        "factors": [f.to_dict() for f in factors],
        "particles": particles,
        "generations": generations,
        "quantile": quantile,
        "seed": entropy,
        "steps": steps,
        "threshold": threshold,
    }
    previous = out / "calibration.json"
    if previous.exists():
        old = json.loads(previous.read_text("utf-8")).get("settings")
        if json.dumps(old, sort_keys=True) != json.dumps(settings, sort_keys=True):
            raise CalibrationError(
                str(out), "holds a different calibration; use another --out or force=True"
            )
    else:
        # The marker of a calibration directory (results/directories.py).
        _write_json(previous, {"format": FORMAT, "settings": settings})

    t0 = time.perf_counter()

    def simulate(g: int, r: int, theta: np.ndarray) -> np.ndarray:
        """Statistics (rows of ``names``; NaN for a failed run) of the candidates ``theta``."""
        return simulate_points(
            scenario,
            factors,
            theta,
            out / f"gen-{g:02d}" / f"round-{r:02d}",
            names,
            seed=np.random.SeedSequence(entropy, spawn_key=(0, g, r)),
            steps=steps,
            executor=executor,
            workers=workers,
            threshold=threshold,
            summary=summary,
            settings={"generation": g, "round": r},
            on_progress=(
                None
                if on_progress is None
                else lambda d, f, n: on_progress(d, f, n, f"generation {g}, round {r}")
            ),
        )

    result = CalibrationResult(
        out, factors, names, dict(zip(names, obs.tolist(), strict=True)), np.ones(len(names))
    )

    # Generation 0: the prior, all accepted.
    rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(1, 0, 0)))
    theta0 = rng.uniform(bounds[:, 0], bounds[:, 1], size=(particles, len(factors)))
    stats0 = simulate(0, 0, theta0)
    ok = np.all(np.isfinite(stats0), axis=1)
    if ok.sum() < 2:
        raise CalibrationError(
            "--param",
            "fewer than two runs of the prior succeeded; see the failed runs in gen-00/round-00",
        )
    result.scale = prior_scale(stats0[ok])
    d0 = scaled_distance(stats0, obs, result.scale)
    theta0, stats0, d0 = theta0[ok], stats0[ok], d0[ok]
    pop = Population(0, theta0, np.full(len(d0), 1.0 / len(d0)), d0, math.inf, particles, stats0)
    result.populations.append(pop)
    if on_generation:
        on_generation(pop)

    for g in range(1, generations):
        eps = float(np.quantile(pop.distances, quantile))
        cov = _kernel_cov(pop, bounds)
        acc_theta: list[np.ndarray] = []
        acc_stats: list[np.ndarray] = []
        acc_d: list[np.ndarray] = []
        n_acc, sims, rate = 0, 0, quantile
        for r in range(max_rounds):
            need = particles - n_acc
            batch = int(min(10 * particles, math.ceil(1.2 * need / max(rate, 0.02))))
            rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(1, g, r)))
            cand = _propose(rng, pop, cov, bounds, batch)
            s = simulate(g, r, cand)
            d = scaled_distance(s, obs, result.scale)
            keep = np.isfinite(d) & (d <= eps)
            sims += batch
            rate = max(keep.mean(), 1.0 / (batch + 1))
            acc_theta.append(cand[keep])
            acc_stats.append(s[keep])
            acc_d.append(d[keep])
            n_acc += int(keep.sum())
            if n_acc >= particles:
                break
        theta = np.concatenate(acc_theta)[:particles]
        if len(theta) < 2:
            break  # the tolerance cannot be reached within max_rounds: stop at the last population
        stats = np.concatenate(acc_stats)[:particles]
        dist = np.concatenate(acc_d)[:particles]
        dens = _gaussian_kernel(theta[:, None, :] - pop.theta[None, :, :], cov) @ pop.weights
        w = 1.0 / dens  # the uniform prior's density is the same for every particle
        pop = Population(g, theta, w / w.sum(), dist, eps, sims, stats)
        result.populations.append(pop)
        if on_generation:
            on_generation(pop)
    result.seconds = time.perf_counter() - t0
    return result


def default_statistics(observed: Observed) -> tuple[str, ...]:
    """The default statistics for this observed data (``summary_stats`` docstring)."""
    from upheaval.experiments.summary_stats import DEFAULT_STATISTICS

    if observed.kind == "events":
        return observed.comparable
    return DEFAULT_STATISTICS


def simulate_points(
    scenario: Scenario,
    factors: Sequence[Factor],
    theta: np.ndarray,
    where: str | Path,
    names: Sequence[str],
    *,
    seed: np.random.SeedSequence,
    steps: int | None = None,
    executor: cf.Executor | None = None,
    workers: int | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    summary: Callable[[Any], dict[str, float]] | None = None,
    settings: dict[str, Any] | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> np.ndarray:
    """One run of ``scenario`` at each row of ``theta`` (points on the factors'
    :meth:`~Factor.bounds`), as one sweep in ``where`` (resumable, with its ticks):
    the statistics ``names`` of each run, a row per point (NaN for a failed run).

    What a generation of :func:`calibrate` runs, public so that other inference on the
    same simulator (a reference table of prior runs for simulation-based calibration,
    :mod:`upheaval.experiments.sbc`) sees exactly the statistics the calibration sees.
    """
    factors = tuple(factors)
    theta = np.asarray(theta, dtype=np.float64)
    design = Design(
        "abc",
        factors,
        {f.name: f.from_unit(theta[:, j]) for j, f in enumerate(factors)},
        1,
        theta,
        dict(settings or {}),
    )
    run_sweep(
        scenario,
        design,
        where,
        steps=steps,
        seed=seed,
        executor=executor,
        workers=workers,
        keep_ticks=True,
        threshold=threshold,
        on_progress=on_progress,
    )
    found = sweep_statistics(where, threshold, summary)
    s = np.full((len(theta), len(names)), np.nan)
    for (p, _), st in found.items():
        s[p] = [st[n] for n in names]
    return s


def prior_scale(stats: np.ndarray) -> np.ndarray:
    """Each statistic's scale in the distance: its standard deviation over runs of the
    prior (rows of ``stats``), 1 where that is 0."""
    # The standard deviation, not the median absolute deviation: a prior predictive
    # with most of its mass on "no unrest" has a MAD near 0 for every unrest statistic,
    # which would let one statistic swamp the distance.
    sd = np.std(stats, axis=0)
    return np.where(sd > 0, sd, 1.0)


def scaled_distance(stats: np.ndarray, obs: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The calibration's distance of each row of ``stats`` to ``obs``: Euclidean over the
    statistics, each divided by its ``scale``; ∞ for a run with a missing statistic."""
    d = np.sqrt(np.sum(((stats - obs) / scale) ** 2, axis=-1))
    return np.where(np.isfinite(d), d, np.inf)


def _propose(
    rng: np.random.Generator, pop: Population, cov: np.ndarray, bounds: np.ndarray, n: int
) -> np.ndarray:
    """``n`` candidates: a particle by weight, moved by the kernel, redrawn until inside."""
    out = np.empty((0, pop.theta.shape[1]))
    chol = np.linalg.cholesky(cov)
    for _ in range(1000):
        k = n - len(out)
        idx = rng.choice(len(pop.weights), size=k, p=pop.weights)
        cand = pop.theta[idx] + rng.standard_normal((k, pop.theta.shape[1])) @ chol.T
        inside = np.all((cand >= bounds[:, 0]) & (cand <= bounds[:, 1]), axis=1)
        out = np.concatenate([out, cand[inside]])
        if len(out) >= n:
            return out[:n]
    raise CalibrationError("--param", "the perturbation kernel keeps leaving the prior's range")


def write_result(result: CalibrationResult, level: float = 0.9) -> dict[str, Path]:
    """Write particles.parquet/.csv, posterior.csv, generations.csv and calibration.json."""
    out = result.out
    particles = result.particles_table()
    paths = {
        "particles": out / "particles.parquet",
        "particles_csv": out / "particles.csv",
        "posterior": out / "posterior.csv",
        "generations": out / "generations.csv",
    }
    particles.to_parquet(paths["particles"], index=False)
    particles.to_csv(paths["particles_csv"], index=False)
    result.summary_table(level).to_csv(paths["posterior"], index=False)
    result.generations_table().to_csv(paths["generations"], index=False)
    meta = json.loads((out / "calibration.json").read_text("utf-8"))
    meta["scale"] = dict(zip(result.statistics, result.scale.tolist(), strict=True))
    meta["seconds"] = result.seconds
    _write_json(out / "calibration.json", meta)
    return paths


__all__ = [
    "CalibrationError",
    "CalibrationResult",
    "Population",
    "calibrate",
    "prior_scale",
    "scaled_distance",
    "simulate_points",
    "weighted_quantile",
    "write_result",
]
