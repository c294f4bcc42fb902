"""Build the built-in preset ``kazakhstan-2022`` from the kz2022 data set.

    python scripts/kz2022_preset.py ../shared/data/kz2022            # write
    python scripts/kz2022_preset.py ../shared/data/kz2022 --check    # compare

reads ``cities.csv``, ``events.csv`` and ``links.csv`` of the data folder (its
README explains every column) and writes, under
``src/upheaval/scenario/presets/``:

* ``kazakhstan-2022/places.csv``   one row per place of cities.csv;
* ``kazakhstan-2022/links.csv``    one row per link and mode;
* ``kazakhstan-2022/observed.json``  what happened (first protests, deaths,
  detentions, buildings seized, the end), the target of
  :mod:`upheaval.experiments.scoring`;
* ``kazakhstan-2022/SOURCES.md``   what came from where, every imputation;
* ``kazakhstan-2022.toml``         the scenario, every value a named constant of
  this script with the events.csv row it comes from;
* ``kz2022-almaty.toml``           the place Almaty of that scenario alone: its
  parameters and the timeline entries that act there, less what only a country of
  many places has (ONE_PLACE, COUNTRY_ONLY).

The output is a pure function of the data folder and the constants below: running
twice gives the same bytes. ``--check`` writes nothing and exits 1 when a committed
file differs from what it would write (tests/country/test_kz2022_preset.py).
A bad input is one line naming the file, line and column, exit 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
import textwrap
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from upheaval.model.timeline import applies_to

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ROOT / "src" / "upheaval" / "scenario" / "presets"
NAME = "kazakhstan-2022"

# ---------------------------------------------------------------------------
# Modelling constants. Each is a choice, documented in SOURCES.md; none is fitted.
# ---------------------------------------------------------------------------

#: People of a place whose population the data does not give (Shu, Kandyagash,
#: Makat, Zhetybai, Akshukur, the Tengiz site). Not a sourced figure: the order of
#: size of a district town; flagged in observed.json (``imputed``) and SOURCES.md.
IMPUTED_POPULATION = 10_000
#: Beyneu's cell says ">=50,000": the lower bound is used (flagged).
LOWER_BOUND_POPULATION_NOTE = "lower bound of '>=50,000'"
#: Coordinates for the two places without any (cities.csv: blank). Zhetybai lies
#: on the Zhanaozen-Zhetybai-Aktau road (links.csv row 1 names it): the midpoint
#: of those two towns. Kaskelen lies in Almaty's agglomeration (compiler's
#: general knowledge, unsourced): Almaty's point.
IMPUTED_COORDINATES = {
    "Zhetybai": ("midpoint", "Zhanaozen", "Aktau"),
    "Kaskelen": ("same", "Almaty", ""),
}
#: Links the data lacks for places it names on a corridor but does not link
#: (SOURCES.md's link table; distance great-circle × detour factor).
IMPUTED_LINKS = (
    ("Zhanaozen", "Zhetybai", "road", "links.csv row 1: Zhanaozen-Zhetybai-Aktau road"),
    ("Zhetybai", "Aktau", "road", "links.csv row 1: Zhanaozen-Zhetybai-Aktau road"),
    ("Kaskelen", "Almaty", "road", "Kaskelen in Almaty's agglomeration (unsourced)"),
)
#: Average speeds (km/h) of forces moving along a link. Assumptions, not sourced:
#: a convoy on winter steppe roads, a military train, a transport aircraft.
SPEED_KMH = {"road": 60.0, "rail": 40.0, "air": 600.0}
#: A documented distance marked as a whole section (not this link alone) is not
#: the link's distance (links.csv notes "whole section"); it is not used.
WHOLE_SECTION = "whole section"
#: Local hour assumed for an event known only by its local date: noon, the middle
#: of the day, so the error is at most ±12 h; observed.json keeps the whole day as
#: the window [00:00, 24:00) local, in UTC.
DATE_ONLY_LOCAL_HOUR = 12
#: Event types that count as a protest at a place for its first-protest time.
PROTEST_TYPES = (
    "protest_start",
    "protest",
    "road_blockade",
    "rail_blockade",
    "riot",
    "strike",
    "building_seized",
    "arson",
)

# Scenario values -------------------------------------------------------------

#: 00:00 on 2 January in Nur-Sultan time (UTC+6): the first local midnight after
#: the LPG price rise of 1 January (events.csv row 1) before the first protest
#: (Zhanaozen, morning of 2 January, row 3).
RUN_START = datetime(2022, 1, 1, 18, 0, tzinfo=UTC)
TICK_MINUTES = 60
#: 21 days: past the end of the state of emergency (00:00 19 Jan local, row
#: "state_of_emergency_lifted" 2022-01-18T18:00Z) and the last CSTO flight (19 Jan).
RUN_DAYS = 21
#: People per agent (docs/places.md); 1:100 runs the 36 places in seconds a day.
WORLD_SCALE = 100.0
#: The parameters the calibration fits (scripts/kz2022_calibration.py; issue 10 §2):
#: key → (low, high) of the uniform prior, and why that range. The preset carries
#: the posterior medians of docs/kazakhstan_calibration.json when it exists, and the
#: prior's centre otherwise; no value is set by hand to reach an outcome.
FITTED: dict[str, tuple[float, float, str]] = {
    "citizens.legitimacy": (
        0.84,
        0.92,
        "around the classic runs' 0.82-0.89; above 0.9 no grievance H(1-L) can "
        "exceed the threshold 0.1 without the shock",
    ),
    "population.cop_density": (
        0.02,
        0.08,
        "half to twice the classic runs' 0.04 (police per capita is not in the data)",
    ),
    "information.elsewhere_weight": (
        0.0,
        8.0,
        "0: places do not hear of each other; up to 8 as-if-seen actives per unit "
        "of density heard (a wide, unmeasured range)",
    ),
    "information.news_half_life": (
        1.0,
        120.0,
        "from the hour's news only to memory over five days",
    ),
    "information.national_share": (0.0, 1.0, "all distance-decaying to all national"),
    "jail.max_jail_term": (
        24.0,
        720.0,
        "a day to a month, in one-hour ticks (the data give no terms; detainees were "
        "held from hours to weeks)",
    ),
    "information.decay_km": (
        50.0,
        2000.0,
        "neighbouring towns to half the country (Zhanaozen-Almaty ~2,000 km by road)",
    ),
}
#: Where the posterior lives (written by scripts/kz2022_calibration.py).
CALIBRATION_JSON = ROOT / "docs" / "kazakhstan_calibration.json"
#: Ticks each place plays before the clock starts (run.burn_in): three days,
#: long enough for the opening burst of an all-quiet start to pass (docs/kazakhstan.md).
BURN_IN_TICKS = 72


def fitted_values() -> tuple[dict[str, float], str]:
    """The fitted parameters' values in the preset, and where they come from."""
    if CALIBRATION_JSON.exists():
        doc = json.loads(CALIBRATION_JSON.read_text("utf-8"))
        post = doc["posterior"]["parameters"]
        if sorted(post) == sorted(FITTED):
            return (
                {k: float(post[k]["median"]) for k in FITTED},
                "posterior median, docs/kazakhstan_calibration.json",
            )
    return (
        {k: round((lo + hi) / 2, 6) for k, (lo, hi, _) in FITTED.items()},
        "prior centre (no calibration yet)",
    )


#: The LPG price in Mangystau went from 60 to 120 tenge/L (row 1): hardship of
#: Mangystau's citizens is multiplied by the price ratio (a modelling assumption:
#: hardship proportional to the fuel price; to be calibrated).
LPG_PRICE_BEFORE = 60.0
LPG_PRICE_AFTER = 120.0
#: The news's fixed part: no broadcast of a place's own actives (its citizens see
#: their streets); what places hear of each other is fitted (FITTED).
NEWS = {"actives_weight": 0.0}
#: ΔL of each concession (government dismissed 5 Jan; regional price caps 6 Jan).
#: Hand-set, not fitted yet.
CONCESSION_LEGITIMACY = 0.02
#: The CSTO: 2,030 troops (Tokayev, row "csto_summit" 10 Jan; README: prefer
#: 2,030), guarding strategic sites in Almaty and Nur-Sultan; the split between
#: the two cities is not in the data: half each (assumption).
CSTO_TROOPS = 2030
CSTO_ALMATY_SHARE = 0.5
#: The shoot-without-warning order of 7 January (row "shoot_to_kill_order"): the
#: probability that an arrest is a killing, from 0 (default) to this value.
#: Hand-set, to be calibrated.
SHOOT_TO_KILL_PROBABILITY = 0.01


#: The place of the country that the preset ONE_PLACE_PRESET plays alone (issue 10
#: §4: the one-city illustration becomes one place of the calibrated country).
ONE_PLACE = "Almaty"
ONE_PLACE_PRESET = "kz2022-almaty"
#: What the one-place preset leaves out of the country's parameters: the news from
#: other places, which a place alone does not hear (the engine reads them only in a
#: country of several places, docs/odd.md §7.20). Transport (forces travelling along
#: the links) is left out with them: one place has no links.
COUNTRY_ONLY = (
    "information.elsewhere_weight",
    "information.news_half_life",
    "information.national_share",
    "information.decay_km",
)
#: Timeline actions that act between places (docs/odd.md §12.2): left out of the
#: one-place preset.
COUNTRY_ONLY_ACTIONS = ("send",)


class DataError(ValueError):
    """A bad cell of the data: file, line, column, reason (one line)."""

    def __init__(self, file: str, line: int, column: str, reason: str):
        super().__init__(f"{file}: line {line}, column '{column}': {reason}")


@dataclass(frozen=True)
class City:
    name: str
    source_name: str
    region: str
    utc_offset: int
    lat: float
    lon: float
    population: int
    population_note: str
    coordinates_note: str
    protest: str  # yes / unknown / no
    protest_evidence: str
    first_date: date | None
    line: int


@dataclass(frozen=True)
class Event:
    line: int
    day: date
    utc: datetime | None
    city: str
    region: str
    kind: str
    description: str
    size: str
    reliability: str


def short_name(name: str) -> str:
    """The place's name in the preset: cities.csv's English name without its
    parenthesis ("Oral (Uralsk)" → "Oral"); events.csv's "(village)" and
    "oil field" dropped ("Tengiz oil field" → "Tengiz")."""
    name = re.sub(r"\s*\(.*?\)\s*", " ", name).strip()
    return re.sub(r"\s+oil field$", "", name)


def short_region(region: str) -> str:
    """ "Mangystau Region" → "Mangystau"; "Almaty (city of republican
    significance)" → "Almaty city" (events.csv's spelling)."""
    if "(city of republican significance)" in region:
        return region.split(" (")[0] + " city"
    return region.removesuffix(" Region").strip()


def _rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise DataError(path.name, 0, "", "no such file")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        out = []
        for row in reader:
            out.append((reader.line_num, row))
    return out


def _float(file: str, line: int, column: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise DataError(file, line, column, f"expected a number, got {text!r}") from None


def read_cities(folder: Path) -> list[City]:
    rows = _rows(folder / "cities.csv")
    raw = {short_name(r["name_en"]): (n, r) for n, r in rows}
    coords: dict[str, tuple[float, float]] = {}
    for name, (n, r) in raw.items():
        if r["latitude"] and r["longitude"]:
            coords[name] = (
                _float("cities.csv", n, "latitude", r["latitude"]),
                _float("cities.csv", n, "longitude", r["longitude"]),
            )
    cities = []
    for name, (n, r) in raw.items():
        m = re.fullmatch(r"UTC([+-]\d+)", r["utc_offset_jan2022"].strip())
        if not m:
            raise DataError("cities.csv", n, "utc_offset_jan2022", "expected UTC+N")
        if name in coords:
            lat, lon = coords[name]
            cnote = "cities.csv"
        elif name in IMPUTED_COORDINATES:
            how, a, b = IMPUTED_COORDINATES[name]
            if how == "midpoint":
                lat = round((coords[a][0] + coords[b][0]) / 2, 5)
                lon = round((coords[a][1] + coords[b][1]) / 2, 5)
                cnote = f"imputed: midpoint of {a} and {b}"
            else:
                lat, lon = coords[a]
                cnote = f"imputed: {a}'s coordinates"
        else:
            raise DataError("cities.csv", n, "latitude", "blank, and no imputation rule")
        pop_text = r["population"].replace(",", "").strip()
        if re.fullmatch(r"\d+", pop_text):
            pop, pnote = int(pop_text), f"cities.csv ({r['population_year']})"
        elif m2 := re.fullmatch(r">=(\d+)", pop_text):
            pop, pnote = int(m2.group(1)), f"imputed: {LOWER_BOUND_POPULATION_NOTE}"
        elif not pop_text:
            pop, pnote = IMPUTED_POPULATION, "imputed: IMPUTED_POPULATION (not given)"
        else:
            raise DataError("cities.csv", n, "population", f"unreadable {r['population']!r}")
        status = r["protests_jan2022"].strip()
        if status.startswith("yes"):
            protest = "yes"
            evidence = "weak" if "single" in status else "reported"
        elif status.startswith("no"):
            protest, evidence = "no", ""
        elif status == "unknown":
            protest, evidence = "unknown", ""
        else:
            raise DataError("cities.csv", n, "protests_jan2022", f"unreadable {status!r}")
        first = r["first_protest_date_local"].strip()
        cities.append(
            City(
                name=name,
                source_name=r["name_en"],
                region=short_region(r["region_jan2022"]),
                utc_offset=int(m.group(1)),
                lat=lat,
                lon=lon,
                population=pop,
                population_note=pnote,
                coordinates_note=cnote,
                protest=protest,
                protest_evidence=evidence,
                first_date=date.fromisoformat(first) if first else None,
                line=n,
            )
        )
    return cities


def read_events(folder: Path) -> list[Event]:
    out = []
    for n, r in _rows(folder / "events.csv"):
        try:
            day = date.fromisoformat(r["date"])
        except ValueError:
            raise DataError("events.csv", n, "date", f"not a date: {r['date']!r}") from None
        utc = None
        if r["time_utc_if_known"].strip():
            t = r["time_utc_if_known"].strip().replace("Z", "+00:00")
            try:
                utc = datetime.fromisoformat(t).astimezone(UTC)
            except ValueError:
                raise DataError(
                    "events.csv", n, "time_utc_if_known", f"not a time: {t!r}"
                ) from None
        out.append(
            Event(
                n,
                day,
                utc,
                short_name(r["city"]),
                r["region"],
                r["event_type"],
                r["description"],
                r["size_estimate"],
                r["reliability"].split(" ")[0].strip(";,"),
            )
        )
    return out


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance, R = 6371 km (as links.csv's great_circle_km)."""
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _documented_mode(note: str, modes: list[str]) -> str | None:
    """Which mode a documented distance measures: the note says road/driving or rail."""
    low = note.lower()
    if "rail" in low and "rail" in modes:
        return "rail"
    if ("road" in low or "driving" in low) and "road" in modes:
        return "road"
    return None


def detour_factor(folder: Path) -> tuple[float, list[str]]:
    """The median ratio of documented to great-circle distance over links.csv rows
    with a usable documented distance (not a whole section): the factor that turns
    a great-circle distance into a travel distance where none is documented."""
    ratios, used = [], []
    for n, r in _rows(folder / "links.csv"):
        doc = r["documented_distance_km"].strip()
        if not doc or WHOLE_SECTION in r["documented_distance_note"]:
            continue
        gc = _float("links.csv", n, "great_circle_km", r["great_circle_km"])
        d = _float("links.csv", n, "documented_distance_km", doc)
        ratios.append(d / gc)
        used.append(f"{r['from_city']}–{r['to_city']} {d:g}/{gc:g} = {d / gc:.3f} (line {n})")
    ratios.sort()
    k = len(ratios)
    median = ratios[k // 2] if k % 2 else (ratios[k // 2 - 1] + ratios[k // 2]) / 2
    return round(median, 3), used


def build_links(folder: Path, cities: list[City], detour: float) -> list[dict[str, str]]:
    where = {c.name: (c.lat, c.lon) for c in cities}
    out = []

    def add(a: str, b: str, mode: str, km: float, basis: str, source: str) -> None:
        hours = km / SPEED_KMH[mode]
        out.append(
            {
                "from": a,
                "to": b,
                "mode": mode,
                "distance_km": f"{km:.0f}",
                "travel_hours": f"{hours:.2f}",
                "basis": basis,
                "source": source,
            }
        )

    for n, r in _rows(folder / "links.csv"):
        a, b = short_name(r["from_city"]), short_name(r["to_city"])
        for end, col in ((a, "from_city"), (b, "to_city")):
            if end not in where:
                raise DataError("links.csv", n, col, f"no place {end!r} in cities.csv")
        modes = [m.strip() for m in r["mode"].split("+")]
        for m in modes:
            if m not in SPEED_KMH:
                raise DataError("links.csv", n, "mode", f"unknown mode {m!r}")
        gc = _float("links.csv", n, "great_circle_km", r["great_circle_km"])
        doc = r["documented_distance_km"].strip()
        doc_mode = None
        if doc and WHOLE_SECTION not in r["documented_distance_note"]:
            doc_mode = _documented_mode(r["documented_distance_note"], modes)
        for m in sorted(modes, key=("road", "rail", "air").index):
            if m == doc_mode:
                add(a, b, m, float(doc), "documented", f"links.csv line {n}")
            elif m == "air":
                add(a, b, m, gc, "great-circle", f"links.csv line {n}")
            else:
                add(a, b, m, gc * detour, "great-circle × detour", f"links.csv line {n}")
    for a, b, m, why in IMPUTED_LINKS:
        gc = haversine_km(where[a], where[b])
        add(a, b, m, max(gc, 1.0) * detour, "imputed: great-circle × detour", why)
    return out


def local_noon_utc(day: date, offset: int) -> datetime:
    return datetime(day.year, day.month, day.day, DATE_ONLY_LOCAL_HOUR, tzinfo=UTC) - timedelta(
        hours=offset
    )


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%MZ")


def first_protests(cities: list[City], events: list[Event]) -> dict[str, dict]:
    """Each place's first protest (module docstring of SOURCES.md: the rule)."""
    out: dict[str, dict] = {}
    for c in cities:
        rows = [e for e in events if e.city == c.name and e.kind in PROTEST_TYPES]
        timed = [e for e in rows if e.utc is not None]
        undated = [e for e in rows if e.utc is None]
        first = min(timed, key=lambda e: e.utc) if timed else None  # type: ignore[arg-type,return-value]
        early = min(undated, key=lambda e: e.day) if undated else None
        imputed = [
            what
            for what, note in (
                ("population", c.population_note),
                ("coordinates", c.coordinates_note),
            )
            if note.startswith("imputed")
        ]
        entry: dict = {
            "protest": c.protest,
            "evidence": c.protest_evidence,
            "population": c.population,
            "lat": c.lat,
            "lon": c.lon,
            "imputed": imputed,
        }
        if first is not None and (early is None or early.day >= first.day):
            assert first.utc is not None
            entry.update(
                first_protest_utc=iso(first.utc),
                basis="utc",
                window_utc=[iso(first.utc), iso(first.utc)],
                source=f"events.csv line {first.line} ({first.kind}, {first.reliability})",
            )
        elif early is not None or c.first_date is not None:
            if early is not None:
                day, src = (
                    early.day,
                    f"events.csv line {early.line} ({early.kind}, {early.reliability})",
                )
            else:
                assert c.first_date is not None
                day, src = c.first_date, f"cities.csv line {c.line} (first_protest_date_local)"
            t = local_noon_utc(day, c.utc_offset)
            lo = t - timedelta(hours=DATE_ONLY_LOCAL_HOUR)
            entry.update(
                first_protest_utc=iso(t),
                basis="local-date-noon",
                window_utc=[iso(lo), iso(lo + timedelta(hours=24))],
                source=src,
            )
        else:
            entry.update(first_protest_utc=None, basis=None, window_utc=None, source=None)
        out[c.name] = entry
    return out


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def national(events: list[Event]) -> dict:
    deaths, detained, seized = [], [], []
    for e in events:
        when = iso(e.utc) if e.utc else e.day.isoformat()
        if e.kind == "deaths":
            total = re.match(r"~?(\d[\d,]*)\s*(?:killed|dead|\(|$)", e.size)
            sec = re.search(r"(\d[\d,]*) security", e.size)
            deaths.append(
                {
                    "date": when,
                    "place": e.city if e.city != "national" else "national",
                    "total": _int(total.group(1)) if total else None,
                    "security": _int(sec.group(1)) if sec else None,
                    "source": f"events.csv line {e.line} ({e.reliability})",
                }
            )
        elif e.kind == "arrests" and (e.city == "national" or "nationwide" in e.size):
            m = re.match(r"[~>]?(\d[\d,]*)(?:\+)?(?:-(\d[\d,]*))?", e.size)
            if not m:
                continue
            lo = _int(m.group(1))
            hi = _int(m.group(2)) if m.group(2) else lo
            detained.append(
                {
                    "date": when,
                    "low": lo,
                    "high": hi,
                    "source": f"events.csv line {e.line} ({e.reliability})",
                }
            )
        elif e.kind == "building_seized":
            seized.append(
                {
                    "date": when,
                    "place": e.city,
                    "what": e.description.split(";")[0][:120],
                    "source": f"events.csv line {e.line} ({e.reliability})",
                }
            )
    end = [e for e in events if e.kind == "end_of_unrest"]
    lifted = [e for e in events if e.kind == "state_of_emergency_lifted" and e.city == "national"]
    ends = [e for e in events if e.kind == "protest_end"]
    final = [d for d in deaths if d["date"] >= "2022-12"]
    return {
        "deaths": {
            "total": final[-1]["total"] if final else None,
            "security": 19,
            "note": "238 (official figure cited Dec 2022, events.csv); 19 security (15 Jan, final)",
            "series": deaths,
        },
        "detained": detained,
        "buildings_seized": seized,
        "end": {
            "end_of_unrest_utc": iso(end[0].utc) if end and end[0].utc else None,
            "end_source": f"events.csv line {end[0].line}" if end else None,
            "state_of_emergency_lifted_utc": (
                iso(lifted[0].utc) if lifted and lifted[0].utc else None
            ),
            "protest_end": [
                {
                    "place": e.city,
                    "date": iso(e.utc) if e.utc else e.day.isoformat(),
                    "source": f"events.csv line {e.line}",
                }
                for e in ends
            ],
        },
    }


def find(events: list[Event], kind: str, city: str | None = None) -> Event:
    for e in events:
        if e.kind == kind and (city is None or e.city == city):
            return e
    raise DataError("events.csv", 0, "event_type", f"no {kind!r} row for {city or 'any place'}")


def when(e: Event, offset: int = 6) -> datetime:
    """An event's clock time: its UTC time, else local noon of its date (decrees:
    Nur-Sultan time, UTC+6, README)."""
    return e.utc if e.utc is not None else local_noon_utc(e.day, offset)


def toml_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


#: One timeline entry of a preset: its comment, its time (UTC) and its TOML lines.
Entry = tuple[str, datetime, list[str]]


def timeline_entries(events: list[Event], regions_of_places: list[str]) -> list[Entry]:
    """The country's ``[[timeline]]`` entries, in file order, each citing its
    events.csv line."""
    shock = find(events, "price_increase")
    rollback = find(events, "price_rollback", "Aktau")
    dismissed = find(events, "government_dismissed")
    caps = next(e for e in events if e.kind == "price_rollback" and e.day == date(2022, 1, 6))
    blackout = next(
        e
        for e in events
        if e.kind == "internet_shutdown" and e.city == "national" and e.day == date(2022, 1, 5)
    )
    aktau_back = find(events, "internet_restored", "Aktau")
    almaty_back = find(events, "internet_restored", "Almaty")
    m = re.search(r"(\d+) hours", almaty_back.description) or re.search(
        r"(\d+) h", almaty_back.size
    )
    if not m:
        raise DataError("events.csv", almaty_back.line, "size_estimate", "no blackout hours")
    blackout_hours = int(m.group(1))
    assert blackout.utc is not None
    restored = blackout.utc + timedelta(hours=blackout_hours)
    arrival = find(events, "csto_arrival", "Almaty")
    arrivals = [e for e in events if e.kind == "csto_arrival"]
    second = arrivals[1]
    kill = find(events, "shoot_to_kill_order")
    withdrawal = find(events, "csto_withdrawal")
    summit = find(events, "csto_summit")
    almaty_count = round(CSTO_TROOPS * CSTO_ALMATY_SHARE / WORLD_SCALE)
    capital_count = round(CSTO_TROOPS * (1 - CSTO_ALMATY_SHARE) / WORLD_SCALE)
    factor = LPG_PRICE_AFTER / LPG_PRICE_BEFORE
    out: list[Entry] = []

    def entry(comment: str, t: datetime, body: list[str]) -> None:
        out.append((comment, t, body))

    entry(
        f"events.csv line {shock.line}: LPG cap lifted 1 Jan, Mangystau {LPG_PRICE_BEFORE:g} -> "
        f"{LPG_PRICE_AFTER:g} tenge/L; hardship x price ratio (at the run's start)",
        RUN_START,
        ['action = "shock"', f"factor = {factor:g}", 'region = "Mangystau"'],
    )
    entry(
        f"events.csv line {rollback.line}: 4 Jan, LPG at 50 tenge/L in Mangystau "
        "(below the old 60: a full rollback); local date, noon UTC+5",
        when(rollback, 5),
        ['action = "rollback"', "share = 1.0", 'region = "Mangystau"'],
    )
    entry(
        f"events.csv line {dismissed.line}: 5 Jan, the government resigns (decree, noon "
        f"UTC+6); CONCESSION_LEGITIMACY hand-set",
        when(dismissed),
        ['action = "concession"', f"legitimacy = {CONCESSION_LEGITIMACY}"],
    )
    entry(
        f"events.csv line {caps.line}: 6 Jan, 180-day LPG caps by region (noon UTC+6); "
        "CONCESSION_LEGITIMACY hand-set",
        when(caps),
        ['action = "concession"', f"legitimacy = {CONCESSION_LEGITIMACY}"],
    )
    entry(
        f"events.csv line {blackout.line}: 5 Jan {iso(blackout.utc)}, nationwide blackout",
        blackout.utc,
        ['action = "shutdown"'],
    )
    entry(
        f"events.csv line {aktau_back.line}: 6 Jan, fixed internet back in some regions "
        "incl. Aktau (noon UTC+5)",
        when(aktau_back, 5),
        ['action = "restore"', 'place = "Aktau"'],
    )
    entry(
        f"events.csv line {almaty_back.line}: Almaty back early 10 Jan after {blackout_hours} h "
        f"(= blackout + {blackout_hours} h); other cities staggered until 10 Jan (CCDCOE): "
        "restored everywhere then",
        restored,
        ['action = "restore"'],
    )
    entry(
        f"events.csv line {arrival.line}: first CSTO aircraft in Almaty; {CSTO_TROOPS} troops "
        f"(line {summit.line}) x CSTO_ALMATY_SHARE {CSTO_ALMATY_SHARE} / scale {WORLD_SCALE:g}",
        arrival.utc or when(arrival),
        [
            'action = "reinforce"',
            'place = "Almaty"',
            f"count = {almaty_count}",
            'unit = "csto"',
            'mode = "guard"',
            'origin = "foreign"',
        ],
    )
    entry(
        f"events.csv line {second.line}: 7 Jan, units flown in around the clock (noon "
        f"UTC+6); the other half guards Nur-Sultan (assumption: no arrival time in the data)",
        when(second),
        [
            'action = "reinforce"',
            'place = "Nur-Sultan"',
            f"count = {capital_count}",
            'unit = "csto"',
            'mode = "guard"',
            'origin = "foreign"',
        ],
    )
    entry(
        f"events.csv line {kill.line}: 7 Jan, the order to shoot without warning (noon "
        "UTC+6); SHOOT_TO_KILL_PROBABILITY hand-set",
        when(kill),
        [f'set = {{ "lethal_force.probability" = {SHOOT_TO_KILL_PROBABILITY} }}'],
    )
    for place in ("Almaty", "Nur-Sultan"):
        entry(
            f"events.csv line {withdrawal.line}: 13 Jan, the CSTO hands the guarded sites to "
            "Kazakh forces and begins to leave (noon UTC+6)",
            when(withdrawal),
            ['action = "withdraw"', 'unit = "csto"', f'place = "{place}"'],
        )
    for e, t, action, regions in emergencies(events, regions_of_places):
        body = [f'action = "{action}"']
        if action == "emergency":
            start, end = curfew_hours(e)
            body += [f"curfew_from = {start}", f"curfew_to = {end}"]
        what = "state of emergency" if action == "emergency" else "state of emergency lifted"
        for region in regions:
            entry(
                f"events.csv line {e.line}: {what} in {region}"
                + ("" if e.utc else " (date only: noon UTC+6)"),
                t,
                [*body, f'region = "{region}"'],
            )
    return out


def render_entries(entries: list[Entry]) -> list[str]:
    """The ``[[timeline]]`` tables of ``entries``, each after a blank line and its
    comment (a time before the run's start acts at the start)."""
    L = []
    for comment, t, body in entries:
        L += ["", f"# {comment}", "[[timeline]]", f"time = {toml_time(max(t, RUN_START))}", *body]
    return L


def parameter_lines(one_place: bool = False) -> list[str]:
    """The ``[population]``, ``[citizens]``, ``[jail]`` and ``[information]`` tables:
    the fitted values and the news's fixed part; ``one_place`` leaves out
    COUNTRY_ONLY."""
    fitted, fitted_from = fitted_values()
    sections: dict[str, list[str]] = {}
    for key, value in fitted.items():
        if one_place and key in COUNTRY_ONLY:
            continue
        sec, name = key.split(".")
        lo, hi, _ = FITTED[key]
        sections.setdefault(sec, []).append(
            f"{name} = {value:.6g}  # fitted: {fitted_from}; prior {lo:g}-{hi:g}"
        )
    sections["information"] = [
        "enabled = true  # the news (docs/odd.md §12.1)",
        *(f"{k} = {v}" for k, v in NEWS.items()),
        *sections.get("information", []),
    ]
    L = []
    for sec in ("population", "citizens", "jail", "information"):
        L += [f"[{sec}]", *sections[sec], ""]
    return L


def run_lines() -> list[str]:
    steps = RUN_DAYS * 24 * 60 // TICK_MINUTES
    return [
        "[run]",
        f"steps = {steps}  # RUN_DAYS = {RUN_DAYS}, "
        f"to {toml_time(RUN_START + timedelta(days=RUN_DAYS))}",
        f"start = {toml_time(RUN_START)}  # RUN_START: 00:00 2 Jan, Nur-Sultan time (UTC+6)",
        f"tick_minutes = {TICK_MINUTES}",
        f"burn_in = {BURN_IN_TICKS}  # BURN_IN_TICKS: each place settles before the clock starts",
        "seed = 1",
    ]


def build_toml(events: list[Event], regions_of_places: list[str]) -> str:
    fitted_from = fitted_values()[1]
    L = [
        "# Kazakhstan, January 2022: 36 places from the sourced kz2022 data set.",
        "# GENERATED by scripts/kz2022_preset.py from shared/data/kz2022 — do not edit;",
        "# change the script's constants and rerun it (tests/country/test_kz2022_preset.py",
        "# checks that this file equals what the script writes).",
        "#",
        "# Times come from events.csv (cited by line below). The parameters marked",
        "# 'fitted' are calibrated by scripts/kz2022_calibration.py (docs/kazakhstan.md):",
        f"# here {fitted_from}. Values marked 'hand-set' are the script's named constants,",
        "# chosen before any run and not fitted yet. Where and how the places, links and",
        "# imputations come from: kazakhstan-2022/SOURCES.md. The observations the scores",
        "# compare against: kazakhstan-2022/observed.json. Not modelled yet: key sites,",
        "# strikes of the oil workers and the rail blockade.",
        "",
        "[scenario]",
        f'name = "{NAME}"',
        'description = "Kazakhstan, 2-22 January 2022: 36 places, news, travelling forces, '
        "states of emergency, the dated timeline of kz2022 "
        f'({"calibrated" if fitted_from.startswith("posterior") else "not calibrated"})"',
        "",
        "[country]",
        f'places = "{NAME}/places.csv"  # cities.csv, one row a place (SOURCES.md)',
        f'links = "{NAME}/links.csv"  # links.csv, one row a mode (SOURCES.md)',
        "",
        "[world]",
        f"scale = {WORLD_SCALE}  # WORLD_SCALE: people per agent",
        "",
        *parameter_lines(),
        "[transport]",
        "enabled = true  # forces travel along links.csv (docs/odd.md §12.2)",
        "",
        *run_lines(),
        *render_entries(timeline_entries(events, regions_of_places)),
    ]
    return "\n".join(L) + "\n"


def acts_in(body: list[str], city: City) -> bool:
    """Whether a timeline entry acts in ``city``, by the engine's rule
    (upheaval.model.timeline.applies_to) on the entry's ``place`` and ``region``."""
    keys = dict(line.partition(" = ")[::2] for line in body)
    target = SimpleNamespace(
        place=keys.get("place", "").strip('"'), region=keys.get("region", "").strip('"')
    )
    return applies_to(target, city.name, city.region)


def is_country_only(body: list[str]) -> bool:
    """Whether an entry is an action that only a country of many places can take."""
    return any(line == f'action = "{a}"' for a in COUNTRY_ONLY_ACTIONS for line in body)


def comment_block(*paragraphs: str, width: int = 84) -> list[str]:
    """TOML comment lines: each paragraph wrapped at ``width``."""
    return [f"# {line}" for par in paragraphs for line in textwrap.wrap(par, width - 2)]


def kinds(entries: list[Entry]) -> str:
    """How many entries of each action ("set" for a parameter change), in first
    appearance order: "12 emergency, 1 shock"."""
    counts: dict[str, int] = {}
    for _, _, body in entries:
        action = next((b.split('"')[1] for b in body if b.startswith("action = ")), "set")
        counts[action] = counts.get(action, 0) + 1
    return ", ".join(f"{n} {a}" for a, n in counts.items())


def build_place_toml(events: list[Event], cities: list[City], name: str) -> str:
    """The one-place preset: place ``name`` of the country alone (ONE_PLACE_PRESET)."""
    city = next(c for c in cities if c.name == name)
    fitted_from = fitted_values()[1]
    entries = timeline_entries(events, sorted({c.region for c in cities}))
    mine = [e for e in entries if acts_in(e[2], city) and not is_country_only(e[2])]
    elsewhere = [e for e in entries if not acts_in(e[2], city)]
    dropped = [e for e in entries if acts_in(e[2], city) and is_country_only(e[2])]
    row = (
        f'{{ name = "{city.name}", region = "{city.region}", lat = {city.lat:.5f}, '
        f"lon = {city.lon:.5f}, utc_offset = {city.utc_offset}, population = {city.population} }}"
    )
    L = [
        *comment_block(
            f"{city.name} alone, January 2022: the place {city.name!r} of the calibrated "
            f"country {NAME}, as a scenario of that one place.",
            "GENERATED by scripts/kz2022_preset.py from shared/data/kz2022 and "
            "docs/kazakhstan_calibration.json — do not edit; change the script and rerun "
            "it (tests/country/test_kz2022_preset.py checks that this file equals what the "
            f"script writes and that it agrees with {city.name} in {NAME}).",
        ),
        "#",
        *comment_block(
            f"Unchanged from {city.name} in {NAME}: its row of places.csv (its population "
            f"sizes the lattice at world.scale; its clock, UTC{city.utc_offset:+d}, times "
            f"the curfews), the country's parameters (fitted: {fitted_from}) and every "
            f"timeline entry that acts in {city.name}: those for the whole country, for "
            f"place {city.name!r} and for region {city.region!r}, with their events.csv "
            "lines.",
            "Left out, because only a country of many places has them: the news from "
            f"other places ({', '.join(COUNTRY_ONLY)}; a place alone hears of none, "
            "docs/odd.md §7.20), travelling forces ([transport]: no links, no place to "
            "send to or call on"
            + (f"; {len(dropped)} actions between places" if dropped else "")
            + f"), and the {len(elsewhere)} timeline entries that act only in other "
            f"places ({kinds(elsewhere)}).",
            f"As in {NAME}, a place's own actives are not broadcast "
            "(information.actives_weight = 0), so alone the channel carries nothing: the "
            "blackout and its end are kept, and change nothing here.",
        ),
        "",
        "[scenario]",
        f'name = "{ONE_PLACE_PRESET}"',
        f'description = "{city.name}, 2-22 January 2022: the place {city.name} of {NAME} alone, '
        "without news from other places or travelling forces "
        f'({"calibrated" if fitted_from.startswith("posterior") else "not calibrated"})"',
        "",
        "[country]",
        f"# {city.name}'s row of {NAME}/places.csv (SOURCES.md); one place, no links",
        f"places = [{row}]",
        "",
        "[world]",
        f"scale = {WORLD_SCALE}  # WORLD_SCALE: people per agent",
        "",
        *parameter_lines(one_place=True),
        *run_lines(),
        *render_entries(mine),
    ]
    return "\n".join(L) + "\n"


#: events.csv names regions in its ``city`` and ``description`` cells as below; the
#: preset's regions are cities.csv's (places.csv): the one name that differs.
EVENT_REGION_NAMES = {"Shymkent": "Shymkent city", "Almaty Region": "Almaty"}


def curfew_hours(e: Event) -> tuple[int, int]:
    """The curfew of a state-of-emergency row, local hours ("curfew 23:00-07:00")."""
    m = re.search(r"curfew[^0-9]*(\d{1,2}):00\s*-\s*(\d{1,2}):00", e.description, re.I)
    if not m:
        raise DataError("events.csv", e.line, "description", "no curfew hours (HH:00-HH:00)")
    return int(m.group(1)), int(m.group(2))


def _event_regions(e: Event, known: list[str]) -> list[str]:
    """The preset regions an emergency row names in its city or region cell."""
    names = [EVENT_REGION_NAMES.get(n.strip(), n.strip()) for n in e.city.split("/")]
    region = EVENT_REGION_NAMES.get(e.region, e.region)
    if region in known:
        return [region]
    found = [n for n in names if n in known]
    if not found:
        raise DataError("events.csv", e.line, "city", f"no known region in {e.city!r}")
    return found


def emergencies(
    events: list[Event], regions: list[str]
) -> list[tuple[Event, datetime, str, list[str]]]:
    """(row, UTC time, action, regions) of every state of emergency and its lifting:
    the decrees by region, then the extension to "all remaining regions", then the
    liftings by region, and the national end for every region still under one."""
    out: list[tuple[Event, datetime, str, list[str]]] = []
    under: list[str] = []
    for e in events:
        if e.kind != "state_of_emergency":
            continue
        if e.city.startswith("all remaining"):
            named = [r for r in regions if r not in under]
        else:
            named = _event_regions(e, regions)
        under += named
        out.append((e, when(e), "emergency", named))
    for e in events:
        if e.kind != "state_of_emergency_lifted":
            continue
        if e.region == "national":
            named = [r for r in regions if r in under]
        else:
            named = [r for r in _event_regions(e, regions) if r in under]
        under = [r for r in under if r not in named]
        out.append((e, when(e), "lift_emergency", named))
    return out


def places_csv(cities: list[City]) -> str:
    lines = [
        "name,region,lat,lon,utc_offset,population",
        "# generated by scripts/kz2022_preset.py from cities.csv; imputed values: SOURCES.md",
    ]
    for c in cities:
        lines.append(f"{c.name},{c.region},{c.lat:.5f},{c.lon:.5f},{c.utc_offset},{c.population}")
    return "\n".join(lines) + "\n"


def links_csv(links: list[dict[str, str]]) -> str:
    head = ["from", "to", "mode", "distance_km", "travel_hours"]
    lines = [",".join(head), "# generated by scripts/kz2022_preset.py from links.csv; SOURCES.md"]
    for r in links:
        lines.append(",".join(r[k] for k in head))
    return "\n".join(lines) + "\n"


def sources_md(
    cities: list[City], links: list[dict[str, str]], detour: float, used: list[str]
) -> str:
    L = [
        "# kazakhstan-2022: where every value comes from",
        "",
        "Generated by `scripts/kz2022_preset.py` from the kz2022 data set",
        "(`shared/data/kz2022/`: cities.csv, events.csv, links.csv and their README,",
        "which gives every source URL and its reliability). The fitted parameters come",
        "from scripts/kz2022_calibration.py; the values marked hand-set are named",
        "constants of the script, not fitted yet (issue 10 §2).",
        "",
        "## Places (`places.csv`)",
        "",
        "One row per row of cities.csv (36). `name`: the English name without its",
        "parenthesis (`Oral (Uralsk)` → `Oral`, `Tengiz oil field (site)` → `Tengiz`).",
        "`region`: the region of January 2022 without 'Region'; cities of republican",
        "significance are `<name> city`. `utc_offset`: cities.csv (recorded; the engine's",
        "clock keeps each place's local time for curfews). Legitimacy is the same",
        "everywhere (fitted); Mangystau differs by its LPG shock, which is data.",
        "",
        "Population: the 2021 census (cities ≥ ~70k) or BNS 1 Jan 2024 estimates (five",
        "smaller towns), as cities.csv gives them. Zhanaozen is a CONFLICT (75,604 BNS",
        "2024 / 74,400 / ~110,000 / ~160,000): the BNS figure is used.",
        "",
        "### Imputations (flagged in observed.json: `places.<name>.imputed`)",
        "",
        "| place | what | rule |",
        "|---|---|---|",
    ]
    for c in cities:
        if c.population_note.startswith("imputed"):
            L.append(f"| {c.name} | population {c.population} | {c.population_note} |")
        if c.coordinates_note.startswith("imputed"):
            L.append(f"| {c.name} | coordinates {c.lat:.4f}, {c.lon:.4f} | {c.coordinates_note} |")
    L += [
        "",
        f"IMPUTED_POPULATION = {IMPUTED_POPULATION}: not a sourced figure, the order of size",
        "of a district town or village; it sets how many agents these places get.",
        "",
        "## Links (`links.csv`)",
        "",
        "Each row of links.csv becomes one link per mode ('road+rail' → a road and a",
        "rail link). `distance_km`: the documented distance where links.csv gives one",
        f"for that mode and not for a whole section ('{WHOLE_SECTION}': the Kandyagash-",
        "Makat-Atyrau 357 km is the whole section, not either link); air: great-circle;",
        f"otherwise great-circle × the detour factor {detour}, the median ratio of",
        "documented to great-circle distance over the rows that have a usable one:",
        "",
    ]
    L += [f"* {u}" for u in used]
    L += [
        "",
        "`travel_hours` = distance_km ÷ speed, with SPEED_KMH = "
        + ", ".join(f"{k} {v:g}" for k, v in SPEED_KMH.items())
        + " km/h: assumptions (a convoy on winter roads, a military train, a transport",
        "aircraft), not sourced.",
        "",
        "Which corridors exist is the data compiler's choice, not sourced (links.csv",
        "README). Links added here:",
        "",
    ]
    L += [f"* {a}–{b} ({m}): {why}" for a, b, m, why in IMPUTED_LINKS]
    L += ["", "| from | to | mode | km | hours | basis | source |", "|---|---|---|---|---|---|---|"]
    L += [
        f"| {r['from']} | {r['to']} | {r['mode']} | {r['distance_km']} | {r['travel_hours']} "
        f"| {r['basis']} | {r['source']} |"
        for r in links
    ]
    L += [
        "",
        "## Observations (`observed.json`)",
        "",
        "* `places.<name>.protest`: cities.csv `protests_jan2022`: yes (`evidence`:",
        "  `weak` for a single social-media video), or `unknown` (no record found; the",
        "  README: it does not mean no protest). The data has no place marked `no`.",
        "* `first_protest_utc`: the earliest events.csv row of the place with a type in "
        + ", ".join(PROTEST_TYPES)
        + ". A row with `time_utc_if_known` gives its UTC time (`basis: utc`); a row",
        f"  known only by its local date gives {DATE_ONLY_LOCAL_HOUR}:00 local time in UTC",
        "  (`basis: local-date-noon`, `window_utc` the whole local day). An untimed row",
        "  of an earlier local date than the earliest timed one wins (Oral: 'late",
        "  evening' of 3 Jan, before the timed rally of 4 Jan). A place with no such row",
        "  takes cities.csv's `first_protest_date_local` by the same noon rule.",
        "* `national.deaths`: 238 dead (official figure cited Dec 2022), 19 of them",
        "  security (15 Jan, final); the dated series of events.csv `deaths` rows",
        "  (numbers as printed; some are partial, e.g. 13 security killed in Almaty).",
        "* `national.detained`: events.csv `arrests` rows with a nationwide count (the",
        "  12 Jan CONFLICT 10,000-12,000 kept as low/high).",
        "* `national.buildings_seized`: events.csv `building_seized` rows.",
        "* `national.end`: 'critical phase passed' (11 Jan), the state of emergency",
        "  lifted (00:00 19 Jan local), and the `protest_end` rows.",
        "",
        "## Timeline",
        "",
        "Each `[[timeline]]` entry of `kazakhstan-2022.toml` cites its events.csv line.",
        "An event known only by its local date acts at local noon (decrees: Nur-Sultan",
        "time, UTC+6; Mangystau: UTC+5). Fitted (scripts/kz2022_calibration.py, priors in",
        f"the script's FITTED): {', '.join(FITTED)}. From the data: the LPG shock factor",
        f"{LPG_PRICE_AFTER:g}/{LPG_PRICE_BEFORE:g} on hardship, the states of emergency with",
        "their curfews (23:00-07:00 local) by region, the blackout and its end. Hand-set,",
        f"not fitted yet: CONCESSION_LEGITIMACY {CONCESSION_LEGITIMACY}, CSTO_ALMATY_SHARE",
        f"{CSTO_ALMATY_SHARE}, SHOOT_TO_KILL_PROBABILITY {SHOOT_TO_KILL_PROBABILITY};",
        f"a modelling choice: BURN_IN_TICKS {BURN_IN_TICKS} (run.burn_in).",
        "The CSTO's `count` is in agents at WORLD_SCALE "
        f"({CSTO_TROOPS} × share ÷ {WORLD_SCALE:g}); a run at another scale",
        "(`--set world.scale=…`) keeps the same number of agents, so more or fewer troops.",
        "",
        "Not modelled (no engine support yet): key sites (akimats, airports) seized and",
        "guarded, strikes of the oil",
        "and metal workers and the rail blockade, police defection by place. Left out",
        "of the timeline: the mobile-internet collapse of 4 Jan ~14:30 UTC (partial; the",
        "engine's channel is on or off), Nur-Sultan's fixed-line outage of 9 Jan (inside",
        "the national blackout), the Security Council takeover and Masimov's arrest (no",
        "command split in this scenario), the staged CSTO departures of 14-19 Jan (the",
        "guarded sites were handed over on 13 Jan, when the unit is withdrawn).",
        "",
        f"## `{ONE_PLACE_PRESET}.toml`",
        "",
        *textwrap.wrap(
            f"The place {ONE_PLACE} of this scenario alone, generated with it: "
            f"{ONE_PLACE}'s row of places.csv, the parameters above less the news from "
            f"other places ({', '.join(f'`{k}`' for k in COUNTRY_ONLY)}) and transport, "
            f"and the timeline entries that act in {ONE_PLACE} (for the whole country, "
            "its place or its region). Its header says what it keeps and leaves out.",
            84,
        ),
    ]
    return "\n".join(L) + "\n"


def observed_json(cities: list[City], events: list[Event]) -> str:
    doc = {
        "about": (
            "What happened in Kazakhstan, January 2022, from shared/data/kz2022 "
            "(generated by scripts/kz2022_preset.py; rules in SOURCES.md)"
        ),
        "run_start_utc": iso(RUN_START),
        "date_only_local_hour": DATE_ONLY_LOCAL_HOUR,
        "places": first_protests(cities, events),
        "national": national(events),
    }
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def generate(folder: Path) -> dict[Path, str]:
    """Every file of the preset: path → text."""
    cities = read_cities(folder)
    events = read_events(folder)
    detour, used = detour_factor(folder)
    links = build_links(folder, cities, detour)
    sub = PRESETS / NAME
    return {
        PRESETS / f"{NAME}.toml": build_toml(events, sorted({c.region for c in cities})),
        PRESETS / f"{ONE_PLACE_PRESET}.toml": build_place_toml(events, cities, ONE_PLACE),
        sub / "places.csv": places_csv(cities),
        sub / "links.csv": links_csv(links),
        sub / "observed.json": observed_json(cities, events),
        sub / "SOURCES.md": sources_md(cities, links, detour, used),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", type=Path, help="the kz2022 data folder (cities.csv, …)")
    ap.add_argument("--check", action="store_true", help="compare, write nothing")
    a = ap.parse_args(argv)
    try:
        files = generate(a.data)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if a.check:
        stale = [p for p, t in files.items() if not p.is_file() or p.read_text("utf-8") != t]
        for p in stale:
            print(f"stale: {p.relative_to(ROOT)}", file=sys.stderr)
        return 1 if stale else 0
    for p, t in files.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(t, "utf-8")
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
