"""Pure figure builders: small DataFrames in, Plotly figures out. No I/O here.

Text that came from the data goes into figures HTML-escaped (Plotly renders a
few tags in labels; escaped text shows literally).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from resolve311.web import theme
from resolve311.web.filters import Variant
from resolve311.web.scorecard import TIMELINESS, number

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Approximate borough centres, labelled on the plain-background map.
BOROUGH_LABELS = {
    "Manhattan": (40.785, -73.965),
    "Brooklyn": (40.645, -73.945),
    "Queens": (40.715, -73.81),
    "Bronx": (40.85, -73.865),
    "Staten Island": (40.58, -74.145),
}
LAT_ASPECT = 1 / math.cos(math.radians(40.7))


def safe(text: str) -> str:
    """Data text for a Plotly label: escaped, so markup shows as text."""
    return html.escape(text, quote=True)


def empty_figure(message: str, height: int = 320) -> go.Figure:
    fig = go.Figure(layout=theme.base_layout("", height))
    fig.add_annotation(text=safe(message), showarrow=False, font={"size": 14, "color": theme.MUTED})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _scale(variant: Variant, values: np.ndarray) -> dict[str, Any]:
    if variant != "difference":
        return {"colorscale": theme.VARIANT_SCALE[variant]}
    finite = values[np.isfinite(values)]
    bound = float(np.abs(finite).max()) if finite.size else 1.0
    return {"colorscale": theme.DIFFERENCE_SCALE, "zmid": 0, "zmin": -bound, "zmax": bound}


def when_heatmap(frame: pd.DataFrame, variant: Variant, title: str) -> go.Figure:
    """Weekday × hour heat map of requests created per week."""
    if frame.empty:
        return empty_figure("No data for this view")
    grid = np.full((7, 24), np.nan)
    grid[frame["weekday"].astype(int).to_numpy(), frame["hour"].astype(int).to_numpy()] = frame["value"]
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            x=[f"{h:02d}" for h in range(24)],
            y=list(WEEKDAYS),
            hoverongaps=False,
            hovertemplate="%{y} %{x}:00<br>%{z:.1f} per week<extra></extra>",
            colorbar={"thickness": 10, "title": {"text": "/week"}},
            **_scale(variant, grid),
        ),
        layout=theme.base_layout(title, 300),
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="hour of day")
    return fig


def where_heatmap(frame: pd.DataFrame, variant: Variant, title: str, grid_deg: float) -> go.Figure:
    """Geographic grid heat map on a plain background (no map tiles), boroughs labelled."""
    if frame.empty:
        return empty_figure("No located requests for this view", 420)
    lats = np.round(np.sort(frame["cell_lat"].unique()), 6)
    lons = np.round(np.sort(frame["cell_lon"].unique()), 6)
    lat_axis = np.round(np.arange(lats[0], lats[-1] + grid_deg / 2, grid_deg), 6)
    lon_axis = np.round(np.arange(lons[0], lons[-1] + grid_deg / 2, grid_deg), 6)
    grid = np.full((lat_axis.size, lon_axis.size), np.nan)
    rows = np.clip(
        np.rint((frame["cell_lat"].to_numpy() - lats[0]) / grid_deg).astype(int), 0, lat_axis.size - 1
    )
    cols = np.clip(
        np.rint((frame["cell_lon"].to_numpy() - lons[0]) / grid_deg).astype(int), 0, lon_axis.size - 1
    )
    grid[rows, cols] = frame["value"].to_numpy()
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            x=lon_axis,
            y=lat_axis,
            xgap=1,
            ygap=1,
            hoverongaps=False,
            hovertemplate="lat %{y:.3f}, lon %{x:.3f}<br>%{z:.2f} per day<extra></extra>",
            colorbar={"thickness": 10, "title": {"text": "/day"}},
            **_scale(variant, grid),
        ),
        layout=theme.base_layout(title, 420),
    )
    for name, (lat, lon) in BOROUGH_LABELS.items():
        fig.add_annotation(
            x=lon, y=lat, text=name, showarrow=False, font={"size": 11, "color": theme.INK}, opacity=0.75
        )
    fig.update_xaxes(title_text="longitude", showgrid=True, gridcolor="#eef1f4", constrain="domain")
    fig.update_yaxes(
        title_text="latitude", scaleanchor="x", scaleratio=LAT_ASPECT, showgrid=True, gridcolor="#eef1f4"
    )
    return fig


def series_figure(frame: pd.DataFrame, title: str, recent: tuple[date, date] | None) -> go.Figure:
    """Created and closed per period, the 8-week baseline band, the recent window shaded."""
    if frame.empty:
        return empty_figure("No history for this view", 340)
    x = pd.to_datetime(frame["date"])
    fig = go.Figure(layout=theme.base_layout(title, 340))
    if frame["baseline_high"].notna().any():
        fig.add_scatter(
            x=x, y=frame["baseline_high"], mode="lines", line={"width": 0}, hoverinfo="skip", showlegend=False
        )
        fig.add_scatter(
            x=x,
            y=frame["baseline_low"],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(26,127,55,0.18)",
            name="historical baseline (p10–p90)",
            hoverinfo="skip",
        )
        fig.add_scatter(
            x=x,
            y=frame["baseline_mid"],
            mode="lines",
            name="baseline median",
            line={"color": theme.HISTORICAL, "width": 1.2, "dash": "dot"},
        )
    fig.add_scatter(
        x=x, y=frame["created"], mode="lines", name="created", line={"color": theme.INK, "width": 1.6}
    )
    fig.add_scatter(
        x=x, y=frame["closed"], mode="lines", name="closed", line={"color": "#8c959f", "width": 1.2}
    )
    if recent is not None:
        start, end = recent
        fig.add_vrect(
            x0=pd.Timestamp(start) - pd.Timedelta(hours=12),
            x1=pd.Timestamp(end) + pd.Timedelta(hours=12),
            fillcolor=theme.RECENT,
            opacity=0.16,
            line_width=0,
            annotation_text="recent",
            annotation_position="top left",
            annotation_font_color=theme.RECENT,
        )
    fig.update_layout(legend={"orientation": "h", "y": -0.18}, hovermode="x unified")
    _recent_months_view(fig, x)
    return fig


def _recent_months_view(fig: go.Figure, x: pd.Series) -> None:
    """Open on the last four months (the whole history is one click away)."""
    last = x.max()
    fig.update_xaxes(
        range=[last - pd.Timedelta(days=120), last + pd.Timedelta(days=2)],
        rangeselector={
            "buttons": [
                {"count": 1, "label": "1m", "step": "month", "stepmode": "backward"},
                {"count": 4, "label": "4m", "step": "month", "stepmode": "backward"},
                {"count": 1, "label": "1y", "step": "year", "stepmode": "backward"},
                {"step": "all", "label": "all"},
            ],
            "x": 0.6,
            "y": 1.12,
        },
    )


def recent_range(as_of_date: str | None, window: str) -> tuple[date, date] | None:
    """The recent window's first and last day (inclusive of as_of_date)."""
    if not as_of_date:
        return None
    try:
        end = date.fromisoformat(as_of_date[:10])
    except ValueError:
        return None
    days = {"1d": 1, "7d": 7, "28d": 28}.get(window, 1)
    return (end - timedelta(days=days - 1), end)


def timeliness_figure(metrics: Mapping[str, Mapping[str, Any]], title: str) -> go.Figure:
    """Share closed within 1/3/7/30 days: the recent cohort next to the historical one at equal age."""
    labels = [label for _, label in TIMELINESS]
    values = {c: [number(metrics.get(m, {}).get(c)) for m, _ in TIMELINESS] for c in ("recent", "historical")}
    if all(v is None for vals in values.values() for v in vals):
        return empty_figure("No timeliness data for this view")
    fig = go.Figure(layout=theme.base_layout(title, 300))
    for cohort, colour in (("recent", theme.RECENT), ("historical", theme.HISTORICAL)):
        ys = [None if v is None else v * 100 for v in values[cohort]]
        fig.add_bar(
            x=labels,
            y=ys,
            name=cohort,
            marker_color=colour,
            hovertemplate="%{x}: %{y:.0f}%<extra>" + cohort + "</extra>",
        )
    fig.update_yaxes(title_text="% closed", range=[0, 100], ticksuffix="%")
    fig.update_layout(barmode="group", legend={"orientation": "h", "y": -0.15})
    return fig


def km_figure(frame: pd.DataFrame, title: str) -> go.Figure:
    """Kaplan–Meier curves: share of requests still open against time since creation (log axis)."""
    if frame.empty:
        return empty_figure("No survival data for this view")
    fig = go.Figure(layout=theme.base_layout(title, 300))
    for cohort, colour in (("recent", theme.RECENT), ("historical", theme.HISTORICAL)):
        part = frame[frame["cohort"] == cohort]
        if part.empty:
            continue
        fig.add_scatter(
            x=part["t_hours"].clip(lower=0.25),
            y=part["survival"] * 100,
            mode="lines",
            line_shape="hv",
            name=cohort,
            line={"color": colour, "width": 2},
            hovertemplate="after %{x:.0f} h: %{y:.0f}% still open<extra>" + cohort + "</extra>",
        )
    fig.update_xaxes(
        title_text="time since created",
        type="log",
        tickvals=[1, 6, 24, 72, 168, 720, 2160],
        ticktext=["1 h", "6 h", "1 d", "3 d", "7 d", "30 d", "90 d"],
    )
    fig.update_yaxes(title_text="% still open", range=[0, 100], ticksuffix="%")
    fig.update_layout(legend={"orientation": "h", "y": -0.32})
    return fig
