"""Timeline: what changes while a run goes on, as plain data the engine plays.

A scenario's ``[[timeline]]`` entries are of three kinds:

* a **set** at one tick — ``{ tick = 77, set = { legitimacy = 0.7 } }`` (run 4's jump);
* a **ramp** over ticks ``start … end`` — ``{ start = 51, end = 120, ramp = { legitimacy
  = 0.2 } }`` moves the value in equal steps from what it was at tick ``start − 1``
  to the target, reached at ``end`` (run 3's one point a tick);
* an **action** at one tick — ``{ tick = 10, action = "shock", factor = 1.5 }`` —
  something a parameter cannot say. Each action belongs to a mechanism, which
  declares its keys (:class:`ActionSpec`) and applies it (``model/rules/``; the
  table of actions is in docs/scenarios.md).

Events take effect at the *start* of their tick, before any agent's turn, so tick 77
is the first tick played with the new value. Parameters a timeline may change are
those declared with ``timeline=True`` (``model/params.py`` and the mechanisms'
sections): ``legitimacy``, ``max_jail_term`` (a ramp passes through whole terms: each
value is rounded, half to even; a ramp cannot start from ``inf``), ``cop_density``
(which adds cops on random empty sites or removes random cops, drawn from the
``events`` stream, to reach round(density × sites); if the lattice has too few empty
sites, the density reached is what is recorded) and the mechanisms' own. Actions of
a tick act in the order of the sorted timeline (file order among ties), after the
``set``/``ramp`` events listed before them.

**Clock time.** With ``run.start`` (when tick 1 begins) and ``run.tick_minutes``
(Δ) set, any entry may give a clock time instead of a tick: ``time`` for ``tick``,
``start_time``/``end_time`` for a ramp's ``start``/``end``. A time τ becomes the
tick during which it falls, ⌊(τ − start)/Δ⌋ + 1 (:func:`tick_at`), so the event
takes effect at the start of that tick; times are converted when the file is read.
A time before ``run.start`` is an error.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from upheaval.model.declare import ParameterError, clock_time


@dataclass(frozen=True)
class SetEvent:
    """At ``tick``, set parameter ``param`` (its registry name) to ``value`` — in
    every place, or only in ``place`` or the places of ``region``."""

    tick: int
    param: str
    value: float
    place: str = ""
    region: str = ""


@dataclass(frozen=True)
class RampEvent:
    """From ``start`` to ``end`` (inclusive), move ``param`` linearly to ``value``."""

    start: int
    end: int
    param: str
    value: float
    place: str = ""
    region: str = ""


# -- actions -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Key:
    """One key an action takes: its kind, its default and its allowed values.

    Kinds: ``number`` (a real in [low, high], or (low, high] with ``open_low``),
    ``count`` (an integer ≥ 1), ``choice`` (one of ``choices``), ``name`` (a non-empty
    string), ``place`` (the name of a place of the country, checked with the country)
    and ``area`` (``[x0, y0, x1, y1]``, site indices ≥ 0, inclusive bounds).
    """

    kind: str
    default: Any = None
    low: float = 0.0
    high: float = 0.0
    open_low: bool = False
    choices: tuple[str, ...] = ()

    def parse(self, value: Any) -> Any:
        """The value as the event stores it; ValueError with the reason if it is bad."""
        if self.kind == "number":
            v = value
            if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v):
                raise ValueError(f"expected a number, got {v!r}")
            if (v <= self.low if self.open_low else v < self.low) or v > self.high:
                bound = f"> {self.low:g}" if self.open_low else f"≥ {self.low:g}"
                raise ValueError(f"must be {bound} and ≤ {self.high:g}, got {v!r}")
            return float(v)
        if self.kind == "count":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"expected an integer ≥ 1, got {value!r}")
            return value
        if self.kind == "choice":
            if value not in self.choices:
                raise ValueError(
                    f"expected one of {', '.join(map(repr, self.choices))}, got {value!r}"
                )
            return value
        if self.kind in ("name", "place"):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"expected a name, got {value!r}")
            return value
        if self.kind == "area":
            if (
                not isinstance(value, list | tuple)
                or len(value) != 4
                or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in value)
            ):
                raise ValueError(f"expected [x0, y0, x1, y1] of site indices ≥ 0, got {value!r}")
            return tuple(value)
        raise ValueError(f"unknown key kind {self.kind!r}")


@dataclass(frozen=True)
class ActionSpec:
    """An action a mechanism declares: what it does, its required and optional keys."""

    doc: str
    required: dict[str, Key] = field(default_factory=dict)
    optional: dict[str, Key] = field(default_factory=dict)
    #: it acts from one place of a country: the entry must say ``place = "…"``
    needs_place: bool = False

    @property
    def keys(self) -> dict[str, Key]:
        return {**self.required, **self.optional}


def _spec(action: str) -> ActionSpec:
    from upheaval.model.mechanisms import action_specs

    specs = action_specs()
    if action not in specs:
        raise ValueError(f"unknown action {action!r}; actions: {', '.join(specs)}")
    return specs[action]


class ActionEvent:
    """At ``tick``, ``action`` with its keys (``ActionEvent(tick=10, action="shock",
    factor=1.5)``); keys not given take their declared defaults. Immutable and
    hashable; ``event.factor`` reads a key."""

    __slots__ = ("action", "args", "place", "region", "tick")

    def __init__(self, tick: int, action: str, place: str = "", region: str = "", **args: Any):
        spec = _spec(action)
        unknown = set(args) - set(spec.keys)
        if unknown:
            raise TypeError(f"action {action!r} takes no key {sorted(unknown)[0]!r}")
        missing = [k for k in spec.required if k not in args]
        if missing:
            raise TypeError(f"action {action!r} needs {missing[0]!r}")
        full = {k: args.get(k, key.default) for k, key in spec.keys.items()}
        object.__setattr__(self, "tick", int(tick))
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "args", tuple(sorted(full.items())))
        object.__setattr__(self, "place", str(place))
        object.__setattr__(self, "region", str(region))

    def __getattr__(self, key: str) -> Any:
        for k, v in object.__getattribute__(self, "args"):
            if k == key:
                return v
        raise AttributeError(f"action {self.action!r} has no key {key!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ActionEvent is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_action_event, (self.tick, self.action, self.args, self.place, self.region))

    def _key(self) -> tuple[Any, ...]:
        return (self.tick, self.action, self.args, self.place, self.region)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActionEvent) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        keys = "".join(f", {k}={v!r}" for k, v in self.args)
        where = "".join(
            f", {k}={v!r}" for k, v in (("place", self.place), ("region", self.region)) if v
        )
        return f"ActionEvent(tick={self.tick}, action={self.action!r}{where}{keys})"

    def replace(self, **changes: Any) -> ActionEvent:
        """A copy with some keys (or ``tick``, ``place``, ``region``) changed."""
        args = dict(self.args)
        tick = changes.pop("tick", self.tick)
        place = changes.pop("place", self.place)
        region = changes.pop("region", self.region)
        args.update(changes)
        return ActionEvent(tick, self.action, place=place, region=region, **args)

    def given(self) -> dict[str, Any]:
        """The keys whose values differ from their declared defaults."""
        keys = _spec(self.action).keys
        return {k: v for k, v in self.args if k not in keys or v != keys[k].default}

    def as_dict(self) -> dict[str, Any]:
        """Every key, defaults included (what a manifest records); ``place`` or
        ``region`` when the action targets one."""
        where = {k: v for k, v in (("place", self.place), ("region", self.region)) if v}
        return {"tick": self.tick, "action": self.action, **where, **dict(self.args)}


def _action_event(
    tick: int,
    action: str,
    args: tuple[tuple[str, Any], ...],
    place: str = "",
    region: str = "",
) -> ActionEvent:
    return ActionEvent(tick, action, place=place, region=region, **dict(args))


def applies_to(e: TimelineEvent, place: str, region: str) -> bool:
    """Whether event ``e`` acts in the place ``place`` of region ``region``: an
    event without a target acts everywhere."""
    if e.place:
        return e.place == place
    if e.region:
        return e.region == region
    return True


TimelineEvent = SetEvent | RampEvent | ActionEvent


# -- time ------------------------------------------------------------------------------
def tick_at(time: Any, start: str, tick_minutes: float) -> int:
    """The tick during which clock time ``time`` falls: ⌊(time − start)/Δ⌋ + 1.

    ``time`` is a date-time or ISO 8601 text (no offset: UTC); raises ValueError with
    the reason if there is no clock or the time is before the start."""
    if not start or tick_minutes <= 0:
        raise ValueError("a clock time needs run.start and run.tick_minutes > 0")
    try:
        when = dt.datetime.fromisoformat(clock_time("time", time))
    except ParameterError as e:
        raise ValueError(e.reason) from None
    elapsed = (when - dt.datetime.fromisoformat(start)).total_seconds() / 60.0
    if elapsed < 0:
        raise ValueError(f"{when.isoformat()} is before run.start {start}")
    return math.floor(elapsed / tick_minutes) + 1


def first_tick(e: TimelineEvent) -> int:
    return e.start if isinstance(e, RampEvent) else e.tick


def last_tick(e: TimelineEvent) -> int:
    return e.end if isinstance(e, RampEvent) else e.tick


def value_at(e: SetEvent | RampEvent, tick: int, before: float) -> float | None:
    """The value ``e`` sets at ``tick`` given the value ``before`` the event began,
    or None if ``e`` does not act at ``tick``."""
    if isinstance(e, SetEvent):
        return e.value if tick == e.tick else None
    if tick < e.start or tick > e.end:
        return None
    span = e.end - e.start + 1
    return before + (e.value - before) * (tick - e.start + 1) / span


class PlaceTimeline(tuple):
    """The events of a country's timeline that act in one place (a tuple, in the order
    they act), with the whole timeline they were taken from (``country``).

    What is national about a place's compiled rules is read from the whole: a named
    unit has one code, one mode and one origin in every place, since its members may
    travel between places (model/rules/forces.py, rules/transport.py). Equal, hashed
    and iterated as the tuple of the place's events.
    """

    country: tuple[TimelineEvent, ...]

    def __new__(
        cls, events: Iterable[TimelineEvent] = (), country: Iterable[TimelineEvent] | None = None
    ) -> PlaceTimeline:
        part = super().__new__(cls, events)
        part.country = tuple(part if country is None else country)
        return part


def as_timeline(timeline: Iterable[TimelineEvent]) -> tuple[TimelineEvent, ...]:
    """``timeline`` as a tuple; a place's part (:class:`PlaceTimeline`) as it is, so
    that it keeps the whole it was taken from."""
    return timeline if isinstance(timeline, tuple) else tuple(timeline)


def country_timeline(timeline: Iterable[TimelineEvent]) -> tuple[TimelineEvent, ...]:
    """The country's whole timeline a place's part was taken from; a one-place run's
    timeline is its own whole."""
    return getattr(timeline, "country", tuple(timeline))


def actions_of(timeline: tuple[TimelineEvent, ...] | list[TimelineEvent], *names: str):
    """The action events of ``timeline`` whose action is one of ``names``."""
    return [e for e in timeline if isinstance(e, ActionEvent) and e.action in names]


def sets_of(timeline: tuple[TimelineEvent, ...] | list[TimelineEvent], param: str):
    """The set and ramp events of ``timeline`` that change parameter ``param``."""
    return [e for e in timeline if isinstance(e, SetEvent | RampEvent) and e.param == param]


# -- checks -----------------------------------------------------------------------------
class TimelineError(ValueError):
    """A timeline entry that cannot work with these parameters: ``index`` is its
    1-based position in the timeline as given, ``key`` the offending key."""

    def __init__(self, index: int, key: str, reason: str):
        self.index, self.key, self.reason = index, key, reason
        super().__init__(f"timeline[{index}].{key}: {reason}")


def indexed(timeline: tuple[TimelineEvent, ...] | list[TimelineEvent]):
    """(1-based position as given, event) in the order the timeline acts."""
    return sorted(enumerate(timeline, start=1), key=lambda ne: first_tick(ne[1]))


def check_timeline(params: Any, timeline: tuple[TimelineEvent, ...] | list[TimelineEvent]) -> None:
    """Check the timeline against the parameters: areas on the lattice, then each
    mechanism's own checks (model/mechanisms.py); raise TimelineError."""
    from upheaval.model.mechanisms import MECHANISMS

    w, h = params.world.width, params.world.height
    for n, e in indexed(timeline):
        area = getattr(e, "area", None) if isinstance(e, ActionEvent) else None
        if area is not None:
            x0, y0, x1, y1 = area
            if not (0 <= x0 <= x1 < w and 0 <= y0 <= y1 < h):
                raise TimelineError(
                    n,
                    "area",
                    f"[{x0}, {y0}, {x1}, {y1}] is not inside the {w}×{h} lattice with "
                    "x0 ≤ x1, y0 ≤ y1",
                )
    for m in MECHANISMS:
        m.check_timeline(params, tuple(timeline))


def check_country_timeline(
    params: Any, timeline: tuple[TimelineEvent, ...] | list[TimelineEvent]
) -> None:
    """Check what spans the places: each mechanism's ``check_country_timeline`` on the
    whole timeline (indices as given); a one-place run is checked so too, after
    :func:`check_timeline`."""
    from upheaval.model.mechanisms import MECHANISMS

    for m in MECHANISMS:
        m.check_country_timeline(params, tuple(timeline))
