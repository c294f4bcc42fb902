"""Take the screenshots of docs/dashboard.md (docs/img/dashboard-*.png).

Usage::

    python scripts/dashboard_screenshots.py

Runs a small stored run, serves the dashboard in this process, drives the page in
headless Chromium (Debian's ``/usr/bin/chromium``, through Playwright) through a
live run with a what-if branch, a mistaken value and a playback, screenshots each,
and writes a report of the stored run. PNGs are reduced to 64 colours so that they
stay small in the repository.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
CHROMIUM = os.environ.get("UPHEAVAL_CHROMIUM", "/usr/bin/chromium")


def _small_png(path: Path) -> None:
    from PIL import Image

    img = Image.open(path).convert("RGB")
    img.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main() -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright

    import upheaval
    from upheaval.views.dashboard import Limits, bind
    from upheaval.views.dashboard.app import DashboardConfig, create_app
    from upheaval.views.report import write_report

    IMG.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "runs"
        upheaval.run(
            "epstein2002-run2",
            steps=300,
            seed=7,
            out=results / "epstein2002-run2-seed7",
            snapshots=tuple(range(0, 301, 10)),
        )
        app = create_app(DashboardConfig(limits=Limits(), results=results))
        sock = bind()
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        d = "window.dashboard"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
                )
                page = browser.new_page(viewport={"width": 1300, "height": 900})
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_function(f"{d}.ready && {d}.connected")
                for loc, v in (("world.width", "80"), ("world.height", "80")):
                    page.fill(f'[id="f-{loc}"]', v)
                page.click("#start")
                page.wait_for_function(f"{d}.framesDrawn >= 1", timeout=120_000)
                page.select_option("#speed", "30")
                page.click("#run")
                page.wait_for_function(f"{d}.tick >= 60", timeout=60_000)
                page.click("#pause")
                page.wait_for_function(f"!{d}.running")
                page.fill('[id="f-citizens.legitimacy"]', "0.7")
                page.click("#branch")
                page.wait_for_selector("#lattice-B")
                page.click("#run")
                page.wait_for_function(f"{d}.tick >= 110", timeout=60_000)
                page.click("#pause")
                page.wait_for_timeout(300)
                page.screenshot(path=str(IMG / "dashboard-live.png"))
                page.fill('[id="f-population.cop_density"]', "0.5")
                page.click("#start")
                page.wait_for_selector('.field[data-location="population.citizen_density"].invalid')
                page.wait_for_timeout(200)
                page.locator(
                    '.field[data-location="population.citizen_density"]'
                ).scroll_into_view_if_needed()
                page.screenshot(path=str(IMG / "dashboard-error.png"))
                page.click("#tab-playback")
                page.click(".stored")
                page.wait_for_function(f"{d}.playback && {d}.playback.snapTick !== null")
                page.fill("#pb-slider", "150")
                page.dispatch_event("#pb-slider", "input")
                page.wait_for_function(f"{d}.playback.snapTick === 150")
                page.screenshot(path=str(IMG / "dashboard-playback.png"))
                report = write_report(results / "epstein2002-run2-seed7", Path(tmp) / "r.html")
                page.goto(report.as_uri())
                page.screenshot(path=str(IMG / "report-run.png"))
                browser.close()
        finally:
            server.should_exit = True
            thread.join(10)
    for name in ("dashboard-live", "dashboard-error", "dashboard-playback", "report-run"):
        path = IMG / f"{name}.png"
        _small_png(path)
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
