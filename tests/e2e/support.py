"""Support for the browser tests: the real server as a subprocess, console capture."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx
from playwright.sync_api import ConsoleMessage, Route

from helpers import free_port, stop_process, wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Server:
    url: str
    home: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        stop_process(self.process)


def env_for(home: Path) -> dict[str, str]:
    env = {**os.environ, "RESOLVE311_HOME": str(home), "RESOLVE311_CONFIG": str(home / "none.toml")}
    env.pop("SOCRATA_APP_TOKEN", None)
    return env


def start_server(home: Path, env: dict[str, str] | None = None, ready: str = "/api/status") -> Server:
    """``resolve311 serve --port N`` on a free port (``env``: more variables); returns once ``ready`` answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "resolve311", "serve", "--port", str(port)]
    environment = env_for(home) | (env or {})
    proc = subprocess.Popen(cmd, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(f"http://127.0.0.1:{port}", home, proc)

    def answers() -> bool:
        assert proc.poll() is None, "server exited"
        return httpx.get(server.url + ready, timeout=2).status_code == 200

    try:
        wait_for(answers, timeout=60)
    except BaseException:
        server.stop()
        raise
    return server


@dataclass
class Console:
    """Browser console errors and uncaught page errors seen by one page."""

    errors: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)

    def on_message(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(msg.text)

    def guard(self, route: Route) -> None:
        """Let local requests through; record and abort anything else (the app must work offline)."""
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("file:", "data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()
