"""The scenario form: built from the parameter registry, read back by the loader.

The browser shows one field per registry parameter (its location, help text, kind,
range or choices, default) and one line per timeline entry, each an inline TOML
table body (``tick = 100, set = { legitimacy = 0.7 }``). What it sends back is text,
read exactly as ``--set`` reads a value (TOML, else a plain string), assembled into
the document a scenario file would be, and given to the loader
(:func:`upheaval.scenario.loading.scenario_from_dict`): every check, and every
message, is the loader's own. Nothing else is accepted — no file path, no code:
a preset is named from the server's list, an upload is TOML text.

The form is the whole scenario (every value is sent), so a preset or an uploaded file
only fills it in; what runs is what the form says.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from typing import Any

from upheaval.model.declare import Parameter
from upheaval.model.mechanisms import action_specs
from upheaval.model.params import SECTIONS, parameters
from upheaval.model.timeline import ActionEvent, RampEvent, SetEvent, TimelineEvent
from upheaval.scenario.country import country_tables
from upheaval.scenario.loading import (
    ScenarioError,
    load_preset,
    parse_override,
    preset_names,
    scenario_from_dict,
)
from upheaval.scenario.schema import Scenario

#: Where the loader's messages say a form's mistake is.
WHERE = "form"


@dataclass(frozen=True)
class Limits:
    """The server's caps; a request over one is refused with a message naming it."""

    max_sites: int = 250_000
    max_steps: int = 100_000
    max_runs: int = 4
    max_upload_bytes: int = 256 * 1024

    def check_scenario(self, sc: Scenario) -> None:
        """Refuse a scenario over the lattice or step caps (ScenarioError naming the cap
        and the option that sets it)."""
        w, h = sc.params.world.width, sc.params.world.height
        if sc.country is not None:  # a country: all its places' lattices together
            from upheaval.scenario.country import place_params

            sizes = [place_params(sc.params, s).world for s in sc.country.places]
            total = sum(p.width * p.height for p in sizes)
            if total > self.max_sites:
                raise ScenarioError(
                    WHERE,
                    "world.scale",
                    f"the country's {len(sizes)} places have {total:,} sites, over this "
                    f"server's lattice cap of {self.max_sites:,} sites "
                    "(upheaval serve --max-sites)",
                )
        elif w * h > self.max_sites:
            raise ScenarioError(
                WHERE,
                "world.width",
                f"{w}×{h} = {w * h:,} sites is over this server's lattice cap of "
                f"{self.max_sites:,} sites (upheaval serve --max-sites)",
            )
        if sc.params.run.steps > self.max_steps:
            raise ScenarioError(
                WHERE,
                "run.steps",
                f"{sc.params.run.steps:,} steps is over this server's cap of "
                f"{self.max_steps:,} steps (upheaval serve --max-steps)",
            )


def toml_value(value: Any) -> str:
    """One value as TOML text (what the form shows and ``--set`` reads back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _field_text(spec: Parameter, value: Any) -> str:
    # Strings that are choices or clock times are shown bare, as a user types them.
    if isinstance(value, str):
        return value
    return toml_value(value)


def timeline_rows(timeline: tuple[TimelineEvent, ...]) -> list[str]:
    """Each timeline event as an inline TOML table body, as the form edits it."""
    rows = []
    for e in timeline:
        # where a country's entry acts: its place or region, if it names one
        where = "".join(
            f", {k} = {toml_value(v)}" for k, v in (("place", e.place), ("region", e.region)) if v
        )
        if isinstance(e, SetEvent):
            rows.append(f"tick = {e.tick}, set = {{ {e.param} = {toml_value(e.value)} }}{where}")
        elif isinstance(e, RampEvent):
            rows.append(
                f"start = {e.start}, end = {e.end}, ramp = {{ {e.param} = {toml_value(e.value)} }}"
                + where
            )
        elif isinstance(e, ActionEvent):
            keys = "".join(f", {k} = {toml_value(v)}" for k, v in e.given().items())
            rows.append(f'tick = {e.tick}, action = "{e.action}"{where}{keys}')
        else:
            raise TypeError(f"unknown timeline event {e!r}")
    return rows


def scenario_form(sc: Scenario) -> dict[str, Any]:
    """The form's content for a scenario: name, description, every parameter's value
    as text (by location) and the timeline rows."""
    return {
        "name": sc.name,
        "description": sc.description,
        "values": {spec.location: _field_text(spec, v) for spec, v in sc.params.items()},
        "timeline": timeline_rows(sc.timeline),
        "country": country_tables(sc.country) if sc.country is not None else None,
    }


def _inline_country(country: Any, where: str) -> dict[str, Any]:
    """A form's or an upload's ``country``: its places and links as inline tables —
    never a file name (nothing from a request is a path)."""
    if not isinstance(country, dict):
        raise ScenarioError(where, "country", "expected a table of places and links")
    for key in ("places", "links"):
        if key in country and not isinstance(country[key], list):
            raise ScenarioError(
                where,
                f"country.{key}",
                "the dashboard reads a country's places and links only inline "
                f"([[country.{key}]] tables), never from a file",
            )
    return country


def schema() -> dict[str, Any]:
    """What the browser builds the form from: sections of parameters (location, name,
    help, kind, range or choices, default, whether the timeline may change it,
    whether only the initial population reads it), the timeline's actions with their
    keys, and the presets."""
    sections: dict[str, list[dict[str, Any]]] = {name: [] for name in SECTIONS}
    for p in parameters():
        sections[p.section].append(
            {
                "location": p.location,
                "name": p.name,
                "help": p.doc,
                "source": p.source,
                "kind": p.kind,
                "low": p.low,
                "high": p.high,
                "choices": list(p.choices),
                "default": _field_text(p, p.default),
                "timeline": p.timeline,
                "initial_only": p.initial_only,
                "scope": p.scope,
            }
        )
    actions = {
        name: {
            "help": spec.doc,
            "required": sorted(spec.required),
            "optional": sorted(spec.optional),
            "example": _action_example(name, spec.required),
        }
        for name, spec in action_specs().items()
    }
    return {
        "sections": [{"name": n, "parameters": ps} for n, ps in sections.items() if ps],
        "actions": actions,
        "timeline_parameters": [p.name for p in parameters() if p.timeline],
        "presets": [{"name": n, "description": load_preset(n).description} for n in preset_names()],
    }


def _action_example(name: str, required: dict[str, Any]) -> str:
    keys = []
    for k, key in required.items():
        if key.kind == "number":
            v: Any = key.default if key.default is not None else max(key.low, 0.5)
        elif key.kind == "count":
            v = 10
        elif key.kind == "choice":
            v = key.choices[0]
        elif key.kind == "area":
            v = [0, 0, 9, 9]
        else:
            v = key.default or "unit1"
        keys.append(f", {k} = {toml_value(v)}")
    return f'tick = 10, action = "{name}"' + "".join(keys)


def _read_row(n: int, row: Any) -> dict[str, Any]:
    key = f"timeline[{n}]"
    if not isinstance(row, str):
        raise ScenarioError(WHERE, key, "expected text like: tick = 10, set = { legitimacy = 0.7 }")
    try:
        entry = tomllib.loads("entry = {" + row + "}")["entry"]
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(WHERE, key, f"not valid TOML: {e}") from None
    return entry


def scenario_from_form(payload: Any) -> Scenario:
    """The scenario a form describes (``{"name", "description", "values": {location:
    text}, "timeline": [row, ...]}``), checked by the loader; ScenarioError (``where``
    "form", ``key`` the field) if anything is wrong."""
    if not isinstance(payload, dict):
        raise ScenarioError(WHERE, "", "expected the form as a JSON object")
    values = payload.get("values", {})
    rows = payload.get("timeline", [])
    if not isinstance(values, dict) or not isinstance(rows, list):
        raise ScenarioError(WHERE, "", "expected values (an object) and timeline (a list)")
    doc: dict[str, Any] = {}
    head = {}
    for k in ("name", "description"):
        if isinstance(payload.get(k), str):
            head[k] = payload[k]
    doc["scenario"] = head
    for location, text in values.items():
        if not isinstance(location, str) or not isinstance(text, str):
            raise ScenarioError(WHERE, str(location), "expected text")
        section, dot, key = location.partition(".")
        if not dot:
            raise ScenarioError(WHERE, location, "expected section.key")
        _, value = parse_override(f"{location}={text}")
        doc.setdefault(section, {})[key] = value
    doc["timeline"] = [_read_row(n, row) for n, row in enumerate(rows, start=1)]
    if payload.get("country") is not None:
        doc["country"] = _inline_country(payload["country"], WHERE)
    return scenario_from_dict(doc, WHERE)


def read_upload(text: str, filename: str = "upload.toml") -> Scenario:
    """A scenario from an uploaded file's text (only presets may be ``extends``-ed)."""
    from upheaval.scenario.loading import _parse_toml

    where = f"upload {filename}"
    doc = _parse_toml(text, where)
    if "country" in doc:
        _inline_country(doc["country"], where)
    return scenario_from_dict(doc, where)


__all__ = [
    "WHERE",
    "Limits",
    "country_tables",
    "read_upload",
    "scenario_form",
    "scenario_from_form",
    "schema",
    "timeline_rows",
    "toml_value",
]
