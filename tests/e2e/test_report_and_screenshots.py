"""The static report opens offline with every chart drawn; screenshots of each page for the docs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from e2e.dash_page import chart_signatures, wait_for_dash, wait_for_title
from e2e.support import Console, Server, env_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("web-e2e-report")]
DOCS_SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
#: Set to 1 to refresh the committed screenshots (otherwise they are written only when missing,
#: so a test run does not dirty the work tree with re-rendered PNGs).
UPDATE = os.environ.get("RESOLVE311_UPDATE_SCREENSHOTS") == "1"


def test_report_opens_offline_with_all_charts_drawn(
    clean_server: Server, browser: Browser, tmp_path: Path
) -> None:
    out = tmp_path / "review.html"
    cmd = [sys.executable, "-m", "resolve311", "report", "--out", str(out)]
    subprocess.run(cmd, env=env_for(clean_server.home), check=True, capture_output=True, timeout=120)
    context = browser.new_context(offline=True)
    page = context.new_page()
    console = Console()
    page.on("console", console.on_message)
    page.on("pageerror", lambda exc: console.errors.append(str(exc)))
    page.goto(out.as_uri())
    charts = page.locator(".plotly-graph-div")
    assert charts.count() >= 4
    page.wait_for_function(
        "() => [...document.querySelectorAll('.plotly-graph-div')]"
        ".every(d => d.querySelectorAll('.main-svg g.trace, .main-svg .hm image').length > 0)"
    )
    assert page.locator(".scorecard-row").count() == 8
    assert console.errors == []
    context.close()


@pytest.mark.parametrize(
    "name,path,ready",
    [
        ("overview", "/?window=7d", ".scorecard-row"),
        ("agency", "/agency?agency=HPD&window=7d", None),
        ("health", "/health", ".ag-row"),
    ],
)
def test_screenshot_of_each_page(
    clean_server: Server,
    page: Page,
    console: Console,
    tmp_path: Path,
    name: str,
    path: str,
    ready: str | None,
) -> None:
    page.goto(clean_server.url + path)
    if ready:
        page.locator(ready).first.wait_for()
    else:
        wait_for_title(page, "HPD")
        chart_signatures(page)
    wait_for_dash(page)
    committed = DOCS_SCREENSHOTS / f"{name}.png"
    target = committed if UPDATE or not committed.exists() else tmp_path / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000
    assert console.errors == []


def test_phone_width_has_no_horizontal_page_scroll(clean_server: Server, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(clean_server.url + "/agency?agency=HPD")
    wait_for_title(page, "HPD")
    wait_for_dash(page)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    context.close()
