"""The dashboard in a real browser (headless Chromium): the page loads, a run starts
and its lattice image changes, an edit takes effect, a bad value shows the loader's
message and runs nothing, pause and step, the what-if branch, playback of a stored
run, closing the page stops its run."""

from __future__ import annotations

import time

import numpy as np

from upheaval.model.params import parameters
from upheaval.results import read_run, read_snapshots
from upheaval.views.dashboard.frames import PALETTE, snapshot_indices

from .conftest import lattice_pixels, open_dashboard, set_field

D = "window.dashboard"


def _rgb_indices(pix: dict) -> np.ndarray:
    """Palette index of each drawn pixel (-1 where no palette colour)."""
    rgba = np.array(pix["rgba"], np.uint8).reshape(-1, 4)
    out = np.full(len(rgba), -1)
    for c in PALETTE:
        out[(rgba[:, :3] == c.rgb).all(axis=1)] = c.index
    return out


def _start(page, wait_frames: int = 1) -> None:
    page.click("#start")
    page.wait_for_function(f"{D}.started && {D}.framesDrawn >= {wait_frames}", timeout=60_000)


def _pause(page) -> None:
    page.click("#pause")
    page.wait_for_function(f"!{D}.running")
    # frames already on their way are drawn; then nothing more comes
    page.wait_for_timeout(200)


def test_page_loads_with_a_form_from_the_registry(page, server):
    open_dashboard(page, server)
    assert page.title() == "upheaval dashboard"
    fields = page.locator("#params .field")
    assert fields.count() == len(parameters())
    leg = page.locator('.field[data-location="citizens.legitimacy"]')
    assert "Regime legitimacy" in leg.inner_text()  # the registry's help text
    assert "[0 … 1 · timeline]" in leg.inner_text()  # its range and that it may change
    assert page.input_value('[id="f-citizens.legitimacy"]') == "0.82"  # run 2's value
    presets = page.locator("#preset option").all_inner_texts()
    assert "epstein2002-run2" in presets and "kz2022-almaty" in presets


def test_a_run_starts_and_its_lattice_image_changes(page, server):
    open_dashboard(page, server)
    _start(page)
    first = lattice_pixels(page)
    assert (first["width"], first["height"]) == (40, 40)
    page.click("#run")
    page.wait_for_function(f"{D}.tick >= 30", timeout=60_000)
    _pause(page)
    later = lattice_pixels(page)
    assert later["rgba"] != first["rgba"]
    idx = _rgb_indices(later)
    assert (idx >= 0).all(), "every pixel is a palette colour: one site, one pixel"
    # the chart got every tick, whatever was drawn
    rows = page.evaluate(f"{D}.variants[0].rows.tick")
    assert rows == list(range(len(rows))) and rows[-1] == page.evaluate(f"{D}.tick")
    assert page.locator("#legend .key").count() >= 5


def test_a_parameter_edit_takes_effect(page, server):
    open_dashboard(page, server)
    set_field(page, "world.width", "30")
    set_field(page, "world.height", "20")
    set_field(page, "population.cop_density", "0.0")
    _start(page)
    page.click("#step")
    page.wait_for_function(f"{D}.tick === 1")
    pix = lattice_pixels(page)
    assert (pix["width"], pix["height"]) == (30, 20)
    idx = _rgb_indices(pix)
    cop_colours = [c.index for c in PALETTE if c.key.startswith("cop")]
    assert not np.isin(idx, cop_colours).any(), "no cop drawn in a run without cops"
    cops = page.evaluate(f"{D}.variants[0].rows.cops")
    assert cops == [0, 0]
    quiet = page.evaluate(f"{D}.variants[0].rows.quiet_blue[0]")
    assert quiet > 0 and (idx == 1).sum() > 0


def test_a_bad_value_shows_the_loaders_message_and_runs_nothing(page, server):
    server.wait_idle()
    open_dashboard(page, server)
    set_field(page, "citizens.legitimacy", "1.5")
    page.click("#start")
    err = page.locator('.field[data-location="citizens.legitimacy"] .field-error')
    err.wait_for(state="visible")
    page.wait_for_function(
        "document.querySelector('.field[data-location=\"citizens.legitimacy\"] .field-error')"
        ".textContent.includes('must be ≤ 1, got 1.5')"
    )
    assert "invalid" in page.get_attribute('.field[data-location="citizens.legitimacy"]', "class")
    page.wait_for_timeout(300)
    assert page.evaluate(f"{D}.started") is False
    assert page.evaluate(f"{D}.framesReceived") == 0
    assert server.slots.taken == 0
    assert page.is_disabled("#run")
    # a timeline entry's mistake is shown on its row
    set_field(page, "citizens.legitimacy", "0.82")
    page.select_option("#timeline-template", index=0)
    page.click("#timeline-add")
    page.fill(".tl-row .tl-text", "tick = 5, set = { legitimacy = 2 }")
    page.click("#start")
    page.wait_for_function(
        "document.querySelector('.tl-row .field-error').textContent"
        ".includes('timeline[1].set.legitimacy: must be ≤ 1, got 2.0')"
    )
    assert page.evaluate(f"{D}.framesReceived") == 0


def test_an_uploaded_scenario_and_an_added_timeline_entry_take_effect(page, server, tmp_path):
    scenario = tmp_path / "mine.toml"
    scenario.write_text(
        '[scenario]\nname = "mine"\nextends = "epstein2002-run2"\n'
        "[world]\nwidth = 30\nheight = 30\n[citizens]\nlegitimacy = 0.9\n"
        "[[timeline]]\ntick = 20\nset = { cop_density = 0.05 }\n"
    )
    open_dashboard(page, server)
    page.set_input_files("#upload", str(scenario))
    page.wait_for_function("document.getElementById('f-world.width').value === '30'")
    assert page.input_value('[id="f-citizens.legitimacy"]') == "0.9"
    assert page.input_value(".tl-row .tl-text") == "tick = 20, set = { cop_density = 0.05 }"
    page.click("#timeline-add")
    page.locator(".tl-row .tl-text").nth(1).fill("tick = 3, set = { legitimacy = 0.2 }")
    _start(page)
    for _ in range(4):
        page.click("#step")
    page.wait_for_function(f"{D}.tick === 4")
    legitimacy = page.evaluate(f"{D}.variants[0].rows.legitimacy")
    assert legitimacy == [0.9, 0.9, 0.9, 0.2, 0.2], "the uploaded value, then the added entry"
    labels = [m["label"] for m in page.evaluate(f"{D}.marks")]
    assert sorted(labels) == ["cop_density = 0.05", "legitimacy = 0.2"]
    assert lattice_pixels(page)["width"] == 30


def test_pause_and_step(page, server):
    open_dashboard(page, server)
    set_field(page, "run.steps", "100000")
    _start(page)
    page.click("#run")
    page.wait_for_function(f"{D}.tick >= 5", timeout=60_000)
    _pause(page)
    paused_at = page.evaluate(f"{D}.tick")
    page.wait_for_timeout(500)
    assert page.evaluate(f"{D}.tick") == paused_at, "a paused run does not move"
    page.click("#step")
    page.wait_for_function(f"{D}.tick === {paused_at + 1}")
    page.wait_for_timeout(300)
    assert page.evaluate(f"{D}.tick") == paused_at + 1, "one step is one tick"
    page.click("#reset")
    page.wait_for_function(f"{D}.tick === 0")


def test_what_if_branch_runs_side_by_side_from_the_same_state(page, server):
    open_dashboard(page, server)
    _start(page)
    for _ in range(10):
        page.click("#step")
    page.wait_for_function(f"{D}.tick === 10")
    set_field(page, "citizens.legitimacy", "0.3")
    page.click("#branch")
    page.wait_for_selector("#lattice-B")
    page.wait_for_function(f"{D}.variants[1] && {D}.variants[1].rows.tick.length === 11")
    page.click("#run")
    page.wait_for_function(f"{D}.tick >= 40", timeout=60_000)
    _pause(page)
    a = page.evaluate(f"{D}.variants[0].rows")
    b = page.evaluate(f"{D}.variants[1].rows")
    n = min(len(a["tick"]), len(b["tick"]))
    assert n > 30
    same = [a[c][:11] == b[c][:11] for c in ("quiet_blue", "active_blue", "jailed_blue")]
    assert all(same), "B shares A's past up to the branch"
    active_a = sum(a["active_blue"][11:n])
    active_b = sum(b["active_blue"][11:n])
    assert active_b > 2 * active_a, (active_a, active_b)
    assert lattice_pixels(page, "B")["rgba"] != lattice_pixels(page, "A")["rgba"]


def test_playback_of_a_stored_run(page, server, results):
    open_dashboard(page, server)
    page.click("#tab-playback")
    page.click('.stored[data-id="runs/small"]')
    page.wait_for_function(f"{D}.playback && {D}.playback.snapTick === 0")
    page.fill("#pb-slider", "20")
    page.dispatch_event("#pb-slider", "input")
    page.wait_for_function(f"{D}.playback.snapTick === 20")
    pix = lattice_pixels(page, canvas="pb-canvas")
    snap = read_snapshots(results.run)[20]
    expected = snapshot_indices(snap["occupant"], snap["group"]).ravel()
    assert (pix["width"], pix["height"]) == (30, 24)
    drawn = _rgb_indices(pix)
    assert (drawn == expected).all(), "the drawn lattice is the stored snapshot, site by site"
    _, table = read_run(results.run)
    active = table.column("active_blue").to_pylist()[20]
    assert page.inner_text("#pb-tick") == f"tick 20: active {active}"
    names = page.locator("#pb-files a").all_inner_texts()
    assert {"ticks.parquet", "timeseries.png", "snapshots.parquet"} <= set(names)
    with page.expect_download() as dl:
        page.click('#pb-files a:text("ticks.parquet")')
    import pyarrow.parquet as pq

    got = pq.read_table(dl.value.path())
    assert got.num_rows == table.num_rows == 41
    # a sweep's run (the sweep kept its ticks): its time series, no lattice
    page.click('.stored[data-id="sweep@p2-r0"]')
    page.wait_for_function(f"{D}.playback.run.id === 'sweep@p2-r0' && {D}.playback.shown")
    assert "no lattice snapshots" in page.inner_text("#pb-snap")
    assert page.evaluate(f"{D}.playback.rows.tick.length") == 31


def test_closing_the_page_stops_its_run(browser, server):
    server.wait_idle()
    context = browser.new_context()
    page = context.new_page()
    open_dashboard(page, server)
    set_field(page, "run.steps", "100000")
    _start(page)
    page.click("#run")
    page.wait_for_function(f"{D}.tick >= 5", timeout=60_000)
    assert server.slots.taken == 1
    context.close()  # mid-stream: frames still coming
    server.wait_idle()
    # the server goes on serving
    page2 = browser.new_page()
    open_dashboard(page2, server)
    page2.close()
    time.sleep(0.1)
