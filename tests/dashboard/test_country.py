"""The dashboard of a country: the nation's time series (one sum with
:func:`upheaval.model.ticks.national`), a frame's places with their counts, the place
picker, the download with its place column, a country given only inline (never a file
name from a request), and in headless Chromium the map of places, a click that
switches the lattice, and national series on the chart."""

from __future__ import annotations

import io
import json

import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from upheaval.model.ticks import COLUMNS, national, national_rows
from upheaval.views.dashboard.app import DashboardConfig, create_app
from upheaval.views.dashboard.form import read_upload, scenario_form, scenario_from_form

from .conftest import lattice_pixels, open_dashboard
from .test_server import _until

D = "window.dashboard"

#: Three towns of docs/examples/three-towns, places and links inline (an upload may
#: not name files), at one agent per 400 people: lattices of 24, 26 and 33 sites a side.
COUNTRY_TOML = """\
[scenario]
name = "three towns inline"
description = "the three towns, places and links inline"

[[country.places]]
name = "Zhanaozen"
region = "Mangystau"
lat = 43.34
lon = 52.86
utc_offset = 5
population = 150000
legitimacy = 0.6

[[country.places]]
name = "Aktau"
region = "Mangystau"
lat = 43.65
lon = 51.16
utc_offset = 5
population = 180000

[[country.places]]
name = "Atyrau"
region = "Atyrau"
lat = 47.11
lon = 51.92
utc_offset = 5
population = 300000

[[country.links]]
from = "Zhanaozen"
to = "Aktau"
mode = "road"
distance_km = 150
travel_hours = 2.5

[[country.links]]
from = "Aktau"
to = "Atyrau"
mode = "air"
distance_km = 560
travel_hours = 1.5

[world]
scale = 400.0

[citizens]
legitimacy = 0.86

[information]
enabled = true
elsewhere_weight = 0.3

[run]
steps = 60
seed = 1
"""
SIDES = {"Zhanaozen": 24, "Aktau": 26, "Atyrau": 33}


def _client() -> TestClient:
    return TestClient(create_app(DashboardConfig()))


def test_national_rows_is_the_sum_national_makes_of_a_table():
    import upheaval

    sim = upheaval.Simulation(read_upload(COUNTRY_TOML), seed=2)
    sim.step(6)
    rows = national_rows([r for p in sim.places for r in reversed(p.history)])
    assert [r._asdict() for r in rows] == national(sim.table()).to_pylist()
    assert rows[3].cops == sum(p.history[3].cops for p in sim.places)
    weights = [p.history[3].quiet_blue + p.history[3].active_blue + p.history[3].jailed_blue
               for p in sim.places]  # fmt: skip
    legit = sum(w * p.history[3].legitimacy for w, p in zip(weights, sim.places, strict=True))
    assert rows[3].legitimacy == pytest.approx(legit / sum(weights))
    assert national_rows([]) == []


def test_the_form_carries_a_country_inline_and_never_a_file_name():
    sc = read_upload(COUNTRY_TOML)
    again = scenario_from_form(json.loads(json.dumps(scenario_form(sc))))
    assert again.country.places == sc.country.places
    assert again.country.links == sc.country.links
    assert again.params == sc.params
    with _client() as c:
        for places in ('"/etc/passwd"', '"places.csv"'):
            text = f'[scenario]\nname = "x"\n[country]\nplaces = {places}\n'
            r = c.post("/api/upload", content=text)
            assert r.status_code == 400
            assert r.json()["key"] == "country.places"
            assert "never from a file" in r.json()["message"]
        form = scenario_form(sc)
        form["country"] = {"places": "/etc/passwd"}
        r = c.post("/api/validate", content=json.dumps(form))
        assert not r.json()["ok"] and "never from a file" in r.json()["message"]


def test_a_countrys_frames_carry_every_place_the_nation_and_the_picked_lattice():
    import upheaval

    with _client() as c, c.websocket_connect("/ws") as ws:
        token = json.loads(ws.receive_text())["token"]
        form = c.post("/api/upload", content=COUNTRY_TOML).json()
        assert form["country"]["places"][0]["name"] == "Zhanaozen"
        ws.send_json({"op": "start", "arg": form})
        started = _until(ws, "started")
        assert [(p["name"], p["region"], p["population"]) for p in started["places"]] == [
            ("Zhanaozen", "Mangystau", 150000),
            ("Aktau", "Mangystau", 180000),
            ("Atyrau", "Atyrau", 300000),
        ]
        assert started["places"][2]["lat"] == 47.11 and started["places"][2]["lon"] == 51.92
        assert started["links"] == [
            {"from": "Zhanaozen", "to": "Aktau", "mode": "road"},
            {"from": "Aktau", "to": "Atyrau", "mode": "air"},
        ]
        assert started["place"] == "Zhanaozen"
        header, body = _until(ws, "frame")
        places = header["variants"][0]["places"]
        assert [p["name"] for p in places] == list(SIDES)
        assert [p for p in places if "lattice" in p] == [places[0]]
        assert places[0]["lattice"][1] == SIDES["Zhanaozen"] ** 2 == len(body)
        for p in places:
            assert {
                "quiet",
                "active",
                "jailed",
                "cops",
                "links_blocked",
                "forces_in_transit",
            } <= set(p)
        ws.send_json({"op": "step", "arg": 5})
        header, _ = _until(ws, "frame")
        rows = header["variants"][0]["rows"]
        ws.send_json({"op": "place", "arg": "Atyrau"})  # paused: a frame comes at once
        header, body = _until(ws, "frame")
        (shown,) = [p for p in header["variants"][0]["places"] if "lattice" in p]
        assert shown["name"] == "Atyrau" and (shown["width"], shown["height"]) == (33, 33)
        assert len(body) == 33 * 33
        # the rows are the nation's: the sum of a run of the same scenario and seed
        sim = upheaval.Simulation(scenario_from_form(form), seed=1)
        sim.step(5)
        expect = national(sim.table()).to_pylist()
        assert [dict(zip(COLUMNS, r, strict=True)) for r in rows] == expect[1:]
        for p in header["variants"][0]["places"]:
            (place,) = [q for q in sim.places if q.name == p["name"]]
            assert p["active"] == place.row.active_blue + place.row.active_green
            shares = [
                (r.active_blue + r.active_green)
                / sum(r[1:7])  # quiet, active, jailed by group: the citizens
                for r in place.history
            ]
            assert p["onset"] == any(x >= 0.02 for x in shares)
        assert any(p["onset"] for p in header["variants"][0]["places"])
        table = pq.read_table(io.BytesIO(c.get(f"/api/live/{token}/ticks.parquet").content))
        assert table.column_names[:2] == ["tick", "place"]
        assert table.num_rows == 3 * 6
        assert national(table).to_pylist() == expect
        png = c.get(f"/api/live/{token}/timeseries.png")
        assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
        # a what-if of the country: B's rows are the nation's too, its lattice the place's
        form["values"]["citizens.legitimacy"] = "0.5"
        ws.send_json({"op": "branch", "arg": form})
        assert _until(ws, "branched")["tick"] == 5
        ws.send_json({"op": "step", "arg": 2})
        _until(ws, "frame")
        header, body = _until(ws, "frame")
        _, b = header["variants"]
        assert [r[0] for r in b["rows"]][-2:] == [6, 7]
        (shown,) = [p for p in b["places"] if "lattice" in p]
        assert shown["name"] == "Atyrau" and len(body) == 2 * 33 * 33
        bsim = upheaval.Simulation.restore(sim.checkpoint(), scenario_from_form(form))
        bsim.step(2)
        assert [dict(zip(COLUMNS, r, strict=True)) for r in b["rows"][-2:]] == (
            national(bsim.table()).to_pylist()[-2:]
        )


def test_the_map_shows_the_places_and_a_click_switches_the_lattice(page, server):
    open_dashboard(page, server)
    page.set_input_files(
        "#upload",
        files=[{"name": "towns.toml", "mimeType": "text/plain", "buffer": COUNTRY_TOML.encode()}],
    )
    page.wait_for_function(f"{D}.country && {D}.country.places.length === 3")
    page.click("#start")
    page.wait_for_function(
        f"{D}.started && {D}.framesDrawn >= 1 && {D}.mapDraws >= 1", timeout=60_000
    )
    assert page.is_visible("#map")
    hits = page.evaluate(f"{D}.map.hits")
    assert [h["name"] for h in hits] == list(SIDES)
    # circle area ∝ population; Atyrau (47.1 N) is drawn north of Aktau (43.7 N)
    r = {h["name"]: h["r"] for h in hits}
    assert r["Atyrau"] ** 2 / r["Aktau"] ** 2 == pytest.approx(300000 / 180000, rel=1e-6)
    y = {h["name"]: h["y"] for h in hits}
    assert y["Atyrau"] < y["Aktau"]
    assert page.locator("#place-pick option").count() == 3
    assert lattice_pixels(page)["width"] == SIDES["Zhanaozen"]
    for _ in range(3):
        page.click("#step")
    page.wait_for_function(f"{D}.tick === 3")
    # the map's colours are the places' shares of citizens active
    shares = page.evaluate(f"{D}.map.hits.map(h => h.share)")
    assert any(s > 0 for s in shares)
    # a click on Atyrau's circle shows its lattice
    at = next(h for h in hits if h["name"] == "Atyrau")
    box = page.locator("#map").bounding_box()
    page.mouse.click(
        box["x"] + at["x"] * box["width"] / 420, box["y"] + at["y"] * box["height"] / 420
    )
    page.wait_for_function(f"document.getElementById('lattice-A').width === {SIDES['Atyrau']}")
    assert page.input_value("#place-pick") == "Atyrau"
    assert "Atyrau" in page.text_content("#lattices figcaption")
    # the picker does the same
    page.select_option("#place-pick", "Aktau")
    page.wait_for_function(f"document.getElementById('lattice-A').width === {SIDES['Aktau']}")
    # the chart's series are the nation's
    (sim,) = [
        s.state.variants[0].sim
        for s in list(server.sessions.values())
        if s.state.variants and s.state.variants[0].sim.country is not None
    ]
    expect = national(sim.table())
    got = page.evaluate(f"{D}.variants[0].rows")
    for name in ("tick", "active_blue", "cops", "legitimacy"):
        assert got[name] == expect.column(name).to_pylist()[: len(got[name])]
    assert len(got["tick"]) == 4


def test_a_stored_countrys_run_plays_back_the_nations_rows(tmp_path):
    import upheaval

    sc = read_upload(COUNTRY_TOML)
    upheaval.run(sc, steps=4, seed=3, out=tmp_path / "towns")
    with TestClient(create_app(DashboardConfig(results=tmp_path))) as c:
        (listed,) = c.get("/api/stored").json()["runs"]
        run = c.get(f"/api/stored/{listed['id']}").json()
    table = pq.read_table(tmp_path / "towns" / "ticks.parquet")
    assert table.num_rows == 3 * 5, "the stored table has a row a place and tick"
    expect = national(table)
    assert run["rows"] == [expect.column(c).to_pylist() for c in COLUMNS]
    assert run["snapshots"] == []


def test_the_lattice_cap_counts_all_the_places_sites():
    from upheaval.scenario.loading import ScenarioError
    from upheaval.views.dashboard.form import Limits

    sc = read_upload(COUNTRY_TOML)
    sites = sum(side * side for side in SIDES.values())
    Limits(max_sites=sites).check_scenario(sc)
    with pytest.raises(ScenarioError) as e:
        Limits(max_sites=sites - 1).check_scenario(sc)
    assert e.value.key == "world.scale"
    assert f"3 places have {sites:,} sites" in e.value.reason and "--max-sites" in e.value.reason


#: The three towns with forces that travel: a foreign unit comes to Aktau at tick 1
#: and three of its members fly on to Atyrau at tick 2 (1.5 h by air: on the link
#: during tick 2, there at tick 3); Zhanaozen sends four cops by road to Aktau.
UNITS_TOML = COUNTRY_TOML.replace(
    "[run]\n",
    """[transport]
enabled = true

[[timeline]]
tick = 1
action = "reinforce"
place = "Aktau"
count = 6
unit = "csto"
origin = "foreign"

[[timeline]]
tick = 2
action = "send"
place = "Aktau"
to = "Atyrau"
unit = "csto"
count = 3

[[timeline]]
tick = 2
action = "send"
place = "Zhanaozen"
to = "Aktau"
count = 4

[run]
""",
)


def test_a_countrys_frames_carry_the_units_at_each_place_and_the_forces_on_the_links():
    import upheaval

    with _client() as c, c.websocket_connect("/ws") as ws:
        json.loads(ws.receive_text())
        form = c.post("/api/upload", content=UNITS_TOML).json()
        ws.send_json({"op": "start", "arg": form})
        _until(ws, "started")
        header, _ = _until(ws, "frame")
        assert header["variants"][0]["links"] == []  # tick 0: nothing has moved yet
        assert all(p["units"] == [] for p in header["variants"][0]["places"])
        sim = upheaval.Simulation(scenario_from_form(form), seed=1)
        for tick in (1, 2, 3):
            ws.send_json({"op": "step", "arg": 1})
            header, _ = _until(ws, "frame")
            sim.step()
            v = header["variants"][0]
            links = sim.links_table(first=tick).to_pandas()
            assert v["links"] == links[["forces_on_link", "travellers_on_link"]].values.tolist()
            units = sim.units_table().to_pandas().query("unit == 'csto'").set_index("place")
            for p in v["places"]:
                n = int(units.on_duty[p["name"]] + units.on_guard[p["name"]])
                assert p["units"] == ([["csto", n]] if n else []), (tick, p)
        # tick 2: the three on the air link, the four on the road; tick 3: arrived
        places = {p["name"]: p["units"] for p in header["variants"][0]["places"]}
        assert places == {"Zhanaozen": [], "Aktau": [["csto", 3]], "Atyrau": [["csto", 3]]}


def test_the_map_draws_the_forces_on_the_links_and_the_units(page, server):
    open_dashboard(page, server)
    page.set_input_files(
        "#upload",
        files=[{"name": "units.toml", "mimeType": "text/plain", "buffer": UNITS_TOML.encode()}],
    )
    page.wait_for_function(f"{D}.country && {D}.country.places.length === 3")
    page.click("#start")
    page.wait_for_function(f"{D}.started && {D}.mapDraws >= 1", timeout=60_000)

    def blue() -> int:
        px = lattice_pixels(page, canvas="map")["rgba"]
        return sum(
            1
            for i in range(0, len(px), 4)
            if px[i + 2] - px[i] > 80 and px[i + 2] - px[i + 1] > 30 and px[i + 3] > 0
        )

    before = blue()
    for tick in (1, 2):
        page.click("#step")
        page.wait_for_function(f"{D}.tick === {tick}")
    page.wait_for_timeout(200)
    assert page.evaluate(f"{D}.map.onLinks") == [[4, 0], [3, 0]]
    units = {h["name"]: h["units"] for h in page.evaluate(f"{D}.map.hits")}
    assert units == {"Zhanaozen": [], "Aktau": [["csto", 3]], "Atyrau": []}
    assert blue() > before + 150  # the lines and Aktau's square
    legend = page.text_content("#map-legend")
    assert "forces on a link" in legend and "a named unit here" in legend
    assert "activists travelling" not in legend  # none travel in this run
