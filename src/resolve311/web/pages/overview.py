"""Overview: every agency's scorecard, strongest calibrated evidence first, with a one-line summary per flag; a click opens its view."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, dcc, html

from resolve311.errors import SnapshotMissing
from resolve311.web import components, ids, queries, signals
from resolve311.web.cities import CityWeb
from resolve311.web.context import UnknownCity, WebContext, current, page, page_filters
from resolve311.web.filters import BASELINES, WINDOWS, Filters, parse_filters
from resolve311.web.scorecard import HEADLINE, AgencyScore, fmt, fmt_rel, n_text, rank_agencies


def layout(city: str | None = None, **query: Any) -> html.Div:
    """The page of one city for a URL's query parameters."""
    ctx = current()
    return render(ctx, ctx.city(city), **query)


def render(ctx: WebContext, city: CityWeb, **query: Any) -> html.Div:
    f, note = page_filters(ctx, query)
    try:
        table = scorecard_table(city, f)
    except SnapshotMissing:
        return page("Overview", [components.no_data()], ctx, city)
    return page(
        "Overview",
        [
            dcc.Location(id=ids.OVERVIEW_URL, refresh=False),
            dcc.Store(id=ids.CITY, data=city.name),
            html.H1(f"Who is slipping? · {city.title}" if city.prefix else "Who is slipping?"),
            html.P(
                "Each agency's recent window against its own history, the strongest evidence first. "
                "Click an agency to open its view.",
                className="subtitle",
            ),
            html.P(note, className="muted") if note else None,
            html.Div(
                className="controls",
                children=[
                    _control(
                        "Recent window",
                        components.radio(ids.OVERVIEW_WINDOW, WINDOWS, f.window, components.WINDOW_LABELS),
                    ),
                    _control(
                        "Compared with",
                        components.radio(
                            ids.OVERVIEW_BASELINE, BASELINES, f.baseline, components.BASELINE_LABELS
                        ),
                    ),
                ],
            ),
            components.legend(),
            html.Div(id=ids.OVERVIEW_TABLE, className="table-wrap", children=table),
        ],
        ctx,
        city,
    )


def _control(label: str, child: Any) -> html.Div:
    return html.Div(className="control", children=[html.Label(label, className="control-label"), child])


def scorecard_table(city: CityWeb, f: Filters) -> html.Div:
    """The summary of flags (one line each, or "nothing unusual") and the ranked table."""
    rows = queries.overview(city.reader, f, tuple(m for m, _ in HEADLINE))
    rates = queries.false_alarm_rates(city.reader, f.window).get(f.window, {})
    summary = signals.summarize(rows, rates, f.baseline, components.WINDOW_LABELS.get(f.window, f.window))
    ranked = rank_agencies(rows)
    head = html.Tr([html.Th("Agency"), *[html.Th(label) for _, label in HEADLINE], html.Th("Evidence")])
    body = [_row(s, f, rates, city) for s in ranked]
    if not body:
        body = [html.Tr(html.Td("No agencies in the snapshot yet.", colSpan=len(HEADLINE) + 2))]
    return html.Div(
        [
            _summary(summary, f, city),
            html.Table(className="scorecard", children=[html.Thead(head), html.Tbody(body)]),
            _rates_note(rates),
        ]
    )


def _summary(summary: signals.Summary, f: Filters, city: CityWeb) -> html.Div:
    lines = [
        html.Li(
            [
                dcc.Link(flag.agency, href=city.path("/agency") + f.with_(agency=flag.agency).query_string()),
                f" ({flag.agency_name}) — {flag.line}",
            ]
        )
        for flag in summary.flags
    ]
    kind = "summary summary-flags" if summary.flags else "summary summary-quiet"
    return html.Div(
        id=ids.OVERVIEW_SUMMARY,
        className=kind,
        children=[html.P(summary.headline, className="summary-headline"), html.Ul(lines) if lines else None],
    )


def _rates_note(rates: dict[str, float]) -> html.P:
    if not rates:
        return html.P("The flag is not calibrated yet (not enough history).", className="muted")
    parts = [f"{label} {rates[m] * 100:.1f}%" for m, label in HEADLINE if m in rates]
    return html.P(
        "Measured false-alarm rate per agency-day of the flag (out of sample, on each agency's own "
        "last year): " + " · ".join(parts),
        className="muted rates-note",
    )


def _row(s: AgencyScore, f: Filters, rates: dict[str, float], city: CityWeb) -> html.Tr:
    href = city.path("/agency") + f.with_(agency=s.agency).query_string()
    badges = []
    if s.anomaly:
        flagged = [m for m, r in s.metrics.items() if r.get("anomaly") and not r.get("small_sample")]
        rate = max((rates.get(m, 0.0) for m in flagged), default=0.0)
        badges.append(
            components.badge(
                f"anomaly · {rate * 100:.1f}% false-alarm rate",
                "anomaly",
                "a headline value moved beyond its agency's calibrated threshold; the rate is how often "
                "such a flag fires on an ordinary day",
            )
        )
    if s.small_sample:
        badges.append(components.badge("small sample", "small", "too few requests to rank; listed last"))
    agency = html.Td(
        [
            dcc.Link(s.agency, href=href, className="agency-link"),
            html.Div(s.agency_name, className="agency-name"),
            html.Div(badges),
        ]
    )
    cells = [_metric_cell(metric, s.metrics.get(metric)) for metric, _ in HEADLINE]
    return html.Tr(
        [agency, *cells, _evidence_cell(s)],
        className="scorecard-row small-row" if s.small_sample else "scorecard-row",
    )


def _evidence_cell(s: AgencyScore) -> html.Td:
    if s.evidence is not None:
        return html.Td(
            f"⚑ {s.evidence:.1f}× threshold",
            title="strongest flag: |score| divided by the agency's calibrated threshold",
        )
    if s.p_value is not None:
        return html.Td(
            f"p = {s.p_value:.2f}",
            className="muted",
            title="smallest p-value of a headline value against the agency's own last year",
        )
    return html.Td("–", className="muted")


def _metric_cell(metric: str, row: dict[str, Any] | None) -> html.Td:
    if not row:
        return html.Td("–")
    flag = " ⚑" if row.get("anomaly") and not row.get("small_sample") else ""
    hover = n_text(metric, row)
    return html.Td(
        className="cell-small" if row.get("small_sample") else None,
        title=hover,
        children=[
            html.Div(fmt(metric, row.get("recent")), className="cell-recent", title=f"recent · {hover}"),
            html.Div(
                fmt(metric, row.get("historical")), className="cell-historical", title=f"historical · {hover}"
            ),
            html.Div(
                f"{fmt(metric, row.get('diff_abs'), signed=True)} {fmt_rel(row.get('diff_rel'))}{flag}",
                className="cell-diff",
                title=f"difference · {hover}",
            ),
            html.Div(hover, className="hover-n"),  # shown on hover (CSS)
        ],
    )


def register_callbacks(app: Dash, ctx: WebContext) -> None:
    @app.callback(
        Output(ids.OVERVIEW_TABLE, "children"),
        Output(ids.OVERVIEW_URL, "search"),
        Input(ids.OVERVIEW_WINDOW, "value"),
        Input(ids.OVERVIEW_BASELINE, "value"),
        State(ids.CITY, "data"),
        prevent_initial_call=True,
    )
    def update_overview(window: str, baseline: str, city: str | None) -> tuple[Any, str]:
        f = parse_filters({"window": window, "baseline": baseline}, default_window=ctx.default_window)
        try:
            return scorecard_table(ctx.city(city), f), f.query_string()
        except SnapshotMissing:
            return components.no_data(), f.query_string()
        except UnknownCity as exc:
            return components.no_data(f"{exc}: choose a city from the switcher."), f.query_string()
