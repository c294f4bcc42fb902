"""docs/kazakhstan_scores.json and docs/kazakhstan.md are in step with the scoring
code: the stored onsets rescored give the stored scores, and the doc is what the
JSON renders (scripts/kz2022_scores.py --check; nothing is run)."""

from __future__ import annotations

import json
from pathlib import Path

from country.helpers import script

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "kz2022_scores.py"
JSON = ROOT / "docs" / "kazakhstan_scores.json"


def test_scores_and_doc_are_in_step():
    assert script("kz2022_scores").main(["--check"]) == 0


def test_measurement_is_what_the_issue_asks():
    doc = json.loads(JSON.read_text("utf-8"))
    assert len(doc["seeds"]) >= 20 and doc["preset"] == "kazakhstan-2022"
    assert doc["steps"] == 504 and doc["scale"] in (100.0, 200.0)
    assert all(len(v) == len(doc["seeds"]) for v in doc["onsets"].values())
    assert len(doc["onsets"]) == 36
    names = [b["name"] for b in doc["scores"]["baselines"]]
    assert names[0].startswith("null") and "distance" in names[2]


def test_a_changed_score_is_caught(tmp_path, monkeypatch):
    mod = script("kz2022_scores")
    doc = json.loads(JSON.read_text("utf-8"))
    doc["scores"]["model"]["mean_crps"] += 1.0
    bad = tmp_path / "scores.json"
    bad.write_text(json.dumps(doc), "utf-8")
    monkeypatch.setattr(mod, "JSON_OUT", bad)
    assert mod.main(["--check"]) == 1
