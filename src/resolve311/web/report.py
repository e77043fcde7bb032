"""The static daily review: one standalone HTML file with plotly.js embedded (opens offline)."""

from __future__ import annotations

import html
import os
from datetime import date
from pathlib import Path
from typing import Any

import plotly.io as pio

from resolve311.errors import ConfigError
from resolve311.web import figures, queries, signals
from resolve311.web.components import show_time
from resolve311.web.filters import Filters, parse_filters
from resolve311.web.scorecard import HEADLINE, AgencyScore, fmt, fmt_rel, n_text, rank_agencies
from resolve311.web.snapshot import SnapshotReader

STYLE = Path(__file__).parent / "assets" / "style.css"
TOP_MOVERS = 3
E = html.escape


def write_report(snapshot: Path, out: Path, day: date | None = None) -> Path:
    """Render the review of ``day`` (default: the snapshot's as-of date) to ``out``; return ``out``."""
    reader = SnapshotReader(snapshot)
    try:
        text = build_report(reader, day)
    finally:
        reader.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    return out


def build_report(reader: SnapshotReader, day: date | None = None) -> str:
    """The whole HTML document."""
    info = queries.meta(reader)
    as_of_date = info.get("as_of_date", "")
    if day is not None and day.isoformat() != as_of_date:
        raise ConfigError(
            f"the snapshot holds the review of {as_of_date or 'an unknown date'}, not {day.isoformat()}; "
            "publish metrics for that date first"
        )
    f = parse_filters({}, default_window=info.get("default_window", "7d"))
    rows = queries.overview(reader, f, tuple(m for m, _ in HEADLINE))
    ranked = rank_agencies(rows)
    rates = queries.false_alarm_rates(reader, f.window).get(f.window, {})
    summary = signals.summarize(rows, rates, f.baseline, f"last {f.window}")
    movers = [s for s in ranked if not s.small_sample][:TOP_MOVERS]
    charts = _Charts()
    sections = [_mover_section(reader, f, s, charts, as_of_date) for s in movers]
    body = [
        f"<h1>Daily review — {E(as_of_date)}</h1>",
        _freshness(reader),
        _summary(summary),
        f"<h2>Scorecard ({E(f.window)} vs {E(f.baseline)} baseline), strongest evidence first</h2>",
        _legend(),
        _scorecard(ranked),
        _rates(rates),
        *sections,
    ]
    return _document(f"resolve311 daily review {as_of_date}", "\n".join(body))


class _Charts:
    """Embeds plotly.js once (with the first chart), then only the chart data."""

    def __init__(self) -> None:
        self.count = 0

    def html(self, fig: figures.Figure) -> str:
        self.count += 1
        return str(
            pio.to_html(
                fig,
                validate=False,
                full_html=False,
                include_plotlyjs=self.count == 1,
                div_id=f"chart-{self.count}",
                config={"displaylogo": False, "responsive": True},
            )
        )


def _freshness(reader: SnapshotReader) -> str:
    fresh = queries.freshness(reader)
    line = (
        f"Data as of <b>{E(show_time(fresh.as_of))}</b> · last successful update "
        f"<b>{E(show_time(fresh.last_success_at, utc=True))}</b> · source {E(fresh.source or 'unknown')}"
    )
    if fresh.unavailable_since:
        warn = f"<div class='banner-warning'><b>Source unavailable</b> since {E(show_time(fresh.unavailable_since, utc=True))}.</div>"
        return f"<div class='banner banner-outage'>{warn}<div>{line}</div></div>"
    return f"<div class='banner'>{line}</div>"


def _summary(summary: signals.Summary) -> str:
    kind = "summary summary-flags" if summary.flags else "summary summary-quiet"
    lines = "".join(
        f"<li><b>{E(f.agency)}</b> ({E(f.agency_name)}) — {E(f.line)}</li>" for f in summary.flags
    )
    return (
        f"<div class='{kind}'><p class='summary-headline'>{E(summary.headline)}</p>"
        f"{'<ul>' + lines + '</ul>' if lines else ''}</div>"
    )


def _rates(rates: dict[str, float]) -> str:
    if not rates:
        return "<p class='muted'>The flag is not calibrated yet (not enough history).</p>"
    parts = " · ".join(f"{E(label)} {rates[m] * 100:.1f}%" for m, label in HEADLINE if m in rates)
    return (
        "<p class='muted rates-note'>Measured false-alarm rate per agency-day of the flag "
        f"(out of sample, on each agency's own last year): {parts}</p>"
    )


def _legend() -> str:
    return (
        "<div class='legend'><span class='recent'>■ recent</span><span class='historical'>■ historical</span>"
        "<span class='difference'>■ difference</span></div>"
    )


def _scorecard(ranked: list[AgencyScore]) -> str:
    head = "".join(f"<th>{E(label)}</th>" for _, label in HEADLINE)
    rows = [
        f"<tr class='scorecard-row'>{_agency_cell(s)}{''.join(_cell(m, s.metrics.get(m)) for m, _ in HEADLINE)}</tr>"
        for s in ranked
    ]
    return f"<div class='table-wrap'><table class='scorecard'><thead><tr><th>Agency</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"


def _agency_cell(s: AgencyScore) -> str:
    flags = ""
    if s.anomaly:
        flags += "<span class='badge badge-anomaly'>anomaly</span>"
    if s.small_sample:
        flags += "<span class='badge badge-small'>small sample</span>"
    return f"<td><b>{E(s.agency)}</b><div class='agency-name'>{E(s.agency_name)}</div>{flags}</td>"


def _cell(metric: str, row: dict[str, Any] | None) -> str:
    if not row:
        return "<td>–</td>"
    diff = f"{fmt(metric, row.get('diff_abs'), signed=True)} {fmt_rel(row.get('diff_rel'))}"
    small = " class='cell-small'" if row.get("small_sample") else ""
    return (
        f"<td{small} title='{E(n_text(metric, row), quote=True)}'><div class='cell-recent'>{E(fmt(metric, row.get('recent')))}</div>"
        f"<div class='cell-historical'>{E(fmt(metric, row.get('historical')))}</div>"
        f"<div class='cell-diff'>{E(diff)}</div></td>"
    )


def _mover_section(
    reader: SnapshotReader, f: Filters, s: AgencyScore, charts: _Charts, as_of_date: str
) -> str:
    view = f.with_(agency=s.agency)
    metrics = {str(r["metric"]): r for r in queries.scorecard(reader, view)}
    grid = queries.grid_deg(reader)
    figs = [
        figures.series_figure(
            queries.series(reader, view, "day"),
            "Created and closed per day",
            figures.recent_range(as_of_date, f.window),
        ),
        figures.when_heatmap(
            queries.heatmap(reader, view, "when", "difference"), "difference", "When — difference"
        ),
        figures.where_heatmap(
            queries.heatmap(reader, view, "where", "difference"),
            "difference",
            "Where — difference",
            grid,
            queries.area_positions(reader),  # the city's own areas, not NYC's boroughs
        ),
        figures.timeliness_figure(metrics, "Share closed within …"),
    ]
    chart_html = "".join(f"<div class='card'>{charts.html(fig)}</div>" for fig in figs)
    return (
        f"<section><h2>{E(s.agency)} — {E(s.agency_name)}</h2>"
        f"<div class='grid-2'>{chart_html}</div></section>"
    )


def _document(title: str, body: str) -> str:
    css = STYLE.read_text(encoding="utf-8")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{E(title)}</title><style>{css}</style></head>"
        f"<body><div class='page'>{body}<p class='muted'>Generated by resolve311 from the serving snapshot.</p>"
        "</div></body></html>"
    )
