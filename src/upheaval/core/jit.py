"""How the kernels are compiled.

Two decorators, so that one place says how:

* :func:`rule` — a function called only from other compiled code. Not cached on its
  own (it is compiled into, and cached with, the kernels that call it), and without
  the entry point numba makes for calls from Python: that wrapper boxes and unboxes
  every field of the state records a rule takes, and compiling it was a sixth of a
  first run's CPU time (benchmarks/README, cold start). Called from Python, such a
  rule raises TypeError; ``rule(python=True)`` keeps the entry for the few rules of
  plain numbers that tests and the analysis call directly.
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

import ast
import inspect
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.caching import NullCache
from numba.core.dispatcher import Dispatcher
from numba.core.registry import CPUDispatcher
from numba.extending import intrinsic


class CompiledOnly(CPUDispatcher):
    """A compiled function without a Python entry point (numba's
    ``no_cpython_wrapper``): callable from compiled code only."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # numba would jump to the wrapper it did not make: a segmentation fault
        name = f"{self.py_func.__module__}.{self.py_func.__qualname__}"
        raise TypeError(
            f"{name} is compiled to be called from compiled code only (core/jit.rule); "
            f"call {name}.py_func to run its Python source"
        )


def _compiled_only(dispatcher: Any) -> Any:
    if isinstance(dispatcher, Dispatcher):  # not under NUMBA_DISABLE_JIT
        dispatcher.__class__ = CompiledOnly
    return dispatcher


def rule(fn: Callable[..., Any] | None = None, *, python: bool = False) -> Any:
    """Compile a rule (called from compiled code; from Python too if ``python``),
    without reference counting."""

    def wrap(f: Callable[..., Any]) -> Any:
        if python:
            return njit(_nrt=False)(f)
        return _compiled_only(njit(_nrt=False, no_cpython_wrapper=True)(f))

    return wrap(fn) if fn is not None else wrap


def hot_rule(fn: Callable[..., Any]) -> Any:
    """Compile a rule on the per-turn path, inlined into its caller by numba itself.

    LLVM inlines small callees on its own, but a callee that receives the state
    namedtuples and is too big for LLVM's threshold gets them copied by value at every
    call — measured at 2.5× the cost of a whole turn. Numba-level inlining removes
    the call; it is kept to the few functions of the turn, as it costs compile time.
    """
    return _compiled_only(njit(_nrt=False, inline="always", no_cpython_wrapper=True)(fn))


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


# -- specialising a kernel on its run's flags ---------------------------------------
#
# A kernel such as the step serves every scenario, its mechanisms switched by flags of
# the rules record it is given. numba compiles every path of it, inlined hot rules
# included, although a run takes only the paths its flags select: most of the first
# run's compile time is spent on mechanisms the scenario has off (benchmarks/README,
# cold start). `freeze` makes a copy of a kernel, and of every compiled function it
# passes the record to, in which the record's flags read as the run's constants: the
# Python compiler and numba's dead-branch pruning (which runs before numba inlines
# the hot rules) drop the paths that are off before anything is typed or lowered. The
# copies compute exactly what the original computes for a record with those flags.

_frozen: dict[tuple, Any] = {}


def freeze(fn: Any, values: Mapping[str, bool], *, param: str = "r", tag: str = "") -> Any:
    """A copy of the compiled function ``fn`` in which ``param.<name>`` is the
    constant ``values[name]``, as are the same fields in every compiled function that
    ``fn`` passes ``param`` to (recursively); memoised.

    The caller must call the copy only with a ``param`` whose fields equal
    ``values``. A cached entry point (``cache=True``) gets its own cache entry per
    ``tag``, which must name ``values`` uniquely (its qualified name carries it).
    """
    key = (fn, param, tuple(sorted(values.items())), tag)
    hit = _frozen.get(key)
    if hit is None:
        hit = _frozen[key] = _freeze(fn, values, param, tag)
    return hit


def _is_compiled(obj: Any) -> bool:
    return isinstance(obj, Dispatcher)


def _freeze(fn: Any, values: Mapping[str, bool], param: str, tag: str) -> Any:
    py = fn.py_func
    if py.__code__.co_freevars or py.__closure__:
        raise TypeError(f"{py.__qualname__}: a closure cannot be frozen")
    tree = ast.parse(textwrap.dedent(inspect.getsource(py)))
    ast.increment_lineno(tree, py.__code__.co_firstlineno - 1)  # tracebacks, cache
    (node,) = tree.body
    if not isinstance(node, ast.FunctionDef):
        raise TypeError(f"{py.__qualname__}: not a plain function")
    node.decorator_list = []
    namespace = dict(py.__globals__)
    frozen = False
    inner = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    if (
        param in {a.arg for a in node.args.posonlyargs + node.args.args}
        # the name is the record everywhere in the body: never rebound, no inner scope
        and not any(
            isinstance(n, ast.Name) and n.id == param and not isinstance(n.ctx, ast.Load)
            for n in ast.walk(node)
        )
        and not any(isinstance(n, inner) for n in ast.walk(node) if n is not node)
    ):
        tree = _Constants(param, values).visit(tree)
        frozen = True
        # the compiled callees the record is passed to, each at one position
        for name, position in _callees_given(node, param, namespace).items():
            callee = namespace[name]
            args = callee.py_func.__code__.co_varnames[: callee.py_func.__code__.co_argcount]
            namespace[name] = freeze(callee, values, param=args[position])
    if not frozen:
        return fn
    ast.fix_missing_locations(tree)
    code = compile(tree, py.__code__.co_filename, "exec", dont_inherit=True)
    exec(code, namespace)
    copy = namespace[py.__name__]
    copy.__defaults__ = py.__defaults__
    copy.__kwdefaults__ = py.__kwdefaults__
    copy.__doc__ = py.__doc__
    copy.__module__ = py.__module__
    if tag:
        # numba names a cached function's index file by its qualified name and line:
        # each specialisation keeps its own, where the original keeps the original's
        copy.__qualname__ = f"{py.__qualname__}__{tag}"
    out = njit(**{k: v for k, v in fn.targetoptions.items() if k != "nopython"})(copy)
    if isinstance(fn, CompiledOnly):
        out = _compiled_only(out)
    if not isinstance(fn._cache, NullCache):  # cache=True is not among targetoptions
        out.enable_caching()
    return out


class _Constants(ast.NodeTransformer):
    """``param.<name>`` (read) → the constant."""

    def __init__(self, param: str, values: Mapping[str, bool]) -> None:
        self.param = param
        self.values = values

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if (
            isinstance(node.value, ast.Name)
            and node.value.id == self.param
            and node.attr in self.values
            and isinstance(node.ctx, ast.Load)
        ):
            return ast.copy_location(ast.Constant(bool(self.values[node.attr])), node)
        return self.generic_visit(node)


def _callees_given(node: ast.FunctionDef, param: str, namespace: dict) -> dict[str, int]:
    """The compiled functions (global names) that every call of which passes ``param``
    positionally, at one and the same position: name → position."""
    seen: dict[str, set[int | None]] = {}
    for call in ast.walk(node):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
            continue
        if not _is_compiled(namespace.get(call.func.id)):
            continue
        at = [k for k, arg in enumerate(call.args) if isinstance(arg, ast.Name) and arg.id == param]
        passed_by_keyword = any(
            isinstance(kw.value, ast.Name) and kw.value.id == param for kw in call.keywords
        )
        position = at[0] if len(at) == 1 and not passed_by_keyword else None
        seen.setdefault(call.func.id, set()).add(position)
    return {name: next(iter(ps)) for name, ps in seen.items() if len(ps) == 1 and None not in ps}
