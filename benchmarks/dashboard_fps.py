"""Dashboard speed: frames per second drawn in a real browser, and the server's time per
frame.

    python benchmarks/dashboard_fps.py                      # 200×200, 10 s (~30 s in all)
    python benchmarks/dashboard_fps.py --size 400 --seconds 20 --draw-every 5
    python benchmarks/dashboard_fps.py --country            # 36 places at 1:1000, with the map

With ``--country`` the run is the synthetic country of ``benchmarks/country.py`` (36
places, ten million people, one agent per ``--scale`` people; information and
transport on): each frame then carries the nation's rows (summed over the places),
every place's counts, which the page draws on its map, and the lattice of the place
shown (the largest); the page's draw time includes the map.

Starts the dashboard's server (uvicorn, in this process), opens the page in headless
Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright), fills the form with
run 2 (``epstein2002-run2``) on a SIZE×SIZE lattice, starts it with "draw every N"
and the speed "as fast as drawn", lets it warm up, and then counts, *in the page*,
the frames drawn over ``--seconds`` (each frame is one image of the whole lattice
put on the canvas, after which the page acknowledges it and the server sends the
next: the rate is end to end — step, build, send, receive, draw). Also recorded,
for the frames of the measured window: the server's time per frame (ticks stepped +
the frame built, from each frame's ``server_ms``; the wait for the page is not in
it) and the page's time to draw a frame's lattice.

The server and the browser share this machine's cores (two on the project's
machine), as they do for a user. A dated JSON record goes to
``benchmarks/results/dashboard_fps-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
CHROMIUM = os.environ.get("UPHEAVAL_CHROMIUM", "/usr/bin/chromium")


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    q = statistics.quantiles(values, n=10) if len(values) > 1 else [values[0]] * 9
    return {
        "median": round(statistics.median(values), 3),
        "p10": round(q[0], 3),
        "p90": round(q[-1], 3),
        "mean": round(statistics.fmean(values), 3),
    }


def measure(
    size: int,
    seconds: float,
    warmup: float,
    draw_every: int,
    country_scale: float = 0.0,
    screenshot: Path | None = None,
) -> dict:
    """One measurement (module docstring); ``country_scale`` > 0: the synthetic country
    at one agent per that many people instead of run 2 on SIZE×SIZE."""
    import uvicorn
    from playwright.sync_api import sync_playwright

    import upheaval
    from upheaval.views.dashboard import Limits, bind
    from upheaval.views.dashboard.app import DashboardConfig, create_app
    from upheaval.views.dashboard.form import scenario_form

    form = None
    described: dict = {"lattice": f"{size}x{size}", "scenario": "epstein2002-run2"}
    if country_scale > 0:
        import sys

        sys.path.insert(0, str(Path(__file__).parent))
        from country import build
        from upheaval.scenario.country import place_params

        sc = build(country_scale, 100_000)
        sizes = [place_params(sc.params, s).world for s in sc.country.places]
        sites = sum(w.width * w.height for w in sizes)
        form = scenario_form(sc)
        described = {
            "lattice": f"country: {len(sizes)} places, {sites:,} sites "
            f"(largest {sizes[0].width}x{sizes[0].height})",
            "scenario": f"benchmarks/country.py build(scale={country_scale:g})",
            "places": len(sizes),
            "sites": sites,
        }
        size = 0
        upheaval.Simulation(sc, seed=0).step(1)  # compiled
    else:
        upheaval.Simulation(upheaval.load("epstein2002-run2"), seed=0).step(1)  # compiled
        sites = size * size
    app = create_app(DashboardConfig(limits=Limits(max_sites=max(250_000, sites))))
    sock = bind()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            version = browser.version
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_function("window.dashboard.ready && window.dashboard.connected")
            if form is not None:
                page.evaluate("(form) => fillForm(form)", form)
            fields = [("run.steps", 100_000)]
            if size:
                fields += [("world.width", size), ("world.height", size)]
            for loc, value in fields:
                page.fill(f'[id="f-{loc}"]', str(value))
            page.fill("#draw-every", str(draw_every))
            page.dispatch_event("#draw-every", "change")
            page.click("#start")
            page.wait_for_function(
                "window.dashboard.framesDrawn >= 1 || window.dashboard.errors.length",
                timeout=120_000,
            )
            errors = page.evaluate("window.dashboard.errors")
            if errors:
                raise SystemExit(f"the page refused the run: {errors}")
            if form is not None:
                page.wait_for_function("window.dashboard.mapDraws >= 1")
            page.click("#run")
            time.sleep(warmup)
            start = page.evaluate(
                "({t: performance.now(), f: window.dashboard.framesDrawn, "
                "tick: window.dashboard.tick, s: window.dashboard.serverLog.length, "
                "d: window.dashboard.drawLog.length})"
            )
            time.sleep(seconds)
            end = page.evaluate(
                "({t: performance.now(), f: window.dashboard.framesDrawn, "
                "tick: window.dashboard.tick, server: window.dashboard.serverLog, "
                "draw: window.dashboard.drawLog, maps: window.dashboard.mapDraws})"
            )
            if screenshot is not None:
                page.screenshot(path=str(screenshot))
            page.click("#pause")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
    elapsed = (end["t"] - start["t"]) / 1000
    frames = end["f"] - start["f"]
    server_log = end["server"][start["s"] :]
    draw_log = end["draw"][start["d"] :]
    return {
        **described,
        "draw_every": draw_every,
        "seconds": round(elapsed, 3),
        "frames": frames,
        "frames_per_second": round(frames / elapsed, 2),
        "ticks_per_second": round((end["tick"] - start["tick"]) / elapsed, 2),
        "server_ms_per_frame": {
            "total": _quantiles([s["total"] for s in server_log]),
            "step": _quantiles([s["step"] for s in server_log]),
            "build": _quantiles([s["frame"] for s in server_log]),
        },
        "page_draw_ms_per_frame": _quantiles(draw_log),
        "chromium": version,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=200, help="lattice side (default 200)")
    ap.add_argument("--seconds", type=float, default=10.0, help="measured window")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    ap.add_argument("--draw-every", type=int, default=1, help="ticks a frame")
    ap.add_argument("--json", type=Path, default=None, help="where to write the record")
    ap.add_argument(
        "--country",
        action="store_true",
        help="the 36-place synthetic country of benchmarks/country.py, with the map",
    )
    ap.add_argument("--scale", type=float, default=1000.0, help="with --country: people per agent")
    ap.add_argument("--screenshot", type=Path, default=None, help="save the page at the end")
    args = ap.parse_args()
    result = measure(
        args.size,
        args.seconds,
        args.warmup,
        args.draw_every,
        args.scale if args.country else 0.0,
        args.screenshot,
    )
    now = datetime.datetime.now(datetime.UTC)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    record = {
        "benchmark": "dashboard_fps",
        "date_utc": now.isoformat(timespec="seconds"),
        "commit": commit or None,
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
        },
        "target_fps": 10 if args.country else 20,
        **result,
    }
    path = args.json or RESULTS / f"dashboard_fps-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
    s = result["server_ms_per_frame"]["total"]
    print(
        f"{result['lattice']}: {result['frames_per_second']} frames/s drawn in the browser "
        f"({result['ticks_per_second']} ticks/s, draw every {args.draw_every}); server "
        f"{s.get('median')} ms a frame (median; p90 {s.get('p90')}); page draws a lattice "
        f"in {result['page_draw_ms_per_frame'].get('median')} ms; wrote {path}"
    )


if __name__ == "__main__":
    main()
