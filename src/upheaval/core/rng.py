"""Explicit random streams: xoshiro256** generators derived from one SeedSequence.

Why not ``np.random`` inside numba: numba's generator is global per thread, cannot be
checkpointed, and ties results to numba's internals. Here a stream is a 4-word
``uint64`` array the kernels advance in place, so a checkpoint is a copy of four
words, a run is reproducible bit for bit, and a pure-Python twin
(:class:`PyStream`) draws the very same numbers for the reference implementation.

The random-stream contract (what the reference relies on):

* ``next_u64``: xoshiro256** 1.0 (Blackman & Vigna 2018).
* ``uniform``: ``(next_u64 >> 11) * 2**-53``, a double in [0, 1).
* ``randint(n)``: ``int(uniform * n)``, an integer in [0, n); its bias is below
  n / 2**53, far below anything a simulation can see.

A run uses three streams spawned from ``SeedSequence(seed)``: ``init`` (placement and
attributes), ``dynamics`` (activation order, moves, decisions, arrests, jail terms,
births) and ``events`` (timeline actions such as adding or removing cops), so that
changing a timeline never shifts the draws of the dynamics.
"""

from __future__ import annotations

import numpy as np

from upheaval.core.jit import kernel, rule

STREAM_NAMES = ("init", "dynamics", "events")

_MASK = (1 << 64) - 1
_INV_2_53 = 1.0 / 9007199254740992.0


def seed_streams(seed: int | np.random.SeedSequence) -> dict[str, np.ndarray]:
    """Derive the named streams' states from one seed or SeedSequence."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    children = ss.spawn(len(STREAM_NAMES))
    out = {}
    for name, child in zip(STREAM_NAMES, children, strict=True):
        state = child.generate_state(4, np.uint64)
        if not state.any():  # xoshiro's one forbidden state; astronomically unlikely
            state[0] = np.uint64(1)
        out[name] = state
    return out


@rule(python=True)
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@rule(python=True)
def next_u64(s):
    """Advance stream ``s`` (uint64[4]) and return the next 64-bit output."""
    s0 = s[0]
    s1 = s[1]
    s2 = s[2]
    s3 = s[3]
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    s[0] = s0
    s[1] = s1
    s[2] = s2
    s[3] = s3
    return result


@rule(python=True)
def next_u64_of(s0, s1, s2, s3):
    """``next_u64`` on a stream state held in four scalars: (output, new state). Lets a
    kernel read draws ahead on a copy of a stream, leaving the stream itself alone."""
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@rule(python=True)
def unit_of(u):
    """The double in [0, 1) that a 64-bit output ``u`` stands for."""
    return np.float64(u >> np.uint64(11)) * _INV_2_53


@rule(python=True)
def uniform(s):
    """A double in [0, 1) from stream ``s``."""
    return unit_of(next_u64(s))


@rule(python=True)
def randint(s, n):
    """An integer in [0, n) from stream ``s`` (n ≥ 1)."""
    return np.int64(uniform(s) * n)


@kernel
def fill_uniform(s, out):
    """Fill ``out`` with successive uniforms (used by initialisation)."""
    for i in range(out.shape[0]):
        out[i] = uniform(s)


class PyStream:
    """Pure-Python twin of the numba stream: same state, same numbers, far slower."""

    def __init__(self, state: np.ndarray | list[int]):
        self.s = [int(x) & _MASK for x in state]

    @staticmethod
    def _rotl(x: int, k: int) -> int:
        return ((x << k) | (x >> (64 - k))) & _MASK

    def next_u64(self) -> int:
        s = self.s
        result = (self._rotl((s[1] * 5) & _MASK, 7) * 9) & _MASK
        t = (s[1] << 17) & _MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniform(self) -> float:
        return float(self.next_u64() >> 11) * _INV_2_53

    def randint(self, n: int) -> int:
        return int(self.uniform() * n)

    def state(self) -> np.ndarray:
        return np.array(self.s, dtype=np.uint64)
