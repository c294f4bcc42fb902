"""Generate the parameter tables of docs/odd.md from the registry, so the doc cannot drift.

Two blocks of docs/odd.md are generated, each between marker comments::

    <!-- BEGIN GENERATED: params (scripts/params_table.py; do not edit) -->
    ...
    <!-- END GENERATED: params -->

* ``params``: every field of :class:`upheaval.model.params.Params` — its
  ``section.key``, default, allowed values, whether a timeline may change it, its
  meaning and source (all from the field's metadata), and where in the code it
  takes effect (``CODE`` below);
* ``presets``: the value of every parameter that differs between the shipped
  presets (the paper's runs 1–8, NetLogo Rebellion, Mesa), read from the preset
  files, plus their timelines.

Usage::

    python scripts/params_table.py            # rewrite the blocks in docs/odd.md
    python scripts/params_table.py --check    # exit 1 if docs/odd.md is out of date

``--check`` also verifies ``CODE``: every parameter has an entry, every entry names a
function that exists, and that function's source mentions the parameter (its field
name, its TOML key, the name it is compiled to in ``kernels.compile_rules``, or the
explicit name given after ``@``).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import math
import sys
import textwrap
from pathlib import Path

from upheaval.model import kernels
from upheaval.model.params import Params, parameter_fields
from upheaval.scenario.loading import load_preset, preset_names
from upheaval.model.timeline import RampEvent, SetEvent

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "odd.md"
PACKAGE = "upheaval"

#: Where each parameter takes effect: ``module path:qualified name`` relative to
#: src/upheaval, optionally ``@name`` when the function knows the parameter under
#: another name (e.g. an argument). Read the code, then list the places a reader
#: must look at to see what the parameter does.
CODE: dict[str, tuple[str, ...]] = {
    "variant": (
        "model/kernels.py:step",
        "model/kernels.py:citizen_turn",
        "engine/population.py:populate",
    ),
    "width": ("model/state.py:empty_lattice", "engine/population.py:populate"),
    "height": ("model/state.py:empty_lattice", "engine/population.py:populate"),
    "vision_shape": ("model/kernels.py:compile_rules", "world/lattice.py:row_half_width@shape"),
    "citizen_density": (
        "engine/population.py:agent_counts",
        "engine/population.py:populate",
    ),
    "cop_density": (
        "engine/population.py:agent_counts",
        "engine/simulation.py:Simulation._set_dynamic",
        "model/rules/forces.py:add_cops@count",
        "model/rules/forces.py:remove_cops@count",
    ),
    "placement": ("engine/population.py:populate",),
    "citizen_vision": (
        "model/rules/decision.py:willing",
        "model/kernels.py:citizen_move",
        "model/rules/violence.py:kill_other_group",
    ),
    "legitimacy": (
        "model/rules/activation.py:is_active",
        "engine/simulation.py:Simulation.step",
    ),
    "threshold": ("model/rules/activation.py:is_active", "model/rules/decision.py:willing"),
    "arrest_constant": (
        "model/rules/activation.py:arrest_probability@k",
        "model/rules/decision.py:willing",
    ),
    "ratio_rule": (
        "model/rules/activation.py:cop_active_ratio@rule",
        "model/rules/decision.py:willing",
    ),
    "active_count_includes_self": ("model/rules/decision.py:willing",),
    "citizen_movement": ("model/kernels.py:citizen_turn",),
    "activation": (
        "model/kernels.py:compile_rules",
        "model/kernels.py:step@synchronous",
        "model/kernels.py:citizen_turn@synchronous",
    ),
    "citizen_turn_order": ("model/kernels.py:citizen_turn",),
    "deterrence_exponent": (
        "model/kernels.py:deterrence_factor@exponent",
        "model/kernels.py:citizen_turn",
    ),
    "cop_vision": ("model/kernels.py:cop_turn", "model/rules/arrest.py:enforce"),
    "cop_movement": ("model/kernels.py:cop_turn",),
    "cop_turn_order": ("model/kernels.py:cop_turn",),
    "cop_after_arrest": ("model/rules/arrest.py:enforce",),
    "max_jail_term": (
        "model/rules/jail.py:draw_jail_term",
        "model/kernels.py:deterrence_factor",
        "engine/simulation.py:Simulation.step",
    ),
    "jail_term_range": ("model/rules/jail.py:draw_jail_term@inclusive",),
    "jail_countdown": (
        "model/kernels.py:step",
        "model/kernels.py:citizen_turn",
        "model/rules/arrest.py:arrest",
        "model/rules/jail.py:serve_turn@jail_left",
        "model/rules/jail.py:end_of_tick_countdown@jail_left",
    ),
    "jailed_hold_site": (
        "world/grid.py:lane_of",
        "model/rules/arrest.py:arrest",
        "model/rules/jail.py:release",
    ),
    "blue_share": (
        "engine/population.py:_attributes",
        "model/rules/identity.py:draw_identities",
    ),
    "clone_probability": ("model/rules/reproduction.py:clone",),
    "max_age": ("engine/population.py:_attributes", "model/rules/reproduction.py:clone"),
    "clone_neighbourhood": (
        "world/lattice.py:clone_neighbourhood@kind",
        "model/rules/reproduction.py:clone",
    ),
    "legitimacy_feedback": (
        "model/kernels.py:compile_rules",
        "engine/simulation.py:Simulation._update_legitimacy",
        "engine/simulation.py:Simulation._set_dynamic",
    ),
    "legitimacy_recovery": (
        "engine/simulation.py:Simulation._update_legitimacy",
        "model/rules/legitimacy.py:next_global_legitimacy@recovery",
        "model/rules/legitimacy.py:update_agent_legitimacy@recovery",
    ),
    "legitimacy_arrest_impact": (
        "engine/simulation.py:Simulation._update_legitimacy",
        "model/rules/legitimacy.py:news@arrest_impact",
    ),
    "legitimacy_seen_arrest": (
        "model/kernels.py:compile_rules",
        "model/rules/lethal.py:enforce_with_force",
        "model/rules/legitimacy.py:witness@legit_drop",
    ),
    "legitimacy_seen_kill": (
        "model/kernels.py:compile_rules",
        "model/rules/lethal.py:enforce_with_force",
        "model/rules/legitimacy.py:witness@legit_drop",
    ),
    "hardship_distribution": (
        "model/rules/hardship.py:needs_shaping",
        "model/rules/hardship.py:shape_hardship",
    ),
    "hardship_low": ("model/rules/hardship.py:shape_hardship",),
    "hardship_high": ("model/rules/hardship.py:shape_hardship",),
    "hardship_beta_a": ("model/rules/hardship.py:shape_hardship",),
    "hardship_beta_b": ("model/rules/hardship.py:shape_hardship",),
    "hardship_group_share": (
        "model/rules/hardship.py:shape_hardship",
        "model/rules/hardship.py:draw_group@share",
    ),
    "hardship_group_low": ("model/rules/hardship.py:shape_hardship",),
    "hardship_group_high": ("model/rules/hardship.py:shape_hardship",),
    "lethal_probability": (
        "model/kernels.py:lethal_ever",
        "engine/simulation.py:Simulation._before_tick",
        "model/rules/lethal.py:enforce_with_force@lethal_p",
    ),
    "lethal_backlash": (
        "engine/simulation.py:Simulation._update_legitimacy",
        "model/rules/legitimacy.py:news@backlash",
    ),
    "lethal_deterrence": (
        "model/kernels.py:compile_rules",
        "model/rules/legitimacy.py:witness@fear_rise",
        "model/rules/decision.py:willing@fear",
    ),
    "lethal_fear_decay": (
        "engine/simulation.py:Simulation._update_legitimacy",
        "model/rules/legitimacy.py:decay_fear@decay",
    ),
    "forces_minds": (
        "model/kernels.py:compile_rules",
        "model/kernels.py:cop_turn@minds",
        "engine/simulation.py:Simulation._init_mechanism_state",
    ),
    "forces_initial_origin": (
        "model/kernels.py:compile_rules",
        "model/rules/defection.py:draw_initial_minds@unit_origin",
    ),
    "forces_reinforcement_origin": (
        "model/kernels.py:compile_rules",
        "model/rules/forces.py:reinforce@unit_origin",
    ),
    "forces_hardship_high": (
        "model/kernels.py:compile_rules",
        "model/rules/defection.py:draw_mind@cop_hardship_high",
    ),
    "forces_local_police_loyalty_low": (
        "model/kernels.py:compile_rules",
        "model/rules/defection.py:draw_mind@loyalty_low",
    ),
    "forces_local_police_loyalty_high": (
        "model/kernels.py:compile_rules",
        "model/rules/defection.py:draw_mind@loyalty_high",
    ),
    "forces_national_guard_loyalty_low": (
        "model/kernels.py:compile_rules",
        "model/rules/defection.py:draw_mind@loyalty_low",
    ),
    "forces_national_guard_loyalty_high": (
        "model/kernels.py:compile_rules",
        "model/rules/defection.py:draw_mind@loyalty_high",
    ),
    "forces_foreign_loyalty_low": (
        "model/kernels.py:compile_rules",
        "model/rules/defection.py:draw_mind@loyalty_low",
    ),
    "forces_foreign_loyalty_high": (
        "model/kernels.py:compile_rules",
        "model/rules/defection.py:draw_mind@loyalty_high",
    ),
    "forces_stand_aside_threshold": (
        "model/kernels.py:compile_rules",
        "model/rules/defection.py:cop_mind@stand_aside",
    ),
    "forces_defect_threshold": (
        "model/kernels.py:compile_rules",
        "model/rules/defection.py:cop_mind@defect",
    ),
    "forces_disarm_kill": (
        "model/kernels.py:compile_rules",
        "model/rules/defection.py:cop_mind@disarm_kill",
    ),
    "forces_disarm_ratio": (
        "model/kernels.py:compile_rules",
        "model/rules/defection.py:cop_mind@disarm_ratio",
        "engine/simulation.py:Simulation._kernel_removes",
    ),
    "information_enabled": (
        "model/kernels.py:compile_rules",
        "model/rules/decision.py:willing@media_on",
        "engine/simulation.py:Simulation._before_tick@media_on",
    ),
    "information_online": (
        "engine/simulation.py:Simulation._broadcast",
        "model/rules/information.py:online_at@initially_online",
    ),
    "information_actives_weight": (
        "engine/simulation.py:Simulation._broadcast",
        "model/rules/information.py:broadcast@actives_weight",
    ),
    "information_repression_weight": (
        "engine/simulation.py:Simulation._broadcast",
        "model/rules/information.py:broadcast@repression_weight",
    ),
    "information_focal_x": (
        "model/kernels.py:compile_rules",
        "model/kernels.py:citizen_move@focal",
        "model/rules/movement.py:move_toward@fx",
    ),
    "information_focal_y": (
        "model/kernels.py:compile_rules",
        "model/kernels.py:citizen_move@focal",
        "model/rules/movement.py:move_toward@fy",
    ),
    "provocateurs_count": (
        "engine/simulation.py:Simulation._init_mechanism_state",
        "model/rules/provocation.py:draw_provocateurs@count",
        "model/kernels.py:citizen_turn@provocateurs_on",
    ),
    "provocateurs_framing_rise": (
        "engine/simulation.py:Simulation._after_tick",
        "model/rules/provocation.py:next_framing@rise",
    ),
    "provocateurs_framing_decay": (
        "engine/simulation.py:Simulation._after_tick",
        "model/rules/provocation.py:next_framing@decay",
    ),
    "provocateurs_framing_lethal": (
        "engine/simulation.py:Simulation._before_tick",
        "model/rules/provocation.py:framed_lethal_probability@gain",
        "model/kernels.py:lethal_ever",
    ),
    "provocateurs_framing_arrest": (
        "engine/simulation.py:Simulation._before_tick",
        "model/kernels.py:cop_turn@provocateurs_framing",
    ),
    "provocateurs_framing_bystander": (
        "engine/simulation.py:Simulation._before_tick",
        "model/rules/decision.py:willing@provocateurs_framing",
    ),
    "elite_rival_share": (
        "engine/simulation.py:Simulation._init_mechanism_state",
        "model/rules/defection.py:draw_initial_factions@rival_share",
        "model/kernels.py:elite_split",
    ),
    "elite_ruler_loyalty": (
        "engine/simulation.py:Simulation._before_tick@elite_ruler_loyalty",
        "model/kernels.py:compile_rules",
        "model/rules/defection.py:cop_mind@elite_loyalty",
    ),
    "elite_rival_loyalty": (
        "engine/simulation.py:Simulation._before_tick@elite_rival_loyalty",
        "model/kernels.py:compile_rules",
        "model/rules/defection.py:cop_mind@elite_loyalty",
    ),
    "organisation_groups": (
        "model/kernels.py:compile_rules",
        "model/kernels.py:citizen_turn@organisation_on",
        "engine/simulation.py:Simulation._init_mechanism_state",
        "model/rules/organisation.py:draw_membership@groups",
    ),
    "organisation_member_share": (
        "engine/simulation.py:Simulation._init_mechanism_state",
        "model/rules/organisation.py:draw_membership@share",
    ),
    "organisation_quorum": (
        "engine/simulation.py:Simulation._after_tick",
        "model/rules/organisation.py:groups_acting@quorum",
    ),
    "organisation_action": (
        "engine/simulation.py:Simulation._organise",
        "model/rules/organisation.py:group_modes@action",
    ),
    "organisation_risk_factor": (
        "model/kernels.py:compile_rules",
        "model/rules/organisation.py:member_decide@organisation_risk",
    ),
    "organisation_strike_impact": (
        "engine/simulation.py:Simulation._update_legitimacy",
        "model/rules/organisation.py:strike_news@impact",
    ),
    "identity_enabled": (
        "model/kernels.py:compile_rules",
        "model/rules/decision.py:willing@identity_on",
        "engine/simulation.py:Simulation._init_mechanism_state",
    ),
    "identity_solidarity": (
        "engine/simulation.py:Simulation._before_tick",
        "model/rules/decision.py:willing@identity_solidarity",
        "model/rules/identity.py:solidary_actives@solidarity",
    ),
    "steps": ("engine/simulation.py:Simulation.run",),
    "seed": ("model/rng.py:seed_streams", "engine/simulation.py:Simulation.__init__"),
    "start": ("scenario/loading.py:_when", "scenario/timeline.py:tick_at"),
    "tick_minutes": ("scenario/loading.py:_when", "scenario/timeline.py:tick_at"),
}

#: Presets in the order of the ``presets`` table, with their column titles.
PRESET_COLUMNS: tuple[tuple[str, str], ...] = (
    *((f"epstein2002-run{n}", f"run {n}") for n in range(1, 9)),
    ("netlogo-rebellion", "NetLogo"),
    ("mesa-example", "Mesa"),
)


# -- code locations ------------------------------------------------------------------------


def compiled_names() -> dict[str, set[str]]:
    """Params field → names of the ``Rules`` fields that ``compile_rules`` derives from it.

    Read from the source of :func:`upheaval.model.kernels.compile_rules`, following
    local variables (``cit = neighbourhood(p.world.vision_shape, p.citizens.vision)``).
    """
    tree = ast.parse(textwrap.dedent(inspect.getsource(kernels.compile_rules)))
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef)
    param = fn.args.args[0].arg

    def reads(node: ast.AST, local: dict[str, set[str]]) -> set[str]:
        out: set[str] = set()
        for sub in ast.walk(node):
            if (
                isinstance(sub, ast.Attribute)
                and isinstance(sub.value, ast.Name)
                and sub.value.id == param
            ):
                out.add(sub.attr)
            elif isinstance(sub, ast.Name) and sub.id in local:
                out |= local[sub.id]
        return out

    local: dict[str, set[str]] = {}
    result: dict[str, set[str]] = {}
    for stmt in fn.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                local[target.id] = reads(stmt.value, local)
        elif isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Call):
            for kw in stmt.value.keywords:
                for field_name in reads(kw.value, local):
                    result.setdefault(field_name, set()).add(kw.arg or "")
    return result


def resolve(location: str) -> tuple[object, str]:
    """The object a ``module/path.py:Qual.name`` location names, and the name to look for
    after ``@`` ('' if none)."""
    path, _, rest = location.partition(":")
    qualname, _, token = rest.partition("@")
    module_name = ".".join([PACKAGE, *Path(path).with_suffix("").parts])
    obj: object = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj, token


def source_of(obj: object) -> str:
    target = getattr(obj, "py_func", obj)  # numba dispatchers wrap the Python function
    return inspect.getsource(target)  # type: ignore[arg-type]


def check_code_locations() -> list[str]:
    """Problems with ``CODE``; empty if every entry is present, resolves and is real."""
    problems = []
    fields = {f.name: f for f in parameter_fields()}
    for name in sorted(set(fields) - set(CODE)):
        problems.append(f"CODE has no entry for parameter {name!r}")
    for name in sorted(set(CODE) - set(fields)):
        problems.append(f"CODE names {name!r}, which is not a parameter")
    compiled = compiled_names()
    for name, locations in CODE.items():
        if name not in fields or not locations:
            if name in fields:
                problems.append(f"CODE gives no location for {name!r}")
            continue
        f = fields[name]
        for loc in locations:
            try:
                obj, token = resolve(loc)
            except (ImportError, AttributeError) as e:
                problems.append(f"{name}: {loc} does not resolve ({e})")
                continue
            src = source_of(obj)
            names = {token} if token else {name, f.metadata["key"], *compiled.get(name, ())}
            if not any(n and n in src for n in names):
                problems.append(f"{name}: {loc} never mentions {' or '.join(sorted(names))}")
    return problems


# -- rendering -------------------------------------------------------------------------------


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def num(x: float) -> str:
    """A bound as a person writes it: 1,000,000 rather than 1e+06."""
    return f"{int(x):,}" if x == int(x) else f"{x:g}"


def fmt_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, float):
        if math.isinf(v):
            return "inf"
        return f"{v:g}" if v == int(v) and abs(v) < 1e15 else repr(v)
    return str(v)


def fmt_allowed(f) -> str:
    m = f.metadata
    kind = m["kind"]
    if kind == "bool":
        return "true, false"
    if kind == "choice":
        return ", ".join(f'"{c}"' for c in m["choices"])
    if kind == "datetime":
        return 'ISO 8601 date-time, or ""'
    lo, hi = m["low"], m["high"]
    span = f"{num(lo)} … {num(hi)}" if hi is not None and hi < 1e7 else f"≥ {num(lo)}"
    if kind == "int":
        return f"integer {span}"
    if kind == "term":
        return f"whole number {span}, or inf"
    return f"number {span}"


def render_params() -> str:
    rows = [
        "| `section.key` | default | allowed | timeline | meaning | source | code |",
        "|---|---|---|---|---|---|---|",
    ]
    defaults = Params()
    for f in parameter_fields():
        m = f.metadata
        code = ", ".join(f"`{loc.partition('@')[0]}`" for loc in CODE.get(f.name, ()))
        rows.append(
            "| "
            + " | ".join(
                [
                    f"`{m['section']}.{m['key']}`",
                    cell(f"`{fmt_value(getattr(defaults, f.name))}`"),
                    cell(fmt_allowed(f)),
                    "yes" if m["timeline"] else "",
                    cell(m["doc"]),
                    cell(m["source"]),
                    cell(code),
                ]
            )
            + " |"
        )
    return "\n".join(rows)


def fmt_event(e: SetEvent | RampEvent, key: str) -> str:
    if isinstance(e, SetEvent):
        return f"tick {e.tick}: {key} = {fmt_value(e.value)}"
    return f"ticks {e.start}–{e.end}: {key} → {fmt_value(e.value)}"


#: Presets that are scenarios of the uprising's mechanisms rather than the classic
#: model's runs: their files explain them, and the table would drown in their
#: mechanism values and actions.
SCENARIO_PRESETS = ("kz2022-almaty",)


def render_presets() -> str:
    missing = [name for name, _ in PRESET_COLUMNS if name not in preset_names()]
    listed = {name for name, _ in PRESET_COLUMNS} | set(SCENARIO_PRESETS)
    extra = sorted(set(preset_names()) - listed)
    if missing or extra:
        raise SystemExit(f"PRESET_COLUMNS is out of date: missing {missing}, not listed {extra}")
    scenarios = [load_preset(name) for name, _ in PRESET_COLUMNS]
    defaults = Params()
    header = ["`section.key`", "default", *(title for _, title in PRESET_COLUMNS)]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for f in parameter_fields():
        m = f.metadata
        if m["section"] == "run":
            continue
        values = [sc.params.value(f.name) for sc in scenarios]
        default = getattr(defaults, f.name)
        if all(v == default for v in values):
            continue
        rows.append(
            "| "
            + " | ".join(
                [f"`{m['section']}.{m['key']}`", cell(fmt_value(default))]
                + [cell(fmt_value(v)) for v in values]
            )
            + " |"
        )
    key_of = {f.name: f.metadata["key"] for f in parameter_fields()}
    timeline = [
        "; ".join(fmt_event(e, key_of[e.param]) for e in sc.timeline) or "—" for sc in scenarios
    ]
    rows.append("| timeline | — | " + " | ".join(cell(t) for t in timeline) + " |")
    return "\n".join(rows)


BLOCKS = {"params": render_params, "presets": render_presets}


def begin_marker(block: str) -> str:
    return f"<!-- BEGIN GENERATED: {block} (scripts/params_table.py; do not edit) -->"


def end_marker(block: str) -> str:
    return f"<!-- END GENERATED: {block} -->"


def regenerate(text: str) -> str:
    """``text`` with every generated block replaced by its current content."""
    for block, render in BLOCKS.items():
        begin, end = begin_marker(block), end_marker(block)
        if text.count(begin) != 1 or text.count(end) != 1:
            raise SystemExit(f"{DOC}: expected exactly one {begin!r} and one {end!r}")
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = f"{head}{begin}\n{render()}\n{end}{tail}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the doc is out of date")
    parser.add_argument("--doc", type=Path, default=DOC, help="the ODD document")
    args = parser.parse_args(argv)
    problems = check_code_locations()
    for p in problems:
        print(f"params_table: {p}", file=sys.stderr)
    text = args.doc.read_text("utf-8")
    new = regenerate(text)
    if args.check:
        if new != text:
            print(
                f"params_table: {args.doc} is out of date; run python scripts/params_table.py",
                file=sys.stderr,
            )
            return 1
        return 1 if problems else 0
    if new != text:
        args.doc.write_text(new, "utf-8")
        print(f"params_table: updated {args.doc}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
