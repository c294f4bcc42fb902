"""The kazakhstan-2022 preset: it equals what scripts/kz2022_preset.py generates
from shared/data/kz2022 (when that folder exists), it loads, and its observed.json
agrees with its places and timeline; kz2022-almaty, generated with it, is its place
Almaty alone."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

import upheaval
from country.helpers import script
from upheaval.experiments.scoring import Observations, parse_utc
from upheaval.model.params import Params, parameters
from upheaval.scenario.country import place_params, place_timeline

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "kz2022"
SCRIPT = ROOT / "scripts" / "kz2022_preset.py"
FOLDER = ROOT / "src" / "upheaval" / "scenario" / "presets" / "kazakhstan-2022"
OBSERVED = FOLDER / "observed.json"
needs_data = pytest.mark.skipif(
    not (DATA / "cities.csv").is_file(), reason=f"the kz2022 data is not at {DATA} (CI)"
)


@needs_data
def test_committed_preset_equals_generated():
    files = script("kz2022_preset").generate(DATA)
    assert len(files) == 6  # kazakhstan-2022's five and kz2022-almaty.toml
    for path, text in files.items():
        assert path.read_text("utf-8") == text, f"{path.name} is stale: rerun {SCRIPT.name}"


@needs_data
def test_check_mode_exit_code():
    r = subprocess.run(
        [sys.executable, str(SCRIPT), str(DATA), "--check"], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr


@needs_data
def test_bad_data_is_one_line_naming_file_line_column(tmp_path):
    for f in ("cities.csv", "events.csv", "links.csv"):
        shutil.copy(DATA / f, tmp_path / f)
    rows = (tmp_path / "cities.csv").read_text("utf-8").splitlines()
    rows[3] = rows[3].replace("UTC+6", "UTC+six", 1)  # Shymkent, file line 4
    (tmp_path / "cities.csv").write_text("\n".join(rows) + "\n", "utf-8")
    r = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), "--check"], capture_output=True, text=True
    )
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "error: cities.csv: line 4, column 'utc_offset_jan2022': expected UTC+N"
    )


def test_detour_factor_is_the_median_documented_ratio():
    """The six usable documented distances (not 'whole section') give ratios to
    great-circle 1.016, 1.044, 1.207, 1.579, 1.618, 2.326: median (1.207 + 1.579) / 2
    = 1.393 (SOURCES.md lists them)."""
    text = (FOLDER / "SOURCES.md").read_text("utf-8")
    assert "detour factor 1.393" in text
    links = list(
        csv.DictReader(
            line
            for line in (FOLDER / "links.csv").open(encoding="utf-8")
            if not line.startswith("#")
        )
    )
    zh = next(r for r in links if r["from"] == "Zhanaozen" and r["to"] == "Aktau")
    # links.csv: 141 km great-circle × 1.393 = 196.4 km; road at 60 km/h
    assert zh["mode"] == "road" and zh["distance_km"] == "196"
    assert float(zh["travel_hours"]) == pytest.approx(141 * 1.393 / 60, abs=0.01)
    doc = next(r for r in links if r["from"] == "Atyrau" and r["to"] == "Aktau")
    assert doc["distance_km"] == "900"  # orexca driving distance, documented
    both = [r["mode"] for r in links if r["from"] == "Aktau" and r["to"] == "Beyneu"]
    assert both == ["road", "rail"]  # "road+rail" is two links


def test_preset_loads_with_its_places_links_and_timeline():
    sc = upheaval.load("kazakhstan-2022")
    c = sc.country
    assert c is not None and len(c.places) == 36
    # legitimacy is fitted and the same everywhere: Mangystau differs by its shock only
    assert c.place("Zhanaozen").override("legitimacy") is None
    assert sc.params.run.burn_in == 72
    assert sc.params.world.scale == 100.0
    assert sc.params.run.tick_minutes == 60 and sc.params.run.steps == 504
    start = parse_utc(str(sc.params.run.start))
    assert start == datetime(2022, 1, 1, 18, tzinfo=UTC)
    acts = [
        (e.action, getattr(e, "place", "") or None, e.tick)
        for e in sc.timeline
        if hasattr(e, "action")
    ]
    # 5 Jan 10:30 UTC: the blackout falls in tick ⌊(10:30 5 Jan − 18:00 1 Jan)/1 h⌋ + 1 = 89
    assert ("shutdown", None, 89) in acts
    reinf = [(p, t) for a, p, t in acts if a == "reinforce"]
    # 6 Jan 16:06 UTC → tick 119; 7 Jan 06:00 UTC → tick 133; 13 Jan 06:00 UTC → 277
    assert reinf == [("Almaty", 119), ("Nur-Sultan", 133)]
    assert [(p, t) for a, p, t in acts if a == "withdraw"] == [("Almaty", 277), ("Nur-Sultan", 277)]


def test_observed_agrees_with_places():
    obs_doc = json.loads(OBSERVED.read_text("utf-8"))
    names = [
        r["name"]
        for r in csv.DictReader(
            line
            for line in (FOLDER / "places.csv").open(encoding="utf-8")
            if not line.startswith("#")
        )
    ]
    assert list(obs_doc["places"]) == names
    obs = Observations.load(OBSERVED)
    assert obs.start == datetime(2022, 1, 1, 18, tzinfo=UTC)
    yes = [n for n, p in obs.protest.items() if p == "yes"]
    assert len(yes) == 28 and len(obs.protested()) == 28
    for name, p in obs_doc["places"].items():
        if p["protest"] == "yes":
            t = parse_utc(p["first_protest_utc"])
            lo, hi = (parse_utc(x) for x in p["window_utc"])
            assert lo <= t <= hi
            assert p["basis"] in ("utc", "local-date-noon")
        else:
            assert p["first_protest_utc"] is None, name
    # Zhanaozen rose first (morning 2 Jan, by date: noon UTC+5 = 07:00Z); Aktau at 19:58Z
    first = sorted(obs.protested(), key=lambda n: obs.onset_hours[n])
    assert first[:2] == ["Zhanaozen", "Aktau"]
    assert obs.onset_hours["Zhanaozen"] == 13.0
    assert obs_doc["places"]["Kaskelen"]["imputed"] == ["coordinates"]
    nat = obs_doc["national"]
    assert nat["deaths"]["total"] == 238 and nat["deaths"]["security"] == 19
    assert [d["low"] for d in nat["detained"]][-2:] == [9900, 10000]
    assert {b["place"] for b in nat["buildings_seized"]} == {"Taldykorgan", "Almaty", "Aktobe"}
    assert nat["end"]["end_of_unrest_utc"] == "2022-01-11T05:48Z"


def test_every_region_has_its_state_of_emergency_and_its_end():
    sc = upheaval.load("kazakhstan-2022")
    regions = {p.region for p in sc.country.places}
    soe = [e for e in sc.timeline if getattr(e, "action", "") == "emergency"]
    lifted = [e for e in sc.timeline if getattr(e, "action", "") == "lift_emergency"]
    assert sorted(e.region for e in soe) == sorted(regions)
    assert sorted(e.region for e in lifted) == sorted(regions)
    assert all((e.curfew_from, e.curfew_to) == (23, 7) for e in soe)
    first = {e.region: e.tick for e in soe}
    end = {e.region: e.tick for e in lifted}
    assert all(first[r] < end[r] for r in regions)
    # Almaty city and Mangystau first (01:30 5 Jan Nur-Sultan time = 19:30 UTC 4 Jan,
    # tick 74), the national end at 00:00 19 Jan local (18:00 UTC 18 Jan = 408 h, tick 409)
    assert first["Almaty city"] == first["Mangystau"] == 74 == min(first.values())
    assert max(end.values()) == 409


#: What kz2022-almaty leaves out of Almaty's parameters in kazakhstan-2022, because
#: only a country of many places has it (the file's header): the news from other
#: places and travelling forces. Nothing else may differ.
COUNTRY_ONLY = {
    "information_elsewhere_weight",
    "information_news_half_life",
    "information_national_share",
    "information_decay_km",
    "transport_enabled",
}


def test_kz2022_almaty_is_the_almaty_place_of_the_country():
    """The one-place preset has Almaty's row, Almaty's parameters (the country's with
    Almaty's overrides and lattice) less COUNTRY_ONLY, and exactly the country's
    timeline entries that act in Almaty, in their order."""
    country, alone = upheaval.load("kazakhstan-2022"), upheaval.load("kz2022-almaty")
    spec = country.country.place("Almaty")
    assert alone.country is not None
    assert alone.country.places == (spec,) and alone.country.links == ()
    there = place_params(country.params, spec)
    here = place_params(alone.params, alone.country.places[0])
    differ = {f.name for f in parameters() if there.value(f.name) != here.value(f.name)}
    assert differ == COUNTRY_ONLY
    assert all(here.value(n) == Params().value(n) for n in differ)  # left at the default
    assert (here.world.width, here.world.height) == (171, 171)  # ⌈√(2,030,285/100/0.7)⌉
    assert alone.timeline == place_timeline(spec, country.timeline)
    assert len(alone.timeline) == 9 and len(country.timeline) == 46


def test_kz2022_almaty_runs_as_almaty_in_the_country_without_news():
    """With the news from other places off (the only thing by which they reach it:
    no forces travel, call_ratio = 0), Almaty in the 36-place country and
    kz2022-almaty run bit for bit alike: Almaty is place 0 of both, so the same seed
    gives it the same streams. Up to tick 410, past Almaty's last event (409)."""
    steps = 410
    country = upheaval.apply_overrides(
        upheaval.load("kazakhstan-2022"), {"information.elsewhere_weight": 0.0}
    )
    both = upheaval.Simulation(country, seed=3).run(steps).table()
    there = both.filter(pc.equal(both.column("place"), "Almaty")).drop_columns(["place"])
    here = upheaval.Simulation(upheaval.load("kz2022-almaty"), seed=3).run(steps).table()
    assert here.column_names == there.column_names and here.num_rows == steps + 1
    for name in here.column_names:
        np.testing.assert_array_equal(
            here.column(name).to_numpy(), there.column(name).to_numpy(), err_msg=name
        )
