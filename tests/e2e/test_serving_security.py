"""The Content-Security-Policy is in force and the dashboard works fully under it (no violation)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from e2e.dash_page import chart_signatures, choose, wait_for_dash, wait_for_title
from e2e.support import Console, Server
from resolve311.web import ids

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("web-e2e")]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def violations(page: Page) -> list[str]:
    return list(page.evaluate("() => window.__cspViolations"))


def test_browsing_every_page_violates_nothing(server: Server, page: Page, console: Console) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(server.url + "/?window=7d")
    assert (
        response is not None and "script-src 'self' 'sha256-" in response.headers["content-security-policy"]
    )
    page.locator(".scorecard-row").first.wait_for()
    page.get_by_label("last 28 days").check()
    page.wait_for_function("() => location.search.includes('window=28d')")
    assert violations(page) == []

    page.goto(server.url + "/agency?agency=HPD&window=7d")
    wait_for_title(page, "HPD")
    choose(page, ids.AGENCY, "DSNY — Department of Sanitation")
    wait_for_title(page, "DSNY")
    wait_for_dash(page)
    assert len(chart_signatures(page)) == len(ids.GRAPHS)
    assert violations(page) == []

    page.goto(server.url + "/health")
    page.locator(f"#{ids.QUARANTINE}").wait_for()
    assert violations(page) == []
    assert console.errors == []


def test_an_injected_inline_script_is_refused(server: Server, page: Page, console: Console) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(server.url + "/")
    page.locator(".scorecard-row").first.wait_for()
    page.evaluate(
        """() => { const s = document.createElement('script');
                  s.textContent = 'window.__injected = true'; document.body.appendChild(s); }"""
    )
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert page.evaluate("() => window.__injected === undefined")
    assert any(v.startswith("script-src") for v in violations(page))
    console.errors.clear()  # the refusal itself is logged as an error
