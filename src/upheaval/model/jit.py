"""How the kernels are compiled.

Two decorators, so that one place says how:

* :func:`rule` — a function called only from other compiled code. Not cached on its
  own (it is compiled into, and cached with, the kernels that call it).
* :func:`kernel` — an entry point called from Python, cached on disk so a new
  process does not recompile.

Both switch off numba's reference counting (``_nrt=False``) unless the function
allocates arrays (``allocates=True``). Why: the state travels as namedtuples of
arrays, and with reference counting every call that receives one increments and
decrements each array's count atomically — measured at ~200 ns of a ~350 ns
citizen decision (``benchmarks`` profile, 2026-11-29). Functions without
reference counting must not allocate, return or store arrays; they only index
the arrays they are given, which is all the rules do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit


def rule(fn: Callable[..., Any]) -> Any:
    """Compile a rule (called from compiled code only), without reference counting."""
    return njit(_nrt=False)(fn)


def kernel(fn: Callable[..., Any] | None = None, *, allocates: bool = False) -> Any:
    """Compile a cached entry point; ``allocates=True`` keeps reference counting on."""

    def wrap(f: Callable[..., Any]) -> Any:
        if allocates:
            return njit(cache=True)(f)
        return njit(cache=True, _nrt=False)(f)

    return wrap(fn) if fn is not None else wrap
