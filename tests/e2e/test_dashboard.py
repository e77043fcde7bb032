"""The dashboard in headless Chromium against the real server process."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page

from e2e.dash_page import chart_signatures, choose, wait_for_dash, wait_for_title
from e2e.snapshot_factory import DEFAULT_AGENCIES, HOSTILE_NAME, HOSTILE_TYPE
from e2e.support import Console, Server
from resolve311.web import ids

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("web-e2e")]


def test_overview_renders_every_agency_most_moved_first(server: Server, page: Page, console: Console) -> None:
    page.goto(server.url + "/?window=7d")
    rows = page.locator(".scorecard-row")
    rows.first.wait_for()
    codes = [rows.nth(i).locator(".agency-link").inner_text() for i in range(rows.count())]
    assert set(codes) == {a.code for a in DEFAULT_AGENCIES} | {"EVIL"}
    assert codes[0] == "HPD" and codes[-1] == "TLC"
    assert rows.first.locator(".badge-anomaly").count() == 1
    assert rows.last.locator(".badge-small").count() == 1
    assert console.errors == []


def test_changing_the_window_on_the_overview_updates_table_and_url(server: Server, page: Page) -> None:
    page.goto(server.url + "/?window=7d")
    first_cell = page.locator(".scorecard-row .cell-recent").first
    before = first_cell.inner_text()
    page.get_by_label("last 28 days").check()
    page.wait_for_function("() => location.search.includes('window=28d')")
    page.wait_for_function(
        "(b) => document.querySelector('.scorecard-row .cell-recent').textContent !== b", arg=before
    )


def test_clicking_an_agency_opens_its_view(server: Server, page: Page) -> None:
    page.goto(server.url + "/")
    page.locator(".agency-link", has_text="DSNY").click()
    wait_for_title(page, "DSNY")
    assert urlparse(page.url).path == "/agency"
    assert parse_qs(urlparse(page.url).query)["agency"] == ["DSNY"]


def test_choosing_an_agency_updates_every_chart(server: Server, page: Page, console: Console) -> None:
    page.goto(server.url + "/agency?agency=HPD&window=7d")
    wait_for_title(page, "HPD")
    before = chart_signatures(page)
    kpis_before = page.inner_text(f"#{ids.KPIS}")
    choose(page, ids.AGENCY, "DSNY — Department of Sanitation")
    wait_for_title(page, "DSNY")
    wait_for_dash(page)
    after = chart_signatures(page)
    assert [g for g in ids.GRAPHS if after[g] == before[g]] == []
    assert page.inner_text(f"#{ids.KPIS}") != kpis_before
    assert "agency=DSNY" in page.url
    assert console.errors == []


def test_a_shared_url_restores_the_same_view(server: Server, page: Page) -> None:
    page.goto(server.url + "/agency?agency=DOT&window=28d&baseline=1y")
    wait_for_title(page, "DOT")
    choose(page, ids.COMPLAINT_TYPE, "Street Light Condition")
    wait_for_title(page, "DOT — Department of Transportation · Street Light Condition")
    page.wait_for_function("() => location.search.includes('complaint_type=Street+Light+Condition')")
    wait_for_dash(page)
    shared, view = page.url, chart_signatures(page)
    assert "baseline=1y" in shared and "window=28d" in shared

    other = page.context.new_page()
    other.goto(shared)
    wait_for_title(other, "DOT — Department of Transportation · Street Light Condition")
    assert chart_signatures(other) == view
    assert other.inner_text(f"#{ids.KPIS}") == page.inner_text(f"#{ids.KPIS}")
    assert other.get_by_label("last 28 days").is_checked()
    assert other.get_by_label("vs one year earlier").is_checked()


def test_banner_without_an_outage_has_no_warning(server: Server, page: Page) -> None:
    page.goto(server.url + "/health")
    text = page.locator(f"#{ids.BANNER}").inner_text()
    assert "Data as of" in text and "Last successful update" in text and "unavailable" not in text


def test_health_page_shows_runs_and_quarantine(server: Server, page: Page, console: Console) -> None:
    page.goto(server.url + "/health")
    page.locator(f"#{ids.RUNS} .ag-row").first.wait_for()
    assert page.locator(f"#{ids.RUNS} .ag-row").count() == 6
    assert "closed_before_created" in page.inner_text(f"#{ids.QUARANTINE}")
    assert console.errors == []


def test_text_from_the_data_is_shown_as_text_never_executed(
    server: Server, page: Page, console: Console
) -> None:
    page.goto(server.url + "/")
    page.locator(".agency-name", has_text="Hostile Agency").wait_for()
    assert page.locator(".agency-name", has_text="Hostile Agency").inner_text() == HOSTILE_NAME
    page.goto(server.url + "/agency?agency=EVIL")
    wait_for_title(page, "EVIL")
    page.locator(f"#{ids.DRIVERS} .ag-row").first.wait_for()
    assert HOSTILE_TYPE in page.inner_text(f"#{ids.DRIVERS}")
    choose(page, ids.COMPLAINT_TYPE, HOSTILE_TYPE)
    wait_for_title(page, f"EVIL — {HOSTILE_NAME} · {HOSTILE_TYPE}")
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("img[src=x]").count() == 0
    assert console.errors == []
