"""The dashboard over a snapshot made by the real pipeline: simulate -> update (-> metrics) -> serve."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page

from e2e.dash_page import chart_signatures, wait_for_title
from e2e.support import Console, Server, env_for, start_server
from helpers import SimulatorProcess, start_simulator, wait_for
from resolve311.web import ids

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("web-e2e-pipeline")]
SIMULATOR_ARGS = (
    "--today",
    "2026-11-27",
    "--history-days",
    "60",
    "--scale",
    "0.02",
    "--down",
    "2026-11-28..2026-11-28",
)
FAST_RETRIES = {
    "RESOLVE311_HISTORY_DAYS": "60",
    "RESOLVE311_HISTORY_YEAR_EARLIER": "false",
    "RESOLVE311_RETRY_BUDGET_S": "3",
    "RESOLVE311_RETRY_BASE_S": "0.1",
    "RESOLVE311_RETRY_MAX_S": "0.5",
    "RESOLVE311_REQUEST_TIMEOUT_S": "5",
}


def run_update(home: Path, source_url: str) -> int:
    """``resolve311 update`` against the simulator (it refreshes metrics and republishes the snapshot)."""
    env = {**env_for(home), **FAST_RETRIES}
    cmd = [sys.executable, "-m", "resolve311", "update", "--socrata-url", source_url]
    done = subprocess.run(cmd, env=env, capture_output=True, timeout=300, text=True)
    return done.returncode


@dataclass
class Pipeline:
    server: Server
    simulator: SimulatorProcess
    updated: bool = False

    def update(self) -> int:
        self.updated = True
        return run_update(self.server.home, self.simulator.url)

    def ensure_updated(self) -> None:
        """The first, successful update (the server was started before any data existed)."""
        if not self.updated:
            assert self.update() == 0


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """A simulator and a server started on an empty home: no snapshot until the first update."""
    home: Path = tmp_path_factory.mktemp("e2e-pipeline")
    simulator = start_simulator(*SIMULATOR_ARGS)
    server: Server | None = None
    try:
        server = start_server(home)
        yield Pipeline(server, simulator)
    finally:
        if server is not None:
            server.stop()
        simulator.stop()


def test_before_the_first_update_pages_say_no_data_yet(
    pipeline: Pipeline, page: Page, console: Console
) -> None:
    if pipeline.updated:
        pytest.skip("runs first in this module: the home already has data")
    for path in ("/", "/agency?agency=NYPD", "/health"):
        page.goto(pipeline.server.url + path)
        page.locator(".empty-state").wait_for()
        assert "No data yet" in page.locator(f"#{ids.BANNER}").inner_text()
    assert httpx.get(pipeline.server.url + "/api/agencies", timeout=10).status_code == 503
    assert console.errors == []


def test_overview_lists_every_agency_of_the_real_snapshot(
    pipeline: Pipeline, page: Page, console: Console
) -> None:
    pipeline.ensure_updated()  # the running server picks up the first snapshot without a restart
    answer = httpx.get(pipeline.server.url + "/api/agencies?window=7d", timeout=10)
    assert answer.status_code == 200, answer.text
    listed = answer.json()["agencies"]
    assert len(listed) >= 5
    page.goto(pipeline.server.url + "/?window=7d")
    rows = page.locator(".scorecard-row")
    rows.first.wait_for()
    shown = {rows.nth(i).locator(".agency-link").inner_text() for i in range(rows.count())}
    assert shown == {a["agency"] for a in listed}
    assert console.errors == []


def test_agency_view_draws_every_chart_from_the_real_snapshot(
    pipeline: Pipeline, page: Page, console: Console
) -> None:
    pipeline.ensure_updated()  # the running server picks up the first snapshot without a restart
    page.goto(pipeline.server.url + "/agency?agency=NYPD&window=7d")
    wait_for_title(page, "NYPD")
    signatures = chart_signatures(page)
    assert all(signatures[g] and "heatmap" in signatures[g] for g in ids.GRAPHS[:6])
    assert page.locator(f"#{ids.DRIVERS} .ag-row").count() > 3
    assert console.errors == []


def test_banner_shows_the_outage_after_a_simulated_down_day(pipeline: Pipeline, page: Page) -> None:
    pipeline.ensure_updated()
    httpx.post(pipeline.simulator.url + "/_sim/advance", params={"days": 1}, timeout=120).raise_for_status()
    assert pipeline.update() == 75  # source unavailable; status is republished all the same

    def banner_text() -> str:
        page.goto(pipeline.server.url + "/")  # the running server picks up the republished snapshot
        return page.locator(f"#{ids.BANNER}").inner_text()

    wait_for(lambda: "Source unavailable" in banner_text(), timeout=30)
    for path in ("/", "/agency?agency=NYPD", "/health"):
        page.goto(pipeline.server.url + path)
        text = page.locator(f"#{ids.BANNER}").inner_text()
        assert "Source unavailable since 20" in text and "UTC" in text
        assert "Data as of" in text and "Last successful update" in text
