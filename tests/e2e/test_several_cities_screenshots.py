"""A several-city dashboard in a real browser: the city switcher, a Chicago agency view whose map names
its community areas, the cross-city page — no console error (the CSP holds), screenshots for the docs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from e2e.dash_page import chart_signatures, wait_for_dash, wait_for_title
from e2e.snapshot_factory import SnapshotSpec, build_snapshot
from e2e.snapshot_shapes import CHICAGO, CHICAGO_AREAS, SF
from e2e.support import Console, Server, start_server
from e2e.test_report_and_screenshots import DOCS_SCREENSHOTS, UPDATE

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("web-e2e-cities")]
SANITATION = "Streets and Sanitation"


@pytest.fixture(scope="module")
def cities_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("e2e-cities")
    build_snapshot(home / "cities" / "nyc" / "serving.duckdb", SnapshotSpec())
    build_snapshot(home / "cities" / "chicago" / "serving.duckdb", SnapshotSpec(**CHICAGO))  # type: ignore[arg-type]
    build_snapshot(home / "cities" / "sf" / "serving.duckdb", SnapshotSpec(**SF))  # type: ignore[arg-type]
    env = {"RESOLVE311_CITIES": json.dumps(["nyc", "chicago", "sf"])}
    srv = start_server(home, env, ready="/api/nyc/status")
    yield srv
    srv.stop()


def shoot(page: Page, name: str, tmp_path: Path, *, full_page: bool = True) -> None:
    committed = DOCS_SCREENSHOTS / f"{name}.png"
    target = committed if UPDATE or not committed.exists() else tmp_path / f"{name}.png"
    page.screenshot(path=str(target), full_page=full_page)
    assert target.stat().st_size > 10_000


def test_the_city_switcher_opens_the_same_page_in_another_city(
    cities_server: Server, page: Page, console: Console, tmp_path: Path
) -> None:
    page.goto(cities_server.url + "/")  # the city-less address opens the first city
    page.locator(".scorecard-row").first.wait_for()
    assert page.url.endswith("/city/nyc")
    page.locator("#city-switcher").get_by_role("link", name="Chicago").click()
    page.wait_for_url("**/city/chicago")
    page.get_by_role("link", name=SANITATION, exact=True).first.wait_for()
    wait_for_dash(page)
    assert page.locator("#city-switcher .active").inner_text() == "Chicago"
    shoot(page, "city-switcher", tmp_path, full_page=False)
    assert console.errors == []


def test_a_chicago_agency_view_names_community_areas_on_its_map(
    cities_server: Server, page: Page, console: Console, tmp_path: Path
) -> None:
    page.goto(cities_server.url + f"/city/chicago/agency?agency={SANITATION}&window=7d")
    wait_for_title(page, SANITATION)
    chart_signatures(page)
    wait_for_dash(page)
    assert page.get_by_text("Community area", exact=True).count() == 1  # the filter's label
    labels = page.evaluate(
        "() => document.querySelector('#where-recent .js-plotly-plot').layout.annotations.map(a => a.text)"
    )
    assert set(labels) == set(CHICAGO_AREAS)
    shoot(page, "chicago-agency", tmp_path)
    assert console.errors == []


def test_the_cross_city_page_compares_every_category(
    cities_server: Server, page: Page, console: Console, tmp_path: Path
) -> None:
    page.goto(cities_server.url + "/cities")
    page.locator(".compare-category").first.wait_for()
    wait_for_dash(page)
    blocks = page.locator(".compare-category")
    assert blocks.count() >= 9
    graffiti = page.locator("#category-graffiti tbody tr")
    assert graffiti.count() == 3
    assert "Graffiti Removal Request" in graffiti.nth(1).inner_text()
    assert "Completed" in page.locator(".caveats").inner_text()
    assert page.locator("#compare-glance tbody tr").count() == blocks.count()
    page.set_viewport_size({"width": 1400, "height": 1000})
    shoot(page, "cross-city", tmp_path, full_page=False)  # the caveats and the at-a-glance table
    assert console.errors == []
