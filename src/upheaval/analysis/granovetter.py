"""Granovetter's threshold model of collective behaviour.

Source: M. Granovetter, "Threshold models of collective behavior", American
Journal of Sociology 83(6):1420-1443 (1978).

Each of ``n`` people has a threshold θ_i: the number of others who must already be
rioting before person i joins. Starting from nobody, the number of rioters follows

    r(0) = 0,    r(t+1) = #{ i : θ_i ≤ r(t) },

which never decreases; it stops at the smallest fixed point r* = #{ i : θ_i ≤ r* }.
Granovetter's example: thresholds 0, 1, 2, …, 99 make all 100 riot, one after the
other; replace the person with threshold 1 by one with threshold 2 and only the
instigator (threshold 0) riots. Two crowds alike in their average disposition
behave wholly differently — the point of the model, and of cascades in Epstein's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _thresholds(thresholds: Sequence[float] | np.ndarray) -> np.ndarray:
    th = np.asarray(thresholds, dtype=np.float64)
    if th.ndim != 1:
        raise ValueError(f"thresholds must be a 1-D sequence, got an array of shape {th.shape}")
    if not np.all(np.isfinite(th)):
        bad = int(np.flatnonzero(~np.isfinite(th))[0])
        raise ValueError(f"thresholds[{bad}] is {th[bad]}; thresholds must be finite")
    if np.any(th < 0):
        bad = int(np.flatnonzero(th < 0)[0])
        raise ValueError(f"thresholds[{bad}] is {th[bad]}; thresholds must be ≥ 0")
    return th


def cascade(thresholds: Sequence[float] | np.ndarray) -> np.ndarray:
    """The number of rioters after each round, r(1), r(2), …, up to the fixed point.

    ``thresholds[i]`` is how many others must riot before person ``i`` joins (a
    count, not a share). The last value is :func:`equilibrium`.

    >>> cascade([0, 1, 2, 3]).tolist()
    [1, 2, 3, 4]
    >>> cascade([0, 2, 2, 3]).tolist()
    [1]
    """
    th = np.sort(_thresholds(thresholds))
    rounds: list[int] = []
    r = 0
    while True:
        # th is sorted, so the count of thresholds ≤ r is one binary search.
        nxt = int(np.searchsorted(th, r, side="right"))
        if nxt == r:
            break
        rounds.append(nxt)
        r = nxt
    return np.asarray(rounds if rounds else [0], dtype=np.int64)


def equilibrium(thresholds: Sequence[float] | np.ndarray) -> int:
    """The final number of rioters r*: the smallest r with #{θ_i ≤ r} = r.

    >>> equilibrium(range(100))
    100
    >>> equilibrium([0, 2, *range(2, 100)])
    1
    """
    return int(cascade(thresholds)[-1])
