"""docs/kazakhstan_whatif.json and docs/kazakhstan_whatif.md are in step
(scripts/kz2022_whatif.py --check; nothing is run): the doc is what the stored runs
render, its intervals are 90 %, and the study is the one the script describes."""

from __future__ import annotations

import json

import numpy as np

from country.helpers import ROOT, script

JSON = ROOT / "docs" / "kazakhstan_whatif.json"


def test_doc_is_what_the_json_renders():
    assert script("kz2022_whatif").main(["--check"]) == 0


def test_a_changed_run_is_caught(tmp_path, monkeypatch):
    mod = script("kz2022_whatif")
    doc = json.loads(JSON.read_text("utf-8"))
    doc["runs"]["no-intervention"][0][0] += 1000.0  # one run's civilian deaths
    forged = tmp_path / "whatif.json"
    forged.write_text(json.dumps(doc), "utf-8")
    monkeypatch.setattr(mod, "WHATIF_JSON", forged)
    assert mod.main(["--check"]) == 1


def test_study_is_what_the_script_says():
    mod = script("kz2022_whatif")
    doc = json.loads(JSON.read_text("utf-8"))
    s = doc["settings"]
    assert s["level"] == mod.LEVEL == 0.9
    assert "90 % intervals" in (ROOT / "docs" / "kazakhstan_whatif.md").read_text("utf-8")
    assert (s["draws"], s["seeds"], s["seed"]) == (mod.DRAWS, mod.SEEDS, mod.SEED)
    cal = json.loads((ROOT / "docs" / "kazakhstan_calibration.json").read_text("utf-8"))
    assert s["scale"] == cal["settings"]["fit_scale"]
    assert [v["what_if"] for v in doc["variants"][1:]] == list(mod.VARIANTS)
    n = mod.DRAWS * mod.SEEDS
    assert all(np.shape(r) == (n, len(doc["outcomes"])) for r in doc["runs"].values())
    assert [f"lost:{p}" for p in mod.PLACE_LOST] == doc["outcomes"][-2:]
    # the draws are the calibration's particles, drawn by the script's rule
    from upheaval.experiments.posterior import load_posterior, resample_draws

    again = resample_draws(load_posterior(mod.CALIBRATION_JSON), mod.DRAWS, mod.SEED)
    assert again.attrs["particles"] == doc["draws"]["particles"]
    for col, values in doc["draws"]["values"].items():
        assert list(again[col]) == values, col
