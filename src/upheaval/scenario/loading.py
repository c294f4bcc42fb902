"""Scenario files (TOML) and presets: strict loading with errors a person can act on.

A scenario file has a ``[scenario]`` table (name, description, optional ``extends``
naming a preset whose values it starts from), one table per parameter section (see
:data:`upheaval.model.params.SECTIONS`) and any number of ``[[timeline]]`` entries.
Anything unknown, mistyped or out of range raises :class:`ScenarioError`, which
names the file, the key and the reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from upheaval.model.declare import Parameter, ParameterError, check_value, clock_time
from upheaval.model.mechanisms import action_specs
from upheaval.model.params import (
    SECTIONS,
    Params,
    by_location,
    parameter,
    parameters,
    validate_params,
)
from upheaval.model.timeline import (
    ActionEvent,
    RampEvent,
    SetEvent,
    TimelineError,
    TimelineEvent,
    check_country_timeline,
    check_timeline,
    first_tick,
    tick_at,
)
from upheaval.scenario.country import Country, CountryError, check_targets, read_country
from upheaval.scenario.schema import Scenario

PRESET_PACKAGE = "upheaval.scenario.presets"
_SCENARIO_KEYS = ("name", "description", "extends")
#: Keys of a timeline entry that say where it acts (a country's place or region).
_TARGETS = ("place", "region")


class ScenarioError(ValueError):
    """A mistake in a scenario: ``where`` is the file (or 'preset NAME', '--set'),
    ``key`` the dotted key, ``reason`` what is wrong."""

    def __init__(self, where: str, key: str, reason: str):
        self.where, self.key, self.reason = where, key, reason
        super().__init__(f"{where}: {key}: {reason}" if key else f"{where}: {reason}")


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def preset_names() -> list[str]:
    """Names of the scenarios shipped with the package."""
    files = resources.files(PRESET_PACKAGE).iterdir()
    return sorted(f.name[:-5] for f in files if f.name.endswith(".toml"))


def _timeline_params() -> dict[str, str]:
    """Timeline-able parameter names → registry name; name, location and key all
    accepted."""
    out = {}
    for p in parameters():
        if p.timeline:
            out[p.name] = p.name
            out[p.location] = p.name
            out[p.key] = p.name
    return out


def _timeline_names() -> list[str]:
    """Timeline parameters for messages: the classic model's by name, then the
    mechanisms' by location."""
    from upheaval.model.params import CLASSIC_SECTIONS

    classic_sections = {s.NAME for s in CLASSIC_SECTIONS} | {"run"}
    classic, mech = [], []
    for p in parameters():
        if p.timeline:
            if p.section in classic_sections:
                classic.append(p.name)
            else:
                mech.append(p.location)
    return sorted(classic) + sorted(mech)


def resolve_key(key: str, where: str) -> Parameter:
    """The parameter a user's key names: 'section.key', or a bare key or registry name
    if it is unambiguous."""
    by_loc = by_location()
    if "." in key:
        section, _, k = key.partition(".")
        spec = by_loc.get((section, k))
        if spec is None:
            options = [f"{s}.{kk}" for s, kk in by_loc]
            raise ScenarioError(where, key, "unknown parameter" + _suggest(key, options))
        return spec
    matches = [p for p in parameters() if key in (p.name, p.key)]
    names = {p.name for p in matches}
    if len(names) == 1:
        return matches[0]
    if not matches:
        options = [p.name for p in parameters()] + [p.key for p in parameters()]
        raise ScenarioError(where, key, "unknown parameter" + _suggest(key, options))
    spelled = ", ".join(sorted(p.location for p in matches))
    raise ScenarioError(where, key, f"ambiguous; write one of {spelled}")


def _tick_of(entry: dict[str, Any], name: str, where: str, key: str) -> int:
    if name not in entry:
        raise ScenarioError(where, f"{key}.{name}", "missing")
    v = entry[name]
    if isinstance(v, bool) or not isinstance(v, int):
        raise ScenarioError(where, f"{key}.{name}", f"expected an integer tick, got {v!r}")
    if v < 1:
        raise ScenarioError(where, f"{key}.{name}", f"ticks start at 1, got {v}")
    return v


def _when(
    entry: dict[str, Any],
    tick_key: str,
    time_key: str,
    where: str,
    key: str,
    params: Params,
    offset_hours: float = 0.0,
) -> int:
    """The tick of an entry given as ``tick_key`` (a tick) or ``time_key`` (a clock
    time, converted with run.start and run.tick_minutes; a local time ``offset_hours``
    east of UTC); exactly one of the two."""
    if tick_key in entry and time_key in entry:
        raise ScenarioError(
            where, f"{key}.{time_key}", f"give '{tick_key}' or '{time_key}', not both"
        )
    if time_key not in entry:
        return _tick_of(entry, tick_key, where, key)
    try:
        when = entry[time_key]
        if offset_hours:
            local = dt.datetime.fromisoformat(clock_time(f"{key}.{time_key}", when))
            when = (local - dt.timedelta(hours=offset_hours)).isoformat()
        return tick_at(when, params.run.start, params.run.tick_minutes)
    except ParameterError as e:
        raise ScenarioError(where, f"{key}.{time_key}", e.reason) from None
    except ValueError as e:
        raise ScenarioError(where, f"{key}.{time_key}", str(e)) from None


def _clock_offset(entry: dict[str, Any], where: str, key: str, country: Country | None) -> float:
    """Hours east of UTC in which an entry's clock times are given: 0 (UTC), or with
    ``clock = "local"`` its place's UTC offset (a region's, if all its places share
    one)."""
    clock = entry.get("clock", "utc")
    if clock not in ("utc", "local"):
        raise ScenarioError(where, f"{key}.clock", f"expected 'utc' or 'local', got {clock!r}")
    if clock == "utc":
        return 0.0
    if country is None:
        raise ScenarioError(where, f"{key}.clock", "local time needs a [country]")
    if isinstance(entry.get("place"), str) and entry["place"] in country.names:
        return country.place(entry["place"]).utc_offset
    if isinstance(entry.get("region"), str):
        offsets = {p.utc_offset for p in country.places if p.region == entry["region"]}
        if len(offsets) == 1:
            return offsets.pop()
        if offsets:
            raise ScenarioError(
                where,
                f"{key}.clock",
                f"the places of region {entry['region']!r} keep {len(offsets)} different "
                "clocks; give a place, or UTC",
            )
    raise ScenarioError(
        where, f"{key}.clock", "local time needs the entry's place (or region) of the country"
    )


def _parse_timeline(
    entries: Any, where: str, params: Params, country: Country | None = None
) -> tuple[TimelineEvent, ...]:
    if not isinstance(entries, list):
        raise ScenarioError(where, "timeline", "expected a list of [[timeline]] tables")
    allowed = _timeline_params()
    events: list[TimelineEvent] = []
    for n, entry in enumerate(entries, start=1):
        key = f"timeline[{n}]"
        if not isinstance(entry, dict):
            raise ScenarioError(where, key, "expected a table")
        if "action" in entry:
            events.append(_parse_action(entry, where, key, params, country))
            continue
        offset = _clock_offset(entry, where, key, country)
        unknown = set(entry) - {"tick", "time", "start", "end", "start_time", "end_time"}
        unknown -= {"set", "ramp", "clock", *_TARGETS}
        if unknown:
            raise ScenarioError(where, f"{key}.{sorted(unknown)[0]}", "unknown key")
        has_set, has_ramp = "set" in entry, "ramp" in entry
        if has_set == has_ramp:
            raise ScenarioError(where, key, "needs exactly one of 'set' or 'ramp'")
        action = "set" if has_set else "ramp"
        changes = entry[action]
        if not isinstance(changes, dict) or not changes:
            raise ScenarioError(where, f"{key}.{action}", "expected a table of parameter = value")

        if has_set:
            if {"start", "end", "start_time", "end_time"} & set(entry):
                raise ScenarioError(
                    where, key, "'set' takes 'tick', not 'start'/'end' (or 'time' for 'tick')"
                )
            tick = _when(entry, "tick", "time", where, key, params, offset)
        else:
            if "tick" in entry or "time" in entry:
                raise ScenarioError(
                    where,
                    key,
                    "'ramp' takes 'start' and 'end', not 'tick' (or 'start_time' and 'end_time')",
                )
            start = _when(entry, "start", "start_time", where, key, params, offset)
            end = _when(entry, "end", "end_time", where, key, params, offset)
            if end < start:
                raise ScenarioError(where, f"{key}.end", f"end {end} is before start {start}")
        for pname, value in changes.items():
            pkey = f"{key}.{action}.{pname}"
            if pname not in allowed:
                options = _timeline_names()
                raise ScenarioError(
                    where,
                    pkey,
                    "cannot change during a run; the timeline can change "
                    + ", ".join(options)
                    + _suggest(pname, list(allowed)),
                )
            field_name = allowed[pname]
            try:
                v = check_value(parameter(field_name), value)
            except ParameterError as e:
                raise ScenarioError(where, pkey, e.reason) from None
            target = _target(entry, where, key)
            if has_set:
                events.append(SetEvent(tick=tick, param=field_name, value=float(v), **target))
            else:
                if math.isinf(v):
                    raise ScenarioError(where, pkey, "a ramp needs a finite target")
                events.append(
                    RampEvent(start=start, end=end, param=field_name, value=float(v), **target)
                )
    return tuple(events)


def _parse_action(
    entry: dict[str, Any], where: str, key: str, params: Params, country: Country | None = None
) -> ActionEvent:
    """One ``{ tick = t, action = "...", ... }`` entry, its keys as its mechanism
    declares them (model/timeline.py: ActionSpec, Key)."""
    specs = action_specs()
    action = entry["action"]
    if action not in specs:
        raise ScenarioError(
            where,
            f"{key}.action",
            f"expected one of {', '.join(map(repr, specs))}, got {action!r}"
            + (_suggest(action, list(specs)) if isinstance(action, str) else ""),
        )
    spec = specs[action]
    allowed = {"tick", "time", "action", "clock", *_TARGETS, *spec.keys}
    for k in entry:
        if k not in allowed:
            if k in ("set", "ramp", "start", "end"):
                reason = f"an action takes 'tick' (or 'time') and its own keys, not {k!r}"
            else:
                reason = f"unknown key for action {action!r}; it takes " + ", ".join(
                    sorted(allowed - {"tick", "action"})
                )
            raise ScenarioError(where, f"{key}.{k}", reason)
    for k in spec.required:
        if k not in entry:
            raise ScenarioError(where, f"{key}.{k}", f"missing (action {action!r} needs it)")
    offset = _clock_offset(entry, where, key, country)
    tick = _when(entry, "tick", "time", where, key, params, offset)
    fields: dict[str, Any] = {}
    for k, declared in spec.keys.items():
        if k in entry:
            try:
                fields[k] = declared.parse(entry[k])
            except ValueError as e:
                raise ScenarioError(where, f"{key}.{k}", str(e)) from None
    return ActionEvent(tick=tick, action=action, **_target(entry, where, key), **fields)


def _target(entry: dict[str, Any], where: str, key: str) -> dict[str, str]:
    """An entry's ``place`` or ``region`` (at most one), checked for form only: the
    country they name is checked with the whole scenario."""
    given = {k: entry[k] for k in _TARGETS if k in entry}
    if len(given) > 1:
        raise ScenarioError(where, f"{key}.region", "give 'place' or 'region', not both")
    for k, v in given.items():
        if not isinstance(v, str) or not v.strip():
            raise ScenarioError(where, f"{key}.{k}", f"expected a name, got {v!r}")
    return {k: v.strip() for k, v in given.items()}


def _country_error(e: CountryError) -> ScenarioError:
    """A table's mistake as a scenario error: the file, then 'line N, column' as key."""
    column = f"column {e.column!r}" if e.column else ""
    return ScenarioError(e.where, ", ".join(x for x in (e.row, column) if x), e.reason)


def _country(table: Any, where: str, folder: Path | None) -> Country:
    """A scenario's ``[country]`` table: ``places`` and ``links``, each a CSV file
    (relative to the scenario file) or a list of tables."""
    if not isinstance(table, dict):
        raise ScenarioError(where, "country", "expected a table")
    for k in table:
        if k not in ("places", "links"):
            raise ScenarioError(
                where, f"country.{k}", "unknown key" + _suggest(k, ["places", "links"])
            )
    if "places" not in table:
        raise ScenarioError(where, "country.places", "missing (a CSV file or a list of tables)")

    def source(key: str) -> Path | list[dict[str, Any]]:
        v = table[key]
        if isinstance(v, str):
            path = Path(v)
            if not path.is_absolute():
                if folder is None:
                    raise ScenarioError(
                        where,
                        f"country.{key}",
                        "a file name needs a scenario file to be relative to",
                    )
                path = folder / path
            if not path.is_file():
                raise ScenarioError(where, f"country.{key}", f"no such file: {path}")
            return path
        if isinstance(v, list):
            return v
        raise ScenarioError(
            where, f"country.{key}", f"expected a CSV file name or a list of tables, got {v!r}"
        )

    try:
        return read_country(source("places"), source("links") if "links" in table else None, where)
    except CountryError as e:
        raise _country_error(e) from None


def _check_ramps(params: Params, timeline: list[TimelineEvent], where: str) -> None:
    """Reject a ramp that would start from an infinite value (inf → x has no steps)."""
    value = {"max_jail_term": params.jail.max_jail_term}
    ordered = sorted(enumerate(timeline, start=1), key=lambda ne: first_tick(ne[1]))
    for n, e in ordered:
        if isinstance(e, ActionEvent) or e.param not in value:
            continue
        if isinstance(e, RampEvent) and math.isinf(value[e.param]):
            raise ScenarioError(
                where,
                f"timeline[{n}].ramp.{e.param}",
                "cannot ramp from an infinite value; set a finite value first",
            )
        value[e.param] = e.value


def scenario_from_dict(
    data: dict[str, Any],
    where: str,
    base: Scenario | None = None,
    folder: Path | None = None,
) -> Scenario:
    """Build a validated Scenario from parsed TOML ``data`` (``folder``: where the
    files a ``[country]`` table names are)."""
    if not isinstance(data, dict):
        raise ScenarioError(where, "", "expected a TOML document")
    head = data.get("scenario", {})
    if not isinstance(head, dict):
        raise ScenarioError(where, "scenario", "expected a table")
    for k in head:
        if k not in _SCENARIO_KEYS:
            raise ScenarioError(
                where, f"scenario.{k}", "unknown key" + _suggest(k, list(_SCENARIO_KEYS))
            )
    for k in ("name", "description", "extends"):
        if k in head and not isinstance(head[k], str):
            raise ScenarioError(where, f"scenario.{k}", f"expected a string, got {head[k]!r}")
    if "extends" in head:
        if base is not None:
            raise ScenarioError(where, "scenario.extends", "only one level of 'extends' is allowed")
        parent = head["extends"]
        if parent not in preset_names():
            raise ScenarioError(
                where,
                "scenario.extends",
                f"no preset {parent!r}" + _suggest(parent, preset_names()),
            )
        base = load_preset(parent)
    params = base.params if base is not None else Params()
    timeline = list(base.timeline) if base is not None else []
    by_loc = by_location()
    changes: dict[str, Any] = {}
    country = base.country if base is not None else None
    for section, table in data.items():
        if section in ("scenario", "timeline"):
            continue
        if section == "country":
            country = _country(table, where, folder)
            continue
        if section not in SECTIONS:
            raise ScenarioError(
                where,
                section,
                "unknown table" + _suggest(section, [*SECTIONS, "scenario", "timeline", "country"]),
            )
        if not isinstance(table, dict):
            raise ScenarioError(where, section, "expected a table")
        for key, value in table.items():
            f = by_loc.get((section, key))
            if f is None:
                options = [k for (s, k) in by_loc if s == section]
                raise ScenarioError(
                    where, f"{section}.{key}", "unknown key" + _suggest(key, options)
                )
            try:
                changes[f.name] = check_value(f, value)
            except ParameterError as e:
                raise ScenarioError(where, e.location, e.reason) from None
    params = params.replace(**changes)
    if "timeline" in data:
        timeline = list(_parse_timeline(data["timeline"], where, params, country))
    try:
        validate_params(params)
    except ParameterError as e:
        raise ScenarioError(where, e.location, e.reason) from None
    _check_ramps(params, timeline, where)
    _check_timeline(params, timeline, country, where)
    name = head.get("name", base.name if base is not None else Path(where).stem)
    desc = head.get("description", base.description if base is not None else "")
    return Scenario(
        name=name,
        description=desc,
        params=params,
        timeline=tuple(timeline),
        source=where,
        country=country,
    )


def _parse_toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(where, "", f"not valid TOML: {e}") from None


def load_preset(name: str) -> Scenario:
    """A scenario shipped with the package, by name (see :func:`preset_names`)."""
    names = preset_names()
    if name not in names:
        raise ScenarioError(
            f"preset {name!r}",
            "",
            "no such preset" + _suggest(name, names) + "; see `upheaval presets`",
        )
    files = resources.files(PRESET_PACKAGE)
    text = files.joinpath(f"{name}.toml").read_text("utf-8")
    where = f"preset {name}"
    return scenario_from_dict(_parse_toml(text, where), where, folder=Path(str(files)))


def load_file(path: str | Path) -> Scenario:
    """A scenario from a TOML file."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(str(path), "", "no such file")
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(str(path), "", f"cannot read: {e}") from None
    return scenario_from_dict(_parse_toml(text, str(path)), str(path), folder=path.parent)


def load(name_or_path: str | Path) -> Scenario:
    """A preset by name, or a scenario file by path (anything ending in .toml)."""
    s = str(name_or_path)
    if s.endswith(".toml") or Path(s).is_file():
        return load_file(s)
    return load_preset(s)


def parse_override(text: str) -> tuple[str, Any]:
    """Parse one ``key=value`` override; the value is read as TOML, else as a string."""
    if "=" not in text:
        raise ScenarioError("--set", text, "expected key=value")
    key, _, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def apply_overrides(scenario: Scenario, overrides: dict[str, Any] | list[str]) -> Scenario:
    """A copy of ``scenario`` with parameters overridden, validated.

    ``overrides`` maps keys ('legitimacy', 'jail.max_jail_term', …) to values, or is a
    list of 'key=value' strings as given to ``--set``.
    """
    if isinstance(overrides, list):
        pairs = [parse_override(o) for o in overrides]
    else:
        pairs = list(overrides.items())
    changes = {}
    given: dict[str, str] = {}
    for key, value in pairs:
        f = resolve_key(key, "--set")
        if f.name in given:
            # Which value would win is not something a user should have to know.
            again = "" if given[f.name] == key else f" (as {given[f.name]!r})"
            raise ScenarioError("--set", key, f"given twice{again}; give it once")
        given[f.name] = key
        if f.name in ("start", "tick_minutes") and scenario.timeline:
            raise ScenarioError(
                "--set",
                key,
                "the timeline's clock times were turned into ticks when the scenario was "
                "read; change run.start or run.tick_minutes in the file instead",
            )
        try:
            changes[f.name] = check_value(f, value)
        except ParameterError as e:
            raise ScenarioError("--set", key, e.reason) from None
    params = scenario.params.replace(**changes)
    try:
        validate_params(params)
    except ParameterError as e:
        raise ScenarioError("--set", e.location, e.reason) from None
    _check_timeline(params, scenario.timeline, scenario.country, "--set")
    return dataclasses.replace(scenario, params=params)


def _check_timeline(params: Params, timeline: Any, country: Country | None, where: str) -> None:
    """The timeline against the parameters (and, in a country, its places)."""
    try:
        if country is None:
            for n, e in enumerate(timeline, start=1):
                if e.place or e.region:
                    raise TimelineError(
                        n, "place" if e.place else "region", "a target needs a [country]"
                    )
                if isinstance(e, ActionEvent) and action_specs()[e.action].needs_place:
                    raise TimelineError(n, "action", f"{e.action!r} needs a [country]")
            check_timeline(params, timeline)
            check_country_timeline(params, timeline)
        else:
            check_targets(country, params, timeline)
    except TimelineError as e:
        raise ScenarioError(where, f"timeline[{e.index}].{e.key}", e.reason) from None
    except CountryError as e:
        raise _country_error(e) from None
