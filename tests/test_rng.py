"""Random streams: xoshiro256** in numba and its pure-Python twin draw the same numbers."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from scipy import stats

from upheaval.core.rng import (
    STREAM_NAMES,
    PyStream,
    fill_uniform,
    next_u64,
    randint,
    seed_streams,
    uniform,
)


@njit(cache=True)
def _draw_u64(s, n):
    out = np.empty(n, np.uint64)
    for i in range(n):
        out[i] = next_u64(s)
    return out


@njit(cache=True)
def _draw_uniform(s, n):
    out = np.empty(n, np.float64)
    for i in range(n):
        out[i] = uniform(s)
    return out


@njit(cache=True)
def _draw_randint(s, bounds):
    out = np.empty(bounds.shape[0], np.int64)
    for i in range(bounds.shape[0]):
        out[i] = randint(s, bounds[i])
    return out


def test_known_xoshiro256starstar_vector():
    """Reference outputs of xoshiro256** 1.0 from state [1, 2, 3, 4]."""
    expected = [11520, 0, 1509978240, 1215971899390074240]
    py = PyStream([1, 2, 3, 4])
    assert [py.next_u64() for _ in range(4)] == expected
    s = np.array([1, 2, 3, 4], np.uint64)
    assert [int(x) for x in _draw_u64(s, 4)] == expected


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63 - 1])
def test_numba_and_python_streams_agree(seed):
    state = seed_streams(seed)["dynamics"]
    s, py = state.copy(), PyStream(state)
    assert [int(x) for x in _draw_u64(s, 2000)] == [py.next_u64() for _ in range(2000)]
    assert _draw_uniform(s, 2000).tolist() == [py.uniform() for _ in range(2000)]
    bounds = np.array([1, 2, 3, 7, 10, 149, 1600, 2**31, 10**15] * 100, np.int64)
    assert _draw_randint(s, bounds).tolist() == [py.randint(int(n)) for n in bounds]
    out = np.empty(500)
    fill_uniform(s, out)
    assert out.tolist() == [py.uniform() for _ in range(500)]
    assert np.array_equal(s, py.state())


def test_uniform_and_randint_follow_the_documented_formulas():
    a, b = PyStream([5, 6, 7, 8]), PyStream([5, 6, 7, 8])
    for n in (1, 2, 6, 1000, 2**40):
        x = a.next_u64()
        u = (x >> 11) * 2.0**-53
        assert b.uniform() == u
        assert 0.0 <= u < 1.0
        y = a.next_u64()
        assert b.randint(n) == int(((y >> 11) * 2.0**-53) * n)


def test_randint_is_uniform():
    """Chi-square goodness of fit of 60,000 draws of randint(6), fixed seed."""
    s = seed_streams(99)["dynamics"]
    draws = _draw_randint(s, np.full(60_000, 6, np.int64))
    assert draws.min() == 0 and draws.max() == 5
    counts = np.bincount(draws, minlength=6)
    assert stats.chisquare(counts).pvalue > 1e-4


def test_seed_streams_are_named_distinct_and_deterministic():
    a, b = seed_streams(42), seed_streams(42)
    assert tuple(a) == STREAM_NAMES == ("init", "dynamics", "events")
    for name in STREAM_NAMES:
        assert a[name].dtype == np.uint64 and a[name].shape == (4,)
        assert np.array_equal(a[name], b[name])
        assert a[name].any()
    states = {tuple(int(x) for x in v) for v in a.values()}
    assert len(states) == 3
    assert not np.array_equal(a["dynamics"], seed_streams(43)["dynamics"])


def test_seed_sequence_input_equals_integer_seed():
    a = seed_streams(7)
    b = seed_streams(np.random.SeedSequence(7))
    assert all(np.array_equal(a[k], b[k]) for k in STREAM_NAMES)
    child = np.random.SeedSequence(7).spawn(1)[0]
    c = seed_streams(child)
    assert not np.array_equal(a["dynamics"], c["dynamics"])
