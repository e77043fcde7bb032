"""Hostile text in the source data, through the real pipeline, is shown as text and never runs.

A real NYC CSV page is altered so that some NYPD requests carry a complaint type
and a descriptor made of HTML and script; it is imported, the metrics are
refreshed, and both the dashboard and the standalone report are opened in
Chromium.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from e2e.dash_page import wait_for_dash, wait_for_title
from e2e.support import Console, env_for, start_server
from helpers import REAL_DATA
from resolve311.web import ids

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("web-e2e-hostile")]

HOSTILE_TYPE = "<script>window.__xss=1</script>"
HOSTILE_DESCRIPTOR = '<img src=x onerror="window.__xss=2">'
HOSTILE_NAME = '<img src=x onerror="window.__xss=3">Police'


def hostile_csv(folder: Path) -> Path:
    """The real 2024-04-16 SODA page with every NYPD request's name, type and descriptor made hostile."""
    text = (REAL_DATA / "soda-csv_erm2-nwe9_2024-04-16.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        if row["agency"] == "NYPD":
            row["complaint_type"], row["descriptor"] = HOSTILE_TYPE, HOSTILE_DESCRIPTOR
            row["agency_name"] = HOSTILE_NAME
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
    writer.writeheader()
    writer.writerows(rows)
    path = folder / "hostile.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def cli(home: Path, *args: str) -> None:
    cmd = [sys.executable, "-m", "resolve311", *args]
    subprocess.run(cmd, env=env_for(home), check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home that imported the hostile page (once for the module: both tests only read it)."""
    folder = tmp_path_factory.mktemp("hostile")
    home = folder / "home"
    cli(home, "import", str(hostile_csv(folder)))
    return home


def test_hostile_text_from_the_source_is_shown_as_text(
    hostile_home: Path, page: Page, console: Console
) -> None:
    server = start_server(hostile_home)
    try:
        page.goto(f"{server.url}/agency?agency=NYPD")
        wait_for_title(page, "NYPD")
        wait_for_dash(page)
        page.locator(f"#{ids.DRIVERS}").get_by_text(HOSTILE_TYPE).first.wait_for()
        wait_for_title(page, f"NYPD — {HOSTILE_NAME}")
        assert page.evaluate("() => window.__xss") is None
        assert console.errors == []
    finally:
        server.stop()


def test_hostile_text_in_the_report_never_runs(hostile_home: Path, tmp_path: Path, browser: Browser) -> None:
    out = tmp_path / "review.html"
    cli(hostile_home, "report", "--out", str(out))
    context = browser.new_context(offline=True)
    page = context.new_page()
    page.goto(out.as_uri())
    page.locator(".scorecard-row").first.wait_for()
    names = page.locator(".agency-name").all_inner_texts()
    assert HOSTILE_NAME in names
    assert page.evaluate("() => window.__xss") is None
    context.close()
