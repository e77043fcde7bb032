"""The static daily review: one standalone HTML file with plotly.js embedded (opens offline)."""

from __future__ import annotations

import html
import os
from datetime import date
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from resolve311.errors import ConfigError
from resolve311.web import figures, queries
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
    ranked = rank_agencies(queries.overview(reader, f, tuple(m for m, _ in HEADLINE)))
    movers = [s for s in ranked if not s.small_sample][:TOP_MOVERS]
    charts = _Charts()
    sections = [_mover_section(reader, f, s, charts, as_of_date) for s in movers]
    body = [
        f"<h1>Daily review — {E(as_of_date)}</h1>",
        _freshness(reader),
        f"<h2>Scorecard ({E(f.window)} vs {E(f.baseline)} baseline), most moved first</h2>",
        _legend(),
        _scorecard(ranked),
        *sections,
    ]
    return _document(f"resolve311 daily review {as_of_date}", "\n".join(body))


class _Charts:
    """Embeds plotly.js once (with the first chart), then only the chart data."""

    def __init__(self) -> None:
        self.count = 0

    def html(self, fig: go.Figure) -> str:
        self.count += 1
        return str(
            fig.to_html(
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
            queries.heatmap(reader, view, "where", "difference"), "difference", "Where — difference", grid
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
