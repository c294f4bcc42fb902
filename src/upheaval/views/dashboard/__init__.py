"""The live dashboard (``upheaval serve``): watch a run, change it, branch a what-if,
play back stored runs. A view: the model never imports it.

Needs the ``dashboard`` extra (Starlette, uvicorn): ``pip install "upheaval[dashboard]"``.

>>> from upheaval.views.dashboard import DashboardConfig, Limits, create_app
>>> app = create_app(DashboardConfig(limits=Limits(max_sites=40_000)))  # an ASGI app

:func:`serve` binds a socket (127.0.0.1 and a free port unless told otherwise) and
runs the app with uvicorn until interrupted. ``docs/dashboard.md`` describes the
page, the frame format, the caps and the measured speed.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .form import Limits

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from .app import DashboardConfig

LOOPBACK = "127.0.0.1"


def missing_dependency() -> str | None:
    """What to install if the dashboard's libraries are missing, else None."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        return f"the dashboard needs {e.name}: pip install 'upheaval[dashboard]'"
    return None


def bind(host: str = LOOPBACK, port: int = 0) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: a free port the system picks)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(
    sock: socket.socket,
    *,
    limits: Limits | None = None,
    results: Path | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the dashboard on ``sock`` until interrupted (Ctrl-C); ``on_ready(url)``
    is called once it listens."""
    import uvicorn

    from .app import DashboardConfig, create_app

    host, port = sock.getsockname()[:2]
    loopback = ("127.0.0.1", "localhost", "::1", "[::1]")
    app = create_app(
        DashboardConfig(
            limits=limits or Limits(),
            results=results,
            allowed_hosts=loopback if host in loopback else None,
        )
    )
    url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
    config = uvicorn.Config(app, log_level="warning", ws_max_size=1 << 20)
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready(url)
    server.run(sockets=[sock])


def create_app(config: DashboardConfig | None = None) -> Starlette:
    """The dashboard's ASGI app (see :func:`upheaval.views.dashboard.app.create_app`)."""
    from .app import create_app as _create

    return _create(config)


def __getattr__(name: str) -> Any:  # DashboardConfig, imported lazily (starlette)
    if name == "DashboardConfig":
        from .app import DashboardConfig

        return DashboardConfig
    raise AttributeError(name)


__all__ = ["LOOPBACK", "DashboardConfig", "Limits", "bind", "create_app", "serve"]
