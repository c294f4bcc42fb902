"""Dependencies as declared: every library the package imports is in pyproject.toml,
optional ones (Dask, Ray) only inside the functions that need them and with a message
naming the extra when missing; ``upheaval --version``."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from typer.testing import CliRunner

import upheaval
from upheaval.cli import app

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "upheaval"
# Distributions that are not installed in the test environment (so that
# packages_distributions cannot name them) but are imported by the package.
KNOWN = {"ray": "ray", "distributed": "distributed"}


def _requirement_names(reqs: list[str]) -> set[str]:
    """Distribution names in requirement strings, with the extras they pull in
    (``dask[distributed]`` declares both dask and distributed)."""
    names = set()
    for req in reqs:
        m = re.match(r"\s*([A-Za-z0-9_.-]+)(?:\[([^\]]*)\])?", req)
        assert m, req
        names.add(m.group(1).lower())
        names.update(x.strip().lower() for x in (m.group(2) or "").split(",") if x.strip())
    return names


def _imports() -> list[tuple[str, Path, bool]]:
    """(top-level module, file, imported at module level) for every import in src."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        top_level = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods = [node.module]
            else:
                continue
            for mod in mods:
                found.append((mod.split(".")[0], path, id(node) in top_level))
    return found


def test_every_imported_library_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    core = _requirement_names(project["dependencies"])
    extras = {
        name: _requirement_names(reqs)
        for name, reqs in project["optional-dependencies"].items()
        if name != "test"  # the test extra is not something a user installs to run code
    }
    optional = set().union(*extras.values()) - core
    dists = packages_distributions()
    problems = []
    for mod, path, module_level in _imports():
        if mod in sys.stdlib_module_names or mod == "upheaval":
            continue
        dist = (dists.get(mod) or [KNOWN.get(mod, mod)])[0].lower()
        where = path.relative_to(ROOT)
        if dist in core:
            continue
        if dist in optional:
            if module_level:
                problems.append(f"{where}: optional {dist} imported at module level")
            continue
        problems.append(f"{where}: imports {mod} ({dist}), declared nowhere")
    assert not problems, "\n".join(sorted(set(problems)))


def test_version_option():
    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == f"upheaval {upheaval.__version__}"


@pytest.mark.parametrize(
    ("flag", "module", "extra"), [("--dask", "distributed", "dask"), ("--ray", "ray", "ray")]
)
def test_missing_extra_names_it(tmp_path, monkeypatch, flag, module, extra):
    # None in sys.modules makes `import module` raise ImportError, as if not installed.
    monkeypatch.setitem(sys.modules, module, None)
    r = CliRunner().invoke(
        app,
        [
            "sweep", "epstein2002-run2", "-p", "legitimacy=0.6:0.9", "--steps", "2",
            flag, "local", "--out", str(tmp_path / "s"), "--no-progress",
        ],
    )  # fmt: skip
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"pip install 'upheaval[{extra}]'" in lines[0], r.stderr
