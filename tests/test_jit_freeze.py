"""core/jit.freeze: a kernel specialised on its record's flags (the step's cold start,
benchmarks/README). The engine's runs are checked against the golden trajectories and
the reference twin; these tests pin what freezing does and does not touch."""

from __future__ import annotations

from collections import namedtuple

from upheaval.core.jit import freeze, hot_rule, kernel, rule

Flags = namedtuple("Flags", ["on", "off", "scale"])


@hot_rule
def _inner(r, x):
    if r.on:
        return x * r.scale
    return x


@rule
def _rebinds(r, x):
    if r.on:
        r = Flags(False, r.off, r.scale)
    return x + (1 if r.on else 0)


@kernel
def _outer(r, x):
    if r.off:
        return -1
    return _inner(r, x) + _rebinds(r, x)


def test_the_copy_computes_what_the_original_computes():
    for on in (False, True):
        r = Flags(on, False, 3)
        copy = freeze(_outer, {"on": on, "off": False}, tag=f"test{int(on)}")
        assert copy(r, 2) == _outer(r, 2)


def test_flags_read_as_constants_down_the_calls_the_record_is_passed_to():
    copy = freeze(_outer, {"on": True, "off": False}, tag="test1")
    assert "off" not in copy.py_func.__code__.co_names  # the branch is gone
    inner = copy.py_func.__globals__["_inner"]
    assert inner is not _inner and "on" not in inner.py_func.__code__.co_names
    # a function that rebinds the record is left as it is: its reads are not the flags
    assert copy.py_func.__globals__["_rebinds"] is _rebinds


def test_copies_are_memoised_and_cached_apart():
    a = freeze(_outer, {"on": True, "off": False}, tag="test1")
    assert freeze(_outer, {"on": True, "off": False}, tag="test1") is a
    b = freeze(_outer, {"on": False, "off": False}, tag="test0")
    assert a.py_func.__qualname__ != b.py_func.__qualname__  # own cache index each
    assert a._cache.__class__ is _outer._cache.__class__  # cached like the original


def test_each_run_calls_the_step_compiled_for_its_flags():
    import upheaval
    from upheaval.engine.simulation import step_kernels

    run2 = step_kernels(upheaval.load("epstein2002-run2"))
    assert step_kernels(upheaval.load("epstein2002-run2")) == run2  # one copy per set
    run7 = step_kernels(upheaval.load("epstein2002-run7"))  # Model II: its own
    assert len(run2) == len(run7) == 1 and run2[0] is not run7[0]
    # a run with any mechanism on calls the one generic step: the suite compiles it once
    from upheaval.model.kernels import step

    assert step_kernels(upheaval.load("kazakhstan-2022")) == [step]  # 36 places
    assert step_kernels(upheaval.load("kz2022-almaty")) == [step]
    assert step not in run2 + run7
