"""What pages and callbacks share: the snapshot reader and defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dash import html
from flask import current_app

from resolve311.web import components
from resolve311.web.filters import BadParameter, Filters, parse_filters
from resolve311.web.snapshot import SnapshotReader


@dataclass(frozen=True)
class WebContext:
    reader: SnapshotReader
    default_window: str


EXTENSION_KEY = "resolve311"


def current() -> WebContext:
    """The context of the app serving this request (pages look it up, so apps never share state)."""
    ctx = current_app.extensions[EXTENSION_KEY]
    assert isinstance(ctx, WebContext)
    return ctx


def first_values(query: Mapping[str, Any]) -> dict[str, str]:
    """Dash passes a repeated query parameter as a list: keep the first value of each."""
    out: dict[str, str] = {}
    for key, value in query.items():
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        out[key] = str(value)
    return out


def page_filters(ctx: WebContext, query: Mapping[str, Any]) -> tuple[Filters, str | None]:
    """Filters from a page URL; a bad value falls back to the defaults with a note."""
    try:
        return parse_filters(first_values(query), default_window=ctx.default_window), None
    except BadParameter as exc:
        fallback = parse_filters({}, default_window=ctx.default_window)
        return fallback, f"Ignored a bad link parameter ({exc}); showing the defaults."


def page(active: str, body: list[Any], ctx: WebContext) -> html.Div:
    """The frame of every page: navigation, freshness banner, content."""
    return html.Div(
        [
            components.nav(active),
            html.Div(className="page", children=[components.freshness_banner(ctx.reader), *body]),
        ]
    )
