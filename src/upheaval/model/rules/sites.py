"""Key sites, seized and guarded, and a place's control (docs/odd.md §12.4).

A place may have named **sites** on its lattice — the akimat, the security service's
headquarters, the airport, a party office, a statue — declared by the place-scoped
parameter ``sites.list`` (a places table's column ``site_list``, or ``[sites] list``
of a one-lattice scenario; :func:`parse_sites` reads it). A site stands on the cell
(⌊x·width⌋, ⌊y·height⌋) for fractions x, y in [0, 1), so it keeps its place on the
lattice whatever the place's size, and it is *watched* over the square window of
cells within Chebyshev distance r of it on the torus ((2r + 1)² cells; r is the
site's own ``radius`` or ``sites.radius``).

**The seizure rule** (deterministic; no draws). At the start of each tick, after the
tick's timeline, from the lattice as the last tick and the timeline left it, each
site compares A, the active citizens in its window, with C, the forces there — cops
on the lattice in the window plus the site's guards:

* held by the regime, it is **seized** (held by the crowd) if A ≥ ``min_crowd`` and
  A > ρ·C (ρ = ``seize_ratio``): crowds that outnumber the forces by the ratio occupy
  it;
* held by the crowd, it is **retaken** if C ≥ 1 and C > ρ·A: the same ratio, the
  other way;
* held by the crowd for ``burn_after`` ticks in a row (this one included), it
  **burns**, once and for ever (a burned site may still be held and retaken).

**Guards.** A timeline ``guard`` sets ``count`` guards at a site: with ``source =
"cops"`` (the default) taken from the place's cops on duty (as many as there are),
who leave the lattice exactly as a ``cop_density`` cut removes them — drawn
uniformly among all on duty, whatever their unit (``events`` stream) — or, with
``unit = "…"``, among that named unit's members only, as a partial ``withdraw``
draws them; with ``source = "new"`` arriving from outside the place (a contingent
sent "to guard state buildings"; they belong to no unit of the place). A site's post
holds a record of each of its own guards (:data:`POSTED`: its site and the guard's
model/records.py record, every per-agent field but those of a place on the lattice),
so a guard keeps its **unit** (its code, and so its mode and origin), its mind (H_c,
loyalty), its faction and any other per-cop state while posted. ``unguard``
withdraws ``count`` (default: all) of a site's guards, outsiders first: they leave
the place; the place's own go back on duty, first posted first, each on a uniformly
drawn empty cell (``events`` stream, as a ``cop_density`` rise draws the cells;
those that find no empty cell stay on guard) as the cop it was: nothing is drawn for
it but its cell (as for a convoy's cops arriving elsewhere, rules/transport.py;
model/records.py keeps both). With ``unit = "…"`` only that unit's guards at the
site come back (first posted first; outsiders, of no unit, stay). So no force is
created or lost: cops on the lattice + the place's own guards change only as they
would without sites, and so does each unit's members on duty + on guard
(:func:`guards_by_unit`). Guards stand inside the building: they count in C at their
site only, are not seen by citizens (rule A) and make no arrests; while posted they
are no agents of the lattice, so a ``shift_command``, the regime's calls and a
``withdraw`` or ``send`` with ``count`` (drawn on duty) do not reach them — but a
unit that leaves the place whole (``withdraw`` or ``send`` of it without ``count``)
takes its guards with it, every post relieved of them first without a draw
(:func:`relieve_unit`): a whole unit leaves no member behind at a post.

**Effects.** Each seizure feeds the regime's "terrorist" framing F (mechanism 6,
docs/odd.md §7.16): at the end of the tick, after the provocations' update,
F ← min(1, F + φ·seizures) summed over the places (φ = ``framing_rise``), where the
framing acts (provocateurs.count > 0 in a place of the run; elsewhere F has no
effect and is not fed). And it lowers the place's **control**:

    control = 1 − w·(sites held by the crowd)/(sites) − (1 − w)·(active share)

with w = ``control_weight`` (0 for a place without sites) and the active share the
actives among the citizens (free and jailed) at the end of the last tick — the state
the rule read; tick 0's control is 1. ``results/places.py`` counts the ticks a place
was *lost* (control below a threshold, 0.5 by default).

Columns (per place and tick): ``control`` (float), ``sites_declared``,
``sites_held`` (held by the crowd during the tick), ``sites_seized``,
``sites_retaken``, ``sites_burned`` (burned at this tick's start) and
``site_guards`` (guards at the place's sites during the tick). Checkpoints carry
each site's holder, burned flag, ticks held, guards and its own guards' records.
"""

from __future__ import annotations

import functools
import math
import re
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np

from upheaval.core.codes import ACTIVE, CITIZEN, COP, DEAD
from upheaval.core.jit import kernel
from upheaval.model.declare import Mechanism, ParameterError, Section, param, section
from upheaval.model.records import KEPT, RECORD, kept_fields, place_cops, records_of
from upheaval.model.rules.forces import (
    country_units,
    unarrived,
    withdraw_members,
)
from upheaval.model.rules.legitimacy import citizens_in
from upheaval.model.state import Agents
from upheaval.model.timeline import ActionEvent, ActionSpec, Key, TimelineError, indexed

if TYPE_CHECKING:
    from upheaval.model.params import Params

SITES = (
    "our design (docs/odd.md §12.4), after the akimats, airport and security "
    "headquarters seized, burned and guarded in January 2022 in Kazakhstan "
    "(docs/brief.md)"
)
RATIO = (
    "our design (docs/odd.md §12.4); 3 after the attacker's 3:1 rule of thumb of "
    "military planning (Mearsheimer 1989, International Security 13(4):54-89)"
)
COUNTS = ("sites_declared", "sites_held", "sites_seized", "sites_retaken", "sites_burned")
DECLARED, HELD, SEIZED, RETAKEN, BURNED, GUARDS = range(6)
#: The keys of one site in ``sites.list``.
SITE_KEYS = ("name", "kind", "x", "y", "radius")
_NAME = re.compile(r"[A-Za-z0-9_\-]+")

#: One record of a site's post: the site's index and the guard's own record
#: (model/records.py: every per-agent field but those of a place on the lattice).
POSTED = np.dtype([("site", np.int32), *((f, RECORD.fields[f][0]) for f in KEPT)])


class Site(NamedTuple):
    """One declared site: its name (unique in the place), kind (free text), position
    as fractions of the lattice's sides and radius in cells (-1: ``sites.radius``)."""

    name: str
    kind: str
    x: float
    y: float
    radius: int

    def text(self) -> str:
        r = f" radius={self.radius}" if self.radius >= 0 else ""
        return f"name={self.name} kind={self.kind} x={self.x!r} y={self.y!r}{r}"


def _site_from(n: int, fields: dict[str, Any]) -> Site:
    """Site ``n`` (1-based) from its keys; ValueError naming the site and the key."""
    label = f"site {n}" + (f" ({fields['name']!r})" if isinstance(fields.get("name"), str) else "")
    for k in fields:
        if k not in SITE_KEYS:
            raise ValueError(f"{label}: unknown key {k!r}; a site has {', '.join(SITE_KEYS)}")
    for k in ("name", "x", "y"):
        if k not in fields:
            raise ValueError(f"{label}: missing {k!r}")
    name = fields["name"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"{label}: a name is letters, digits, '_' and '-', got {name!r}")
    kind = fields.get("kind", name)
    if not isinstance(kind, str) or not _NAME.fullmatch(kind):
        raise ValueError(f"{label}: a kind is letters, digits, '_' and '-', got {kind!r}")
    xy = []
    for k in ("x", "y"):
        v = fields[k]
        if isinstance(v, str):
            try:
                v = float(v)
            except ValueError:
                raise ValueError(f"{label}: {k} is a number, got {v!r}") from None
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= v < 1.0:
            raise ValueError(
                f"{label}: {k} is a fraction of the lattice's side in [0, 1), got {v!r}"
            )
        xy.append(float(v))
    radius = fields.get("radius", -1)
    if isinstance(radius, str):
        try:
            radius = int(radius)
        except ValueError:
            raise ValueError(
                f"{label}: radius is a whole number of cells, got {radius!r}"
            ) from None
    if "radius" in fields and (
        isinstance(radius, bool) or not isinstance(radius, int) or radius < 0
    ):
        raise ValueError(f"{label}: radius is a whole number of cells ≥ 0, got {radius!r}")
    return Site(name, kind, xy[0], xy[1], int(radius))


def _text_sites(text: str) -> list[dict[str, str]]:
    out = []
    for n, part in enumerate((p.strip() for p in text.split(";")), start=1):
        if not part:
            raise ValueError(f"site {n}: empty (sites are separated by ';')")
        fields: dict[str, str] = {}
        for token in part.split():
            k, eq, v = token.partition("=")
            if not eq or not k or not v:
                raise ValueError(f"site {n}: expected key=value, got {token!r}")
            if k in fields:
                raise ValueError(f"site {n}: {k!r} given twice")
            fields[k] = v
        out.append(fields)
    return out


@functools.lru_cache(maxsize=256)
def _parse_text(text: str) -> tuple[Site, ...]:
    return _check_unique(tuple(_site_from(n, f) for n, f in enumerate(_text_sites(text), start=1)))


def _check_unique(sites: tuple[Site, ...]) -> tuple[Site, ...]:
    seen: set[str] = set()
    for n, s in enumerate(sites, start=1):
        if s.name in seen:
            raise ValueError(f"site {n}: the name {s.name!r} is given twice")
        seen.add(s.name)
    return sites


def parse_sites(value: Any) -> tuple[Site, ...]:
    """The sites of a ``sites.list`` value: text ``"name=akimat kind=akimat x=0.5
    y=0.5 radius=2; name=airport x=0.9 y=0.1"`` (sites separated by ``;``, keys by
    spaces; ``kind`` defaults to the name, ``radius`` to ``sites.radius``) or a list
    of tables with the same keys (TOML). Raises ValueError with the reason."""
    if isinstance(value, str):
        return () if not value.strip() else _parse_text(value.strip())
    if isinstance(value, list | tuple) and all(isinstance(e, dict) for e in value):
        return _check_unique(tuple(_site_from(n, dict(e)) for n, e in enumerate(value, start=1)))
    raise ValueError(f"expected sites as text or a list of tables, got {value!r}")


def normal_sites(value: Any) -> str:
    """A ``sites.list`` value in its normal form (the text :func:`parse_sites` reads)."""
    return "; ".join(s.text() for s in parse_sites(value))


@section("sites")
class SitesParams(Section):
    """Key sites, seized and guarded, and a place's control."""

    list: str = param(
        "",
        "The place's key sites: 'name=akimat kind=akimat x=0.5 y=0.5 radius=2; name=airport "
        "x=0.9 y=0.1' (x, y: fractions of the lattice's sides in [0, 1); kind defaults to "
        "the name, radius to sites.radius), or in TOML a list of tables with those keys. "
        '"": none (the mechanism is off).',
        SITES,
        kind="text",
        scope="place",
        initial_only=True,
        name="site_list",
        parse=normal_sites,
    )
    radius: int = param(
        2,
        "r: a site is watched over the cells within Chebyshev distance r of it "
        "((2r + 1)² cells), where its crowd and forces are counted.",
        SITES,
        kind="int",
        low=0,
        high=10_000,
        scope="place",
        name="site_radius",
    )
    seize_ratio: float = param(
        3.0,
        "ρ: a site is seized when its actives A ≥ sites.min_crowd and A > ρ·C (C: cops in "
        "its window plus its guards), and retaken when C ≥ 1 and C > ρ·A.",
        RATIO,
        kind="float",
        low=0.0,
        high=1e6,
        name="site_seize_ratio",
    )
    min_crowd: int = param(
        5,
        "The fewest actives that can seize a site (an unguarded site is not taken by one "
        "passer-by).",
        SITES,
        kind="int",
        low=1,
        high=10**9,
        name="site_min_crowd",
    )
    burn_after: float = param(
        6.0,
        "A site held by the crowd this many ticks in a row burns (once, for ever). inf: "
        "sites never burn.",
        SITES,
        kind="term",
        low=1.0,
        name="site_burn_after",
    )
    framing_rise: float = param(
        0.1,
        "φ: each seizure adds φ to the regime's 'terrorist' framing F (mechanism 6), "
        "where the framing acts.",
        SITES,
        kind="float",
        low=0.0,
        high=1.0,
        name="site_framing_rise",
    )
    control_weight: float = param(
        0.5,
        "w: a place's control is 1 − w·(share of its sites held by the crowd) − "
        "(1 − w)·(share of its citizens active); w = 0 without sites.",
        SITES,
        kind="float",
        low=0.0,
        high=1.0,
        name="site_control_weight",
    )

    def validate(self, p: Params) -> None:
        side = min(p.world.width, p.world.height)
        for s in parse_sites(self.list):
            r = s.radius if s.radius >= 0 else self.radius
            if 2 * r + 1 > side:
                raise ParameterError(
                    "sites.list" if s.radius >= 0 else "sites.radius",
                    f"site {s.name!r}: a window of radius {r} needs a lattice of at least "
                    f"{2 * r + 1} cells a side; this one is {p.world.width}×{p.world.height}",
                )


@kernel
def count_around(g, a, cx, cy, radius):
    """(actives, cops) on the cells within Chebyshev distance ``radius`` of (cx, cy)
    on the torus (2·radius + 1 ≤ the lattice's sides), from the cells' agent lists."""
    w = g.width
    h = g.height
    actives = 0
    cops = 0
    for dy in range(-radius, radius + 1):
        y = (cy + dy + h) % h
        for dx in range(-radius, radius + 1):
            x = (cx + dx + w) % w
            j = g.head[y * w + x]
            while j != -1:
                if a.kind[j] != CITIZEN:
                    cops += 1
                elif a.status[j] == ACTIVE:
                    actives += 1
                j = a.cell_next[j]
    return actives, cops


def post_records(a: Agents, slots: np.ndarray, site: int) -> np.ndarray:
    """The :data:`POSTED` records of the agents in ``slots`` (just taken off duty) at
    ``site``."""
    kept = records_of(a, slots)
    out = np.zeros(slots.shape[0], POSTED)
    out["site"] = site
    for f in KEPT:
        out[f] = kept[f]
    return out


def _take_off_duty(place, count: int, unit: str) -> np.ndarray:
    """Take ``count`` cops off the place's lattice (as many as there are): drawn among
    all on duty as a ``cop_density`` cut draws them, or among the members of the
    named ``unit`` as a ``withdraw`` draws them; returns their slots, ascending."""
    a = place.agents
    was_on_duty = (a.kind == COP) & (a.status != DEAD)
    if unit:
        if a.unit.shape[0]:  # without the array no member of a named unit is here
            withdraw_members(place, country_units(place.timeline)[unit], count)
    else:
        on_duty = int(np.count_nonzero(was_on_duty))
        place.set_cop_count(on_duty - min(count, on_duty))
    a = place.agents  # removing grows no agent array: the slots are the same
    return np.flatnonzero(was_on_duty & (a.status == DEAD))


def site_cells(p: Params) -> list[tuple[int, int, int]]:
    """(x, y, radius) of each site of a place, on its lattice."""
    w, h = p.world.width, p.world.height
    return [
        (math.floor(s.x * w), math.floor(s.y * h), s.radius if s.radius >= 0 else p.sites.radius)
        for s in parse_sites(p.sites.list)
    ]


def next_holding(held: bool, actives: int, forces: int, ratio: float, min_crowd: int) -> bool:
    """Whether the crowd holds a site after this tick's test (module docstring)."""
    if not held:
        return actives >= min_crowd and actives > ratio * forces
    return not (forces >= 1 and forces > ratio * actives)


def control_of(weight: float, held: int, declared: int, active: int, citizens: int) -> float:
    """1 − w·held/declared − (1 − w)·active/citizens (w = 0 without sites)."""
    w = weight if declared > 0 else 0.0
    sites = held / declared if declared > 0 else 0.0
    streets = active / citizens if citizens > 0 else 0.0
    return 1.0 - w * sites - (1.0 - w) * streets


class Sites(Mechanism):
    """Key sites, seized and guarded, and a place's control (module docstring)."""

    name = "sites"
    section = SitesParams
    values = ("control",)
    counters = (*COUNTS, "site_guards")
    actions: ClassVar[dict[str, ActionSpec]] = {
        "guard": ActionSpec(
            '`count` guards at the site `site` of the place: with `source = "cops"` '
            "taken from its cops on duty (as many as there are; drawn among all of them, "
            "or with `unit` (a name) among that unit's members only), each keeping its "
            'unit, mind and faction; with `source = "new"` arriving from outside; they '
            "count as forces at the site only (sites.list)",
            required={"site": Key("name"), "count": Key("count")},
            optional={
                "source": Key("choice", default="cops", choices=("cops", "new")),
                "unit": Key("name", default=""),
            },
        ),
        "unguard": ActionSpec(
            "withdraws `count` (default: all) of the site's guards, outsiders first: they "
            "leave the place; the place's own go back on duty, first posted first, each "
            "with the unit, mind and faction it had; with `unit` (a name) only that "
            "unit's guards (outsiders stay)",
            required={"site": Key("name")},
            optional={"count": Key("count", default=-1), "unit": Key("name", default="")},
        ),
    }

    def is_on(self, p: Params, timeline) -> bool:
        return bool(p.sites.list)

    def check_timeline(self, p: Params, timeline) -> None:
        names = [s.name for s in parse_sites(p.sites.list)]
        for n, e in indexed(timeline):
            if isinstance(e, ActionEvent) and e.action in self.actions and e.site not in names:
                known = ", ".join(names) if names else "none: see sites.list"
                raise TimelineError(n, "site", f"no site {e.site!r} here ({known})")
            if isinstance(e, ActionEvent) and e.action == "guard" and e.unit:
                if e.source == "new":
                    raise TimelineError(
                        n,
                        "unit",
                        'guards from outside (source = "new") belong to no unit of the '
                        'place; a unit\'s members guard with source = "cops"',
                    )
        if not p.transport.enabled:  # no member of a unit comes but by its reinforce
            for n, e in _unarrived_units(timeline):
                raise TimelineError(n, "unit", f"no unit {e.unit!r} has arrived by tick {e.tick}")

    def check_country_timeline(self, p: Params, timeline) -> None:
        # with transport a unit's members may be sent here from wherever it arrived
        for n, e in _unarrived_units(timeline):
            raise TimelineError(
                n, "unit", f"no unit {e.unit!r} has arrived anywhere by tick {e.tick}"
            )

    def initial_state(self, p: Params) -> dict[str, Any]:
        n = len(parse_sites(p.sites.list))
        return {
            "held": np.zeros(n, np.bool_),  # held by the crowd
            "burned": np.zeros(n, np.bool_),
            "held_for": np.zeros(n, np.int64),  # ticks held in a row
            "own_guards": np.zeros(n, np.int64),  # taken from the place's cops
            # a record of each, in the order they were posted (POSTED)
            "posted": np.zeros(0, POSTED),
            "new_guards": np.zeros(n, np.int64),  # arrived from outside
            "control": 1.0,
        }

    # -- timeline ---------------------------------------------------------------------
    def act(self, event, place, country) -> None:
        st = place.state[self.name]
        k = [s.name for s in parse_sites(place.params.sites.list)].index(event.site)
        if event.action == "guard":
            if event.source == "new":
                st["new_guards"][k] += event.count
            else:
                taken = _take_off_duty(place, event.count, event.unit)
                records = post_records(place.agents, taken, k)
                st["posted"] = np.concatenate((st["posted"], records))
                st["own_guards"][k] += taken.shape[0]
            return
        posted = st["posted"]
        here = posted["site"] == k
        if event.unit:
            # that unit's guards only: outsiders belong to no unit and stay
            here &= posted["unit"] == country_units(place.timeline)[event.unit]
            outsiders = 0
            total = int(np.count_nonzero(here))
        else:
            outsiders = int(st["new_guards"][k])
            total = outsiders + int(st["own_guards"][k])
        n = total if event.count < 0 else min(event.count, total)
        outsiders = min(n, outsiders)
        st["new_guards"][k] -= outsiders
        own = n - outsiders
        if own > 0:
            # first posted, first relieved; those with no empty cell stay on guard
            mine = np.flatnonzero(here)[:own]
            back = place_cops(place, posted[mine])
            st["posted"] = np.delete(posted, mine[:back])
            st["own_guards"][k] -= back

    # -- each tick --------------------------------------------------------------------
    def before_tick(self, place, country) -> None:
        p = place.params.sites
        st = place.state[self.name]
        counts = place.signals.sites_counts
        held, burned, held_for = st["held"], st["burned"], st["held_for"]
        guards = st["own_guards"] + st["new_guards"]
        for k, (x, y, r) in enumerate(site_cells(place.params)):
            actives, cops = count_around(place.lattice, place.agents, x, y, r)
            now = next_holding(
                bool(held[k]),
                int(actives),
                int(cops) + int(guards[k]),
                p.seize_ratio,
                p.min_crowd,
            )
            if now and not held[k]:
                counts[SEIZED] += 1
            elif held[k] and not now:
                counts[RETAKEN] += 1
            held[k] = now
            held_for[k] = held_for[k] + 1 if now else 0
            if now and not burned[k] and held_for[k] >= p.burn_after:
                burned[k] = True
                counts[BURNED] += 1
        counts[DECLARED] = held.shape[0]
        counts[HELD] = int(np.count_nonzero(held))
        counts[GUARDS] = int(guards.sum())
        row = place.row
        st["control"] = control_of(
            p.control_weight,
            int(counts[HELD]),
            held.shape[0],
            row.active_blue + row.active_green,
            citizens_in(row),
        )

    def after_country_tick(self, country) -> None:
        # seizures feed the framing where it acts (mechanism 6), after its own update
        if not any(pl.params.provocateurs.count > 0 for pl in country.places):
            return
        seized = sum(pl.row.sites_seized for pl in country.places)
        if seized:
            phi = country.params.sites.framing_rise
            st = country.state["provocateurs"]
            st["framing"] = min(1.0, st["framing"] + phi * seized)

    def row_values(self, place, country) -> tuple[float, ...]:
        st = place.state.get(self.name)
        if st is not None and place.params.sites.list:
            return (st["control"],)
        if not place.history:
            return (1.0,)
        # a place without sites: its streets alone, at the end of the last tick
        row = place.row
        return (control_of(0.0, 0, 0, row.active_blue + row.active_green, citizens_in(row)),)


def _unarrived_units(timeline):
    """The ``guard`` and ``unguard`` entries naming a unit no ``reinforce`` before
    them has brought (one without a unit takes or relieves any cops)."""
    found = [*unarrived(timeline, "guard"), *unarrived(timeline, "unguard")]
    for n, e in sorted(found, key=lambda entry: entry[0]):  # the first in the file first
        if e.unit:
            yield n, e


def relieve_unit(place, code: int) -> np.ndarray:
    """Take unit ``code``'s guards off every post of ``place`` as the unit leaves it
    whole (a ``withdraw`` or ``send`` of the unit without ``count``, rules/forces.py
    and rules/transport.py): they go with it, not back onto the lattice, so nothing
    is drawn; returns their records (:data:`~upheaval.model.records.RECORD`, first
    posted first: a convoy carries them). A unit that leaves a place leaves none of
    its members behind at a post (the CSTO handed its sites over as it withdrew from
    Kazakhstan, 13-19 January 2022)."""
    st = place.state.get("sites")
    if not st:
        return np.zeros(0, RECORD)
    posted = st["posted"]
    mine = posted["unit"] == code
    left = np.bincount(posted["site"][mine], minlength=st["own_guards"].shape[0])
    if left.any():
        st["own_guards"] -= left
        st["posted"] = posted[~mine]
    return kept_fields(posted[mine])


def guards_at(place) -> int:
    """Guards at a place's sites now (the place's own and outsiders)."""
    st = place.state.get("sites")
    if not st:
        return 0
    return int(st["own_guards"].sum() + st["new_guards"].sum())


def guards_by_unit(place) -> dict[str, int]:
    """The place's own guards at its sites now, by unit name ("" for the initial
    force); units with none on guard are left out (outsiders belong to no unit)."""
    st = place.state.get("sites")
    if not st or st["posted"].shape[0] == 0:
        return {}
    # the codes the place was compiled with (its timeline's country)
    names = {code: name for name, code in country_units(place.timeline).items()}
    names[0] = ""
    counts = np.bincount(st["posted"]["unit"].astype(np.int64))
    return {names[code]: int(k) for code, k in enumerate(counts) if k}


MECHANISM = Sites()
