"""Changing the number of cops during a run (run 5's removals, Model II's
peacekeepers inserted at a given tick).

Reinforcements go to uniformly drawn empty sites of the whole lattice (rejection,
then enumeration, as in rule M) and take the lowest free slots; withdrawals remove
cops drawn uniformly among those on duty, one at a time from the ascending list of
their slots. All draws come from the ``events`` stream.

Reinforcement and intervention (issue 3, mechanism 5): a timeline ``reinforce``
action places ``count`` cops of a named *unit* (code 1, 2, … in order of first
arrival over the country's whole timeline, one code in every place, since a unit's
members may be sent between places; 0 is the initial force, stored per agent in
``unit`` only in runs that have reinforcements) on uniformly drawn empty sites of
an area x0…x1 × y0…y1 — up to 64 draws of ``randint(area sites)`` (row-major
within the area), then, after 64 misses, one ``randint(empty sites of the area)``
over them in row-major order; the whole lattice as area gives exactly the draws of
:func:`add_cops`. A unit is
``patrol`` (moves like any cop) or ``guard`` (``guard_units[code] = 1``: never
moves, and stays at its post after an arrest). ``withdraw`` removes a whole unit in
slot order (no draw) — with its members guarding key sites of the place, relieved
first (rules/sites.py: the unit leaves none behind) — or ``count`` of its cops on
duty drawn as in :func:`remove_cops` (its guards stay at their posts):
:func:`withdraw_units`, which the regime's calls also use to draw among the units
they may send (rules/transport.py).
A unit's code gives its origin (mechanism 4, :mod:`~upheaval.model.rules.defection`):
with cops' minds on, every cop placed here draws its hardship and loyalty from the
``events`` stream right after its site (a cop who only moves — back from a guard
post, or arriving in a convoy — keeps its own: model/records.py). Every cop
placed here answers to the ruler (elite split, mechanism 9).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from upheaval.core.codes import COP, DEAD, LANE_COP, QUIET, RULER
from upheaval.core.jit import kernel, rule
from upheaval.core.rng import randint
from upheaval.model.declare import Mechanism
from upheaval.model.rules.defection import ORIGIN_CODES, draw_mind
from upheaval.model.slots import pop_free, remove_agent, take_drawn
from upheaval.model.timeline import (
    ActionEvent,
    ActionSpec,
    Key,
    TimelineError,
    country_timeline,
    first_tick,
    indexed,
)
from upheaval.world.grid import place

if TYPE_CHECKING:
    from upheaval.model.params import Params

SITE_TRIES = 64
#: Most reinforcement units a run may have (unit codes are int8; 0 is the initial force).
MAX_UNITS = 127


@kernel
def add_cops(g, a, count, r, rng, free_slots, meta):
    """Place up to ``count`` new cops of the initial force (unit 0) on random empty
    sites of the whole lattice; returns how many found one."""
    return reinforce(g, a, count, 0, 0, 0, g.width - 1, g.height - 1, r, rng, free_slots, meta)


@rule
def clear_mechanism_state(a, i, unit):
    """A new cop in slot ``i`` carries no citizen's mechanism state; its unit code."""
    if a.legit.shape[0]:
        a.legit[i] = 0.0
    if a.fear.shape[0]:
        a.fear[i] = 0.0
    if a.cohort.shape[0]:
        a.cohort[i] = 0
    if a.hardship0.shape[0]:
        a.hardship0[i] = 0.0
    if a.unit.shape[0]:
        a.unit[i] = unit
    if a.faction.shape[0]:
        a.faction[i] = RULER  # the ruler calls the reinforcements in
    if a.org.shape[0]:
        a.org[i] = 0


@rule
def random_empty_site_in_area(g, x0, y0, x1, y1, rng):
    """A uniformly drawn empty site of the area, or -1 if none is empty."""
    aw = x1 - x0 + 1
    n = aw * (y1 - y0 + 1)
    for _ in range(SITE_TRIES):
        k = randint(rng, n)
        c = (y0 + k // aw) * g.width + x0 + k % aw
        if g.occupancy[c] == 0:
            return c
    empties = 0
    for k in range(n):
        empties += g.occupancy[(y0 + k // aw) * g.width + x0 + k % aw] == 0
    if empties == 0:
        return -1
    m = randint(rng, empties)
    for k in range(n):
        c = (y0 + k // aw) * g.width + x0 + k % aw
        if g.occupancy[c] == 0:
            if m == 0:
                return c
            m -= 1
    return -1


@kernel
def reinforce(g, a, count, unit, x0, y0, x1, y1, r, rng, free_slots, meta):
    """Place up to ``count`` cops of ``unit`` in the area; returns how many were placed.
    With cops' minds on, each draws its mind right after its site."""
    added = 0
    for _ in range(count):
        c = random_empty_site_in_area(g, x0, y0, x1, y1, rng)
        if c < 0:
            break
        i = pop_free(free_slots, meta)
        a.kind[i] = COP
        a.status[i] = QUIET
        a.jail_left[i] = 0
        a.hardship[i] = 0.0
        a.risk_aversion[i] = 0.0
        a.group[i] = 0
        if a.age.shape[0]:
            a.age[i] = 0
            a.death_age[i] = 0
        clear_mechanism_state(a, i, unit)
        a.cell_next[i] = -1
        place(g, a, i, c, LANE_COP)
        if r.minds:
            draw_mind(a, i, r.unit_origin[unit], r, rng)
        added += 1
    return added


@rule
def _withdraw_drawn(g, a, members, n, count, hold_site, rng, free_slots, meta):
    """Remove ``count`` of the ``n`` slots in ``members`` (ascending), each drawn
    uniformly among those left; returns how many were removed."""
    removed = 0
    for _ in range(min(count, n)):
        j = take_drawn(members, n, rng)
        n -= 1
        remove_agent(g, a, j, hold_site, free_slots, meta)
        removed += 1
    return removed


@kernel(allocates=True)
def withdraw_units(g, a, units, count, hold_site, rng, free_slots, meta):
    """Withdraw the cops on duty of the units ``units`` marks (``units[code] = 1``; a
    place without the ``unit`` array has only the initial force, code 0): all of them
    (count < 0, slot order) or ``count`` drawn uniformly among them."""
    members = np.empty(a.kind.shape[0], np.int32)
    n = 0
    coded = a.unit.shape[0] > 0
    for i in range(a.kind.shape[0]):
        if a.kind[i] == COP and a.status[i] != DEAD and units[a.unit[i] if coded else 0] == 1:
            members[n] = i
            n += 1
    if count < 0:
        for t in range(n):
            remove_agent(g, a, members[t], hold_site, free_slots, meta)
        return n
    return _withdraw_drawn(g, a, members, n, count, hold_site, rng, free_slots, meta)


@kernel(allocates=True)
def remove_cops(g, a, count, hold_site, rng, free_slots, meta):
    """Withdraw ``count`` cops drawn uniformly among those on duty."""
    cops = np.empty(a.kind.shape[0], np.int32)
    n = 0
    for i in range(a.kind.shape[0]):
        if a.kind[i] == COP and a.status[i] != DEAD:
            cops[n] = i
            n += 1
    return _withdraw_drawn(g, a, cops, n, count, hold_site, rng, free_slots, meta)


# -- units on the timeline --------------------------------------------------------------
def _reinforcements(timeline) -> list[ActionEvent]:
    return [e for e in timeline if isinstance(e, ActionEvent) and e.action == "reinforce"]


def unit_origins(timeline) -> dict[str, str]:
    """Unit name → its origin as given on its reinforce actions ("" for the default)."""
    return {e.unit: e.origin for e in _reinforcements(timeline)}


def unit_codes(timeline) -> dict[str, int]:
    """Unit name → code 1, 2, … in the order units first arrive. Pass a country's
    whole timeline (:func:`country_units` does): a unit has one code in every place,
    so that its members keep it when they travel (rules/transport.py)."""
    codes: dict[str, int] = {}
    for e in sorted(_reinforcements(timeline), key=first_tick):
        if e.unit not in codes:
            codes[e.unit] = len(codes) + 1
    return codes


def country_units(timeline) -> dict[str, int]:
    """The unit codes of the country a place's timeline belongs to (its whole
    timeline's :func:`unit_codes`; a one-place run's own)."""
    return unit_codes(country_timeline(timeline))


def units_on_duty_by(timeline, tick: int) -> dict[str, int]:
    """Unit name → code of the units that have arrived by the end of ``tick``: the
    codes a run's cops carry then — on duty, in transit or guarding a site (their
    posts' records, rules/sites.py) — which a branch must keep (Simulation.restore).
    ``timeline`` is the country's whole timeline."""
    codes = unit_codes(timeline)
    return {e.unit: codes[e.unit] for e in _reinforcements(timeline) if e.tick <= tick}


def unarrived(timeline, action: str) -> Iterator[tuple[int, ActionEvent]]:
    """The entries (index, event) of ``action`` naming a unit that no ``reinforce``
    before them has brought (a ``withdraw`` in a place, a ``send`` in the country)."""
    arrived: set[str] = set()
    for n, e in indexed(timeline):
        if isinstance(e, ActionEvent) and e.action == "reinforce":
            arrived.add(e.unit)
        elif isinstance(e, ActionEvent) and e.action == action and e.unit not in arrived:
            yield n, e


def has_guards(timeline) -> bool:
    return any(e.mode == "guard" for e in _reinforcements(timeline))


def units_may_arrive(p: Params, timeline) -> bool:
    """Whether members of the country's units may come to this place: it reinforces
    them itself, or forces travel between the places (any unit may then be sent)."""
    return bool(_reinforcements(timeline)) or (
        p.transport.enabled and bool(_reinforcements(country_timeline(timeline)))
    )


def unit_mask(*codes: int) -> np.ndarray:
    """The mask of :func:`withdraw_units` that marks the units ``codes``."""
    units = np.zeros(MAX_UNITS + 1, np.int8)
    units[list(codes)] = 1
    return units


def on_duty_of(place, units: np.ndarray) -> int:
    """The cops on duty at ``place`` of the units ``units`` marks."""
    a = place.agents
    on_duty = (a.kind == COP) & (a.status != DEAD)
    codes = a.unit if a.unit.shape[0] else np.zeros(a.kind.shape[0], np.int8)
    return int(np.count_nonzero(on_duty & (units[codes] == 1)))


def withdraw_members(place, code: int, count: int) -> int:
    """Remove unit ``code``'s cops on duty from ``place``: all (count < 0, slot order,
    no draw) or ``count`` drawn uniformly (``events`` stream); returns how many were
    removed (a ``withdraw``, or a ``send`` of the unit: rules/transport.py)."""
    return withdraw_of_units(place, unit_mask(code), count)


def withdraw_of_units(place, units: np.ndarray, count: int) -> int:
    """Remove the cops on duty of the units ``units`` marks (:func:`withdraw_units`)
    from ``place``: all (count < 0, slot order, no draw) or ``count`` drawn uniformly
    among them (``events`` stream); returns how many were removed (a unit's, as
    :func:`withdraw_members`; those the regime's policy may send, rules/transport.py)."""
    place.heap_room(on_duty_of(place, units))
    return int(
        withdraw_units(
            place.lattice,
            place.agents,
            units,
            count,
            place.rules.hold_site,
            place.streams["events"],
            place.free_slots,
            place.free_meta,
        )
    )


# -- the mechanism's declaration -------------------------------------------------------
class Reinforcement(Mechanism):
    """Mechanism 5: reinforcement and intervention — named units that arrive, patrol
    or guard, and are withdrawn (module docstring). Its loyalties and origins are the
    security forces' parameters (rules/defection.py)."""

    name = "reinforcement"
    rule_fields = ("guard_units", "unit_origin")
    actions: ClassVar[dict[str, ActionSpec]] = {
        "reinforce": ActionSpec(
            "`count` new cops of unit `unit` (a name) on uniformly drawn empty sites of "
            "`area` (default: the whole lattice), drawn from the `events` stream; "
            '`mode = "patrol"` (default: they move like any cop) or `"guard"` (they '
            'never leave their site, even after an arrest); `origin` = "local_police", '
            '"national_guard" or "foreign" (default: security_forces.reinforcement_origin) '
            "sets the unit's loyalty range and whether it may defect when cops' minds are "
            "on; a unit keeps one mode and one origin",
            required={"count": Key("count"), "unit": Key("name", default="")},
            optional={
                "mode": Key("choice", default="patrol", choices=("patrol", "guard")),
                "area": Key("area"),
                "origin": Key("choice", default="", choices=tuple(ORIGIN_CODES)),
            },
        ),
        "withdraw": ActionSpec(
            "removes unit `unit` — all of it, its members guarding the place's key sites "
            "included (relieved first), or `count` cops drawn uniformly among those of "
            "the unit on duty (`events` stream; its guards stay at their posts)",
            required={"unit": Key("name", default="")},
            optional={"count": Key("count", default=-1)},
        ),
    }

    def initial_country_state(self, p: Params) -> dict[str, Any]:
        # units: per tick, in a run whose timeline brings named units, the forces by
        # place and unit after that tick — (tick, unit names, int64 array places ×
        # units × (on_duty, on_guard, in_transit)) — written by the simulation
        # (Simulation.units_history); a tuple never changed in place, so a
        # checkpoint shares it, as the transport's links history
        return {"units": ()}

    def agent_arrays(self, p: Params, timeline) -> tuple[str, ...]:
        return ("unit",) if units_may_arrive(p, timeline) else ()

    def replaces_rule_c(self, p: Params, timeline) -> bool:
        # a guard unit's members may be sent here from another place
        return has_guards(country_timeline(timeline) if p.transport.enabled else timeline)

    def compile_rules(self, p: Params, timeline) -> dict[str, Any]:
        # every unit of the country, whichever place it reinforces: it may travel
        whole = country_timeline(timeline)
        codes = unit_codes(whole)
        guard_units = np.zeros(MAX_UNITS + 1, np.int8)  # 1 if the unit guards its posts
        for e in _reinforcements(whole):
            if e.mode == "guard":
                guard_units[codes[e.unit]] = 1
        f = p.security_forces
        unit_origin = np.full(MAX_UNITS + 1, ORIGIN_CODES[f.reinforcement_origin], np.int8)
        unit_origin[0] = ORIGIN_CODES[f.initial_origin]
        for name, origin in unit_origins(whole).items():
            if origin:
                unit_origin[codes[name]] = ORIGIN_CODES[origin]
        return {"guard_units": guard_units, "unit_origin": unit_origin}

    def check_timeline(self, p: Params, timeline) -> None:
        if p.transport.enabled:
            return  # a unit may be sent to a place it never reinforced: checked country-wide
        for n, e in unarrived(timeline, "withdraw"):
            raise TimelineError(n, "unit", f"no unit {e.unit!r} has arrived by tick {e.tick}")

    def check_country_timeline(self, p: Params, timeline) -> None:
        # one code for a unit in every place, so one mode and one origin
        modes: dict[str, tuple[str, int]] = {}
        origins: dict[str, tuple[str, int]] = {}
        for n, e in indexed(timeline):
            if not isinstance(e, ActionEvent):
                continue
            if e.action == "reinforce":
                seen = modes.get(e.unit)
                if seen is not None and seen[0] != e.mode:
                    raise TimelineError(
                        n, "mode", f"unit {e.unit!r} arrived as {seen[0]!r} at tick {seen[1]}"
                    )
                modes.setdefault(e.unit, (e.mode, e.tick))
                origin = origins.setdefault(e.unit, (e.origin, e.tick))
                if origin[0] != e.origin:
                    raise TimelineError(
                        n,
                        "origin",
                        f"unit {e.unit!r} arrived with origin {origin[0] or 'default'!r} "
                        f"at tick {origin[1]}",
                    )
                if len(modes) > MAX_UNITS:
                    raise TimelineError(n, "unit", f"more than {MAX_UNITS} units")
            elif e.action == "withdraw" and e.unit not in modes:
                raise TimelineError(n, "unit", f"no unit {e.unit!r} has arrived by tick {e.tick}")

    def act(self, event, place, country) -> Any:
        # codes as the place's rules were compiled with them (guard_units, unit_origin)
        code = country_units(place.timeline)[event.unit]
        if event.action == "reinforce":
            place.reserve(event.count)
            return reinforce(
                place.lattice,
                place.agents,
                event.count,
                code,
                *place.area(event.area),
                place.rules,
                place.streams["events"],
                place.free_slots,
                place.free_meta,
            )
        if event.count < 0:
            # the whole unit leaves the place: its guards too (relieved, not put back
            # on the lattice first, so nothing is drawn); sites.py imports this module
            from upheaval.model.rules.sites import relieve_unit

            return relieve_unit(place, code).shape[0] + withdraw_members(place, code, -1)
        return withdraw_members(place, code, event.count)


MECHANISM = Reinforcement()
