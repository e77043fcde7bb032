"""The digest e-mail's HTML renders in Chromium with its charts and without any external request."""

from __future__ import annotations

import base64
import os
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Page

from e2e.snapshot_factory import build_snapshot
from e2e.support import Console
from resolve311.digest.email_render import email_message
from resolve311.digest.model import build_digest
from resolve311.digest.send import load_tables
from resolve311.settings import Subscriber

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SCREENSHOT = Path(__file__).parents[2] / "docs" / "screenshots" / "digest-email.png"
UPDATE = os.environ.get("RESOLVE311_UPDATE_SCREENSHOTS") == "1"


def as_shown(msg: EmailMessage) -> str:
    """The HTML part with each ``cid:`` replaced by its image part, as a mail client displays it."""
    html_part = msg.get_body(preferencelist=("html",))
    assert html_part is not None
    html = str(html_part.get_content())
    for part in msg.walk():
        if part.get_content_type() == "image/png":
            cid = str(part["Content-ID"]).strip("<>")
            uri = "data:image/png;base64," + base64.b64encode(part.get_content()).decode()
            assert f"cid:{cid}" in html
            html = html.replace(f"cid:{cid}", uri)
    return html


def test_digest_email_renders_with_its_charts(page: Page, console: Console, tmp_path: Path) -> None:
    snapshot = build_snapshot(tmp_path / "serving.duckdb")
    sub = Subscriber(
        name="hpd-ops",
        emails=["ops@hpd.example"],
        agencies=["HPD", "DSNY"],
        metrics=["ttc_median_h", "backlog_end", "created_per_day", "closed_within_3d"],
    )
    digest = build_digest(sub, load_tables(snapshot), "https://311.example.org")
    msg = email_message(digest, to="ops@hpd.example", sender="digest@311.example.org", message_id="<d@x>")
    page.set_viewport_size({"width": 720, "height": 900})
    page.set_content(as_shown(msg))
    images = page.locator("img")
    assert images.count() == 2  # one chart per flagged agency
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth === 560)")
    assert page.locator("a[href^='https://311.example.org/agency?agency=HPD']").count() >= 1
    text = page.locator("body").inner_text()
    assert "an ordinary day would flag about" in text and "by chance" in text
    assert "this flag fires on" in text and "requests validly closed in the window" in text
    target = SCREENSHOT if UPDATE or not SCREENSHOT.exists() else tmp_path / "digest-email.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000
    assert console.errors == []
