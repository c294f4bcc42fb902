"""docs/kazakhstan_calibration.json, docs/kazakhstan_calibration.md and the preset are
in step (scripts/kz2022_calibration.py --check; nothing is run): the doc is what the
JSON renders, the preset carries the posterior medians, and the study is the one the
script describes."""

from __future__ import annotations

import json
from pathlib import Path

import upheaval
from country.helpers import script

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
JSON = ROOT / "docs" / "kazakhstan_calibration.json"


def test_doc_is_what_the_json_renders():
    assert script("kz2022_calibration").main(["--check"]) == 0


def test_a_changed_result_is_caught(tmp_path, monkeypatch):
    mod = script("kz2022_calibration")
    doc = json.loads(JSON.read_text("utf-8"))
    doc["predictive"]["onsets"]["Almaty"][0] = 1.0
    forged = tmp_path / "cal.json"
    forged.write_text(json.dumps(doc), "utf-8")
    monkeypatch.setattr(mod, "CALIBRATION_JSON", forged)
    assert mod.main(["--check"]) == 1


def test_preset_carries_the_posterior_medians():
    doc = json.loads(JSON.read_text("utf-8"))
    sc = upheaval.load("kazakhstan-2022")
    for key, v in doc["posterior"]["parameters"].items():
        section, name = key.split(".")
        got = getattr(getattr(sc.params, section), name)
        assert abs(got - v["median"]) <= 1e-5 * max(1.0, abs(v["median"])), key
        assert v["prior"][0] <= v["lo"] <= v["median"] <= v["hi"] <= v["prior"][1], key
    assert sc.params.run.burn_in > 0


def test_study_is_what_the_script_says():
    mod = script("kz2022_calibration")
    doc = json.loads(JSON.read_text("utf-8"))
    s = doc["settings"]
    assert len(doc["posterior"]["parameters"]) <= 12
    assert s["particles"] == mod.PARTICLES and s["generations"] == mod.GENERATIONS
    assert len(doc["generations"]) == mod.GENERATIONS
    assert len(doc["posterior"]["particles"]) == mod.PARTICLES
    assert len(doc["predictive"]["outcomes"]) == mod.PREDICTIVE_DRAWS
    # the held-out places are not in the fit, and the split is the script's rule
    assert not set(doc["held_out"]) & set(doc["training"])
    from upheaval.experiments.scoring import Observations

    train, held = mod.split_places(Observations.load(mod.OBSERVED))
    assert (train, held) == (doc["training"], doc["held_out"])
    # tolerances shrink from generation to generation
    eps = [g["epsilon"] for g in doc["generations"][1:]]
    assert eps == sorted(eps, reverse=True)
