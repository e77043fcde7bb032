"""Who is slipping, on real metrics: a quiet city says so plainly; injected incidents are named with their n.

Both cities come from the stationary simulator (``simulator/stationary.py``) through the
real metrics refresh; the screenshots in docs/screenshots/ are made here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page

from e2e.dash_page import wait_for_dash, wait_for_title
from e2e.support import Console, Server, start_server
from e2e.test_report_and_screenshots import DOCS_SCREENSHOTS, UPDATE
from resolve311.publish import refresh_and_publish
from resolve311.settings import load_settings
from resolve311.simulator.incidents import Incident
from resolve311.simulator.stationary import City, warehouse_rows
from resolve311.warehouse.connection import connect

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("web-e2e-trust")]
LAST = date(2026, 10, 31)
INCIDENTS = (
    Incident("DSNY", "ttc", 3.0, LAST - timedelta(days=9), LAST),
    Incident("NYPD", "volume", 2.5, LAST - timedelta(days=6), LAST),
)


def _city(home: Path, incidents: tuple[Incident, ...]) -> Path:
    settings = load_settings(home=home, recent="7d")
    con = connect(settings.warehouse_path)
    try:
        con.register("rows_in", warehouse_rows(City(LAST - timedelta(days=520), LAST, incidents=incidents)))
        con.execute("INSERT INTO requests BY NAME SELECT * FROM rows_in")
    finally:
        con.close()
    refresh_and_publish(settings, full=True)
    return home


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(_city(tmp_path_factory.mktemp("quiet"), ()))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def incidents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(_city(tmp_path_factory.mktemp("incidents"), INCIDENTS))
    yield srv
    srv.stop()


def _shot(page: Page, name: str, tmp_path: Path) -> None:
    committed = DOCS_SCREENSHOTS / f"{name}.png"
    target = committed if UPDATE or not committed.exists() else tmp_path / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000


def test_a_quiet_city_says_nothing_unusual(
    quiet: Server, page: Page, console: Console, tmp_path: Path
) -> None:
    page.goto(quiet.url + "/?window=7d")
    summary = page.locator("#overview-summary")
    summary.wait_for()
    wait_for_dash(page)
    assert summary.inner_text().startswith("Nothing unusual in the last 7 days")
    assert "false-alarm rate" in page.locator(".rates-note").inner_text()
    _shot(page, "overview-quiet", tmp_path)
    assert console.errors == []


def test_incidents_are_named_first_with_what_moved_and_n(
    incidents: Server, page: Page, console: Console, tmp_path: Path
) -> None:
    page.goto(incidents.url + "/?window=7d")
    summary = page.locator("#overview-summary")
    summary.wait_for()
    wait_for_dash(page)
    text = summary.inner_text()
    assert "flagged value" in text and "by chance" in text
    lines = summary.locator("li")
    assert lines.count() >= 2
    flagged = {lines.nth(i).inner_text().split(" ")[0] for i in range(lines.count())}
    assert {"DSNY", "NYPD"} <= flagged
    assert "n = " in text
    first_rows = {page.locator(".scorecard-row").nth(i).locator(".agency-link").inner_text() for i in (0, 1)}
    assert first_rows == {"DSNY", "NYPD"}  # ranked first by evidence
    _shot(page, "overview-incidents", tmp_path)
    assert console.errors == []


def test_agency_view_names_each_values_n_on_hover(
    incidents: Server, page: Page, console: Console, tmp_path: Path
) -> None:
    page.goto(incidents.url + "/agency?agency=DSNY&window=7d")
    wait_for_title(page, "DSNY")
    wait_for_dash(page)
    card = page.locator(".kpi").nth(3)  # median time to close
    tip = card.locator(".hover-n")
    box = card.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 10)
    page.mouse.move(box["x"] + box["width"] / 2 + 1, box["y"] + 12)  # Chrome updates :hover on a move
    tip.wait_for(state="visible")
    assert tip.inner_text().startswith("n = ") and "requests validly closed" in tip.inner_text()
    _shot(page, "agency-n-on-hover", tmp_path)
    assert console.errors == []
