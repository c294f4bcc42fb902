"""Generate the parameter tables of docs/odd.md from the registry, so the doc cannot drift.

Two blocks of docs/odd.md are generated, each between marker comments::

    <!-- BEGIN GENERATED: params (scripts/params_table.py; do not edit) -->
    ...
    <!-- END GENERATED: params -->

* ``params``: every parameter of the registry (:mod:`upheaval.model.params`) — its
  ``section.key``, default, allowed values, scope, whether only the initial
  population reads it, whether a timeline may change it, its meaning and source (all
  from its declaration), and the functions that read it (:func:`code_index`, derived
  from the source);
* ``presets``: the value of every parameter that differs between the shipped
  presets (the paper's runs 1–8, NetLogo Rebellion, Mesa), read from the preset
  files, plus their timelines.

Usage::

    python scripts/params_table.py            # rewrite the blocks in docs/odd.md
    python scripts/params_table.py --check    # exit 1 if docs/odd.md is out of date

``--check`` also fails if some parameter is read by no code at all.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import math
import sys
from pathlib import Path

from upheaval.model.params import Params, parameter, parameters
from upheaval.model.timeline import RampEvent, SetEvent
from upheaval.scenario.loading import load_preset, preset_names

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "odd.md"
PACKAGE = "upheaval"

#: Presets in the order of the ``presets`` table, with their column titles.
PRESET_COLUMNS: tuple[tuple[str, str], ...] = (
    *((f"epstein2002-run{n}", f"run {n}") for n in range(1, 9)),
    ("netlogo-rebellion", "NetLogo"),
    ("mesa-example", "Mesa"),
)


# -- code locations ------------------------------------------------------------------------
#: How many places the table lists for a parameter (the index may know more).
SHOWN = 4
#: The names the kernels' records travel under in compiled code.
RULES_NAMES = ("r", "rules")


def _functions(tree: ast.Module):
    """(qualified name, node) of every function and method of a module."""
    stack: list[tuple[str, ast.AST]] = [("", tree)]
    while stack:
        prefix, node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                yield name, child
                stack.append((f"{name}.", child))
            elif isinstance(child, ast.ClassDef):
                stack.append((f"{prefix}{child.name}.", child))


def _sections_of(fn: ast.AST) -> dict[str, str]:
    """Local names bound to a parameter section in ``fn`` (``o = p.organisation``)."""
    sections = {p.section for p in parameters()}
    out = {}
    for stmt in ast.walk(fn):
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
            continue
        target, value = stmt.targets[0], stmt.value
        pairs = [(target, value)]
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            pairs = list(zip(target.elts, value.elts, strict=False))
        for t, v in pairs:
            if isinstance(t, ast.Name) and isinstance(v, ast.Attribute) and v.attr in sections:
                out[t.id] = v.attr
    return out


def _parameter_at(node: ast.AST, aliases: dict[str, str], locations) -> str | None:
    """The parameter an attribute read names (``p.jail.max_jail_term``, ``o.quorum``
    with ``o`` a section), or None."""
    if not isinstance(node, ast.Attribute):
        return None
    if isinstance(node.value, ast.Attribute):
        return locations.get((node.value.attr, node.attr))
    if isinstance(node.value, ast.Name) and node.value.id in aliases:
        return locations.get((aliases[node.value.id], node.attr))
    return None


def _compiled(fn: ast.AST, locations: dict[tuple[str, str], str]) -> dict[str, set[str]]:
    """Rules field → parameters a ``compile_rules`` reads for it: the dict literal it
    builds or returns, following local variables (``cit = neighbourhood(p.world...)``)."""
    local: dict[str, set[str]] = {}
    aliases = _sections_of(fn)

    def reads(node: ast.AST) -> set[str]:
        out: set[str] = set()
        for sub in ast.walk(node):
            name = _parameter_at(sub, aliases, locations)
            if name:
                out.add(name)
            elif isinstance(sub, ast.Name) and sub.id in local:
                out |= local[sub.id]
        return out

    result: dict[str, set[str]] = {}
    for stmt in ast.walk(fn):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                local[target.id] = reads(stmt.value)
            elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                # unit_origin[0] = … adds to what the array was built from
                local.setdefault(target.value.id, set()).update(reads(stmt.value))
        if isinstance(stmt, ast.Dict):
            for k, v in zip(stmt.keys, stmt.values, strict=True):
                if isinstance(k, ast.Constant) and isinstance(k.value, str):
                    result.setdefault(k.value, set()).update(reads(v))
    return result


def code_index() -> dict[str, list[str]]:
    """Parameter name → ``path:function`` of every function of the package that reads
    it: through the parameters (``….citizens.threshold``, ``value("threshold")``,
    ``now("legitimacy")``) or, once compiled, through the kernels' record
    (``r.threshold``, as ``compile_rules`` maps fields to parameters). Derived from
    the source, so it cannot drift; validation and declarations are left out."""
    src = ROOT / "src" / PACKAGE
    locations = {(p.section, p.key): p.name for p in parameters()}
    names = {p.name for p in parameters()}
    reads: dict[str, set[str]] = {}  # function → parameters read directly
    fields: dict[str, set[str]] = {}  # function → Rules fields read
    compiled: dict[str, set[str]] = {}  # Rules field → parameters
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src).as_posix()
        if rel in ("model/params.py", "model/declare.py"):
            continue
        tree = ast.parse(path.read_text("utf-8"))
        for qual, fn in _functions(tree):
            where = f"{rel}:{qual}"
            if qual.endswith(".validate") or qual.endswith("compile_rules"):
                if qual.endswith("compile_rules"):
                    for field, params in _compiled(fn, locations).items():
                        compiled.setdefault(field, set()).update(params)
                continue
            aliases = _sections_of(fn)
            for node in ast.walk(fn):
                if isinstance(node, ast.Attribute):
                    name = _parameter_at(node, aliases, locations)
                    if name:
                        reads.setdefault(where, set()).add(name)
                    base = node.value
                    base_name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
                    if base_name in RULES_NAMES:
                        fields.setdefault(where, set()).add(node.attr)
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    if node.func.attr in ("value", "now") and node.args:
                        arg = node.args[0]
                        if isinstance(arg, ast.Constant) and arg.value in names:
                            reads.setdefault(where, set()).add(arg.value)
                elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                    # a time-varying value in force: place.dynamic["legitimacy"]
                    base = node.value
                    if getattr(base, "attr", None) == "dynamic" and node.slice.value in names:
                        reads.setdefault(where, set()).add(node.slice.value)
    index: dict[str, set[str]] = {}
    for where, params in reads.items():
        for name in params:
            index.setdefault(name, set()).add(where)
    for where, used in fields.items():
        for field in used:
            for name in compiled.get(field, ()):
                index.setdefault(name, set()).add(where)
    return {name: sorted(index.get(name, ()), key=_reading_order) for name in index_names(names)}


#: Where a reader looks first: the rules, the engine, then the rest.
_FIRST = ("model/kernels.py", "model/rules/", "engine/", "model/", "world/")


def _reading_order(location: str) -> tuple[int, str]:
    rank = next((k for k, p in enumerate(_FIRST) if location.startswith(p)), len(_FIRST))
    return rank, location


def index_names(names: set[str]) -> list[str]:
    return [p.name for p in parameters() if p.name in names]


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


def check_code_locations() -> list[str]:
    """Problems: a parameter that no code reads (declared, documented, dead)."""
    return [
        f"no code reads parameter {name!r} ({parameter(name).location})"
        for name, found in code_index().items()
        if not found
    ]


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
    kind = f.kind
    if kind == "bool":
        return "true, false"
    if kind == "choice":
        return ", ".join(f'"{c}"' for c in f.choices)
    if kind == "datetime":
        return 'ISO 8601 date-time, or ""'
    if kind == "text":
        return 'text in the form the meaning gives, or ""'
    lo, hi = f.low, f.high
    span = f"{num(lo)} … {num(hi)}" if hi is not None and hi < 1e7 else f"≥ {num(lo)}"
    if kind == "int":
        return f"integer {span}"
    if kind == "term":
        return f"whole number {span}, or inf"
    return f"number {span}"


def render_params() -> str:
    rows = [
        "| `section.key` | default | allowed | scope | initial only | timeline | meaning "
        "| source | read in |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    defaults = Params()
    index = code_index()
    for f in parameters():
        found = index[f.name]
        code = ", ".join(f"`{loc}`" for loc in found[:SHOWN])
        if len(found) > SHOWN:
            code += f" and {len(found) - SHOWN} more"
        rows.append(
            "| "
            + " | ".join(
                [
                    f"`{f.location}`",
                    cell(f"`{fmt_value(defaults.value(f.name))}`"),
                    cell(fmt_allowed(f)),
                    f.scope,
                    "yes" if f.initial_only else "",
                    "yes" if f.timeline else "",
                    cell(f.doc),
                    cell(f.source),
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


#: Presets of the January 2022 uprising rather than the classic model's runs (the
#: country, and its place Almaty alone): their files explain them, and the table
#: would drown in their mechanism values and actions.
SCENARIO_PRESETS = ("kz2022-almaty", "kazakhstan-2022")


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
    for f in parameters():
        if f.section == "run":
            continue
        values = [sc.params.value(f.name) for sc in scenarios]
        default = defaults.value(f.name)
        if all(v == default for v in values):
            continue
        rows.append(
            "| "
            + " | ".join(
                [f"`{f.location}`", cell(fmt_value(default))] + [cell(fmt_value(v)) for v in values]
            )
            + " |"
        )
    key_of = {f.name: f.key for f in parameters()}
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
