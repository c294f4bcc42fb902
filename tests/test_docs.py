"""docs/odd.md against the code: every parameter described, generated tables current,
code references real, the hand-written table of open choices equal to the presets."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import upheaval
from upheaval.model.params import parameters

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "odd.md"
SCRIPT = ROOT / "scripts" / "params_table.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("params_table", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


params_table = _load_script()


def prose() -> str:
    """docs/odd.md without its generated blocks: what a person wrote."""
    text = DOC.read_text("utf-8")
    return re.sub(r"<!-- BEGIN GENERATED: (\w+).*?<!-- END GENERATED: \1 -->", "", text, flags=re.S)


def mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text) is not None


@pytest.mark.parametrize("location", [f.location for f in parameters()])
def test_every_parameter_is_described_in_the_prose(location):
    # The generated table lists every parameter by construction; a new parameter must
    # also be explained where it acts (submodels, design concepts or choices).
    assert mentions(prose(), location), f"docs/odd.md never explains {location}"


def test_mentions_needs_the_whole_name():
    assert mentions("set `citizens.vision` here", "citizens.vision")
    assert not mentions("set `citizens.visionary` here", "citizens.vision")
    assert not mentions("set `xcitizens.vision` here", "citizens.vision")


def test_generated_tables_are_up_to_date():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_check_detects_a_stale_table(tmp_path):
    text = DOC.read_text("utf-8")
    stale = text.replace("| `citizens.legitimacy` | `0.82` |", "| `citizens.legitimacy` | `0.8` |")
    assert stale != text
    doc = tmp_path / "odd.md"
    doc.write_text(stale, "utf-8")
    assert params_table.main(["--check", "--doc", str(doc)]) == 1
    assert doc.read_text("utf-8") == stale  # --check never writes
    assert params_table.main(["--doc", str(doc)]) == 0
    assert doc.read_text("utf-8") == text


def test_generated_table_has_a_row_per_parameter():
    rows = params_table.render_params().splitlines()[2:]
    assert len(rows) == len(parameters())
    for row, f in zip(rows, parameters(), strict=True):
        assert row.startswith(f"| `{f.section}.{f.key}` |")
        assert row.count(" | ") == 8  # nine cells: no unescaped '|' inside a cell


def test_every_parameter_is_read_by_some_code():
    assert params_table.check_code_locations() == []


def test_code_index_follows_reads_and_compiled_fields():
    index = params_table.code_index()
    # read through the kernels' record: compile_rules maps includes_self to it
    assert "model/rules/decision.py:willing" in index["active_count_includes_self"]
    # through a local neighbourhood built from two parameters (cop = neighbourhood(...))
    assert "model/rules/arrest.py:enforce" in index["vision_shape"]
    # through a section bound to a local name (o = p.organisation)
    assert "model/rules/organisation.py:Organisation.after_tick" in index["organisation_quorum"]
    # a time-varying value in force (place.dynamic[...], place.now(...))
    assert "engine/place.py:Place.step" in index["max_jail_term"]
    # every listed location resolves to a real function
    for found in index.values():
        for loc in found:
            params_table.resolve(loc)


def test_code_index_catches_an_unread_parameter(monkeypatch):
    index = params_table.code_index()
    index["threshold"] = []
    monkeypatch.setattr(params_table, "code_index", lambda: index)
    assert params_table.check_code_locations() == [
        "no code reads parameter 'threshold' (citizens.threshold)"
    ]


def test_code_references_in_the_prose_resolve():
    refs = set(re.findall(r"`([\w/]+\.py):([\w.]+)`", prose()))
    assert refs, "expected module:function references in docs/odd.md"
    for path, name in refs:
        params_table.resolve(f"{path}:{name}")  # raises if the name is gone


def test_file_references_in_the_prose_exist():
    for path in set(re.findall(r"`([\w/]+\.py)`", prose())):
        candidates = [ROOT / path, ROOT / "src" / "upheaval" / path]
        assert any(c.is_file() for c in candidates), path


# The hand-written table of §9: parameter cell, then NetLogo, Mesa and paper-run cells
# whose first `value` must equal the presets'.
PRESET_OF_COLUMN = {2: "netlogo-rebellion", 3: "mesa-example", 4: "epstein2002-run2"}


def _choices_rows() -> list[list[str]]:
    text = prose()
    section = text.split("## 9. Choices the paper leaves open", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if line.startswith("| ") and "`" in line.split("|")[2]:
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def test_open_choices_table_matches_the_presets():
    rows = _choices_rows()
    assert len(rows) >= 9
    by_loc = {f.location: f for f in parameters()}
    checked = 0
    for row in rows:
        locations = re.findall(r"`([\w.]+)`", row[1])
        for col, preset in PRESET_OF_COLUMN.items():
            value = re.match(r"`([^`]+)`", row[col])
            assert value, (row, col)
            for loc in locations:
                actual = upheaval.load(preset).params.value(by_loc[loc].name)
                written = params_table.fmt_value(actual).strip('"')
                assert value.group(1) == written, (loc, preset, value.group(1), written)
                checked += 1
    assert checked >= 27


def test_paper_runs_agree_on_every_open_choice():
    # §9 gives one "paper-run presets" column: all eight runs must share those values.
    rows = _choices_rows()
    by_loc = {f.location: f for f in parameters()}
    runs = [upheaval.load(f"epstein2002-run{n}").params for n in range(1, 9)]
    for row in rows:
        for loc in re.findall(r"`([\w.]+)`", row[1]):
            values = {p.value(by_loc[loc].name) for p in runs}
            assert len(values) == 1, (loc, values)


def test_scenario_guide_covers_every_table_action_and_timeline_parameter():
    """docs/scenarios.md cannot drift from the registry: every table, every action
    with exactly its keys, and every parameter a timeline may change."""
    from upheaval.model.mechanisms import action_specs
    from upheaval.model.params import SECTIONS

    text = (ROOT / "docs" / "scenarios.md").read_text("utf-8")
    for section in SECTIONS:
        assert f"| `[{section}]` |" in text, section
    rows = {
        line.split("|")[1].strip(" `"): line.split("|")
        for line in text.splitlines()
        if line.startswith("| `") and line.count("|") == 5
    }
    for action, spec in action_specs().items():
        assert action in rows, action
        cells = rows[action]
        assert set(re.findall(r"`(\w+)`", cells[2])) == set(spec.required), action
        assert set(re.findall(r"`(\w+)`", cells[3])) == set(spec.optional), action
    for f in parameters():
        if f.timeline:
            key = f.key
            loc = f"{f.section}.{key}"
            assert f"`{loc}`" in text or f"`{key}`" in text, loc


def test_reliability_doc_names_only_tests_that_exist():
    """docs/reliability.md backs each guarantee with tests: every one it names must
    exist, or the guarantee is held by nothing."""
    text = (ROOT / "docs" / "reliability.md").read_text("utf-8")
    named = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", text)
    assert len(named) >= 30
    for path, name in named:
        source = (ROOT / path).read_text("utf-8")
        assert re.search(rf"^def {name}\(", source, re.M), f"{path}::{name} does not exist"
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "`docs/reliability.md`" in readme
