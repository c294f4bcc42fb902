"""Generated documents against the records they are generated from: docs/replication.md
(and README's replication summary) from tests/replication/results, docs/mechanisms.md
from tests/mechanisms/results. A document that drifts from its records fails here."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


replication = _script("replication_report")


def test_replication_doc_and_readme_match_the_records():
    assert replication.main(["--check"]) == 0, "run: python scripts/replication_report.py"


def test_replication_check_catches_a_changed_record(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(ROOT / "tests" / "replication" / "results", results)
    out, readme = tmp_path / "replication.md", tmp_path / "README.md"
    shutil.copy(ROOT / "docs" / "replication.md", out)
    shutil.copy(ROOT / "README.md", readme)
    args = ["--results", str(results), "--out", str(out), "--readme", str(readme)]
    assert replication.main([*args, "--check"]) == 0
    e4 = json.loads((results / "E4.json").read_text())
    e4["verdict"] = "reproduced"
    (results / "E4.json").write_text(json.dumps(e4))
    before = out.read_text()
    assert replication.main([*args, "--check"]) == 1
    assert out.read_text() == before  # --check never writes
    assert replication.main(args) == 0
    assert replication.main([*args, "--check"]) == 0
    assert "11 reproduced" in readme.read_text()


def test_unit_checks_are_not_counted_as_reproduced_claims():
    records = replication.load(ROOT / "tests" / "replication" / "results")
    counts = replication.verdict_counts(records)
    assert sum(counts.values()) == len(records) - len(replication.UNIT_CHECKS)
    text = (ROOT / "docs" / "replication.md").read_text()
    for claim in replication.UNIT_CHECKS:
        row = next(line for line in text.splitlines() if line.startswith(f"| {claim} |"))
        assert "unit check" in row and "**reproduced**" not in row
