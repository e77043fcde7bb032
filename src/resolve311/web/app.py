"""The Dash application: ``create_app(settings)`` builds it; nothing happens at import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import dash
from dash import Dash, html
from flask import redirect, request
from werkzeug.wrappers import Response

from resolve311.settings import Settings
from resolve311.sources.categories import load_categories
from resolve311.web.api import create_api, create_home_api
from resolve311.web.cities import CityWeb, city_webs
from resolve311.web.components import CITY_PAGES, COMPARE_PATH
from resolve311.web.context import EXTENSION_KEY, WebContext
from resolve311.web.hardening import harden
from resolve311.web.pages import agency, compare, health, overview
from resolve311.web.snapshot import SnapshotReader

ASSETS = Path(__file__).parent / "assets"
#: Each city's pages: module, path under the city's prefix, name, order.
PAGES: tuple[tuple[ModuleType, str, str], ...] = (
    (overview, CITY_PAGES["Overview"], "Overview"),
    (agency, CITY_PAGES["Agency view"], "Agency view"),
    (health, CITY_PAGES["Health"], "Health"),
)


def create_app(settings: Settings, reader: SnapshotReader | None = None, *, hardened: bool = True) -> Dash:
    """A Dash app (pages, callbacks, /api) reading only each city's serving snapshot.

    A single-city home serves ``/``, ``/agency``, ``/health`` and ``/api/…`` as always; a
    several-city home serves ``/city/<name>/…`` and ``/api/<name>/…`` per city and redirects
    the city-less paths to the first city. ``/cities`` compares the cities.
    ``hardened`` installs :mod:`resolve311.web.hardening` (404s, callback checks, ETag/304,
    gzip, security headers, body limits); only the benchmark's "before" server turns it off.
    """
    ctx = WebContext(city_webs(settings, reader), settings.recent)
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
    paths = _register_pages(ctx)
    app.server.extensions[EXTENSION_KEY] = ctx
    app.layout = html.Div(dash.page_container)
    overview.register_callbacks(app, ctx)
    agency.register_callbacks(app, ctx)
    for city in ctx.cities.values():
        name = "api" if not ctx.several else f"api_{city.name}"
        app.server.register_blueprint(create_api(city, ctx.default_window, name))
    categories = load_categories(settings.home / "categories.toml")
    app.server.register_blueprint(create_home_api(ctx, categories, settings.min_group_size))
    app.server.extensions[compare.CATEGORIES_KEY] = (categories, settings.min_group_size)
    if ctx.several:
        app.server.before_request(_legacy_redirect(ctx.first))
    if hardened:
        harden(app, ctx.reader, paths, settings, ctx.generation)
    return app


def _register_pages(ctx: WebContext) -> list[str]:
    paths = []
    for city in ctx.cities.values():
        for order, (module, suffix, name) in enumerate(PAGES):
            path = city.path(suffix)
            dash.register_page(  # type: ignore[no-untyped-call]
                module.__name__ + (f".{city.name}" if city.prefix else ""),
                path=path,
                name=name,
                title=f"{name} · {city.title} · resolve311" if city.prefix else f"{name} · resolve311",
                order=order,
                layout=_layout_for(module, city.name),
            )
            paths.append(path)
    dash.register_page(  # type: ignore[no-untyped-call]
        compare.__name__,
        path=COMPARE_PATH,
        name="Compare cities",
        title="Compare cities · resolve311",
        order=len(PAGES),
        layout=compare.layout,
    )
    return [*paths, COMPARE_PATH]


def _layout_for(module: ModuleType, city: str) -> Callable[..., Any]:
    """The page layout of one city (a ``city`` query parameter cannot change it)."""

    def layout(**query: Any) -> Any:
        query.pop("city", None)
        return module.layout(city=city, **query)

    return layout


def _legacy_redirect(first: CityWeb) -> Callable[[], Response | None]:
    """In a several-city home, today's city-less URLs redirect to the first city's."""
    pages = {suffix or "/": suffix for suffix in CITY_PAGES.values()}

    def hook() -> Response | None:
        path = request.path.rstrip("/") or "/"
        query = request.query_string.decode("latin-1")
        tail = f"?{query}" if query else ""
        if request.method not in ("GET", "HEAD"):
            return None
        if path in pages:
            return redirect(first.path(pages[path]) + tail, 302)
        legacy_api = path in ("/api/status", "/api/agencies") or path.startswith("/api/agencies/")
        if legacy_api:
            return redirect(first.api_prefix + path[len("/api") :] + tail, 307)
        return None

    return hook
