"""A country: places and the links between them, as validated data.

A world is two tables (docs/places.md):

* **places** — ``name``, ``region``, ``lat``, ``lon``, ``utc_offset`` (hours),
  ``population`` (people), and optionally any number of *override* columns, each
  naming a ``place``-scoped parameter by its registry name or location
  (``legitimacy``, ``population.cop_density``, ``information.focal_x`` …); an empty
  cell keeps the scenario's value.
* **links** — ``from``, ``to``, ``mode`` (``road``, ``rail`` or ``air``),
  ``distance_km`` and ``travel_hours``. Links are undirected.

Either table is a CSV file or a list of TOML tables with the same keys (a
scenario's ``[country]`` table, upheaval.scenario.loading). Every mistake raises
:class:`CountryError` naming the file, the line (CSV) or entry (TOML) and the
column.

Each place becomes its own lattice: ``population / world.scale`` citizens at the
place's ``citizen_density``, so its side is ⌈√(citizens / density)⌉ sites, and
never less than ``world.min_side`` (:func:`place_params`). Nothing here is specific
to any country.
"""

from __future__ import annotations

import csv
import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upheaval.model.declare import ParameterError, check_value
from upheaval.model.params import Params, parameter, validate_params
from upheaval.model.timeline import (
    ActionEvent,
    PlaceTimeline,
    TimelineError,
    TimelineEvent,
    applies_to,
    check_country_timeline,
    check_timeline,
)

#: The columns every places table has, in order.
PLACE_COLUMNS = ("name", "region", "lat", "lon", "utc_offset", "population")
#: The columns of a links table.
LINK_COLUMNS = ("from", "to", "mode", "distance_km", "travel_hours")
#: The ways a link can be travelled.
MODES = ("road", "rail", "air")


class CountryError(ValueError):
    """A mistake in a places or links table: ``where`` is the file, ``row`` the line
    (CSV, 1-based, the header is line 1) or entry (TOML, 1-based), ``column`` the
    column, ``reason`` what is wrong."""

    def __init__(self, where: str, row: str, column: str, reason: str):
        self.where, self.row, self.column, self.reason = where, row, column, reason
        at = ", ".join(x for x in (row, f"column {column!r}" if column else "") if x)
        super().__init__(f"{where}: {at}: {reason}" if at else f"{where}: {reason}")


@dataclass(frozen=True)
class PlaceSpec:
    """One place of a world: where it is, how many live there, and its own values of
    place-scoped parameters (registry name → value)."""

    name: str
    region: str
    lat: float
    lon: float
    utc_offset: float
    population: int
    overrides: tuple[tuple[str, Any], ...] = ()

    def override(self, name: str, default: Any = None) -> Any:
        for k, v in self.overrides:
            if k == name:
                return v
        return default


@dataclass(frozen=True)
class LinkSpec:
    """A link between two places (undirected)."""

    a: str
    b: str
    mode: str
    distance_km: float
    travel_hours: float


@dataclass(frozen=True)
class Country:
    """The places and links of a world, in the order given (a place's index is its
    position: it names its random streams and its rows)."""

    places: tuple[PlaceSpec, ...]
    links: tuple[LinkSpec, ...] = ()
    source: str = "<python>"
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    # routes found so far: the regime's policy asks for every donor's route to every
    # calling place each tick (at 1:100 a tick spent most of its time in Dijkstra)
    _routes: dict[tuple[int, int], tuple[int, ...] | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if not self.places:
            raise CountryError(self.source, "", "places", "a country needs at least one place")
        self._index.update({p.name: i for i, p in enumerate(self.places)})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.places)

    @property
    def regions(self) -> tuple[str, ...]:
        """The regions, in order of their first place."""
        return tuple(dict.fromkeys(p.region for p in self.places))

    def index(self, name: str) -> int:
        return self._index[name]

    def place(self, name: str) -> PlaceSpec:
        return self.places[self._index[name]]

    def population(self) -> int:
        return sum(p.population for p in self.places)

    def distances(self) -> list[list[float]]:
        """Shortest distance along links between every two places, in km (``inf``
        where no path joins them; 0 on the diagonal). Dijkstra from each place."""
        n = len(self.places)
        adj: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        for link in self.links:
            i, j = self._index[link.a], self._index[link.b]
            adj[i].append((j, link.distance_km))
            adj[j].append((i, link.distance_km))
        out = []
        for s in range(n):
            dist = [math.inf] * n
            dist[s] = 0.0
            heap = [(0.0, s)]
            while heap:
                d, i = heapq.heappop(heap)
                if d > dist[i]:
                    continue
                for j, w in adj[i]:
                    if d + w < dist[j]:
                        dist[j] = d + w
                        heapq.heappush(heap, (d + w, j))
            out.append(dist)
        return out

    def route(self, a: int, b: int) -> tuple[int, ...]:
        """The fastest route from place ``a`` to place ``b``: the indices of the links
        travelled, in order (by ``travel_hours``; among equally fast routes, the one
        Dijkstra settles first, visiting links in table order). Empty if a == b;
        ValueError if no route joins them."""
        if a == b:
            return ()
        if (a, b) not in self._routes:
            self._routes[(a, b)] = self._fastest(a, b)
        links = self._routes[(a, b)]
        if links is None:
            raise ValueError(f"no route joins {self.places[a].name!r} and {self.places[b].name!r}")
        return links

    def _fastest(self, a: int, b: int) -> tuple[int, ...] | None:
        """:meth:`route`, found by Dijkstra each time; None if no route joins them."""
        best = [math.inf] * len(self.places)
        via: list[tuple[int, int] | None] = [None] * len(self.places)
        best[a] = 0.0
        heap = [(0.0, a)]
        while heap:
            t, i = heapq.heappop(heap)
            if t > best[i]:
                continue
            if i == b:
                break
            for k, link in enumerate(self.links):
                ends = (self._index[link.a], self._index[link.b])
                if i not in ends:
                    continue
                j = ends[1] if ends[0] == i else ends[0]
                if t + link.travel_hours < best[j]:
                    best[j] = t + link.travel_hours
                    via[j] = (i, k)
                    heapq.heappush(heap, (best[j], j))
        if math.isinf(best[b]):
            return None
        links = []
        i = b
        while i != a:
            prev, k = via[i]  # type: ignore[misc]
            links.append(k)
            i = prev
        return tuple(reversed(links))


def country_tables(country: Country, by_location: bool = False) -> dict[str, list[dict[str, Any]]]:
    """A country as the tables it is read from: ``places`` (overrides by registry
    name, or ``section.key`` with ``by_location``) and ``links`` — what a manifest
    records and the dashboard's form carries as ``[[country.places]]``/``[[country.links]]``."""
    return {
        "places": [
            {
                "name": p.name,
                "region": p.region,
                "lat": p.lat,
                "lon": p.lon,
                "utc_offset": p.utc_offset,
                "population": p.population,
                **{(parameter(k).location if by_location else k): v for k, v in p.overrides},
            }
            for p in country.places
        ],
        "links": [
            {
                "from": k.a,
                "to": k.b,
                "mode": k.mode,
                "distance_km": k.distance_km,
                "travel_hours": k.travel_hours,
            }
            for k in country.links
        ],
    }


# -- sizes -----------------------------------------------------------------------------
def lattice_side(population: int, scale: float, citizen_density: float, min_side: int) -> int:
    """The side of a place's square lattice: ⌈√(population / scale / density)⌉ sites,
    at least ``min_side``."""
    if citizen_density <= 0:
        return min_side
    sites = population / scale / citizen_density
    return max(min_side, math.ceil(math.sqrt(sites)))


def place_params(base: Params, spec: PlaceSpec) -> Params:
    """A place's parameters: the scenario's, with the place's overrides and its
    lattice size (from its population, ``world.scale`` and ``world.min_side``, and
    at least 2·⌊vision⌋ + 1 so that no neighbourhood wraps onto itself)."""
    p = base.replace(**dict(spec.overrides)) if spec.overrides else base
    # never so small that a neighbourhood wraps onto itself
    reach = 2 * math.floor(max(p.citizens.vision, p.cops.vision)) + 1
    side = lattice_side(
        spec.population,
        base.world.scale,
        p.population.citizen_density,
        max(base.world.min_side, reach),
    )
    return p.replace(width=side, height=side)


# -- reading ---------------------------------------------------------------------------
def _number(where: str, row: str, column: str, text: Any, *, whole: bool = False) -> float:
    if isinstance(text, bool):
        raise CountryError(where, row, column, f"expected a number, got {text!r}")
    if isinstance(text, int | float):
        value = float(text)
    else:
        try:
            value = float(str(text).strip())
        except ValueError:
            raise CountryError(where, row, column, f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise CountryError(where, row, column, f"expected a finite number, got {text!r}")
    if whole and value != int(value):
        raise CountryError(where, row, column, f"expected a whole number, got {text!r}")
    return value


def _text(where: str, row: str, column: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CountryError(where, row, column, f"expected a non-empty name, got {value!r}")
    return value.strip()


def _overrides(where: str, row: str, extra: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    out: list[tuple[str, Any]] = []
    for column, raw in extra.items():
        try:
            spec = parameter(column)
        except KeyError:
            raise CountryError(
                where,
                row,
                column,
                "unknown column: a places table has "
                + ", ".join(PLACE_COLUMNS)
                + " and place-scoped parameters (e.g. legitimacy, cop_density)",
            ) from None
        if spec.scope != "place":
            raise CountryError(
                where,
                row,
                column,
                f"{spec.name} is one value for the whole country; it cannot differ by place",
            )
        if spec.name in ("width", "height"):
            raise CountryError(
                where, row, column, "a place's lattice size follows from its population"
            )
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue  # an empty cell: the scenario's value
        value = _cell_value(spec.kind, raw)
        try:
            value = check_value(spec, value)
        except ParameterError as e:
            raise CountryError(where, row, column, e.reason) from None
        if any(k == spec.name for k, _ in out):
            raise CountryError(where, row, column, f"{spec.name} is given twice")
        out.append((spec.name, value))
    return tuple(out)


def _cell_value(kind: str, raw: Any) -> Any:
    """A CSV cell as the parameter's kind (TOML values pass through)."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            return text
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "bool":
        return {"true": True, "false": False}.get(text.lower(), text)
    return text


def parse_places(rows: Iterable[tuple[str, dict[str, Any]]], where: str) -> tuple[PlaceSpec, ...]:
    """Places from (row label, {column: value}) pairs."""
    out: list[PlaceSpec] = []
    seen: dict[str, str] = {}
    for row, values in rows:
        missing = [c for c in PLACE_COLUMNS if c not in values]
        if missing:
            raise CountryError(where, row, missing[0], "missing")
        name = _text(where, row, "name", values["name"])
        if name in seen:
            raise CountryError(where, row, "name", f"{name!r} is already the name of {seen[name]}")
        seen[name] = row
        region = _text(where, row, "region", values["region"])
        lat = _number(where, row, "lat", values["lat"])
        if not -90 <= lat <= 90:
            raise CountryError(where, row, "lat", f"a latitude is in [-90, 90], got {lat:g}")
        lon = _number(where, row, "lon", values["lon"])
        if not -180 <= lon <= 180:
            raise CountryError(where, row, "lon", f"a longitude is in [-180, 180], got {lon:g}")
        utc = _number(where, row, "utc_offset", values["utc_offset"])
        if not -12 <= utc <= 14:
            raise CountryError(
                where, row, "utc_offset", f"an offset is in [-12, 14] h, got {utc:g}"
            )
        pop = _number(where, row, "population", values["population"], whole=True)
        if pop < 1:
            raise CountryError(where, row, "population", f"must be ≥ 1, got {int(pop)}")
        extra = {k: v for k, v in values.items() if k not in PLACE_COLUMNS}
        out.append(PlaceSpec(name, region, lat, lon, utc, int(pop), _overrides(where, row, extra)))
    if not out:
        raise CountryError(where, "", "", "no places")
    return tuple(out)


def parse_links(
    rows: Iterable[tuple[str, dict[str, Any]]], where: str, names: Sequence[str]
) -> tuple[LinkSpec, ...]:
    """Links from (row label, {column: value}) pairs, between the places ``names``."""
    known = set(names)
    out: list[LinkSpec] = []
    for row, values in rows:
        for c in values:
            if c not in LINK_COLUMNS:
                raise CountryError(
                    where, row, c, "unknown column: a links table has " + ", ".join(LINK_COLUMNS)
                )
        missing = [c for c in LINK_COLUMNS if c not in values]
        if missing:
            raise CountryError(where, row, missing[0], "missing")
        ends = []
        for c in ("from", "to"):
            name = _text(where, row, c, values[c])
            if name not in known:
                raise CountryError(where, row, c, f"no place {name!r} in the places table")
            ends.append(name)
        if ends[0] == ends[1]:
            raise CountryError(where, row, "to", f"a link joins two places; both are {ends[0]!r}")
        mode = str(values["mode"]).strip()
        if mode not in MODES:
            raise CountryError(
                where, row, "mode", f"expected one of {', '.join(MODES)}, got {values['mode']!r}"
            )
        km = _number(where, row, "distance_km", values["distance_km"])
        hours = _number(where, row, "travel_hours", values["travel_hours"])
        if km <= 0:
            raise CountryError(where, row, "distance_km", f"must be > 0, got {km:g}")
        if hours <= 0:
            raise CountryError(where, row, "travel_hours", f"must be > 0, got {hours:g}")
        out.append(LinkSpec(ends[0], ends[1], mode, km, hours))
    return tuple(out)


def csv_rows(path: Path, where: str) -> list[tuple[str, dict[str, Any]]]:
    """(``line N``, {column: cell}) for every data line of a CSV file with a header."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CountryError(where, "", "", f"cannot read: {e}") from None
    lines = text.splitlines()
    reader = csv.reader(lines)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise CountryError(where, "", "", "empty file: expected a header line") from None
    dup = [h for h in header if header.count(h) > 1]
    if dup:
        raise CountryError(where, "line 1", dup[0], "column given twice")
    out = []
    for n, cells in enumerate(reader, start=2):
        if not cells or all(not c.strip() for c in cells):
            continue
        if cells[0].lstrip().startswith("#"):
            continue
        if len(cells) != len(header):
            raise CountryError(
                where, f"line {n}", "", f"{len(cells)} cells for {len(header)} columns"
            )
        out.append((f"line {n}", dict(zip(header, cells, strict=True))))
    return out


def toml_rows(entries: Any, where: str, key: str) -> list[tuple[str, dict[str, Any]]]:
    """(``key[N]``, table) for a TOML list of tables."""
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CountryError(where, key, "", "expected a file name or a list of tables")
    return [(f"{key}[{n}]", dict(e)) for n, e in enumerate(entries, start=1)]


def read_country(
    places: Path | list[dict[str, Any]],
    links: Path | list[dict[str, Any]] | None = None,
    where: str = "<python>",
) -> Country:
    """A country from a places table and a links table, each a CSV path or a list of
    tables (as a TOML ``[[country.places]]`` gives them)."""
    if isinstance(places, Path):
        place_rows = csv_rows(places, str(places))
        place_where = str(places)
    else:
        place_rows = toml_rows(places, where, "country.places")
        place_where = where
    specs = parse_places(place_rows, place_where)
    link_specs: tuple[LinkSpec, ...] = ()
    if links is not None:
        if isinstance(links, Path):
            link_specs = parse_links(
                csv_rows(links, str(links)), str(links), [p.name for p in specs]
            )
        else:
            link_specs = parse_links(
                toml_rows(links, where, "country.links"), where, [p.name for p in specs]
            )
    return Country(places=specs, links=link_specs, source=where)


def check_country(country: Country, base: Params) -> None:
    """Validate every place's parameters (overrides included); CountryError names the
    place."""
    for spec in country.places:
        try:
            validate_params(place_params(base, spec))
        except ParameterError as e:
            raise CountryError(
                country.source, f"place {spec.name!r}", e.location, e.reason
            ) from None


def place_timeline(spec: PlaceSpec, timeline: Sequence[TimelineEvent]) -> PlaceTimeline:
    """The events of ``timeline`` that act in place ``spec`` (order kept), knowing the
    whole timeline (``.country``: the units every place must know)."""
    return PlaceTimeline((e for e in timeline if applies_to(e, spec.name, spec.region)), timeline)


def check_targets(country: Country, base: Params, timeline: Sequence[TimelineEvent]) -> None:
    """Check a country's timeline: targets name a place or region of the country, a
    country-wide parameter is not targeted, and every place's events fit that place
    (its lattice, its mechanisms). Raises TimelineError (index as given) or
    CountryError (a place's overrides)."""
    check_country(country, base)
    names, regions = set(country.names), set(country.regions)
    for n, e in enumerate(timeline, start=1):
        if e.place and e.place not in names:
            raise TimelineError(
                n, "place", f"no place {e.place!r} in the country ({_listed(country.names)})"
            )
        if e.region and e.region not in regions:
            raise TimelineError(
                n, "region", f"no region {e.region!r} in the country ({_listed(country.regions)})"
            )
        if isinstance(e, ActionEvent):
            _check_places_of(country, n, e)
        if (e.place or e.region) and not isinstance(e, ActionEvent):
            if parameter(e.param).scope != "place":
                raise TimelineError(
                    n,
                    "place" if e.place else "region",
                    f"{e.param} is one value for the whole country; it cannot target a place",
                )
    for spec in country.places:
        mine = [n for n, e in enumerate(timeline, start=1) if applies_to(e, spec.name, spec.region)]
        try:
            check_timeline(place_params(base, spec), [timeline[n - 1] for n in mine])
        except TimelineError as e:
            raise TimelineError(mine[e.index - 1], e.key, f"in {spec.name}: {e.reason}") from None
    check_country_timeline(base, timeline)


def _check_places_of(country: Country, n: int, e: ActionEvent) -> None:
    """An action that acts from one place names it, and the places its keys name
    exist and can be reached from it."""
    from upheaval.model.mechanisms import action_specs

    spec = action_specs()[e.action]
    if spec.needs_place and not e.place:
        raise TimelineError(n, "place", f'{e.action!r} acts from one place: say place = "…"')
    for key, declared in spec.keys.items():
        if declared.kind != "place":
            continue
        name = getattr(e, key)
        if name not in country.names:
            raise TimelineError(
                n, key, f"no place {name!r} in the country ({_listed(country.names)})"
            )
        if e.place:
            try:
                country.route(country.index(e.place), country.index(name))
            except ValueError as err:
                raise TimelineError(n, key, str(err)) from None


def _listed(names: Sequence[str], most: int = 8) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


__all__ = [
    "LINK_COLUMNS",
    "MODES",
    "PLACE_COLUMNS",
    "Country",
    "CountryError",
    "LinkSpec",
    "PlaceSpec",
    "check_country",
    "check_targets",
    "country_tables",
    "lattice_side",
    "place_params",
    "place_timeline",
    "read_country",
]
