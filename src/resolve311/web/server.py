"""``resolve311 serve``: the dashboard under gunicorn (several worker processes, threads each).

Why gunicorn: the dashboard's work is CPU-bound Python (building Plotly figures and
Dash JSON), so one process with threads is held by the GIL; gunicorn's pre-fork
workers use every core. Each worker builds its own app and its own read-only
:class:`~resolve311.web.snapshot.SnapshotReader` (no preloading, so no DuckDB handle
crosses a fork), and each follows a newly published snapshot on its own. The master
imports the dashboard's modules before it forks (importing opens nothing), so a worker
starts in ~0.1 CPU-s instead of importing them for ~1.5. The
``gthread`` worker keeps idle keep-alive connections in a poller, not in a thread.
gunicorn stops gracefully on SIGTERM (in-flight requests finish) and at once on
SIGINT. Request-body limits and deadlines are enforced by the app itself
(:mod:`resolve311.web.body_guard`), so they hold under any WSGI server.
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Any

from gunicorn.app.base import BaseApplication

from resolve311.errors import ConfigError
from resolve311.settings import Settings

log = logging.getLogger(__name__)

#: How long a stopping worker may finish its requests (below stop_process's 10 s).
GRACEFUL_TIMEOUT_S = 8
KEEPALIVE_S = 30  # longer than clients keep idle connections (httpx: 5 s), so the client closes first


def bind_address(host: str, port: int) -> str:
    """gunicorn's ``bind`` for host and port (IPv6 literals in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """The gunicorn configuration that ``serve`` runs with."""
    return {
        "bind": [bind_address(settings.host, settings.port)],
        "workers": settings.web_workers,
        "threads": settings.web_threads,
        "worker_class": "gthread",
        "timeout": max(int(settings.web_timeout_s), 1),
        "graceful_timeout": GRACEFUL_TIMEOUT_S,
        "keepalive": KEEPALIVE_S,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        "preload_app": False,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
        "proc_name": "resolve311-serve",
        "control_socket_disable": True,
    }


class DashboardServer(BaseApplication):  # type: ignore[misc]
    """gunicorn running :func:`resolve311.web.app.create_app` in every worker."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in gunicorn_options(self.settings).items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from resolve311.web.app import create_app

        app = create_app(self.settings)
        warm_up(app.server)
        return app.server


def warm_up(server: Any) -> None:
    """Serve one page in this worker before it takes traffic.

    Dash sets itself up on a worker's first request (it registers the JavaScript bundles
    it may serve) and marks that done *before* it finishes, so concurrent first requests
    of a fresh worker thread race it: a browser's parallel bundle requests got 404.
    """
    response = server.test_client().get("/", follow_redirects=True)  # a several-city home redirects
    if response.status_code != 200:
        raise RuntimeError(f"the dashboard failed its warm-up request ({response.status_code})")


def check_port_free(host: str, port: int) -> None:
    """A one-line ConfigError when the address is taken (gunicorn would retry, then print a banner)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise ConfigError(f"cannot listen on {host}:{port}: {reason}") from None


def run_server(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT."""
    check_port_free(settings.host, settings.port)
    log.info(
        "serving on http://%s:%s (gunicorn, %d worker(s) x %d thread(s))",
        settings.host,
        settings.port,
        settings.web_workers,
        settings.web_threads,
    )
    import resolve311.web.app  # noqa: F401  (the workers fork with the dashboard's modules loaded)

    DashboardServer(settings).run()
