"""What pages and callbacks share: each city's snapshot reader and facts, and defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dash import html
from flask import current_app

from resolve311.web import components
from resolve311.web.cities import CityWeb
from resolve311.web.filters import BadParameter, Filters, parse_filters
from resolve311.web.snapshot import SnapshotReader


class UnknownCity(LookupError):
    """A city this home does not keep (a forged callback value or an old link)."""


@dataclass(frozen=True)
class WebContext:
    cities: Mapping[str, CityWeb]
    default_window: str

    @property
    def several(self) -> bool:
        """True in a several-city home (every URL names its city)."""
        return any(c.prefix for c in self.cities.values())

    @property
    def first(self) -> CityWeb:
        """The default city: the only one, or the first configured."""
        return next(iter(self.cities.values()))

    @property
    def reader(self) -> SnapshotReader:
        """The default city's reader."""
        return self.first.reader

    def city(self, name: str | None) -> CityWeb:
        """The city called ``name`` (the default city for None); :class:`UnknownCity` otherwise."""
        if name is None:
            return self.first
        found = self.cities.get(name) if isinstance(name, str) else None
        if found is None:
            raise UnknownCity(f"unknown city {str(name)[:40]!r}")
        return found

    def generation(self) -> str:
        """The snapshot generation of every city together (changes when any city publishes)."""
        return "|".join(c.reader.generation() for c in self.cities.values())


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


def page(active: str, body: list[Any], ctx: WebContext, city: CityWeb | None = None) -> html.Div:
    """The frame of every page: navigation (with the city switcher), freshness banner, content."""
    city = city or ctx.first
    banner = [components.freshness_banner(city.reader)] if active != components.COMPARE else []
    return html.Div(
        [
            components.nav(active, city, list(ctx.cities.values()) if ctx.several else []),
            html.Div(className="page", children=[*banner, *body]),
        ]
    )
