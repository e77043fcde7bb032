"""Shared page pieces: navigation, freshness banner, KPI cards, badges, empty states.

Data text is always passed as a component child (React renders it as text),
never as raw HTML.
"""

from __future__ import annotations

from typing import Any, Final

from dash import dcc, html

from resolve311.errors import SnapshotMissing
from resolve311.web import ids, queries
from resolve311.web.cities import CityWeb
from resolve311.web.scorecard import fmt, fmt_rel, n_text, number
from resolve311.web.snapshot import SnapshotReader


def show_time(value: str | None, *, utc: bool = False) -> str:
    """``2026-11-27T23:58:12`` → ``2026-11-27 23:58`` (plus `` UTC`` for UTC instants)."""
    if not value:
        return "never"
    text = value.replace("T", " ").rstrip("Z")[:16]
    return f"{text} UTC" if utc else text


#: The pages of one city: nav label -> path under the city's prefix.
CITY_PAGES: Final = {"Overview": "", "Agency view": "/agency", "Health": "/health"}
COMPARE: Final = "Compare cities"
COMPARE_PATH: Final = "/cities"


def _link(label: str, href: str, active: bool) -> dcc.Link:
    return dcc.Link(label, href=href, className="nav-link active" if active else "nav-link")


def nav(active: str, city: CityWeb, cities: list[CityWeb]) -> html.Nav:
    """The page links of ``city``; with several ``cities``, the cross-city page and the city switcher."""
    here = active != COMPARE
    links = [
        _link(label, city.path(suffix), here and label == active) for label, suffix in CITY_PAGES.items()
    ]
    children: list[Any] = [dcc.Link("resolve311", href=city.path(), className="brand"), *links]
    if cities:
        children.append(_link(COMPARE, COMPARE_PATH, not here))
        children.append(city_switcher(active, city if here else None, cities))
    return html.Nav(className="nav", children=children)


def city_switcher(active: str, city: CityWeb | None, cities: list[CityWeb]) -> html.Div:
    """One link per city to the same page of that city (its overview from the cross-city page)."""
    suffix = CITY_PAGES.get(active, "")
    return html.Div(
        id=ids.CITY_SWITCHER,
        className="city-switcher",
        role="navigation",
        title="Switch city",
        children=[
            html.Span("City", className="city-switcher-label"),
            *[
                dcc.Link(
                    c.title,
                    href=c.path(suffix),
                    className="city-link active" if city and c.name == city.name else "city-link",
                    title=f"{c.title}: {active if city else 'Overview'}",
                )
                for c in cities
            ],
        ],
    )


def freshness_banner(reader: SnapshotReader) -> html.Div:
    """Data as of, last successful update, and a warning while the source is unavailable."""
    try:
        fresh = queries.freshness(reader)
    except SnapshotMissing:
        return html.Div(
            id=ids.BANNER,
            className="banner banner-empty",
            children="No data yet: the first update has not published a snapshot.",
        )
    parts: list[Any] = [
        html.Span(["Data as of ", html.Strong(show_time(fresh.as_of))], className="banner-item"),
        html.Span(
            ["Last successful update ", html.Strong(show_time(fresh.last_success_at, utc=True))],
            className="banner-item",
        ),
        html.Span(f"Source: {fresh.source or 'unknown'}", className="banner-item muted"),
    ]
    _state, note = queries.metrics_state(reader)
    if note:  # the scorecard below is missing or old: say why
        parts.append(html.Div(f"Metrics not up to date: {note}", className="banner-warning", role="status"))
    if not fresh.unavailable_since:
        return html.Div(id=ids.BANNER, className="banner", children=parts)
    warning = html.Div(
        className="banner-warning",
        role="alert",
        children=[
            html.Strong("Source unavailable "),
            f"since {show_time(fresh.unavailable_since, utc=True)}: figures below are as of "
            f"{show_time(fresh.as_of)} and will catch up when it returns.",
        ],
    )
    return html.Div(id=ids.BANNER, className="banner banner-outage", children=[warning, html.Div(parts)])


def no_data(message: str = "No data yet.") -> html.Div:
    return html.Div(
        className="empty-state",
        children=[
            html.H2("No data yet"),
            html.P(message),
            html.P("Run `resolve311 update` (or `resolve311 demo`); this page refreshes on the next visit."),
        ],
    )


def badge(text: str, kind: str, title: str) -> html.Span:
    return html.Span(text, className=f"badge badge-{kind}", title=title)


def kpi_card(label: str, metric: str, row: dict[str, Any] | None) -> html.Div:
    """Recent, historical and difference of one metric."""
    row = row or {}
    diff = number(row.get("diff_abs"))
    children: list[Any] = [
        html.Div(label, className="kpi-label"),
        html.Div(
            fmt(metric, row.get("recent")), className="kpi-recent", title=f"recent · {n_text(metric, row)}"
        ),
        html.Div(["historical ", html.Span(fmt(metric, row.get("historical")), className="historical")]),
        html.Div(
            [
                "difference ",
                html.Span(
                    f"{fmt(metric, diff, signed=True)} {fmt_rel(row.get('diff_rel'))}", className="difference"
                ),
            ]
        ),
    ]
    if row.get("anomaly"):
        children.append(badge("anomaly", "anomaly", "robust score beyond the anomaly threshold"))
    if row.get("small_sample"):
        children.append(badge("small sample", "small", "too few requests to rank"))
    small = bool(row.get("small_sample"))
    children.append(html.Div(n_text(metric, row), className="hover-n"))  # shown on hover (CSS)
    return html.Div(
        className="kpi kpi-small" if small else "kpi", children=children, title=n_text(metric, row)
    )


def legend() -> html.Div:
    return html.Div(
        className="legend",
        children=[
            html.Span("■ recent", className="recent"),
            html.Span("■ historical", className="historical"),
            html.Span("■ difference", className="difference"),
        ],
    )


def radio(id_: str, options: tuple[str, ...], value: str, labels: dict[str, str]) -> dcc.RadioItems:
    return dcc.RadioItems(
        id=id_,
        options=[{"label": labels.get(o, o), "value": o} for o in options],
        value=value,
        inline=True,
        className="radio",
    )


WINDOW_LABELS = {"1d": "last day", "7d": "last 7 days", "28d": "last 28 days"}
BASELINE_LABELS = {"8w": "vs same weekdays, 8 weeks", "1y": "vs one year earlier"}
