"""docs/kazakhstan_sbc.json and docs/kazakhstan_sbc.md are in step, and the stored
study is what scripts/kz2022_sbc.py says it is (nothing is run): the doc is what the
JSON renders; ≥ 100 truths; ranks in range; the summary is what the per-truth records
give; the per-truth records are what the stored reference table gives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from country.helpers import script
from upheaval.experiments.calibration import prior_scale

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
JSON = ROOT / "docs" / "kazakhstan_sbc.json"


@pytest.fixture(scope="module")
def mod():
    return script("kz2022_sbc")


@pytest.fixture(scope="module")
def doc():
    return json.loads(JSON.read_text("utf-8"))


def test_doc_is_what_the_json_renders(mod):
    assert mod.main(["--check"]) == 0


def test_a_changed_result_is_caught(mod, doc, tmp_path, monkeypatch):
    forged = json.loads(json.dumps(doc))
    forged["studies"][0]["summary"][forged["settings"]["parameters"][0]]["coverage"]["0.9"][
        "rate"
    ] = 0.123
    path = tmp_path / "sbc.json"
    path.write_text(json.dumps(forged), "utf-8")
    monkeypatch.setattr(mod, "SBC_JSON", path)
    assert mod.main(["--check"]) == 1


def test_study_is_what_the_script_says(mod, doc):
    s = doc["settings"]
    assert s["table_runs"] == mod.TABLE_RUNS and s["seed"] == mod.SEED
    assert s["accept"] == list(mod.ACCEPT) and s["k_main"] == mod.K_MAIN in mod.ACCEPT
    assert s["parameters"] == list(mod.FITTED)
    assert s["priors"] == {k: [lo, hi] for k, (lo, hi, _) in mod.FITTED.items()}
    theta = np.array(doc["table"]["theta"])
    stats = np.array(doc["table"]["stats"])
    n = len(theta)
    assert n >= 100 and n + doc["failed_runs"] == s["table_runs"]
    assert stats.shape == (n, len(s["statistics"])) and np.all(np.isfinite(stats))
    # the table's points are the script's seeded prior draws (failed runs left out)
    drawn = mod.table_theta(s["table_runs"], np.array(s["bounds"]))
    if doc["failed_runs"] == 0:
        assert np.array_equal(drawn, theta)
    assert all(any(np.array_equal(t, d) for d in drawn) for t in theta[:20])
    assert s["bounds"] == [list(b) for b in mod.FITTED_BOUNDS]
    b = np.array(s["bounds"])
    assert np.all((theta >= b[:, 0]) & (theta <= b[:, 1]))


def test_per_truth_records_are_sound_and_give_the_summary(mod, doc):
    s = doc["settings"]
    n = len(doc["table"]["theta"])
    for st in doc["studies"]:
        k = st["k"]
        ranks = np.array(st["ranks"])
        assert ranks.shape == (n, len(s["parameters"]))
        assert ranks.min() >= 0 and ranks.max() <= k
        covered = {float(a): np.array(v, dtype=bool) for a, v in st["covered"].items()}
        assert sorted(covered) == s["levels"]
        # a truth inside the 50 % interval is inside the 90 % one
        assert not np.any(covered[0.5] & ~covered[0.9])
        again = mod.summarise(ranks, covered, k, s["parameters"])
        assert json.dumps(again, sort_keys=True) == json.dumps(st["summary"], sort_keys=True)
        null = mod.null_rows(np.array(doc["table"]["stats"]))
        assert null.sum() == doc["null_runs"]
        eventful = mod.summarise(
            ranks[~null], {a: c[~null] for a, c in covered.items()}, k, s["parameters"]
        )
        assert json.dumps(eventful, sort_keys=True) == json.dumps(
            st["summary_eventful"], sort_keys=True
        )
        for name in s["parameters"]:
            for a, c in st["summary"][name]["coverage"].items():
                assert c["truths"] == n >= 100
                assert c["rate"] == c["covered"] / n
                assert c["met"] == (abs(c["rate"] - float(a)) <= s["tolerance"] + 1e-12)


def test_records_are_what_the_stored_table_gives(mod, doc):
    """The headline SBC again from the stored table: the same ranks and coverage."""
    theta = np.array(doc["table"]["theta"])
    stats = np.array(doc["table"]["stats"])
    main = next(st for st in doc["studies"] if st["k"] == doc["settings"]["k_main"])
    again = mod.sbc_of(theta, stats, main["k"])
    for key in ("ranks", "covered", "width_over_prior", "summary"):
        assert again[key] == main[key], key
    assert np.array_equal(prior_scale(stats), np.array(doc["scale"]))


def test_the_smc_was_run_on_the_same_simulator(doc):
    """The SMC's generation 0, rerun by the study, gives the SMC's first tolerance."""
    o = doc["observed"]
    cal = json.loads((ROOT / "docs" / "kazakhstan_calibration.json").read_text("utf-8"))
    assert o["smc_epsilons"] == [g["epsilon"] for g in cal["generations"][1:]]
    assert o["smc_generation0_median_distance"] == pytest.approx(o["smc_epsilons"][0], rel=1e-9)
