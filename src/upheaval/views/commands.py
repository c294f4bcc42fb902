"""The views' commands: ``upheaval serve`` (the live dashboard) and ``upheaval report``
(one self-contained HTML file for a run, sweep, calibration or comparison).
Registered on the command line by :func:`register`."""

from __future__ import annotations

import contextlib
import ipaddress
import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from upheaval.cli_errors import fail, warn


class _OptionError(ValueError):
    def __init__(self, option: str, reason: str):
        self.where, self.key, self.reason = option, "", reason
        super().__init__(f"{option}: {reason}")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    port: Annotated[
        int, typer.Option("--port", "-p", help="Port to listen on (default: a free one).")
    ] = 0,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on. Anything but loopback lets other machines run "
            "simulations here: give it explicitly, and read the warning.",
        ),
    ] = "127.0.0.1",
    results: Annotated[
        Path | None,
        typer.Option(
            "--results",
            metavar="DIR",
            help="Folder whose stored runs the page plays back (default: ./runs if present).",
        ),
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the page in a web browser.")
    ] = False,
    max_sites: Annotated[
        int, typer.Option("--max-sites", help="Cap on lattice sites (width × height) a run.")
    ] = 250_000,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Cap on a run's steps.")] = 100_000,
    max_runs: Annotated[int, typer.Option("--max-runs", help="Cap on runs going at once.")] = 4,
    max_upload: Annotated[
        int, typer.Option("--max-upload", help="Cap on an uploaded scenario file, in bytes.")
    ] = 256 * 1024,
) -> None:
    """Serve the live dashboard (on 127.0.0.1, a free port, unless told otherwise)."""
    from upheaval.views.dashboard import Limits, bind, missing_dependency
    from upheaval.views.dashboard import serve as run_server

    try:
        missing = missing_dependency()
        if missing:
            raise _OptionError("serve", missing)
        for option, value in (
            ("--max-sites", max_sites),
            ("--max-steps", max_steps),
            ("--max-runs", max_runs),
            ("--max-upload", max_upload),
        ):
            if value < 1:
                raise _OptionError(option, f"must be ≥ 1, got {value}")
        if not 0 <= port <= 65535:
            raise _OptionError("--port", f"must be 0…65535, got {port}")
        if results is None and Path("runs").is_dir():
            results = Path("runs")
        if results is not None and not results.is_dir():
            raise _OptionError("--results", f"{results}: no such folder")
        try:
            sock = bind(host, port)
        except OSError as e:
            raise _OptionError("--port" if port else "--host", f"cannot listen: {e}") from None
    except _OptionError as e:
        fail(e)
    if not _loopback(host):
        warn(
            f"listening on {host}: anyone who can reach this machine can run simulations "
            "on it (there is no login); use the default 127.0.0.1 unless you mean it"
        )

    def ready(url: str) -> None:
        typer.echo(f"upheaval dashboard at {url}  (Ctrl-C to stop)")
        if results is not None:
            typer.echo(f"playing back stored runs under {results}")
        if open_browser:
            webbrowser.open(url)

    limits = Limits(
        max_sites=max_sites, max_steps=max_steps, max_runs=max_runs, max_upload_bytes=max_upload
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a server stops
        run_server(sock, limits=limits, results=results, on_ready=ready)


def report(
    directory: Annotated[
        Path,
        typer.Argument(metavar="DIR", help="A run, sweep, calibration or comparison directory."),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="The HTML file (default: DIR.html, beside DIR)."),
    ] = None,
) -> None:
    """Write one self-contained HTML report (no network needed; printable) of a run,
    sweep, calibration or comparison directory."""
    from upheaval.views.report import ReportError, write_report

    try:
        path = write_report(directory, out)
    except ReportError as e:
        fail(e)
    typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``report`` to the command line."""
    app.command()(serve)
    app.command()(report)
