"""Fixtures of the dashboard's tests: a live server in a thread, stored results of every
kind, and headless Chromium (Debian's, driven by Playwright; never downloaded).

Screenshots go to ``tests/dashboard/artifacts/`` (git-ignored), one per browser test,
named after it: look at them after a change to the page.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import upheaval

CHROMIUM = Path(os.environ.get("UPHEAVAL_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).parent / "artifacts"


def small_scenario() -> upheaval.Scenario:
    """Run 2 on a 20×20 lattice: runs of milliseconds, outbursts still happen."""
    return upheaval.apply_overrides(upheaval.load("epstein2002-run2"), {"width": 20, "height": 20})


@dataclass
class Results:
    """A folder of stored results, one of each kind."""

    root: Path
    run: Path
    sweep: Path
    calibration: Path
    comparison: Path


@pytest.fixture(scope="session")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    from upheaval.experiments import SerialExecutor, designs, parse_factor
    from upheaval.experiments.calibration import calibrate, write_result
    from upheaval.experiments.compare import bootstrap_table, compare, write_comparison
    from upheaval.experiments.runner import run_sweep
    from upheaval.experiments.sensitivity import analyse_sweep
    from upheaval.experiments.summary_stats import observed_from_run

    root = tmp_path_factory.mktemp("results")
    run = root / "runs" / "small"
    sc = upheaval.apply_overrides(upheaval.load("epstein2002-run2"), {"width": 30, "height": 24})
    upheaval.run(sc, steps=40, seed=3, out=run, snapshots=(0, 10, 20, 40))
    small = small_scenario()
    sweep = root / "sweep"
    factors = [parse_factor("legitimacy=0.6:0.9"), parse_factor("cop_density=0.02:0.06")]
    run_sweep(
        small,
        designs.sobol(factors, 4),
        sweep,
        steps=30,
        seed=1,
        executor=SerialExecutor(),
        keep_ticks=True,
    )
    analyse_sweep(sweep, ["peak_active"], resamples=50).to_csv(
        sweep / "sensitivity.csv", index=False
    )
    calib = root / "calib"
    result = calibrate(
        small,
        observed_from_run(run),
        [parse_factor("legitimacy=0.7:0.9")],
        calib,
        particles=6,
        generations=2,
        steps=30,
        seed=2,
        executor=SerialExecutor(),
    )
    write_result(result)
    comp_dir = root / "compare"
    comp = compare(
        small,
        ["weak:cop_density=0.02"],
        comp_dir,
        replicates=3,
        steps=30,
        seed=4,
        executor=SerialExecutor(),
    )
    write_comparison(comp, bootstrap_table(comp, resamples=200, seed=3))
    return Results(root, run, sweep, calib, comp_dir)


@dataclass
class Server:
    url: str
    app: object

    @property
    def slots(self):
        return self.app.state.slots

    @property
    def sessions(self) -> dict:
        return self.app.state.sessions

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no page holds a run (every run's worker has let go)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.slots.taken == 0 and not self.sessions:
                return
            time.sleep(0.05)
        raise AssertionError(f"{self.slots.taken} runs still held, {len(self.sessions)} pages")


@pytest.fixture(scope="session")
def server(results: Results) -> Iterator[Server]:
    import uvicorn

    from upheaval.views.dashboard import Limits, bind
    from upheaval.views.dashboard.app import DashboardConfig, create_app

    # The engine compiled (or loaded from numba's cache) before any page waits on it.
    upheaval.Simulation(small_scenario(), seed=0).step(1)
    app = create_app(
        DashboardConfig(
            limits=Limits(max_sites=250_000, max_steps=100_000, max_runs=8),
            results=results.root,
        )
    )
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    yield Server(f"http://127.0.0.1:{port}/", app)
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"no chromium at {CHROMIUM} (apt-get install chromium, or set UPHEAVAL_CHROMIUM): "
            "the dashboard's browser tests need a real browser"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh page; its screenshot is saved as an artifact when the test ends."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
    try:
        pg.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def open_dashboard(page, server: Server) -> None:
    page.goto(server.url)
    page.wait_for_function("window.dashboard.ready && window.dashboard.connected")


def set_field(page, location: str, value: str) -> None:
    page.fill(f'[id="f-{location}"]', value)


def lattice_pixels(page, variant: str = "A", canvas: str = "") -> dict:
    """A lattice canvas as drawn (variant A or B, or the canvas with id ``canvas``): its
    size and its RGBA bytes (a list)."""
    return page.evaluate(
        """(id) => {
            const c = document.getElementById(id);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            return {width: c.width, height: c.height, rgba: Array.from(d)};
        }""",
        canvas or f"lattice-{variant}",
    )
