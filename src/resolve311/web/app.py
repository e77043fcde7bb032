"""The Dash application: ``create_app(settings)`` builds it; nothing happens at import."""

from __future__ import annotations

from pathlib import Path

import dash
from dash import Dash, html

from resolve311.settings import Settings
from resolve311.web.api import create_api
from resolve311.web.context import EXTENSION_KEY, WebContext
from resolve311.web.hardening import harden
from resolve311.web.pages import agency, health, overview
from resolve311.web.snapshot import SnapshotReader

ASSETS = Path(__file__).parent / "assets"


def create_app(settings: Settings, reader: SnapshotReader | None = None, *, hardened: bool = True) -> Dash:
    """A Dash app (pages, callbacks, /api) reading only ``settings.snapshot_path``.

    ``hardened`` installs :mod:`resolve311.web.hardening` (404s, callback checks, ETag/304,
    gzip, security headers, body limits); only the benchmark's "before" server turns it off.
    """
    ctx = WebContext(reader or SnapshotReader(settings.snapshot_path), settings.recent)
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        serve_locally=True,
        suppress_callback_exceptions=True,
        title="resolve311 — daily review",
        update_title="",
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    pages = (
        (overview, "/", "Overview", 0),
        (agency, "/agency", "Agency view", 1),
        (health, "/health", "Health", 2),
    )
    for module, path, name, order in pages:
        dash.register_page(  # type: ignore[no-untyped-call]
            module.__name__,
            path=path,
            name=name,
            title=f"{name} · resolve311",
            order=order,
            layout=module.layout,
        )
    app.server.extensions[EXTENSION_KEY] = ctx
    app.layout = html.Div(dash.page_container)
    overview.register_callbacks(app, ctx)
    agency.register_callbacks(app, ctx)
    app.server.register_blueprint(create_api(ctx.reader, ctx.default_window))
    if hardened:
        harden(app, ctx.reader, [path for _, path, _, _ in pages], settings)
    return app
