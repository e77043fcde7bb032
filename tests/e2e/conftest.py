"""Fixtures for the browser tests: the real server as a subprocess, headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from e2e.snapshot_factory import SnapshotSpec, build_snapshot
from e2e.support import CHROMIUM, CHROMIUM_ARGS, Console, Server, start_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server over a synthetic snapshot that includes a hostile agency and complaint type."""
    home = tmp_path_factory.mktemp("e2e-home")
    build_snapshot(home / "serving.duckdb", SnapshotSpec(hostile_text=True))
    srv = start_server(home)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def clean_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server over the synthetic snapshot without the hostile agency (for screenshots and the report)."""
    home = tmp_path_factory.mktemp("e2e-clean")
    build_snapshot(home / "serving.duckdb", SnapshotSpec())
    srv = start_server(home)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("needs /usr/bin/chromium (installed by .ci/run)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    context.route("**/*", console.guard)
    pg.on("console", console.on_message)
    pg.on("pageerror", lambda exc: console.errors.append(f"pageerror: {exc}"))
    yield pg
    context.close()
    assert console.external == [], "the page tried to load something from outside the server"
