"""How the kernels are compiled.

Two decorators, so that one place says how:

* :func:`rule` — a function called only from other compiled code. Not cached on its
  own (it is compiled into, and cached with, the kernels that call it).
* :func:`kernel` — an entry point called from Python, cached on disk so a new
  process does not recompile, and releasing the GIL so that the places of a
  country step on threads at once.

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

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


def rule(fn: Callable[..., Any]) -> Any:
    """Compile a rule (called from compiled code only), without reference counting."""
    return njit(_nrt=False)(fn)


def hot_rule(fn: Callable[..., Any]) -> Any:
    """Compile a rule on the per-turn path, inlined into its caller by numba itself.

    LLVM inlines small callees on its own, but a callee that receives the state
    namedtuples and is too big for LLVM's threshold gets them copied by value at every
    call — measured at 2.5× the cost of a whole turn. Numba-level inlining removes
    the call; it is kept to the few functions of the turn, as it costs compile time.
    """
    return njit(_nrt=False, inline="always")(fn)


def kernel(fn: Callable[..., Any] | None = None, *, allocates: bool = False) -> Any:
    """Compile a cached entry point; ``allocates=True`` keeps reference counting on."""

    def wrap(f: Callable[..., Any]) -> Any:
        # nogil: a country's places step on threads at once (engine/simulation.py)
        if allocates:
            return njit(cache=True, nogil=True)(f)
        return njit(cache=True, _nrt=False, nogil=True)(f)

    return wrap(fn) if fn is not None else wrap


@intrinsic
def prefetch(typingctx, array, index):
    """Hint the CPU to fetch ``array[index]`` into cache (LLVM ``llvm.prefetch``).

    Random-order activation touches a random agent and a random patch of the lattice
    at every turn; on lattices larger than the cache each of those is a memory stall.
    The activation order is known in advance, so the step prefetches the next
    agents' data and neighbourhoods while the current agent works.
    """
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        aryty, idxty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = context.cast(builder, args[1], idxty, types.intp)  # strided arrays need intp
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [idx], wraparound=False)
        byte_ptr = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [byte_ptr.type, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # read access, high temporal locality, data cache
        builder.call(fn, [byte_ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def load_word(typingctx, array, index):
    """The 8 bytes of a uint8 ``array`` from ``index`` on, as one uint64 in the
    machine's byte order (an unaligned load; the caller keeps ``index + 8`` within the
    array).

    Lets a lattice scan sum eight one-byte sites at a time (SWAR) instead of one.
    """
    sig = types.uint64(array, index)

    def codegen(context, builder, signature, args):
        aryty, idxty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = context.cast(builder, args[1], idxty, types.intp)  # strided arrays need intp
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [idx], wraparound=False)
        word_ptr = builder.bitcast(ptr, ir.IntType(64).as_pointer())
        return builder.load(word_ptr, align=1)

    return sig, codegen
