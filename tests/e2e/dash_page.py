"""Small helpers to drive the Dash pages from Playwright."""

from __future__ import annotations

from playwright.sync_api import Page

from resolve311.web import ids

SIGNATURE_JS = """(id) => {
  const gd = document.querySelector('#' + id + ' .js-plotly-plot');
  if (!gd || !gd.data) return null;
  return JSON.stringify(gd.data.map(t => [t.type, t.name, t.z, t.y]));
}"""


def wait_for_dash(page: Page) -> None:
    """Wait until Dash has no callback in flight."""
    page.wait_for_function(
        "() => !document.querySelector('[data-dash-is-loading=\"true\"]') && document.readyState === 'complete'"
    )


def chart_signatures(page: Page) -> dict[str, str]:
    """What every chart of the agency view currently draws (its trace data), by graph id."""
    out: dict[str, str] = {}
    for gid in ids.GRAPHS:
        page.wait_for_function(f"(id) => ({SIGNATURE_JS})(id) !== null", arg=gid)
        out[gid] = page.evaluate(SIGNATURE_JS, gid)
    return out


def choose(page: Page, dropdown_id: str, option_text: str) -> None:
    page.click(f"#{dropdown_id}")
    page.get_by_role("option", name=option_text, exact=True).click()


def wait_for_title(page: Page, prefix: str) -> None:
    page.wait_for_function(
        "(p) => (document.querySelector('#" + ids.AGENCY_TITLE + "')?.textContent || '').startsWith(p)",
        arg=prefix,
    )
