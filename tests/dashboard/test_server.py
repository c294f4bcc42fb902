"""The dashboard's server without a browser: the form is the loader's, caps name
themselves, no request reaches a file it was not offered, a client that vanishes
mid-stream costs nothing, pages do not wait for each other, ``upheaval serve``."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
import urllib.request

import pytest
from starlette.testclient import TestClient

from upheaval.model.params import parameters
from upheaval.model.ticks import COLUMNS
from upheaval.scenario.loading import ScenarioError, load_preset, preset_names
from upheaval.views.dashboard.app import DashboardConfig, create_app
from upheaval.views.dashboard.form import Limits, scenario_form, scenario_from_form


def _client(results=None, **limits) -> TestClient:
    return TestClient(create_app(DashboardConfig(limits=Limits(**limits), results=results)))


def _form(name: str = "epstein2002-run2", **values: str) -> dict:
    form = scenario_form(load_preset(name))
    form["values"].update(values)
    return form


def _frame(data: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<I", data[:4])
    return json.loads(data[4 : 4 + n]), data[4 + n :]


def _until(ws, kind: str) -> dict | tuple[dict, bytes]:
    """Messages until one of ``kind`` (a frame: header and lattice bytes)."""
    while True:
        msg = ws.receive()
        if msg.get("bytes") is not None:
            header, body = _frame(msg["bytes"])
            ws.send_json({"op": "ack"})
            if kind == "frame":
                return header, body
            continue
        m = json.loads(msg["text"])
        if m["type"] == kind:
            return m
        if m["type"] == "error" and kind != "error":
            raise AssertionError(m)


@pytest.mark.parametrize("name", preset_names())
def test_the_form_gives_back_the_scenario_it_shows(name):
    sc = load_preset(name)
    again = scenario_from_form(scenario_form(sc))
    assert again.params == sc.params
    assert again.timeline == sc.timeline


def test_form_mistakes_are_the_loaders_messages():
    with pytest.raises(ScenarioError) as e:
        scenario_from_form(_form(**{"citizens.legitimacy": "1.5"}))
    assert (e.value.key, e.value.reason) == ("citizens.legitimacy", "must be ≤ 1, got 1.5")
    with pytest.raises(ScenarioError) as e:
        scenario_from_form(_form(**{"world.width": "40.5"}))
    assert e.value.key == "world.width" and "integer" in e.value.reason
    form = _form()
    form["timeline"] = ["tick = 3, set = { legitimacy = "]
    with pytest.raises(ScenarioError) as e:
        scenario_from_form(form)
    assert e.value.key == "timeline[1]" and "not valid TOML" in e.value.reason


def test_schema_lists_every_parameter_with_its_help_and_range():
    with _client() as c:
        s = c.get("/api/schema").json()
    listed = {p["location"]: p for sec in s["sections"] for p in sec["parameters"]}
    assert set(listed) == {p.location for p in parameters()}
    leg = listed["citizens.legitimacy"]
    assert (leg["low"], leg["high"], leg["timeline"]) == (0.0, 1.0, True)
    assert leg["help"].startswith("Regime legitimacy")
    assert {"shock", "reinforce"} <= set(s["actions"])


def test_a_run_streams_frames_of_one_byte_a_site():
    with _client() as c, c.websocket_connect("/ws") as ws:
        assert json.loads(ws.receive_text())["type"] == "hello"
        ws.send_json({"op": "start", "arg": _form(**{"world.width": "25", "world.height": "16"})})
        started = _until(ws, "started")
        assert started["columns"] == list(COLUMNS)
        header, body = _until(ws, "frame")
        assert header["tick"] == 0
        (place,) = header["variants"][0]["places"]
        assert (place["width"], place["height"]) == (25, 16)
        off, n = place["lattice"]
        assert n == 25 * 16 and len(body) == off + n
        ws.send_json({"op": "draw_every", "arg": 5})
        ws.send_json({"op": "step", "arg": 7})
        header, _ = _until(ws, "frame")
        rows = header["variants"][0]["rows"]
        assert [r[0] for r in rows] == list(range(1, 8)), "every tick's row, drawn or not"


def test_a_what_if_branch_continues_the_same_state_and_refuses_initial_only_changes():
    import upheaval

    form = _form(**{"world.width": "20", "world.height": "20"})
    with _client() as c, c.websocket_connect("/ws") as ws:
        ws.receive_text()
        ws.send_json({"op": "start", "arg": form})
        _until(ws, "started")
        ws.send_json({"op": "step", "arg": 8})
        _until(ws, "frame")
        header, _ = _until(ws, "frame")
        assert header["tick"] == 8
        wider = _form(**{"world.width": "21", "world.height": "20"})
        ws.send_json({"op": "branch", "arg": wider})
        err = _until(ws, "error")
        assert "cannot branch" in err["message"] and "world.width" in err["message"]
        variant = _form(**{"world.width": "20", "world.height": "20", "citizens.legitimacy": "0.5"})
        ws.send_json({"op": "branch", "arg": variant})
        assert _until(ws, "branched")["tick"] == 8
        header, _ = _until(ws, "frame")
        a, b = header["variants"]
        assert (a["name"], b["name"]) == ("A", "B") and len(b["rows"]) == 9  # B's past
        ws.send_json({"op": "step", "arg": 5})
        header, _ = _until(ws, "frame")
        a, b = header["variants"]
        # B is exactly what the engine gives for that checkpoint and that variant
        sim = upheaval.Simulation(scenario_from_form(form), seed=0)
        sim.step(8)
        twin = upheaval.Simulation.restore(sim.checkpoint(), scenario_from_form(variant))
        twin.step(5)
        assert [r[1:] for r in b["rows"]] == [list(r)[1:] for r in twin.place.history[9:]]
        sim.step(5)
        assert [r[1:] for r in a["rows"]] == [list(r)[1:] for r in sim.place.history[9:]]
        ws.send_json({"op": "unbranch"})
        assert _until(ws, "status")["variants"] == ["A"]


def test_a_failure_in_a_run_reaches_the_page_and_the_page_goes_on(monkeypatch):
    from upheaval.views.dashboard import session

    real = session.lattice_indices
    calls = {"n": 0}

    def fails_once(place):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("drawing failed")
        return real(place)

    monkeypatch.setattr(session, "lattice_indices", fails_once)
    form = _form(**{"world.width": "20", "world.height": "20"})
    with _client() as c, c.websocket_connect("/ws") as ws:
        ws.receive_text()
        ws.send_json({"op": "start", "arg": form})
        err = _until(ws, "error")
        assert err["message"] == "internal error: RuntimeError('drawing failed')"
        ws.send_json({"op": "step", "arg": 2})
        header, _ = _until(ws, "frame")
        assert header["tick"] == 2
        # no row lost with the failed frame: the chart gets ticks 0, 1, 2
        assert [r[0] for r in header["variants"][0]["rows"]] == [0, 1, 2]


def test_speed_paces_the_run():
    with _client() as c, c.websocket_connect("/ws") as ws:
        ws.receive_text()
        ws.send_json({"op": "start", "arg": _form(**{"world.width": "20", "world.height": "20"})})
        _until(ws, "started")
        _until(ws, "frame")
        ws.send_json({"op": "speed", "arg": 10})
        ws.send_json({"op": "run"})
        t0 = time.perf_counter()
        tick = 0
        while time.perf_counter() - t0 < 1.0:
            header, _ = _until(ws, "frame")
            tick = header["tick"]
        ws.send_json({"op": "pause"})
        elapsed = time.perf_counter() - t0
        # at most 10 ticks a second (a 20×20 tick takes microseconds: unpaced, thousands)
        assert 5 <= tick <= 10 * elapsed + 2, (tick, elapsed)


def test_caps_name_themselves():
    with _client(max_sites=1000, max_steps=50, max_runs=1, max_upload_bytes=100_000) as c:
        r = c.post("/api/validate", content=json.dumps(_form()))  # 40×40 = 1600 sites
        assert r.status_code == 400
        assert r.json()["key"] == "world.width" and "--max-sites" in r.json()["message"]
        r = c.post("/api/upload", content=b"#" * 100_001)
        assert r.status_code == 413 and "--max-upload" in r.json()["message"]
        small = _form(**{"world.width": "20", "world.height": "20", "run.steps": "40"})
        with c.websocket_connect("/ws") as ws1, c.websocket_connect("/ws") as ws2:
            ws1.receive_text(), ws2.receive_text()
            ws1.send_json({"op": "start", "arg": {**small, "values": {**small["values"]}}})
            _until(ws1, "started")
            too_long = _form(**{"world.width": "20", "world.height": "20", "run.steps": "51"})
            ws2.send_json({"op": "start", "arg": too_long})
            err = _until(ws2, "error")
            assert err["key"] == "run.steps" and "--max-steps" in err["message"]
            ws2.send_json({"op": "start", "arg": small})
            err = _until(ws2, "error")
            assert "--max-runs" in err["message"]


def test_an_upload_is_read_by_the_loader():
    text = b'[scenario]\nextends = "epstein2002-run2"\n[citizens]\nlegitimacy = 0.7\n'
    with _client() as c:
        r = c.post("/api/upload?filename=mine.toml", content=text)
        assert r.json()["values"]["citizens.legitimacy"] == "0.7"
        r = c.post("/api/upload?filename=bad.toml", content=b"[citizens]\nlegitimacy = 7\n")
        assert r.status_code == 400
        j = r.json()
        assert (j["where"], j["key"]) == ("upload bad.toml", "citizens.legitimacy")


def test_no_request_reaches_a_file_it_was_not_offered(tmp_path, results):
    secret = tmp_path / "secret.txt"
    secret.write_text("no")
    with _client(results=results.root) as c:
        listed = [r["id"] for r in c.get("/api/stored").json()["runs"]]
        # the run, and the sweep's runs (it kept its ticks); not its calibration's rounds,
        # which did not
        others = [x for x in listed if x != "runs/small"]
        assert "runs/small" in listed and others and all(x.startswith("sweep@p") for x in others)
        for path in (
            "/api/stored/../secret.txt",
            "/api/stored/%2e%2e/%2e%2e/etc/passwd",
            f"/api/stored/{secret}",
            "/api/stored/runs/small/file/..%2f..%2fsecret.txt",
            "/api/stored/runs/small/file/ticks.csv",
            "/api/preset/..%2fsecret",
            "/static/../pyproject.toml",
        ):
            r = c.get(path)
            assert r.status_code == 404, path
        assert c.get("/api/stored/runs/small/file/manifest.json").json()["format"]


def test_a_sweeps_run_plays_back_its_ticks(results):
    from upheaval.experiments.store import query, read_runs

    with _client(results=results.root) as c:
        listed = {r["id"]: r for r in c.get("/api/stored").json()["runs"]}
        assert (
            len([i for i in listed if i.startswith("sweep@")]) == read_runs(results.sweep).num_rows
        )
        run = c.get("/api/stored/sweep@p3-r0").json()
        want = query(results.sweep, "SELECT * FROM ticks WHERE point = 3 ORDER BY tick")
        assert run["rows"][COLUMNS.index("active_blue")] == want.column("active_blue").to_pylist()
        assert run["snapshots"] == [] and run["files"] == ["ticks.parquet"]
        r = c.get("/api/stored/sweep@p3-r0/file/ticks.parquet")
        import io

        import pyarrow.parquet as pq

        assert pq.read_table(io.BytesIO(r.content)).num_rows == want.num_rows == 31
        assert c.get("/api/stored/sweep@p999-r0").status_code == 404
        assert c.get("/api/stored/sweep@p3-r0/snapshot/0").status_code == 404


def test_the_live_run_downloads_as_parquet():
    import io

    import pyarrow.parquet as pq

    with _client() as c, c.websocket_connect("/ws") as ws:
        token = json.loads(ws.receive_text())["token"]
        assert c.get(f"/api/live/{token}/ticks.parquet").status_code == 404  # nothing yet
        ws.send_json({"op": "start", "arg": _form(**{"world.width": "20", "world.height": "20"})})
        _until(ws, "started")
        ws.send_json({"op": "step", "arg": 6})
        header, _ = _until(ws, "frame")
        while header["tick"] < 6:
            header, _ = _until(ws, "frame")
        table = pq.read_table(io.BytesIO(c.get(f"/api/live/{token}/ticks.parquet").content))
        assert table.column("tick").to_pylist() == list(range(7))
        png = c.get(f"/api/live/{token}/timeseries.png")
        assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
        assert c.get("/api/live/not-a-token/ticks.parquet").status_code == 404


def test_only_the_dashboards_own_page_may_open_a_run():
    from starlette.websockets import WebSocketDisconnect

    with _client() as c:
        evil = {"origin": "http://evil.example"}  # another site's script
        with pytest.raises(WebSocketDisconnect) as e, c.websocket_connect("/ws", headers=evil):
            pass
        assert e.value.code == 1008
        with c.websocket_connect("/ws", headers={"origin": "http://testserver"}) as ws:
            assert json.loads(ws.receive_text())["type"] == "hello"
    loopback = create_app(DashboardConfig(allowed_hosts=("127.0.0.1", "localhost")))
    with TestClient(loopback, base_url="http://127.0.0.1:8050") as c:
        assert c.get("/api/status").status_code == 200
        assert c.get("/api/status", headers={"host": "rebound.example"}).status_code == 400


def test_the_server_survives_a_client_that_vanishes_mid_stream():
    app = create_app(DashboardConfig(limits=Limits(max_runs=1)))
    with TestClient(app) as c:
        for _ in range(3):  # each time the run slot comes back
            with c.websocket_connect("/ws") as ws:
                ws.receive_text()
                ws.send_json({"op": "start", "arg": _form(**{"run.steps": "100000"})})
                _until(ws, "started")
                ws.send_json({"op": "run"})
                _until(ws, "frame")  # and never acknowledged again: closed mid-stream
            end = time.monotonic() + 10
            while app.state.slots.taken and time.monotonic() < end:
                time.sleep(0.02)
            assert app.state.slots.taken == 0 and not app.state.sessions
        assert c.get("/api/status").json() == {"runs": 0, "pages": 0, "max_runs": 1}


def test_one_pages_run_does_not_wait_for_anothers():
    """A page running flat out and a page stepping: the stepping page's ticks come
    back while the other runs (each run is its own worker; the GIL is shared a tick at
    a time)."""
    with _client() as c, c.websocket_connect("/ws") as busy, c.websocket_connect("/ws") as other:
        busy.receive_text(), other.receive_text()
        big = _form(**{"world.width": "300", "world.height": "300", "run.steps": "100000"})
        busy.send_json({"op": "start", "arg": big})
        _until(busy, "started")
        _until(busy, "frame")
        busy.send_json({"op": "draw_every", "arg": 10**6})  # steps flat out, sends nothing
        busy.send_json({"op": "run"})
        other.send_json({"op": "start", "arg": _form()})
        _until(other, "started")
        _until(other, "frame")
        t0 = time.perf_counter()
        for t in range(1, 6):
            other.send_json({"op": "step", "arg": 1})
            header, _ = _until(other, "frame")
            assert header["tick"] == t
        assert time.perf_counter() - t0 < 5.0
        busy.send_json({"op": "pause"})


def test_upheaval_serve_prints_its_address_and_warns_off_loopback(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    p = subprocess.Popen(
        [sys.executable, "-m", "upheaval.cli", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    try:
        line = p.stdout.readline()
        assert line.startswith("upheaval dashboard at http://127.0.0.1:"), line
        url = line.split()[3]
        assert int(url.rsplit(":", 1)[1].strip("/")) > 0
        with urllib.request.urlopen(url, timeout=10) as r:
            assert b"upheaval dashboard" in r.read()
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(10)
    p = subprocess.Popen(
        [sys.executable, "-m", "upheaval.cli", "serve", "--host", "0.0.0.0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    try:
        warning = p.stderr.readline()
        assert warning.startswith("warning: listening on 0.0.0.0: anyone who can reach"), warning
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(10)
    for args, message in (
        (["--max-runs", "0"], "error: --max-runs: must be ≥ 1, got 0"),
        (["--results", "nowhere"], "error: --results: nowhere: no such folder"),
    ):
        r = subprocess.run(
            [sys.executable, "-m", "upheaval.cli", "serve", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert r.returncode == 2 and r.stderr.strip() == message
