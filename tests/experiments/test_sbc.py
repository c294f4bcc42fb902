"""upheaval.experiments.sbc on toy problems whose answer is known: an exact Gaussian
posterior is calibrated, a too-narrow or biased one is caught, and leave-one-out
rejection ABC on a reference table is calibrated at a small tolerance and
over-covers at a large one. Fixed seeds: each test is deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from upheaval.experiments.sbc import (
    central_interval,
    coverage,
    leave_one_out_rejection,
    nearest_draws,
    rank_of,
    rank_uniformity,
    sbc_records,
)

SIGMA = 0.5  # the toy's observation noise: y ~ N(θ, σ²), θ ~ N(0, 1)


def _gaussian_truths(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(n)
    return theta, theta + SIGMA * rng.standard_normal(n)


def _posterior_draws(
    y: np.ndarray, L: int, seed: int, sd_factor: float = 1.0, shift: float = 0.0
) -> np.ndarray:
    """L draws per y of the conjugate posterior N(y/(1 + σ²), σ²/(1 + σ²)), its sd
    multiplied by ``sd_factor`` and its mean moved by ``shift`` sd (miscalibrations)."""
    rng = np.random.default_rng(seed)
    mean = y / (1 + SIGMA**2)
    sd = np.sqrt(SIGMA**2 / (1 + SIGMA**2))
    z = rng.standard_normal((len(y), L))
    return (mean[:, None] + shift * sd + sd_factor * sd * z)[:, :, None]


def test_exact_posterior_is_calibrated():
    theta, y = _gaussian_truths(1000, seed=1)
    rec = sbc_records(theta[:, None], _posterior_draws(y, 99, seed=2))
    assert rec.ranks.min() >= 0 and rec.ranks.max() <= 99 and rec.draws == 99
    for level in (0.5, 0.9):
        c = coverage(rec.covered[level][:, 0], level)
        # within 3 binomial SE of nominal, and the issue's ±5 points
        assert abs(c.rate - level) <= 3 * np.sqrt(level * (1 - level) / 1000)
        assert c.met and c.truths == 1000
    assert rank_uniformity(rec.ranks[:, 0], 99, bins=10).p_value > 0.01


def test_too_narrow_posterior_is_caught():
    theta, y = _gaussian_truths(1000, seed=1)
    rec = sbc_records(theta[:, None], _posterior_draws(y, 99, seed=2, sd_factor=0.5))
    c90 = coverage(rec.covered[0.9][:, 0], 0.9)
    # a 90 % interval half as wide covers P(|Z| ≤ 0.82) ≈ 59 %
    assert not c90.met and c90.conclusive and c90.rate < 0.7 and c90.p_value < 1e-6
    assert not coverage(rec.covered[0.5][:, 0], 0.5).met
    test = rank_uniformity(rec.ranks[:, 0], 99, bins=10)
    assert test.p_value < 1e-6
    # the ∪ shape: the truth falls outside the draws too often
    assert test.counts[0] > 2 * test.expected[0] and test.counts[-1] > 2 * test.expected[-1]


def test_biased_posterior_is_caught_by_its_ranks():
    theta, y = _gaussian_truths(1000, seed=3)
    rec = sbc_records(theta[:, None], _posterior_draws(y, 99, seed=4, shift=0.5))
    test = rank_uniformity(rec.ranks[:, 0], 99, bins=10)
    assert test.p_value < 1e-6
    # draws too high: the truth ranks low
    assert test.counts[0] > test.counts[-1] * 2


def test_too_wide_posterior_over_covers():
    theta, y = _gaussian_truths(1000, seed=5)
    rec = sbc_records(theta[:, None], _posterior_draws(y, 99, seed=6, sd_factor=2.0))
    c50 = coverage(rec.covered[0.5][:, 0], 0.5)
    assert c50.rate > 0.6 and not c50.met
    test = rank_uniformity(rec.ranks[:, 0], 99, bins=10)
    assert test.p_value < 1e-6 and test.counts[0] < test.expected[0] / 2  # the ∩ shape


def test_interval_of_few_exchangeable_draws_has_its_nominal_coverage():
    # 20 exchangeable values: one is the truth, 19 the draws. Weibull positions give
    # the nominal coverage; numpy's default positions would give 45 % for 50 % and
    # 85 % for 90 %.
    rng = np.random.default_rng(7)
    x = rng.uniform(size=(20_000, 20))
    for level in (0.5, 0.9):
        inside = [
            lo <= t <= hi for t, (lo, hi) in ((r[0], central_interval(r[1:], level)) for r in x)
        ]
        assert abs(np.mean(inside) - level) < 0.015


def _reference_table(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """θ ~ U(−2, 2) (two parameters), two noisy statistics of each (σ 0.3)."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-2, 2, size=(n, 2))
    stats = theta + 0.3 * rng.standard_normal((n, 2))
    return theta, stats


def test_rejection_abc_on_a_table_is_calibrated_at_a_small_tolerance():
    # 20 of 20,000: the accepted statistics lie within ~0.07 of the truth's, small
    # against the noise (0.3), so the ABC posterior is close to the exact one
    theta, stats = _reference_table(20_000, seed=8)
    truths = list(range(400))
    scale = stats.std(axis=0)
    draws = leave_one_out_rejection(theta, stats, scale, k=20, truths=truths)
    assert draws.shape == (400, 20, 2)
    rec = sbc_records(theta[truths], draws)
    for j in range(2):
        for level in (0.5, 0.9):
            assert coverage(rec.covered[level][:, j], level).met
        assert rank_uniformity(rec.ranks[:, j], 20, bins=7).p_value > 0.01


def test_rejection_abc_over_covers_at_a_large_tolerance():
    theta, stats = _reference_table(4000, seed=8)
    truths = list(range(400))
    draws = leave_one_out_rejection(theta, stats, stats.std(axis=0), k=1600, truths=truths)
    rec = sbc_records(theta[truths], draws)
    c50 = coverage(rec.covered[0.5][:, 0], 0.5)
    assert c50.rate > 0.6 and not c50.met and c50.conclusive


def test_leave_one_out_leaves_the_truth_out():
    _, stats = _reference_table(50, seed=9)
    scale = np.ones(2)
    near = nearest_draws(stats, stats[3], scale, 5, exclude=3)
    assert 3 not in near and len(near) == 5
    assert nearest_draws(stats, stats[3], scale, 1)[0] == 3  # without exclusion: itself
    with pytest.raises(ValueError):
        nearest_draws(stats, stats[3], scale, 50, exclude=3)


def test_rank_of_spreads_ties():
    rng = np.random.default_rng(0)
    draws = np.array([0.0, 1.0, 1.0, 1.0, 2.0])
    got = {rank_of(1.0, draws, rng) for _ in range(200)}
    assert got == {1, 2, 3, 4}
    assert rank_of(1.5, draws) == 4 and rank_of(-1.0, draws) == 0 and rank_of(3.0, draws) == 5


def test_rank_bins_expect_their_share_when_bins_do_not_divide():
    # 51 possible ranks (k = 50) in 10 bins: bins of 5 or 6 ranks
    test = rank_uniformity(np.arange(51), 50, bins=10)
    assert sum(test.counts) == 51 and test.counts == tuple(int(e) for e in test.expected)
    assert test.chi2 == pytest.approx(0.0) and test.dof == 9
    with pytest.raises(ValueError):
        rank_uniformity(np.array([51]), 50)


def test_coverage_numbers():
    c = coverage(np.array([True] * 88 + [False] * 12), 0.9)
    assert c.rate == pytest.approx(0.88) and c.se == pytest.approx(np.sqrt(0.88 * 0.12 / 100))
    assert c.met and not c.conclusive  # 88 ± 6.5 straddles 85
    d = c.as_dict()
    assert d["covered"] == 88 and d["truths"] == 100 and 0 < d["p_value"] <= 1
    assert not coverage(np.array([True] * 80 + [False] * 20), 0.9).met


def test_ties_in_the_distance_are_broken_at_random():
    # half the table has the same statistics (a simulator where often nothing
    # happens): each such truth gets its own random k of them, and stays calibrated
    rng = np.random.default_rng(10)
    theta = rng.uniform(0, 1, size=(1000, 1))
    stats = np.where(theta < 0.5, 0.0, theta + 0.05 * rng.standard_normal((1000, 1)))
    truths = [i for i in range(1000) if theta[i, 0] < 0.5][:300]
    draws = leave_one_out_rejection(theta, stats, np.ones(1), k=20, truths=truths, seed=1)
    assert len({tuple(np.sort(d[:, 0])) for d in draws}) == len(truths)
    rec = sbc_records(theta[truths], draws)
    assert rank_uniformity(rec.ranks[:, 0], 20, bins=7).p_value > 0.01
    # without a generator: the lower indices, the same draws for every such truth
    same = {tuple(nearest_draws(stats, stats[i], np.ones(1), 20)) for i in truths}
    assert len(same) <= 2
