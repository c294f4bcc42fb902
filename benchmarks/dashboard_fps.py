"""Dashboard speed: frames per second drawn in a real browser, and the server's time per
frame.

    python benchmarks/dashboard_fps.py                      # 200×200, 10 s (~30 s in all)
    python benchmarks/dashboard_fps.py --size 400 --seconds 20 --draw-every 5

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


def measure(size: int, seconds: float, warmup: float, draw_every: int) -> dict:
    import uvicorn
    from playwright.sync_api import sync_playwright

    import upheaval
    from upheaval.views.dashboard import Limits, bind
    from upheaval.views.dashboard.app import DashboardConfig, create_app

    upheaval.Simulation(upheaval.load("epstein2002-run2"), seed=0).step(1)  # compiled
    app = create_app(DashboardConfig(limits=Limits(max_sites=max(250_000, size * size))))
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
            for loc, value in (
                ("world.width", size),
                ("world.height", size),
                ("run.steps", 100_000),
            ):
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
                "draw: window.dashboard.drawLog})"
            )
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
        "lattice": f"{size}x{size}",
        "scenario": "epstein2002-run2",
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
    args = ap.parse_args()
    result = measure(args.size, args.seconds, args.warmup, args.draw_every)
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
        "target_fps": 20,
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
