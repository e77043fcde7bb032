"""Agency view: KPI cards, when/where heat maps, history, timeliness, drivers; filters in the URL."""

from __future__ import annotations

from typing import Any, cast

import dash_ag_grid as dag
from dash import Dash, Input, Output, State, dcc, html

from resolve311.errors import SnapshotMissing
from resolve311.web import components, figures, ids, queries
from resolve311.web.cities import CityWeb
from resolve311.web.context import UnknownCity, WebContext, current, first_values, page, page_filters
from resolve311.web.filters import BASELINES, PERIODS, WINDOWS, Filters, Period, from_controls
from resolve311.web.views import AgencyView, agency_view, default_agency

GRAPH_CONFIG: Any = {"displaylogo": False, "responsive": True}
DRIVER_COLUMNS = [
    {"field": "complaint_type", "headerName": "Complaint type", "flex": 2, "minWidth": 180},
    {"field": "recent", "headerName": "Recent /day", "type": "numericColumn"},
    {"field": "historical", "headerName": "Historical /day", "type": "numericColumn"},
    {"field": "difference", "headerName": "Difference", "type": "numericColumn"},
    {"field": "change_pct", "headerName": "Change %", "type": "numericColumn"},
    {"field": "score", "headerName": "Score", "type": "numericColumn"},
    {"field": "n_recent", "headerName": "n recent", "type": "numericColumn"},
    {"field": "flags", "headerName": "Flags"},
]


def layout(city: str | None = None, **query: Any) -> html.Div:
    """The page of one city for a URL's query parameters."""
    ctx = current()
    return render(ctx, ctx.city(city), **query)


def render(ctx: WebContext, city: CityWeb, **query: Any) -> html.Div:
    f, note = page_filters(ctx, query)
    period = cast(Period, first_values(query).get("period", "day"))
    period = period if period in PERIODS else "day"
    try:
        if not f.agency:
            f = f.with_(agency=default_agency(city.reader, f))
        view = agency_view(city.reader, f, period, city.area_label)
        controls = _controls(city, f, period)
    except SnapshotMissing:
        return page("Agency view", [components.no_data()], ctx, city)
    top = [dcc.Location(id=ids.AGENCY_URL, refresh=False), dcc.Store(id=ids.CITY, data=city.name)]
    return page("Agency view", [*top, controls, *_body(view, note, city)], ctx, city)


def _control(label: str, child: Any) -> html.Div:
    return html.Div(className="control", children=[html.Label(label, className="control-label"), child])


def _controls(city: CityWeb, f: Filters, period: str) -> html.Div:
    agencies = [
        {"label": f"{r['agency']} — {r['agency_name']}", "value": r["agency"]}
        for r in queries.agencies(city.reader)
    ]
    code = f.agency or "*"
    types = queries.slices(city.reader, code, "complaint_type")
    areas = queries.slices(city.reader, code, "borough")
    return html.Div(
        className="controls",
        children=[
            _control(
                "Agency", dcc.Dropdown(id=ids.AGENCY, options=agencies, value=f.agency, clearable=False)
            ),
            _control(
                "Complaint type",
                dcc.Dropdown(
                    id=ids.COMPLAINT_TYPE,
                    options=types,
                    value=f.complaint_type,
                    placeholder="all types",
                    disabled=bool(f.area and not f.complaint_type),
                ),
            ),
            _control(
                city.area_label,
                dcc.Dropdown(
                    id=ids.AREA,
                    options=areas,
                    value=f.area,
                    placeholder=f"all {city.area_plural}",
                    disabled=bool(f.complaint_type),
                ),
            ),
            _control(
                "Recent window", components.radio(ids.WINDOW, WINDOWS, f.window, components.WINDOW_LABELS)
            ),
            _control(
                "Compared with",
                components.radio(ids.BASELINE, BASELINES, f.baseline, components.BASELINE_LABELS),
            ),
            _control(
                "History by", components.radio(ids.PERIOD, PERIODS, period, {"day": "day", "week": "week"})
            ),
        ],
    )


def _graph(gid: str, view: AgencyView) -> html.Div:
    return html.Div(
        className="card", children=dcc.Graph(id=gid, figure=view.figures[gid], config=GRAPH_CONFIG)
    )


def _body(view: AgencyView, note: str | None, city: CityWeb) -> list[Any]:
    return [
        html.H1(view.title, id=ids.AGENCY_TITLE),
        html.P(" ".join(n for n in (note, view.note) if n), id=ids.AGENCY_NOTE, className="muted"),
        components.legend(),
        html.Div(id=ids.KPIS, className="kpis", children=view.kpis),
        html.H2("When: weekday × hour (requests per week)"),
        html.Div(
            className="grid-3",
            children=[_graph(g, view) for g in (ids.WHEN_RECENT, ids.WHEN_HISTORICAL, ids.WHEN_DIFFERENCE)],
        ),
        html.H2(f"Where: grid cells (requests per day), {city.area_plural} labelled", id=ids.AREA_LABEL),
        html.Div(
            className="grid-3",
            children=[
                _graph(g, view) for g in (ids.WHERE_RECENT, ids.WHERE_HISTORICAL, ids.WHERE_DIFFERENCE)
            ],
        ),
        html.H2("History"),
        _graph(ids.SERIES, view),
        html.H2("Timeliness"),
        html.Div(className="grid-2", children=[_graph(ids.TIMELINESS, view), _graph(ids.KM, view)]),
        html.H2("Complaint types driving the change (requests per day)"),
        dag.AgGrid(
            id=ids.DRIVERS,
            rowData=view.drivers,
            columnDefs=DRIVER_COLUMNS,
            defaultColDef={"sortable": True, "resizable": True, "flex": 1, "minWidth": 100},
            dashGridOptions={"domLayout": "autoHeight"},
            style={"height": None},
        ),
    ]


def register_callbacks(app: Dash, ctx: WebContext) -> None:
    @app.callback(
        Output(ids.COMPLAINT_TYPE, "options"),
        Output(ids.COMPLAINT_TYPE, "value"),
        Output(ids.AREA, "options"),
        Output(ids.AREA, "value"),
        Input(ids.AGENCY, "value"),
        State(ids.CITY, "data"),
        prevent_initial_call=True,
    )
    def reset_slices(agency: str | None, city: str | None) -> tuple[list[str], None, list[str], None]:
        code = agency or "*"
        try:
            reader = ctx.city(city).reader
            types = queries.slices(reader, code, "complaint_type")
            areas = queries.slices(reader, code, "borough")
        except (SnapshotMissing, UnknownCity):
            types, areas = [], []
        return types, None, areas, None

    outputs = [
        Output(ids.AGENCY_TITLE, "children"),
        Output(ids.AGENCY_NOTE, "children"),
        Output(ids.KPIS, "children"),
        *[Output(g, "figure") for g in ids.GRAPHS],
        Output(ids.DRIVERS, "rowData"),
        Output(ids.AGENCY_URL, "search"),
        Output(ids.COMPLAINT_TYPE, "disabled"),
        Output(ids.AREA, "disabled"),
    ]
    inputs = [
        Input(i, "value")
        for i in (ids.AGENCY, ids.COMPLAINT_TYPE, ids.AREA, ids.WINDOW, ids.BASELINE, ids.PERIOD)
    ]

    @app.callback(*outputs, *inputs, State(ids.CITY, "data"), prevent_initial_call=True)
    def update_view(
        agency: str | None,
        complaint_type: str | None,
        area: str | None,
        window: str,
        baseline: str,
        period: str,
        city: str | None,
    ) -> tuple[Any, ...]:
        f = from_controls(agency, complaint_type, area, window, baseline)
        chosen: Period = "week" if period == "week" else "day"
        try:
            here = ctx.city(city)
            view = agency_view(here.reader, f, chosen, here.area_label)
        except SnapshotMissing:
            view = _blank("No data yet", "The snapshot disappeared; it will be back after the next update.")
        except UnknownCity as exc:
            view = _blank("Unknown city", f"{exc}: choose a city from the switcher.")
        search = f.query_string() + ("&period=week" if chosen == "week" else "")
        figs = [view.figures[g] for g in ids.GRAPHS]
        return (
            view.title,
            view.note or "",
            view.kpis,
            *figs,
            view.drivers,
            search,
            bool(area and not complaint_type),
            bool(complaint_type),
        )


def _blank(title: str, note: str) -> AgencyView:
    view = AgencyView(title, note, [], {}, [])
    view.figures = {g: figures.empty_figure(title) for g in ids.GRAPHS}
    return view
