"""Health: the run ledger, the watermark, quarantine counts per reason."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
from dash import html

from resolve311.errors import SnapshotMissing
from resolve311.web import components, ids, jsonable, queries
from resolve311.web.cities import CityWeb
from resolve311.web.context import WebContext, current, page
from resolve311.web.snapshot import SnapshotReader

RUN_COLUMNS = [
    {"field": "run_id", "headerName": "Run", "minWidth": 120},
    {"field": "kind", "headerName": "Kind"},
    {"field": "status", "headerName": "Status", "minWidth": 150},
    {"field": "started_at", "headerName": "Started (UTC)", "minWidth": 170},
    {"field": "ended_at", "headerName": "Ended (UTC)", "minWidth": 170},
    {"field": "rows_new", "headerName": "New", "type": "numericColumn"},
    {"field": "rows_changed", "headerName": "Changed", "type": "numericColumn"},
    {"field": "rows_quarantined", "headerName": "Quarantined", "type": "numericColumn"},
    {"field": "watermark_after", "headerName": "Watermark after", "minWidth": 170},
    {"field": "error", "headerName": "Error", "minWidth": 200},
]


def layout(city: str | None = None, **query: Any) -> html.Div:
    """The page of one city."""
    ctx = current()
    return render(ctx, ctx.city(city), **query)


def render(ctx: WebContext, city: CityWeb, **query: Any) -> html.Div:
    reader = city.reader
    try:
        fresh = queries.freshness(reader)
        runs = [_run_row(r) for r in queries.runs(reader)]
        quarantine = queries.quarantine(reader)
        status_rows = reader.rows("SELECT requests_total, quarantine_total FROM status LIMIT 1")
    except SnapshotMissing:
        return page("Health", [components.no_data()], ctx, city)
    totals = status_rows[0] if status_rows else {}
    stats = [
        ("Watermark (UTC)", components.show_time(fresh.watermark)),
        ("Last run", f"{fresh.last_run_id or '–'} · {fresh.last_run_status or '–'}"),
        ("Last success", components.show_time(fresh.last_success_at, utc=True)),
        ("Requests stored", f"{int(totals.get('requests_total') or 0):,}"),
        ("Quarantined rows", f"{int(totals.get('quarantine_total') or 0):,}"),
    ]
    return page(
        "Health",
        [
            html.H1(f"Pipeline health · {city.title}" if city.prefix else "Pipeline health"),
            html.Div(
                className="stats",
                children=[
                    html.Div([html.Span(k, className="muted"), html.B(v)], className="stat") for k, v in stats
                ],
            ),
            html.P(f"Last error: {fresh.last_error}", className="muted") if fresh.last_error else None,
            html.H2("Run ledger (newest first)"),
            dag.AgGrid(
                id=ids.RUNS,
                rowData=runs,
                columnDefs=RUN_COLUMNS,
                defaultColDef={"sortable": True, "resizable": True, "flex": 1, "minWidth": 90},
                dashGridOptions={"domLayout": "autoHeight"},
                style={"height": None},
            ),
            html.H2("Quarantine by reason"),
            html.Div(className="table-wrap", children=_quarantine_table(quarantine)),
            html.H2("Morning digest deliveries"),
            html.Div(className="table-wrap", children=_digest_table(_digest_rows(reader))),
        ],
        ctx,
        city,
    )


TIME_COLUMNS = ("started_at", "ended_at", "watermark_before", "watermark_after")


def _run_row(row: dict[str, Any]) -> dict[str, Any]:
    out = jsonable.row(row)
    for col in TIME_COLUMNS:
        if out.get(col):
            out[col] = components.show_time(str(out[col]))
    return out


def _quarantine_table(rows: list[dict[str, Any]]) -> html.Table:
    head = html.Tr([html.Th("Reason"), html.Th("Rows"), html.Th("Last seen (UTC)")])
    body = [
        html.Tr(
            [
                html.Td(str(r["reason"])),
                html.Td(f"{int(r['rows'] or 0):,}"),
                html.Td(components.show_time(jsonable.value(r["last_seen"]))),
            ]
        )
        for r in rows
    ] or [html.Tr(html.Td("Nothing quarantined.", colSpan=3))]
    return html.Table(id=ids.QUARANTINE, className="scorecard", children=[html.Thead(head), html.Tbody(body)])


DIGEST_COLUMNS = (
    "as_of_date",
    "subscriber",
    "channel",
    "target",
    "state",
    "attempts",
    "last_attempt_at",
    "error",
)


def _digest_rows(reader: SnapshotReader) -> list[dict[str, Any]] | None:
    """The digest ledger the sender copied into the snapshot (None: not there; docs/digest.md)."""
    found = reader.rows("SELECT 1 FROM duckdb_tables() WHERE table_name = 'digest_deliveries'")
    if not found:
        return None
    cols = ", ".join(DIGEST_COLUMNS)
    return reader.rows(f"SELECT {cols} FROM digest_deliveries ORDER BY as_of_date DESC, subscriber LIMIT 100")


def _digest_table(rows: list[dict[str, Any]] | None) -> html.Table | html.P:
    if rows is None:
        return html.P(
            "No digest deliveries in this snapshot (none configured, or not sent since the last publish)."
        )
    head = html.Tr([html.Th(c.replace("_", " ").capitalize()) for c in DIGEST_COLUMNS])
    body = [
        html.Tr(
            [html.Td(str(jsonable.value(r[c]) if r[c] is not None else "–")) for c in DIGEST_COLUMNS],
            className=f"digest-{r['state']}",
        )
        for r in rows
    ] or [html.Tr(html.Td("No deliveries recorded.", colSpan=len(DIGEST_COLUMNS)))]
    return html.Table(
        id="digest-deliveries", className="scorecard", children=[html.Thead(head), html.Tbody(body)]
    )
