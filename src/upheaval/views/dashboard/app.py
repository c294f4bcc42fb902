"""The dashboard's web application (Starlette): the page, its API and the frame stream.

Routes:

``GET /``                              the page (static files under ``static/``)
``GET /api/schema``                    the parameter form's schema, the presets, the caps
``GET /api/preset/{name}``             a preset as the form's content
``POST /api/upload``                   a scenario file's text → the form's content
``POST /api/validate``                 a form → ok, or the loader's message and key
``WS  /ws``                            one page's run: commands in, frames out
``GET /api/live/{token}/{file}``       the live run's ``ticks.parquet`` or
                                       ``timeseries.png``
``GET /api/stored``                    stored runs found under the server's results
                                       folder
``GET /api/stored/{id}``               one stored run: its ticks, snapshot ticks,
                                       timeline marks
``GET /api/stored/{id}/snapshot/{t}``  a snapshot as palette indices
``GET /api/stored/{id}/file/{file}``   a stored run's Parquet, manifest or figure
``GET /api/status``                    runs going, caps

No request names a file: presets are picked from the package's list, stored runs
from the list the server made of its results folder (an id is looked up there, never
joined to a path), downloads from fixed names. Uploads are TOML text read by the
scenario loader, capped in size.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import secrets
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from upheaval.scenario.loading import ScenarioError, load_preset, preset_names

from .form import Limits, read_upload, scenario_form, scenario_from_form, schema
from .frames import legend, palette_rgba
from .session import RunSession, RunSlots
from .stored import StoredRuns

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.websockets import WebSocket

STATIC = resources.files("upheaval.views.dashboard") / "static"


@dataclass
class DashboardConfig:
    """What a server is given: its caps and the folder whose stored runs it plays back
    (None: no playback)."""

    limits: Limits = field(default_factory=Limits)
    results: Path | None = None
    #: Host names a request may address (its Host header), None: any. A server on
    #: loopback answers only to loopback names, so a web page elsewhere cannot reach
    #: it through a name that resolves to 127.0.0.1 (DNS rebinding).
    allowed_hosts: tuple[str, ...] | None = None


def _error(e: ScenarioError, status: int = 400) -> JSONResponse:
    from starlette.responses import JSONResponse

    return JSONResponse(
        {"ok": False, "key": e.key, "message": e.reason, "where": e.where}, status_code=status
    )


def create_app(config: DashboardConfig | None = None) -> Starlette:
    """The dashboard as an ASGI application (serve it with uvicorn)."""
    # Imported here: Starlette is the optional `dashboard` extra.
    from starlette.applications import Starlette
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocketDisconnect

    config = config or DashboardConfig()
    limits = config.limits
    slots = RunSlots(limits.max_runs)
    sessions: dict[str, RunSession] = {}
    stored = StoredRuns(config.results)
    form_schema = schema()

    async def index(request: Request) -> Response:
        return FileResponse(str(STATIC / "index.html"))

    async def api_schema(request: Request) -> Response:
        return JSONResponse(
            {
                **form_schema,
                "limits": {
                    "max_sites": limits.max_sites,
                    "max_steps": limits.max_steps,
                    "max_runs": limits.max_runs,
                    "max_upload_bytes": limits.max_upload_bytes,
                },
                "palette": list(palette_rgba()),
                "legend": legend(),
                "playback": config.results is not None,
            }
        )

    async def api_preset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in preset_names():
            return JSONResponse({"ok": False, "message": f"no preset {name!r}"}, status_code=404)
        return JSONResponse({"ok": True, **scenario_form(load_preset(name))})

    async def _body(request: Request) -> bytes | None:
        """The request's body, or None if it is over the upload cap."""
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limits.max_upload_bytes:
            return None
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limits.max_upload_bytes:
                return None
        return bytes(body)

    def _too_big() -> JSONResponse:
        return JSONResponse(
            {
                "ok": False,
                "key": "",
                "message": f"the file is over this server's upload cap of "
                f"{limits.max_upload_bytes:,} bytes (upheaval serve --max-upload)",
            },
            status_code=413,
        )

    async def api_upload(request: Request) -> Response:
        body = await _body(request)
        if body is None:
            return _too_big()
        name = request.query_params.get("filename", "upload.toml")
        name = "".join(c for c in name if c.isalnum() or c in "._-")[:80] or "upload.toml"
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _error(ScenarioError(f"upload {name}", "", "not UTF-8 text"))
        try:
            sc = await asyncio.to_thread(read_upload, text, name)
        except ScenarioError as e:
            return _error(e)
        return JSONResponse({"ok": True, **scenario_form(sc)})

    async def api_validate(request: Request) -> Response:
        body = await _body(request)
        if body is None:
            return _too_big()
        try:
            form = json.loads(body)
        except ValueError:
            return _error(ScenarioError("form", "", "expected JSON"))
        try:
            sc = scenario_from_form(form)
            limits.check_scenario(sc)
        except ScenarioError as e:
            return _error(e)
        return JSONResponse({"ok": True, "name": sc.name})

    async def api_status(request: Request) -> Response:
        return JSONResponse({"runs": slots.taken, "pages": len(sessions), "max_runs": slots.limit})

    async def api_live(request: Request) -> Response:
        session = sessions.get(request.path_params["token"])
        name = request.path_params["file"]
        if session is None:
            return JSONResponse({"ok": False, "message": "no such run"}, status_code=404)
        variant = 1 if request.query_params.get("variant") == "B" else 0
        table = session.table(variant)
        if table is None:
            return JSONResponse({"ok": False, "message": "nothing run yet"}, status_code=404)
        if name == "ticks.parquet":
            return Response(
                await asyncio.to_thread(_parquet_bytes, table),
                media_type="application/vnd.apache.parquet",
                headers={"content-disposition": 'attachment; filename="ticks.parquet"'},
            )
        if name == "timeseries.png":
            return Response(
                await asyncio.to_thread(_figure_png, table, session.model2),
                media_type="image/png",
            )
        return JSONResponse({"ok": False, "message": f"no file {name!r}"}, status_code=404)

    async def api_stored(request: Request) -> Response:
        return JSONResponse({"runs": await asyncio.to_thread(stored.listing)})

    async def api_stored_run(request: Request) -> Response:
        run = await asyncio.to_thread(stored.run, request.path_params["id"])
        if run is None:
            return JSONResponse({"ok": False, "message": "no such stored run"}, status_code=404)
        return JSONResponse({"ok": True, **run})

    async def api_stored_snapshot(request: Request) -> Response:
        blob = await asyncio.to_thread(
            stored.snapshot, request.path_params["id"], request.path_params["tick"]
        )
        if blob is None:
            return JSONResponse({"ok": False, "message": "no such snapshot"}, status_code=404)
        return Response(blob, media_type="application/octet-stream")

    async def api_stored_file(request: Request) -> Response:
        got = await asyncio.to_thread(
            stored.file, request.path_params["id"], request.path_params["file"]
        )
        if got is None:
            return JSONResponse({"ok": False, "message": "no such file"}, status_code=404)
        data, media, name = got
        return Response(
            data,
            media_type=media,
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    async def ws_run(ws: WebSocket) -> None:
        # A browser sends the page's origin: only the dashboard's own page may run
        # simulations here, not a script of some other site the user has open.
        origin = ws.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != ws.headers.get("host"):
            await ws.close(code=1008)
            return
        await ws.accept()
        loop = asyncio.get_running_loop()
        out: asyncio.Queue[bytes | dict[str, Any] | None] = asyncio.Queue()

        def send(msg: bytes | dict[str, Any]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody listens
                loop.call_soon_threadsafe(out.put_nowait, msg)

        session = RunSession(limits, send, slots)
        token = secrets.token_urlsafe(16)
        sessions[token] = session

        async def writer() -> None:
            while True:
                msg = await out.get()
                if msg is None:
                    return
                if isinstance(msg, bytes):
                    await ws.send_bytes(msg)
                else:
                    await ws.send_text(json.dumps(msg))

        task = asyncio.create_task(writer())
        try:
            await ws.send_text(json.dumps({"type": "hello", "token": token}))
            while True:
                text = await ws.receive_text()
                try:
                    msg = json.loads(text)
                    op, arg = msg["op"], msg.get("arg")
                    if not isinstance(op, str):
                        raise TypeError
                except (ValueError, KeyError, TypeError):
                    send({"type": "error", "key": "", "message": "expected {op, arg}"})
                    continue
                session.command(op, arg)
        except (WebSocketDisconnect, RuntimeError):
            pass  # the page went away, maybe mid-frame
        finally:
            session.close()
            sessions.pop(token, None)
            out.put_nowait(None)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    routes = [
        Route("/", index),
        Route("/api/schema", api_schema),
        Route("/api/preset/{name}", api_preset),
        Route("/api/upload", api_upload, methods=["POST"]),
        Route("/api/validate", api_validate, methods=["POST"]),
        Route("/api/status", api_status),
        Route("/api/live/{token}/{file}", api_live),
        Route("/api/stored", api_stored),
        Route("/api/stored/{id:path}/snapshot/{tick:int}", api_stored_snapshot),
        Route("/api/stored/{id:path}/file/{file}", api_stored_file),
        Route("/api/stored/{id:path}", api_stored_run),
        WebSocketRoute("/ws", ws_run),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]
    middleware = []
    if config.allowed_hosts is not None:
        from starlette.middleware import Middleware
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        middleware.append(
            Middleware(TrustedHostMiddleware, allowed_hosts=list(config.allowed_hosts))
        )
    app = Starlette(routes=routes, middleware=middleware)
    app.state.slots = slots
    app.state.sessions = sessions
    return app


def _parquet_bytes(table: Any) -> bytes:
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _figure_png(table: Any, model2: bool) -> bytes:
    from upheaval.views.figures import timeseries_figure

    fig = timeseries_figure(table, model2=model2)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


__all__ = ["DashboardConfig", "create_app"]
