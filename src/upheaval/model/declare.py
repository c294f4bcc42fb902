"""How the model declares itself: parameters, parameter sections and mechanisms.

A **parameter** is one documented modelling choice: its default, its meaning, the
source of the default, its kind and range, its *scope* (``"place"``: each place of a
country may have its own value; ``"country"``: one value for the whole run), whether
only the initial population reads it (a branch from a checkpoint cannot change it)
and whether the timeline may change it during a run. Declare one with :func:`param`
inside a :func:`section`.

A **section** is a frozen record of parameters, one TOML table (``[lethal_force]``);
its ``validate`` checks the rules that tie its fields to each other and to the rest
of the parameters, next to the fields themselves. :class:`~upheaval.model.params.Params`
is the record of every section.

A **mechanism** (:class:`Mechanism`) is one module of ``model/rules/`` that declares
everything it adds to the classic model — its section, the agent arrays it needs,
its initial state, hooks before and after each tick, its timeline actions, the
fields it adds to the kernels' records, its tick columns and its checkpointed
state — and ``model/mechanisms.py`` lists the mechanisms in order. The engine calls
the hooks in that order and knows no mechanism by name (docs/contributing.md).

This module imports nothing of upheaval but the floor: every layer may read it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from upheaval.model.params import Params
    from upheaval.model.timeline import ActionEvent, TimelineEvent

SCOPES = ("place", "country")

#: Sources that sections of the classic model and of the mechanisms cite alike.
EPSTEIN = "Epstein 2002, PNAS 99(suppl 3):7243, Table 2"
EPSTEIN_TEXT = "Epstein 2002, PNAS 99(suppl 3):7243, text"
NETLOGO = "NetLogo Rebellion (Wilensky 2004), where the paper is silent"
MESA = "Mesa epstein_civil_violence example"
OURS = "our design (documented in docs/odd.md)"
KINDS = ("bool", "int", "float", "term", "choice", "datetime", "text")


class ParameterError(ValueError):
    """A parameter value is out of its allowed range or of the wrong type.

    ``location`` is ``section.key`` as written in a scenario file.
    """

    def __init__(self, location: str, reason: str):
        self.location, self.reason = location, reason
        super().__init__(f"{location}: {reason}")


@dataclass(eq=False)
class Parameter:
    """One parameter of the registry (see the module docstring).

    ``name`` is its identifier in tables, the timeline and Python keywords
    (``Params(legitimacy=0.7)``): a valid SQL identifier, unique across sections;
    ``section`` and ``key`` are where a scenario file puts it (``citizens.legitimacy``,
    its *location*) and where code reads it (``params.citizens.legitimacy``).
    """

    default: Any
    doc: str
    source: str
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    timeline: bool = False
    scope: str = "country"
    initial_only: bool = False
    name: str = ""
    section: str = ""
    key: str = ""
    #: a ``text`` parameter's reader: the value given (text, or whatever a TOML file
    #: may write) → its normal form as text; ValueError with the reason if it is bad
    parse: Callable[[Any], str] | None = None

    @property
    def location(self) -> str:
        return f"{self.section}.{self.key}"

    def check(self, value: Any) -> Any:
        """Check one value against the declared kind and range; return it normalised
        (ints widened to float where a float is asked for). Raises ParameterError."""
        return check_value(self, value)


def param(
    default: Any,
    doc: str,
    source: str,
    *,
    kind: str,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
    timeline: bool = False,
    scope: str = "country",
    initial_only: bool = False,
    name: str = "",
    parse: Callable[[Any], str] | None = None,
) -> Any:
    """Declare a parameter inside a :func:`section` class (see :class:`Parameter`);
    ``name`` defaults to the field's key."""
    if kind not in KINDS:
        raise ValueError(f"unknown parameter kind {kind!r}")
    if scope not in SCOPES:
        raise ValueError(f"unknown parameter scope {scope!r}")
    spec = Parameter(
        default=default,
        doc=doc,
        source=source,
        kind=kind,
        low=low,
        high=high,
        choices=tuple(choices),
        timeline=timeline,
        scope=scope,
        initial_only=initial_only,
        name=name,
        parse=parse,
    )
    return field(default=default, metadata={"parameter": spec})


class Section:
    """Base of every parameter section (a frozen dataclass made by :func:`section`)."""

    #: The TOML table; set by :func:`section`.
    NAME: ClassVar[str] = ""
    #: The section's parameters in declaration order; set by :func:`section`.
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = ()

    def validate(self, p: Params) -> None:
        """Check the rules that tie this section's values to each other and to the
        rest of ``p``; raise ParameterError naming ``section.key``."""


def section(name: str) -> Callable[[type], type]:
    """Class decorator: make a frozen dataclass of parameters, TOML table ``name``."""

    def wrap(cls: type) -> type:
        cls = dataclass(frozen=True)(cls)
        specs = []
        for f in dataclasses.fields(cls):
            spec = f.metadata.get("parameter")
            if spec is None:
                raise TypeError(f"{cls.__name__}.{f.name} is not declared with param()")
            spec.section = name
            spec.key = f.name
            spec.name = spec.name or f.name
            specs.append(spec)
        cls.NAME = name
        cls.PARAMETERS = tuple(specs)
        return cls

    return wrap


# -- values ------------------------------------------------------------------------------
def clock_time(loc: str, value: Any) -> str:
    """A date-time (TOML date-time, ``datetime``, or ISO 8601 text) as ISO 8601 in UTC;
    a value without an offset is taken as UTC. Raises ParameterError."""
    when = value
    if isinstance(value, str):
        if value == "":
            return ""
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ParameterError(
                loc, f"expected an ISO 8601 date-time like 2022-01-02T00:00:00Z, got {value!r}"
            ) from None
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        when = dt.datetime(value.year, value.month, value.day)
    if not isinstance(when, dt.datetime):
        raise ParameterError(loc, f"expected a date-time, got {value!r}")
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat()


def check_value(spec: Parameter, value: Any) -> Any:
    """Check one value against its parameter's declared kind and range.

    Returns the value normalised (ints widened to float where a float is asked for).
    """
    loc = spec.location
    kind = spec.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise ParameterError(loc, f"expected true or false, got {value!r}")
        return value
    if kind == "datetime":
        return clock_time(loc, value)
    if kind == "text":
        # a structured value written as text (e.g. sites.list): its reader normalises it
        if spec.parse is None:
            if not isinstance(value, str):
                raise ParameterError(loc, f"expected text, got {value!r}")
            return value
        try:
            return spec.parse(value)
        except ValueError as e:
            raise ParameterError(loc, str(e)) from None
    if kind == "choice":
        if not isinstance(value, str) or value not in spec.choices:
            allowed = ", ".join(repr(c) for c in spec.choices)
            raise ParameterError(loc, f"expected one of {allowed}, got {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(loc, f"expected an integer, got {value!r}")
    elif kind in ("float", "term"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterError(loc, f"expected a number, got {value!r}")
        value = float(value)
        if math.isnan(value):
            raise ParameterError(loc, "expected a number, got nan")
        if kind == "term":
            if math.isinf(value) and value > 0:
                return value
            if value != int(value):
                raise ParameterError(loc, f"expected a whole number of ticks or inf, got {value}")
        elif math.isinf(value):
            raise ParameterError(loc, f"expected a finite number, got {value}")
    lo, hi = spec.low, spec.high
    if lo is not None and value < lo:
        raise ParameterError(loc, f"must be ≥ {lo:g}, got {value!r}")
    if hi is not None and value > hi:
        raise ParameterError(loc, f"must be ≤ {hi:g}, got {value!r}")
    return value


# -- mechanisms --------------------------------------------------------------------------
class Mechanism:
    """One mechanism: everything it adds to the classic model, declared in one place.

    Subclass it in the mechanism's module under ``model/rules/`` and list one instance
    in ``model/mechanisms.py``. Every hook has a default that adds nothing, so a
    mechanism overrides only what it needs; the engine calls each hook of every
    mechanism in the registry's order (which is the order of the mechanisms' initial
    draws, part of the random-stream contract). ``place`` is the
    :class:`~upheaval.engine.place.Place` a hook acts on (its ``params``, ``rules``,
    ``signals``, ``lattice``, ``agents``, ``streams``, ``dynamic`` values, ``events``,
    its last ``row`` and ``state``, this mechanism's own mutable state under its name);
    ``country`` is the :class:`~upheaval.engine.simulation.Simulation` (the run's
    tick, timeline and national state).
    """

    #: Short name: the key of its state in ``place.state`` and in checkpoints.
    name: ClassVar[str] = ""
    #: Its parameter section (a :func:`section` class), or None.
    section: ClassVar[type | None] = None
    #: Per-tick counters its kernels add up in ``signals.<name>_counts``, as tick
    #: columns (int64), in this order.
    counters: ClassVar[tuple[str, ...]] = ()
    #: Real-valued tick columns (float64) it reports through :meth:`row_values`.
    values: ClassVar[tuple[str, ...]] = ()
    #: Fields it adds to the kernels' read-only record (``Rules``), in this order.
    rule_fields: ClassVar[tuple[str, ...]] = ()
    #: Fields it adds to the per-tick exchange with the kernels (``Signals``).
    signal_fields: ClassVar[tuple[str, ...]] = ()
    #: Timeline actions it handles: name → :class:`~upheaval.model.timeline.ActionSpec`.
    actions: ClassVar[dict[str, Any]] = {}

    # -- what a run needs, from parameters and timeline alone --------------------------
    def is_on(self, p: Params, timeline: tuple[TimelineEvent, ...]) -> bool:
        """Whether the mechanism acts in this run: its per-tick hooks run, and its
        counters are read, only if so (off costs nothing)."""
        return False

    def agent_arrays(self, p: Params, timeline: tuple[TimelineEvent, ...]) -> tuple[str, ...]:
        """The optional per-agent arrays (``model/state.py: OPTIONAL``) it needs."""
        return ()

    def compile_rules(self, p: Params, timeline: tuple[TimelineEvent, ...]) -> dict[str, Any]:
        """Values of its :attr:`rule_fields` (numba-typed: bools, ints, floats, arrays)."""
        return {}

    def make_signals(self, p: Params, timeline: tuple[TimelineEvent, ...]) -> dict[str, Any]:
        """Fresh arrays of its :attr:`signal_fields` (counters are added by the engine)."""
        return {}

    def replaces_rule_c(self, p: Params, timeline: tuple[TimelineEvent, ...]) -> bool:
        """Whether rule C must run as ``enforce_with_force`` (rules/lethal.py)."""
        return False

    def removes_agents(self, p: Params, timeline: tuple[TimelineEvent, ...]) -> bool:
        """Whether agents may leave the world inside the step kernel (the free-slot
        heap then needs room for every slot)."""
        return False

    def check_timeline(self, p: Params, timeline: tuple[TimelineEvent, ...]) -> None:
        """Check its timeline entries against the parameters; raise TimelineError."""

    def check_country_timeline(self, p: Params, timeline: tuple[TimelineEvent, ...]) -> None:
        """Check what spans a country's places (the whole timeline, the country's
        parameters; one place's run too); raise TimelineError."""

    # -- state -------------------------------------------------------------------------
    def initial_state(self, p: Params) -> dict[str, Any]:
        """Its mutable state of one place at tick 0, kept in ``place.state[name]`` and
        checkpointed (plain values and numpy arrays)."""
        return {}

    def initial_country_state(self, p: Params) -> dict[str, Any]:
        """Its mutable national state at tick 0, kept in ``country.state[name]`` and
        checkpointed."""
        return {}

    def initialise(self, place: Any, country: Any) -> None:
        """Its initial draws and arrays, after the population is placed (``init``
        stream, in registry order)."""

    def on_set(self, place: Any, name: str, old: float, new: float) -> float:
        """A time-varying parameter of its section is being set from ``old`` to
        ``new`` (timeline); return the value in force."""
        return new

    # -- each tick -----------------------------------------------------------------------
    def before_country_tick(self, country: Any) -> None:
        """Once a tick, after the tick's timeline and before any place's
        :meth:`before_tick`: what acts between places (forces that travel)."""

    def before_tick(self, place: Any, country: Any) -> None:
        """After the tick's timeline, before the step: write the tick's signals.
        Runs on the place's thread (engine/simulation.py: the places of a country
        play a tick at once), so it reads only its own place and the national state;
        what it needs of other places, :meth:`before_country_tick` works out."""

    def act(self, event: ActionEvent, place: Any, country: Any) -> None:
        """Apply one of its timeline actions at the start of the tick."""

    def after_tick(self, place: Any, country: Any) -> None:
        """After the tick's row is recorded: its feedbacks for the next tick."""

    def after_country_tick(self, country: Any) -> None:
        """Once a tick, after every place's :meth:`after_tick`: its national feedbacks."""

    def arrays_added(self, place: Any, names: tuple[str, ...]) -> None:
        """A branch from a checkpoint turned this mechanism on: the optional arrays
        ``names`` were just allocated (zeros); give them their values at the branch."""

    def row_values(self, place: Any, country: Any) -> tuple[float, ...]:
        """Its :attr:`values` columns for the row being recorded (on the place's
        thread, as :meth:`before_tick`: its own place and the national state only)."""
        return ()
