"""Simulation-based calibration (SBC) of a posterior approximation.

Talts, Betancourt, Simpson, Vehtari & Gelman (2018), "Validating Bayesian inference
algorithms with simulation-based calibration", arXiv:1804.06788. For truths θ* drawn
from the prior and data simulated at each, an inference that is calibrated gives
posterior draws among which θ* sits at a uniformly distributed rank, and central
credible intervals of level α that cover θ* in a share α of the truths.

This module holds the generic parts, for any simulator:

* :func:`sbc_records`: the truths' ranks among their posterior draws and whether
  each central interval covers them;
* :func:`coverage`: a level's coverage with its binomial standard error, against a
  goal of ``nominal ± tolerance``;
* :func:`rank_uniformity`: a χ² test of the ranks' uniformity over bins;
* :func:`nearest_draws`, :func:`leave_one_out_rejection`: the affordable design for a
  costly simulator — one *reference table* of prior runs, each run in turn the
  synthetic truth, its posterior the parameters of the ``k`` runs nearest to it by the
  calibration's distance (rejection ABC; its own run left out).

Rejection ABC on a reference table is the inference checked here, not ABC-SMC: both
use the same statistics and distance (:func:`upheaval.experiments.calibration.
scaled_distance`), and the SMC's last population approximates the same ABC posterior
at its last tolerance, so the table's coverage at a comparable acceptance rate says
how far that posterior can be trusted; it is not an SBC of the SMC's own moves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _stats

from upheaval.experiments.calibration import scaled_distance

#: The central credible intervals checked by default (issue 10: 50 % and 90 %).
LEVELS = (0.5, 0.9)


@dataclass(frozen=True)
class SBCRecords:
    """Per truth and parameter: the truth's rank among its ``draws`` posterior draws
    (0…draws: how many draws lie below it) and, per level, the central interval and
    whether it covers the truth."""

    ranks: np.ndarray  # truths × parameters, int
    covered: dict[float, np.ndarray]  # level → truths × parameters, bool
    draws: int
    intervals: dict[float, np.ndarray]  # level → truths × parameters × (low, high)

    def mean_width(self, level: float) -> np.ndarray:
        """Each parameter's mean interval width over the truths (beside coverage: a
        posterior that learned nothing, the prior, is calibrated too)."""
        iv = self.intervals[float(level)]
        return np.mean(iv[..., 1] - iv[..., 0], axis=0)


def rank_of(truth: float, draws: np.ndarray, rng: np.random.Generator | None = None) -> int:
    """How many of ``draws`` lie below ``truth``; draws equal to it count below at
    random (uniformly 0…ties), so that ties do not pile the ranks up on one side."""
    d = np.asarray(draws, dtype=np.float64)
    below = int(np.sum(d < truth))
    ties = int(np.sum(d == truth))
    if ties and rng is not None:
        below += int(rng.integers(0, ties + 1))
    return below


def central_interval(draws: np.ndarray, level: float) -> tuple[float, float]:
    """The central ``level`` credible interval of L equally weighted draws: quantiles
    (1 − level)/2 and (1 + level)/2 at plotting positions q(L + 1) (numpy's "weibull").

    Why those positions: the r-th of L draws has E[F(x_(r))] = r/(L + 1), so a truth
    exchangeable with the draws (a calibrated posterior) falls inside with probability
    ``level`` whatever L, as long as (1 − level)/2 · (L + 1) ≥ 1; numpy's default
    positions, q(L − 1) + 1, make the interval too narrow by ~(1 − level)·2/L (3.5
    points for a 90 % interval of 50 draws), which SBC would blame on the inference."""
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    lo, hi = np.quantile(
        np.asarray(draws, dtype=np.float64), [(1 - level) / 2, (1 + level) / 2], method="weibull"
    )
    return float(lo), float(hi)


def sbc_records(
    truths: np.ndarray,
    draws: np.ndarray,
    levels: Sequence[float] = LEVELS,
    seed: int = 0,
) -> SBCRecords:
    """Ranks and interval coverage of ``truths`` (n × p) among ``draws`` (n × L × p: L
    posterior draws per truth). ``seed`` breaks ties of ranks (:func:`rank_of`)."""
    truths = np.asarray(truths, dtype=np.float64)
    draws = np.asarray(draws, dtype=np.float64)
    if truths.ndim != 2 or draws.ndim != 3 or draws.shape[::2] != truths.shape:
        raise ValueError(
            f"truths must be n × p and draws n × L × p, got {truths.shape} and {draws.shape}"
        )
    n, L, p = draws.shape
    rng = np.random.default_rng(seed)
    ranks = np.empty((n, p), dtype=np.int64)
    covered = {float(a): np.empty((n, p), dtype=bool) for a in levels}
    intervals = {a: np.empty((n, p, 2)) for a in covered}
    for i in range(n):
        for j in range(p):
            ranks[i, j] = rank_of(truths[i, j], draws[i, :, j], rng)
            for a in covered:
                lo, hi = central_interval(draws[i, :, j], a)
                intervals[a][i, j] = lo, hi
                covered[a][i, j] = lo <= truths[i, j] <= hi
    return SBCRecords(ranks, covered, L, intervals)


@dataclass(frozen=True)
class Coverage:
    """The share of truths a level's intervals cover, its binomial standard error
    sqrt(p̂(1 − p̂)/n), and whether it lies within ``tolerance`` of the nominal level."""

    level: float
    covered: int
    truths: int
    tolerance: float

    @property
    def rate(self) -> float:
        return self.covered / self.truths

    @property
    def se(self) -> float:
        p = self.rate
        return math.sqrt(p * (1 - p) / self.truths)

    @property
    def met(self) -> bool:
        """The estimate lies within ``tolerance`` of the nominal level."""
        return abs(self.rate - self.level) <= self.tolerance + 1e-12

    @property
    def conclusive(self) -> bool:
        """The whole ±2 SE interval lies on one side of the goal's edge."""
        off = abs(self.rate - self.level)
        return off + 2 * self.se <= self.tolerance or off - 2 * self.se > self.tolerance

    @property
    def p_value(self) -> float:
        """Two-sided exact binomial test of "the coverage is the nominal level"."""
        return float(_stats.binomtest(self.covered, self.truths, self.level).pvalue)

    def as_dict(self) -> dict[str, float | int | bool]:
        return {
            "level": self.level,
            "covered": self.covered,
            "truths": self.truths,
            "rate": self.rate,
            "se": self.se,
            "p_value": self.p_value,
            "tolerance": self.tolerance,
            "met": self.met,
            "conclusive": self.conclusive,
        }


def coverage(covered: np.ndarray, level: float, tolerance: float = 0.05) -> Coverage:
    """:class:`Coverage` of one parameter's per-truth ``covered`` flags at ``level``."""
    c = np.asarray(covered, dtype=bool).ravel()
    if c.size == 0:
        raise ValueError("no truths")
    return Coverage(float(level), int(c.sum()), int(c.size), float(tolerance))


@dataclass(frozen=True)
class RankTest:
    """χ² test of uniform ranks over ``bins`` bins of the L + 1 possible ranks."""

    counts: tuple[int, ...]
    expected: tuple[float, ...]
    chi2: float
    dof: int
    p_value: float

    def as_dict(self) -> dict[str, object]:
        return {
            "counts": list(self.counts),
            "expected": list(self.expected),
            "chi2": self.chi2,
            "dof": self.dof,
            "p_value": self.p_value,
        }


def rank_uniformity(ranks: np.ndarray, draws: int, bins: int = 10) -> RankTest:
    """χ² test that ``ranks`` (each 0…``draws``) are uniform: rank r falls in bin
    ⌊r · bins / (draws + 1)⌋, and each bin expects its share of the draws + 1 ranks
    (exactly, also when bins does not divide draws + 1)."""
    r = np.asarray(ranks, dtype=np.int64).ravel()
    if r.size == 0:
        raise ValueError("no ranks")
    if r.min() < 0 or r.max() > draws:
        raise ValueError(f"ranks must lie in 0…{draws}")
    if not 2 <= bins <= draws + 1:
        raise ValueError(f"bins must lie in 2…{draws + 1}, got {bins}")
    counts = np.bincount(r * bins // (draws + 1), minlength=bins)
    width = np.bincount(np.arange(draws + 1) * bins // (draws + 1), minlength=bins)
    expected = r.size * width / (draws + 1)
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    return RankTest(
        tuple(int(c) for c in counts),
        tuple(float(e) for e in expected),
        chi2,
        bins - 1,
        float(_stats.chi2.sf(chi2, bins - 1)),
    )


def nearest_draws(
    stats: np.ndarray,
    obs: np.ndarray,
    scale: np.ndarray,
    k: int,
    exclude: int | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Indices of the ``k`` rows of ``stats`` nearest to ``obs`` by the calibration's
    distance, leaving out row ``exclude``. Ties are broken at random with ``rng`` (by
    lower index without): a simulator whose runs often give the very same statistics
    (a country where nothing happens) has many runs at the same distance, and taking
    always the same few of them would give every such truth the same draws."""
    d = scaled_distance(np.asarray(stats, dtype=np.float64), obs, scale)
    if exclude is not None:
        d = d.copy()
        d[exclude] = np.inf
    if k < 1 or k > np.isfinite(d).sum():
        raise ValueError(f"k must lie in 1…{int(np.isfinite(d).sum())}, got {k}")
    if rng is None:
        return np.argsort(d, kind="stable")[:k]
    return np.lexsort((rng.random(len(d)), d))[:k]


def leave_one_out_rejection(
    theta: np.ndarray,
    stats: np.ndarray,
    scale: np.ndarray,
    k: int,
    truths: Sequence[int] | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Rejection-ABC posterior draws for each truth of a reference table: row i's
    statistics are the observed data, its posterior the parameters of the ``k`` other
    rows nearest to it (ties at random, ``seed``). ``theta`` is N × p, ``stats`` N × s;
    returns len(truths) × k × p (truths: every row by default)."""
    theta = np.asarray(theta, dtype=np.float64)
    stats = np.asarray(stats, dtype=np.float64)
    rng = np.random.default_rng(seed)
    idx = range(len(theta)) if truths is None else truths
    return np.stack(
        [theta[nearest_draws(stats, stats[i], scale, k, exclude=i, rng=rng)] for i in idx]
    )


__all__ = [
    "LEVELS",
    "Coverage",
    "RankTest",
    "SBCRecords",
    "central_interval",
    "coverage",
    "leave_one_out_rejection",
    "nearest_draws",
    "rank_of",
    "rank_uniformity",
    "sbc_records",
]
