"""Pure figure builders: small DataFrames in, Plotly figures out. No I/O here.

Figures are plain ``{"data": [...], "layout": {...}}`` dicts of JSON-ready lists,
which ``dcc.Graph`` and ``plotly.io`` accept as they are. Even unvalidated
``plotly.graph_objects.Figure`` objects cost ~1 ms each to build and ~1 ms to
deep-copy and base64-encode when Dash serialises them: nine of them were a third
of an agency callback's CPU. Text that came from the data goes into figures
HTML-escaped (Plotly renders a few tags in labels; escaped text shows literally).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from resolve311.web import theme
from resolve311.web.filters import Variant
from resolve311.web.scorecard import TIMELINESS, number

Trace = dict[str, Any]
#: A Plotly figure as plain data: ``{"data": [trace, ...], "layout": {...}}``.
Figure = dict[str, Any]
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
HISTORY_DAYS_SHOWN = 120


def safe(text: str) -> str:
    """Data text for a Plotly label: escaped, so markup shows as text."""
    return html.escape(text, quote=True)


def figure(traces: list[Trace], layout: dict[str, Any]) -> Figure:
    """A figure from plain trace and layout dicts (no Plotly objects, nothing validated or copied)."""
    return {"data": traces, "layout": layout}


def json_floats(column: pd.Series | np.ndarray) -> list[float | None]:
    """A numeric column as a JSON-ready list, gaps (NaN, None) as None."""
    return _with_gaps(np.asarray(column, dtype=float)).tolist()  # type: ignore[no-any-return]


def _layout(title: str, height: int, **extra: Any) -> dict[str, Any]:
    out = theme.base_layout(title, height)
    for key, value in extra.items():
        base = out.get(key)
        out[key] = {**base, **value} if isinstance(base, dict) and isinstance(value, dict) else value
    return out


def empty_figure(message: str, height: int = 320) -> Figure:
    note = {"text": safe(message), "showarrow": False, "font": {"size": 14, "color": theme.MUTED}}
    hidden = {"visible": False}
    return figure([], _layout("", height, annotations=[note], xaxis=hidden, yaxis=hidden))


def _scale(variant: Variant, values: np.ndarray) -> dict[str, Any]:
    if variant != "difference":
        return {"colorscale": theme.VARIANT_SCALE[variant]}
    finite = values[np.isfinite(values)]
    bound = float(np.abs(finite).max()) if finite.size else 1.0
    return {"colorscale": theme.DIFFERENCE_SCALE, "zmid": 0, "zmin": -bound, "zmax": bound}


def _grid_values(grid: np.ndarray) -> list[list[float | None]]:
    """A 2-D array as JSON-ready rows, gaps as None."""
    return _with_gaps(grid).tolist()  # type: ignore[no-any-return]


def _with_gaps(values: np.ndarray) -> np.ndarray:
    """Float values as Python floats, NaN as None (vectorised: a where-grid has thousands of cells)."""
    out = values.astype(object)
    out[np.isnan(values)] = None
    return out


def when_heatmap(frame: pd.DataFrame, variant: Variant, title: str) -> Figure:
    """Weekday × hour heat map of requests created per week."""
    if frame.empty:
        return empty_figure("No data for this view")
    grid = np.full((7, 24), np.nan)
    grid[frame["weekday"].astype(int).to_numpy(), frame["hour"].astype(int).to_numpy()] = frame["value"]
    trace = {
        "type": "heatmap",
        "z": _grid_values(grid),
        "x": list(range(24)),
        "y": list(WEEKDAYS),
        "hoverongaps": False,
        "hovertemplate": "%{y} %{x}:00<br>%{z:.1f} per week<extra></extra>",
        "colorbar": {"thickness": 10, "title": {"text": "/week"}},
        **_scale(variant, grid),
    }
    axes = {
        "xaxis": {"title": {"text": "hour of day"}, "dtick": 3},
        "yaxis": {"autorange": "reversed"},
    }
    return figure([trace], _layout(title, 300, **axes))


def where_heatmap(
    frame: pd.DataFrame,
    variant: Variant,
    title: str,
    grid_deg: float,
    area_labels: Mapping[str, tuple[float, float]] | None = None,
) -> Figure:
    """Geographic grid heat map on a plain background (no map tiles), the city's areas labelled.

    ``area_labels``: area name -> (lat, lon) of its label (the snapshot's ``areas`` table);
    None: NYC's borough centres (for callers that pass none).
    """
    if frame.empty:
        return empty_figure("No located requests for this view", 420)
    lat0, lon0 = float(frame["cell_lat"].min()), float(frame["cell_lon"].min())
    rows = np.rint((frame["cell_lat"].to_numpy() - lat0) / grid_deg).astype(int)
    cols = np.rint((frame["cell_lon"].to_numpy() - lon0) / grid_deg).astype(int)
    grid = np.full((rows.max() + 1, cols.max() + 1), np.nan)
    grid[rows, cols] = frame["value"].to_numpy()
    trace = {
        "type": "heatmap",
        "z": _grid_values(grid),
        "x0": lon0,
        "dx": grid_deg,
        "y0": lat0,
        "dy": grid_deg,
        "xgap": 1,
        "ygap": 1,
        "hoverongaps": False,
        "hovertemplate": "lat %{y:.3f}, lon %{x:.3f}<br>%{z:.2f} per day<extra></extra>",
        "colorbar": {"thickness": 10, "title": {"text": "/day"}},
        **_scale(variant, grid),
    }
    labels = [
        {
            "x": lon,
            "y": lat,
            "text": safe(name),
            "showarrow": False,
            "opacity": 0.75,
            "font": {"size": 11, "color": theme.INK},
        }
        for name, (lat, lon) in (BOROUGH_LABELS if area_labels is None else area_labels).items()
    ]
    axes = {
        "xaxis": {"title": {"text": "longitude"}, "constrain": "domain"},
        "yaxis": {"title": {"text": "latitude"}, "scaleanchor": "x", "scaleratio": LAT_ASPECT},
    }
    return figure([trace], _layout(title, 420, annotations=labels, **axes))


def _line(x: list[str], y: pd.Series, name: str, **style: Any) -> Trace:
    return {"type": "scatter", "mode": "lines", "x": x, "y": json_floats(y), "name": name, **style}


def series_figure(frame: pd.DataFrame, title: str, recent: tuple[date, date] | None) -> Figure:
    """Created and closed per period, the 8-week baseline band, the recent window shaded."""
    if frame.empty:
        return empty_figure("No history for this view", 340)
    x = [str(d)[:10] for d in frame["date"]]
    traces: list[Trace] = []
    if frame["baseline_high"].notna().any():
        traces += [
            _line(x, frame["baseline_high"], "p90", line={"width": 0}, hoverinfo="skip", showlegend=False),
            _line(
                x, frame["baseline_low"], "historical baseline (p10–p90)", line={"width": 0}, fill="tonexty",
                fillcolor="rgba(26,127,55,0.18)", hoverinfo="skip",
            ),
            _line(x, frame["baseline_mid"], "baseline median", line={"color": theme.HISTORICAL, "width": 1.2, "dash": "dot"}),
        ]  # fmt: skip
    traces += [
        _line(x, frame["created"], "created", line={"color": theme.INK, "width": 1.6}),
        _line(x, frame["closed"], "closed", line={"color": "#8c959f", "width": 1.2}),
    ]
    last = date.fromisoformat(x[-1])
    extra: dict[str, Any] = {
        "legend": {"orientation": "h", "y": -0.18},
        "hovermode": "x unified",
        "xaxis": {"type": "date", **_history_view(last)},
    }
    if recent is not None:
        extra["shapes"], extra["annotations"] = _recent_band(*recent)
    return figure(traces, _layout(title, 340, **extra))


def _recent_band(start: date, end: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    x0, x1 = f"{start.isoformat()} 00:00", f"{end.isoformat()} 23:59"
    band = {"type": "rect", "xref": "x", "yref": "paper", "x0": x0, "x1": x1, "y0": 0, "y1": 1,
            "fillcolor": theme.RECENT, "opacity": 0.16, "line": {"width": 0}, "layer": "below"}  # fmt: skip
    label = {"xref": "x", "yref": "paper", "x": x0, "y": 1, "text": "recent", "showarrow": False,
             "xanchor": "left", "yanchor": "top", "font": {"color": theme.RECENT}}  # fmt: skip
    return [band], [label]


def _history_view(last: date) -> dict[str, Any]:
    """Open on the last four months (the whole history is one click away)."""
    start = last - timedelta(days=HISTORY_DAYS_SHOWN)
    buttons = [
        {"count": 1, "label": "1m", "step": "month", "stepmode": "backward"},
        {"count": 4, "label": "4m", "step": "month", "stepmode": "backward"},
        {"count": 1, "label": "1y", "step": "year", "stepmode": "backward"},
        {"step": "all", "label": "all"},
    ]
    return {
        "range": [start.isoformat(), (last + timedelta(days=2)).isoformat()],
        "rangeselector": {"buttons": buttons, "x": 0.6, "y": 1.12},
    }


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


def timeliness_figure(metrics: Mapping[str, Mapping[str, Any]], title: str) -> Figure:
    """Share closed within 1/3/7/30 days: the recent cohort next to the historical one at equal age."""
    labels = [label for _, label in TIMELINESS]
    values = {c: [number(metrics.get(m, {}).get(c)) for m, _ in TIMELINESS] for c in ("recent", "historical")}
    if all(v is None for vals in values.values() for v in vals):
        return empty_figure("No timeliness data for this view")
    traces = [
        {
            "type": "bar",
            "x": labels,
            "y": [None if v is None else v * 100 for v in values[cohort]],
            "name": cohort,
            "marker": {"color": colour},
            "hovertemplate": "%{x}: %{y:.0f}%<extra>" + cohort + "</extra>",
        }
        for cohort, colour in (("recent", theme.RECENT), ("historical", theme.HISTORICAL))
    ]
    extra = {
        "barmode": "group",
        "legend": {"orientation": "h", "y": -0.15},
        "yaxis": {"title": {"text": "% closed"}, "range": [0, 100], "ticksuffix": "%"},
    }
    return figure(traces, _layout(title, 300, **extra))


def km_figure(frame: pd.DataFrame, title: str) -> Figure:
    """Kaplan–Meier curves: share of requests still open against time since creation (log axis)."""
    if frame.empty:
        return empty_figure("No survival data for this view")
    traces = []
    cohorts = frame["cohort"].to_numpy()
    hours = np.clip(frame["t_hours"].to_numpy(dtype=float), 0.25, None)
    still_open = frame["survival"].to_numpy(dtype=float) * 100
    for cohort, colour in (("recent", theme.RECENT), ("historical", theme.HISTORICAL)):
        part = cohorts == cohort
        if not part.any():
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": json_floats(hours[part]),
                "y": json_floats(still_open[part]),
                "name": cohort,
                "line": {"color": colour, "width": 2, "shape": "hv"},
                "hovertemplate": "after %{x:.0f} h: %{y:.0f}% still open<extra>" + cohort + "</extra>",
            }
        )
    extra = {
        "legend": {"orientation": "h", "y": -0.32},
        "xaxis": {
            "title": {"text": "time since created"},
            "type": "log",
            "tickvals": [1, 6, 24, 72, 168, 720, 2160],
            "ticktext": ["1 h", "6 h", "1 d", "3 d", "7 d", "30 d", "90 d"],
        },
        "yaxis": {"title": {"text": "% still open"}, "range": [0, 100], "ticksuffix": "%"},
    }
    return figure(traces, _layout(title, 300, **extra))
